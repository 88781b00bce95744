// One archived conversation: its facts, the messages (drawn by messages.ts, as in the chat
// pane) with the conversation's events and the supervisors' whispers between them in time
// order, and its quality review (quality.ts). Everything in it is visitors' or staff's text.

import { errorText } from "../common";
import { formatTime, h } from "../widget/dom";
import type { ArchiveItem, EventView, NoteView, Transcript } from "./archive-api";
import { archiveStrings, dateTime, stars } from "./archive-i18n";
import { messageLog } from "./messages";
import { mountReview } from "./quality";
import { App, row, str } from "./ui";

export interface TranscriptHooks {
  tagName(id: string): string;
  onReviewed(): void;
  onClose(): void;
}

export function visitorName(s: ArchiveItem): string {
  return str(s.nickname) || str(s.name) || archiveStrings().unknownVisitor + " " + str(s.userid).slice(0, 6);
}

/** Shows conversation `id` in `el`. */
export async function showTranscript(app: App, el: HTMLElement, id: string, hooks: TranscriptHooks): Promise<void> {
  const tt = archiveStrings();
  el.replaceChildren(h("p", { class: "muted empty", text: tt.loading }));
  let tr: Transcript;
  try {
    tr = await app.api<Transcript>("GET", "/archive/" + encodeURIComponent(id));
  } catch (e) {
    el.replaceChildren(h("p", { class: "error empty", text: tt.loadFailed + errorText(e) }));
    return;
  }
  if (el.dataset.id !== id) return; // another one was chosen meanwhile
  const s = tr.session;
  const close = h("button", { type: "button", class: "ghost small", id: "archive-close", text: tt.closeDetail });
  close.addEventListener("click", hooks.onClose);
  const facts = h("dl", { class: "facts archive-facts" });
  row(facts, tt.started, dateTime(s.createtime));
  row(facts, tt.ended, dateTime(s.endtime));
  row(facts, tt.colAgent, str(s.agentname));
  row(facts, tt.colGroup, str(s.skillname));
  row(facts, tt.colSite, str(s.appid));
  row(facts, tt.endBy, tt.endReason[str(s.endby)] || str(s.endby));
  if (s.rating) row(facts, tt.rating, [stars(s.rating), str(s.ratingcomment)].filter(Boolean).join("  "));
  const tagNames = (Array.isArray(s.tags) ? s.tags : []).map(hooks.tagName).filter(Boolean).sort();
  if (tagNames.length) row(facts, tt.colTags, tagNames.join(", "));
  const contact = [str(s.name), str(s.email), str(s.phone)].filter(Boolean).join(" · ");
  if (contact) row(facts, tt.visitor, contact);

  const list = h("ol", { class: "log transcript archive-log", id: "archive-log" });
  const log = messageLog(list, { t: app.t, visitorName: () => visitorName(s) });
  const times = new Map<string, number>();
  for (const m of Array.isArray(tr.messages) ? tr.messages : []) {
    log.addIncoming(m);
    times.set(m.id, Date.parse(str(m.createtime)));
  }
  interleave(list, times, [
    ...(Array.isArray(tr.events) ? tr.events : []).map((e) => ({ at: Date.parse(str(e.createtime)), node: eventNode(e) })),
    ...(Array.isArray(tr.notes) ? tr.notes : []).map((n) => ({ at: Date.parse(str(n.createtime)), node: noteNode(n) })),
  ]);
  const review = h("section", { id: "archive-review" });
  el.replaceChildren(
    h("header", { class: "archive-detail-head" }, h("h3", { id: "archive-visitor", text: visitorName(s) }), close),
    facts,
    tr.truncated ? h("p", { class: "muted small", text: tt.truncated(tr.messages.length) }) : "",
    h("div", { class: "archive-log-scroll" }, list),
    review,
  );
  mountReview(app, review, s.agentserviceid, hooks.onReviewed, { agentno: str(s.agentno), ended: s.status === "end" });
}

/** Puts each extra line before the first message that came after it (stable for equal times). */
function interleave(list: HTMLElement, times: Map<string, number>, extras: { at: number; node: HTMLElement }[]): void {
  extras.sort((a, b) => a.at - b.at);
  const msgs = Array.from(list.children) as HTMLElement[];
  let i = 0;
  for (const x of extras) {
    while (i < msgs.length && !((times.get(msgs[i].dataset.id || "") ?? -Infinity) > x.at)) i++;
    list.insertBefore(x.node, i < msgs.length ? msgs[i] : null);
  }
}

function eventNode(e: EventView): HTMLElement {
  const tt = archiveStrings();
  const text = tt.event(str(e.kind), str(e.actorname) || str(e.actor), str(e.targetname) || str(e.target), str(e.detail));
  return h("li", { class: "msg system event", "data-kind": str(e.kind) },
    h("p", { class: "note" }, text, h("time", { class: "muted", text: " · " + formatTime(str(e.createtime)) })));
}

function noteNode(n: NoteView): HTMLElement {
  const tt = archiveStrings();
  return h("li", { class: "msg me whisper", "data-note": n.id },
    h("div", { class: "bubble" }, h("span", { class: "who", text: tt.whisper(str(n.nickName)) }), h("p", { class: "text", text: str(n.message) }),
      h("div", { class: "meta" }, h("time", { text: formatTime(str(n.createtime)) }))));
}
