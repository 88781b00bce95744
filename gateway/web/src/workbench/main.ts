// The agent workbench at /agent/: sign-in, status, the /im/agent socket, and the tabs (chats,
// left messages, team IM). The parts live in chats.ts (list and chat pane), visitor.ts (visitor
// panel and actions), canned.ts (canned replies), inbox.ts (left messages); the team IM is
// entim.ts, mounted after sign-in.
//
// The login is kept in sessionStorage: it survives a reload but each tab signs in by itself.
// Nothing the server, a visitor or a colleague sends is ever inserted as HTML.

import io from "socket.io-client";
import { $, ApiError, Socket, Upload, errorText, requestJSON, setError, storageGet, storageSet } from "../common";
import { h } from "../widget/dom";
import { mountEntim, EntimHandle } from "./entim";
import { Lang, Strings, applyStatic, pickLang, strings } from "./i18n";
import { Notifier, pageHidden } from "./notify";
import { App, Prefs, Profile, field, modal, str } from "./ui";
import { Chats, createChats } from "./chats";
import { Inbox, createInbox } from "./inbox";
import { Monitor, createMonitor } from "./monitor";
import { createArchive } from "./archive";

const TOKEN_KEY = "kefu:workbench:token";
const PROFILE_KEY = "kefu:workbench:profile";
const PREFS_KEY = "kefu:workbench:prefs";
const LANG_KEY = "kefu:workbench:lang";

interface Counters {
  agents?: number;
  busy?: number;
  users?: number;
  inquene?: number;
  createtime?: string;
}

type Tab = "chats" | "inbox" | "entim" | "monitor" | "archive";

const loginView = $("login-view");
const loginForm = $<HTMLFormElement>("login-form");
const usernameInput = $<HTMLInputElement>("login-username");
const passwordInput = $<HTMLInputElement>("login-password");
const loginSubmit = $<HTMLButtonElement>("login-submit");
const loginError = $("login-error");
const workbench = $("workbench");
const statusToggle = $<HTMLButtonElement>("status-toggle");
const busyToggle = $<HTMLInputElement>("busy-toggle");
const countersLine = $("counters");
const connLine = $("conn");
const meLine = $("me");
const toastLine = $("toast");
const chatsBadge = $("chats-badge");
const inboxBadge = $("inbox-badge");
const entimBadge = $("entim-badge");
const entimRoot = $("entim-root");

let lang: Lang = pickLang(storageGet(window.localStorage, LANG_KEY) || "", navigator.language);
let t: Strings = strings(lang);
let token = storageGet(window.sessionStorage, TOKEN_KEY) || "";
let profile: Profile = readProfile();
let prefs: Prefs = readPrefs();
let socket: Socket | null = null;
let entim: EntimHandle | null = null;
let tab: Tab = "chats";
let status = { status: "notready", busy: false };
let counters: Counters = {};
let conn: "connecting" | "connected" | "disconnected" = "connecting";
let toastTimer: number | undefined;
const notifier = new Notifier();

function readProfile(): Profile {
  try {
    const p = JSON.parse(storageGet(window.sessionStorage, PROFILE_KEY) || "null");
    if (p && typeof p.id === "string") return { rights: [], tenant: false, ...p };
  } catch {
    // fall through
  }
  return { id: "", username: "", nickname: "", roles: [], rights: [], tenant: false };
}

function readPrefs(): Prefs {
  const d: Prefs = { sendKey: "enter", sound: true, desktop: true };
  try {
    const p = JSON.parse(storageGet(window.localStorage, PREFS_KEY) || "null");
    if (p && typeof p === "object") {
      if (p.sendKey === "ctrl" || p.sendKey === "enter") d.sendKey = p.sendKey;
      if (typeof p.sound === "boolean") d.sound = p.sound;
      if (typeof p.desktop === "boolean") d.desktop = p.desktop;
    }
  } catch {
    // defaults
  }
  return d;
}

// ---------------------------------------------------------------- the App the parts use

const app: App = {
  t: () => t,
  lang: () => lang,
  me: () => profile,
  prefs: () => prefs,
  socket: () => socket,
  api,
  upload,
  download,
  toast,
  alert(title, body, tag, opts = {}) {
    const hidden = pageHidden();
    if (prefs.sound && (hidden || opts.chime)) notifier.chime();
    if (prefs.desktop && hidden) notifier.desktop(title, body, tag, opts.onClick);
  },
  isStaff: () => profile.roles.some((r) => r === "supervisor" || r === "admin"),
  hasRight: (r) => profile.rights.includes(r),
};

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  try {
    return await requestJSON<T>(method, "/api/v1" + path, body, token);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && token) signOut(t.loginEnded);
    throw e;
  }
}

async function download(path: string, name: string): Promise<void> {
  const res = await fetch("/api/v1" + path, { headers: { Authorization: "Bearer " + token }, cache: "no-store" });
  if (!res.ok) {
    const data = await res.json().catch(() => null);
    const err = data && data.error;
    if (res.status === 401 && token) signOut(t.loginEnded);
    throw new ApiError(res.status, err && err.code ? String(err.code) : "", err && err.message ? String(err.message) : "HTTP " + res.status);
  }
  const named = /filename="([^"]+)"/.exec(res.headers.get("Content-Disposition") || "");
  const url = URL.createObjectURL(await res.blob());
  const a = h("a", { href: url, download: named ? named[1] : name, hidden: true });
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 60000); // after the download has read it
}

async function upload(form: FormData): Promise<Upload> {
  const res = await fetch("/api/v1/uploads", { method: "POST", body: form, headers: { Authorization: "Bearer " + token } });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err && err.code ? String(err.code) : "", err && err.message ? String(err.message) : "HTTP " + res.status);
  }
  return data as Upload;
}

function toast(text: string, error = false): void {
  toastLine.textContent = text;
  toastLine.classList.toggle("error", error);
  toastLine.hidden = false;
  if (toastTimer !== undefined) clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => (toastLine.hidden = true), error ? 8000 : 3000);
}

// ---------------------------------------------------------------- parts

const chats: Chats = createChats(app, { onUnread: renderBadges, showChats: () => showTab("chats") });
const inbox: Inbox = createInbox(app, { onCount: renderBadges });
const monitor: Monitor = createMonitor(app, $("tab-monitor"), { onCount: (n) => setBadge($("monitor-badge"), n) });
const archive = createArchive(app, $("tab-archive"));

function renderBadges(): void {
  const n = chats.totalUnread();
  setBadge(chatsBadge, n);
  setBadge(inboxBadge, inbox.pending());
  document.title = (n > 0 ? `(${n}) ` : "") + t.title;
}

function setBadge(node: HTMLElement, n: number): void {
  node.textContent = n > 99 ? "99+" : String(n);
  node.hidden = n <= 0;
}

// ---------------------------------------------------------------- language

function applyLang(): void {
  t = strings(lang);
  document.documentElement.lang = lang;
  applyStatic(document, t);
  document.querySelectorAll<HTMLSelectElement>(".lang-select").forEach((s) => (s.value = lang));
  renderStatus();
  renderCounters();
  renderConn();
  renderBadges();
  chats.relabel();
  inbox.relabel();
  monitor.relabel();
  archive.relabel();
  // The IM panel takes its language at mount: mount it again in the new one.
  if (entim) mountIM();
}

document.querySelectorAll<HTMLSelectElement>(".lang-select").forEach((s) =>
  s.addEventListener("change", () => {
    lang = s.value === "zh-CN" ? "zh-CN" : "en";
    storageSet(window.localStorage, LANG_KEY, lang);
    applyLang();
  }),
);

// ---------------------------------------------------------------- sign in / out

loginForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  setError(loginError, "");
  loginSubmit.disabled = true;
  notifier.requestPermission(); // a user gesture: the browser may ask now
  try {
    const res = await requestJSON<{ token: string; agent: Partial<Profile> }>("POST", "/api/v1/auth/login", {
      username: usernameInput.value.trim(),
      password: passwordInput.value,
    });
    if (!res || typeof res.token !== "string" || !res.token) throw new Error("malformed answer");
    const a = res.agent || {};
    token = res.token;
    profile = {
      id: String(a.id || ""),
      username: String(a.username || ""),
      nickname: String(a.nickname || a.username || ""),
      orgi: a.orgi,
      roles: Array.isArray(a.roles) ? a.roles.map(String) : [],
      rights: Array.isArray(a.rights) ? a.rights.map(String) : [],
      tenant: a.tenant === true,
    };
    storageSet(window.sessionStorage, TOKEN_KEY, token);
    storageSet(window.sessionStorage, PROFILE_KEY, JSON.stringify(profile));
    passwordInput.value = "";
    start();
  } catch (e) {
    setError(loginError, (e instanceof ApiError && e.code === "locked" ? t.locked : t.loginFailed) + errorText(e));
  } finally {
    loginSubmit.disabled = false;
  }
});

$("logout").addEventListener("click", async () => {
  try {
    await api("POST", "/auth/logout");
  } catch {
    // signing out here anyway
  }
  signOut("");
});

/** Ends everything of this login and shows the sign-in form with `message`. */
function signOut(message: string): void {
  if (socket) {
    const s = socket;
    socket = null;
    s.io.reconnection(false);
    s.close();
  }
  if (entim) {
    entim.close();
    entim = null;
  }
  token = "";
  profile = { id: "", username: "", nickname: "", roles: [], rights: [], tenant: false };
  storageSet(window.sessionStorage, TOKEN_KEY, null);
  storageSet(window.sessionStorage, PROFILE_KEY, null);
  chats.reset();
  inbox.reset();
  monitor.reset();
  archive.reset();
  document.querySelectorAll("dialog").forEach((d) => d.remove());
  workbench.hidden = true;
  loginView.hidden = false;
  setError(loginError, message);
  usernameInput.focus();
}

function start(): void {
  loginView.hidden = true;
  workbench.hidden = false;
  meLine.textContent = profile.nickname || profile.username;
  $("monitor-tab").hidden = !app.hasRight("read");
  countersLine.textContent = "";
  showTab("chats");
  connect();
  void chats.refresh();
  void inbox.refresh();
  void readStatus();
  mountIM();
}

function mountIM(): void {
  if (entim) entim.close();
  entim = mountEntim(entimRoot, {
    token,
    me: { id: profile.id, nickname: profile.nickname },
    lang,
    onUnread: (n) => setBadge(entimBadge, n),
  });
  entim.setVisible(!$("tab-entim").hidden && !pageHidden());
}

// ---------------------------------------------------------------- socket

function connect(): void {
  const s: Socket = io("/im/agent", { forceNew: true, query: { token } });
  socket = s;
  renderConn("connecting");
  s.on("connect", () => {
    renderConn("connected");
    void readStatus();
  });
  s.on("reconnect", () => void chats.refresh());
  s.on("disconnect", () => socket === s && renderConn("disconnected"));
  s.on("refused", (e: { code?: string }) => {
    s.io.reconnection(false);
    if (e && e.code === "unauthorized") signOut(t.loginEnded);
  });
  s.on("leave", (e: { reason?: string }) => {
    const reason = e && e.reason;
    signOut(reason === "password" ? t.passwordChanged : reason === "disabled" ? t.disabled : reason === "revoked" ? t.revoked : reason === "logout" ? "" : t.loginEnded);
  });
  s.on("status", (c: Counters) => {
    counters = c || {};
    renderCounters();
  });
  s.on("new", chats.onNew);
  s.on("message", chats.onMessage);
  s.on("end", chats.onEnd);
  s.on("transout", chats.onTransout);
  s.on("read", chats.onRead);
  s.on("whisper", chats.onWhisper);
  s.on("agentstatus", (e: { status?: string; busy?: boolean; by?: string; byname?: string }) => {
    if (!e || typeof e.status !== "string") return;
    status = { status: e.status, busy: !!e.busy };
    renderStatus();
    if (e.by) app.toast(t.statusBy(e.status === "ready" ? t.ready : e.status === "offline" ? t.offline : t.notReady, str(e.byname) || t.aSupervisor));
  });
  s.on("inviteresult", (e: { status?: string; servedbyname?: string; servedby?: string }) => {
    if (!e) return;
    if (e.status === "refused") app.toast(t.inviteRefused);
    else if (e.status === "redirected") app.toast(t.inviteRedirected(str(e.servedbyname) || str(e.servedby)));
  });
  s.on("leavemsg", inbox.onNotice);
  monitor.attach(s);
}

function renderConn(state = conn): void {
  conn = state;
  connLine.className = "conn " + state;
  connLine.textContent = state === "connected" ? t.connected : state === "connecting" ? t.connecting : t.disconnected;
  connLine.dataset.state = state;
}

function renderCounters(): void {
  const n = (v?: number) => (typeof v === "number" ? v : 0);
  countersLine.textContent = counters.createtime === undefined && counters.users === undefined
    ? ""
    : t.counters({ users: n(counters.users), inquene: n(counters.inquene), agents: n(counters.agents), busy: n(counters.busy) });
}

// ---------------------------------------------------------------- status

async function readStatus(): Promise<void> {
  try {
    status = await api<{ status: string; busy: boolean }>("PUT", "/agent/status", {});
    renderStatus();
  } catch {
    // shown as it was; the next change reads it again
  }
}

async function changeStatus(body: { status?: string; busy?: boolean }): Promise<void> {
  statusToggle.disabled = busyToggle.disabled = true;
  try {
    status = await api<{ status: string; busy: boolean }>("PUT", "/agent/status", body);
  } catch (e) {
    toast(t.error(t.errSave) + errorText(e), true);
  } finally {
    statusToggle.disabled = busyToggle.disabled = false;
    renderStatus();
  }
}

function renderStatus(): void {
  const ready = status.status === "ready";
  statusToggle.textContent = ready ? t.ready : status.status === "offline" ? t.offline : t.notReady;
  statusToggle.className = "status-toggle " + (ready ? (status.busy ? "busy" : "ready") : "notready");
  statusToggle.setAttribute("aria-pressed", String(ready));
  statusToggle.dataset.status = status.status;
  busyToggle.checked = !!status.busy;
}

statusToggle.addEventListener("click", () => void changeStatus({ status: status.status === "ready" ? "notready" : "ready" }));
busyToggle.addEventListener("change", () => void changeStatus({ busy: busyToggle.checked }));

// ---------------------------------------------------------------- tabs

function showTab(next: Tab): void {
  tab = next;
  document.querySelectorAll<HTMLButtonElement>("button[data-tab]").forEach((b) => {
    b.setAttribute("aria-selected", String(b.dataset.tab === next));
  });
  $("tab-chats").hidden = next !== "chats";
  $("tab-inbox").hidden = next !== "inbox";
  $("tab-entim").hidden = next !== "entim";
  $("tab-monitor").hidden = next !== "monitor";
  $("tab-archive").hidden = next !== "archive";
  monitor.setVisible(next === "monitor");
  archive.setVisible(next === "archive");
  if (entim) entim.setVisible(next === "entim" && !pageHidden());
  if (next === "inbox") void inbox.refresh();
  chats.setVisible(next === "chats");
}

document.querySelectorAll<HTMLButtonElement>("button[data-tab]").forEach((b) =>
  b.addEventListener("click", () => showTab((b.dataset.tab as Tab) || "chats")),
);

document.addEventListener("visibilitychange", () => {
  if (entim) entim.setVisible(tab === "entim" && !pageHidden());
  chats.setVisible(tab === "chats");
  // Another tab may have changed my status meanwhile.
  if (token && !pageHidden()) void readStatus();
});

// ---------------------------------------------------------------- settings and password

$("settings-button").addEventListener("click", () => {
  const sendKey = h("select", { id: "pref-sendkey" },
    h("option", { value: "enter", text: t.sendEnter }),
    h("option", { value: "ctrl", text: t.sendCtrlEnter }));
  sendKey.value = prefs.sendKey;
  const sound = h("input", { type: "checkbox", id: "pref-sound" });
  sound.checked = prefs.sound;
  const desktop = h("input", { type: "checkbox", id: "pref-desktop" });
  desktop.checked = prefs.desktop;
  const langSel = h("select", { class: "lang-select", id: "pref-lang" },
    h("option", { value: "en", text: "English" }), h("option", { value: "zh-CN", text: "简体中文" }));
  langSel.value = lang;
  const pw = h("button", { type: "button", class: "link", id: "change-password", text: t.changePassword });
  pw.addEventListener("click", () => passwordDialog());
  modal({
    id: "settings-dialog",
    title: t.settings,
    t,
    submit: t.save,
    body: [
      field(t.language, langSel),
      field(t.sendKey, sendKey),
      h("label", { class: "check" }, sound, t.sound),
      h("label", { class: "check" }, desktop, t.desktop),
      notifier.permissionDenied() ? h("p", { class: "muted small", text: t.desktopDenied }) : null,
      pw,
    ].filter((n): n is HTMLElement => n !== null),
    onSubmit: () => {
      prefs = { sendKey: sendKey.value === "ctrl" ? "ctrl" : "enter", sound: sound.checked, desktop: desktop.checked };
      storageSet(window.localStorage, PREFS_KEY, JSON.stringify(prefs));
      if (prefs.desktop) notifier.requestPermission();
      if (langSel.value !== lang) {
        lang = langSel.value === "zh-CN" ? "zh-CN" : "en";
        storageSet(window.localStorage, LANG_KEY, lang);
      }
      applyLang();
      return true;
    },
  });
});

function passwordDialog(): void {
  const old = h("input", { type: "password", id: "pw-old", autocomplete: "current-password", required: true });
  const next = h("input", { type: "password", id: "pw-new", autocomplete: "new-password", required: true, minlength: "6", maxlength: "72" });
  modal({
    id: "password-dialog",
    title: t.changePassword,
    t,
    submit: t.save,
    body: [field(t.oldPassword, old), field(t.newPassword, next)],
    onSubmit: async () => {
      if (next.value.length < 6 || new TextEncoder().encode(next.value).length > 72) throw new Error(t.passwordTooShort);
      await api("PUT", "/auth/password", { old: old.value, new: next.value });
      signOut(t.passwordChanged); // every login of mine ends, this one too
      return true;
    },
  });
}

// ---------------------------------------------------------------- start

applyLang();
if (token && profile.id) start();
else signOut("");
