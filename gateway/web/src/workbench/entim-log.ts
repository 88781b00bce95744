// The messages of one enterprise IM conversation: history pages, live messages (deduplicated
// by id, our own echoes merged into the pending send by clientid) and our sends with their
// state. Every text goes into the page with textContent.

import { el, formatTime } from "../common";
import type { IMMessage } from "./entim-api";
import { syncChildren } from "./entim-dom";
import type { EntimStrings } from "./entim-i18n";

export type SendState = "sending" | "sent" | "failed";

export interface Row {
  id?: string;
  clientid?: string;
  from: string;
  text: string;
  createtime?: string;
  state: SendState;
  error?: string;
  /** What was emitted, for a retry with the same clientid. */
  payload?: Record<string, unknown>;
  node: HTMLLIElement;
  /** Its place among its neighbours (set by layout, kept by redraws). */
  cont: boolean;
  named: boolean;
  runEnd: boolean;
}

export interface LogContext {
  me: string;
  group: boolean;
  t: EntimStrings;
  locale: string;
  nameOf(agentId: string): string;
  onRetry(row: Row): void;
  onEarlier(): void;
}

/** Messages of one sender within this long of each other read as one run (one name label). */
const RUN_MS = 5 * 60 * 1000;

export class ConvLog {
  /** The scroll container: put it into the page to show the conversation. */
  readonly box: HTMLDivElement;
  private list: HTMLOListElement;
  private head: HTMLDivElement;
  private earlier: HTMLButtonElement;
  private note: HTMLParagraphElement;
  private rows: Row[] = [];
  private byId = new Map<string, Row>();
  private byClient = new Map<string, Row>();
  private days = new Map<string, HTMLLIElement>();
  /** pk of the oldest message held, for paging back. */
  oldestPk = "";
  hasMore = false;
  loaded = false;
  loading = false;
  /** Bumped by reset(): a page asked for before it is stale. */
  generation = 0;
  private error = "";
  /** Where the agent last scrolled to, for when the box comes back into view; null: the bottom. */
  private saved: number | null = null;

  constructor(private ctx: LogContext) {
    this.box = el("div", "entim-scroll");
    this.box.setAttribute("role", "log");
    this.box.setAttribute("aria-live", "polite");
    this.box.tabIndex = 0; // scrollable with the keyboard
    this.head = el("div", "entim-log-head");
    this.earlier = el("button", "entim-earlier", ctx.t.earlier);
    this.earlier.type = "button";
    this.earlier.addEventListener("click", () => ctx.onEarlier());
    this.note = el("p", "entim-log-note");
    this.head.append(this.earlier, this.note);
    this.list = el("ol", "entim-log");
    this.box.append(this.head, this.list);
    // Scroll events come only while the box is shown: out of view, the last position stays.
    this.box.addEventListener("scroll", () => {
      const b = this.box;
      this.saved = b.scrollHeight - b.scrollTop - b.clientHeight < 48 ? null : b.scrollTop;
    });
    this.drawHead();
  }

  // ------------------------------------------------------------ history

  /** Before (re)loading: drops what the server will send again, keeping unsent messages. */
  reset(): void {
    this.generation++;
    this.rows = this.rows.filter((r) => r.state !== "sent");
    this.byId.clear();
    this.byClient.clear();
    for (const r of this.rows) {
      if (r.id) this.byId.set(r.id, r);
      if (r.clientid) this.byClient.set(r.clientid, r);
    }
    this.loaded = false;
    this.loading = false; // a page still on its way is stale (generation)
    this.hasMore = false;
    this.oldestPk = "";
    this.saved = null;
    this.layout(true);
  }

  setLoading(loading: boolean, error = ""): void {
    this.loading = loading;
    this.error = error;
    this.drawHead();
  }

  /**
   * Adds a page of history (oldest first): the latest page when not loaded yet, else the page
   * before the oldest held. Messages already held (live ones that raced the request) keep their
   * place; the others go in page order before them.
   */
  addPage(page: IMMessage[], limit: number): void {
    const older = this.loaded;
    const before = this.box.scrollHeight - this.box.scrollTop;
    let pos = 0;
    for (const m of page) {
      const have = (m.id && this.byId.get(m.id)) || (m.clientid && m.from === this.ctx.me && this.byClient.get(m.clientid));
      if (have) {
        this.confirm(have, m);
        pos = this.rows.indexOf(have) + 1;
        continue;
      }
      const row = this.newRow(m.from, m.message, "sent", m);
      this.rows.splice(pos++, 0, row);
      this.draw(row);
    }
    if (page.length > 0 && page[0].pk) this.oldestPk = page[0].pk;
    this.hasMore = page.length >= limit;
    this.loaded = true;
    this.loading = false;
    this.error = "";
    this.drawHead();
    this.layout(false);
    // Paging back keeps the messages in view where they were; the first page opens at the bottom.
    if (older) this.box.scrollTop = this.box.scrollHeight - before;
    else this.scrollToBottom();
  }

  // ------------------------------------------------------------ live

  /** A message from the socket; false if it was already here (or is the echo of our send). */
  addLive(m: IMMessage): boolean {
    if (this.byId.has(m.id)) return false;
    if (m.from === this.ctx.me && m.clientid) {
      const mine = this.byClient.get(m.clientid);
      if (mine) {
        this.confirm(mine, m);
        return false;
      }
    }
    const row = this.newRow(m.from, m.message, "sent", m);
    this.rows.push(row);
    this.draw(row);
    this.layout(false);
    return true;
  }

  /** Shows our send before its acknowledgement. */
  addPending(text: string, payload: Record<string, unknown> & { clientid: string }): Row {
    const row = this.newRow(this.ctx.me, text, "sending", { clientid: payload.clientid, createtime: new Date().toISOString() });
    row.payload = payload;
    this.rows.push(row);
    this.draw(row);
    this.layout(true);
    return row;
  }

  setSending(row: Row): void {
    row.state = "sending";
    row.error = undefined;
    this.draw(row);
  }

  /** The acknowledgement {ok, id, createtime}: the row is sent (or a copy of it already is). */
  acked(row: Row, id: string, createtime?: string): void {
    const other = this.byId.get(id);
    if (other && other !== row) {
      this.rows = this.rows.filter((r) => r !== row);
      this.layout(false);
      return;
    }
    this.confirm(row, { id, createtime });
  }

  fail(row: Row, error: string): void {
    if (row.state === "sent") return; // a late ack or the echo won
    row.state = "failed";
    row.error = error;
    this.draw(row);
  }

  // ------------------------------------------------------------ view

  /** The box is back in the page (or its tab shown again): where the agent left it, or the bottom. */
  attached(): void {
    if (this.saved === null) this.scrollToBottom();
    else this.box.scrollTop = this.saved;
  }

  /** Names may arrive after the messages (contacts loaded later): redraw the labels. */
  redrawNames(): void {
    for (const r of this.rows) this.draw(r);
    this.layout(false);
  }

  private scrollToBottom(): void {
    this.box.scrollTop = this.box.scrollHeight;
  }

  private newRow(from: string, text: string, state: SendState, m: Partial<IMMessage>): Row {
    const row: Row = {
      id: m.id, clientid: m.clientid, from, text: typeof text === "string" ? text : "", createtime: m.createtime, state,
      node: el("li"), cont: false, named: false, runEnd: true,
    };
    if (row.id) this.byId.set(row.id, row);
    if (row.clientid && from === this.ctx.me) this.byClient.set(row.clientid, row);
    return row;
  }

  /** Our send confirmed by its ack, its echo or the history. */
  private confirm(row: Row, m: Partial<IMMessage>): void {
    if (m.id) {
      row.id = m.id;
      this.byId.set(m.id, row);
    }
    if (m.createtime) row.createtime = m.createtime;
    if (row.state === "sent") return;
    row.state = "sent";
    row.error = undefined;
    this.draw(row);
  }

  private drawHead(): void {
    this.earlier.hidden = !(this.loaded && this.hasMore) || this.loading;
    let note = "";
    if (this.error) note = this.ctx.t.loadFailed + this.error;
    else if (this.loading) note = this.ctx.t.loading;
    else if (this.loaded && this.rows.length === 0) note = this.ctx.t.noMessages;
    else if (this.loaded && !this.hasMore) note = this.ctx.t.start;
    this.note.textContent = note;
    this.note.hidden = note === "";
    this.note.classList.toggle("entim-error", this.error !== "");
  }

  private draw(r: Row): void {
    const li = r.node;
    const mine = r.from === this.ctx.me;
    li.className = `entim-msg ${mine ? "entim-mine" : "entim-theirs"} entim-${r.state}`;
    this.placeClasses(r);
    li.dataset.state = r.state;
    if (r.id) li.dataset.id = r.id;
    li.textContent = "";
    const who = el("span", "entim-who", mine ? this.ctx.t.you : this.ctx.nameOf(r.from));
    const bubble = el("div", "entim-bubble");
    bubble.appendChild(el("p", "entim-text", r.text));
    const when = r.createtime ? new Date(r.createtime) : null;
    if (when && !isNaN(when.getTime())) bubble.title = when.toLocaleString(this.ctx.locale);
    const meta = el("div", "entim-meta");
    const time = el("time", "entim-time", formatTime(r.createtime));
    if (r.createtime) time.dateTime = r.createtime;
    meta.appendChild(time);
    if (r.state === "sent" && mine) {
      const tick = el("span", "entim-tick", "✓");
      tick.title = this.ctx.t.sent;
      meta.appendChild(tick);
    }
    if (r.state === "sending") meta.appendChild(el("span", "entim-state", this.ctx.t.sending));
    if (r.state === "failed") {
      const why = el("span", "entim-state entim-error", this.ctx.t.failed);
      if (r.error) why.title = r.error;
      const retry = el("button", "entim-retry", this.ctx.t.retry);
      retry.type = "button";
      retry.addEventListener("click", () => this.ctx.onRetry(r));
      meta.append(why, retry);
    }
    li.append(who, bubble, meta);
  }

  private placeClasses(r: Row): void {
    const c = r.node.classList;
    c.toggle("entim-cont", r.cont);
    c.toggle("entim-named", r.named);
    c.toggle("entim-run-end", r.runEnd);
  }

  /** Puts the rows in order with a divider per day and marks runs of one sender. */
  private layout(forceBottom: boolean): void {
    const b = this.box;
    const atBottom = b.scrollHeight - b.scrollTop - b.clientHeight < 48;
    const nodes: HTMLLIElement[] = [];
    let prev: Row | null = null;
    let prevDay = "";
    for (const r of this.rows) {
      const d = r.createtime ? new Date(r.createtime) : new Date();
      const day = isNaN(d.getTime()) ? prevDay : d.toDateString();
      if (day && day !== prevDay) {
        nodes.push(this.divider(day, d));
        prev = null;
      }
      const run = prev !== null && prev.from === r.from && timeOf(r) - timeOf(prev) < RUN_MS;
      r.cont = run;
      // A name label only where it tells something: others' messages in a group.
      r.named = this.ctx.group && r.from !== this.ctx.me && !run;
      // The time goes under the last message of a run.
      r.runEnd = true;
      if (prev) prev.runEnd = !run;
      nodes.push(r.node);
      prev = r;
      prevDay = day;
    }
    for (const r of this.rows) this.placeClasses(r);
    syncChildren(this.list, nodes);
    this.drawHead();
    if (atBottom || forceBottom) this.scrollToBottom();
  }

  private divider(day: string, d: Date): HTMLLIElement {
    let li = this.days.get(day);
    if (!li) {
      const today = new Date();
      const yesterday = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1);
      let label: string;
      if (day === today.toDateString()) label = this.ctx.t.today;
      else if (day === yesterday.toDateString()) label = this.ctx.t.yesterday;
      else label = d.toLocaleDateString(this.ctx.locale, { year: "numeric", month: "short", day: "numeric" });
      li = el("li", "entim-day");
      li.appendChild(el("span", "", label));
      this.days.set(day, li);
    }
    return li;
  }
}

function timeOf(r: Row): number {
  const t = r.createtime ? Date.parse(r.createtime) : NaN;
  return isNaN(t) ? Date.now() : t;
}
