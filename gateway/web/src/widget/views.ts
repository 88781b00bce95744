// What the widget shows: its mode (hidden, entry button, invite, open window) and, in the window,
// the view (skill picker, pre-chat form, chat, leave a message); focus and the keyboard.

import { toggleEmoji } from "./composer";
import { refreshConfig } from "./connection";
import { focusables } from "./dom";
import {
  attachButton,
  body,
  closeButton,
  composer,
  emojiButton,
  emojiPanel,
  endedBar,
  infoButton,
  invite,
  launcher,
  leave,
  newChatButton,
  panel,
  picker,
  prechatForm,
  rating,
  scroll,
  sendButton,
  sneak,
  statusBar,
  textarea,
  win,
} from "./elements";
import { markRead } from "./history";
import { needsPicker, resetSkill } from "./picker";
import { report } from "./hostlink";
import { answerInvite } from "./invite";
import { togglePanel, updatePlaceholder, updateSubtitle } from "./look";
import { closeRating, openRating } from "./rating";
import { embedded, key, Mode, S, site, storageSet, t, View } from "./state";

export function needsPrechat(): boolean {
  return site.config.prechat.enabled && !S.prechatDone;
}

export function setView(v: View): void {
  S.view = v;
  S.viewChanges++;
  const chatLike = v === "chat" || v === "prechat" || v === "picker";
  scroll.hidden = !chatLike;
  leave.hidden = chatLike;
  prechatForm.hidden = v !== "prechat";
  picker.hidden = v !== "picker";
  updateComposer();
  if (v === "prechat" || v === "picker") scroll.scrollTop = scroll.scrollHeight;
  if (v === "leave") {
    const done = document.getElementById("kefu-leave-done");
    const form = document.getElementById("kefu-leave-form");
    if (done && form && done.hidden) form.hidden = false;
    const intro = document.getElementById("kefu-leave-intro");
    if (intro) intro.textContent = site.open ? (S.sessionState === "noagent" ? t.noagent : t.leaveIntro) : t.offhours;
  }
}

export function updateComposer(): void {
  const chat = S.view === "chat";
  // After an end, a new chat starts from a button (and the pre-chat form when there is one).
  const ended = !S.sessionOpen && S.sid !== "" && (S.sessionState === "ended" || S.sessionState === "offhours");
  composer.hidden = !chat || ended;
  endedBar.hidden = !chat || !ended;
  const usable = !!S.socket && !S.refused;
  textarea.disabled = !usable;
  sendButton.disabled = !usable;
  attachButton.disabled = !usable;
  emojiButton.disabled = !usable;
  sneak.hidden = !(site.config.sneakpeek && chat && (S.sessionOpen || textarea.value !== ""));
  if (composer.hidden) toggleEmojiQuiet();
  updatePlaceholder();
}

export function toggleEmojiQuiet(): void {
  emojiPanel.hidden = true;
  emojiButton.setAttribute("aria-expanded", "false");
}

export function chooseView(): View {
  if (S.sessionOpen) return "chat";
  if (!site.open || !site.agents) return "leave";
  return startView();
}

/** The way into a new chat: the skill picker first, then the pre-chat form. */
export function startView(): View {
  if (S.sessionOpen) return "chat";
  if (needsPicker()) return "picker";
  return needsPrechat() ? "prechat" : "chat";
}

export function setMode(m: Mode): void {
  if (site.blocked && m !== "hidden") m = "hidden";
  const was = S.mode;
  S.mode = m;
  document.body.setAttribute("data-mode", m);
  launcher.hidden = m !== "button";
  invite.hidden = !(m === "invite" || (m === "open" && S.inviteData !== null));
  invite.classList.toggle("in-window", m === "open");
  win.hidden = m !== "open";
  if (embedded) storageSet("session", key("open"), m === "open" ? "1" : null);
  if (m === "open" && was !== "open") onOpened();
  if (m !== "open") toggleEmojiQuiet();
  report();
}

export function openWindow(byUser: boolean): void {
  S.userOpened = byUser;
  if (S.inviteData && !S.inviteData.agentno) S.inviteData = null; // an automatic invite is answered by opening
  setMode("open");
}

export function onOpened(): void {
  setView(chooseView());
  scroll.scrollTop = scroll.scrollHeight; // the newest messages
  markRead();
  if (S.ratingPending && S.ratingSid) openRating();
  else focusDefault();
  const chosen = S.viewChanges;
  void refreshConfig().then(() => {
    // Nobody there any more (or again): switch between the chat and the leave-message form,
    // unless the visitor moved on in the meantime or started typing.
    const note = document.getElementById("kefu-lm-content") as HTMLTextAreaElement | null;
    if (S.mode !== "open" || S.sessionOpen || S.viewChanges !== chosen || textarea.value !== "" || (note && note.value !== "")) return;
    const want = chooseView();
    if (want !== S.view) setView(want);
  });
}

export function closeWindow(): void {
  if (!embedded) return;
  setMode("button");
  if (S.userOpened) launcher.focus();
}

export function focusDefault(): void {
  if (!S.userOpened || S.mode !== "open") return;
  if (!rating.hidden) return;
  if (S.view === "picker") {
    const first = picker.querySelector<HTMLElement>("button");
    if (first) return first.focus();
  }
  if (S.view === "prechat") {
    const first = prechatForm.querySelector<HTMLElement>("input, textarea");
    if (first) return first.focus();
  }
  if (S.view === "leave") {
    const first = leave.querySelector<HTMLElement>("input, textarea");
    if (first) return first.focus();
  }
  if (!composer.hidden && !textarea.disabled) textarea.focus();
  else if (!endedBar.hidden) newChatButton.focus();
}

launcher.addEventListener("click", () => openWindow(true));
closeButton.addEventListener("click", () => closeWindow());
infoButton.addEventListener("click", () => togglePanel(panel.hidden));
newChatButton.addEventListener("click", () => {
  S.prechatDone = false;
  S.sessionState = "";
  S.sid = "";
  S.agentName = "";
  S.hadAgent = false;
  resetSkill();
  statusBar.hidden = true;
  setView(chooseView());
  updateSubtitle();
  focusDefault();
});

// Escape closes what is on top; Tab stays inside the window (a modal dialog).
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape") {
    if (!emojiPanel.hidden) {
      ev.preventDefault();
      return toggleEmoji(false);
    }
    if (!rating.hidden) {
      ev.preventDefault();
      return closeRating(true);
    }
    if (!panel.hidden && !body.classList.contains("side")) {
      ev.preventDefault();
      return togglePanel(false);
    }
    if (S.mode === "invite" || (S.mode === "open" && S.inviteData)) {
      ev.preventDefault();
      return answerInvite(false);
    }
    if (S.mode === "open" && embedded) {
      ev.preventDefault();
      S.userOpened = true;
      return closeWindow();
    }
    return;
  }
  if (ev.key === "Tab" && S.mode === "open") {
    const scope = !rating.hidden ? rating : win;
    const list = focusables(scope);
    if (list.length === 0) return;
    const first = list[0];
    const last = list[list.length - 1];
    const active = document.activeElement as HTMLElement | null;
    const inside = !!active && scope.contains(active);
    if (ev.shiftKey && (active === first || !inside)) {
      ev.preventDefault();
      last.focus();
    } else if (!ev.shiftKey && (active === last || !inside)) {
      ev.preventDefault();
      first.focus();
    }
  }
});
