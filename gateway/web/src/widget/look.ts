// The widget's texts and theme: the entry button, the window's head, the welcome and the side
// panel, redrawn when the site or the language changes.

import { renderEmoji } from "./composer";
import { textOn } from "./config";
import { h, icon } from "./dom";
import { attachButton, body, brand, closeButton, earlier, emojiButton, emojiPanel, fileInput, infoButton, inviteAccept, inviteClose, inviteLater, launcher, launcherText, newChatButton, panel, sendButton, sneak, statusLeave, subtitle, textarea, textLabel, title, welcome } from "./elements";
import { log, updateUnread } from "./history";
import { renderLeave } from "./leave";
import { renderPicker } from "./picker";
import { renderPrechat } from "./prechat";
import { renderRating } from "./rating";
import { FILE_TYPES, IMAGE_TYPES, lang, S, site, t } from "./state";
import { focusDefault } from "./views";

export function applyTexts(): void {
  document.documentElement.lang = lang;
  const btnText = site.config.button.text || t.button;
  setLauncherText(btnText);
  launcher.title = btnText;
  updateUnread();
  inviteAccept.textContent = t.inviteAccept;
  inviteLater.textContent = t.inviteLater;
  inviteClose.setAttribute("aria-label", t.close);
  title.textContent = (site.config.panel && site.config.panel.name) || site.name || t.windowTitle;
  nameIconButton(infoButton, t.info);
  nameIconButton(closeButton, t.closeChat);
  earlier.textContent = t.earlier;
  statusLeave.textContent = t.leaveOffer;
  textLabel.textContent = t.message;
  nameIconButton(emojiButton, t.emoji);
  emojiPanel.setAttribute("aria-label", t.emojiList);
  nameIconButton(attachButton, t.attach);
  nameIconButton(sendButton, t.send);
  newChatButton.textContent = t.newChat;
  sneak.textContent = t.sneakpeek;
  updatePlaceholder();
  updateSubtitle();
  log.redrawAll();
}

/** An icon button's name: read out (aria-label) and shown on hover (title), as it has no text. */
function nameIconButton(b: HTMLElement, name: string): void {
  b.setAttribute("aria-label", name);
  b.title = name;
}

/**
 * The entry button's text. On the vertical bar, Chinese (and other CJK) text stands upright one
 * character under the other, as on UCKeFu's button, laid out as lines rather than with
 * writing-mode (fonts without vertical metrics would draw the characters on top of each other);
 * other text runs sideways.
 */
export function setLauncherText(text: string): void {
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

export function updatePlaceholder(): void {
  textarea.placeholder = S.sessionOpen ? t.placeholder : t.placeholderStart;
}

export function updateSubtitle(): void {
  let s: string;
  if (!S.socket || S.refused) s = "";
  else if (!S.socket.connected) s = S.connectedOnce ? t.reconnecting : t.connecting;
  else if (S.sessionOpen && S.agentName && S.sessionState === "assigned") s = S.agentName;
  else s = site.open && site.agents ? t.online : t.offline;
  subtitle.textContent = s;
}

export function applyTheme(): void {
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
  renderPicker();
  renderPrechat();
  renderLeave();
  renderRating();
  renderEmoji();
  const accept: string[] = [];
  if (c.uploads.images) accept.push(...IMAGE_TYPES);
  if (c.uploads.files) accept.push(".pdf", ".txt", ".zip", ...FILE_TYPES);
  fileInput.accept = accept.join(",");
  attachButton.hidden = accept.length === 0;
  sneak.hidden = !(c.sneakpeek && S.sessionOpen);
}

export function renderWelcome(): void {
  welcome.textContent = "";
  const text = site.config.welcome;
  welcome.hidden = !text;
  if (!text) return;
  const av = h("span", { class: "avatar", "aria-hidden": "true" });
  if (site.config.theme.avatar) av.appendChild(h("img", { src: site.config.theme.avatar, alt: "" }));
  else av.appendChild(icon("chat", 16));
  welcome.append(av, h("p", { class: "bubble", text }));
}

export function renderPanel(): void {
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

export function togglePanel(show: boolean): void {
  if (!site.config.panel) return;
  panel.hidden = !show;
  body.classList.toggle("panel-open", show);
  infoButton.setAttribute("aria-expanded", String(show));
  if (show) {
    const back = document.getElementById("kefu-panel-back");
    if (back) back.focus();
  } else focusDefault();
}
