// Agent demo page: login, ready/not ready, /im/agent socket, conversation list and chat.

import io from "socket.io-client";
import {
  $,
  ApiError,
  ApiErrorBody,
  ChatLog,
  ChatMessage,
  Entry,
  SessionSummary,
  Socket,
  Throttle,
  ackErrorText,
  el,
  errorText,
  randomId,
  requestJSON,
  sendEntry,
  setError,
  show,
  storageGet,
  storageSet,
} from "./common";

interface AgentProfile {
  id?: string;
  username?: string;
  nickname?: string;
  orgi?: string;
  roles?: string[];
}

interface LoginResponse {
  token: string;
  agent: AgentProfile;
}

interface Counters {
  agents?: number;
  busy?: number;
  users?: number;
  inquene?: number;
}

interface Conv {
  s: SessionSummary;
  log: ChatLog;
  logEl: HTMLOListElement;
  item: HTMLLIElement;
  ended: boolean;
  endLabel: string;
  loaded: boolean;
  unread: number;
  draft: string | null; // the visitor's live draft; "" = typing, text blanked by the server
  draftTimer?: number;
  compose: string; // what I had typed for this conversation
}

const TOKEN_KEY = "kefu:agent:token";
const PROFILE_KEY = "kefu:agent:profile";
const DRAFT_TTL_MS = 10000; // a live draft with no update for this long is hidden
const TYPING_TTL_MS = 3000; // "typing…" (draft text blanked by the server)

const loginView = $("login-view");
const loginForm = $<HTMLFormElement>("login-form");
const loginButton = $<HTMLButtonElement>("login-button");
const usernameInput = $<HTMLInputElement>("username");
const passwordInput = $<HTMLInputElement>("password");
const loginError = $("login-error");

const deskView = $("desk-view");
const meLine = $("me");
const agentStatus = $("agent-status");
const readyButton = $<HTMLButtonElement>("ready");
const notReadyButton = $<HTMLButtonElement>("notready");
const countersLine = $("counters");
const connLine = $("conn");
const logoutButton = $<HTMLButtonElement>("logout");
const deskError = $("desk-error");
const sessionList = $<HTMLUListElement>("sessions");
const noSessions = $("no-sessions");
const convTitle = $("conv-title");
const convInfo = $("conv-info");
const endButton = $<HTMLButtonElement>("end");
const logs = $("logs");
const draftLine = $("draft");
const composer = $<HTMLFormElement>("composer");
const textInput = $<HTMLInputElement>("text");
const sendButton = $<HTMLButtonElement>("send");

let token = storageGet(window.sessionStorage, TOKEN_KEY) || "";
let profile: AgentProfile = readProfile();
let socket: Socket | null = null;
const convs = new Map<string, Conv>();
let selected: Conv | null = null;

function readProfile(): AgentProfile {
  try {
    return JSON.parse(storageGet(window.sessionStorage, PROFILE_KEY) || "{}") || {};
  } catch {
    return {};
  }
}

function myName(): string {
  return profile.nickname || profile.username || "Me";
}

// ---------------------------------------------------------------- REST

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  try {
    return await requestJSON<T>(method, "/api/v1" + path, body, token);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401 && token) signOut("Your login has ended; please log in again.");
    throw e;
  }
}

const sessionPath = (id: string) => "/sessions/" + encodeURIComponent(id);

// ---------------------------------------------------------------- login / logout

loginForm.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  setError(loginError, "");
  loginButton.disabled = true;
  try {
    const res = await requestJSON<LoginResponse>("POST", "/api/v1/auth/login", {
      username: usernameInput.value.trim(),
      password: passwordInput.value,
    });
    if (!res || typeof res.token !== "string" || !res.token) throw new Error("malformed login answer");
    token = res.token;
    profile = res.agent || {};
    storageSet(window.sessionStorage, TOKEN_KEY, token);
    storageSet(window.sessionStorage, PROFILE_KEY, JSON.stringify(profile));
    passwordInput.value = "";
    startDesk();
  } catch (e) {
    setError(loginError, "Login failed: " + errorText(e));
  } finally {
    loginButton.disabled = false;
  }
});

logoutButton.addEventListener("click", async () => {
  try {
    await api("POST", "/auth/logout");
  } catch {
    // signing out locally anyway
  }
  signOut("");
});

/** Drops the token and everything of this login, and shows the login form with `message`. */
function signOut(message: string): void {
  if (socket) {
    const s = socket;
    socket = null;
    s.io.reconnection(false);
    s.close();
  }
  token = "";
  profile = {};
  storageSet(window.sessionStorage, TOKEN_KEY, null);
  storageSet(window.sessionStorage, PROFILE_KEY, null);
  for (const c of convs.values()) {
    if (c.draftTimer !== undefined) clearTimeout(c.draftTimer);
  }
  convs.clear();
  selected = null;
  sessionList.textContent = "";
  logs.textContent = "";
  textInput.value = "";
  writing.cancel();
  renderSelection();
  show(deskView, false);
  show(loginView, true);
  setError(loginError, message);
  usernameInput.focus();
}

// ---------------------------------------------------------------- desk

function startDesk(): void {
  show(loginView, false);
  show(deskView, true);
  setError(deskError, "");
  meLine.textContent = myName();
  agentStatus.textContent = "Status: …";
  countersLine.textContent = "";
  renderSelection();
  connect();
  void refreshSessions();
  // Omitted fields stay as they are, so an empty PUT reads the current status.
  void setStatus({});
}

async function setStatus(body: { status?: string }): Promise<void> {
  try {
    const res = await api<{ status?: string; busy?: boolean }>("PUT", "/agent/status", body);
    agentStatus.textContent = "Status: " + (res && res.status ? res.status : "?") + (res && res.busy ? " (busy)" : "");
    setError(deskError, "");
  } catch (e) {
    if (body.status) setError(deskError, "Could not change status: " + errorText(e));
    else agentStatus.textContent = "Status: unknown";
  }
}

readyButton.addEventListener("click", () => void setStatus({ status: "ready" }));
notReadyButton.addEventListener("click", () => void setStatus({ status: "notready" }));

function connect(): void {
  const s = io("/im/agent", { forceNew: true, query: { token } });
  socket = s;
  // Events of a socket we have dropped (after sign-out or refusal) are ignored.
  const on = (event: string, fn: (...args: any[]) => void) =>
    s.on(event, (...args: any[]) => {
      if (socket === s) fn(...args);
    });
  connLine.textContent = "connecting…";
  on("connect", () => {
    // Events buffered before the CONNECT ack (e.g. `refused`) are delivered before "connect",
    // hence the guard in on().
    connLine.textContent = "online";
  });
  on("disconnect", () => {
    connLine.textContent = "disconnected, reconnecting…";
  });
  on("reconnect_attempt", () => {
    const q = s.io.opts.query;
    if (q) q.token = token;
  });
  on("reconnect", () => void resync());
  on("refused", (r: ApiErrorBody) => {
    signOut("Connection refused: " + ackErrorText(r));
  });
  on("leave", (r: { reason?: string }) => {
    signOut("You were logged out" + (r && r.reason ? ": " + r.reason : "."));
  });
  on("new", (sum: SessionSummary) => {
    if (!sum || !sum.agentserviceid) return;
    const c = upsertConv(sum);
    c.ended = false;
    c.endLabel = "";
    renderItem(c);
    if (!selected) select(c);
    else if (selected === c) renderSelection();
  });
  on("end", (sum: SessionSummary) => markEnded(sum, "ended"));
  on("transout", (sum: SessionSummary) => markEnded(sum, "transferred"));
  on("status", (c: Counters) => {
    if (!c) return;
    countersLine.textContent =
      `Agents ${num(c.agents)} · busy ${num(c.busy)} · visitors ${num(c.users)} · in queue ${num(c.inquene)}`;
  });
  on("message", onMessage);
}

function num(v: unknown): string {
  return typeof v === "number" ? String(v) : "–";
}

async function refreshSessions(): Promise<void> {
  try {
    const list = await api<SessionSummary[]>("GET", "/agent/sessions");
    if (!Array.isArray(list)) return;
    for (const sum of list) {
      if (!sum || !sum.agentserviceid) continue;
      const c = upsertConv(sum);
      if (sum.status === "end" || sum.status === "ended") {
        c.ended = true;
        c.endLabel = "ended";
      }
      renderItem(c);
    }
    if (!selected && list.length > 0) {
      const first = convs.get(list[0].agentserviceid);
      if (first) select(first);
    }
  } catch (e) {
    if (token) setError(deskError, "Could not load conversations: " + errorText(e));
  }
}

/** After a reconnect: sessions assigned meanwhile, and messages missed in the open ones. */
async function resync(): Promise<void> {
  await refreshSessions();
  for (const c of convs.values()) {
    if (c.loaded && !c.ended) void loadMessages(c, c.log.maxSeq(c.s.agentserviceid));
  }
}

// ---------------------------------------------------------------- conversations

function displayName(s: SessionSummary): string {
  return s.name || s.nickname || s.userid || "Visitor";
}

function upsertConv(sum: SessionSummary): Conv {
  const id = sum.agentserviceid;
  let c = convs.get(id);
  if (c) {
    c.s = { ...c.s, ...sum };
    return c;
  }
  const logEl = el("ol", "log");
  logEl.hidden = true;
  logEl.setAttribute("aria-live", "polite");
  logs.appendChild(logEl);
  const conv: Conv = {
    s: { ...sum },
    logEl,
    item: el("li"),
    ended: false,
    endLabel: "",
    loaded: false,
    unread: 0,
    draft: null,
    compose: "",
    log: null as unknown as ChatLog,
  };
  conv.log = new ChatLog(logEl, {
    sideOf: (m) => (m.calltype === "out" ? "me" : m.calltype === "in" ? "peer" : "system"),
    whoOf: (m, side) =>
      side === "me" ? m.nickName || m.username || "Agent" : displayName(conv.s),
    onRetry: (entry: Entry) => {
      if (socket) sendEntry(socket, conv.log, entry);
    },
    onGap: (_sid, after) => void loadMessages(conv, after),
  });
  const button = el("button", "conv-button");
  button.type = "button";
  button.addEventListener("click", () => select(conv));
  conv.item.appendChild(button);
  sessionList.appendChild(conv.item);
  convs.set(id, conv);
  show(noSessions, false);
  return conv;
}

function renderItem(c: Conv): void {
  const button = c.item.firstChild as HTMLButtonElement;
  button.textContent = "";
  button.appendChild(el("span", "conv-name", displayName(c.s)));
  if (c.unread > 0) button.appendChild(el("span", "badge", String(c.unread)));
  const sub = c.ended ? c.endLabel || "ended" : c.s.title || c.s.url || c.s.userid || "";
  button.appendChild(el("span", "conv-sub", sub));
  c.item.className = (c === selected ? "selected " : "") + (c.ended ? "ended" : "");
}

function markEnded(sum: SessionSummary, label: string): void {
  if (!sum || !sum.agentserviceid) return;
  const c = convs.get(sum.agentserviceid);
  if (!c) return;
  c.s = { ...c.s, ...sum };
  c.ended = true;
  c.endLabel = label;
  clearDraft(c);
  renderItem(c);
  if (c === selected) renderSelection();
}

function select(c: Conv): void {
  if (selected && selected !== c) {
    selected.compose = textInput.value;
    writing.cancel();
  }
  const prev = selected;
  selected = c;
  c.unread = 0;
  if (prev && prev !== c) renderItem(prev);
  renderItem(c);
  textInput.value = c.compose;
  renderSelection();
  if (!c.loaded) void loadMessages(c, 0);
}

function renderSelection(): void {
  for (const c of convs.values()) c.logEl.hidden = c !== selected;
  const c = selected;
  if (!c) {
    convTitle.textContent = "No conversation selected";
    convInfo.textContent = "";
    endButton.disabled = true;
    textInput.disabled = true;
    sendButton.disabled = true;
    show(draftLine, false);
    show(noSessions, convs.size === 0);
    return;
  }
  convTitle.textContent = displayName(c.s) + (c.ended ? ` (${c.endLabel || "ended"})` : "");
  const info = [c.s.url, c.s.browser, c.s.osname, c.s.ip, c.s.transmemo ? "memo: " + c.s.transmemo : ""];
  convInfo.textContent = info.filter(Boolean).join(" · ");
  endButton.disabled = c.ended;
  textInput.disabled = c.ended;
  sendButton.disabled = c.ended;
  renderDraft();
  c.logEl.scrollTop = c.logEl.scrollHeight;
}

async function loadMessages(c: Conv, after: number): Promise<void> {
  const q = after > 0 ? "?after=" + after : "";
  try {
    const list = await api<ChatMessage[]>("GET", sessionPath(c.s.agentserviceid) + "/messages" + q);
    if (Array.isArray(list)) for (const m of list) if (m && m.type !== "writing") c.log.addIncoming(m);
    if (after === 0) c.loaded = true;
  } catch (e) {
    if (token && c === selected) setError(deskError, "Could not load messages: " + errorText(e));
  }
}

function onMessage(m: ChatMessage): void {
  if (!m || !m.agentserviceid) return;
  let c = convs.get(m.agentserviceid);
  if (!c) {
    // A message for a session we have not heard of yet (e.g. before the list loaded).
    c = upsertConv({ agentserviceid: m.agentserviceid, userid: m.usession || "", nickname: m.username });
    renderItem(c);
  }
  if (m.type === "writing") {
    if (m.calltype === "in") setDraft(c, typeof m.message === "string" ? m.message : "");
    return;
  }
  if (!c.log.addIncoming(m)) return;
  if (m.calltype === "in") {
    clearDraft(c);
    if (c !== selected) {
      c.unread++;
      renderItem(c);
    }
  }
}

// ---------------------------------------------------------------- the visitor's live draft

function setDraft(c: Conv, text: string): void {
  c.draft = text;
  if (c.draftTimer !== undefined) clearTimeout(c.draftTimer);
  c.draftTimer = window.setTimeout(() => clearDraft(c), text === "" ? TYPING_TTL_MS : DRAFT_TTL_MS);
  if (c === selected) renderDraft();
}

function clearDraft(c: Conv): void {
  if (c.draftTimer !== undefined) clearTimeout(c.draftTimer);
  c.draftTimer = undefined;
  c.draft = null;
  if (c === selected) renderDraft();
}

function renderDraft(): void {
  const c = selected;
  if (!c || c.draft === null || c.ended) {
    show(draftLine, false);
    return;
  }
  draftLine.textContent = "";
  if (c.draft === "") {
    draftLine.appendChild(el("span", "label", "Visitor is typing…"));
  } else {
    draftLine.appendChild(el("span", "label", "Visitor is typing: "));
    draftLine.appendChild(el("span", "draft-text", c.draft));
  }
  show(draftLine, true);
}

// ---------------------------------------------------------------- sending

const writing = new Throttle(300, () => {
  const c = selected;
  const draft = textInput.value;
  if (!socket || !c || c.ended || draft === "") return;
  socket.emit("message", {
    agentserviceid: c.s.agentserviceid,
    type: "writing",
    msgtype: "text",
    message: draft,
    clientid: randomId(),
  });
});

textInput.addEventListener("input", () => writing.call());

composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const c = selected;
  const text = textInput.value;
  if (!socket || !c || c.ended || text.trim() === "") return;
  writing.cancel();
  const payload = {
    agentserviceid: c.s.agentserviceid,
    type: "message",
    msgtype: "text",
    message: text,
    clientid: randomId(),
  };
  const entry = c.log.addPending(c.s.agentserviceid, myName(), text, payload);
  textInput.value = "";
  c.compose = "";
  sendEntry(socket, c.log, entry);
});

endButton.addEventListener("click", async () => {
  const c = selected;
  if (!c || c.ended) return;
  endButton.disabled = true;
  try {
    await api("POST", sessionPath(c.s.agentserviceid) + "/end");
    markEnded(c.s, "ended");
  } catch (e) {
    setError(deskError, "Could not end the conversation: " + errorText(e));
    if (c === selected) endButton.disabled = c.ended;
  }
});

// ---------------------------------------------------------------- start

if (token) startDesk();
else signOut("");
