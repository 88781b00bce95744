// The monitor's three tables: conversations in service, the queue and the agents of the
// supervisor's scope, drawn with keyed rows (monitor-types.ts syncRows) and their actions.
// Every value from visitors and staff goes in as text.

import { formatTime, h } from "../widget/dom";
import type { MonitorStrings } from "./monitor-i18n";
import { MonitorAgent, MonitorChat, QueueEntry, secondsSince, syncRows } from "./monitor-types";
import { str } from "./ui";

export interface Names {
  agent(id: string): string;
  skill(id: string): string;
}

export interface ChatRow extends MonitorChat {
  unread: number;
  lastseq: number;
}

function cell(cls: string): HTMLTableCellElement {
  return h("td", { class: cls });
}

function set(td: Element, text: string): void {
  if (td.textContent !== text) td.textContent = text;
}

export function headRow(labels: string[]): HTMLTableRowElement {
  const tr = h("tr");
  for (const l of labels) tr.appendChild(h("th", { scope: "col", text: l }));
  return tr;
}

export function visitorName(r: { nickname?: string; name?: string; userid: string }): string {
  return str(r.nickname) || str(r.name) || str(r.userid).slice(0, 8);
}

function preview(m: MonitorChat["last"]): string {
  if (!m) return "";
  if (m.msgtype === "image") return "[image]";
  if (m.msgtype === "file") return "[file] " + str(m.filename);
  return str(m.message);
}

/** The conversations table; a click on a row opens it. */
export function drawChats(tbody: HTMLElement, rows: ChatRow[], t: MonitorStrings, names: Names, now: number, selected: string, onOpen: (r: ChatRow) => void): void {
  syncRows(
    tbody,
    rows,
    (r) => r.agentserviceid,
    (r) => {
      const tr = h("tr", { class: "chat-row", "data-sid": r.agentserviceid, tabindex: "0" });
      for (const c of ["visitor", "site", "skill", "agent", "state", "waited", "duration", "last", "unread", "rating"]) tr.appendChild(cell("c-" + c));
      const holder = tr as HTMLTableRowElement & { __row?: ChatRow };
      tr.addEventListener("click", () => holder.__row && onOpen(holder.__row));
      tr.addEventListener("keydown", (ev) => {
        if (ev.key === "Enter" && holder.__row) onOpen(holder.__row);
      });
      return tr;
    },
    (tr, r) => {
      const td = tr.children;
      set(td[0], visitorName(r));
      set(td[1], str(r.appid));
      set(td[2], r.skill ? names.skill(str(r.skill)) : t.noSkill);
      set(td[3], str(r.agentname) || names.agent(str(r.agentno)));
      set(td[4], t.inserviceState + (r.trans ? " · " + t.transferred : ""));
      const waited = r.servicetime && r.createtime ? Math.max(0, Math.round((Date.parse(r.servicetime) - Date.parse(r.createtime)) / 1000)) : 0;
      set(td[5], t.seconds(waited));
      set(td[6], t.seconds(secondsSince(r.servicetime, now)));
      set(td[7], preview(r.last));
      (td[7] as HTMLElement).title = r.last ? formatTime(str(r.last.createtime)) : "";
      set(td[8], r.unread > 0 ? String(r.unread) : "");
      td[8].classList.toggle("hot", r.unread > 0);
      set(td[9], r.rating ? "★".repeat(r.rating) : "");
      tr.classList.toggle("selected", r.agentserviceid === selected);
      (tr as HTMLTableRowElement & { __row?: ChatRow }).__row = r;
    },
  );
}

export interface QueueActions {
  take(e: QueueEntry): void;
  assign(e: QueueEntry): void;
  move(e: QueueEntry): void;
  reroute(e: QueueEntry): void;
}

/** The queue table, with its actions for supervisors holding the transfer right. */
export function drawQueue(tbody: HTMLElement, entries: QueueEntry[], t: MonitorStrings, names: Names, now: number, canAct: boolean, act: QueueActions): void {
  syncRows(
    tbody,
    entries,
    (e) => e.agentserviceid,
    (e) => {
      const tr = h("tr", { class: "queue-row", "data-sid": e.agentserviceid });
      for (const c of ["num", "visitor", "skill", "asked", "waiting", "actions"]) tr.appendChild(cell("c-" + c));
      const holder = tr as HTMLTableRowElement & { __entry?: QueueEntry };
      const button = (cls: string, text: string, f: (e: QueueEntry) => void) => {
        const b = h("button", { type: "button", class: "small " + cls, text });
        b.addEventListener("click", () => holder.__entry && f(holder.__entry));
        return b;
      };
      tr.lastElementChild!.append(
        button("q-take", t.take, act.take), button("q-assign", t.assign, act.assign),
        button("q-move", t.move, act.move), button("q-reroute", t.reroute, act.reroute),
      );
      return tr;
    },
    (tr, e) => {
      const td = tr.children;
      set(td[0], String(e.num));
      set(td[1], visitorName(e));
      set(td[2], e.skill ? names.skill(str(e.skill)) : t.noSkill);
      set(td[3], e.agent ? names.agent(str(e.agent)) : "");
      set(td[4], t.seconds(secondsSince(e.since || e.createtime, now)));
      (td[5] as HTMLElement).hidden = !canAct;
      (tr as HTMLTableRowElement & { __entry?: QueueEntry }).__entry = e;
    },
  );
}

export interface AgentActions {
  notReady(a: MonitorAgent): void;
  offline(a: MonitorAgent): void;
}

/** The agents table, with its actions for supervisors holding the transfer right. */
export function drawAgents(tbody: HTMLElement, agents: MonitorAgent[], t: MonitorStrings, names: Names, now: number, canAct: boolean, act: AgentActions): void {
  syncRows(
    tbody,
    agents,
    (a) => a.id,
    (a) => {
      const tr = h("tr", { class: "agent-row", "data-agent": a.id });
      for (const c of ["name", "status", "load", "skills", "since", "sockets", "actions"]) tr.appendChild(cell("c-" + c));
      const holder = tr as HTMLTableRowElement & { __agent?: MonitorAgent };
      const notReady = h("button", { type: "button", class: "small a-notready", text: t.setNotReady });
      notReady.addEventListener("click", () => holder.__agent && act.notReady(holder.__agent));
      const offline = h("button", { type: "button", class: "small danger a-offline", text: t.forceOffline });
      offline.addEventListener("click", () => holder.__agent && act.offline(holder.__agent));
      tr.lastElementChild!.append(notReady, offline);
      return tr;
    },
    (tr, a) => {
      const td = tr.children;
      set(td[0], str(a.nickname) || str(a.username));
      set(td[1], (t.status[a.status] || a.status) + (a.busy ? " · " + t.busy : ""));
      tr.dataset.status = a.status;
      set(td[2], `${a.users || 0} / ${a.maxuser || 0}`);
      set(td[3], (a.skills || []).map((s) => names.skill(s)).join(", "));
      set(td[4], a.since ? t.seconds(secondsSince(a.since, now)) : "");
      set(td[5], String(a.sockets || 0));
      (td[6] as HTMLElement).hidden = !canAct;
      const notReady = tr.querySelector<HTMLButtonElement>(".a-notready");
      if (notReady) notReady.disabled = a.status !== "ready";
      const offline = tr.querySelector<HTMLButtonElement>(".a-offline");
      if (offline) offline.disabled = a.status === "offline";
      (tr as HTMLTableRowElement & { __agent?: MonitorAgent }).__agent = a;
    },
  );
}
