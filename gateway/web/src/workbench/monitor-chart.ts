// The monitor's short history chart: queue length and ready agents over the last hour, drawn
// as an SVG step chart from the stored minute samples and the live counters since. Plain SVG:
// two series on a laptop-width strip need no charting library.

const NS = "http://www.w3.org/2000/svg";
const W = 360;
const H = 72;
const PAD = { l: 24, r: 6, t: 6, b: 16 };
const SPAN_MS = 3600 * 1000;

export interface Point {
  at: number; // ms since the epoch
  queue: number;
  ready: number;
}

function svg<K extends keyof SVGElementTagNameMap>(name: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

/** Keeps the last hour of points, one per minute at most plus the latest. */
export function addPoint(points: Point[], p: Point): Point[] {
  const out = points.filter((q) => q.at > p.at - SPAN_MS);
  const last = out[out.length - 1];
  if (last && Math.floor(last.at / 60000) === Math.floor(p.at / 60000) && out.length > 1 && Math.floor(out[out.length - 2].at / 60000) === Math.floor(p.at / 60000)) {
    out[out.length - 1] = p; // the same minute: the latest figures replace the previous ones
  } else {
    out.push(p);
  }
  return out;
}

/** Draws the chart into `box` (replacing what was there). */
export function drawChart(box: HTMLElement, points: Point[], labels: { queue: string; ready: string; title: string }, now: number): void {
  box.textContent = "";
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", height: H, role: "img", "aria-label": labels.title, class: "spark" });
  const title = svg("title", {});
  title.textContent = labels.title;
  root.appendChild(title);
  const from = now - SPAN_MS;
  const max = Math.max(1, ...points.map((p) => Math.max(p.queue, p.ready)));
  const x = (t: number) => PAD.l + ((Math.max(t, from) - from) / SPAN_MS) * (W - PAD.l - PAD.r);
  const y = (v: number) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
  root.appendChild(svg("line", { x1: PAD.l, y1: H - PAD.b, x2: W - PAD.r, y2: H - PAD.b, class: "axis" }));
  for (const v of [0, max]) {
    const label = svg("text", { x: PAD.l - 4, y: y(v) + 3, class: "tick", "text-anchor": "end" });
    label.textContent = String(v);
    root.appendChild(label);
  }
  for (const [i, m] of [[0, "-60m"], [0.5, "-30m"], [1, "now"]] as [number, string][]) {
    const label = svg("text", { x: PAD.l + i * (W - PAD.l - PAD.r), y: H - 3, class: "tick", "text-anchor": i === 0 ? "start" : i === 1 ? "end" : "middle" });
    label.textContent = m;
    root.appendChild(label);
  }
  for (const [key, cls] of [["ready", "ready"], ["queue", "queue"]] as ["ready" | "queue", string][]) {
    if (points.length === 0) continue;
    // A step line: each value holds until the next sample, the last one until now.
    let d = "";
    points.forEach((p, i) => {
      d += (i === 0 ? "M" : "H") + x(p.at).toFixed(1) + (i === 0 ? "," : " V") + y(p[key]).toFixed(1) + " ";
    });
    d += "H" + x(now).toFixed(1);
    root.appendChild(svg("path", { d, class: "line " + cls, fill: "none" }));
  }
  const legend = document.createElement("p");
  legend.className = "legend";
  for (const [cls, text] of [["queue", labels.queue], ["ready", labels.ready]]) {
    const item = document.createElement("span");
    item.className = "key " + cls;
    item.textContent = text;
    legend.appendChild(item);
  }
  box.appendChild(root);
  box.appendChild(legend);
}
