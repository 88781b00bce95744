// The widget's conversation: every message of the visitor (history across sessions, replay,
// live traffic), deduplicated by id and by clientid, ordered by session then seq, rendered as
// text (never HTML). Our own sends show their state: sending, sent, or failed with a retry.

import type { ChatMessage } from "../common";
import { appendLinkified, formatSize, formatTime, h, icon, safeURL } from "./dom";
import type { Strings } from "./i18n";

export type Side = "me" | "agent" | "system";
export type State = "sending" | "sent" | "failed";

export interface Item {
  key: string;
  id?: string;
  clientid?: string;
  sid: string;
  seq?: number;
  side: Side;
  who: string;
  text: string;
  msgtype: string;
  url?: string;
  filename?: string;
  filesize?: number;
  createtime: string;
  state: State;
  error?: string;
  uploading?: boolean;
  order: number;
  retry?: () => void;
  node?: HTMLLIElement;
}

interface Sess {
  start: string; // earliest createtime seen: sessions are ordered by it
  seqs: Set<number>;
  max: number;
  gapTimer?: number;
  gapAsked?: number;
}

export interface ChatLogOptions {
  t: () => Strings;
  avatar?: () => string | undefined;
  agentName: (m: ChatMessage) => string;
  /** A hole in a session's seqs lasted over 1 s: fetch messages after `after`. */
  onGap: (sid: string, after: number) => void;
  /** Something new was drawn at the bottom (for scrolling and unread counts). */
  onAdded?: (item: Item, live: boolean) => void;
}

export class ChatLog {
  private items: Item[] = [];
  private byId = new Map<string, Item>();
  private byClient = new Map<string, Item>();
  private sessions = new Map<string, Sess>();
  private agentSeqs = new Map<string, Set<number>>();
  private counter = 0;

  /** Whether the view follows the newest message (the visitor has not scrolled up). */
  private stick = true;

  constructor(public readonly list: HTMLOListElement, private opts: ChatLogOptions) {
    const box = this.box();
    box.addEventListener("scroll", () => {
      this.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    });
  }

  private box(): HTMLElement {
    return this.list.parentElement || this.list;
  }

  /** Keeps the newest message in view when something above it grew (a picture loaded). */
  private follow(): void {
    if (this.stick) {
      const box = this.box();
      box.scrollTop = box.scrollHeight;
    }
  }

  /** Highest seq seen in a session (0 if none). */
  maxSeq(sid: string): number {
    const s = this.sessions.get(sid);
    return s ? s.max : 0;
  }

  /** The id of the oldest stored message shown (for paging back), if any. */
  oldestId(): string | undefined {
    let best: Item | undefined;
    for (const it of this.items) {
      if (!it.id || it.seq === undefined) continue;
      if (!best || this.compare(it, best) < 0) best = it;
    }
    return best ? best.id : undefined;
  }

  /** How many of the agent's messages in session `sid` have a seq above `seq` (unread counts). */
  agentAfter(sid: string, seq: number): number {
    let n = 0;
    const set = this.agentSeqs.get(sid);
    if (set) set.forEach((q) => (n += q > seq ? 1 : 0));
    return n;
  }

  /** Adds a received ChatMessage; false when it was a duplicate (or not a message). */
  addIncoming(m: ChatMessage, live: boolean): boolean {
    if (!m || typeof m.id !== "string" || m.id === "" || m.type === "writing") return false;
    if (this.byId.has(m.id)) return false;
    const side: Side = m.calltype === "in" ? "me" : m.calltype === "out" ? "agent" : "system";
    const sid = typeof m.agentserviceid === "string" ? m.agentserviceid : "";
    const seq = typeof m.seq === "number" ? m.seq : undefined;
    const createtime = typeof m.createtime === "string" ? m.createtime : new Date().toISOString();
    if (side === "me" && m.clientid) {
      const mine = this.byClient.get(m.clientid);
      if (mine) {
        this.confirm(mine, m.id, seq, createtime, sid);
        if (m.url) mine.url = m.url;
        this.draw(mine);
        this.place();
        return true;
      }
    }
    const item: Item = {
      key: "id:" + m.id,
      id: m.id,
      clientid: m.clientid,
      sid,
      seq,
      side,
      who: side === "agent" ? this.opts.agentName(m) : "",
      text: typeof m.message === "string" ? m.message : "",
      msgtype: m.msgtype === "image" || m.msgtype === "file" ? m.msgtype : "text",
      url: m.url,
      filename: m.filename,
      filesize: m.filesize,
      createtime,
      state: "sent",
      order: this.counter++,
    };
    this.items.push(item);
    this.byId.set(m.id, item);
    if (m.clientid && side === "me") this.byClient.set(m.clientid, item);
    if (side === "agent" && seq !== undefined) {
      const set = this.agentSeqs.get(sid) || new Set<number>();
      set.add(seq);
      this.agentSeqs.set(sid, set);
    }
    this.noteSession(sid, createtime, seq);
    this.draw(item);
    this.place();
    if (this.opts.onAdded) this.opts.onAdded(item, live);
    return true;
  }

  /** One of our sends, shown before its acknowledgement. */
  addPending(p: { sid: string; clientid: string; text: string; msgtype: string; filename?: string; filesize?: number }): Item {
    const item: Item = {
      key: "c:" + p.clientid,
      clientid: p.clientid,
      sid: p.sid,
      side: "me",
      who: "",
      text: p.text,
      msgtype: p.msgtype,
      filename: p.filename,
      filesize: p.filesize,
      createtime: new Date().toISOString(),
      state: "sending",
      order: this.counter++,
    };
    this.items.push(item);
    this.byClient.set(p.clientid, item);
    if (p.sid) this.noteSession(p.sid, item.createtime);
    this.draw(item);
    this.place(true);
    if (this.opts.onAdded) this.opts.onAdded(item, true);
    return item;
  }

  /** A local note (not stored on the server), e.g. "the chat has ended". */
  addNote(sid: string, text: string): void {
    const item: Item = {
      key: "n:" + this.counter,
      sid,
      side: "system",
      who: "",
      text,
      msgtype: "text",
      createtime: new Date().toISOString(),
      state: "sent",
      order: this.counter++,
    };
    this.items.push(item);
    if (sid) this.noteSession(sid, item.createtime);
    this.draw(item);
    this.place(true);
  }

  setSid(item: Item, sid: string): void {
    item.sid = sid;
    this.noteSession(sid, item.createtime);
  }

  update(item: Item, patch: Partial<Pick<Item, "state" | "error" | "uploading" | "url" | "retry" | "filename" | "filesize">>): void {
    Object.assign(item, patch);
    this.draw(item);
  }

  /** Applies an ok acknowledgement {id, seq, createtime}. */
  acked(item: Item, ack: { id: string; seq?: number; createtime?: string }): void {
    const other = this.byId.get(ack.id);
    if (other && other !== item) {
      // the echo got here first under another entry: keep that one
      this.remove(item);
      return;
    }
    this.confirm(item, ack.id, ack.seq, ack.createtime || item.createtime, item.sid);
    this.draw(item);
    this.place();
  }

  fail(item: Item, error: string, retry: () => void): void {
    if (item.state === "sent") return;
    item.state = "failed";
    item.error = error;
    item.uploading = false;
    item.retry = retry;
    this.draw(item);
  }

  /** Redraws everything (e.g. after the language or the agent's name changed). */
  redrawAll(): void {
    for (const it of this.items) this.draw(it);
  }

  private confirm(item: Item, id: string, seq: number | undefined, createtime: string, sid: string): void {
    item.id = id;
    if (typeof seq === "number") item.seq = seq;
    item.createtime = createtime;
    if (sid) item.sid = sid;
    item.state = "sent";
    item.error = undefined;
    item.uploading = false;
    item.retry = undefined;
    this.byId.set(id, item);
    this.noteSession(item.sid, createtime, item.seq);
  }

  private remove(item: Item): void {
    this.items = this.items.filter((x) => x !== item);
    if (item.clientid && this.byClient.get(item.clientid) === item) this.byClient.delete(item.clientid);
    if (item.node) item.node.remove();
  }

  private noteSession(sid: string, createtime: string, seq?: number): void {
    let s = this.sessions.get(sid);
    if (!s) {
      s = { start: createtime, seqs: new Set(), max: 0 };
      this.sessions.set(sid, s);
    } else if (createtime < s.start) {
      s.start = createtime;
    }
    if (seq === undefined) return;
    s.seqs.add(seq);
    if (seq > s.max) s.max = seq;
    const sess = s;
    if (sid && this.firstMissing(sess) !== null && sess.gapTimer === undefined) {
      sess.gapTimer = window.setTimeout(() => {
        sess.gapTimer = undefined;
        const missing = this.firstMissing(sess);
        if (missing !== null && sess.gapAsked !== missing) {
          sess.gapAsked = missing;
          this.opts.onGap(sid, missing - 1);
        }
      }, 1000);
    }
  }

  /** The first missing seq below the highest seen, only for sessions we saw from seq 1 (history may start mid-session). */
  private firstMissing(s: Sess): number | null {
    let min = Infinity;
    s.seqs.forEach((q) => {
      if (q < min) min = q;
    });
    for (let i = min + 1; i < s.max; i++) if (!s.seqs.has(i)) return i;
    return null;
  }

  private compare(a: Item, b: Item): number {
    const sa = this.sessions.get(a.sid);
    const sb = this.sessions.get(b.sid);
    // Messages not yet in a session (sent before `new` answered) go last.
    const ka = a.sid && sa ? sa.start : "\uffff";
    const kb = b.sid && sb ? sb.start : "\uffff";
    if (a.sid !== b.sid) {
      if (ka !== kb) return ka < kb ? -1 : 1;
      return a.sid < b.sid ? -1 : 1;
    }
    const qa = a.seq === undefined ? Infinity : a.seq;
    const qb = b.seq === undefined ? Infinity : b.seq;
    if (qa !== qb) return qa < qb ? -1 : 1;
    return a.order - b.order;
  }

  /** Puts every item's node in order, keeping the view at the bottom when it was there. */
  private place(forceBottom = false): void {
    const box = this.box();
    const sorted = this.items.slice().sort((a, b) => this.compare(a, b));
    let ref: ChildNode | null = this.list.firstChild;
    for (const it of sorted) {
      const node = it.node as HTMLLIElement;
      if (node === ref) ref = node.nextSibling;
      else this.list.insertBefore(node, ref);
    }
    if (this.stick || forceBottom) {
      box.scrollTop = box.scrollHeight;
      this.stick = true;
    }
  }

  private draw(it: Item): void {
    const t = this.opts.t();
    const li = it.node || document.createElement("li");
    it.node = li;
    li.className = `msg ${it.side} ${it.state}${it.msgtype !== "text" ? " " + it.msgtype : ""}`;
    if (it.id) li.setAttribute("data-id", it.id);
    li.textContent = "";
    if (it.side === "system") {
      li.appendChild(h("p", { class: "note", text: it.text }));
      return;
    }
    if (it.side === "agent") {
      const av = this.opts.avatar && this.opts.avatar();
      const avatar = h("span", { class: "avatar", "aria-hidden": "true" });
      if (av) avatar.appendChild(h("img", { src: av, alt: "" }));
      else avatar.textContent = (it.who || t.agent).trim().charAt(0).toUpperCase() || "?";
      li.appendChild(avatar);
    }
    const bubble = h("div", { class: "bubble" });
    if (it.side === "agent") bubble.appendChild(h("span", { class: "who", text: it.who || t.agent }));
    const body = h("div", { class: "body" });
    const href = safeURL(it.url);
    const name = it.filename || it.text || (it.msgtype === "image" ? t.image : t.file);
    if (it.msgtype === "image" && href) {
      const a = h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "image-link", title: name });
      const img = h("img", { src: href, alt: name });
      img.addEventListener("load", () => this.follow());
      a.appendChild(img);
      body.appendChild(a);
    } else if (it.msgtype !== "text") {
      const box = href
        ? h("a", { href, target: "_blank", rel: "noopener noreferrer", download: it.filename || "", class: "file-link" })
        : h("span", { class: "file-link" });
      box.appendChild(icon("file", 22));
      const label = h("span", { class: "file-label" });
      label.appendChild(h("span", { class: "file-name", text: name }));
      const size = formatSize(it.filesize);
      if (size) label.appendChild(h("span", { class: "file-size", text: size }));
      box.appendChild(label);
      body.appendChild(box);
    } else {
      const p = h("p", { class: "text" });
      appendLinkified(p, it.text);
      body.appendChild(p);
    }
    bubble.appendChild(body);
    const meta = h("div", { class: "meta" });
    meta.appendChild(h("time", { text: formatTime(it.createtime), datetime: it.createtime }));
    if (it.side === "me") {
      if (it.state === "sending") meta.appendChild(h("span", { class: "state", text: it.uploading ? t.uploading : t.sending }));
      else if (it.state === "failed") {
        meta.appendChild(h("span", { class: "state", role: "alert", text: t.failed + (it.error ? ": " + it.error : "") }));
        if (it.retry) {
          const retry = h("button", { type: "button", class: "retry", text: t.retry });
          const fn = it.retry;
          retry.addEventListener("click", () => fn());
          meta.appendChild(retry);
        }
      } else meta.appendChild(h("span", { class: "state sr-only", text: t.sent }));
    }
    bubble.appendChild(meta);
    li.appendChild(bubble);
  }
}
