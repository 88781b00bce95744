// Graceful drain under load, through HAProxy only (deploy/cluster.sh: 2
// gateways, 2 routing replicas, HAProxy with deploy/haproxy/haproxy.cfg).
//
// Visitors (polling-only, websocket-only and upgrading, socket.io-client 2
// with reconnection on) and agents with a tab on each gateway chat both ways
// without pause; meanwhile one gateway gets SIGTERM. The clients behave as
// the real UIs do: a visitor reconnects with lastseq = the highest seq it
// has seen, an agent's tab catches up with GET /api/v1/sessions/{id}/messages
// ?after= when it reconnects, and a send that got no acknowledgement is sent
// again with the same clientid once connected. We check the drain's order
// (/readyz fails and HAProxy takes the node out before any socket closes),
// that every client of the node reconnects to the other one, that the node
// exits cleanly within its grace, and, once the traffic stopped, that every
// acknowledged message reached its receivers exactly once (by id) and is
// stored once (MariaDB). Then the node is started again, as a rolling
// restart would, and takes new clients.
//
// The clients fill no seq gaps from the history API (the protocol lets UIs
// do so after 1 s): a message stored but never published would be caught
// here rather than papered over. KEFU_E2E_DRAIN_VISITORS changes the number
// of visitors (default 60).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from './cluster.mjs';
import { startLBCluster, lbSkipReason } from './lbcluster.mjs';
import {
  TRANSPORTS, uid, newVisitor, connectVisitor, connectAgent, createAgent, setStatus, login,
  visitorSay, agentSay, waitMsg, http, expectStatus, brief, closeAllClients,
} from './client.mjs';

const E = process.env;
const VISITORS = Number(E.KEFU_E2E_DRAIN_VISITORS || 60);
const AGENTS = 4;
const DRAIN_DELAY_S = 4;
// What docs/deploy.md promises after the drain delay: in-flight work
// finished and the process gone.
const SHUTDOWN_S = 15;
const LONG = 60000; // reconnections and retries under a loaded machine

function nodeOf(rec) {
  const id = rec.socket.io.engine && rec.socket.io.engine.id;
  return id ? String(id).split('.')[0] : '';
}

async function until(what, fn, { timeout = LONG, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

const pace = () => new Promise((r) => setTimeout(r, 100 + Math.random() * 100));

/** Resolve once rec's namespace is connected (now or after a reconnection). */
function connectedNow(rec) {
  if (rec.socket.connected) return Promise.resolve();
  return rec.waitEvent('connect', () => true, { after: rec.mark(), timeout: LONG, what: 'reconnection' });
}

/**
 * A UI's message list: every ChatMessage it got (live, replayed or fetched),
 * deduplicated by id; raw counts kept as a diagnostic.
 */
class Inbox {
  constructor() {
    this.byId = new Map(); // id → message
    this.raw = new Map(); // id → deliveries
    this.maxSeq = new Map(); // session → highest seq seen
  }

  add(m) {
    if (!m || m.type !== 'message' || !m.id) return;
    this.raw.set(m.id, (this.raw.get(m.id) || 0) + 1);
    this.byId.set(m.id, m);
    if (m.seq > (this.maxSeq.get(m.agentserviceid) || 0)) this.maxSeq.set(m.agentserviceid, m.seq);
  }

  duplicates() {
    let n = 0;
    for (const c of this.raw.values()) n += c - 1;
    return n;
  }
}

/**
 * sendUntilAcked sends one message until it is acknowledged, each attempt
 * once connected and with the same clientid, as a UI resends a pending
 * message. Resolves with the ack; stats counts retries and error codes.
 */
async function sendUntilAcked(pick, payload, stats) {
  const deadline = Date.now() + 2 * LONG;
  for (let attempt = 0; ; attempt++) {
    if (Date.now() > deadline) throw new Error(`no ack for ${brief(payload)} after ${attempt} attempts`);
    const rec = pick();
    await connectedNow(rec);
    if (attempt > 0) stats.retries++;
    let ack;
    try {
      ack = await rec.emitAck('message', payload, { timeout: 5000 });
    } catch {
      stats.timeouts++;
      continue;
    }
    if (ack && ack.ok) return ack;
    const code = (ack && ack.error && ack.error.code) || brief(ack);
    stats.errors[code] = (stats.errors[code] || 0) + 1;
    await pace();
  }
}

describe('graceful drain under load through HAProxy', { skip: lbSkipReason() }, () => {
  let c;
  const agents = []; // {token, agent, tabs: [{rec, inbox}], sessions: []}
  const visitors = []; // {ident, rec, inbox, sid, agent}
  const sent = []; // every acknowledged message: {from: 'visitor'|'agent', clientid, id, seq, sid}
  const stats = { retries: 0, timeouts: 0, errors: {}, catchups: 0 };
  let victim; // index of the drained gateway in c.gw
  let survivor;

  const run = (fn) => async (t) => {
    try {
      await fn(t);
    } catch (e) {
      c.dumpLogs(`test "${t.name}" failed: ${e && e.message ? e.message.split('\n')[0] : e}`, 60);
      throw e;
    }
  };

  /** Connect through the LB until the session lands on `node` (handshakes are round-robin). */
  async function connectOn(node, make) {
    for (let i = 0; i < 10; i++) {
      const r = make();
      await r.connected();
      if (nodeOf(r) === node) return r;
      r.close();
    }
    throw new Error(`no session landed on ${node} in 10 handshakes`);
  }

  /** An agent tab's catch-up after a reconnection: every session's messages after the last seq seen. */
  async function catchUp(a, tab, seen) {
    stats.catchups++;
    for (const sid of a.sessions) {
      for (let after = seen.get(sid) || 0; ;) {
        const page = expectStatus(await http(c.lbUrl, 'GET', `/api/v1/sessions/${encodeURIComponent(sid)}/messages?after=${after}&limit=200`,
          { token: a.token, timeout: LONG }), 200, 'agent catch-up');
        for (const m of page) tab.inbox.add(m);
        if (page.length < 200) break;
        after = page[page.length - 1].seq;
      }
    }
  }

  before(async () => {
    c = await startLBCluster({
      name: 'drain',
      env: { KEFU_DRAIN_DELAY: `${DRAIN_DELAY_S}s`, KEFU_AGENT_GRACE: '60s', KEFU_VISITOR_GRACE: '120s' },
    });
    try {
      const admin = await login(c.lbUrl, 'admin', DEMO_PASSWORD);
      for (let i = 0; i < AGENTS; i++) {
        const a = await createAgent(c.lbUrl, admin.token, { maxuser: Math.ceil(VISITORS / AGENTS) + 10 });
        a.sessions = [];
        a.tabs = [];
        for (const [j, node] of ['gw1', 'gw2'].entries()) {
          const transports = (i + j) % 2 ? TRANSPORTS.websocket : TRANSPORTS.polling;
          const rec = await connectOn(node, () => connectAgent(c.lbUrl, a.token, { transports, label: `agent${i}@${node}` }));
          const tab = { rec, inbox: new Inbox() };
          rec.socket.on('message', (m) => tab.inbox.add(m));
          // After a reconnection, once the namespace is connected (the
          // server has put the socket in the agent's rooms): what came
          // before that is fetched, what comes after arrives live.
          rec.socket.on('connect', () => {
            if (rec.count('connect') > 1) catchUp(a, tab, new Map(tab.inbox.maxSeq)).catch((e) => { tab.catchUpError = e; });
          });
          a.tabs.push(tab);
        }
        await setStatus(c.lbUrl, a.token, { status: 'ready' });
        agents.push(a);
      }
    } catch (e) {
      c.dumpLogs(`setup failed: ${e.message.split('\n')[0]}`);
      throw e;
    }
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test(`${VISITORS} visitors and ${AGENTS} agents chat through HAProxy while a gateway drains: nothing acknowledged is lost or stored twice`, run(async () => {
    // Identities first, then all the handshakes at once, so that
    // round-robin spreads them over both gateways.
    const idents = await Promise.all(Array.from({ length: VISITORS }, () => newVisitor(c.lbUrl)));
    const kinds = [TRANSPORTS.polling, TRANSPORTS.websocket, TRANSPORTS.upgrade];
    for (const [i, ident] of idents.entries()) {
      const v = { ident, inbox: new Inbox() };
      v.rec = connectVisitor(c.lbUrl, ident, {
        transports: kinds[i % kinds.length],
        label: `visitor${i}`,
        // The widget resumes with the highest seq it has seen.
        onReconnectAttempt: (rec) => { rec.query.lastseq = String(v.inbox.maxSeq.get(v.sid) || 0); },
      });
      v.rec.socket.on('message', (m) => v.inbox.add(m));
      visitors.push(v);
    }
    await Promise.all(visitors.map((v) => v.rec.connected({ timeout: LONG })));
    const byAgentId = new Map(agents.map((a) => [String(a.agent.id), a]));
    await Promise.all(visitors.map(async (v) => {
      const ack = await v.rec.emitAck('new', { name: 'Drain test' }, { timeout: LONG });
      assert.ok(ack && ack.ok, `new: ${brief(ack)}`);
      v.sid = ack.agentserviceid;
      const st = await v.rec.waitFor('status', (s) => s && s.state === 'assigned', { timeout: LONG, what: 'assigned' });
      v.agent = byAgentId.get(String(st.agentno));
      assert.ok(v.agent, `assigned to an agent of this test: ${brief(st)}`);
      v.agent.sessions.push(v.sid);
    }));

    const counts = { gw1: 0, gw2: 0 };
    for (const v of visitors) counts[nodeOf(v.rec)]++;
    victim = counts.gw1 >= counts.gw2 ? 0 : 1;
    survivor = 1 - victim;
    const victimId = c.gw[victim].id;
    assert.ok(Math.min(counts.gw1, counts.gw2) >= VISITORS / 5, `visitors spread over both gateways: ${brief(counts)}`);
    const onVictim = [
      ...visitors.filter((v) => nodeOf(v.rec) === victimId).map((v) => v.rec),
      ...agents.map((a) => a.tabs[victim].rec),
    ];
    const victimSids = new Map(onVictim.map((r) => [r, String(r.socket.io.engine.id)]));

    // Traffic: every client sends every 100–200 ms until told to stop.
    let stopping = false;
    const loops = [];
    for (const v of visitors) {
      loops.push((async () => {
        while (!stopping) {
          const clientid = uid('v');
          const ack = await sendUntilAcked(() => v.rec, { type: 'message', msgtype: 'text', message: `from ${v.rec.label}`, clientid }, stats);
          sent.push({ from: 'visitor', clientid, id: ack.id, seq: ack.seq, sid: v.sid, v, at: Date.now() });
          await pace();
        }
      })());
    }
    for (const a of agents) {
      loops.push((async () => {
        for (let n = 0; !stopping; n++) {
          const sid = a.sessions[n % a.sessions.length];
          const clientid = uid('a');
          // Any connected tab may send (the UI's other tab does when one is down).
          const pick = () => a.tabs.find((t, k) => t.rec.socket.connected && (k === n % 2 || !a.tabs[n % 2].rec.socket.connected))?.rec || a.tabs[n % 2].rec;
          const ack = await sendUntilAcked(pick, { agentserviceid: sid, type: 'message', msgtype: 'text', message: `to ${sid}`, clientid }, stats);
          sent.push({ from: 'agent', clientid, id: ack.id, seq: ack.seq, sid, at: Date.now() });
          await pace();
        }
      })());
    }
    const failed = Promise.all(loops).catch((e) => e);

    // Let traffic flow, then SIGTERM the node holding about half the clients.
    await until('traffic to flow', () => sent.length >= VISITORS * 3);
    const watch = { readyz503: 0, lbDown: 0 };
    let watching = true;
    const watchers = [
      (async () => {
        while (watching && !watch.readyz503) {
          const r = await fetch(`${c.gw[victim].url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
          if (r && r.status === 503) watch.readyz503 = Date.now();
          else await new Promise((res) => setTimeout(res, 25));
        }
      })(),
      (async () => {
        while (watching && !watch.lbDown) {
          if ((await c.lbServerStatus(victimId).catch(() => '')) === 'DOWN') watch.lbDown = Date.now();
          else await new Promise((res) => setTimeout(res, 50));
        }
      })(),
    ];
    const sentBefore = sent.length;
    const t0 = Date.now();
    process.kill(c.gw[victim].pid, 'SIGTERM');
    await until(`${victimId} to exit`, () => !c.gatewayAlive(victim), { timeout: (DRAIN_DELAY_S + SHUTDOWN_S + 30) * 1000, interval: 50 });
    const exitedAfter = (Date.now() - t0) / 1000;
    watching = false;
    await Promise.all(watchers);

    // Every client of the drained node reconnected, to the other node.
    await until('every client of the drained node to reconnect', () => onVictim.every((r) => r.socket.connected && nodeOf(r) === c.gw[survivor].id));
    const firstClose = Math.min(...onVictim.map((r) => r.all('disconnect', () => true).find((e) => e.t >= t0)?.t ?? Infinity));
    const victimLog = c.log(victimId).split('\n');
    const stopLines = victimLog.filter((l) => /"msg":"(draining|gateway stopped|http shutdown)"/.test(l) || /^gateway: /.test(l));

    // Keep chatting a while on the survivor, then stop and let the last
    // retries, replays and catch-ups settle.
    await until('traffic after the drain', () => sent.length >= sentBefore + VISITORS * 3);
    stopping = true;
    const loopErr = await failed;
    assert.ok(!(loopErr instanceof Error), `senders: ${loopErr && loopErr.stack}`);

    const expected = []; // [inbox, message, receiver label]
    for (const m of sent) {
      if (m.from === 'visitor') {
        for (const tab of m.v.agent.tabs) expected.push([tab.inbox, m, tab.rec.label]);
      } else {
        expected.push([visitors.find((v) => v.sid === m.sid).inbox, m, `visitor of ${m.sid}`]);
      }
    }
    const missing = () => expected.filter(([inbox, m]) => !inbox.byId.has(m.id));
    await until('every acknowledged message at its receivers', () => missing().length === 0, { timeout: 30000 }).catch(() => {});

    const duplicates = [...visitors.map((v) => v.inbox), ...agents.flatMap((a) => a.tabs.map((t) => t.inbox))].reduce((n, i) => n + i.duplicates(), 0);
    const clients = onVictim.length;
    const summary = {
      victim: victimId, clientsOnVictim: clients, visitorsPerNode: counts, acked: sent.length, ...stats,
      rawDuplicateDeliveries: duplicates,
      victimTabMessagesWhileDraining: agents.map((a) => a.tabs[victim].rec.count('message', (_, e) => e.t > t0 && e.t < firstClose)), exitedAfterSeconds: exitedAfter,
      readyz503AfterMs: watch.readyz503 - t0, lbDownAfterMs: watch.lbDown - t0, firstSocketClosedAfterMs: firstClose - t0,
      lastClientBackAfterMs: Math.max(...onVictim.map((r) => (r.all('connect').find((e) => e.t > firstClose)?.t ?? Infinity) - t0)),
    };
    console.log(`# drain: ${JSON.stringify(summary)}`);

    // The order of the drain.
    assert.ok(watch.readyz503 && watch.readyz503 < firstClose, `/readyz must fail before the first socket closes: ${brief(summary)}`);
    assert.ok(watch.lbDown && watch.lbDown < firstClose, `HAProxy must mark ${victimId} DOWN before its sockets close: ${brief(summary)}`);
    assert.ok(firstClose < Infinity, 'the drained node closed its clients\' sockets');
    assert.ok(summary.victimTabMessagesWhileDraining.every((n) => n > 0), `${victimId} kept delivering while draining: ${brief(summary)}`);
    // A clean exit within the grace: run() returned nil ("gateway stopped",
    // no "gateway: <error>" line, which main prints before exit 1).
    assert.ok(exitedAfter < DRAIN_DELAY_S + SHUTDOWN_S, `${victimId} exited ${exitedAfter} s after SIGTERM; want < ${DRAIN_DELAY_S + SHUTDOWN_S} s\n${stopLines.join('\n')}`);
    assert.ok(stopLines.some((l) => l.includes('"msg":"gateway stopped"')), `"gateway stopped" logged:\n${stopLines.join('\n')}`);
    assert.deepEqual(victimLog.filter((l) => /^gateway: /.test(l)), [], `${victimId} exited with an error`);
    // Everyone reconnected elsewhere: by sid, and by the survivor's own count.
    for (const r of onVictim) {
      assert.notEqual(String(r.socket.io.engine.id), victimSids.get(r), `${r.label} has a new session`);
      assert.ok(r.all('reconnect').some((e) => e.t >= t0), `${r.label} reconnected`);
    }
    let total = 0;
    for (const nsp of ['/im/user', '/im/agent']) {
      for (const transport of ['polling', 'websocket']) total += await c.metric(survivor, 'kefu_socket_connections', { namespace: nsp, transport });
    }
    assert.equal(total, VISITORS + 2 * AGENTS, `${c.gw[survivor].id} holds every socket (/metrics)`);
    for (const a of agents) for (const t of a.tabs) assert.ifError(t.catchUpError);

    // Exactly once: nothing acknowledged is missing; no clientid arrived as two messages.
    const lost = missing();
    const lostBy = {};
    for (const [, , who] of lost) lostBy[who] = (lostBy[who] || 0) + 1;
    const explain = ([inbox, m, who]) => {
      const seqs = [...inbox.byId.values()].filter((x) => x.agentserviceid === m.sid).map((x) => x.seq).sort((x, y) => x - y);
      return `${who} lacks ${m.from} message seq ${m.seq} of ${m.sid} (clientid ${m.clientid}, acked at +${m.at - t0} ms); it has seqs ${seqs.join(',')}`;
    };
    const lifecycle = (rec) => rec.events.filter((e) => e.local).map((e) => `${e.name}@${e.t - t0}`).join(' ');
    const lostRecs = new Set(lost.map(([, , who]) => who));
    const recs = [...agents.flatMap((a) => a.tabs.map((t) => t.rec)), ...visitors.map((v) => v.rec)].filter((r) => lostRecs.has(r.label) || lostRecs.has(`visitor of ${visitors.find((v) => v.rec === r)?.sid}`));
    assert.equal(lost.length, 0, `acknowledged but never received (${lost.length}), by receiver ${brief(lostBy)}:\n${lost.slice(0, 10).map(explain).join('\n')}\n${recs.slice(0, 6).map((r) => `${r.label}: ${lifecycle(r)}`).join('\n')}`);
    for (const inbox of [...visitors.map((v) => v.inbox), ...agents.flatMap((a) => a.tabs.map((t) => t.inbox))]) {
      const ids = new Map();
      for (const m of inbox.byId.values()) {
        if (m.clientid && ids.has(m.clientid) && ids.get(m.clientid) !== m.id) assert.fail(`clientid ${m.clientid} delivered as two messages ${ids.get(m.clientid)} and ${m.id}`);
        ids.set(m.clientid, m.id);
      }
    }
    const acked = new Map(sent.map((m) => [m.clientid, m.id]));
    assert.equal(acked.size, sent.length, 'every send acknowledged once');
    const rows = await c.sql(`SELECT clientid, COUNT(*), MIN(id) FROM messages WHERE clientid IN (${sent.map((m) => `'${m.clientid}'`).join(',')}) GROUP BY clientid`);
    const twice = rows.filter((r) => r[1] !== '1');
    assert.deepEqual(twice, [], 'each clientid stored once');
    assert.equal(rows.length, sent.length, 'every acknowledged message stored');
    for (const [clientid, , id] of rows) assert.equal(id, acked.get(clientid), `stored id of ${clientid} = acknowledged id`);
  }));

  test('the drained node, started again, takes new clients through HAProxy, and drains again with exit status 0', run(async () => {
    assert.ok(victim !== undefined, 'the drain test ran');
    const node = c.gw[victim].id;
    await c.restartGateway(victim);
    await until(`HAProxy to mark ${node} UP`, async () => (await c.lbServerStatus(node)) === 'UP');
    const ident = await newVisitor(c.lbUrl);
    const v = await connectOn(node, () => connectVisitor(c.lbUrl, ident, { transports: TRANSPORTS.polling, label: `visitor@restarted ${node}` }));
    const ack = await v.emitAck('new', { name: 'After the restart' }, { timeout: LONG });
    assert.ok(ack && ack.ok, `new: ${brief(ack)}`);
    const st = await v.waitFor('status', (s) => s && s.state === 'assigned', { timeout: LONG, what: 'assigned' });
    const a = agents.find((x) => String(x.agent.id) === String(st.agentno));
    assert.ok(a, `assigned to an agent of this test: ${brief(st)}`);
    const tab = a.tabs.find((t) => t.rec.socket.connected);
    await tab.rec.waitFor('new', (s) => s && s.agentserviceid === ack.agentserviceid, { timeout: LONG, what: 'new' });
    const chat = { sid: ack.agentserviceid };
    const said = await visitorSay(v, `hello ${node}`);
    await waitMsg(tab.rec, { clientid: said.clientid }, { timeout: LONG });
    const reply = await agentSay(tab.rec, chat.sid, 'welcome back');
    await waitMsg(v, { clientid: reply.clientid }, { timeout: LONG });
    assert.equal(await c.metric(victim, 'kefu_socket_connections', { namespace: '/im/user', transport: 'polling' }), 1, `${node} serves the new visitor (/metrics)`);
    // This process is the test's child: its exit status is known.
    const t0 = Date.now();
    process.kill(c.gw[victim].pid, 'SIGTERM');
    const code = await c.gw[victim].exited;
    assert.equal(code, 0, `${node} exit status after SIGTERM`);
    assert.ok(Date.now() - t0 < (DRAIN_DELAY_S + SHUTDOWN_S) * 1000, `${node} exited ${Date.now() - t0} ms after SIGTERM`);
    await v.waitEvent('reconnect', () => true, { timeout: LONG, what: 'reconnect after the second drain' });
    await until('the visitor back on the other node', () => v.socket.connected && nodeOf(v) === c.gw[survivor].id);
  }));

  test('logs: a request id through HAProxy is echoed and logged; no token or signature in any gateway log', run(async () => {
    const rid = `drain-${Date.now().toString(36)}`;
    const res = await http(c.lbUrl, 'GET', `/api/v1/agent/sessions?token=${agents[0].token}`, { token: agents[0].token, headers: { 'X-Request-Id': rid } });
    expectStatus(res, 200, 'sessions');
    assert.equal(res.headers.get('x-request-id'), rid, 'X-Request-Id echoed');
    const line = await until(`the access log line of ${rid}`, () => c.gw.map((g) => c.log(g.id)).join('\n').split('\n').find((l) => l.includes(`"request_id":"${rid}"`)));
    const access = JSON.parse(line);
    assert.deepEqual([access.msg, access.method, access.path, access.status], ['http request', 'GET', '/api/v1/agent/sessions', 200], line);
    // A socket handler's line names the socket's Engine.IO session and the visitor.
    const v = visitors.find((x) => x.rec.socket.connected);
    const ack = await v.rec.emitAck('invite', { accept: false });
    assert.ok(ack && ack.ok, `invite answer: ${brief(ack)}`);
    const sid = String(v.rec.socket.io.engine.id);
    const inv = await until('the "invite answered" line', () => c.log(nodeOf(v.rec)).split('\n').find((l) => l.includes('"msg":"invite answered"') && l.includes(sid)));
    const fields = JSON.parse(inv);
    assert.deepEqual([fields.sid, fields.userid, fields.appid], [sid, v.ident.userid, v.ident.appid], inv);
    const logs = c.gw.map((g) => c.log(g.id)).join('\n');
    for (const a of agents) assert.ok(!logs.includes(a.token), 'an agent token in a gateway log');
    for (const v of visitors) assert.ok(!logs.includes(v.ident.sign), 'a visitor signature in a gateway log');
  }));

  test('no gateway or routing replica panicked or raced', run(async () => {
    assert.deepEqual(c.problems(), []);
  }));
});
