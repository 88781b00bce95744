// Talking to the loader on the host page (postMessage, origin-checked): the host page's facts in,
// the mode and the size we need out.

import { sendTrace } from "./connection";
import { invite, launcher } from "./elements";
import { embedded, S, site } from "./state";
import { openWindow, setMode } from "./views";

/** Tells the loader which mode we are in and the size we need (button and invite). */
export function report(): void {
  if (!embedded || !S.parentOrigin) return;
  let w = 0;
  let hgt = 0;
  if (S.mode === "button") {
    w = Math.ceil(launcher.offsetWidth);
    hgt = Math.ceil(launcher.offsetHeight);
  } else if (S.mode === "invite") {
    w = S.inviteWidth;
    hgt = Math.ceil(invite.offsetHeight);
  }
  const c = site.config.button;
  try {
    window.parent.postMessage({ kefu: 1, type: "layout", mode: S.mode, shape: c.shape, side: c.position, width: w, height: hgt }, S.parentOrigin);
  } catch {
    // the parent went away
  }
}

if (typeof ResizeObserver !== "undefined") {
  const ro = new ResizeObserver(() => {
    if (S.mode === "button" || S.mode === "invite") report();
  });
  ro.observe(launcher);
  ro.observe(invite);
}

export const hostKnown = new Promise<void>((resolve) => {
  S.hostResolve = resolve;
});

export function clip(v: unknown, max: number): string {
  return typeof v === "string" ? v.slice(0, max) : "";
}

window.addEventListener("message", (ev: MessageEvent) => {
  if (!embedded || ev.source !== window.parent) return;
  const d = ev.data;
  if (!d || typeof d !== "object" || d.kefu !== 1 || typeof d.type !== "string") return;
  if (S.parentOrigin && ev.origin !== S.parentOrigin) return;
  if (d.type === "host") {
    const first = !S.parentOrigin;
    S.parentOrigin = ev.origin;
    if (first && d.store && typeof d.store === "object") S.hostSnapshot = d.store;
    const next = { title: clip(d.title, 255), url: clip(d.url, 1024), referrer: clip(d.referrer, 1024) };
    const changed = !first && (next.url !== S.host.url || next.title !== S.host.title);
    S.host = next;
    if (S.hostResolve) {
      S.hostResolve();
      S.hostResolve = null;
    }
    if (first) report();
    if (changed) sendTrace(); // a single-page app moved on
  } else if (d.type === "open") {
    if (S.mode !== "hidden") openWindow(false);
  } else if (d.type === "close") {
    if (S.mode === "open") setMode("button");
  }
  if (d.type === "host" || d.type === "viewport") {
    const vw = typeof d.width === "number" && d.width > 0 ? d.width : 0;
    if (vw) {
      S.inviteWidth = Math.max(200, Math.min(320, Math.floor(vw - 24)));
      document.documentElement.style.setProperty("--invite-w", S.inviteWidth + "px");
      document.body.classList.toggle("mobile", vw < 600);
      if (S.mode === "invite") report();
    }
  }
});
