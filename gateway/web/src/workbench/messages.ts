// How the workbench shows chat messages, in the conversation pane and in earlier chats'
// transcripts: a ChatLog (common.ts) per list, drawn as text (links made clickable), pictures
// inline, files as download links, and our own sends with their state and a retry.

import { ChatLog, ChatMessage, Entry, Note } from "../common";
import { appendLinkified, formatSize, formatTime, h, safeURL } from "../widget/dom";
import type { Strings } from "./i18n";
import { str } from "./ui";

export function messageLog(
  list: HTMLOListElement,
  opts: { t: () => Strings; visitorName: () => string; onRetry?: (e: Entry) => void; onGap?: (after: number) => void },
): ChatLog {
  const onRetry = opts.onRetry || (() => undefined);
  return new ChatLog(list, {
    sideOf: (m) => (m.calltype === "out" ? "me" : m.calltype === "in" ? "peer" : "system"),
    whoOf: (m, side) => (side === "me" ? str(m.nickName) || str(m.username) : side === "peer" ? opts.visitorName() : ""),
    onRetry,
    onGap: opts.onGap ? (_sid, after) => opts.onGap!(after) : undefined,
    draw: (e, li) => drawEntry(opts.t(), e, li, onRetry),
  });
}

function drawEntry(tt: Strings, e: Entry, li: HTMLLIElement, onRetry: (e: Entry) => void): void {
  if (e.id) li.setAttribute("data-id", e.id);
  if (e.flag === "whisper") {
    li.classList.add("whisper");
    const box = h("div", { class: "whisper-note" });
    box.appendChild(h("span", { class: "who", text: tt.whisperFrom(e.who) }));
    const p = h("p", { class: "text" });
    appendLinkified(p, e.text);
    box.appendChild(p);
    box.appendChild(h("time", { class: "meta", text: formatTime(e.createtime) }));
    li.appendChild(box);
    return;
  }
  if (e.flag === "intervened") li.classList.add("intervened");
  if (e.side === "system") {
    li.appendChild(h("p", { class: "note", text: e.text }));
    return;
  }
  const bubble = h("div", { class: "bubble" });
  if (e.who) bubble.appendChild(h("span", { class: "who", text: e.flag === "intervened" ? tt.intervenedBy(e.who) : e.who }));
  const body = h("div", { class: "body" });
  const href = safeURL(e.url);
  const label = e.filename || e.text || (e.msgtype === "image" ? tt.image : tt.file);
  if (e.msgtype === "image" && href) {
    const a = h("a", { href, target: "_blank", rel: "noopener noreferrer", class: "image-link", title: label });
    a.appendChild(h("img", { src: href, alt: label }));
    body.appendChild(a);
  } else if (e.msgtype !== "text") {
    const box = href
      ? h("a", { href, target: "_blank", rel: "noopener noreferrer", download: e.filename || "", class: "file-link" })
      : h("span", { class: "file-link" });
    box.appendChild(h("span", { class: "file-name", text: "📄 " + label }));
    const size = formatSize(e.payload && typeof e.payload.filesize === "number" ? e.payload.filesize : undefined);
    if (size) box.appendChild(h("span", { class: "file-size", text: " " + size }));
    body.appendChild(box);
  } else {
    const p = h("p", { class: "text" });
    appendLinkified(p, e.text);
    body.appendChild(p);
  }
  bubble.appendChild(body);
  const meta = h("div", { class: "meta" });
  meta.appendChild(h("time", { text: formatTime(e.createtime) }));
  if (e.side === "me") {
    const state = e.state === "sending" ? (e.payload && e.payload.uploading ? tt.uploading : tt.sending) : e.state === "sent" ? tt.sent : tt.failed + (e.error ? ": " + e.error : "");
    meta.appendChild(h("span", { class: "state", text: state, role: e.state === "failed" ? "alert" : undefined }));
    if (e.state === "failed" && e.payload) {
      const again = h("button", { type: "button", class: "retry link", text: tt.retry });
      again.addEventListener("click", () => onRetry(e));
      meta.appendChild(again);
    }
  }
  bubble.appendChild(meta);
  li.appendChild(bubble);
}

/**
 * Places a chat's whispers among one page of its messages, by time (they have no seq): those of
 * this page's span, and with `latest` those after it. Notes of earlier pages wait for those.
 */
export function addNotes(log: ChatLog, notes: Note[], page: ChatMessage[], latest: boolean): void {
  const ms = page.filter((m) => m && typeof m.seq === "number").sort((a, b) => a.seq - b.seq);
  const first = ms[0];
  const last = ms[ms.length - 1];
  for (const n of notes) {
    const at = str(n.createtime);
    if (first && first.seq > 1 && at < str(first.createtime)) continue;
    if (!latest && last && at > str(last.createtime)) continue;
    let after = first ? first.seq - 1 : 0;
    for (const m of ms) if (str(m.createtime) <= at) after = m.seq;
    log.addNote(n, after);
  }
}
