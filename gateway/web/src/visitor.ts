// Visitor demo page: identity, /im/user socket, pre-chat "new", messages, typing.

import io from "socket.io-client";
import {
  $,
  ApiErrorBody,
  ChatLog,
  ChatMessage,
  Entry,
  Socket,
  Throttle,
  ApiError,
  emitAck,
  ackErrorText,
  errorText,
  randomId,
  requestJSON,
  sendEntry,
  setError,
  show,
  storageGet,
  storageSet,
  Identity,
  StatusEvent,
} from "./common";

const params = new URLSearchParams(location.search);
const appid = params.get("appid") || "demo";
const identityKey = `kefu:${appid}:identity`;
const base = "/im/" + encodeURIComponent(appid);

const connLine = $("conn");
const statusLine = $("status");
const errorLine = $("error");
const startForm = $<HTMLFormElement>("start");
const nameInput = $<HTMLInputElement>("name");
const startButton = $<HTMLButtonElement>("start-button");
const composer = $<HTMLFormElement>("composer");
const textInput = $<HTMLInputElement>("text");
const sendButton = $<HTMLButtonElement>("send");
const typingLine = $("typing");

let identity: Identity | null = null;
let socket: Socket | null = null;
let refused = false;
let currentSid = ""; // the visitor's current (or last) session
let chatOpen = false; // a session is open and accepts messages
let starting = false;
let typingTimer: number | undefined;

const log = new ChatLog($("log"), {
  sideOf: (m) => (m.calltype === "in" ? "me" : m.calltype === "out" ? "peer" : "system"),
  whoOf: (m, side) => (side === "me" ? "You" : m.nickName || m.username || "Agent"),
  onRetry: (entry: Entry) => {
    if (socket) sendEntry(socket, log, entry);
  },
  onGap: (sid, after) => void fillGap(sid, after),
});

const writing = new Throttle(300, () => {
  const draft = textInput.value;
  if (!socket || !chatOpen || draft === "") return;
  socket.emit("message", { type: "writing", msgtype: "text", message: draft, clientid: randomId() });
});

function updateControls(): void {
  const connected = !!socket && socket.connected && !refused;
  show(startForm, !chatOpen && !refused);
  startButton.disabled = !connected || starting;
  nameInput.disabled = refused;
  textInput.disabled = !chatOpen || refused;
  sendButton.disabled = !chatOpen || refused;
}

function loadIdentity(): Identity | null {
  const raw = storageGet(window.localStorage, identityKey);
  if (!raw) return null;
  try {
    const v = JSON.parse(raw);
    if (v && typeof v.userid === "string" && typeof v.sign === "string") return { userid: v.userid, sign: v.sign };
  } catch {
    // fall through: ask for a fresh identity
  }
  return null;
}

async function getIdentity(): Promise<Identity> {
  const stored = loadIdentity();
  const res = await requestJSON<Identity>("POST", base + "/visitor", stored || {});
  if (!res || typeof res.userid !== "string" || typeof res.sign !== "string") {
    throw new Error("malformed identity from the server");
  }
  storageSet(window.localStorage, identityKey, JSON.stringify({ userid: res.userid, sign: res.sign }));
  return res;
}

async function boot(): Promise<void> {
  connLine.textContent = "Getting your visitor identity…";
  for (let attempt = 0; ; attempt++) {
    try {
      identity = await getIdentity();
      break;
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        connLine.textContent = `Unknown site "${appid}".`;
        setError(errorLine, errorText(e));
        return;
      }
      const wait = Math.min(30, 2 ** attempt);
      connLine.textContent = `Could not get a visitor identity (${errorText(e)}); retrying in ${wait} s…`;
      await new Promise((r) => setTimeout(r, wait * 1000));
    }
  }
  connect(identity);
}

function connect(id: Identity): void {
  const query: Record<string, string> = {
    appid,
    userid: id.userid,
    sign: id.sign,
    title: document.title,
    url: location.href,
    lastseq: "0", // replay the open session (if any) from the start after a page reload
  };
  if (document.referrer) query.referrer = document.referrer;
  connLine.textContent = "Connecting…";
  const s = io("/im/user", { forceNew: true, query });
  socket = s;

  s.on("connect", () => {
    // socket.io-client 2 delivers events buffered before the CONNECT ack (such as `refused`)
    // ahead of "connect", so a refused socket still sees "connect" once, after it was closed.
    if (refused) return;
    connLine.textContent = "Connected";
    updateControls();
  });
  s.on("disconnect", () => {
    if (!refused) connLine.textContent = "Disconnected — reconnecting…";
    updateControls();
  });
  s.on("reconnect_attempt", () => {
    // Resume the open session: the server replays stored messages after lastseq.
    const q = s.io.opts.query;
    if (q) q.lastseq = String(log.maxSeq(currentSid));
  });
  s.on("refused", (r: ApiErrorBody) => {
    refused = true;
    s.io.reconnection(false);
    s.close();
    connLine.textContent = "Not connected";
    setError(errorLine, "Connection refused: " + ackErrorText(r));
    updateControls();
  });
  s.on("status", (st: StatusEvent) => {
    if (!refused) onStatus(st);
  });
  s.on("message", (m: ChatMessage) => {
    if (refused || !m || m.type === "writing") return;
    if (!currentSid && m.agentserviceid) currentSid = m.agentserviceid;
    if (log.addIncoming(m) && m.calltype === "out") hideTyping();
  });
  s.on("typing", () => {
    if (refused) return;
    show(typingLine, true);
    if (typingTimer !== undefined) clearTimeout(typingTimer);
    typingTimer = window.setTimeout(hideTyping, 3000);
  });
}

function hideTyping(): void {
  if (typingTimer !== undefined) clearTimeout(typingTimer);
  typingTimer = undefined;
  show(typingLine, false);
}

function onStatus(st: StatusEvent): void {
  if (!st) return;
  if (st.agentserviceid) currentSid = st.agentserviceid;
  const who = st.nickName || st.agentno || "an agent";
  let text: string;
  switch (st.state) {
    case "assigned":
      text = `You are chatting with ${who}.`;
      chatOpen = true;
      break;
    case "queued":
      text = typeof st.num === "number" ? `Waiting for an agent — you are number ${st.num} in the queue.` : "Waiting for an agent…";
      chatOpen = true;
      break;
    case "noagent":
      text = "No agent is available right now.";
      chatOpen = !!st.agentserviceid;
      break;
    case "offhours":
      text = "We are outside our opening hours.";
      chatOpen = !!st.agentserviceid;
      break;
    case "ended":
      text = "The chat has ended.";
      chatOpen = false;
      hideTyping();
      break;
    case "rating":
      text = "The chat has ended. Thank you!";
      chatOpen = false;
      break;
    default:
      text = st.state || "";
  }
  // The server's own wording, when it sends one, wins over ours.
  statusLine.textContent = st.message ? st.message : text;
  updateControls();
}

startForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  if (!socket || starting) return;
  const name = nameInput.value.trim();
  starting = true;
  setError(errorLine, "");
  statusLine.textContent = "Starting the chat…";
  updateControls();
  emitAck<{ agentserviceid: string }>(socket, "new", name ? { name } : {})
    .then((ack) => {
      if (ack.ok) {
        currentSid = ack.agentserviceid || currentSid;
        chatOpen = true;
        if (statusLine.textContent === "Starting the chat…") statusLine.textContent = "Waiting for an agent…";
        textInput.focus();
      } else {
        statusLine.textContent = "";
        setError(errorLine, "Could not start the chat: " + ackErrorText(ack.error));
      }
    })
    .catch((e) => {
      statusLine.textContent = "";
      setError(errorLine, "Could not start the chat: " + errorText(e));
    })
    .then(() => {
      starting = false;
      updateControls();
    });
});

composer.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const text = textInput.value;
  if (!socket || !chatOpen || text.trim() === "") return;
  writing.cancel();
  const payload = { type: "message", msgtype: "text", message: text, clientid: randomId() };
  const entry = log.addPending(currentSid, "You", text, payload);
  textInput.value = "";
  sendEntry(socket, log, entry);
});

textInput.addEventListener("input", () => writing.call());

async function fillGap(sid: string, after: number): Promise<void> {
  if (!identity) return;
  const q = new URLSearchParams({ userid: identity.userid, sign: identity.sign, after: String(after) });
  try {
    const list = await requestJSON<ChatMessage[]>("GET", `${base}/messages?${q}`);
    if (Array.isArray(list)) for (const m of list) if (m && m.type !== "writing" && (!m.agentserviceid || m.agentserviceid === sid)) log.addIncoming(m);
  } catch {
    // the next live message re-checks the hole
  }
}

updateControls();
void boot();
