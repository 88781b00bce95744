// Through the load balancer, as operators run it: deploy/cluster.sh starts 2
// gateways, 2 routing replicas and HAProxy (deploy/haproxy/haproxy.cfg), and
// every client connects to HAProxy only.
//
// Stickiness must not depend on cookies: an embedded widget often cannot keep
// a third-party cookie, and Node's socket.io-client keeps none at all. So the
// polling clients here send no Cookie header (HAProxy's log shows
// cookies=0 for them), and some send a KEFUGW cookie naming the *other* node on
// every request after their handshake: each request must still reach the node
// named by its `sid`, which we check in HAProxy's log line by line, and in
// the gateways' own connection counts (/metrics).

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from './cluster.mjs';
import { startLBCluster, lbSkipReason } from './lbcluster.mjs';
import {
  TRANSPORTS, TIMEOUT, uid, newVisitor, connectVisitor, connectAgent, createAgent, setStatus, login, openChat,
  visitorSay, agentSay, waitMsg, brief, closeAllClients,
} from './client.mjs';

const VISITORS = 40;

/** The node id in a client's Engine.IO session id ("gw1.AbC…" → "gw1"). */
function nodeOf(rec) {
  const id = rec.socket.io.engine && rec.socket.io.engine.id;
  return id ? String(id).split('.')[0] : '';
}

function sidOf(rec) {
  return String(rec.socket.io.engine.id);
}

async function until(what, fn, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50)); // a log file: no event to await
  }
}

describe('through the load balancer (deploy/cluster.sh + HAProxy)', { skip: lbSkipReason() }, () => {
  let c;
  let admin;
  let agent; // one agent with a polling socket on each gateway
  const other = (node) => (node === 'gw1' ? 'gw2' : 'gw1');
  const run = (fn) => (t) => c.wrap(fn)(t);

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

  before(async () => {
    c = await startLBCluster({ name: 'lb', env: { KEFU_DRAIN_DELAY: '1s' } });
    try {
      admin = await login(c.lbUrl, 'admin', DEMO_PASSWORD);
      const a = await createAgent(c.lbUrl, admin.token, { maxuser: VISITORS + 10 });
      const polling = (label) => () => connectAgent(c.lbUrl, a.token, { transports: TRANSPORTS.polling, label });
      a.on = { gw1: await connectOn('gw1', polling('agent@gw1')), gw2: await connectOn('gw2', polling('agent@gw2')) };
      a.socket = a.on.gw1;
      await setStatus(c.lbUrl, a.token, { status: 'ready' });
      agent = a;
    } catch (e) {
      c.dumpLogs(`setup failed: ${e.message.split('\n')[0]}`);
      throw e;
    }
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('handshakes without a sid are balanced over both gateways; the fallback cookie names the node of the sid', run(async () => {
    const seen = new Set();
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`${c.lbUrl}/socket.io/?EIO=3&transport=polling&b64=1&t=${uid('t')}`, { signal: AbortSignal.timeout(TIMEOUT) });
      const body = await r.text();
      assert.equal(r.status, 200, `handshake: ${r.status} ${body}`);
      const sid = (body.match(/"sid":"([^"]+)"/) || [])[1];
      assert.match(String(sid), /^gw[12]\.[A-Za-z0-9_-]{22}$/, `sid in ${body}`);
      const node = sid.split('.')[0];
      seen.add(node);
      assert.match(String(r.headers.get('set-cookie')), new RegExp(`^KEFUGW=${node};`), 'the cookie fallback names the same node');
    }
    assert.deepEqual([...seen].sort(), ['gw1', 'gw2'], 'round-robin handshakes reach both gateways');
    const ready = await fetch(`${c.lbUrl}/readyz`, { signal: AbortSignal.timeout(TIMEOUT) });
    assert.equal(ready.status, 200, 'GET /readyz through the LB');
  }));

  test(`polling only, no cookies: ${VISITORS} visitors and an agent on both gateways chat through the LB; every request reaches the node named in its sid`, run(async () => {
    // Identities first, then all the handshakes: interleaving them would let
    // round-robin put every socket on one node.
    const idents = await Promise.all(Array.from({ length: VISITORS }, () => newVisitor(c.lbUrl)));
    const hostile = new Map(); // visitor → its headers (a wrong cookie once connected)
    const visitors = idents.map((ident, i) => {
      const headers = i % 4 === 3 ? { 'X-Kefu-E2E': 'wrong-cookie' } : undefined;
      const v = connectVisitor(c.lbUrl, ident, { transports: TRANSPORTS.polling, extraHeaders: headers, label: `visitor${i}` });
      if (headers) hostile.set(v, headers);
      return v;
    });
    await Promise.all(visitors.map((v) => v.connected()));
    for (const [v, headers] of hostile) headers.Cookie = `KEFUGW=${other(nodeOf(v))}`; // from now on, every request
    const byNode = { gw1: visitors.filter((v) => nodeOf(v) === 'gw1'), gw2: visitors.filter((v) => nodeOf(v) === 'gw2') };
    assert.ok(byNode.gw1.length >= 5 && byNode.gw2.length >= 5, `visitors per node: gw1 ${byNode.gw1.length}, gw2 ${byNode.gw2.length}`);

    // Open the chats, then each visitor writes and the agent answers from
    // the socket on the other gateway than the visitor's.
    const chats = await Promise.all(visitors.map((v, i) => openChat(v, idents[i], agent, { timeout: 30000 })));
    await Promise.all(visitors.map(async (v, i) => {
      const sid = chats[i].sid;
      const node = nodeOf(v);
      const said = await visitorSay(v, `hello from ${node} #${i}`, { ctx: `visitor${i}@${node}` });
      await Promise.all(['gw1', 'gw2'].map((n) => waitMsg(agent.on[n], { clientid: said.clientid }, { timeout: 20000 })));
      const reply = await agentSay(agent.on[other(node)], sid, `answer from ${other(node)} #${i}`, { ctx: `agent@${other(node)} to visitor${i}` });
      const got = await waitMsg(v, { clientid: reply.clientid }, { timeout: 20000 });
      assert.equal(got.message, reply.message, `visitor${i} got the answer`);
    }));

    // Each gateway holds exactly the polling visitors whose sid names it.
    for (const [i, node] of ['gw1', 'gw2'].entries()) {
      const n = await c.metric(i, 'kefu_socket_connections', { namespace: '/im/user', transport: 'polling' });
      assert.equal(n, byNode[node].length, `${node}: polling visitor connections on /metrics vs sids naming it`);
      const a = await c.metric(i, 'kefu_socket_connections', { namespace: '/im/agent', transport: 'polling' });
      assert.equal(a, 1, `${node}: the agent's polling socket`);
    }

    // HAProxy's log: every request carrying a sid went to the node it names;
    // the plain clients never sent a cookie; the others sent the wrong one
    // and were still routed by their sid.
    const sids = new Map(visitors.map((v) => [sidOf(v), v]));
    const reqs = c.lbRequests().filter((r) => r.sid && sids.has(r.sid));
    assert.ok(reqs.length >= 3 * VISITORS, `logged requests of these sessions: ${reqs.length}`);
    const misrouted = reqs.filter((r) => r.server !== r.sid.split('.')[0]);
    assert.deepEqual(misrouted.map((r) => r.line), [], 'requests that did not reach the node of their sid');
    const bad = reqs.filter((r) => r.status >= 400);
    assert.deepEqual(bad.map((r) => r.line), [], 'failed requests');
    const plainWithCookie = reqs.filter((r) => !hostile.has(sids.get(r.sid)) && r.cookies !== 0);
    assert.deepEqual(plainWithCookie.map((r) => r.line), [], 'the plain polling clients must send no Cookie header');
    const wrongCookie = reqs.filter((r) => hostile.has(sids.get(r.sid)) && r.kefugw && r.kefugw !== r.server);
    assert.ok(wrongCookie.length >= hostile.size, `requests routed by sid against a cookie naming the other node: ${wrongCookie.length}`);
    for (const v of visitors) v.close();
  }));

  test('websocket: the upgrade goes through the LB to the node of the sid, and the chat goes on over it', run(async () => {
    for (const node of ['gw1', 'gw2']) {
      const ident = await newVisitor(c.lbUrl);
      const v = await connectOn(node, () => connectVisitor(c.lbUrl, ident, { transports: TRANSPORTS.upgrade, label: `ws visitor@${node}` }));
      await v.waitEvent('engine_upgrade', (t) => t === 'websocket', { what: 'upgrade to websocket' });
      assert.equal(v.transport(), 'websocket');
      const sid = sidOf(v);
      const chat = await openChat(v, ident, agent);
      const said = await visitorSay(v, `over websocket on ${node}`);
      await waitMsg(agent.on[other(node)], { clientid: said.clientid });
      const reply = await agentSay(agent.on[other(node)], chat.sid, `back to ${node}`);
      await waitMsg(v, { clientid: reply.clientid });
      const idx = node === 'gw1' ? 0 : 1;
      const ws = await c.metric(idx, 'kefu_socket_connections', { namespace: '/im/user', transport: 'websocket' });
      assert.equal(ws, 1, `${node}: one websocket visitor on /metrics`);
      v.close();
      // HAProxy logs a tunnel when it ends: the upgrade (101) reached the node.
      const up = await until(`the websocket of ${sid} in HAProxy's log`, () => c.lbRequests().find((r) => r.sid === sid && r.status === 101));
      assert.equal(up.server, node, `websocket upgrade: ${brief(up.line)}`);
    }
  }));

  test('no gateway or routing replica panicked or raced', run(async () => {
    assert.deepEqual(c.problems(), []);
  }));
});
