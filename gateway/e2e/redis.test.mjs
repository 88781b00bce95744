// Redis restart mid-run (Redis is a bus and a cache; MySQL is the truth): the
// cluster gets a Redis of its own, which is shut down (nosave) and started
// again. Afterwards cross-node delivery must resume by itself, acknowledged
// messages must be in MariaDB, and new visitors must be routed again.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TRANSPORTS, uid, http, newVisitor, connectVisitor, readyAgent, adminLogin, openChat,
  visitorSay, agentSay, waitMsg, brief, closeAllClients,
} from './client.mjs';

const RESUME_DEADLINE = 30000;

/** Poll cond() (a state, not an event: nothing to await) every 100 ms until true, up to 15 s. */
async function until(what, cond, timeout = 15000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await cond().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Send from `from` until one message arrives at `to` (each try waits up to
 * 1 s for its own message), within `deadline` ms. Resolves with the attempts.
 */
async function sendUntilDelivered(label, send, to, deadline = RESUME_DEADLINE) {
  const end = Date.now() + deadline;
  const attempts = [];
  let lastErr;
  while (Date.now() < end) {
    let ack;
    try {
      ack = await send(`${label} try ${attempts.length + 1}`);
    } catch (e) {
      // An error ack (e.g. unavailable) or no ack while the bus is down: try again.
      lastErr = e;
      attempts.push({ error: e.message.split('\n')[0] });
      await new Promise((r) => setTimeout(r, 250));
      continue;
    }
    attempts.push(ack);
    try {
      await waitMsg(to, ack, { timeout: 1000 });
      return attempts;
    } catch (e) {
      lastErr = e;
    }
  }
  throw new Error(`${label}: no message delivered within ${deadline} ms after the Redis restart; ${attempts.length} tries: ${brief(attempts)}\n${lastErr?.message ?? ''}`);
}

describe('Redis restart', { skip: skipReason() }, () => {
  let c;
  let agent; // sockets on gw2 and gw1
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'redis', privateRedis: true }); // restarted below
    await c.guard('setup', async () => {
      const admin = await adminLogin(c);
      agent = await readyAgent(c, admin.token, { sockets: [{ url: c.gw[1].url, transports: TRANSPORTS.websocket }, { url: c.gw[0].url, transports: TRANSPORTS.polling }] });
    });
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('after a Redis restart cross-node delivery resumes by itself, and chats go on', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const agentGw2 = agent.sockets[0];
    const agentGw1 = agent.sockets[1];

    // Before: visitor on gw1, agent on gw2, both directions.
    const ident = await newVisitor(gw1);
    const v = connectVisitor(gw1, ident, { transports: TRANSPORTS.polling, label: 'visitor@gw1' });
    await v.connected();
    const { sid } = await openChat(v, ident, agent);
    const m0 = await visitorSay(v, 'before the restart');
    await waitMsg(agentGw2, m0);
    const r0 = await agentSay(agentGw2, sid, 'reply before the restart');
    await waitMsg(v, r0);

    // Restart. While Redis is down: every gateway notices (GET /readyz 503),
    // and one message is sent.
    const downCid = uid('down');
    let downAck;
    await c.restartRedis({
      whileDown: async () => {
        await Promise.all(c.gw.map((g) => until(`${g.id} /readyz not 200 while Redis is down`, async () => (await http(g.url, 'GET', '/readyz')).status !== 200)));
        downAck = v.emitAck('message', { type: 'message', msgtype: 'text', message: 'while redis is down', clientid: downCid }, { timeout: 30000 })
          .then((a) => a, (e) => ({ noack: e.message }));
      },
    });
    await Promise.all(c.gw.map((g) => until(`${g.id} /readyz 200 after the restart`, async () => (await http(g.url, 'GET', '/readyz')).status === 200)));
    const da = await downAck;
    assert.ok(da && (da.ok === true || (da.ok === false && da.error?.code)), `a message sent while Redis was down got exactly one ack (ok or error) within 30 s: ${brief(da)}`);
    if (da.ok) {
      const rows = await c.sql(`SELECT seq FROM messages WHERE clientid=${q(downCid)}`);
      assert.deepEqual(rows, [[String(da.seq)]], 'an acknowledged message is in MariaDB');
    }

    // Cross-node delivery resumes by itself, both ways.
    await sendUntilDelivered('visitor→agent', (text) => visitorSay(v, text), agentGw2);
    await sendUntilDelivered('agent→visitor', (text) => agentSay(agentGw2, sid, text), v);

    // Then the normal flow: prompt delivery, increasing seq, rows stored.
    const acks = [];
    for (let i = 0; i < 3; i++) {
      const a = await visitorSay(v, `after ${i}`);
      await waitMsg(agentGw2, a);
      await waitMsg(agentGw1, a);
      acks.push(a);
      const b = await agentSay(agentGw2, sid, `reply after ${i}`);
      await waitMsg(v, b);
      acks.push(b);
    }
    for (let i = 1; i < acks.length; i++) assert.ok(acks[i].seq > acks[i - 1].seq, `seq increases: ${acks.map((a) => a.seq)}`);
    const rows = await c.sql(`SELECT seq FROM messages WHERE agentserviceid=${q(sid)} ORDER BY seq`);
    const seqs = rows.map((r) => Number(r[0]));
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `stored seqs 1..N without gaps: ${seqs}`);
    for (const a of acks) assert.ok(seqs.includes(a.seq), `row for seq ${a.seq}`);

    // A reconnecting visitor still resumes its session (state rebuilt from MariaDB).
    const last = Math.max(...v.all('message', (m) => m.agentserviceid === sid && m.type === 'message').map((e) => e.data.seq));
    v.close();
    const extra = await agentSay(agentGw1, sid, 'while the visitor is away');
    const v2 = connectVisitor(gw2, ident, { lastseq: last, label: 'visitor reconnected@gw2' });
    await waitMsg(v2, extra);
    const st = await v2.waitFor('status', (s) => s && s.agentserviceid === sid, { what: 'status after replay' });
    assert.equal(st.state, 'assigned', `status: ${brief(st)}`);
  }));

  test('after a Redis restart a new visitor is routed to the ready agent, across nodes', run(async () => {
    // (runs after the restart above; on its own it restarts Redis first)
    if (!c.redisRestarted) await c.restartRedis();
    const ident = await newVisitor(c.gw[1].url);
    const v = connectVisitor(c.gw[1].url, ident, { label: 'new visitor@gw2' });
    await v.connected();
    // Routing may still be recovering its command stream: allow the deadline.
    const { sid } = await openChat(v, ident, agent, { timeout: RESUME_DEADLINE });
    const m = await visitorSay(v, 'hello after the restart');
    await waitMsg(agent.sockets[1], m); // agent socket on gw1
    const r = await agentSay(agent.sockets[1], sid, 'welcome after the restart');
    await waitMsg(v, r);
    const st = expectOk(await http(c.gw[0].url, 'PUT', '/api/v1/agent/status', { token: agent.token, body: { status: 'ready' } }));
    assert.equal(st.status, 'ready');
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});

function expectOk(res) {
  assert.equal(res.status, 200, `${res.req} → ${res.status} ${res.text}`);
  return res.body;
}
