// The one-tag loader, served at GET /im/{appid}.js:
//
//   <script src="https://HOST/im/{appid}.js" defer></script>
//
// optionally with data-skill="{skill group id}" and/or data-agent="{agent id}" (a preset route).
//
// It adds one element to the host page: a fixed-position box in a closed shadow root that holds
// an <iframe> of https://HOST/im/{appid}/widget. Everything the visitor sees (the entry button,
// the invite popup, the chat window) lives in that iframe, so the host page's CSS and JS cannot
// reach it; the box itself is styled inline with !important declarations, which no stylesheet
// of the host page can override. The widget tells the loader, with postMessage, which mode it is
// in and how large it wants to be; the loader only places the box. The loader sends the host
// page's title, URL and referrer (for the visitor's page trail) to the widget.
//
// The loader defines no global besides window.KefuWidget (open/close), relies on no prototype
// the host page could have replaced after it loaded, and does nothing at all when loaded twice.

(function () {
  const doc = document;
  const win = window;
  // Our own script element: currentScript works for classic scripts, defer included.
  let script = doc.currentScript as HTMLScriptElement | null;
  if (!script || !/\/im\/[^/?#]+\.js(\?|#|$)/.test(script.src)) {
    script = null;
    const all = doc.getElementsByTagName("script");
    for (let i = all.length - 1; i >= 0; i--) {
      if (/\/im\/[^/?#]+\.js(\?|#|$)/.test(all[i].src)) {
        script = all[i];
        break;
      }
    }
  }
  if (!script) return;
  const m = /^(https?:\/\/[^/]+)\/im\/([^/?#]+)\.js/.exec(script.src);
  if (!m) return;
  const origin = m[1];
  const appidPath = m[2]; // still URL-encoded, as in the tag
  const marker = "data-kefu-" + appidPath.replace(/[^a-zA-Z0-9_-]/g, "_");
  if (doc.documentElement.hasAttribute(marker)) return; // loaded twice
  doc.documentElement.setAttribute(marker, "");

  const Z = "2147483000";
  const GAP = 20;
  const MOBILE = 600;

  // ---- the box: a custom element with inline !important styles and a closed shadow root

  const box = doc.createElement("kefu-widget");
  const frame = doc.createElement("iframe");

  function set(el: HTMLElement, styles: Record<string, string>): void {
    const st = el.style;
    for (const k in styles) {
      if (Object.prototype.hasOwnProperty.call(styles, k)) st.setProperty(k, styles[k], "important");
    }
  }

  // `all: initial` first: then only what we set applies, whatever the host's stylesheets say.
  box.style.setProperty("all", "initial", "important");
  const boxBase: Record<string, string> = {
    display: "block",
    position: "fixed",
    "z-index": Z,
    margin: "0",
    padding: "0",
    border: "0",
    overflow: "hidden",
    background: "transparent",
    "box-sizing": "border-box",
    transform: "none",
    filter: "none",
    opacity: "1",
    "pointer-events": "auto",
    "max-width": "none",
    "max-height": "none",
    "min-width": "0",
    "min-height": "0",
    "color-scheme": "light",
    contain: "layout paint",
  };
  set(box, boxBase);

  // A preset skill group or agent on the tag (data-skill, data-agent) travels in the frame's URL;
  // the widget checks it against the site's groups, and so does the server.
  const presets: string[] = [];
  for (const name of ["skill", "agent"]) {
    const v = script.getAttribute("data-" + name);
    if (v && /^[\w-]{1,32}$/.test(v)) presets.push(name + "=" + encodeURIComponent(v));
  }
  frame.src = origin + "/im/" + appidPath + "/widget" + (presets.length ? "?" + presets.join("&") : "");
  frame.title = "Chat";
  frame.setAttribute("allow", "clipboard-write");
  frame.setAttribute(
    "sandbox",
    "allow-scripts allow-same-origin allow-forms allow-popups allow-popups-to-escape-sandbox allow-downloads",
  );
  frame.style.setProperty("all", "initial", "important");
  set(frame, {
    display: "block",
    width: "100%",
    height: "100%",
    border: "0",
    margin: "0",
    padding: "0",
    background: "transparent",
    "color-scheme": "light",
    visibility: "visible",
    opacity: "1",
  });

  let shadow: ShadowRoot | null = null;
  try {
    shadow = box.attachShadow({ mode: "closed" });
  } catch {
    shadow = null; // very old browser: the inline styles still hold
  }
  (shadow || box).appendChild(frame);

  // ---- layout

  interface Layout {
    mode: string;
    shape: string;
    side: string;
    width: number;
    height: number;
  }
  let layout: Layout = { mode: "hidden", shape: "bar", side: "right", width: 0, height: 0 };

  function px(n: number): string {
    return Math.max(0, Math.round(n)) + "px";
  }

  function place(): void {
    const vw = doc.documentElement.clientWidth || win.innerWidth;
    const vh = win.innerHeight || doc.documentElement.clientHeight;
    const right = layout.side !== "left";
    const s: Record<string, string> = {
      top: "auto",
      bottom: "auto",
      left: "auto",
      right: "auto",
      width: "0px",
      height: "0px",
      visibility: "visible",
      "border-radius": "0",
      "box-shadow": "none",
    };
    const side = right ? "right" : "left";
    switch (layout.mode) {
      case "button": {
        const w = Math.min(layout.width, vw);
        const hgt = Math.min(layout.height, vh);
        s.width = px(w);
        s.height = px(hgt);
        if (layout.shape === "bar") {
          s.top = px((vh - hgt) / 2);
          s[side] = "0px";
          s["border-radius"] = right ? "8px 0 0 8px" : "0 8px 8px 0";
          s["box-shadow"] = "0 2px 12px rgba(0,0,0,.22)";
        } else {
          s.bottom = px(GAP);
          s[side] = px(GAP);
          s["border-radius"] = layout.shape === "circle" ? "50%" : "14px";
          s["box-shadow"] = "0 4px 16px rgba(0,0,0,.25)";
        }
        break;
      }
      case "invite": {
        const w = Math.min(layout.width, vw - 2 * 12);
        s.width = px(w);
        s.height = px(Math.min(layout.height, vh - 2 * 12));
        s.bottom = px(vw < MOBILE ? 12 : GAP);
        s[side] = px(vw < MOBILE ? (vw - w) / 2 : GAP);
        s["border-radius"] = "14px";
        s["box-shadow"] = "0 8px 32px rgba(0,0,0,.28)";
        break;
      }
      case "open": {
        if (vw < MOBILE) {
          s.top = "0px";
          s.left = "0px";
          s.width = px(vw);
          s.height = px(vh);
        } else {
          s.width = px(Math.min(380, vw - 2 * GAP));
          s.height = px(Math.min(640, vh - 2 * GAP));
          s.bottom = px(GAP);
          s[side] = px(GAP);
          s["border-radius"] = "14px";
          s["box-shadow"] = "0 12px 40px rgba(0,0,0,.3)";
        }
        break;
      }
      default:
        s.bottom = "0px";
        s.right = "0px";
        s.visibility = "hidden";
    }
    set(box, s);
  }

  // ---- messages with the widget (only from our iframe, only from the gateway's origin)

  function post(msg: Record<string, unknown>): void {
    const w = frame.contentWindow;
    if (w) w.postMessage(msg, origin);
  }

  // The widget's memory when the browser denies the iframe its own storage (third-party storage
  // blocked): our "kefu:" keys in the host page's first-party storage.
  function storageOf(area: string): Storage | null {
    try {
      return area === "session" ? win.sessionStorage : win.localStorage;
    } catch {
      return null;
    }
  }

  function snapshot(area: string): Record<string, string> {
    const out: Record<string, string> = {};
    const st = storageOf(area);
    if (!st) return out;
    try {
      for (let i = 0; i < st.length; i++) {
        const k = st.key(i);
        if (k && k.indexOf("kefu:") === 0) {
          const v = st.getItem(k);
          if (v !== null) out[k] = v;
        }
      }
    } catch {
      // denied: nothing remembered
    }
    return out;
  }

  function hostInfo(): Record<string, unknown> {
    return {
      store: { local: snapshot("local"), session: snapshot("session") },
      kefu: 1,
      type: "host",
      title: String(doc.title || "").slice(0, 255),
      url: String(win.location.href).slice(0, 1024),
      referrer: String(doc.referrer || "").slice(0, 1024),
      width: doc.documentElement.clientWidth || win.innerWidth,
    };
  }

  function num(v: unknown): number {
    return typeof v === "number" && v >= 0 && v < 10000 ? v : 0;
  }

  win.addEventListener("message", function (ev: MessageEvent) {
    if (ev.source !== frame.contentWindow || ev.origin !== origin) return;
    const d = ev.data;
    if (!d || typeof d !== "object" || d.kefu !== 1) return;
    if (d.type === "ready") {
      post(hostInfo());
    } else if (d.type === "store") {
      const st = storageOf(d.area === "session" ? "session" : "local");
      const k = d.key;
      const v = d.value;
      if (!st || typeof k !== "string" || k.indexOf("kefu:") !== 0 || k.length > 200) return;
      try {
        if (v === null) st.removeItem(k);
        else if (typeof v === "string" && v.length <= 8192) st.setItem(k, v);
      } catch {
        // full or denied
      }
    } else if (d.type === "layout") {
      layout = {
        mode: d.mode === "button" || d.mode === "invite" || d.mode === "open" ? d.mode : "hidden",
        shape: d.shape === "square" || d.shape === "circle" ? d.shape : "bar",
        side: d.side === "left" ? "left" : "right",
        width: num(d.width),
        height: num(d.height),
      };
      place();
    }
  });
  frame.addEventListener("load", function () {
    post(hostInfo());
  });

  win.addEventListener("resize", function () {
    place();
    post({ kefu: 1, type: "viewport", width: doc.documentElement.clientWidth || win.innerWidth });
  });

  // A single-page app changes its URL or title without a page load: tell the widget (page trail).
  let lastURL = String(win.location.href);
  let lastTitle = String(doc.title || "");
  win.setInterval(function () {
    const u = String(win.location.href);
    const tt = String(doc.title || "");
    if (u !== lastURL || tt !== lastTitle) {
      lastURL = u;
      lastTitle = tt;
      post(hostInfo());
    }
  }, 1500);

  place();

  function attach(): void {
    (doc.body || doc.documentElement).appendChild(box);
  }
  if (doc.body) attach();
  else doc.addEventListener("DOMContentLoaded", attach);

  // The one global: lets the host page open or close the chat (e.g. from its own "Contact us" link).
  try {
    const api = {
      open: function () {
        post({ kefu: 1, type: "open" });
      },
      close: function () {
        post({ kefu: 1, type: "close" });
      },
    };
    if (!(win as any).KefuWidget) (win as any).KefuWidget = api;
  } catch {
    // a frozen window: fine
  }
})();
