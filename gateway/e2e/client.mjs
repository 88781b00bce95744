// Clients for the e2e tests: a Socket.IO 2 client that records every event
// (so nothing emitted before a test starts waiting is missed), awaiting with
// timeouts, REST helpers, and the Kefu flows (visitor identity, agent login,
// opening a chat, sending messages).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import io from 'socket.io-client';
import { DEMO_PASSWORD } from './cluster.mjs';

export const TIMEOUT = 10000;

export const TRANSPORTS = {
  polling: ['polling'],
  websocket: ['websocket'],
  upgrade: ['polling', 'websocket'], // the client's default: polling, upgraded to websocket
};

// Sockets whose test is not about transports use websocket unless told:
// the transport tests (chat.test.mjs) cover polling and the upgrade.
const DEFAULT_TRANSPORTS = TRANSPORTS.websocket;

let seq = 0;
/** A unique id for clientids, usernames, ... (<= 40 chars). */
export function uid(prefix = 'c') {
  return `${prefix}-${Date.now().toString(36)}-${(++seq).toString(36)}-${randomBytes(4).toString('hex')}`;
}

const LIFECYCLE = ['connect', 'disconnect', 'connect_error', 'connect_timeout', 'error', 'reconnect', 'reconnect_attempt', 'reconnect_error', 'reconnect_failed'];

function brief(v) {
  let s;
  try { s = JSON.stringify(v); } catch { s = String(v); }
  if (s === undefined) s = 'undefined';
  return s.length > 300 ? `${s.slice(0, 300)}…(${s.length} chars)` : s;
}

const everyRecorder = new Set();

/** Close every socket opened in this process (after hooks: nothing may keep the process alive). */
export function closeAllClients() {
  for (const r of everyRecorder) r.close();
}

/**
 * Recorder wraps one socket.io-client 2 socket (its own manager: forceNew)
 * and records, in order, every event the server emits to it and its
 * client-side events (connect, disconnect, reconnect, engine_open,
 * engine_upgrade, ...; marked local), each as {name, data, args, i, t, local}.
 */
export class Recorder {
  constructor(url, nsp, { query = {}, transports, reconnection = true, label, onReconnectAttempt, extraHeaders } = {}) {
    everyRecorder.add(this);
    this.label = label || nsp;
    this.events = [];
    this.waiters = new Set();
    this.query = { ...query };
    const opts = {
      forceNew: true,
      query: this.query,
      reconnection,
      reconnectionDelay: 200,
      reconnectionDelayMax: 1000,
      timeout: 10000,
    };
    if (transports) opts.transports = transports;
    // Headers on every request of the connection (polling and the websocket
    // upgrade); the client keeps this object, so changes apply to later requests.
    if (extraHeaders) opts.extraHeaders = extraHeaders;
    const socket = io(url + nsp, opts);
    this.socket = socket;
    const orig = socket.onevent;
    const rec = this;
    socket.onevent = function (packet) {
      const args = (packet.data || []).slice();
      rec.record(args[0], args.slice(1));
      return orig.call(this, packet);
    };
    for (const ev of LIFECYCLE) socket.on(ev, (...args) => this.record(ev, args, true));
    // Engine-level events: engine_open, engine_upgrade (polling → websocket),
    // engine_close, engine_error.
    socket.io.on('open', () => {
      const engine = socket.io.engine;
      this.record('engine_open', [engine.transport && engine.transport.name], true);
      engine.on('upgrade', (t) => this.record('engine_upgrade', [t && t.name], true));
    });
    socket.io.on('close', (reason) => this.record('engine_close', [reason], true));
    socket.io.on('error', (err) => this.record('engine_error', [String(err && err.message ? err.message : err)], true));
    // Refresh the handshake query (e.g. lastseq) before each reconnection.
    socket.on('reconnect_attempt', () => {
      if (onReconnectAttempt) onReconnectAttempt(this);
      socket.io.opts.query = { ...this.query };
      socket.query = { ...this.query };
    });
  }

  /** Record an event; local = client-side (lifecycle, engine), not sent by the server. */
  record(name, args, local = false) {
    const ev = { name, args, data: args[0], i: this.events.length, t: Date.now(), local };
    this.events.push(ev);
    for (const w of [...this.waiters]) w.check(ev);
  }

  /** Index to pass as `after` to only consider events recorded from now on. */
  mark() {
    return this.events.length;
  }

  /** Recorded events named `name` whose data satisfies pred, from index `after`. */
  all(name, pred = () => true, after = 0) {
    return this.events.slice(after).filter((e) => {
      if (e.name !== name) return false;
      try { return pred(e.data, e); } catch { return false; }
    });
  }

  count(name, pred, after = 0) {
    return this.all(name, pred, after).length;
  }

  describe(last = 25) {
    const evs = this.events.slice(-last).map((e) => `  #${e.i} ${e.name} ${brief(e.args.length > 1 ? e.args : e.data)}`);
    return `${this.label}: ${this.events.length} events recorded${evs.length ? `, last ${evs.length}:\n${evs.join('\n')}` : ''}`;
  }

  /**
   * Resolve with the first event (already recorded from index `after`, or
   * arriving later) named `name` whose data satisfies pred; reject after
   * `timeout` ms with the events recorded so far.
   */
  waitEvent(name, pred = () => true, { timeout = TIMEOUT, after = 0, what, signal } = {}) {
    const found = this.all(name, pred, after)[0];
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const w = {
        check: (ev) => {
          if (ev.i >= after && ev.name === name) {
            let ok = false;
            try { ok = pred(ev.data, ev); } catch { ok = false; }
            if (ok) {
              clearTimeout(w.timer);
              this.waiters.delete(w);
              resolve(ev);
            }
          }
        },
      };
      w.timer = setTimeout(() => {
        this.waiters.delete(w);
        reject(new Error(`${this.label}: no "${name}" event${what ? ` (${what})` : ''} within ${timeout} ms\n${this.describe()}`));
      }, timeout);
      this.waiters.add(w);
      if (signal) {
        signal.addEventListener('abort', () => {
          clearTimeout(w.timer);
          this.waiters.delete(w);
          reject(new Error('aborted'));
        }, { once: true });
      }
    });
  }

  /** Like waitEvent but resolves with the event's data. */
  async waitFor(name, pred, opts) {
    return (await this.waitEvent(name, pred, opts)).data;
  }

  /** Resolve with the first of several awaited events: waitAny([[name, pred], ...]). */
  waitAny(specs, { timeout = TIMEOUT, after = 0 } = {}) {
    const ctl = new AbortController();
    return Promise.any(specs.map(([name, pred]) => this.waitEvent(name, pred, { timeout, after, signal: ctl.signal }))).catch((e) => {
      throw new Error(`${this.label}: none of ${specs.map((s) => s[0]).join(', ')} within ${timeout} ms\n${this.describe()}`, { cause: e });
    }).finally(() => ctl.abort());
  }

  /** Wait until connected (the namespace's CONNECT arrived). */
  async connected({ timeout = TIMEOUT } = {}) {
    if (this.socket.connected) return;
    await this.waitEvent('connect', () => true, { timeout, after: 0 });
  }

  /** Emit with an acknowledgement; resolves with the ack's first argument. */
  emitAck(name, data, { timeout = TIMEOUT } = {}) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${this.label}: no ack to "${name}" ${brief(data)} within ${timeout} ms\n${this.describe()}`)),
        timeout,
      );
      this.socket.emit(name, data, (...args) => {
        clearTimeout(timer);
        resolve(args[0]);
      });
    });
  }

  emit(name, ...args) {
    this.socket.emit(name, ...args);
  }

  /** The Engine.IO transport in use now: "polling" or "websocket". */
  transport() {
    const e = this.socket.io.engine;
    return e && e.transport ? e.transport.name : undefined;
  }

  close() {
    everyRecorder.delete(this);
    this.socket.close();
  }
}

// ---- REST ----

export async function http(base, method, path, { body, token, headers = {}, raw, timeout = TIMEOUT } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const what = `${method} ${path}${payload !== undefined ? ` ${brief(body ?? raw)}` : ''}`;
  let r;
  let text;
  try {
    r = await fetch(base + path, { method, headers: h, body: payload, signal: AbortSignal.timeout(timeout) });
    text = await r.text();
  } catch (e) {
    throw new Error(`${base}: ${what}: ${e.message}`, { cause: e });
  }
  let json;
  try { json = text ? JSON.parse(text) : undefined; } catch { json = undefined; }
  return { status: r.status, body: json, text, headers: r.headers, req: what };
}

/** Assert a REST answer's status, showing the exchange when it is wrong. */
export function expectStatus(res, status, msg = '') {
  const ok = Array.isArray(status) ? status.includes(res.status) : res.status === status;
  assert.ok(ok, `${msg ? msg + ': ' : ''}${res.req} → ${res.status} ${brief(res.text)}; want ${status}`);
  return res.body;
}

// ---- contract shapes ----

export const TIME_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

export function checkChatMessage(m, want = {}, ctx = '') {
  const where = `${ctx} ChatMessage ${brief(m)}`;
  assert.equal(typeof m, 'object', where);
  assert.equal(typeof m.id, 'string', `${where}: id`);
  assert.ok(m.id.length > 0, `${where}: id empty`);
  assert.ok(Number.isInteger(m.seq) && m.seq >= 1, `${where}: seq must be an integer >= 1`);
  assert.match(String(m.createtime), TIME_RE, `${where}: createtime must be RFC 3339 UTC with ms`);
  for (const [k, v] of Object.entries(want)) assert.deepEqual(m[k], v, `${where}: field ${k}`);
}

export function checkAck(ack, ctx = '') {
  assert.ok(ack && ack.ok === true, `${ctx} ack not ok: ${brief(ack)}`);
  assert.equal(typeof ack.id, 'string', `${ctx} ack.id: ${brief(ack)}`);
  assert.ok(ack.id.length > 0, `${ctx} ack.id empty`);
  assert.ok(Number.isInteger(ack.seq) && ack.seq >= 1, `${ctx} ack.seq: ${brief(ack)}`);
  assert.match(String(ack.createtime), TIME_RE, `${ctx} ack.createtime: ${brief(ack)}`);
  return ack;
}

export function checkErrorAck(ack, codes, ctx = '') {
  const want = [].concat(codes);
  assert.ok(ack && ack.ok === false && ack.error && want.includes(ack.error.code),
    `${ctx} want an error ack with code ${want.join('|')}, got ${brief(ack)}`);
  assert.equal(typeof ack.error.message, 'string', `${ctx} error.message: ${brief(ack)}`);
}

// ---- Kefu flows ----

/** A fresh signed visitor identity from POST /im/{appid}/visitor. */
export async function newVisitor(gwUrl, appid = 'demo') {
  const res = await http(gwUrl, 'POST', `/im/${encodeURIComponent(appid)}/visitor`, { body: {} });
  const b = expectStatus(res, 200, 'visitor identity');
  assert.ok(b && typeof b.userid === 'string' && b.userid && typeof b.sign === 'string' && b.sign, `visitor identity: ${res.text}`);
  return { appid, userid: b.userid, sign: b.sign };
}

/**
 * A visitor socket. onReconnectAttempt(rec) may change rec.query (e.g.
 * lastseq) before each reconnection's handshake.
 */
export function connectVisitor(gwUrl, ident, { transports = DEFAULT_TRANSPORTS, lastseq, query = {}, label, reconnection, onReconnectAttempt, extraHeaders } = {}) {
  const qs = { appid: ident.appid, userid: ident.userid, sign: ident.sign, ...query };
  if (lastseq !== undefined) qs.lastseq = String(lastseq);
  return new Recorder(gwUrl, '/im/user', { query: qs, transports, label: label || `visitor ${ident.userid.slice(0, 12)}`, reconnection, onReconnectAttempt, extraHeaders });
}

export async function login(gwUrl, username, password) {
  const res = await http(gwUrl, 'POST', '/api/v1/auth/login', { body: { username, password } });
  const b = expectStatus(res, 200, `login ${username}`);
  assert.ok(b && typeof b.token === 'string' && b.token, `login: no token: ${res.text}`);
  assert.ok(b.agent && b.agent.id !== undefined && b.agent.username === username, `login: agent: ${res.text}`);
  assert.ok(Array.isArray(b.agent.roles), `login: agent.roles must be an array: ${res.text}`);
  return b;
}

export function connectAgent(gwUrl, token, { transports = DEFAULT_TRANSPORTS, label, reconnection, extraHeaders } = {}) {
  return new Recorder(gwUrl, '/im/agent', { query: { token }, transports, label: label || 'agent', reconnection, extraHeaders });
}

export async function setStatus(gwUrl, token, body) {
  return expectStatus(await http(gwUrl, 'PUT', '/api/v1/agent/status', { body, token }), 200, 'agent status');
}

/** Create an agent through the admin API; resolves with the login answer. */
export async function createAgent(gwUrl, adminToken, { username = uid('agent'), password = 'pw-1-' + uid('p'), nickname, maxuser = 100 } = {}) {
  nickname = nickname || `Nick ${username.slice(-8)}`;
  const res = await http(gwUrl, 'POST', '/api/v1/admin/agents', { token: adminToken, body: { username, password, nickname, maxuser } });
  const b = expectStatus(res, [200, 201], 'create agent');
  assert.ok(b && b.id !== undefined, `create agent: no id: ${res.text}`);
  const l = await login(gwUrl, username, password);
  assert.equal(String(l.agent.id), String(b.id), 'login agent.id vs created id');
  return { ...l, username, password, nickname };
}

/**
 * A ready agent: created with the admin API, logged in, one socket per
 * entry of `sockets` ([{url, transports}]), status ready.
 */
export async function readyAgent(cluster, adminToken, { sockets, maxuser = 100, label = 'agent' } = {}) {
  sockets = sockets || [{ url: cluster.gw[1].url, transports: DEFAULT_TRANSPORTS }];
  const a = await createAgent(cluster.gw[0].url, adminToken, { maxuser });
  a.sockets = sockets.map((s, i) => connectAgent(s.url, a.token, { transports: s.transports, label: `${label}${sockets.length > 1 ? i + 1 : ''} ${a.username}` }));
  a.socket = a.sockets[0];
  await Promise.all(a.sockets.map((s) => s.connected()));
  const st = await setStatus(cluster.gw[0].url, a.token, { status: 'ready' });
  assert.deepEqual({ status: st.status, busy: st.busy }, { status: 'ready', busy: false }, `PUT /api/v1/agent/status → ${brief(st)}`);
  return a;
}

export async function adminLogin(cluster) {
  return login(cluster.gw[0].url, 'admin', DEMO_PASSWORD);
}

/**
 * Visitor `new` → ack {ok, agentserviceid}; the visitor gets status
 * assigned (agentno, nickName of the agent), the agent gets `new`.
 * Resolves with {sid, status, summary}.
 */
export async function openChat(visitor, ident, agent, { name = 'E2E Visitor', timeout = TIMEOUT } = {}) {
  const vmark = visitor.mark();
  const amark = agent.socket.mark();
  const ack = await visitor.emitAck('new', { name }, { timeout });
  assert.ok(ack && ack.ok === true && typeof ack.agentserviceid === 'string' && ack.agentserviceid, `new ack: ${brief(ack)}`);
  const sid = ack.agentserviceid;
  const status = await visitor.waitFor('status', (s) => s && s.state === 'assigned', { after: vmark, timeout, what: 'state assigned' });
  assert.equal(status.agentserviceid, sid, `status.agentserviceid ${brief(status)}`);
  assert.equal(String(status.agentno), String(agent.agent.id), `status.agentno must be the agent's id: ${brief(status)}`);
  assert.equal(status.nickName, agent.nickname, `status.nickName: ${brief(status)}`);
  assert.match(String(status.createtime), TIME_RE, `status.createtime: ${brief(status)}`);
  const summary = await agent.socket.waitFor('new', (s) => s && s.agentserviceid === sid, { after: amark, timeout, what: `new ${sid}` });
  assert.equal(summary.userid, ident.userid, `agent new: userid ${brief(summary)}`);
  assert.equal(summary.appid, ident.appid, `agent new: appid ${brief(summary)}`);
  assert.equal(String(summary.agentno), String(agent.agent.id), `agent new: agentno ${brief(summary)}`);
  return { sid, status, summary };
}

/** Visitor sends a text; asserts an ok ack and resolves with it (plus clientid). */
export async function visitorSay(visitor, text, { clientid = uid(), ctx = 'visitor message' } = {}) {
  const ack = await visitor.emitAck('message', { type: 'message', msgtype: 'text', message: text, clientid });
  checkAck(ack, ctx);
  return { ...ack, clientid, message: text };
}

export async function agentSay(agentSocket, sid, text, { clientid = uid(), ctx = 'agent message' } = {}) {
  const ack = await agentSocket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: text, clientid });
  checkAck(ack, ctx);
  return { ...ack, clientid, message: text };
}

/** Wait for a ChatMessage with this clientid (or id) on a recorder. */
export function waitMsg(rec, { clientid, id, type = 'message' }, opts = {}) {
  return rec.waitFor('message', (m) => m && m.type === type && (clientid ? m.clientid === clientid : m.id === id),
    { what: `message ${clientid || id}`, ...opts });
}

export { brief };
