// Agent presence: an agent whose sockets all close keeps its chats for the
// grace period, then goes offline; its visitors go back to the head of the
// queue and are served by the next agent before anyone who came later.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TRANSPORTS, uid, http, expectStatus, login, newVisitor, connectVisitor, connectAgent, createAgent, setStatus, adminLogin, openChat,
  brief, closeAllClients,
} from './client.mjs';

describe('agent presence', { skip: skipReason() }, () => {
  let c;
  let admin;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'presence' });
    admin = await c.guard('setup', () => adminLogin(c));
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('agent sockets drop, grace elapses: visitors re-queued at the head and re-assigned', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const a = await createAgent(gw1, admin.token, { maxuser: 2 });
    a.socket = connectAgent(gw2, a.token, { transports: TRANSPORTS.websocket, label: 'agent A@gw2', reconnection: false });
    await a.socket.connected();
    await setStatus(gw1, a.token, { status: 'ready' });

    const visitors = [];
    for (let i = 1; i <= 2; i++) {
      const ident = await newVisitor(gw1);
      const v = connectVisitor(gw1, ident, { transports: TRANSPORTS.polling, label: `visitor ${i}@gw1` });
      await v.connected();
      const { sid } = await openChat(v, ident, a);
      visitors.push({ v, sid });
    }
    // A is full (maxuser 2): a third visitor waits.
    const ident3 = await newVisitor(gw2);
    const v3 = connectVisitor(gw2, ident3, { transports: TRANSPORTS.websocket, label: 'visitor 3@gw2' });
    await v3.connected();
    const ack3 = await v3.emitAck('new', {});
    assert.ok(ack3?.ok, `new: ${brief(ack3)}`);
    await v3.waitFor('status', (s) => s && s.agentserviceid === ack3.agentserviceid && s.state === 'queued', { what: 'visitor 3 queued' });

    // Agent B is connected but not ready yet.
    const b = await createAgent(gw1, admin.token, { maxuser: 2 });
    b.socket = connectAgent(gw1, b.token, { transports: TRANSPORTS.polling, label: 'agent B@gw1' });
    await b.socket.connected();

    // A's only socket goes away; after the grace its visitors are waiting again.
    const marks = visitors.map(({ v }) => v.mark());
    a.socket.close();
    for (const [i, { v, sid }] of visitors.entries()) {
      // Nobody is ready now (B is not yet): waiting with "noagent".
      const st = await v.waitFor('status', (s) => s && s.agentserviceid === sid && ['queued', 'noagent'].includes(s.state), { after: marks[i], what: `visitor ${i + 1} re-queued` });
      assert.equal(st.num, i + 1, `re-queued visitors go first, in their original order: ${brief(st)}`);
    }
    assert.deepEqual(await c.sql(`SELECT status, busy FROM agent_states WHERE agent_id=${q(a.agent.id)}`), [['offline', '0']], 'agent A offline');
    const logged = await c.sql(`SELECT status FROM agent_status_logs WHERE agent_id=${q(a.agent.id)} ORDER BY since`);
    assert.ok(logged.some((r) => r[0] === 'ready'), `A's ready spell logged: ${JSON.stringify(logged)}`);

    // B (capacity 2) becomes ready: it takes the two re-queued visitors, not the later one.
    await setStatus(gw1, b.token, { status: 'ready' });
    for (const { v, sid } of visitors) {
      const st = await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.state === 'assigned' && String(s.agentno) === String(b.agent.id), { what: 'assigned to B' });
      assert.equal(st.agentserviceid, sid, 'same session: no new one');
      await b.socket.waitFor('new', (s) => s && s.agentserviceid === sid, { what: `B gets ${sid}` });
    }
    const rows = await c.sql(`SELECT id, status, agentno FROM sessions WHERE id IN (${[...visitors.map((x) => x.sid), ack3.agentserviceid].map(q).join(',')}) ORDER BY created_at`);
    assert.deepEqual(rows, [
      [visitors[0].sid, 'inservice', String(b.agent.id)],
      [visitors[1].sid, 'inservice', String(b.agent.id)],
      [ack3.agentserviceid, 'inquene', ''],
    ], 'sessions after the hand-over');

    // A comes back: not ready until it says so.
    const again = connectAgent(gw2, a.token, { transports: TRANSPORTS.websocket, label: 'agent A back' });
    await again.connected();
    const st = await setStatus(gw1, a.token, {});
    assert.ok(['offline', 'notready'].includes(st.status), `A back: ${brief(st)}`);
  }));

  test('skill groups: a visitor who asks for a skill goes to an agent of that group, across nodes', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const sk = expectStatus(await http(gw1, 'POST', '/api/v1/admin/skills', { token: admin.token, body: { name: uid('Sales') } }), [200, 201], 'create skill');
    const username = uid('sales');
    const made = expectStatus(await http(gw1, 'POST', '/api/v1/admin/agents', { token: admin.token, body: { username, password: 'pw-123456', nickname: 'Sales agent', skills: [sk.id] } }), [200, 201], 'create agent in skill');
    const inSkill = await login(gw1, username, 'pw-123456');
    const outside = await createAgent(gw1, admin.token);
    for (const [a, gw] of [[inSkill, gw2], [outside, gw1]]) {
      a.socket = connectAgent(gw, a.token, { transports: TRANSPORTS.websocket, label: `agent ${a.agent.username}` });
      await a.socket.connected();
      await setStatus(gw1, a.token, { status: 'ready' });
    }
    // The agent outside the group is idler and less loaded: only the skill can send the visitor to the other.
    for (let i = 0; i < 2; i++) {
      const ident = await newVisitor(gw1);
      const v = connectVisitor(gw1, ident, { transports: TRANSPORTS.polling, query: { skill: sk.id }, label: `sales visitor ${i}` });
      await v.connected();
      const ack = await v.emitAck('new', {});
      assert.ok(ack?.ok, `new: ${brief(ack)}`);
      const st = await v.waitFor('status', (s) => s && s.agentserviceid === ack.agentserviceid && s.state === 'assigned', { what: 'assigned in the skill group' });
      assert.equal(String(st.agentno), String(made.id), `skill visitor went to ${st.agentno}`);
    }
    assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM sessions WHERE skill=${q(sk.id)} AND agentno=${q(made.id)}`), [['2']], 'sessions of the group');
  }));

  test('disabling an agent: its sockets on both nodes get leave and are disconnected, its visitor goes to another agent', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const d = await createAgent(gw1, admin.token, { maxuser: 5 });
    d.sockets = [
      connectAgent(gw1, d.token, { transports: TRANSPORTS.polling, label: 'doomed@gw1', reconnection: false }),
      connectAgent(gw2, d.token, { transports: TRANSPORTS.websocket, label: 'doomed@gw2', reconnection: false }),
    ];
    d.socket = d.sockets[0];
    await Promise.all(d.sockets.map((s) => s.connected()));
    await setStatus(gw1, d.token, { status: 'ready' });
    // The visitor asks for this agent (the `agent` query), so it is served by it.
    const ident = await newVisitor(gw2);
    const v = connectVisitor(gw2, ident, { transports: TRANSPORTS.websocket, query: { agent: d.agent.id }, label: 'visitor of the doomed agent' });
    await v.connected();
    const { sid } = await openChat(v, ident, d);
    const heir = await createAgent(gw1, admin.token);
    heir.socket = connectAgent(gw2, heir.token, { transports: TRANSPORTS.polling, label: 'heir@gw2' });
    await heir.socket.connected();

    const vmark = v.mark();
    expectStatus(await http(gw2, 'PUT', `/api/v1/admin/agents/${encodeURIComponent(d.agent.id)}`, { token: admin.token, body: { disabled: true } }), 200, 'disable');
    for (const s of d.sockets) {
      const leave = await s.waitFor('leave', () => true, { what: `${s.label}: leave` });
      assert.equal(leave?.reason, 'disabled', `leave: ${brief(leave)}`);
      await s.waitEvent('disconnect', () => true, { what: `${s.label}: disconnected` });
    }
    expectStatus(await http(gw1, 'GET', '/api/v1/agent/sessions', { token: d.token }), 401, 'the disabled agent\'s token');
    // After the grace the chat leaves the disabled agent: straight to a free
    // agent if there is one, else into the queue until the heir is ready.
    let st = await v.waitFor('status', (s) => s && s.agentserviceid === sid && String(s.agentno || '') !== String(d.agent.id) && ['queued', 'assigned'].includes(s.state), { after: vmark, what: 'the chat leaves the disabled agent' });
    if (st.state === 'queued') {
      await setStatus(gw1, heir.token, { status: 'ready' });
      st = await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.state === 'assigned', { what: 'assigned to the heir' });
      assert.equal(String(st.agentno), String(heir.agent.id), `re-assigned to ${st.agentno}`);
    }
    const row = await c.sql(`SELECT status, agentno FROM sessions WHERE id=${q(sid)}`);
    assert.equal(row[0][0], 'inservice', 'the same session goes on');
    assert.notEqual(row[0][1], String(d.agent.id), 'served by another agent');
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
