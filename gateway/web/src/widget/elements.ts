// The widget's elements: the entry button, the invite popup and the chat window, built once.
// This module depends on nothing else of the widget, so every part may use them at load.

import { h, icon } from "./dom";

export const root = h("div", { class: "kefu", id: "kefu" });
export const launcher = h("button", { type: "button", class: "launcher", id: "kefu-launcher" });
export const launcherText = h("span", { class: "launcher-text" });
export const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
launcher.append(icon("chat", 26), launcherText, badge);

export const invite = h("div", { class: "invite", id: "kefu-invite", role: "dialog", "aria-labelledby": "kefu-invite-title", hidden: true });
export const inviteAvatar = h("span", { class: "avatar big", "aria-hidden": "true" });
export const inviteTitle = h("h2", { id: "kefu-invite-title", class: "invite-title" });
export const inviteText = h("p", { class: "invite-text" });
export const inviteAccept = h("button", { type: "button", class: "primary", id: "kefu-invite-accept" });
export const inviteLater = h("button", { type: "button", class: "secondary", id: "kefu-invite-later" });
export const inviteClose = h("button", { type: "button", class: "icon-button invite-close" });
inviteClose.appendChild(icon("close", 18));
invite.append(
  inviteClose,
  h("div", { class: "invite-head" }, inviteAvatar, inviteTitle),
  inviteText,
  h("div", { class: "invite-actions" }, inviteLater, inviteAccept),
);

export const win = h("div", { class: "window", id: "kefu-window", role: "dialog", "aria-modal": "true", "aria-labelledby": "kefu-title", hidden: true });
export const brand = h("span", { class: "brand", "aria-hidden": "true" });
export const title = h("h1", { id: "kefu-title", class: "title" });
export const subtitle = h("p", { class: "subtitle", id: "kefu-subtitle" });
export const infoButton = h("button", { type: "button", class: "icon-button", id: "kefu-info", hidden: true });
infoButton.appendChild(icon("info"));
export const closeButton = h("button", { type: "button", class: "icon-button", id: "kefu-close" });
closeButton.appendChild(icon("minimize"));
export const head = h(
  "header",
  { class: "head" },
  brand,
  h("div", { class: "titles" }, title, subtitle),
  infoButton,
  closeButton,
);

export const statusBar = h("div", { class: "status", id: "kefu-status", role: "status", "aria-live": "polite", hidden: true });
export const statusText = h("span", { class: "status-text" });
export const statusLeave = h("button", { type: "button", class: "link", id: "kefu-status-leave", hidden: true });
statusBar.append(statusText, statusLeave);

export const scroll = h("div", { class: "scroll", id: "kefu-scroll" });
export const earlier = h("button", { type: "button", class: "link earlier", id: "kefu-earlier", hidden: true });
export const welcome = h("div", { class: "welcome", id: "kefu-welcome", hidden: true });
export const logList = h("ol", { class: "log", id: "kefu-log", "aria-live": "polite", "aria-relevant": "additions" });
export const prechatForm = h("form", { class: "card form prechat", id: "kefu-prechat", novalidate: true, hidden: true });
export const picker = h("section", { class: "card picker", id: "kefu-picker", hidden: true, "aria-labelledby": "kefu-picker-title" });
scroll.append(earlier, welcome, logList, picker, prechatForm);

export const typing = h("div", { class: "typing", id: "kefu-typing", "aria-live": "polite", hidden: true });
export const typingText = h("span");
typing.append(h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), typingText);
export const notice = h("div", { class: "notice", id: "kefu-notice", role: "alert", hidden: true });
export const sneak = h("div", { class: "sneakpeek", id: "kefu-sneakpeek", hidden: true });

export const composer = h("form", { class: "composer", id: "kefu-composer" });
export const textarea = h("textarea", { id: "kefu-text", rows: "1", maxlength: "20000", autocomplete: "off" });
export const emojiButton = h("button", { type: "button", class: "icon-button", id: "kefu-emoji-button", "aria-expanded": "false", "aria-controls": "kefu-emoji" });
emojiButton.appendChild(icon("smile"));
export const attachButton = h("button", { type: "button", class: "icon-button", id: "kefu-attach" });
attachButton.appendChild(icon("clip"));
export const fileInput = h("input", { type: "file", id: "kefu-file", class: "sr-only", tabindex: "-1", "aria-hidden": "true" });
export const sendButton = h("button", { type: "submit", class: "send", id: "kefu-send" });
sendButton.appendChild(icon("send"));
export const textLabel = h("label", { for: "kefu-text", class: "sr-only" });
composer.append(textLabel, textarea, h("div", { class: "tools" }, emojiButton, attachButton, fileInput, sendButton));
export const emojiPanel = h("div", { class: "emoji-panel", id: "kefu-emoji", role: "group", hidden: true });

export const endedBar = h("div", { class: "ended-bar", hidden: true });
export const newChatButton = h("button", { type: "button", class: "primary", id: "kefu-newchat" });
endedBar.appendChild(newChatButton);

export const leave = h("section", { class: "leave", id: "kefu-leave", hidden: true, "aria-labelledby": "kefu-leave-title" });
export const panel = h("section", { class: "panel", id: "kefu-panel", hidden: true, "aria-labelledby": "kefu-panel-title" });
export const rating = h("div", { class: "overlay", id: "kefu-rating", role: "dialog", "aria-modal": "true", "aria-labelledby": "kefu-rating-title", hidden: true });

export const mainArea = h("div", { class: "main" }, statusBar, scroll, typing, notice, sneak, emojiPanel, composer, endedBar, leave);
export const body = h("div", { class: "body" }, mainArea, panel);
win.append(head, body, rating);
root.append(launcher, invite, win);
