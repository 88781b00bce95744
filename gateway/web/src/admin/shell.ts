// The admin console's frame (/admin/): sign-in, the language switch, the section navigation and
// what every section is handed (Ctx). Sections are files of their own that call register(); the
// shell shows those the signed-in user's roles allow and opens one per location hash
// ("#/users", "#/settings?skill=…"). Server text is only ever set with textContent.

import { ApiError, requestJSON, storageGet, storageSet } from "../common";
import { h } from "../widget/dom";

export type Lang = "en" | "zh-CN";

export interface Me {
  id: string;
  username: string;
  nickname: string;
  orgi: string;
  roles: string[];
}

export interface Ctx {
  me: Me;
  lang: Lang;
  /** The text in the current language. */
  t(en: string, zh: string): string;
  /** JSON with the bearer token; a 401 ends the sign-in. */
  api<T>(method: string, url: string, body?: unknown): Promise<T>;
  /** A raw body (a CSV import, say), JSON answer. */
  send<T>(method: string, url: string, body: BodyInit, contentType: string): Promise<T>;
  /** An authenticated GET saved as a file. */
  download(url: string, filename: string): Promise<void>;
  /** The status line at the top of the page. */
  notify(text: string, kind?: "ok" | "error"): void;
  errText(e: unknown): string;
  /** An in-page confirmation (#confirm-dialog with #confirm-yes / #confirm-no). */
  confirm(text: string): Promise<boolean>;
  /** The query part of the location hash ("#/settings?skill=x" → skill=x). */
  params: URLSearchParams;
}

export interface Section {
  /** Location hash "#/<id>"; its nav button is #nav-<id>. */
  id: string;
  title: [en: string, zh: string];
  /** Shown to users holding one of these roles. */
  roles: string[];
  /** Called each time the section opens, with root emptied. */
  render(root: HTMLElement, ctx: Ctx): void | Promise<void>;
}

const sections: Section[] = [];

export function register(s: Section): void {
  sections.push(s);
}

/** The order sections appear in the navigation; unknown ids go last. */
const ORDER = ["tenants", "users", "groups", "roles", "settings", "sites", "tags", "canned", "blacklist", "security", "audit"];

interface LoginAnswer {
  token: string;
  agent: Me;
}

const TOKEN_KEY = "kefu:admin:token";
const USER_KEY = "kefu:admin:user";
const LANG_KEY = "kefu:admin:lang";
const session = (() => {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
})();
const local = (() => {
  try {
    return window.localStorage;
  } catch {
    return undefined;
  }
})();

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const n = document.getElementById(id);
  if (!n) throw new Error("missing #" + id);
  return n as T;
};

let token = storageGet(session, TOKEN_KEY) || "";
let me: Me | null = null;
let lang: Lang = pickLang();

function pickLang(): Lang {
  const saved = storageGet(local, LANG_KEY);
  if (saved === "en" || saved === "zh-CN") return saved;
  return (navigator.language || "").toLowerCase().startsWith("zh") ? "zh-CN" : "en";
}

function t(en: string, zh: string): string {
  return lang === "zh-CN" ? zh : en;
}

export function errText(e: unknown): string {
  if (e instanceof ApiError) return e.code ? `${e.message} (${e.code})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

function showError(node: HTMLElement, text: string): void {
  node.textContent = text;
  node.hidden = text === "";
}

function signedOut(message: string): void {
  token = "";
  me = null;
  storageSet(session, TOKEN_KEY, null);
  showLogin();
  showError($("login-error"), message);
}

async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  try {
    return await requestJSON<T>(method, url, body, token);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && token) signedOut(t("Your sign-in has ended; please sign in again.", "登录已失效，请重新登录。"));
    throw e;
  }
}

async function failure(res: Response): Promise<ApiError> {
  const data = await res.json().catch(() => null);
  const err = data && data.error;
  if (res.status === 401 && token) signedOut(t("Your sign-in has ended; please sign in again.", "登录已失效，请重新登录。"));
  return new ApiError(res.status, err && err.code ? String(err.code) : "", err && err.message ? String(err.message) : "HTTP " + res.status);
}

async function send<T>(method: string, url: string, body: BodyInit, contentType: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(url, { method, body, headers: { Authorization: "Bearer " + token, "Content-Type": contentType, Accept: "application/json" }, cache: "no-store" });
  } catch {
    throw new ApiError(0, "unavailable", t("cannot reach the server", "无法连接服务器"));
  }
  if (!res.ok) throw await failure(res);
  const text = await res.text();
  return (text ? JSON.parse(text) : null) as T;
}

async function download(url: string, filename: string): Promise<void> {
  const res = await fetch(url, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
  if (!res.ok) throw await failure(res);
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  const href = URL.createObjectURL(await res.blob());
  const a = h("a", { href, download: named ? named[1] : filename, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 60000); // after the download has read it
}

let noticeTimer = 0;
function notify(text: string, kind: "ok" | "error" = "ok"): void {
  const n = $("notice");
  n.textContent = text;
  n.className = "notice " + kind;
  n.hidden = text === "";
  window.clearTimeout(noticeTimer);
  if (kind === "ok" && text) noticeTimer = window.setTimeout(() => (n.hidden = true), 4000);
}

function confirmAction(text: string): Promise<boolean> {
  const dlg = $<HTMLDialogElement>("confirm-dialog");
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = t("Yes", "确定");
  $("confirm-no").textContent = t("Cancel", "取消");
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      $("confirm-yes").onclick = null;
      $("confirm-no").onclick = null;
      dlg.onclose = null;
      if (dlg.open) dlg.close();
      resolve(v);
    };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-no").onclick = () => done(false);
    dlg.onclose = () => done(false);
    dlg.showModal();
  });
}

// ---------------------------------------------------------------- sign-in

function showLogin(): void {
  $("app").hidden = true;
  $("login").hidden = false;
  applyLang();
  $<HTMLInputElement>("username").focus();
}

function canUse(roles: string[]): boolean {
  return roles.indexOf("admin") >= 0 || roles.indexOf("superadmin") >= 0;
}

function bindLogin(): void {
  $<HTMLFormElement>("login-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const username = ($<HTMLInputElement>("username").value || "").trim();
    const password = $<HTMLInputElement>("password").value;
    const err = $("login-error");
    showError(err, "");
    requestJSON<LoginAnswer>("POST", "/api/v1/auth/login", { username, password })
      .then((res) => {
        if (!canUse((res.agent && res.agent.roles) || [])) {
          void requestJSON("POST", "/api/v1/auth/logout", undefined, res.token).catch(() => undefined);
          throw new Error(t("This account is not an administrator.", "该账号不是管理员。"));
        }
        token = res.token;
        me = res.agent;
        storageSet(session, TOKEN_KEY, token);
        storageSet(session, USER_KEY, JSON.stringify(me));
        $<HTMLInputElement>("password").value = "";
        enter();
      })
      .catch((e) => {
        // The server's message says until when; the lead-in is the reader's language.
        const locked = e instanceof ApiError && e.code === "locked";
        showError(err, (locked ? t("", "登录失败次数过多，暂时禁止登录：") : "") + errText(e));
      });
  });
  $("logout").addEventListener("click", () => {
    const old = token;
    if (old) void requestJSON("POST", "/api/v1/auth/logout", undefined, old).catch(() => undefined);
    signedOut("");
  });
}

// ---------------------------------------------------------------- sections

function visible(): Section[] {
  const roles = (me && me.roles) || [];
  const rank = (id: string) => {
    const i = ORDER.indexOf(id);
    return i < 0 ? ORDER.length : i;
  };
  return sections.filter((s) => s.roles.some((r) => roles.indexOf(r) >= 0)).sort((a, b) => rank(a.id) - rank(b.id));
}

function current(): { id: string; params: URLSearchParams } {
  const m = /^#\/([^?]*)(?:\?(.*))?$/.exec(location.hash);
  return { id: m ? decodeURIComponent(m[1]) : "", params: new URLSearchParams(m && m[2] ? m[2] : "") };
}

function renderNav(active: string): void {
  const nav = $("nav");
  nav.textContent = "";
  for (const s of visible()) {
    const b = h("a", { id: "nav-" + s.id, href: "#/" + s.id, class: s.id === active ? "active" : undefined, "aria-current": s.id === active ? "page" : undefined, text: t(s.title[0], s.title[1]) });
    nav.appendChild(b);
  }
}

let opened = 0; // a newer open() supersedes a slower older one

async function open(): Promise<void> {
  if (!me) return;
  const list = visible();
  const want = current();
  const s = list.find((x) => x.id === want.id) || list[0];
  if (!s) return;
  if (s.id !== want.id) {
    history.replaceState(null, "", "#/" + s.id);
  }
  renderNav(s.id);
  document.title = "Kefu · " + t(s.title[0], s.title[1]);
  const root = $("section");
  root.textContent = "";
  root.dataset.section = s.id;
  notify("");
  const mine = ++opened;
  const ctx: Ctx = { me, lang, t, api, send, download, notify, errText, confirm: confirmAction, params: want.params };
  try {
    await s.render(root, ctx);
  } catch (e) {
    if (mine === opened) notify(errText(e), "error");
  }
}

function applyLang(): void {
  document.documentElement.lang = lang;
  for (const n of Array.from(document.querySelectorAll<HTMLElement>("[data-en]"))) {
    n.textContent = lang === "zh-CN" ? n.dataset.zh || "" : n.dataset.en || "";
  }
  const sel = $<HTMLSelectElement>("lang");
  sel.value = lang;
  const ls = $<HTMLSelectElement>("login-lang");
  ls.value = lang;
}

function setLang(v: string): void {
  lang = v === "zh-CN" ? "zh-CN" : "en";
  storageSet(local, LANG_KEY, lang);
  applyLang();
  if (me) void open();
}

function enter(): void {
  $("login").hidden = true;
  $("app").hidden = false;
  $("who").textContent = me ? me.nickname || me.username : "";
  applyLang();
  void open();
}

/** Starts the page: every section must have been registered by now. */
export function start(): void {
  bindLogin();
  $<HTMLSelectElement>("lang").addEventListener("change", (ev) => setLang((ev.target as HTMLSelectElement).value));
  $<HTMLSelectElement>("login-lang").addEventListener("change", (ev) => setLang((ev.target as HTMLSelectElement).value));
  window.addEventListener("hashchange", () => void open());
  const saved = storageGet(session, USER_KEY);
  if (token && saved) {
    try {
      me = JSON.parse(saved) as Me;
    } catch {
      me = null;
    }
  }
  if (token && me) {
    // The stored sign-in may have ended meanwhile: the section's first request (api()) then
    // brings the login form back.
    enter();
  } else {
    showLogin();
  }
}
