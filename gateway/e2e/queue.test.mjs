// Routing basics across nodes: nobody ready → noagent/queued; capacity
// (maxuser) is never exceeded; the queue drains when capacity frees.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TRANSPORTS, http, expectStatus, newVisitor, connectVisitor, connectAgent, createAgent, setStatus, adminLogin,
  brief, closeAllClients,
} from './client.mjs';

describe('routing: no agent, capacity, queue', { skip: skipReason() }, () => {
  let c;
  let admin;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'queue' });
    admin = await c.guard('setup', () => adminLogin(c));
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('nobody ready: new → ok, status noagent or queued; an agent who becomes ready then gets the visitor', run(async () => {
    const ident = await newVisitor(c.gw[0].url);
    const v = connectVisitor(c.gw[0].url, ident, { transports: TRANSPORTS.polling, label: 'visitor@gw1' });
    await v.connected();
    const ack = await v.emitAck('new', { name: 'early bird' });
    assert.ok(ack?.ok && ack.agentserviceid, `new: ${brief(ack)}`);
    const sid = ack.agentserviceid;
    const st = await v.waitFor('status', (s) => s && s.agentserviceid === sid, { what: 'status with nobody ready' });
    assert.ok(['noagent', 'queued'].includes(st.state), `state with nobody ready: ${brief(st)}`);

    // An agent (on gw2) becomes ready; the visitor asks again (same session).
    const a = await createAgent(c.gw[0].url, admin.token, { maxuser: 1 });
    a.socket = connectAgent(c.gw[1].url, a.token, { label: 'agent@gw2' });
    await a.socket.connected();
    await setStatus(c.gw[1].url, a.token, { status: 'ready' });
    const again = await v.emitAck('new', {});
    assert.equal(again?.agentserviceid, sid, `same session: ${brief(again)}`);
    const assigned = await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.state === 'assigned', { what: 'assigned once an agent is ready' });
    assert.equal(String(assigned.agentno), String(a.agent.id));
    await a.socket.waitFor('new', (s) => s && s.agentserviceid === sid, { what: 'agent new' });

    // Capacity 1: a second visitor (on gw2) is not given to this agent.
    const id2 = await newVisitor(c.gw[1].url);
    const v2 = connectVisitor(c.gw[1].url, id2, { transports: TRANSPORTS.websocket, label: 'visitor 2@gw2' });
    await v2.connected();
    const ack2 = await v2.emitAck('new', {});
    assert.ok(ack2?.ok, `new: ${brief(ack2)}`);
    const st2 = await v2.waitFor('status', (s) => s && s.agentserviceid === ack2.agentserviceid, { what: 'status of the second visitor' });
    assert.ok(['queued', 'noagent'].includes(st2.state), `the agent is full (maxuser 1): ${brief(st2)}`);
    if (st2.state === 'queued') assert.equal(st2.num, 1, `queue position: ${brief(st2)}`);
    const rows = await c.sql(`SELECT COUNT(*) FROM sessions WHERE agentno=${q(a.agent.id)} AND status='inservice'`);
    assert.deepEqual(rows, [['1']], 'in-service sessions of the agent never exceed maxuser');

    // The first chat ends: the queued visitor gets the agent.
    if (st2.state === 'queued') {
      expectStatus(await http(c.gw[0].url, 'POST', `/api/v1/sessions/${encodeURIComponent(sid)}/end`, { token: a.token, body: {} }), [200, 204], 'end');
      const got = await v2.waitFor('status', (s) => s && s.agentserviceid === ack2.agentserviceid && s.state === 'assigned', { what: 'assigned when capacity frees' });
      assert.equal(String(got.agentno), String(a.agent.id));
      await a.socket.waitFor('new', (s) => s && s.agentserviceid === ack2.agentserviceid, { what: 'agent new for the queued visitor' });
      assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM sessions WHERE agentno=${q(a.agent.id)} AND status='inservice'`), [['1']], 'still within maxuser');
    }
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
