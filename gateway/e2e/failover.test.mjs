// Routing high availability: two routing replicas, one leads (holds the
// lease); kill -9 the leader and the standby takes over: a new visitor is
// still assigned, and a visitor queued before the kill is served once an
// agent frees up. The takeover time is reported, not asserted.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q, leaderOf, LEADING } from './cluster.mjs';
import {
  TRANSPORTS, newVisitor, connectVisitor, createAgent, connectAgent, setStatus, adminLogin, openChat, brief, closeAllClients,
} from './client.mjs';

describe('routing failover', { skip: skipReason() }, () => {
  let c;
  let admin;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'failover', routings: 2 });
    admin = await c.guard('setup', () => adminLogin(c));
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('kill -9 the leading replica: the standby takes over and routing goes on', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const leaders = await leaderOf(c);
    assert.equal(leaders.length, 1, `exactly one replica leads: ${leaders.map((r) => r.id)}`);
    const [leader] = leaders;
    const standby = c.routings.find((r) => r !== leader);

    const a = await createAgent(gw1, admin.token, { maxuser: 1 });
    a.socket = connectAgent(gw2, a.token, { transports: TRANSPORTS.websocket, label: 'agent@gw2' });
    await a.socket.connected();
    await setStatus(gw1, a.token, { status: 'ready' });
    const id1 = await newVisitor(gw1);
    const v1 = connectVisitor(gw1, id1, { transports: TRANSPORTS.polling, label: 'visitor 1' });
    await v1.connected();
    const { sid: sid1 } = await openChat(v1, id1, a);
    // The agent is full: visitor 2 waits in the queue, in MySQL.
    const id2 = await newVisitor(gw2);
    const v2 = connectVisitor(gw2, id2, { transports: TRANSPORTS.websocket, label: 'visitor 2' });
    await v2.connected();
    const ack2 = await v2.emitAck('new', {});
    assert.ok(ack2?.ok, `new: ${brief(ack2)}`);
    await v2.waitFor('status', (s) => s && s.agentserviceid === ack2.agentserviceid && s.state === 'queued', { what: 'visitor 2 queued' });

    leader.proc.expectExit = true;
    leader.proc.child.kill('SIGKILL');
    const killedAt = Date.now();
    // The standby must lead; then ending chat 1 frees the agent for visitor 2.
    const deadline = Date.now() + 20000;
    while (!LEADING.test(standby.proc.log())) {
      assert.ok(Date.now() < deadline, 'the standby never took the lease');
      await new Promise((r) => setTimeout(r, 50)); // polling a log file: no event to await
    }
    const tookOver = Date.now() - killedAt;
    const ended = await fetch(`${gw1}/api/v1/sessions/${encodeURIComponent(sid1)}/end`, { method: 'POST', headers: { authorization: `Bearer ${a.token}` } });
    assert.equal(ended.status, 200, 'end chat 1');
    const st = await v2.waitFor('status', (s) => s && s.agentserviceid === ack2.agentserviceid && s.state === 'assigned', { what: 'visitor 2 served after the takeover', timeout: 30000 });
    assert.equal(String(st.agentno), String(a.agent.id));
    const rows = await c.sql(`SELECT COUNT(*) FROM sessions WHERE agentno=${q(a.agent.id)} AND status='inservice'`);
    assert.deepEqual(rows, [['1']], 'capacity held across the takeover');
    process.stderr.write(`failover: standby ${standby.id} took the lease ${tookOver} ms after kill -9 of ${leader.id}; visitor 2 served ${Date.now() - killedAt} ms after it\n`);
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
