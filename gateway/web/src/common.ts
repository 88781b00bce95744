// Shared helpers for the front-end pages. Every piece of server or user text is put into
// the page with textContent (or as an attribute value), never parsed as HTML.

import type io from "socket.io-client";
import { safeURL } from "./widget/dom";

export type Socket = io.Socket;

export interface ApiErrorBody {
  code: string;
  message: string;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ApiErrorBody };

export interface ChatMessage {
  id: string;
  seq: number;
  clientid?: string;
  agentserviceid: string;
  usession?: string;
  type: string; // "message" | "writing"
  msgtype: string; // "text" | "image" | "file"
  calltype: string; // "in" | "out" | "system"
  message: string;
  attachmentid?: string;
  filename?: string;
  filesize?: number;
  url?: string;
  userid?: string;
  username?: string;
  nickName?: string;
  touser?: string;
  appid?: string;
  createtime?: string;
  /** A supervisor wrote it into the chat (userid/nickName are the supervisor's). */
  intervened?: boolean;
}

/** A supervisor's whisper to a chat's agent (never shown to the visitor). */
export interface Note {
  id: string;
  agentserviceid: string;
  userid?: string;
  nickName?: string;
  message: string;
  createtime?: string;
}

export interface SessionSummary {
  agentserviceid: string;
  userid: string;
  appid?: string;
  nickname?: string;
  name?: string;
  phone?: string;
  email?: string;
  skill?: string;
  agentno?: string;
  status?: string;
  createtime?: string;
  title?: string;
  url?: string;
  osname?: string;
  browser?: string;
  ip?: string;
  transmemo?: string;
  /** The visitor's question from the pre-chat form. */
  memo?: string;
}

/** A stored attachment, as both upload endpoints answer (protocol.Upload). */
export interface Upload {
  attachmentid: string;
  url: string;
  filename: string;
  filesize: number;
  mime: string;
}

/** How long to wait for an acknowledgement before showing the message as failed. */
export const ACK_TIMEOUT_MS = 15000;

// ---------------------------------------------------------------- DOM

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error("missing #" + id);
  return node as T;
}

/** Creates an element; `text` is set with textContent. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function show(node: HTMLElement, visible: boolean): void {
  node.hidden = !visible;
}

/** Shows `text` in an error line, or hides the line when text is empty. */
export function setError(node: HTMLElement, text: string): void {
  node.textContent = text;
  node.hidden = text === "";
}

export function formatTime(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// ---------------------------------------------------------------- misc

/** 128 random bits as hex; crypto.getRandomValues works outside secure contexts too. */
export function randomId(): string {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  let s = "";
  for (let i = 0; i < b.length; i++) s += b[i].toString(16).padStart(2, "0");
  return s;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.code ? `${e.message} (${e.code})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

export function ackErrorText(err?: ApiErrorBody): string {
  if (!err) return "request failed";
  return err.code ? `${err.message || "request failed"} (${err.code})` : err.message || "request failed";
}

export function storageGet(store: Storage | undefined, key: string): string | null {
  try {
    return store ? store.getItem(key) : null;
  } catch {
    return null;
  }
}

export function storageSet(store: Storage | undefined, key: string, value: string | null): void {
  try {
    if (!store) return;
    if (value === null) store.removeItem(key);
    else store.setItem(key, value);
  } catch {
    // storage disabled: the page still works, it just forgets on reload
  }
}

/**
 * Emits `event` and resolves with the server's acknowledgement, or rejects after `timeoutMs`.
 * A late acknowledgement is still passed to `late` (if given).
 */
export function emitAck<T>(
  socket: Socket,
  event: string,
  payload: unknown,
  timeoutMs = ACK_TIMEOUT_MS,
  late?: (ack: Ack<T>) => void,
): Promise<Ack<T>> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error("no answer from the server"));
    }, timeoutMs);
    socket.emit(event, payload, (ack: Ack<T>) => {
      if (done) {
        if (late) late(normalizeAck(ack));
        return;
      }
      done = true;
      clearTimeout(timer);
      resolve(normalizeAck(ack));
    });
  });
}

function normalizeAck<T>(ack: unknown): Ack<T> {
  if (ack && typeof ack === "object" && "ok" in ack) return ack as Ack<T>;
  return { ok: false, error: { code: "internal", message: "malformed acknowledgement" } };
}

/**
 * Calls `fn` at most once per `ms`: the first call runs at once, later calls within the window
 * collapse into one trailing run (so the latest state always goes out).
 */
export class Throttle {
  private last = 0;
  private timer: number | undefined;
  constructor(private ms: number, private fn: () => void) {}
  call(): void {
    const wait = this.last + this.ms - Date.now();
    if (wait <= 0) {
      this.run();
    } else if (this.timer === undefined) {
      this.timer = window.setTimeout(() => this.run(), wait);
    }
  }
  cancel(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
  private run(): void {
    this.cancel();
    this.last = Date.now();
    this.fn();
  }
}

// ---------------------------------------------------------------- REST

export class ApiError extends Error {
  constructor(public status: number, public code: string, message: string) {
    super(message);
  }
}

/** fetch() with JSON in and out; non-2xx answers throw ApiError with the server's {error:{code,message}}. */
export async function requestJSON<T>(method: string, url: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = "Bearer " + token;
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "unavailable", "cannot reach the server");
  }
  let data: any = null;
  const raw = await res.text();
  if (raw) {
    try {
      data = JSON.parse(raw);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const err = data && data.error;
    const code = err && typeof err.code === "string" ? err.code : "";
    const message = err && typeof err.message === "string" ? err.message : `HTTP ${res.status}`;
    throw new ApiError(res.status, code, message);
  }
  return data as T;
}

// ---------------------------------------------------------------- visitor wire types

/** A visitor identity from POST /im/{appid}/visitor. */
export interface Identity {
  userid: string;
  sign: string;
}

/** The `status` event to a visitor. */
export interface StatusEvent {
  state?: string;
  messageType?: string;
  message?: string;
  agentserviceid?: string;
  agentno?: string;
  nickName?: string;
  num?: number;
}

// ---------------------------------------------------------------- chat log

export type Side = "me" | "peer" | "system";
export type SendState = "sending" | "sent" | "failed";

export interface Entry {
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
  createtime?: string;
  state: SendState;
  error?: string;
  order: number;
  payload?: Record<string, unknown>; // what was emitted, for a retry
  node?: HTMLLIElement;
  /** "intervened": a supervisor's message; "whisper": a supervisor's note to the agent. */
  flag?: "intervened" | "whisper";
}

export interface ChatLogOptions {
  /** Which side a received message is shown on (calltype "in"/"out"/"system" relative to this page). */
  sideOf(m: ChatMessage): Side;
  /** Label above a message. */
  whoOf(m: ChatMessage, side: Side): string;
  /** Resend a failed message (same clientid). */
  onRetry(entry: Entry): void;
  /** Called when a hole in a session's seq numbers has lasted over 1 s; `after` is the last seq before it. */
  onGap?(sid: string, after: number): void;
  /** Draws an entry into its (emptied) node instead of the plain default bubble. */
  draw?(entry: Entry, li: HTMLLIElement): void;
}

interface SessionSeqs {
  index: number;
  seqs: Set<number>;
  max: number;
  gapTimer?: number;
  gapAsked?: number;
}

/**
 * The messages of one conversation view: deduplicated by id (and by clientid for our own sends),
 * ordered by session (first seen) then seq; unacknowledged sends go last in the order typed.
 */
export class ChatLog {
  private entries: Entry[] = [];
  private byId = new Map<string, Entry>();
  private byClientId = new Map<string, Entry>();
  private sessions = new Map<string, SessionSeqs>();
  private counter = 0;

  constructor(public readonly container: HTMLElement, private opts: ChatLogOptions) {}

  /** Highest seq seen in session `sid` (0 if none). */
  maxSeq(sid: string | undefined): number {
    const s = sid ? this.sessions.get(sid) : undefined;
    return s ? s.max : 0;
  }

  /** Adds a received ChatMessage; returns false if it was a duplicate. */
  addIncoming(m: ChatMessage): boolean {
    if (!m || typeof m.id !== "string") return false;
    const existing = this.byId.get(m.id);
    if (existing) return false;
    const side = this.opts.sideOf(m);
    const sid = m.agentserviceid || "";
    const seq = typeof m.seq === "number" ? m.seq : undefined;
    // Our own echo: merge into the pending entry with the same clientid.
    if (m.clientid && side === "me") {
      const mine = this.byClientId.get(m.clientid);
      if (mine) {
        mine.id = m.id;
        mine.seq = seq;
        mine.sid = sid || mine.sid;
        mine.createtime = m.createtime || mine.createtime;
        mine.state = "sent";
        mine.error = undefined;
        this.byId.set(m.id, mine);
        this.noteSeq(mine.sid, seq);
        this.render(mine);
        return true;
      }
    }
    const entry: Entry = {
      key: "id:" + m.id,
      id: m.id,
      clientid: m.clientid,
      sid,
      seq,
      side,
      who: this.opts.whoOf(m, side),
      text: typeof m.message === "string" ? m.message : "",
      msgtype: m.msgtype || "text",
      url: m.url,
      filename: m.filename,
      createtime: m.createtime,
      state: "sent",
      order: this.counter++,
      flag: m.intervened ? "intervened" : undefined,
    };
    this.entries.push(entry);
    this.byId.set(m.id, entry);
    if (m.clientid && side === "me") this.byClientId.set(m.clientid, entry);
    this.noteSeq(sid, seq);
    this.render(entry);
    return true;
  }

  /**
   * Adds a whisper, placed after the session's message `afterSeq` (it has no seq of its own);
   * returns false if it was there already.
   */
  addNote(n: Note, afterSeq: number): boolean {
    if (!n || typeof n.id !== "string" || this.byId.has("note:" + n.id)) return false;
    const entry: Entry = {
      key: "note:" + n.id,
      id: "note:" + n.id,
      sid: n.agentserviceid,
      seq: afterSeq + 0.5,
      side: "system",
      who: typeof n.nickName === "string" ? n.nickName : "",
      text: typeof n.message === "string" ? n.message : "",
      msgtype: "text",
      createtime: n.createtime,
      state: "sent",
      order: this.counter++,
      flag: "whisper",
    };
    this.entries.push(entry);
    this.byId.set(entry.id!, entry);
    this.touchSession(entry.sid);
    this.render(entry);
    return true;
  }

  /** Shows one of our sends before its acknowledgement. */
  addPending(sid: string, who: string, text: string, payload: Record<string, unknown> & { clientid: string }): Entry {
    const entry: Entry = {
      key: "c:" + payload.clientid,
      clientid: payload.clientid,
      sid,
      side: "me",
      who,
      text,
      msgtype: "text",
      createtime: new Date().toISOString(),
      state: "sending",
      order: this.counter++,
      payload,
    };
    this.entries.push(entry);
    this.byClientId.set(payload.clientid, entry);
    this.touchSession(sid);
    this.render(entry, true);
    return entry;
  }

  setSending(entry: Entry): void {
    entry.state = "sending";
    entry.error = undefined;
    this.render(entry);
  }

  /** Applies the acknowledgement of a send ({ok,id,seq,createtime} or an error). */
  applyAck(entry: Entry, ack: Ack<{ id: string; seq: number; createtime?: string }>): void {
    if (!ack.ok) {
      this.fail(entry, ackErrorText(ack.error));
      return;
    }
    const other = this.byId.get(ack.id);
    if (other && other !== entry) {
      // The echo arrived first without a matching clientid: keep that one.
      this.remove(entry);
      return;
    }
    entry.id = ack.id;
    if (typeof ack.seq === "number") entry.seq = ack.seq;
    if (ack.createtime) entry.createtime = ack.createtime;
    entry.state = "sent";
    entry.error = undefined;
    this.byId.set(ack.id, entry);
    this.noteSeq(entry.sid, entry.seq);
    this.render(entry);
  }

  fail(entry: Entry, error: string): void {
    if (entry.state === "sent") return;
    entry.state = "failed";
    entry.error = error;
    this.render(entry);
  }

  private remove(entry: Entry): void {
    this.entries = this.entries.filter((e) => e !== entry);
    if (entry.clientid && this.byClientId.get(entry.clientid) === entry) this.byClientId.delete(entry.clientid);
    if (entry.node) entry.node.remove();
  }

  private touchSession(sid: string): SessionSeqs {
    let s = this.sessions.get(sid);
    if (!s) {
      s = { index: this.sessions.size, seqs: new Set(), max: 0 };
      this.sessions.set(sid, s);
    }
    return s;
  }

  private noteSeq(sid: string, seq?: number): void {
    const s = this.touchSession(sid);
    if (seq === undefined) return;
    s.seqs.add(seq);
    if (seq > s.max) s.max = seq;
    if (this.opts.onGap && this.firstMissing(s) !== null && s.gapTimer === undefined) {
      s.gapTimer = window.setTimeout(() => {
        s.gapTimer = undefined;
        const missing = this.firstMissing(s);
        if (missing !== null && s.gapAsked !== missing && this.opts.onGap) {
          s.gapAsked = missing; // ask once per hole; a later message re-arms the check
          this.opts.onGap(sid, missing - 1);
        }
      }, 1000);
    }
  }

  private firstMissing(s: SessionSeqs): number | null {
    for (let i = 1; i < s.max; i++) if (!s.seqs.has(i)) return i;
    return null;
  }

  private sortKey(a: Entry, b: Entry): number {
    const sa = this.touchSession(a.sid).index;
    const sb = this.touchSession(b.sid).index;
    if (sa !== sb) return sa - sb;
    const qa = a.seq === undefined ? Infinity : a.seq;
    const qb = b.seq === undefined ? Infinity : b.seq;
    if (qa !== qb) return qa < qb ? -1 : 1;
    return a.order - b.order;
  }

  /** (Re)draws `changed` and puts every entry's node in order. */
  private render(changed: Entry, forceScroll = false): void {
    const box = this.container;
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 48;
    this.draw(changed);
    const sorted = this.entries.slice().sort((a, b) => this.sortKey(a, b));
    let ref: ChildNode | null = box.firstChild;
    for (const e of sorted) {
      const node = e.node as HTMLLIElement;
      if (node === ref) {
        ref = node.nextSibling;
      } else {
        box.insertBefore(node, ref);
      }
    }
    if (atBottom || forceScroll) box.scrollTop = box.scrollHeight;
  }

  private draw(e: Entry): void {
    const li = e.node || el("li");
    e.node = li;
    li.className = `msg ${e.side} ${e.state}`;
    li.textContent = "";
    if (this.opts.draw) return this.opts.draw(e, li);
    const bubble = el("div", "bubble");
    if (e.side !== "system" && e.who) bubble.appendChild(el("span", "who", e.who));
    const body = el("p", "text");
    if (e.msgtype !== "text") {
      const label = `[${e.msgtype}] ${e.filename || e.text || ""}`.trim();
      const href = safeURL(e.url);
      if (href) {
        const a = el("a", "", label);
        a.href = href;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        body.appendChild(a);
      } else {
        body.textContent = label;
      }
      if (e.text && e.filename) body.appendChild(el("span", "caption", " " + e.text));
    } else {
      body.textContent = e.text;
    }
    bubble.appendChild(body);
    const meta = el("span", "meta");
    const parts = [formatTime(e.createtime)];
    if (e.side === "me") {
      if (e.state === "sending") parts.push("sending…");
      else if (e.state === "sent") parts.push("sent");
      else parts.push("failed" + (e.error ? ": " + e.error : ""));
    }
    meta.textContent = parts.filter(Boolean).join(" · ");
    bubble.appendChild(meta);
    if (e.state === "failed" && e.payload) {
      const retry = el("button", "retry", "Retry");
      retry.type = "button";
      retry.addEventListener("click", () => this.opts.onRetry(e));
      bubble.appendChild(retry);
    }
    li.appendChild(bubble);
  }
}

/**
 * Emits a chat message for `entry` (payload includes its clientid) and applies the ack.
 * Used for the first send and for retries: a retry reuses the same clientid, so the
 * server answers with the first ack and stores nothing new.
 */
export function sendEntry(socket: Socket, log: ChatLog, entry: Entry): void {
  log.setSending(entry);
  type MsgAck = Ack<{ id: string; seq: number; createtime?: string }>;
  const late = (ack: MsgAck) => log.applyAck(entry, ack);
  emitAck<{ id: string; seq: number; createtime?: string }>(socket, "message", entry.payload, ACK_TIMEOUT_MS, late).then(
    (ack) => log.applyAck(entry, ack),
    (err) => log.fail(entry, errorText(err)),
  );
}
