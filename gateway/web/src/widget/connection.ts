// The visitor's identity (POST /im/{appid}/visitor), the site's config (GET /im/{appid}/config)
// and the /im/user socket.

import io from "socket.io-client";
import { ApiErrorBody, ChatMessage, Identity, requestJSON, StatusEvent } from "../common";
import { normalizeSite, SiteInfo } from "./config";
import {  } from "./elements";
import { log } from "./history";
import { pickLang } from "./i18n";
import { onInvite } from "./invite";
import { applyTexts, applyTheme, updateSubtitle } from "./look";
import { renderPicker } from "./picker";
import { appid, base, InviteEvent, key, lang, S, setLang, setSite, site, storageGet, storageSet, t } from "./state";
import { onStatus, showNotice, showTyping } from "./status";
import { setMode, updateComposer } from "./views";

export function loadIdentity(): Identity | null {
  try {
    const v = JSON.parse(storageGet("local", key("identity")) || "null");
    if (v && typeof v.userid === "string" && typeof v.sign === "string") return { userid: v.userid, sign: v.sign };
  } catch {
    // ask for a fresh one
  }
  return null;
}

export async function getIdentity(): Promise<Identity> {
  const stored = loadIdentity();
  const res = await requestJSON<Identity>("POST", base + "/visitor", stored || {});
  if (!res || typeof res.userid !== "string" || typeof res.sign !== "string") throw new Error("malformed identity");
  storageSet("local", key("identity"), JSON.stringify({ userid: res.userid, sign: res.sign }));
  return res;
}

export async function refreshConfig(): Promise<void> {
  const q = S.identity ? "?" + new URLSearchParams({ userid: S.identity.userid, sign: S.identity.sign }).toString() : "";
  try {
    const raw = await requestJSON<unknown>("GET", base + "/config" + q);
    applySite(normalizeSite(raw, appid));
  } catch {
    // keep what we have
  }
}

export function applySite(next: SiteInfo): void {
  const before = JSON.stringify([site.config, site.lang, site.name]);
  const consultBefore = JSON.stringify(site.consult);
  setSite(next);
  if (site.blocked) return goHidden();
  if (JSON.stringify(site.consult) !== consultBefore) renderPicker(); // groups, or who is online, changed
  // Only the flags (open, agents) changed: nothing to redraw (forms keep what was typed in them).
  if (JSON.stringify([site.config, site.lang, site.name]) === before) return updateSubtitle();
  const l = pickLang(site.config.lang, site.lang, navigator.language);
  if (l !== lang) setLang(l);
  applyTheme();
  applyTexts();
}

export function goHidden(): void {
  setMode("hidden");
  document.body.setAttribute("data-ready", "blocked");
  if (S.socket) {
    S.refused = true;
    S.socket.io.reconnection(false);
    S.socket.close();
  }
}

export function osBrowser(): { osname: string; browser: string } {
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

export function connect(id: Identity): void {
  const ob = osBrowser();
  const query: Record<string, string> = {
    appid,
    userid: id.userid,
    sign: id.sign,
    title: S.host.title,
    url: S.host.url,
    lastseq: "0", // replay the open session (if any): a page reload or a new page keeps the chat
  };
  if (S.host.referrer) query.referrer = S.host.referrer;
  if (ob.osname) query.osname = ob.osname;
  if (ob.browser) query.browser = ob.browser;
  if (S.contact.name) query.nickname = S.contact.name.slice(0, 64);
  const s = io("/im/user", { forceNew: true, query });
  S.socket = s;

  s.on("connect", () => {
    if (S.refused) return;
    const first = !S.connectedOnce;
    S.connectedOnce = true;
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
      q.lastseq = String(S.sid ? log.maxSeq(S.sid) : 0);
      q.title = S.host.title;
      q.url = S.host.url;
    }
  });
  s.on("refused", (r: ApiErrorBody) => {
    S.refused = true;
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
    if (!S.refused && st && typeof st === "object") onStatus(st);
  });
  s.on("message", (m: ChatMessage) => {
    if (S.refused || !m || typeof m !== "object" || m.type === "writing") return;
    if (m.agentserviceid && !S.sid && S.sessionOpen) S.sid = m.agentserviceid;
    log.addIncoming(m, true);
  });
  s.on("typing", (d: { agentserviceid?: string }) => {
    if (S.refused) return;
    if (d && d.agentserviceid && S.sid && d.agentserviceid !== S.sid) return;
    showTyping();
  });
  s.on("invite", (inv: InviteEvent) => {
    if (!S.refused && inv && typeof inv === "object") onInvite(inv);
  });
}

export function sendTrace(): void {
  if (!S.socket || S.refused || !S.socket.connected) return;
  S.socket.emit("trace", { title: S.host.title, url: S.host.url, referrer: S.host.referrer }, () => {
    /* acknowledged; nothing to do */
  });
}
