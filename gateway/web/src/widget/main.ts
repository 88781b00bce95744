// The visitor widget: the page at /im/{appid}/widget, shown in an iframe by the loader
// (/im/{appid}.js) on the host page, or opened directly as a full-page chat.
//
// It holds the whole visitor side: identity (localStorage, never cookies), the /im/user socket
// (opened on page load: presence, page trail, invites), the entry button, the invite popup and
// the chat window. The loader only positions the iframe: this page tells it which mode it is in
// (hidden, button, invite, open) and how large it wants to be, with postMessage.
//
// Nothing the server, an agent or the visitor sends is ever inserted as HTML.

import io from "socket.io-client";
import {
  Ack,
  ApiError,
  ApiErrorBody,
  ChatMessage,
  Socket,
  Throttle,
  emitAck,
  randomId,
  requestJSON,
  Identity,
  StatusEvent,
} from "../common";
import { ChatLog, Item } from "./chatlog";
import { FieldName, SiteInfo, normalizeSite, textOn } from "./config";
import { focusables, h, icon, safeURL } from "./dom";
import { EMOJI } from "./emoji";
import { Area, StoreBackend, frameStore, hostStore, memoryStore } from "./store";
import { Lang, Strings, pickLang, strings } from "./i18n";

// ---------------------------------------------------------------- setup

type Mode = "hidden" | "button" | "invite" | "open";
type View = "chat" | "prechat" | "leave" | "leaveDone";

interface InviteEvent {
  agentno?: string;
  nickName?: string;
  message?: string;
}

interface Upload {
  attachmentid: string;
  url: string;
  filename: string;
  filesize: number;
  mime: string;
}

interface HostInfo {
  title: string;
  url: string;
  referrer: string;
}

const ACK_TIMEOUT_MS = 15000;
const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
const FILE_TYPES = ["application/pdf", "text/plain", "application/zip", "application/x-zip-compressed"];

const appid = (() => {
  const m = /^\/im\/([^/]+)\/widget\/?$/.exec(location.pathname);
  if (m) {
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return m[1];
    }
  }
  return new URLSearchParams(location.search).get("appid") || "demo";
})();
const base = "/im/" + encodeURIComponent(appid);
const key = (k: string) => `kefu:${appid}:${k}`;
const embedded = window.parent !== window;
// What the widget remembers (see store.ts): chosen once the loader has said hello.
const ownStore = frameStore();
let store: StoreBackend = ownStore || memoryStore();
let storeReady = !embedded || !!ownStore;
let hostSnapshot: { local?: unknown; session?: unknown } | null = null;

function storageGet(area: Area, k: string): string | null {
  return store.get(area, k);
}

function storageSet(area: Area, k: string, v: string | null): void {
  if (storeReady) store.set(area, k, v);
}

let lang: Lang = pickLang(navigator.language);
let t: Strings = strings(lang);
let site: SiteInfo = normalizeSite({}, appid);
let identity: Identity | null = null;
let socket: Socket | null = null;
let refused = false;
let connectedOnce = false;
let host: HostInfo = { title: "", url: "", referrer: "" };
let parentOrigin = "";

let mode: Mode = "hidden";
let view: View = "chat";
let sid = ""; // the current (or last) session
let sessionOpen = false; // a session is open: messages go to it
let sessionState = ""; // last status state
let agentName = "";
let hadAgent = false; // the current session was served by an agent at some point
let pendingAgent = ""; // the agent whose invite was accepted: asked for in `new`
let prechatDone = false;
let contact: Partial<Record<FieldName, string>> = {};
let starting: Promise<string> | null = null;
let ratingSid = "";
let ratingPending = false;
let inviteData: { agentno?: string; name?: string; message: string } | null = null;
let modeBeforeInvite: Mode = "button";
let typingTimer: number | undefined;
let autoInviteTimer: number | undefined;
let userOpened = false;
let inviteWidth = 320;
let viewChanges = 0;

// ---------------------------------------------------------------- DOM

const root = h("div", { class: "kefu", id: "kefu" });
const launcher = h("button", { type: "button", class: "launcher", id: "kefu-launcher" });
const launcherText = h("span", { class: "launcher-text" });
const badge = h("span", { class: "badge", "aria-hidden": "true", hidden: true });
launcher.append(icon("chat", 26), launcherText, badge);

const invite = h("div", { class: "invite", id: "kefu-invite", role: "dialog", "aria-labelledby": "kefu-invite-title", hidden: true });
const inviteAvatar = h("span", { class: "avatar big", "aria-hidden": "true" });
const inviteTitle = h("h2", { id: "kefu-invite-title", class: "invite-title" });
const inviteText = h("p", { class: "invite-text" });
const inviteAccept = h("button", { type: "button", class: "primary", id: "kefu-invite-accept" });
const inviteLater = h("button", { type: "button", class: "secondary", id: "kefu-invite-later" });
const inviteClose = h("button", { type: "button", class: "icon-button invite-close" });
inviteClose.appendChild(icon("close", 18));
invite.append(
  inviteClose,
  h("div", { class: "invite-head" }, inviteAvatar, inviteTitle),
  inviteText,
  h("div", { class: "invite-actions" }, inviteLater, inviteAccept),
);

const win = h("div", { class: "window", id: "kefu-window", role: "dialog", "aria-modal": "true", "aria-labelledby": "kefu-title", hidden: true });
const brand = h("span", { class: "brand", "aria-hidden": "true" });
const title = h("h1", { id: "kefu-title", class: "title" });
const subtitle = h("p", { class: "subtitle", id: "kefu-subtitle" });
const infoButton = h("button", { type: "button", class: "icon-button", id: "kefu-info", hidden: true });
infoButton.appendChild(icon("info"));
const closeButton = h("button", { type: "button", class: "icon-button", id: "kefu-close" });
closeButton.appendChild(icon("minimize"));
const head = h(
  "header",
  { class: "head" },
  brand,
  h("div", { class: "titles" }, title, subtitle),
  infoButton,
  closeButton,
);

const statusBar = h("div", { class: "status", id: "kefu-status", role: "status", "aria-live": "polite", hidden: true });
const statusText = h("span", { class: "status-text" });
const statusLeave = h("button", { type: "button", class: "link", id: "kefu-status-leave", hidden: true });
statusBar.append(statusText, statusLeave);

const scroll = h("div", { class: "scroll", id: "kefu-scroll" });
const earlier = h("button", { type: "button", class: "link earlier", id: "kefu-earlier", hidden: true });
const welcome = h("div", { class: "welcome", id: "kefu-welcome", hidden: true });
const logList = h("ol", { class: "log", id: "kefu-log", "aria-live": "polite", "aria-relevant": "additions" });
const prechatForm = h("form", { class: "card form prechat", id: "kefu-prechat", novalidate: true, hidden: true });
scroll.append(earlier, welcome, logList, prechatForm);

const typing = h("div", { class: "typing", id: "kefu-typing", "aria-live": "polite", hidden: true });
const typingText = h("span");
typing.append(h("span", { class: "dots", "aria-hidden": "true" }, h("i"), h("i"), h("i")), typingText);
const notice = h("div", { class: "notice", id: "kefu-notice", role: "alert", hidden: true });
const sneak = h("div", { class: "sneakpeek", id: "kefu-sneakpeek", hidden: true });

const composer = h("form", { class: "composer", id: "kefu-composer" });
const textarea = h("textarea", { id: "kefu-text", rows: "1", maxlength: "20000", autocomplete: "off" });
const emojiButton = h("button", { type: "button", class: "icon-button", id: "kefu-emoji-button", "aria-expanded": "false", "aria-controls": "kefu-emoji" });
emojiButton.appendChild(icon("smile"));
const attachButton = h("button", { type: "button", class: "icon-button", id: "kefu-attach" });
attachButton.appendChild(icon("clip"));
const fileInput = h("input", { type: "file", id: "kefu-file", class: "sr-only", tabindex: "-1", "aria-hidden": "true" });
const sendButton = h("button", { type: "submit", class: "send", id: "kefu-send" });
sendButton.appendChild(icon("send"));
const textLabel = h("label", { for: "kefu-text", class: "sr-only" });
composer.append(textLabel, textarea, h("div", { class: "tools" }, emojiButton, attachButton, fileInput, sendButton));
const emojiPanel = h("div", { class: "emoji-panel", id: "kefu-emoji", role: "group", hidden: true });

const endedBar = h("div", { class: "ended-bar", hidden: true });
const newChatButton = h("button", { type: "button", class: "primary", id: "kefu-newchat" });
endedBar.appendChild(newChatButton);

const leave = h("section", { class: "leave", id: "kefu-leave", hidden: true, "aria-labelledby": "kefu-leave-title" });
const panel = h("section", { class: "panel", id: "kefu-panel", hidden: true, "aria-labelledby": "kefu-panel-title" });
const rating = h("div", { class: "overlay", id: "kefu-rating", role: "dialog", "aria-modal": "true", "aria-labelledby": "kefu-rating-title", hidden: true });

const mainArea = h("div", { class: "main" }, statusBar, scroll, typing, notice, sneak, emojiPanel, composer, endedBar, leave);
const body = h("div", { class: "body" }, mainArea, panel);
win.append(head, body, rating);
root.append(launcher, invite, win);

const log = new ChatLog(logList, {
  t: () => t,
  avatar: () => site.config.theme.avatar,
  agentName: (m) => m.nickName || m.username || agentName || t.agent,
  onGap: (s, after) => void fillGap(s, after),
  onAdded: (item, live) => {
    if (item.side === "agent" && live) hideTyping();
    updateUnread();
  },
});

// ---------------------------------------------------------------- texts

function applyTexts(): void {
  document.documentElement.lang = lang;
  const btnText = site.config.button.text || t.button;
  setLauncherText(btnText);
  launcher.title = btnText;
  updateUnread();
  inviteAccept.textContent = t.inviteAccept;
  inviteLater.textContent = t.inviteLater;
  inviteClose.setAttribute("aria-label", t.close);
  title.textContent = (site.config.panel && site.config.panel.name) || site.name || t.windowTitle;
  infoButton.setAttribute("aria-label", t.info);
  infoButton.title = t.info;
  closeButton.setAttribute("aria-label", t.closeChat);
  closeButton.title = t.closeChat;
  earlier.textContent = t.earlier;
  statusLeave.textContent = t.leaveOffer;
  textLabel.textContent = t.message;
  emojiButton.setAttribute("aria-label", t.emoji);
  emojiButton.title = t.emoji;
  emojiPanel.setAttribute("aria-label", t.emojiList);
  attachButton.setAttribute("aria-label", t.attach);
  attachButton.title = t.attach;
  sendButton.setAttribute("aria-label", t.send);
  sendButton.title = t.send;
  newChatButton.textContent = t.newChat;
  sneak.textContent = t.sneakpeek;
  updatePlaceholder();
  updateSubtitle();
  log.redrawAll();
}

/**
 * The entry button's text. On the vertical bar, Chinese (and other CJK) text stands upright one
 * character under the other, as on UCKeFu's button, laid out as lines rather than with
 * writing-mode (fonts without vertical metrics would draw the characters on top of each other);
 * other text runs sideways.
 */
function setLauncherText(text: string): void {
  launcherText.textContent = "";
  const bar = site.config.button.shape === "bar";
  const cjk = /[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef]/.test(text);
  launcherText.className = "launcher-text" + (bar ? (cjk ? " stack" : " sideways") : "");
  if (bar && cjk) {
    for (const ch of Array.from(text)) launcherText.appendChild(h("span", { text: ch }));
  } else {
    launcherText.textContent = text;
  }
}

function updatePlaceholder(): void {
  textarea.placeholder = sessionOpen ? t.placeholder : t.placeholderStart;
}

function updateSubtitle(): void {
  let s: string;
  if (!socket || refused) s = "";
  else if (!socket.connected) s = connectedOnce ? t.reconnecting : t.connecting;
  else if (sessionOpen && agentName && sessionState === "assigned") s = agentName;
  else s = site.open && site.agents ? t.online : t.offline;
  subtitle.textContent = s;
}

// ---------------------------------------------------------------- theme

function applyTheme(): void {
  const c = site.config;
  const st = document.documentElement.style;
  st.setProperty("--theme", c.theme.color);
  st.setProperty("--theme-fg", textOn(c.theme.color));
  st.setProperty("--button", c.button.color);
  st.setProperty("--button-fg", textOn(c.button.color));
  launcher.className = `launcher shape-${c.button.shape} side-${c.button.position}`;
  document.body.classList.toggle("side-left", c.button.position === "left");
  brand.textContent = "";
  if (c.theme.logo) brand.appendChild(h("img", { src: c.theme.logo, alt: "" }));
  else brand.appendChild(icon("chat", 22));
  infoButton.hidden = !c.panel;
  renderPanel();
  renderWelcome();
  renderPrechat();
  renderLeave();
  renderRating();
  renderEmoji();
  const accept: string[] = [];
  if (c.uploads.images) accept.push(...IMAGE_TYPES);
  if (c.uploads.files) accept.push(".pdf", ".txt", ".zip", ...FILE_TYPES);
  fileInput.accept = accept.join(",");
  attachButton.hidden = accept.length === 0;
  sneak.hidden = !(c.sneakpeek && sessionOpen);
}

function renderWelcome(): void {
  welcome.textContent = "";
  const text = site.config.welcome;
  welcome.hidden = !text;
  if (!text) return;
  const av = h("span", { class: "avatar", "aria-hidden": "true" });
  if (site.config.theme.avatar) av.appendChild(h("img", { src: site.config.theme.avatar, alt: "" }));
  else av.appendChild(icon("chat", 16));
  welcome.append(av, h("p", { class: "bubble", text }));
}

function renderPanel(): void {
  panel.textContent = "";
  const p = site.config.panel;
  if (!p) return;
  const back = h("button", { type: "button", class: "link back", id: "kefu-panel-back" }, icon("back", 16), t.infoClose);
  back.addEventListener("click", () => togglePanel(false));
  panel.append(back, h("h2", { id: "kefu-panel-title", text: p.name || site.name || t.info }));
  if (p.intro) panel.appendChild(h("p", { class: "intro", text: p.intro }));
  const dl = h("ul", { class: "contacts" });
  if (p.phone) {
    const digits = p.phone.replace(/[^\d+]/g, "");
    const item = h("li", null, icon("phone", 16));
    if (digits) item.appendChild(h("a", { href: "tel:" + digits, text: p.phone }));
    else item.appendChild(h("span", { text: p.phone }));
    dl.appendChild(item);
  }
  if (p.email) {
    const item = h("li", null, icon("mail", 16));
    if (/^[^\s@<>"]+@[^\s@<>"]+\.[^\s@<>"]+$/.test(p.email)) item.appendChild(h("a", { href: "mailto:" + p.email, text: p.email }));
    else item.appendChild(h("span", { text: p.email }));
    dl.appendChild(item);
  }
  if (dl.childNodes.length) panel.appendChild(dl);
}

function togglePanel(show: boolean): void {
  if (!site.config.panel) return;
  panel.hidden = !show;
  body.classList.toggle("panel-open", show);
  infoButton.setAttribute("aria-expanded", String(show));
  if (show) {
    const back = document.getElementById("kefu-panel-back");
    if (back) back.focus();
  } else focusDefault();
}

// ---------------------------------------------------------------- pre-chat form

const fieldInputs: Partial<Record<FieldName, HTMLInputElement | HTMLTextAreaElement>> = {};

function fieldLabel(name: FieldName, custom?: string): string {
  return custom || (name === "name" ? t.name : name === "phone" ? t.phone : name === "email" ? t.email : t.memo);
}

function makeField(prefix: string, name: FieldName, label: string, required: boolean): { wrap: HTMLElement; input: HTMLInputElement | HTMLTextAreaElement } {
  const id = `kefu-${prefix}-${name}`;
  const input =
    name === "memo"
      ? h("textarea", { id, name, rows: "3", maxlength: "512" })
      : h("input", {
          id,
          name,
          type: name === "email" ? "email" : name === "phone" ? "tel" : "text",
          autocomplete: name === "name" ? "name" : name === "email" ? "email" : name === "phone" ? "tel" : "off",
          // the server's limits (sessions and leave messages): name 64, phone 32, email 128
          maxlength: name === "email" ? "128" : name === "phone" ? "32" : "64",
        });
  if (required) {
    input.required = true;
    input.setAttribute("aria-required", "true");
  }
  const lab = h("label", { for: id }, label, " ", h("span", { class: "hint", text: required ? "*" : `(${t.optional})` }));
  if (required) lab.lastElementChild!.setAttribute("aria-hidden", "true");
  return { wrap: h("div", { class: "field" }, lab, input), input };
}

function renderPrechat(): void {
  prechatForm.textContent = "";
  const pc = site.config.prechat;
  if (!pc.enabled) return;
  prechatForm.append(h("h2", { text: t.prechatTitle }), h("p", { class: "hint", text: t.prechatIntro }));
  for (const f of pc.fields) {
    const { wrap, input } = makeField("pc", f.name, fieldLabel(f.name, f.label), f.required);
    input.value = contact[f.name] || "";
    fieldInputs[f.name] = input;
    prechatForm.appendChild(wrap);
  }
  const err = h("p", { class: "error", id: "kefu-prechat-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "kefu-prechat-submit", text: t.prechatSubmit });
  prechatForm.append(err, submit);
}

function validateField(name: FieldName, v: string, label: string, required: boolean): string {
  if (v === "") return required ? t.fieldRequired(label) : "";
  if (name === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return t.badEmail;
  if (name === "phone" && !/^[+()\d\s-]{5,32}$/.test(v)) return t.badPhone;
  return "";
}

prechatForm.addEventListener("input", (ev) => {
  const err = document.getElementById("kefu-prechat-error");
  if (err) err.hidden = true;
  (ev.target as HTMLElement).removeAttribute("aria-invalid");
});

prechatForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const err = document.getElementById("kefu-prechat-error")!;
  const data: Partial<Record<FieldName, string>> = {};
  for (const f of site.config.prechat.fields) {
    const input = fieldInputs[f.name];
    if (!input) continue;
    const v = input.value.trim();
    const msg = validateField(f.name, v, fieldLabel(f.name, f.label), f.required);
    input.setAttribute("aria-invalid", msg ? "true" : "false");
    if (msg) {
      err.textContent = msg;
      err.hidden = false;
      input.focus();
      return;
    }
    if (v) data[f.name] = v;
  }
  err.hidden = true;
  contact = { ...contact, ...data };
  storageSet("local", key("contact"), JSON.stringify(contact));
  prechatDone = true;
  const submit = document.getElementById("kefu-prechat-submit") as HTMLButtonElement;
  submit.disabled = true;
  ensureSession(data)
    .then(() => {
      setView("chat");
      textarea.focus();
    })
    .catch((e) => {
      prechatDone = false;
      err.textContent = t.startFailed + errorText(e);
      err.hidden = false;
    })
    .then(() => {
      submit.disabled = false;
    });
});

function loadContact(): Partial<Record<FieldName, string>> {
  try {
    const v = JSON.parse(storageGet("local", key("contact")) || "{}");
    const out: Partial<Record<FieldName, string>> = {};
    for (const k of ["name", "phone", "email"] as FieldName[]) if (typeof v[k] === "string") out[k] = v[k];
    return out;
  } catch {
    return {};
  }
}

// ---------------------------------------------------------------- leave a message

function renderLeave(): void {
  leave.textContent = "";
  const form = h("form", { class: "form", id: "kefu-leave-form", novalidate: true });
  const intro = h("p", { class: "hint", id: "kefu-leave-intro", text: site.open ? t.leaveIntro : t.offhours });
  form.append(h("h2", { id: "kefu-leave-title", text: t.leaveTitle }), intro);
  const name = makeField("lm", "name", t.name, true);
  const phone = makeField("lm", "phone", t.phone, false);
  const email = makeField("lm", "email", t.email, false);
  name.input.value = contact.name || "";
  phone.input.value = contact.phone || "";
  email.input.value = contact.email || "";
  const contentId = "kefu-lm-content";
  const content = h("textarea", { id: contentId, name: "content", rows: "4", maxlength: "2000", required: true, "aria-required": "true" });
  const contentWrap = h(
    "div",
    { class: "field" },
    h("label", { for: contentId }, t.leaveContent, " ", h("span", { class: "hint", "aria-hidden": "true", text: "*" })),
    content,
  );
  const err = h("p", { class: "error", id: "kefu-leave-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "kefu-leave-submit", text: t.leaveSubmit });
  const actions = h("div", { class: "actions" });
  if (site.open) {
    const anyway = h("button", { type: "button", class: "link", id: "kefu-chat-anyway", text: t.chatAnyway });
    anyway.addEventListener("click", () => setView(sessionOpen || !needsPrechat() ? "chat" : "prechat"));
    actions.appendChild(anyway);
  }
  actions.appendChild(submit);
  form.append(name.wrap, phone.wrap, email.wrap, contentWrap, err, actions);
  const done = h("div", { class: "done", id: "kefu-leave-done", hidden: true, role: "status" });
  const back = h("button", { type: "button", class: "secondary", id: "kefu-leave-back", text: t.leaveBack });
  done.append(h("p", { text: t.leaveDone }), back);
  back.addEventListener("click", () => {
    done.hidden = true;
    form.hidden = false;
    content.value = "";
    setView(sessionOpen || !needsPrechat() ? "chat" : "prechat");
  });
  leave.append(form, done);
  form.addEventListener("input", (ev) => {
    err.hidden = true;
    (ev.target as HTMLElement).removeAttribute("aria-invalid");
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fail = (msg: string, input?: HTMLElement) => {
      err.textContent = msg;
      err.hidden = false;
      if (input) input.focus();
    };
    const v = { name: name.input.value.trim(), phone: phone.input.value.trim(), email: email.input.value.trim(), content: content.value.trim() };
    for (const [f, inp, lab, req] of [
      ["name", name.input, t.name, true],
      ["phone", phone.input, t.phone, false],
      ["email", email.input, t.email, false],
    ] as [FieldName, HTMLInputElement, string, boolean][]) {
      const msg = validateField(f, v[f as "name" | "phone" | "email"], lab, req);
      inp.setAttribute("aria-invalid", msg ? "true" : "false");
      if (msg) return fail(msg, inp);
    }
    if (!v.phone && !v.email) return fail(t.leaveNeedContact, phone.input);
    if (!v.content) return fail(t.fieldRequired(t.leaveContent), content);
    if (!identity) return fail(t.unavailable);
    err.hidden = true;
    submit.disabled = true;
    const payload: Record<string, string> = { userid: identity.userid, sign: identity.sign, name: v.name, content: v.content };
    if (v.phone) payload.phone = v.phone;
    if (v.email) payload.email = v.email;
    contact = { ...contact, name: v.name, phone: v.phone || contact.phone, email: v.email || contact.email };
    storageSet("local", key("contact"), JSON.stringify(contact));
    requestJSON<{ id: string }>("POST", base + "/leavemsg", payload)
      .then(() => {
        form.hidden = true;
        done.hidden = false;
        back.focus();
      })
      .catch((e) => fail(errorText(e)))
      .then(() => {
        submit.disabled = false;
      });
  });
}

// ---------------------------------------------------------------- rating

function renderRating(): void {
  rating.textContent = "";
  const form = h("form", { class: "card form", id: "kefu-rating-form" });
  const group = h("fieldset", { class: "stars", id: "kefu-stars" });
  group.appendChild(h("legend", { class: "sr-only", text: t.rateTitle }));
  const levelText = h("p", { class: "level-text", id: "kefu-level-text", "aria-hidden": "true" });
  for (let i = 1; i <= 5; i++) {
    const id = "kefu-star-" + i;
    const input = h("input", { type: "radio", name: "level", value: String(i), id, class: "sr-only" });
    const label = h("label", { for: id, title: t.rateLevels[i - 1] }, icon("star", 30), h("span", { class: "sr-only", text: `${i} – ${t.rateLevels[i - 1]}` }));
    input.addEventListener("change", () => {
      levelText.textContent = t.rateLevels[i - 1];
      group.setAttribute("data-level", String(i));
    });
    group.append(input, label);
  }
  const comment = h("textarea", { id: "kefu-rating-comment", rows: "3", maxlength: "500" });
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "kefu-rating-submit", text: t.rateSubmit });
  const skip = h("button", { type: "button", class: "secondary", id: "kefu-rating-skip", text: t.rateSkip });
  form.append(
    h("h2", { id: "kefu-rating-title", text: t.rateTitle }),
    group,
    levelText,
    h("div", { class: "field" }, h("label", { for: "kefu-rating-comment", text: t.rateComment }), comment),
    err,
    h("div", { class: "actions" }, skip, submit),
  );
  rating.appendChild(form);
  skip.addEventListener("click", () => closeRating(true));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const checked = form.querySelector<HTMLInputElement>('input[name="level"]:checked');
    if (!checked) {
      err.textContent = t.ratePick;
      err.hidden = false;
      return;
    }
    if (!socket || !ratingSid) return;
    err.hidden = true;
    submit.disabled = true;
    const target = ratingSid;
    emitAck<{}>(socket, "satisfaction", { agentserviceid: target, level: Number(checked.value), comment: comment.value.trim() })
      .then((ack) => {
        if (ack.ok) {
          markRated(target);
          closeRating(false);
          log.addNote(target, t.rateThanks);
        } else {
          err.textContent = ackError(ack.error);
          err.hidden = false;
        }
      })
      .catch((e) => {
        err.textContent = errorText(e);
        err.hidden = false;
      })
      .then(() => {
        submit.disabled = false;
      });
  });
}

function rated(s: string): boolean {
  return (storageGet("local", key("rated")) || "").split(",").indexOf(s) >= 0;
}

function markRated(s: string): void {
  const list = (storageGet("local", key("rated")) || "").split(",").filter(Boolean);
  list.push(s);
  storageSet("local", key("rated"), list.slice(-20).join(","));
}

function askRating(s: string): void {
  if (!s || rated(s)) return;
  ratingSid = s;
  if (mode === "open") openRating();
  else {
    ratingPending = true;
    updateUnread();
  }
}

function openRating(): void {
  ratingPending = false;
  renderRating();
  rating.hidden = false;
  const first = rating.querySelector<HTMLInputElement>('input[name="level"]');
  if (first && userOpened) first.focus();
}

function closeRating(skipped: boolean): void {
  if (skipped && ratingSid) markRated(ratingSid); // asked once: a skip is an answer
  rating.hidden = true;
  ratingSid = "";
  focusDefault();
}

// ---------------------------------------------------------------- emoji

function renderEmoji(): void {
  emojiPanel.textContent = "";
  for (const e of EMOJI) {
    const b = h("button", { type: "button", class: "emoji", text: e, "aria-label": e });
    b.addEventListener("click", () => {
      insertAtCaret(e);
      toggleEmoji(false);
    });
    emojiPanel.appendChild(b);
  }
}

function toggleEmoji(show: boolean): void {
  emojiPanel.hidden = !show;
  emojiButton.setAttribute("aria-expanded", String(show));
  if (show) {
    const first = emojiPanel.querySelector("button");
    if (first) first.focus();
  } else textarea.focus();
}

function insertAtCaret(s: string): void {
  const start = textarea.selectionStart ?? textarea.value.length;
  const end = textarea.selectionEnd ?? start;
  textarea.value = textarea.value.slice(0, start) + s + textarea.value.slice(end);
  const pos = start + s.length;
  textarea.setSelectionRange(pos, pos);
  autoGrow();
  drafts.call();
}

emojiButton.addEventListener("click", () => toggleEmoji(emojiPanel.hidden));
emojiPanel.addEventListener("keydown", (ev) => {
  const buttons = Array.prototype.slice.call(emojiPanel.querySelectorAll("button")) as HTMLButtonElement[];
  const i = buttons.indexOf(document.activeElement as HTMLButtonElement);
  const cols = 8;
  let next = -1;
  if (ev.key === "ArrowRight") next = i + 1;
  else if (ev.key === "ArrowLeft") next = i - 1;
  else if (ev.key === "ArrowDown") next = i + cols;
  else if (ev.key === "ArrowUp") next = i - cols;
  if (next >= 0 && next < buttons.length) {
    ev.preventDefault();
    buttons[next].focus();
  }
});

// ---------------------------------------------------------------- views and modes

function needsPrechat(): boolean {
  return site.config.prechat.enabled && !prechatDone;
}

function setView(v: View): void {
  view = v;
  viewChanges++;
  const chatLike = v === "chat" || v === "prechat";
  scroll.hidden = !chatLike;
  leave.hidden = chatLike;
  prechatForm.hidden = v !== "prechat";
  updateComposer();
  if (v === "prechat") scroll.scrollTop = scroll.scrollHeight;
  if (v === "leave") {
    const done = document.getElementById("kefu-leave-done");
    const form = document.getElementById("kefu-leave-form");
    if (done && form && done.hidden) form.hidden = false;
    const intro = document.getElementById("kefu-leave-intro");
    if (intro) intro.textContent = site.open ? (sessionState === "noagent" ? t.noagent : t.leaveIntro) : t.offhours;
  }
}

function updateComposer(): void {
  const chat = view === "chat";
  // After an end, a new chat starts from a button (and the pre-chat form when there is one).
  const ended = !sessionOpen && sid !== "" && (sessionState === "ended" || sessionState === "offhours");
  composer.hidden = !chat || ended;
  endedBar.hidden = !chat || !ended;
  const usable = !!socket && !refused;
  textarea.disabled = !usable;
  sendButton.disabled = !usable;
  attachButton.disabled = !usable;
  emojiButton.disabled = !usable;
  sneak.hidden = !(site.config.sneakpeek && chat && (sessionOpen || textarea.value !== ""));
  if (composer.hidden) toggleEmojiQuiet();
  updatePlaceholder();
}

function toggleEmojiQuiet(): void {
  emojiPanel.hidden = true;
  emojiButton.setAttribute("aria-expanded", "false");
}

function chooseView(): View {
  if (sessionOpen) return "chat";
  if (!site.open || !site.agents) return "leave";
  if (needsPrechat()) return "prechat";
  return "chat";
}

function setMode(m: Mode): void {
  if (site.blocked && m !== "hidden") m = "hidden";
  const was = mode;
  mode = m;
  document.body.setAttribute("data-mode", m);
  launcher.hidden = m !== "button";
  invite.hidden = !(m === "invite" || (m === "open" && inviteData !== null));
  invite.classList.toggle("in-window", m === "open");
  win.hidden = m !== "open";
  if (embedded) storageSet("session", key("open"), m === "open" ? "1" : null);
  if (m === "open" && was !== "open") onOpened();
  if (m !== "open") toggleEmojiQuiet();
  report();
}

function openWindow(byUser: boolean): void {
  userOpened = byUser;
  if (inviteData && !inviteData.agentno) inviteData = null; // an automatic invite is answered by opening
  setMode("open");
}

function onOpened(): void {
  setView(chooseView());
  scroll.scrollTop = scroll.scrollHeight; // the newest messages
  markRead();
  if (ratingPending && ratingSid) openRating();
  else focusDefault();
  const chosen = viewChanges;
  void refreshConfig().then(() => {
    // Nobody there any more (or again): switch between the chat and the leave-message form,
    // unless the visitor moved on in the meantime or started typing.
    const note = document.getElementById("kefu-lm-content") as HTMLTextAreaElement | null;
    if (mode !== "open" || sessionOpen || viewChanges !== chosen || textarea.value !== "" || (note && note.value !== "")) return;
    const want = chooseView();
    if (want !== view) setView(want);
  });
}

function closeWindow(): void {
  if (!embedded) return;
  setMode("button");
  if (userOpened) launcher.focus();
}

function focusDefault(): void {
  if (!userOpened || mode !== "open") return;
  if (!rating.hidden) return;
  if (view === "prechat") {
    const first = prechatForm.querySelector<HTMLElement>("input, textarea");
    if (first) return first.focus();
  }
  if (view === "leave") {
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
  prechatDone = false;
  sessionState = "";
  sid = "";
  agentName = "";
  hadAgent = false;
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
    if (mode === "invite" || (mode === "open" && inviteData)) {
      ev.preventDefault();
      return answerInvite(false);
    }
    if (mode === "open" && embedded) {
      ev.preventDefault();
      userOpened = true;
      return closeWindow();
    }
    return;
  }
  if (ev.key === "Tab" && mode === "open") {
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

// ---------------------------------------------------------------- talking to the loader

/** Tells the loader which mode we are in and the size we need (button and invite). */
function report(): void {
  if (!embedded || !parentOrigin) return;
  let w = 0;
  let hgt = 0;
  if (mode === "button") {
    w = Math.ceil(launcher.offsetWidth);
    hgt = Math.ceil(launcher.offsetHeight);
  } else if (mode === "invite") {
    w = inviteWidth;
    hgt = Math.ceil(invite.offsetHeight);
  }
  const c = site.config.button;
  try {
    window.parent.postMessage({ kefu: 1, type: "layout", mode, shape: c.shape, side: c.position, width: w, height: hgt }, parentOrigin);
  } catch {
    // the parent went away
  }
}

if (typeof ResizeObserver !== "undefined") {
  const ro = new ResizeObserver(() => {
    if (mode === "button" || mode === "invite") report();
  });
  ro.observe(launcher);
  ro.observe(invite);
}

let hostResolve: (() => void) | null = null;
const hostKnown = new Promise<void>((resolve) => {
  hostResolve = resolve;
});

function clip(v: unknown, max: number): string {
  return typeof v === "string" ? v.slice(0, max) : "";
}

window.addEventListener("message", (ev: MessageEvent) => {
  if (!embedded || ev.source !== window.parent) return;
  const d = ev.data;
  if (!d || typeof d !== "object" || d.kefu !== 1 || typeof d.type !== "string") return;
  if (parentOrigin && ev.origin !== parentOrigin) return;
  if (d.type === "host") {
    const first = !parentOrigin;
    parentOrigin = ev.origin;
    if (first && d.store && typeof d.store === "object") hostSnapshot = d.store;
    const next = { title: clip(d.title, 255), url: clip(d.url, 1024), referrer: clip(d.referrer, 1024) };
    const changed = !first && (next.url !== host.url || next.title !== host.title);
    host = next;
    if (hostResolve) {
      hostResolve();
      hostResolve = null;
    }
    if (first) report();
    if (changed) sendTrace(); // a single-page app moved on
  } else if (d.type === "open") {
    if (mode !== "hidden") openWindow(false);
  } else if (d.type === "close") {
    if (mode === "open") setMode("button");
  }
  if (d.type === "host" || d.type === "viewport") {
    const vw = typeof d.width === "number" && d.width > 0 ? d.width : 0;
    if (vw) {
      inviteWidth = Math.max(200, Math.min(320, Math.floor(vw - 24)));
      document.documentElement.style.setProperty("--invite-w", inviteWidth + "px");
      document.body.classList.toggle("mobile", vw < 600);
      if (mode === "invite") report();
    }
  }
});

// ---------------------------------------------------------------- identity and config

function loadIdentity(): Identity | null {
  try {
    const v = JSON.parse(storageGet("local", key("identity")) || "null");
    if (v && typeof v.userid === "string" && typeof v.sign === "string") return { userid: v.userid, sign: v.sign };
  } catch {
    // ask for a fresh one
  }
  return null;
}

async function getIdentity(): Promise<Identity> {
  const stored = loadIdentity();
  const res = await requestJSON<Identity>("POST", base + "/visitor", stored || {});
  if (!res || typeof res.userid !== "string" || typeof res.sign !== "string") throw new Error("malformed identity");
  storageSet("local", key("identity"), JSON.stringify({ userid: res.userid, sign: res.sign }));
  return res;
}

async function refreshConfig(): Promise<void> {
  const q = identity ? "?" + new URLSearchParams({ userid: identity.userid, sign: identity.sign }).toString() : "";
  try {
    const raw = await requestJSON<unknown>("GET", base + "/config" + q);
    applySite(normalizeSite(raw, appid));
  } catch {
    // keep what we have
  }
}

function applySite(next: SiteInfo): void {
  const before = JSON.stringify([site.config, site.lang, site.name]);
  site = next;
  if (site.blocked) return goHidden();
  // Only the flags (open, agents) changed: nothing to redraw (forms keep what was typed in them).
  if (JSON.stringify([site.config, site.lang, site.name]) === before) return updateSubtitle();
  const l = pickLang(site.config.lang, site.lang, navigator.language);
  if (l !== lang) {
    lang = l;
    t = strings(l);
  }
  applyTheme();
  applyTexts();
}

function goHidden(): void {
  setMode("hidden");
  document.body.setAttribute("data-ready", "blocked");
  if (socket) {
    refused = true;
    socket.io.reconnection(false);
    socket.close();
  }
}

// ---------------------------------------------------------------- socket

function osBrowser(): { osname: string; browser: string } {
  const ua = navigator.userAgent;
  const os = /Windows/.test(ua)
    ? "Windows"
    : /Android/.test(ua)
      ? "Android"
      : /iPhone|iPad|iPod/.test(ua)
        ? "iOS"
        : /Mac OS X/.test(ua)
          ? "macOS"
          : /Linux/.test(ua)
            ? "Linux"
            : "";
  const m =
    /(Edg|OPR|Firefox|Chrome|Chromium|Version)\/(\d+)/.exec(ua) || /(MSIE) (\d+)/.exec(ua) || /(Trident).*rv:(\d+)/.exec(ua);
  let browser = "";
  if (m) {
    const name = m[1] === "Edg" ? "Edge" : m[1] === "OPR" ? "Opera" : m[1] === "Version" ? "Safari" : m[1] === "Trident" ? "IE" : m[1];
    browser = name + " " + m[2];
  }
  return { osname: os, browser };
}

function connect(id: Identity): void {
  const ob = osBrowser();
  const query: Record<string, string> = {
    appid,
    userid: id.userid,
    sign: id.sign,
    title: host.title,
    url: host.url,
    lastseq: "0", // replay the open session (if any): a page reload or a new page keeps the chat
  };
  if (host.referrer) query.referrer = host.referrer;
  if (ob.osname) query.osname = ob.osname;
  if (ob.browser) query.browser = ob.browser;
  if (contact.name) query.nickname = contact.name.slice(0, 64);
  const s = io("/im/user", { forceNew: true, query });
  socket = s;

  s.on("connect", () => {
    if (refused) return;
    const first = !connectedOnce;
    connectedOnce = true;
    if (first) sendTrace();
    updateSubtitle();
    updateComposer();
  });
  s.on("disconnect", () => {
    updateSubtitle();
  });
  s.on("reconnect_attempt", () => {
    const q = s.io.opts.query;
    if (q) {
      q.lastseq = String(sid ? log.maxSeq(sid) : 0);
      q.title = host.title;
      q.url = host.url;
    }
  });
  s.on("refused", (r: ApiErrorBody) => {
    refused = true;
    s.io.reconnection(false);
    s.close();
    if (r && r.code === "forbidden") {
      // blacklisted: the widget stays hidden
      site.blocked = true;
      setMode("hidden");
      document.body.setAttribute("data-ready", "blocked");
      return;
    }
    showNotice(t.unavailable + (r && r.message ? ` (${r.message})` : ""));
    updateSubtitle();
    updateComposer();
  });
  s.on("status", (st: StatusEvent) => {
    if (!refused && st && typeof st === "object") onStatus(st);
  });
  s.on("message", (m: ChatMessage) => {
    if (refused || !m || typeof m !== "object" || m.type === "writing") return;
    if (m.agentserviceid && !sid && sessionOpen) sid = m.agentserviceid;
    log.addIncoming(m, true);
  });
  s.on("typing", (d: { agentserviceid?: string }) => {
    if (refused) return;
    if (d && d.agentserviceid && sid && d.agentserviceid !== sid) return;
    showTyping();
  });
  s.on("invite", (inv: InviteEvent) => {
    if (!refused && inv && typeof inv === "object") onInvite(inv);
  });
}

function sendTrace(): void {
  if (!socket || refused || !socket.connected) return;
  socket.emit("trace", { title: host.title, url: host.url, referrer: host.referrer }, () => {
    /* acknowledged; nothing to do */
  });
}

/**
 * The server's wording of a status (the tenant's prompts, plain text) when it is in the widget's
 * language; otherwise (a site set to English in a tenant with Chinese prompts, or the reverse) our
 * own text, so that the window speaks one language.
 */
function serverText(msg?: string): string {
  if (typeof msg !== "string" || msg === "") return "";
  return pickLang(site.lang || "zh-CN") === lang ? msg : "";
}

function onStatus(st: StatusEvent): void {
  const s = typeof st.agentserviceid === "string" ? st.agentserviceid : "";
  const state = st.state || "";
  if (s && s !== sid) {
    if (state === "ended" && sid && !sessionOpen) return; // an old session's news
    sid = s;
    hadAgent = false;
  }
  const nick = typeof st.nickName === "string" && st.nickName ? st.nickName : "";
  const server = serverText(st.message);
  let text = "";
  let offerLeave = false;
  switch (state) {
    case "assigned":
      sessionOpen = true;
      hadAgent = true;
      agentName = nick || agentName || t.agent;
      text = server || t.assigned(agentName);
      break;
    case "queued":
      sessionOpen = true;
      text = server || t.queued(st.num);
      break;
    case "noagent":
      sessionOpen = !!s || sessionOpen;
      text = server || t.noagent;
      offerLeave = true;
      break;
    case "offhours":
      sessionOpen = false;
      text = server || t.offhours;
      site.open = false;
      break;
    case "ended":
      sessionOpen = false;
      hideTyping();
      text = "";
      log.addNote(sid, server || t.ended);
      if (hadAgent) askRating(sid);
      break;
    case "rating":
      askRating(sid);
      text = statusText.textContent || "";
      break;
    default:
      if (server) text = server;
  }
  if (state && state !== "rating") sessionState = state;
  statusText.textContent = text;
  statusLeave.hidden = !offerLeave;
  statusBar.hidden = text === "";
  if (state === "offhours" || (state === "ended" && prechatDone)) prechatDone = false;
  if (state === "offhours") setView("leave");
  else if (view === "prechat" && sessionOpen) setView("chat");
  else updateComposer();
  updateSubtitle();
  updatePlaceholder();
}

statusLeave.addEventListener("click", () => {
  setView("leave");
  userOpened = true;
  focusDefault();
});

function showTyping(): void {
  typingText.textContent = t.typing(agentName || t.agent);
  typing.hidden = false;
  if (typingTimer !== undefined) clearTimeout(typingTimer);
  typingTimer = window.setTimeout(hideTyping, 4000);
}

function hideTyping(): void {
  if (typingTimer !== undefined) clearTimeout(typingTimer);
  typingTimer = undefined;
  typing.hidden = true;
}

let noticeTimer: number | undefined;
function showNotice(text: string): void {
  notice.textContent = text;
  notice.hidden = text === "";
  if (noticeTimer !== undefined) clearTimeout(noticeTimer);
  if (text) noticeTimer = window.setTimeout(() => (notice.hidden = true), 8000);
}

// ---------------------------------------------------------------- invites

function onInvite(inv: InviteEvent): void {
  if (sessionOpen || site.blocked) return; // already chatting
  inviteData = {
    agentno: typeof inv.agentno === "string" ? inv.agentno : inv.agentno !== undefined ? String(inv.agentno) : undefined,
    name: typeof inv.nickName === "string" ? inv.nickName : undefined,
    message: (typeof inv.message === "string" && inv.message) || site.config.invite.message || t.inviteDefault,
  };
  showInvite();
}

function showInvite(): void {
  if (!inviteData) return;
  inviteTitle.textContent = inviteData.name ? t.inviteFrom(inviteData.name) : title.textContent || t.inviteTitle;
  inviteText.textContent = inviteData.message;
  inviteAvatar.textContent = "";
  if (site.config.theme.avatar) inviteAvatar.appendChild(h("img", { src: site.config.theme.avatar, alt: "" }));
  else if (inviteData.name) inviteAvatar.textContent = inviteData.name.trim().charAt(0).toUpperCase();
  else inviteAvatar.appendChild(icon("chat", 22));
  if (mode === "open") {
    setMode("open"); // shows the card inside the window
  } else {
    modeBeforeInvite = mode === "hidden" ? "button" : mode;
    setMode("invite");
  }
}

function answerInvite(accept: boolean): void {
  const inv = inviteData;
  inviteData = null;
  if (!inv) return;
  if (inv.agentno && socket && socket.connected) {
    socket.emit("invite", { accept }, () => {
      /* acknowledged */
    });
  }
  if (!accept) {
    setMode(mode === "open" ? "open" : modeBeforeInvite === "open" ? "open" : "button");
    if (mode === "button" && userOpened) launcher.focus();
    return;
  }
  userOpened = true;
  if (inv.agentno) pendingAgent = inv.agentno;
  setMode("open");
  if (sessionOpen) return;
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

function scheduleAutoInvite(): void {
  const secs = site.config.invite.auto;
  if (!secs || storageGet("session", key("autoinvite"))) return;
  if (autoInviteTimer !== undefined) clearTimeout(autoInviteTimer);
  autoInviteTimer = window.setTimeout(() => {
    if (sessionOpen || mode !== "button" || inviteData) return;
    storageSet("session", key("autoinvite"), "1");
    inviteData = { message: site.config.invite.message || t.inviteDefault };
    showInvite();
  }, secs * 1000);
}

// ---------------------------------------------------------------- sending

/** The open session's id, opening one (`new`) first when there is none. */
function ensureSession(extra?: Partial<Record<FieldName, string>>): Promise<string> {
  if (sessionOpen && sid) return Promise.resolve(sid);
  if (starting) return starting;
  const s = socket;
  if (!s || refused) return Promise.reject(new Error(t.unavailable));
  const payload: Record<string, string> = {};
  for (const k of ["name", "phone", "email", "memo"] as FieldName[]) {
    const v = (extra && extra[k]) || (k !== "memo" ? contact[k] : undefined);
    if (v) payload[k] = v;
  }
  if (pendingAgent) payload.agent = pendingAgent;
  const p = emitAck<{ agentserviceid: string }>(s, "new", payload, ACK_TIMEOUT_MS).then((ack) => {
    if (!ack.ok) throw new AckError(ack.error);
    pendingAgent = "";
    if (ack.agentserviceid !== sid) hadAgent = false;
    sid = ack.agentserviceid;
    sessionOpen = true;
    if (!sessionState || sessionState === "ended" || sessionState === "offhours") sessionState = "starting";
    if (!statusText.textContent || statusBar.hidden) {
      statusText.textContent = t.queued();
      statusBar.hidden = false;
    }
    updateComposer();
    updateSubtitle();
    return sid;
  });
  starting = p;
  const clear = () => {
    if (starting === p) starting = null;
  };
  p.then(clear, clear);
  return p;
}

class AckError extends Error {
  constructor(public body: ApiErrorBody) {
    super(ackError(body));
  }
}

function ackError(e?: ApiErrorBody): string {
  if (!e) return t.errorGeneric;
  return e.message || e.code || t.errorGeneric;
}

function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message || t.errorGeneric;
  if (e instanceof Error) return e.message;
  return t.errorGeneric;
}

type MsgAck = Ack<{ id: string; seq: number; createtime?: string }>;

function emitMessage(item: Item, payload: Record<string, unknown>, retry: () => void): void {
  const s = socket;
  if (!s) return log.fail(item, t.unavailable, retry);
  const apply = (ack: MsgAck) => {
    if (ack.ok) log.acked(item, ack);
    else log.fail(item, ackError(ack.error), retry);
  };
  emitAck<{ id: string; seq: number; createtime?: string }>(s, "message", payload, ACK_TIMEOUT_MS, apply).then(apply, (e) =>
    log.fail(item, errorText(e), retry),
  );
}

function sendText(text: string): void {
  const clientid = randomId();
  const item = log.addPending({ sid: sessionOpen ? sid : "", clientid, text, msgtype: "text" });
  const payload = { type: "message", msgtype: "text", message: text, clientid };
  const attempt = () => {
    log.update(item, { state: "sending", error: undefined, retry: undefined });
    ensureSession().then(
      (s) => {
        if (item.sid !== s) log.setSid(item, s);
        emitMessage(item, payload, attempt);
      },
      (e) => log.fail(item, errorText(e), attempt),
    );
  };
  attempt();
}

function sendFile(file: File): void {
  const up = site.config.uploads;
  const isImage = IMAGE_TYPES.indexOf(file.type) >= 0;
  if (isImage ? !up.images : !up.files) return showNotice(up.images || up.files ? t.badType : t.uploadsOff);
  if (!isImage && file.type && FILE_TYPES.indexOf(file.type) < 0) return showNotice(t.badType);
  if (file.size > up.maxsize) return showNotice(t.tooBig((up.maxsize / 1024 / 1024).toFixed(up.maxsize < 1024 * 1024 ? 2 : 0)));
  const clientid = randomId();
  const item = log.addPending({
    sid: sessionOpen ? sid : "",
    clientid,
    text: file.name,
    msgtype: isImage ? "image" : "file",
    filename: file.name,
    filesize: file.size,
  });
  let stored: Upload | null = null;
  const attempt = () => {
    log.update(item, { state: "sending", error: undefined, retry: undefined, uploading: !stored });
    ensureSession()
      .then(async (s) => {
        if (item.sid !== s) log.setSid(item, s);
        if (!stored) stored = await upload(file);
        const u = stored;
        log.update(item, { uploading: false, url: u.url, filename: u.filename || file.name, filesize: u.filesize });
        const msgtype = IMAGE_TYPES.indexOf(u.mime) >= 0 ? "image" : "file";
        emitMessage(item, { type: "message", msgtype, message: u.filename || file.name, attachmentid: u.attachmentid, clientid }, attempt);
      })
      .catch((e) => log.fail(item, uploadError(e), attempt));
  };
  attempt();
}

function uploadError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 413 || e.code === "too_large") {
      const up = site.config.uploads;
      return t.tooBig((up.maxsize / 1024 / 1024).toFixed(0));
    }
    if (e.code === "bad_request") return t.badType;
  }
  return errorText(e);
}

async function upload(file: File): Promise<Upload> {
  if (!identity) throw new Error(t.unavailable);
  const fd = new FormData();
  fd.append("userid", identity.userid);
  fd.append("sign", identity.sign);
  fd.append("file", file, file.name || "file");
  let res: Response;
  try {
    res = await fetch(base + "/upload", { method: "POST", body: fd, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, "unavailable", t.unavailable);
  }
  let data: any = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err && typeof err.code === "string" ? err.code : "", err && typeof err.message === "string" ? err.message : `HTTP ${res.status}`);
  }
  if (!data || typeof data.attachmentid !== "string") throw new Error(t.errorGeneric);
  return {
    attachmentid: data.attachmentid,
    url: typeof data.url === "string" ? data.url : "",
    filename: typeof data.filename === "string" ? data.filename : file.name,
    filesize: typeof data.filesize === "number" ? data.filesize : file.size,
    mime: typeof data.mime === "string" ? data.mime : file.type,
  };
}

const drafts = new Throttle(300, () => {
  const s = socket;
  if (!s || refused || !sessionOpen || !s.connected) return;
  const draft = textarea.value;
  if (site.config.sneakpeek && draft === "") return;
  // Without sneak peek the draft never leaves the page: the agent only learns that we type.
  s.emit("message", { type: "writing", msgtype: "text", message: site.config.sneakpeek ? draft : "", clientid: randomId() }, () => {
    /* acknowledged */
  });
});

function autoGrow(): void {
  textarea.style.height = "auto";
  textarea.style.height = Math.min(textarea.scrollHeight, 120) + "px";
}

composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = textarea.value;
  if (text.trim() === "" || !socket || refused) return;
  drafts.cancel();
  textarea.value = "";
  autoGrow();
  sendText(text);
  textarea.focus();
});

textarea.addEventListener("keydown", (ev) => {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing && ev.keyCode !== 229) {
    ev.preventDefault();
    composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit", { cancelable: true }));
  }
});

textarea.addEventListener("input", () => {
  autoGrow();
  drafts.call();
  if (site.config.sneakpeek) sneak.hidden = !(sessionOpen || textarea.value !== "");
});

textarea.addEventListener("paste", (ev: ClipboardEvent) => {
  const files = ev.clipboardData ? ev.clipboardData.files : null;
  if (!files || files.length === 0) return;
  ev.preventDefault();
  for (let i = 0; i < files.length; i++) sendFile(files[i]);
});

attachButton.addEventListener("click", () => fileInput.click());
fileInput.addEventListener("change", () => {
  const files = fileInput.files;
  if (files) for (let i = 0; i < files.length; i++) sendFile(files[i]);
  fileInput.value = "";
});

win.addEventListener("dragover", (ev) => {
  if (ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") >= 0 && view === "chat" && !composer.hidden) {
    ev.preventDefault();
  }
});
win.addEventListener("drop", (ev) => {
  if (!ev.dataTransfer || ev.dataTransfer.files.length === 0 || view !== "chat" || composer.hidden) return;
  ev.preventDefault();
  for (let i = 0; i < ev.dataTransfer.files.length; i++) sendFile(ev.dataTransfer.files[i]);
});

// ---------------------------------------------------------------- history and unread

const PAGE = 50;

async function loadHistory(before?: string): Promise<void> {
  if (!identity) return;
  const q = new URLSearchParams({ userid: identity.userid, sign: identity.sign, limit: String(PAGE) });
  if (before) q.set("before", before);
  const box = scroll;
  const fromBottom = box.scrollHeight - box.scrollTop;
  try {
    const list = await requestJSON<ChatMessage[]>("GET", `${base}/messages?${q}`);
    if (!Array.isArray(list)) return;
    for (const m of list) log.addIncoming(m, false);
    earlier.hidden = list.length < PAGE;
    if (before) box.scrollTop = box.scrollHeight - fromBottom; // keep the view where it was
  } catch {
    // history is a convenience: the chat works without it
  }
}

earlier.addEventListener("click", () => {
  const oldest = log.oldestId();
  earlier.hidden = true;
  void loadHistory(oldest);
});

async function fillGap(s: string, after: number): Promise<void> {
  if (!identity) return;
  const q = new URLSearchParams({ userid: identity.userid, sign: identity.sign, after: String(after), session: s });
  try {
    const list = await requestJSON<ChatMessage[]>("GET", `${base}/messages?${q}`);
    if (Array.isArray(list)) for (const m of list) log.addIncoming(m, false);
  } catch {
    // the next live message checks again
  }
}

function readMark(): { sid: string; seq: number } {
  try {
    const v = JSON.parse(storageGet("local", key("read")) || "null");
    if (v && typeof v.sid === "string" && typeof v.seq === "number") return v;
  } catch {
    // none
  }
  return { sid: "", seq: 0 };
}

function markRead(): void {
  updateUnread();
}

function updateUnread(): void {
  let n = 0;
  if (sid) {
    if (mode === "open" && document.visibilityState !== "hidden") {
      storageSet("local", key("read"), JSON.stringify({ sid, seq: log.maxSeq(sid) }));
    } else {
      const r = readMark();
      n = log.agentAfter(sid, r.sid === sid ? r.seq : 0);
    }
  }
  if (ratingPending) n = Math.max(n, 1);
  badge.textContent = n > 9 ? "9+" : String(n);
  badge.hidden = n === 0;
  const label = (site.config.button.text || t.button) + (n ? " – " + t.unread(n) : "");
  launcher.setAttribute("aria-label", label);
}

document.addEventListener("visibilitychange", () => {
  if (mode === "open") markRead();
});

// ---------------------------------------------------------------- boot

async function boot(): Promise<void> {
  document.body.classList.toggle("standalone", !embedded);
  document.body.classList.toggle("embedded", embedded);
  document.body.appendChild(root);
  applyTheme();
  applyTexts();
  setMode("hidden");
  if (embedded) {
    try {
      window.parent.postMessage({ kefu: 1, type: "ready" }, "*"); // carries nothing: asks the loader for the host page's facts
    } catch {
      // no parent to talk to
    }
    await Promise.race([hostKnown, new Promise((r) => setTimeout(r, 3000))]);
  } else {
    host = { title: document.title, url: location.href, referrer: document.referrer };
  }

  if (!storeReady) {
    // The browser denies this frame its storage: keep things in the host page's, through the loader.
    if (hostSnapshot && parentOrigin) {
      const target = parentOrigin;
      store = hostStore(hostSnapshot, (msg) => window.parent.postMessage(msg, target));
    }
    storeReady = true;
  }
  contact = loadContact();
  for (let attempt = 0; ; attempt++) {
    try {
      identity = await getIdentity();
      break;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
        // blacklisted (403) or no such site (404): stay hidden
        site.blocked = e.status === 403;
        setMode("hidden");
        document.body.setAttribute("data-ready", e.status === 403 ? "blocked" : "unknown");
        if (!embedded) showStandaloneError(e.status === 404 ? "unknown site" : "");
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(30, 2 ** attempt) * 1000));
    }
  }
  await refreshConfig();
  if (site.blocked) {
    document.body.setAttribute("data-ready", "blocked");
    return goHidden();
  }
  document.body.setAttribute("data-ready", "ready");
  void loadHistory();
  connect(identity);
  const restore = embedded && storageGet("session", key("open")) === "1";
  if (!embedded || restore) {
    openWindow(false);
  } else {
    window.setTimeout(() => {
      if (mode === "hidden" && !site.blocked) setMode("button");
      scheduleAutoInvite();
    }, site.config.button.delay * 1000);
  }
}

function showStandaloneError(msg: string): void {
  document.body.appendChild(h("p", { class: "fatal", text: msg ? `${t.unavailable} (${msg})` : t.unavailable }));
}

void boot();
