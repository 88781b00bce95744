// The monitor's conversation view: a watched chat's transcript (its latest history, then live
// mirrors: the server sends them in order without gaps or repeats), the visitor's live draft,
// whispers, and the supervisor's actions on it: join (write to the visitor), whisper (to the
// agent only), take over, transfer, end.

import { ChatLog, ChatMessage, Note, emitAck, errorText, randomId } from "../common";
import { h } from "../widget/dom";
import { addNotes, messageLog } from "./messages";
import type { MonitorStrings } from "./monitor-i18n";
import { MonitorChat, secondsSince } from "./monitor-types";
import { transferDialog } from "./transfer";
import { App, modal, sessionPath, str } from "./ui";

const DRAFT_TTL_MS = 10000;

export interface Watch {
  /** Opens chat `row` (watch on); a chat already open is closed first. */
  open(row: MonitorChat): void;
  close(): void;
  current(): string;
  /** Redraws the header (durations, names) and texts. */
  refresh(row: MonitorChat | undefined): void;
  onHistory(h: { agentserviceid?: string; messages?: ChatMessage[]; notes?: Note[] }): void;
  onMessage(m: ChatMessage): void;
  onWriting(d: { agentserviceid?: string; message?: string }): void;
  onWhisper(n: Note): void;
  /** The chat ended, or left the scope: the view stays, read-only. */
  gone(id: string, ended: boolean): void;
}

export function createWatch(app: App, root: HTMLElement, mt: () => MonitorStrings, names: { agent(id: string): string; skill(id: string): string }): Watch {
  let row: MonitorChat | null = null;
  let log: ChatLog | null = null;
  let draftTimer: number | undefined;
  let mode: "join" | "whisper" = "join";

  const title = h("h3", { class: "watch-title" });
  const meta = h("p", { class: "muted small watch-meta" });
  const actions = h("div", { class: "watch-actions" });
  const takeBtn = h("button", { type: "button", id: "watch-takeover", class: "primary" });
  const transferBtn = h("button", { type: "button", id: "watch-transfer" });
  const endBtn = h("button", { type: "button", id: "watch-end", class: "danger" });
  const closeBtn = h("button", { type: "button", id: "watch-close", class: "ghost" });
  actions.append(takeBtn, transferBtn, endBtn, closeBtn);
  const list = h("ol", { class: "log watch-log", id: "watch-log" });
  const scroll = h("div", { class: "chat-scroll watch-scroll" }, list);
  const draftLine = h("p", { class: "draft-line", id: "watch-draft", hidden: true, "aria-live": "polite" });
  const goneLine = h("p", { class: "ended-line", id: "watch-gone", hidden: true });
  const joinRadio = h("input", { type: "radio", name: "watch-mode", value: "join", id: "watch-mode-join" });
  const whisperRadio = h("input", { type: "radio", name: "watch-mode", value: "whisper", id: "watch-mode-whisper" });
  joinRadio.checked = true;
  const joinLabel = h("label", { for: "watch-mode-join", class: "mode" });
  const whisperLabel = h("label", { for: "watch-mode-whisper", class: "mode" });
  const hint = h("p", { class: "muted small", id: "watch-hint" });
  const input = h("textarea", { id: "watch-input", rows: "2", maxlength: "2000" });
  const send = h("button", { type: "submit", class: "primary", id: "watch-send" });
  const composer = h("form", { class: "composer watch-composer", id: "watch-composer" },
    h("div", { class: "modes", role: "radiogroup" }, h("span", { class: "mode-choice" }, joinRadio, joinLabel), h("span", { class: "mode-choice" }, whisperRadio, whisperLabel)),
    input, h("div", { class: "composer-bar" }, hint, send));
  root.append(h("header", { class: "watch-head" }, h("div", {}, title, meta), actions), scroll, draftLine, goneLine, composer);
  root.hidden = true;

  function label(): void {
    const t = mt();
    takeBtn.textContent = t.takeOver;
    transferBtn.textContent = t.transfer;
    endBtn.textContent = t.end;
    closeBtn.textContent = t.close;
    joinLabel.textContent = t.modeJoin;
    whisperLabel.textContent = t.modeWhisper;
    hint.textContent = mode === "join" ? t.joinHint : t.whisperHint;
    send.textContent = t.send;
    input.placeholder = mode === "join" ? t.modeJoin : t.modeWhisper;
    composer.classList.toggle("whispering", mode === "whisper");
  }

  function visitorName(r: MonitorChat): string {
    return str(r.nickname) || str(r.name) || str(r.userid).slice(0, 8);
  }

  function header(): void {
    if (!row) return;
    const t = mt();
    title.textContent = visitorName(row);
    const now = Date.now();
    meta.textContent = [
      names.agent(str(row.agentno)), row.skill ? names.skill(str(row.skill)) : "", str(row.appid),
      t.colDuration + " " + t.seconds(secondsSince(row.servicetime, now)),
    ].filter(Boolean).join(" · ");
    const canTransfer = app.hasRight("transfer") && goneLine.hidden;
    takeBtn.hidden = transferBtn.hidden = endBtn.hidden = !canTransfer;
    composer.hidden = !app.hasRight("write") || !goneLine.hidden;
  }

  function setDraft(text: string): void {
    const t = mt();
    draftLine.textContent = "";
    if (text) {
      draftLine.append(t.draft, h("em", { text }));
    } else {
      draftLine.textContent = t.typing;
    }
    draftLine.hidden = false;
    if (draftTimer !== undefined) clearTimeout(draftTimer);
    draftTimer = window.setTimeout(() => (draftLine.hidden = true), DRAFT_TTL_MS);
  }

  function watchCall(id: string, on: boolean): void {
    const s = app.socket();
    if (!s) return;
    void emitAck(s, "watch", { agentserviceid: id, on }).then((ack) => {
      if (!ack.ok && on && row && row.agentserviceid === id) app.toast(mt().failed + ack.error.message, true);
    });
  }

  async function act(path: string, confirmText: string, submit: string, okText: string): Promise<void> {
    if (!row) return;
    const id = row.agentserviceid;
    const t = mt();
    modal({
      id: "watch-confirm",
      title: confirmText,
      t: app.t(),
      submit,
      body: [],
      onSubmit: async () => {
        const res = await app.api<{ pending?: boolean }>("POST", sessionPath(id) + path, path === "/takeover" ? {} : undefined);
        app.toast(res && res.pending ? t.pending : okText);
        return true;
      },
    });
  }

  takeBtn.addEventListener("click", () => void act("/takeover", mt().takeOverConfirm, mt().takeOver, mt().tookOver));
  endBtn.addEventListener("click", () => void act("/end", mt().endConfirm, mt().end, mt().done));
  transferBtn.addEventListener("click", () => {
    if (row) void transferDialog(app, row, str(row.agentno));
  });
  closeBtn.addEventListener("click", () => watch.close());
  for (const r of [joinRadio, whisperRadio]) {
    r.addEventListener("change", () => {
      mode = whisperRadio.checked ? "whisper" : "join";
      label();
    });
  }
  composer.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const s = app.socket();
    const text = input.value.trim();
    if (!row || !log || !s || !text) return;
    const id = row.agentserviceid;
    const clientid = randomId();
    input.value = "";
    if (mode === "whisper") {
      const note: Note = { id: "", agentserviceid: id, userid: app.me().id, nickName: app.me().nickname, message: text, createtime: new Date().toISOString() };
      void emitAck<{ id: string; createtime: string }>(s, "whisper", { agentserviceid: id, message: text, clientid }).then((ack) => {
        if (!ack.ok) {
          input.value = text;
          app.toast(mt().failed + ack.error.message, true);
          return;
        }
        if (log && row && row.agentserviceid === id) log.addNote({ ...note, id: ack.id, createtime: ack.createtime }, log.maxSeq(id));
      });
      return;
    }
    const payload = { agentserviceid: id, type: "message", msgtype: "text", message: text, clientid };
    const entry = log.addPending(id, app.me().nickname, text, payload);
    entry.flag = "intervened";
    emitAck<{ id: string; seq: number; createtime?: string }>(s, "intervene", payload).then(
      (ack) => log && log.applyAck(entry, ack),
      (e) => log && log.fail(entry, errorText(e)),
    );
  });
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      composer.requestSubmit();
    }
  });

  const watch: Watch = {
    open(r) {
      if (row && row.agentserviceid === r.agentserviceid) return;
      watch.close();
      row = r;
      list.textContent = "";
      log = messageLog(list, { t: app.t, visitorName: () => (row ? visitorName(row) : "") });
      draftLine.hidden = true;
      goneLine.hidden = true;
      root.hidden = false;
      root.dataset.sid = r.agentserviceid;
      label();
      header();
      watchCall(r.agentserviceid, true);
    },
    close() {
      if (row) watchCall(row.agentserviceid, false);
      row = null;
      log = null;
      root.hidden = true;
      delete root.dataset.sid;
    },
    current: () => (row ? row.agentserviceid : ""),
    refresh(r) {
      if (r && row && r.agentserviceid === row.agentserviceid) row = { ...row, ...r };
      label();
      header();
    },
    onHistory(hist) {
      if (!row || !log || !hist || hist.agentserviceid !== row.agentserviceid) return;
      const ms = Array.isArray(hist.messages) ? hist.messages : [];
      for (const m of ms) log.addIncoming(m);
      addNotes(log, Array.isArray(hist.notes) ? hist.notes : [], ms, true);
      scroll.scrollTop = scroll.scrollHeight;
    },
    onMessage(m) {
      if (!row || !log || !m || m.agentserviceid !== row.agentserviceid) return;
      log.addIncoming(m);
      if (m.calltype === "in") draftLine.hidden = true;
    },
    onWriting(d) {
      if (row && d && d.agentserviceid === row.agentserviceid) setDraft(str(d.message));
    },
    onWhisper(n) {
      if (row && log && n && n.agentserviceid === row.agentserviceid) log.addNote(n, log.maxSeq(row.agentserviceid));
    },
    gone(id, ended) {
      if (!row || row.agentserviceid !== id) return;
      goneLine.textContent = ended ? mt().chatEnded : mt().chatLeft;
      goneLine.hidden = false;
      draftLine.hidden = true;
      header();
    },
  };
  label();
  return watch;
}
