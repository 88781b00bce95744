// The chat's status (assigned, queued, no agent, off hours, ended, rating asked), the agent's
// typing indicator and passing notices.

import { StatusEvent } from "../common";
import { notice, statusBar, statusLeave, statusText, typing, typingText } from "./elements";
import { log } from "./history";
import { pickLang } from "./i18n";
import { updatePlaceholder, updateSubtitle } from "./look";
import { askRating } from "./rating";
import { lang, S, site, t } from "./state";
import { focusDefault, setView, updateComposer } from "./views";

/**
 * The server's wording of a status (the tenant's prompts, plain text) when it is in the widget's
 * language; otherwise (a site set to English in a tenant with Chinese prompts, or the reverse) our
 * own text, so that the window speaks one language.
 */
export function serverText(msg?: string): string {
  if (typeof msg !== "string" || msg === "") return "";
  return pickLang(site.lang || "zh-CN") === lang ? msg : "";
}

export function onStatus(st: StatusEvent): void {
  const s = typeof st.agentserviceid === "string" ? st.agentserviceid : "";
  const state = st.state || "";
  if (s && s !== S.sid) {
    if (state === "ended" && S.sid && !S.sessionOpen) return; // an old session's news
    S.sid = s;
    S.hadAgent = false;
  }
  const nick = typeof st.nickName === "string" && st.nickName ? st.nickName : "";
  const server = serverText(st.message);
  let text = "";
  let offerLeave = false;
  switch (state) {
    case "assigned":
      S.sessionOpen = true;
      S.hadAgent = true;
      S.agentName = nick || S.agentName || t.agent;
      text = server || t.assigned(S.agentName);
      break;
    case "queued":
      S.sessionOpen = true;
      text = server || t.queued(st.num);
      break;
    case "noagent":
      S.sessionOpen = !!s || S.sessionOpen;
      text = server || t.noagent;
      offerLeave = true;
      break;
    case "offhours":
      S.sessionOpen = false;
      text = server || t.offhours;
      site.open = false;
      break;
    case "ended":
      S.sessionOpen = false;
      hideTyping();
      text = "";
      log.addNote(S.sid, server || t.ended);
      if (S.hadAgent) askRating(S.sid, false);
      break;
    case "rating":
      askRating(S.sid, true);
      text = statusText.textContent || "";
      break;
    default:
      if (server) text = server;
  }
  if (state && state !== "rating") S.sessionState = state;
  statusText.textContent = text;
  statusLeave.hidden = !offerLeave;
  statusBar.hidden = text === "";
  if (state === "offhours" || (state === "ended" && S.prechatDone)) S.prechatDone = false;
  if (state === "offhours") setView("leave");
  else if (S.view === "prechat" && S.sessionOpen) setView("chat");
  else updateComposer();
  updateSubtitle();
  updatePlaceholder();
}

statusLeave.addEventListener("click", () => {
  setView("leave");
  S.userOpened = true;
  focusDefault();
});

export function showTyping(): void {
  typingText.textContent = t.typing(S.agentName || t.agent);
  typing.hidden = false;
  if (S.typingTimer !== undefined) clearTimeout(S.typingTimer);
  S.typingTimer = window.setTimeout(hideTyping, 4000);
}

export function hideTyping(): void {
  if (S.typingTimer !== undefined) clearTimeout(S.typingTimer);
  S.typingTimer = undefined;
  typing.hidden = true;
}

export function showNotice(text: string): void {
  notice.textContent = text;
  notice.hidden = text === "";
  if (S.noticeTimer !== undefined) clearTimeout(S.noticeTimer);
  if (text) S.noticeTimer = window.setTimeout(() => (notice.hidden = true), 8000);
}
