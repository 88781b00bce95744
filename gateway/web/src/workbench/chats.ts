// The conversation list and the chat pane: sessions in service (and those ended, until
// cleared), unread counts kept in step with the agent's other tabs (POST /sessions/{id}/read and
// the `read` event), history paging, the visitor's live draft, sending with retry (same
// clientid), pictures and files, and the `#` canned-reply search in the composer.

import {
  $,
  ChatLog,
  ChatMessage,
  Entry,
  Note,
  SessionSummary,
  Throttle,
  errorText,
  randomId,
  sendEntry,
  storageGet,
  storageSet,
} from "../common";
import { formatTime, h } from "../widget/dom";
import { CannedSuggest, createCanned } from "./canned";
import { addNotes, messageLog } from "./messages";
import { App, sessionPath, str } from "./ui";
import { VisitorPanel, createVisitorPanel } from "./visitor";

const PAGE = 30; // messages per history page
const DRAFT_TTL_MS = 10000; // a live draft with no update for this long is hidden
const TYPING_TTL_MS = 3000; // "typing…" when the site hides the draft's text
const ENDED_SHOWN_MS = 12 * 3600 * 1000; // ended chats come back on reload for this long, unless cleared

// "Clear ended" is kept per agent and browser: ended chats up to then stay cleared across reloads.
function clearedKey(agentID: string): string {
  return "kefu:workbench:ended-cleared:" + agentID;
}

interface Summary extends SessionSummary {
  readseq?: number;
  unread?: number;
  endtime?: string; // listed because it ended recently (GET /agent/sessions?ended=)
  last?: ChatMessage; // its latest message, for the preview
  trans?: boolean;
  transfrom?: string;
}

export interface Conv {
  s: Summary;
  log: ChatLog;
  logEl: HTMLOListElement;
  item: HTMLLIElement;
  ended: boolean;
  loaded: boolean;
  more: boolean; // earlier messages may exist
  oldest: number; // lowest seq loaded
  unread: number;
  readseq: number;
  draft: string | null; // the visitor's live draft; "" = typing only
  draftTimer?: number;
  compose: string;
  last: string; // preview of the latest message
  lastAt: string;
  notes: Note[]; // supervisors' whispers, placed as their messages load
}

export interface Chats {
  refresh(): Promise<void>;
  reset(): void;
  relabel(): void;
  totalUnread(): number;
  setVisible(visible: boolean): void;
  onNew(s: Summary): void;
  onMessage(m: ChatMessage): void;
  onEnd(s: Summary): void;
  onTransout(s: Summary): void;
  onRead(r: { agentserviceid?: string; readseq?: number; unread?: number }): void;
  onWhisper(n: Note): void;
}

export function createChats(app: App, hooks: { onUnread(): void; showChats(): void }): Chats {
  const list = $<HTMLUListElement>("conv-list");
  const listEmpty = $("conv-empty");
  const head = $("chat-head");
  const nameLine = $("chat-name");
  const metaLine = $("chat-meta");
  const memoLine = $("chat-memo");
  const questionLine = $("chat-question");
  const chatEmpty = $("chat-empty");
  const scroll = $("chat-scroll");
  const logs = $("chat-logs");
  const earlier = $<HTMLButtonElement>("load-earlier");
  const draftLine = $("draft-line");
  const endedLine = $("chat-ended");
  const composer = $<HTMLFormElement>("composer");
  const text = $<HTMLTextAreaElement>("composer-text");
  const sendHint = $("send-hint");
  const fileInput = $<HTMLInputElement>("file-input");
  const convs = new Map<string, Conv>();
  let selected: Conv | null = null;
  let visible = true;
  const t = () => app.t();

  const visitor: VisitorPanel = createVisitorPanel(app, {
    current: () => selected,
    ended: (sid) => {
      const c = convs.get(sid);
      if (c) markEnded(c);
    },
  });
  const canned: CannedSuggest = createCanned(app, text);

  // ------------------------------------------------------------ list

  function nameOf(s: Summary): string {
    return str(s.nickname) || str(s.name) || t().visitor + " " + str(s.userid).slice(0, 6);
  }

  function upsert(s: Summary): Conv {
    let c = convs.get(s.agentserviceid);
    if (c) {
      c.s = { ...c.s, ...s };
      return c;
    }
    const logEl = h("ol", { class: "log", "data-sid": s.agentserviceid, hidden: true });
    logs.appendChild(logEl);
    const item = h("li", { class: "conv", "data-sid": s.agentserviceid });
    const conv: Conv = {
      s,
      logEl,
      item,
      log: messageLog(logEl, {
        t,
        visitorName: () => nameOf(conv.s),
        onRetry: (e) => retry(conv, e),
        onGap: (after) => void fetchAfter(conv, after),
      }),
      ended: false,
      loaded: false,
      more: true,
      oldest: 0,
      unread: typeof s.unread === "number" ? s.unread : 0,
      readseq: typeof s.readseq === "number" ? s.readseq : 0,
      draft: null,
      compose: "",
      last: "",
      lastAt: str(s.createtime),
      notes: [],
    };
    item.addEventListener("click", () => select(conv));
    convs.set(s.agentserviceid, conv);
    return conv;
  }

  function renderItem(c: Conv): void {
    const li = c.item;
    li.textContent = "";
    li.className = "conv" + (c === selected ? " selected" : "") + (c.ended ? " ended" : "") + (c.unread > 0 ? " has-unread" : "");
    li.setAttribute("aria-current", c === selected ? "true" : "false");
    const btn = h("button", { type: "button", class: "conv-button" });
    const top = h("span", { class: "conv-top" });
    top.appendChild(h("span", { class: "avatar", "aria-hidden": "true", text: nameOf(c.s).charAt(0).toUpperCase() || "?" }));
    top.appendChild(h("span", { class: "conv-name", text: nameOf(c.s) }));
    top.appendChild(h("time", { class: "conv-time", text: formatTime(c.lastAt) }));
    btn.appendChild(top);
    const bottom = h("span", { class: "conv-bottom" });
    const preview = c.draft ? t().typing : c.last || str(c.s.title) || str(c.s.url);
    bottom.appendChild(h("span", { class: "conv-preview", text: preview }));
    if (c.ended) bottom.appendChild(h("span", { class: "tag-ended", text: t().ended }));
    if (c.unread > 0) bottom.appendChild(h("span", { class: "unread-badge", text: c.unread > 99 ? "99+" : String(c.unread), title: t().unread(c.unread) }));
    btn.appendChild(bottom);
    li.appendChild(btn);
  }

  function renderList(): void {
    const sorted = Array.from(convs.values()).sort((a, b) => {
      if (!!a.ended !== !!b.ended) return a.ended ? 1 : -1;
      return a.lastAt < b.lastAt ? 1 : a.lastAt > b.lastAt ? -1 : 0;
    });
    let ref: ChildNode | null = list.firstChild;
    for (const c of sorted) {
      if (c.item === ref) ref = c.item.nextSibling;
      else list.insertBefore(c.item, ref);
    }
    listEmpty.hidden = convs.size > 0;
    hooks.onUnread();
  }

  function drop(c: Conv): void {
    clearDraft(c);
    c.item.remove();
    c.logEl.remove();
    convs.delete(c.s.agentserviceid);
    if (selected === c) {
      selected = null;
      renderPane();
    }
    renderList();
  }

  $("clear-ended").addEventListener("click", () => {
    storageSet(window.localStorage, clearedKey(app.me().id), new Date().toISOString());
    for (const c of Array.from(convs.values())) if (c.ended) drop(c);
  });

  /** Ended chats are listed from the later of the last "Clear ended" and a shift ago. */
  function endedSince(): string {
    const floor = new Date(Date.now() - ENDED_SHOWN_MS).toISOString();
    const cleared = storageGet(window.localStorage, clearedKey(app.me().id)) || "";
    return cleared > floor ? cleared : floor;
  }

  /** From a notification: the chats tab, this conversation (if still listed). */
  function open(c: Conv): void {
    hooks.showChats();
    if (convs.get(c.s.agentserviceid) === c) select(c);
  }

  // Alt+↑ / Alt+↓ move through the list, wherever the focus is.
  document.addEventListener("keydown", (ev) => {
    if (!ev.altKey || (ev.key !== "ArrowUp" && ev.key !== "ArrowDown") || list.offsetParent === null) return;
    const items = Array.from(list.children) as HTMLElement[];
    const order = items.map((li) => convs.get(li.getAttribute("data-sid") || "")).filter((c): c is Conv => !!c);
    if (order.length === 0) return;
    ev.preventDefault();
    const at = selected ? order.indexOf(selected) : -1;
    const next = ev.key === "ArrowDown" ? Math.min(order.length - 1, at + 1) : Math.max(0, at < 0 ? 0 : at - 1);
    select(order[next]);
  });

  // ------------------------------------------------------------ the chat pane

  function select(c: Conv): void {
    if (selected && selected !== c) {
      selected.compose = text.value;
      writing.cancel();
    }
    const prev = selected;
    selected = c;
    if (prev && prev !== c) renderItem(prev);
    text.value = c.compose;
    renderPane();
    renderItem(c);
    if (!c.loaded) void loadLatest(c);
    else markRead(c);
    visitor.show(c);
    if (!c.ended) text.focus();
  }

  function renderPane(): void {
    const c = selected;
    renderHint();
    for (const x of convs.values()) x.logEl.hidden = x !== c;
    head.hidden = scroll.hidden = !c;
    chatEmpty.hidden = !!c;
    composer.hidden = !c || !!c.ended;
    endedLine.hidden = !c || !c.ended;
    if (!c) {
      memoLine.hidden = true;
      questionLine.hidden = true;
      draftLine.hidden = true;
      visitor.show(null);
      return;
    }
    nameLine.textContent = nameOf(c.s);
    metaLine.textContent = [str(c.s.title) || str(c.s.url), str(c.s.osname), str(c.s.browser), c.s.trans && c.s.transfrom ? t().transferredFrom(str(c.s.transfrom)) : ""]
      .filter(Boolean)
      .join(" · ");
    memoLine.textContent = c.s.transmemo ? t().memo + str(c.s.transmemo) : "";
    memoLine.hidden = !c.s.transmemo;
    questionLine.textContent = c.s.memo ? t().question + str(c.s.memo) : "";
    questionLine.hidden = !c.s.memo;
    earlier.hidden = !c.loaded || !c.more || c.oldest <= 1;
    head.querySelectorAll<HTMLButtonElement>(".chat-actions button").forEach((b) => (b.disabled = !!c.ended));
    renderDraft();
  }

  function renderHint(): void {
    const ctrl = app.prefs().sendKey === "ctrl";
    text.placeholder = t().replyPlaceholder(ctrl);
    sendHint.textContent = ctrl ? "Ctrl+Enter ↵" : "Enter ↵";
  }

  // ------------------------------------------------------------ messages

  function addMessages(c: Conv, ms: ChatMessage[]): void {
    for (const m of ms) {
      if (!m || m.type === "writing") continue;
      c.log.addIncoming(m);
      if (typeof m.seq === "number" && (c.oldest === 0 || m.seq < c.oldest)) c.oldest = m.seq;
      if (!c.lastAt || str(m.createtime) >= c.lastAt) {
        c.last = preview(m);
        c.lastAt = str(m.createtime) || c.lastAt;
      }
    }
  }

  function preview(m: ChatMessage): string {
    if (m.msgtype === "image") return "[" + t().image + "]";
    if (m.msgtype === "file") return "[" + t().file + "] " + str(m.filename);
    return str(m.message);
  }

  async function loadLatest(c: Conv): Promise<void> {
    try {
      const [ms, notes] = await Promise.all([
        app.api<ChatMessage[]>("GET", sessionPath(c.s.agentserviceid) + "/messages?limit=" + PAGE),
        app.api<Note[]>("GET", sessionPath(c.s.agentserviceid) + "/notes").catch(() => [] as Note[]),
      ]);
      const arr = Array.isArray(ms) ? ms : [];
      addMessages(c, arr);
      c.notes = Array.isArray(notes) ? notes : [];
      addNotes(c.log, c.notes, arr, true);
      c.loaded = true;
      c.more = arr.length >= PAGE;
      renderItem(c);
      if (c === selected) {
        renderPane();
        c.logEl.parentElement!.scrollTop = c.logEl.parentElement!.scrollHeight;
        markRead(c);
      }
    } catch (e) {
      if (c === selected) app.toast(t().error(t().errLoad) + errorText(e), true);
    }
  }

  earlier.addEventListener("click", async () => {
    const c = selected;
    if (!c || c.oldest <= 1) return;
    earlier.disabled = true;
    const before = scroll.scrollHeight - scroll.scrollTop;
    try {
      const ms = await app.api<ChatMessage[]>("GET", `${sessionPath(c.s.agentserviceid)}/messages?before=${c.oldest}&limit=${PAGE}`);
      const arr = Array.isArray(ms) ? ms : [];
      addMessages(c, arr);
      addNotes(c.log, c.notes, arr, false);
      c.more = arr.length >= PAGE;
      scroll.scrollTop = scroll.scrollHeight - before; // keep the view where it was
    } catch (e) {
      app.toast(t().error(t().errLoad) + errorText(e), true);
    } finally {
      earlier.disabled = false;
      if (c === selected) renderPane();
    }
  });

  async function fetchAfter(c: Conv, after: number): Promise<void> {
    try {
      const ms = await app.api<ChatMessage[]>("GET", `${sessionPath(c.s.agentserviceid)}/messages?after=${after}`);
      if (Array.isArray(ms)) {
        addMessages(c, ms);
        renderItem(c);
        if (c === selected) markRead(c);
      }
    } catch {
      // the next gap check or reconnect asks again
    }
  }

  // ------------------------------------------------------------ read state

  function reading(c: Conv): boolean {
    return c === selected && visible && c.loaded;
  }

  function markRead(c: Conv): void {
    if (!reading(c)) return;
    const seq = c.log.maxSeq(c.s.agentserviceid);
    if (c.unread === 0 && seq <= c.readseq) return;
    c.unread = 0;
    c.readseq = Math.max(c.readseq, seq);
    renderItem(c);
    hooks.onUnread();
    app
      .api<{ readseq: number; unread: number }>("POST", sessionPath(c.s.agentserviceid) + "/read", { seq })
      .catch(() => undefined); // the count is corrected by the next read event or refresh
  }

  // ------------------------------------------------------------ the visitor's draft

  function setDraft(c: Conv, draft: string): void {
    c.draft = draft;
    if (c.draftTimer !== undefined) clearTimeout(c.draftTimer);
    c.draftTimer = window.setTimeout(() => clearDraft(c), draft === "" ? TYPING_TTL_MS : DRAFT_TTL_MS);
    renderItem(c);
    if (c === selected) renderDraft();
  }

  function clearDraft(c: Conv): void {
    if (c.draftTimer !== undefined) clearTimeout(c.draftTimer);
    c.draftTimer = undefined;
    if (c.draft === null) return;
    c.draft = null;
    renderItem(c);
    if (c === selected) renderDraft();
  }

  function renderDraft(): void {
    const c = selected;
    draftLine.textContent = "";
    if (!c || c.draft === null || c.ended) {
      draftLine.hidden = true;
      return;
    }
    if (c.draft === "") draftLine.appendChild(h("span", { class: "label", text: t().typing }));
    else {
      draftLine.appendChild(h("span", { class: "label", text: t().draft }));
      draftLine.appendChild(h("span", { class: "draft-text", text: c.draft }));
    }
    draftLine.hidden = false;
  }

  // ------------------------------------------------------------ sending

  const writing = new Throttle(300, () => {
    const c = selected;
    const s = app.socket();
    if (!s || !c || c.ended || text.value === "") return;
    s.emit("message", { agentserviceid: c.s.agentserviceid, type: "writing", msgtype: "text", message: "", clientid: randomId() });
  });

  text.addEventListener("input", () => {
    writing.call();
    canned.update();
  });

  text.addEventListener("keydown", (ev) => {
    if (canned.onKey(ev)) return;
    if (ev.key !== "Enter" || ev.isComposing) return;
    const ctrl = ev.ctrlKey || ev.metaKey;
    const sendNow = app.prefs().sendKey === "ctrl" ? ctrl : !ev.shiftKey && !ctrl;
    if (sendNow) {
      ev.preventDefault();
      composer.requestSubmit();
    } else if (app.prefs().sendKey === "ctrl" && !ctrl) {
      return; // a new line
    }
  });

  composer.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const c = selected;
    const s = app.socket();
    const body = text.value;
    if (!c || c.ended || body.trim() === "") return;
    writing.cancel();
    canned.close();
    const payload = { agentserviceid: c.s.agentserviceid, type: "message", msgtype: "text", message: body, clientid: randomId() };
    const entry = c.log.addPending(c.s.agentserviceid, app.me().nickname, body, payload);
    text.value = "";
    c.compose = "";
    c.last = body;
    c.lastAt = new Date().toISOString();
    renderItem(c);
    renderList();
    if (s) sendEntry(s, c.log, entry);
    else c.log.fail(entry, t().disconnected);
  });

  function retry(c: Conv, e: Entry): void {
    const s = app.socket();
    if (!e.payload) return;
    if (e.payload.uploading) return void sendFile(c, e);
    if (s) sendEntry(s, c.log, e);
  }

  $("attach").addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    const f = fileInput.files && fileInput.files[0];
    fileInput.value = "";
    if (f && selected && !selected.ended) startFile(selected, f);
  });
  text.addEventListener("paste", (ev) => {
    const items = ev.clipboardData ? ev.clipboardData.files : null;
    if (!items || items.length === 0 || !selected || selected.ended) return;
    ev.preventDefault();
    startFile(selected, items[0]);
  });

  /** Uploads a picture or file, then sends it as a message (one clientid for both steps). */
  function startFile(c: Conv, f: File): void {
    const image = /^image\//.test(f.type);
    const clientid = randomId();
    const payload: Record<string, unknown> & { clientid: string } = {
      agentserviceid: c.s.agentserviceid, type: "message", msgtype: image ? "image" : "file", message: "", clientid,
      uploading: true, file: f, filesize: f.size,
    };
    const entry = c.log.addPending(c.s.agentserviceid, app.me().nickname, f.name, payload);
    entry.msgtype = payload.msgtype as string;
    entry.filename = f.name;
    void sendFile(c, entry);
  }

  async function sendFile(c: Conv, e: Entry): Promise<void> {
    const p = e.payload!;
    c.log.setSending(e);
    try {
      const form = new FormData();
      form.append("agentserviceid", c.s.agentserviceid);
      form.append("file", p.file as File);
      const up = await app.upload(form);
      delete p.uploading;
      delete p.file;
      p.attachmentid = up.attachmentid;
      e.url = up.url;
      const s = app.socket();
      if (s) sendEntry(s, c.log, e);
      else c.log.fail(e, t().disconnected);
    } catch (err) {
      c.log.fail(e, errorText(err));
    }
  }

  // ------------------------------------------------------------ ending

  function markEnded(c: Conv): void {
    if (c.ended) return;
    c.ended = true;
    clearDraft(c);
    renderItem(c);
    renderList();
    if (c === selected) renderPane();
  }

  // ------------------------------------------------------------ the API for main.ts

  renderPane();
  return {
    async refresh() {
      try {
        const ss = await app.api<Summary[]>("GET", "/agent/sessions?ended=" + encodeURIComponent(endedSince()));
        const open = new Set<string>();
        for (const s of Array.isArray(ss) ? ss : []) {
          open.add(s.agentserviceid);
          const c = upsert(s);
          c.unread = typeof s.unread === "number" ? s.unread : c.unread;
          c.readseq = typeof s.readseq === "number" ? s.readseq : c.readseq;
          const last = s.last;
          if (last && (!c.lastAt || str(last.createtime) >= c.lastAt)) {
            c.last = preview(last);
            c.lastAt = str(last.createtime) || c.lastAt;
          }
          if (c.loaded) void fetchAfter(c, c.log.maxSeq(c.s.agentserviceid));
          if (s.endtime) markEnded(c);
          renderItem(c);
        }
        // Missed while disconnected: chats that are no longer mine in service.
        for (const c of convs.values()) if (!c.ended && !open.has(c.s.agentserviceid)) markEnded(c);
        renderList();
        if (selected) renderPane();
        else chatEmpty.hidden = false;
      } catch (e) {
        app.toast(t().error(t().errLoad) + errorText(e), true);
      }
    },
    reset() {
      writing.cancel();
      canned.close();
      for (const c of Array.from(convs.values())) drop(c);
      text.value = "";
      renderPane();
    },
    relabel() {
      for (const c of convs.values()) renderItem(c);
      renderPane();
      visitor.relabel();
      canned.relabel();
    },
    totalUnread() {
      let n = 0;
      for (const c of convs.values()) n += c.unread;
      return n;
    },
    setVisible(v) {
      visible = v && document.visibilityState !== "hidden";
      if (selected) markRead(selected);
    },
    onNew(s) {
      if (!s || typeof s.agentserviceid !== "string") return;
      const existing = convs.get(s.agentserviceid);
      if (existing && !existing.ended) {
        // Known from one of its messages before `new` came: take the summary.
        renderItem(upsert(s));
        return;
      }
      if (existing) drop(existing); // a chat back to me after being transferred away
      const c = upsert(s);
      c.lastAt = str(s.createtime) || new Date().toISOString();
      renderItem(c);
      renderList();
      if (s.trans && s.transfrom) app.toast(t().transferredFrom(str(s.transfrom)));
      const conv = c;
      app.alert(t().newChat(nameOf(c.s)), str(s.title) || str(s.url), "kefu-new-" + s.agentserviceid, { chime: true, onClick: () => open(conv) });
    },
    onMessage(m) {
      if (!m || typeof m.agentserviceid !== "string") return;
      let c = convs.get(m.agentserviceid);
      if (!c) {
        if (m.calltype !== "in") return;
        c = upsert({ agentserviceid: m.agentserviceid, userid: str(m.usession), nickname: str(m.username) });
        renderItem(c);
      }
      if (m.type === "writing") {
        if (m.calltype === "in") setDraft(c, str(m.message));
        return;
      }
      if (!c.log.addIncoming(m)) return;
      c.last = preview(m);
      c.lastAt = str(m.createtime) || new Date().toISOString();
      if (m.calltype === "in") {
        clearDraft(c);
        if (typeof m.seq === "number" && m.seq > c.readseq) c.unread++;
        const conv = c;
        app.alert(t().newMessage(nameOf(c.s)), preview(m), "kefu-msg-" + m.agentserviceid, { onClick: () => open(conv) });
      }
      renderItem(c);
      renderList();
      markRead(c);
    },
    onEnd(s) {
      const c = s && convs.get(s.agentserviceid);
      if (c) markEnded(c);
    },
    onTransout(s) {
      const c = s && convs.get(s.agentserviceid);
      if (!c) return;
      app.toast(t().transferredOut + ": " + nameOf(c.s));
      drop(c);
    },
    onRead(r) {
      const c = r && typeof r.agentserviceid === "string" ? convs.get(r.agentserviceid) : undefined;
      if (!c) return;
      if (typeof r.readseq === "number" && r.readseq >= c.readseq) {
        c.readseq = r.readseq;
        if (typeof r.unread === "number") c.unread = r.unread;
      }
      renderItem(c);
      hooks.onUnread();
    },
    onWhisper(n) {
      const c = n && typeof n.agentserviceid === "string" ? convs.get(n.agentserviceid) : undefined;
      if (!c) return;
      c.notes.push(n);
      if (!c.log.addNote(n, c.log.maxSeq(c.s.agentserviceid))) return;
      app.alert(t().whisperFrom(str(n.nickName)), str(n.message), "kefu-whisper-" + n.agentserviceid, { chime: true, onClick: () => open(c) });
    },
  };
}
