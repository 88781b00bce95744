// The supervisor's live monitor (the Monitor tab, for staff with the read right): the
// conversations, queue and agents of the supervision scope with their actions, the tenant's
// counters with the last hour's chart, and a conversation view to watch, join, whisper and take
// over (monitor-chat.ts). It starts with `monitor {on}` (a snapshot), then follows the mirrors
// the server sends in order (audit_*, monitor_queue, monitor_agents, status): no polling.

import { ChatMessage, Note, Socket, emitAck, errorText } from "../common";
import { h } from "../widget/dom";
import { Watch, createWatch } from "./monitor-chat";
import { Point, addPoint, drawChart } from "./monitor-chart";
import { MonitorStrings, monitorStrings } from "./monitor-i18n";
import { ChatRow, drawAgents, drawChats, drawQueue, headRow, visitorName } from "./monitor-tables";
import { Counters, MonitorAgent, MonitorChat, MonitorQueue, QueueEntry, SkillRef, Snapshot } from "./monitor-types";
import { App, Part, field, modal, str } from "./ui";

export interface Monitor extends Part {
  attach(s: Socket): void;
}

type View = "chats" | "queue" | "agents";

const RETRY_MS = 3000;

export function createMonitor(app: App, root: HTMLElement, hooks: { onCount(n: number): void }): Monitor {
  const mt = (): MonitorStrings => monitorStrings(app.lang());
  let wanted = false; // the tab was opened: keep the monitor on
  let on = false;
  let visible = false;
  let view: View = "chats";
  const chats = new Map<string, ChatRow>();
  const pendingUnread = new Map<string, number>(); // visitor messages of chats not shown yet (waiting)
  let queue: MonitorQueue = { groups: {}, queue: [] };
  const agents = new Map<string, MonitorAgent>();
  let counters: Counters = {};
  let points: Point[] = [];
  let skills: SkillRef[] = [];
  let rights: string[] = [];
  let tenant = false;
  let retry: number | undefined;
  let clock: number | undefined;
  let frame = 0;
  const filter = { skill: "", agent: "", site: "" };

  // ------------------------------------------------------------ layout

  const strip = h("div", { class: "mon-strip" });
  const countersLine = h("p", { class: "mon-counters", id: "mon-counters" });
  const chart = h("div", { class: "mon-chart", id: "mon-chart" });
  const rightsLine = h("p", { class: "muted small", id: "mon-rights" });
  const status = h("p", { class: "muted small", id: "mon-status", hidden: true, role: "status" });
  strip.append(h("div", { class: "mon-figures" }, countersLine, rightsLine, status), chart);
  const views = h("nav", { class: "mon-views", role: "tablist" });
  const viewButtons = new Map<View, HTMLButtonElement>();
  for (const v of ["chats", "queue", "agents"] as View[]) {
    const b = h("button", { type: "button", role: "tab", "data-view": v, id: "mon-view-" + v });
    b.addEventListener("click", () => {
      view = v;
      render();
    });
    viewButtons.set(v, b);
    views.appendChild(b);
  }
  const skillSel = h("select", { id: "mon-filter-skill" });
  const agentSel = h("select", { id: "mon-filter-agent" });
  const siteSel = h("select", { id: "mon-filter-site" });
  const skillField = field("", skillSel);
  const agentField = field("", agentSel);
  const siteField = field("", siteSel);
  for (const [sel, key] of [[skillSel, "skill"], [agentSel, "agent"], [siteSel, "site"]] as [HTMLSelectElement, keyof typeof filter][]) {
    sel.addEventListener("change", () => {
      filter[key] = sel.value;
      render();
    });
  }
  const filters = h("div", { class: "mon-filters" }, skillField, agentField, siteField);
  const table = (id: string) => {
    const head = h("thead");
    const body = h("tbody", { id });
    return { el: h("table", { class: "mon-table" }, head, body), head, body };
  };
  const chatT = table("mon-chats");
  const queueT = table("mon-queue");
  const agentT = table("mon-agents");
  const chatsEmpty = h("p", { class: "empty", id: "mon-chats-empty" });
  const queueEmpty = h("p", { class: "empty", id: "mon-queue-empty" });
  const queueMore = h("p", { class: "muted small", id: "mon-queue-more" });
  const agentsEmpty = h("p", { class: "empty", id: "mon-agents-empty" });
  const watchBox = h("section", { class: "mon-watch", id: "mon-watch" });
  const chatsPane = h("div", { class: "mon-pane mon-chats-pane" }, h("div", { class: "mon-list" }, chatT.el, chatsEmpty), watchBox);
  const queuePane = h("div", { class: "mon-pane" }, h("div", { class: "mon-list" }, queueT.el, queueEmpty, queueMore));
  const agentsPane = h("div", { class: "mon-pane" }, h("div", { class: "mon-list" }, agentT.el, agentsEmpty));
  root.append(strip, h("div", { class: "mon-bar" }, views, filters), chatsPane, queuePane, agentsPane);

  const names = {
    agent: (id: string) => {
      const a = agents.get(id);
      return a ? str(a.nickname) || str(a.username) : id.slice(0, 8);
    },
    skill: (id: string) => {
      const s = skills.find((x) => x.id === id);
      return s ? str(s.name) : id.slice(0, 8);
    },
  };
  const watch: Watch = createWatch(app, watchBox, mt, names);

  // ------------------------------------------------------------ drawing

  function schedule(): void {
    if (!visible || frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      render();
    });
  }

  function options(sel: HTMLSelectElement, items: [string, string][]): void {
    const keep = sel.value;
    sel.textContent = "";
    sel.appendChild(h("option", { value: "", text: mt().all }));
    for (const [v, label] of items) sel.appendChild(h("option", { value: v, text: label }));
    sel.value = items.some(([v]) => v === keep) ? keep : "";
  }

  function drawFilters(): void {
    const t = mt();
    (skillField.firstChild as HTMLElement).textContent = t.filterSkill;
    (agentField.firstChild as HTMLElement).textContent = t.filterAgent;
    (siteField.firstChild as HTMLElement).textContent = t.filterSite;
    options(skillSel, skills.map((s) => [s.id, str(s.name)]));
    options(agentSel, [...agents.values()].map((a) => [a.id, str(a.nickname) || str(a.username)]));
    const sites = new Set<string>();
    for (const r of chats.values()) if (r.appid) sites.add(str(r.appid));
    for (const e of queue.queue || []) if (e.appid) sites.add(str(e.appid));
    options(siteSel, [...sites].sort().map((s) => [s, s]));
    filter.skill = skillSel.value;
    filter.agent = agentSel.value;
    filter.site = siteSel.value;
  }

  function shown<T extends { skill?: string; appid?: string; agentno?: string }>(r: T): boolean {
    return (!filter.skill || r.skill === filter.skill) && (!filter.site || r.appid === filter.site) && (!filter.agent || r.agentno === filter.agent);
  }

  function queueTotal(): number {
    return Object.values(queue.groups || {}).reduce((a, b) => a + b, 0);
  }

  function render(): void {
    const t = mt();
    const now = Date.now();
    for (const [v, b] of viewButtons) {
      const n = v === "chats" ? chats.size : v === "queue" ? queueTotal() : agents.size;
      b.textContent = `${v === "chats" ? t.conversations : v === "queue" ? t.queue : t.agents} (${n})`;
      b.setAttribute("aria-selected", String(v === view));
    }
    chatsPane.hidden = view !== "chats";
    queuePane.hidden = view !== "queue";
    agentsPane.hidden = view !== "agents";
    const n = (v?: number) => (typeof v === "number" ? v : 0);
    countersLine.textContent = `${t.inService} ${n(counters.users)} · ${t.waiting} ${n(counters.inquene)} · ${t.readyAgents} ${n(counters.agents)} · ${t.busyAgents} ${n(counters.busy)}`;
    const names2 = rights.map((r) => t.rightNames[r] || r).join(", ");
    rightsLine.textContent = t.rights(names2 + (tenant ? " · " + t.wholeTenant : ""));
    drawChart(chart, points, { queue: t.waiting, ready: t.readyAgents, title: t.chartLabel }, now);
    const rows = [...chats.values()].filter(shown).sort((a, b) => str(a.servicetime).localeCompare(str(b.servicetime)));
    drawChats(chatT.body, rows, t, names, now, watch.current(), (r) => {
      watch.open(r);
      render();
    });
    chatsEmpty.textContent = rows.length ? "" : t.noChats;
    chatsEmpty.hidden = rows.length > 0;
    const canAct = rights.includes("transfer");
    const entries = (queue.queue || []).filter(shown);
    drawQueue(queueT.body, entries, t, names, now, canAct, queueActions);
    queueEmpty.textContent = t.noQueue;
    queueEmpty.hidden = entries.length > 0;
    const more = queueTotal() - (queue.queue || []).length;
    queueMore.textContent = more > 0 ? t.moreWaiting(more) : "";
    const list = [...agents.values()].filter((a) => !filter.skill || (a.skills || []).includes(filter.skill)).filter((a) => !filter.agent || a.id === filter.agent)
      .sort((a, b) => (str(a.nickname) || str(a.username)).localeCompare(str(b.nickname) || str(b.username)));
    drawAgents(agentT.body, list, t, names, now, canAct, agentActions);
    agentsEmpty.textContent = t.noAgents;
    agentsEmpty.hidden = list.length > 0;
    watch.refresh(chats.get(watch.current()));
  }

  function relabelHeads(): void {
    const t = mt();
    chatT.head.textContent = "";
    chatT.head.appendChild(headRow([t.colVisitor, t.colSite, t.colSkill, t.colAgent, t.colState, t.colWaited, t.colDuration, t.colLast, t.colUnread, t.colRating]));
    queueT.head.textContent = "";
    queueT.head.appendChild(headRow([t.colPosition, t.colVisitor, t.colSkill, t.colAsked, t.colWaiting, t.colActions]));
    agentT.head.textContent = "";
    agentT.head.appendChild(headRow([t.colAgent, t.colStatus, t.colLoad, t.colSkills, t.colSince, t.colSockets, t.colActions]));
    // Rows carry their buttons' labels: draw them anew.
    chatT.body.textContent = queueT.body.textContent = agentT.body.textContent = "";
  }

  // ------------------------------------------------------------ actions

  async function run(method: string, path: string, body?: unknown): Promise<void> {
    const t = mt();
    try {
      const res = await app.api<{ pending?: boolean; queued?: boolean }>(method, path, body);
      app.toast(res && res.pending ? t.pending : res && res.queued ? t.queuedAgain : t.done);
    } catch (e) {
      app.toast(t.failed + errorText(e), true);
    }
  }

  const queuePath = (e: QueueEntry) => "/queue/" + encodeURIComponent(e.agentserviceid);

  const queueActions = {
    take: (e: QueueEntry) => void run("POST", queuePath(e) + "/assign", { agentno: app.me().id }),
    reroute: (e: QueueEntry) => void run("POST", queuePath(e) + "/reroute"),
    assign: (e: QueueEntry) => {
      const t = mt();
      const sel = h("select", { id: "assign-agent" });
      for (const a of agents.values()) {
        const state = (t.status[a.status] || a.status) + (a.busy ? " · " + t.busy : "");
        sel.appendChild(h("option", { value: a.id, text: `${str(a.nickname) || str(a.username)} — ${state} · ${a.users || 0}/${a.maxuser || 0}` }));
      }
      const override = h("input", { type: "checkbox", id: "assign-override" });
      modal({
        id: "assign-dialog", title: t.assignTitle + ": " + visitorName(e), t: app.t(), submit: t.assign.replace("…", ""),
        body: [field(t.colAgent, sel), h("label", { class: "check" }, override, t.override)],
        onSubmit: async () => {
          await app.api("POST", queuePath(e) + "/assign", { agentno: sel.value, override: override.checked });
          app.toast(t.done);
          return true;
        },
      });
    },
    move: async (e: QueueEntry) => {
      const t = mt();
      const sel = h("select", { id: "move-skill" });
      const m = modal({
        id: "move-dialog", title: t.moveTitle + ": " + visitorName(e), t: app.t(), submit: t.move.replace("…", ""),
        body: [field(t.colSkill, sel)],
        onSubmit: async () => {
          const res = await app.api<{ queued?: boolean }>("POST", queuePath(e) + "/move", { skill: sel.value });
          app.toast(res && res.queued ? t.queuedAgain : t.done);
          return true;
        },
      });
      try {
        // Any of the tenant's groups, as an agent may transfer to any.
        const all = await app.api<{ id: string; name: string }[]>("GET", "/skills");
        for (const g of Array.isArray(all) ? all : []) if (g.id !== e.skill) sel.appendChild(h("option", { value: g.id, text: str(g.name) }));
      } catch (err) {
        m.error.textContent = t.failed + errorText(err);
        m.error.hidden = false;
      }
    },
  };

  const agentPath = (a: MonitorAgent) => "/agents/" + encodeURIComponent(a.id);
  const agentActions = {
    notReady: (a: MonitorAgent) => void run("PUT", agentPath(a) + "/status", { status: "notready" }),
    offline: (a: MonitorAgent) => {
      const t = mt();
      modal({
        id: "offline-dialog", title: t.offlineConfirm(str(a.nickname) || str(a.username)), t: app.t(), submit: t.forceOffline, body: [],
        onSubmit: async () => {
          await app.api("POST", agentPath(a) + "/offline");
          app.toast(t.done);
          return true;
        },
      });
    },
  };

  // ------------------------------------------------------------ the stream

  function start(): void {
    const s = app.socket();
    if (!s || !wanted || !s.connected) return;
    if (retry !== undefined) clearTimeout(retry);
    retry = undefined;
    void emitAck(s, "monitor", { on: true }).then((ack) => {
      if (ack.ok) {
        on = true;
        status.hidden = true;
        return;
      }
      on = false;
      status.textContent = ack.error && ack.error.code === "forbidden" ? mt().failed + ack.error.message : mt().unavailable;
      status.hidden = false;
      if (ack.error && ack.error.code !== "forbidden") retry = window.setTimeout(start, RETRY_MS);
    });
  }

  function snapshot(snap: Snapshot): void {
    rights = Array.isArray(snap.rights) ? snap.rights.map(String) : [];
    tenant = !!snap.tenant;
    skills = Array.isArray(snap.skills) ? snap.skills : [];
    chats.clear();
    pendingUnread.clear();
    for (const c of snap.chats || []) chats.set(c.agentserviceid, rowOf(c));
    queue = snap.queue || { groups: {}, queue: [] };
    agents.clear();
    for (const a of snap.agents || []) agents.set(a.id, a);
    counters = snap.counters || {};
    points = [];
    for (const p of snap.history || []) points = addPoint(points, { at: Date.parse(p.at), queue: p.inquene || 0, ready: p.agents || 0 });
    live(counters);
    drawFilters();
    hooks.onCount(queueTotal());
    const cur = watch.current();
    if (cur && !chats.has(cur)) watch.gone(cur, false);
    schedule();
  }

  function rowOf(c: MonitorChat): ChatRow {
    return { ...c, unread: typeof c.unread === "number" ? c.unread : 0, lastseq: typeof c.lastseq === "number" ? c.lastseq : c.last ? c.last.seq : 0 };
  }

  function live(c: Counters): void {
    const at = c.createtime ? Date.parse(c.createtime) : Date.now();
    points = addPoint(points, { at: isNaN(at) ? Date.now() : at, queue: c.inquene || 0, ready: c.agents || 0 });
  }

  function message(m: ChatMessage): void {
    if (!m || typeof m.agentserviceid !== "string") return;
    watch.onMessage(m);
    const r = chats.get(m.agentserviceid);
    const seq = typeof m.seq === "number" ? m.seq : 0;
    if (!r) {
      if (m.calltype === "in") pendingUnread.set(m.agentserviceid, (pendingUnread.get(m.agentserviceid) || 0) + 1);
      return;
    }
    if (seq <= r.lastseq) return; // already counted (the snapshot had it)
    r.lastseq = seq;
    r.last = m;
    if (m.calltype === "in") r.unread++;
    schedule();
  }

  function attach(s: Socket): void {
    s.on("connect", () => {
      on = false;
      start();
    });
    s.on("monitor_snapshot", snapshot);
    s.on("monitor_queue", (q: MonitorQueue) => {
      queue = q || { groups: {}, queue: [] };
      hooks.onCount(queueTotal());
      schedule();
    });
    s.on("monitor_agents", (p: { agents?: MonitorAgent[] }) => {
      for (const a of (p && p.agents) || []) agents.set(a.id, a);
      schedule();
    });
    s.on("status", (c: Counters) => {
      counters = c || {};
      live(counters);
      schedule();
    });
    s.on("audit_new", (c: MonitorChat) => {
      if (!c || typeof c.agentserviceid !== "string") return;
      const r = rowOf(c);
      r.unread += pendingUnread.get(c.agentserviceid) || 0;
      pendingUnread.delete(c.agentserviceid);
      chats.set(c.agentserviceid, r);
      schedule();
    });
    s.on("audit_transout", (c: MonitorChat) => {
      if (!c || !chats.delete(c.agentserviceid)) return;
      watch.gone(c.agentserviceid, false);
      schedule();
    });
    s.on("audit_end", (c: MonitorChat) => {
      if (!c) return;
      chats.delete(c.agentserviceid);
      pendingUnread.delete(c.agentserviceid);
      watch.gone(c.agentserviceid, true);
      schedule();
    });
    s.on("audit_message", message);
    s.on("audit_read", (r: { agentserviceid?: string; readseq?: number; unread?: number }) => {
      const row = r && typeof r.agentserviceid === "string" ? chats.get(r.agentserviceid) : undefined;
      if (!row) return;
      if (typeof r.unread === "number") row.unread = r.unread;
      if (typeof r.readseq === "number") row.readseq = r.readseq;
      schedule();
    });
    s.on("audit_rating", (r: { agentserviceid?: string; level?: number }) => {
      const row = r && typeof r.agentserviceid === "string" ? chats.get(r.agentserviceid) : undefined;
      if (row && typeof r.level === "number") row.rating = r.level;
      schedule();
    });
    s.on("audit_history", watch.onHistory);
    s.on("audit_writing", watch.onWriting);
    s.on("audit_whisper", (n: Note) => watch.onWhisper(n));
    if (s.connected) start();
  }

  return {
    attach,
    setVisible(v) {
      visible = v;
      if (v && !wanted) {
        wanted = true;
        relabelHeads();
        start();
      }
      if (v && !on && retry === undefined) start();
      if (clock !== undefined) clearInterval(clock);
      clock = v ? window.setInterval(render, 1000) : undefined; // the durations' clock, not a poll
      if (v) render();
    },
    relabel() {
      relabelHeads();
      drawFilters();
      schedule();
    },
    reset() {
      wanted = on = false;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      chats.clear();
      agents.clear();
      pendingUnread.clear();
      queue = { groups: {}, queue: [] };
      points = [];
      watch.close();
      hooks.onCount(0);
    },
  };
}
