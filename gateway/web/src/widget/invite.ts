// Invites: an agent's (the `invite` event) and the automatic one, shown as a popup or inside the
// window; accepting opens the chat with the inviting agent asked for first.

import { h, icon } from "./dom";
import { inviteAccept, inviteAvatar, inviteClose, inviteLater, inviteText, inviteTitle, launcher, title } from "./elements";
import { ensureSession, errorText } from "./send";
import { InviteEvent, key, S, site, storageGet, storageSet, t } from "./state";
import { showNotice } from "./status";
import { focusDefault, needsPrechat, setMode, setView } from "./views";

export function onInvite(inv: InviteEvent): void {
  if (S.sessionOpen || site.blocked) return; // already chatting
  S.inviteData = {
    agentno: typeof inv.agentno === "string" ? inv.agentno : inv.agentno !== undefined ? String(inv.agentno) : undefined,
    name: typeof inv.nickName === "string" ? inv.nickName : undefined,
    message: (typeof inv.message === "string" && inv.message) || site.config.invite.message || t.inviteDefault,
  };
  showInvite();
}

export function showInvite(): void {
  if (!S.inviteData) return;
  inviteTitle.textContent = S.inviteData.name ? t.inviteFrom(S.inviteData.name) : title.textContent || t.inviteTitle;
  inviteText.textContent = S.inviteData.message;
  inviteAvatar.textContent = "";
  if (site.config.theme.avatar) inviteAvatar.appendChild(h("img", { src: site.config.theme.avatar, alt: "" }));
  else if (S.inviteData.name) inviteAvatar.textContent = S.inviteData.name.trim().charAt(0).toUpperCase();
  else inviteAvatar.appendChild(icon("chat", 22));
  if (S.mode === "open") {
    setMode("open"); // shows the card inside the window
  } else {
    S.modeBeforeInvite = S.mode === "hidden" ? "button" : S.mode;
    setMode("invite");
  }
}

export function answerInvite(accept: boolean): void {
  const inv = S.inviteData;
  S.inviteData = null;
  if (!inv) return;
  if (inv.agentno && S.socket && S.socket.connected) {
    S.socket.emit("invite", { accept }, () => {
      /* acknowledged */
    });
  }
  if (!accept) {
    setMode(S.mode === "open" ? "open" : S.modeBeforeInvite === "open" ? "open" : "button");
    if (S.mode === "button" && S.userOpened) launcher.focus();
    return;
  }
  S.userOpened = true;
  if (inv.agentno) S.pendingAgent = inv.agentno;
  setMode("open");
  if (S.sessionOpen) return;
  if (needsPrechat()) {
    setView("prechat");
    focusDefault();
    return;
  }
  if (inv.agentno) {
    setView("chat");
    ensureSession({}).catch((e) => showNotice(t.startFailed + errorText(e)));
  }
}

inviteAccept.addEventListener("click", () => answerInvite(true));
inviteLater.addEventListener("click", () => answerInvite(false));
inviteClose.addEventListener("click", () => answerInvite(false));

export function scheduleAutoInvite(): void {
  const secs = site.config.invite.auto;
  if (!secs || storageGet("session", key("autoinvite"))) return;
  if (S.autoInviteTimer !== undefined) clearTimeout(S.autoInviteTimer);
  S.autoInviteTimer = window.setTimeout(() => {
    if (S.sessionOpen || S.mode !== "button" || S.inviteData) return;
    storageSet("session", key("autoinvite"), "1");
    S.inviteData = { message: site.config.invite.message || t.inviteDefault };
    showInvite();
  }, secs * 1000);
}
