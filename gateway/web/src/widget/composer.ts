// The composer: the text box (Enter sends, the draft goes to the agent, throttled), the emoji
// panel, and files by button, paste or drop.

import { randomId, Throttle } from "../common";
import { h } from "./dom";
import { attachButton, composer, emojiButton, emojiPanel, fileInput, sneak, textarea, win } from "./elements";
import { EMOJI } from "./emoji";
import { sendFile, sendText } from "./send";
import { S, site } from "./state";

export function renderEmoji(): void {
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

export function toggleEmoji(show: boolean): void {
  emojiPanel.hidden = !show;
  emojiButton.setAttribute("aria-expanded", String(show));
  if (show) {
    const first = emojiPanel.querySelector("button");
    if (first) first.focus();
  } else textarea.focus();
}

export function insertAtCaret(s: string): void {
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

export const drafts = new Throttle(300, () => {
  const s = S.socket;
  if (!s || S.refused || !S.sessionOpen || !s.connected) return;
  const draft = textarea.value;
  if (site.config.sneakpeek && draft === "") return;
  // Without sneak peek the draft never leaves the page: the agent only learns that we type.
  s.emit("message", { type: "writing", msgtype: "text", message: site.config.sneakpeek ? draft : "", clientid: randomId() }, () => {
    /* acknowledged */
  });
});

export function autoGrow(): void {
  textarea.style.height = "auto";
  textarea.style.height = Math.min(textarea.scrollHeight, 120) + "px";
}

composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = textarea.value;
  if (text.trim() === "" || !S.socket || S.refused) return;
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
  if (site.config.sneakpeek) sneak.hidden = !(S.sessionOpen || textarea.value !== "");
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
  if (ev.dataTransfer && Array.prototype.indexOf.call(ev.dataTransfer.types, "Files") >= 0 && S.view === "chat" && !composer.hidden) {
    ev.preventDefault();
  }
});
win.addEventListener("drop", (ev) => {
  if (!ev.dataTransfer || ev.dataTransfer.files.length === 0 || S.view !== "chat" || composer.hidden) return;
  ev.preventDefault();
  for (let i = 0; i < ev.dataTransfer.files.length; i++) sendFile(ev.dataTransfer.files[i]);
});
