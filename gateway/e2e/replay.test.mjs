// Reconnect with `lastseq`: the open session's messages after it arrive first,
// in seq order, then `status`, then live traffic; no new session, no second
// agent `new`. Agents catch up over REST; visitors read their history over REST.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TRANSPORTS, uid, http, expectStatus, newVisitor, connectVisitor, readyAgent, adminLogin, openChat,
  visitorSay, agentSay, waitMsg, checkChatMessage, brief, closeAllClients,
} from './client.mjs';

const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('reconnect and replay', { skip: skipReason() }, () => {
  let c;
  let agent;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'replay' });
    await c.guard('setup', async () => {
      const admin = await adminLogin(c);
      agent = await readyAgent(c, admin.token, { sockets: [{ url: c.gw[1].url }] });
    });
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  /** A visitor on gw1 in an assigned session with a few messages both ways. */
  async function chatting(transports) {
    const ident = await newVisitor(c.gw[0].url);
    const v = connectVisitor(c.gw[0].url, ident, { transports, label: 'visitor@gw1' });
    await v.connected();
    const { sid } = await openChat(v, ident, agent);
    const acks = [];
    acks.push(await visitorSay(v, 'v1'));
    acks.push(await visitorSay(v, 'v2'));
    const a1 = await agentSay(agent.socket, sid, 'a1');
    acks.push(a1);
    await waitMsg(v, a1);
    return { ident, v, sid, acks };
  }

  for (const tname of ['polling', 'websocket']) {
    test(`${tname}: a new socket with lastseq gets the missed messages, then status, then live`, run(async () => {
      const transports = TRANSPORTS[tname];
      const { ident, v, sid, acks } = await chatting(transports);
      const N = Math.max(...v.all('message', (m) => m.agentserviceid === sid && m.type === 'message').map((e) => e.data.seq));
      assert.equal(N, acks.at(-1).seq, 'the visitor saw everything up to the last ack');
      v.close();

      // Missed while away: agent messages and one from another socket of the visitor.
      const missed = [];
      missed.push(await agentSay(agent.socket, sid, 'missed a2'));
      missed.push(await agentSay(agent.socket, sid, 'missed a3'));
      const other = connectVisitor(c.gw[1].url, ident, { transports, label: 'visitor other socket@gw2' });
      await other.connected();
      missed.push(await visitorSay(other, 'missed v3 from another tab'));
      other.close();
      missed.push(await agentSay(agent.socket, sid, 'missed a4'));
      const M = missed.at(-1).seq;
      assert.deepEqual(missed.map((m) => m.seq), range(N + 1, M), 'acks continue the seq without gaps');

      // Reconnect on the other node with lastseq = N.
      const amark = agent.socket.mark();
      const r = connectVisitor(c.gw[1].url, ident, { transports, lastseq: N, label: 'visitor reconnected@gw2' });
      const st = await r.waitEvent('status', (s) => s && s.agentserviceid === sid, { what: 'status after replay' });
      assert.equal(st.data.state, 'assigned', `status after replay: ${brief(st.data)}`);
      const before = r.events.slice(0, st.i).filter((e) => !e.local);
      assert.ok(before.every((e) => e.name === 'message'), `only messages before status: ${before.map((e) => e.name).join(',')}`);
      assert.deepEqual(before.map((e) => e.data.seq), range(N + 1, M), 'replayed seqs: exactly N+1..M, in order');
      for (const e of before) {
        const want = missed.find((m) => m.seq === e.data.seq);
        checkChatMessage(e.data, { id: want.id, clientid: want.clientid, message: want.message, agentserviceid: sid, usession: ident.userid }, 'replayed');
      }

      // Live traffic after the replay.
      const live = await agentSay(agent.socket, sid, 'live after reconnect');
      assert.equal(live.seq, M + 1);
      await waitMsg(r, live);
      const fromVisitor = await visitorSay(r, 'visitor live after reconnect');
      await waitMsg(agent.socket, fromVisitor);
      await waitMsg(r, fromVisitor); // the echo to the sender's own socket
      assert.equal(fromVisitor.seq, M + 2);
      const seqs = r.all('message', (m) => m.agentserviceid === sid && m.type === 'message').map((e) => e.data.seq);
      assert.deepEqual(seqs, range(N + 1, M + 2), `no gap, no duplicate on the reconnected socket: ${seqs}`);

      // No new session, no second `new` to the agent.
      assert.equal(agent.socket.count('new', (s) => s && s.agentserviceid === sid, amark), 0, 'no second new to the agent');
      const sessions = await c.sql(`SELECT id FROM sessions WHERE userid=${q(ident.userid)}`);
      assert.deepEqual(sessions, [[sid]], 'one session for the visitor');
      const again = await r.emitAck('new', {});
      assert.equal(again?.agentserviceid, sid, `new after reconnect resumes the session: ${brief(again)}`);
    }));
  }

  test('the client reconnects by itself after a transport drop, refreshing lastseq: no gap, no duplicate', run(async () => {
    const ident = await newVisitor(c.gw[0].url);
    let sid;
    const maxSeq = (rec) => Math.max(0, ...rec.all('message', (m) => m.agentserviceid === sid && m.type === 'message').map((e) => e.data.seq));
    const v = connectVisitor(c.gw[0].url, ident, {
      transports: TRANSPORTS.polling,
      label: 'visitor@gw1',
      onReconnectAttempt: (rec) => { rec.query.lastseq = String(maxSeq(rec)); },
    });
    await v.connected();
    ({ sid } = await openChat(v, ident, agent));
    const a1 = await agentSay(agent.socket, sid, 'before drop');
    await waitMsg(v, a1);
    const v1 = await visitorSay(v, 'before drop too');
    await waitMsg(agent.socket, v1);

    const mark = v.mark();
    v.socket.io.engine.close(); // the network drops; the manager reconnects
    const during = [];
    for (let i = 0; i < 3; i++) during.push(await agentSay(agent.socket, sid, `during drop ${i}`));
    await v.waitEvent('reconnect', () => true, { after: mark, what: 'automatic reconnection' });
    await v.waitEvent('status', (s) => s && s.agentserviceid === sid, { after: mark, what: 'status after reconnect' });
    const after1 = await agentSay(agent.socket, sid, 'after reconnect');
    await waitMsg(v, after1);

    const ids = v.all('message', (m) => m.agentserviceid === sid && m.type === 'message').map((e) => e.data.id);
    assert.equal(new Set(ids).size, ids.length, 'no message delivered twice');
    const seqs = v.all('message', (m) => m.agentserviceid === sid && m.type === 'message').map((e) => e.data.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, range(seqs[0], after1.seq), `no gap: ${seqs}`);
    for (const d of during) assert.ok(ids.includes(d.id), `message ${d.seq} sent during the drop arrived`);
  }));

  test('agent catch-up: GET /api/v1/sessions/{id}/messages?after=N', run(async () => {
    const { sid, acks, v } = await chatting(TRANSPORTS.websocket);
    const more = [await visitorSay(v, 'more 1'), await agentSay(agent.socket, sid, 'more 2')];
    const all = [...acks, ...more];
    const N = acks[1].seq;
    const res = await http(c.gw[1].url, 'GET', `/api/v1/sessions/${encodeURIComponent(sid)}/messages?after=${N}`, { token: agent.token });
    const list = expectStatus(res, 200, 'agent catch-up');
    assert.ok(Array.isArray(list), `want a JSON array: ${res.text}`);
    const wantSeqs = all.filter((a) => a.seq > N).map((a) => a.seq);
    assert.deepEqual(list.filter((m) => m.type === 'message').map((m) => m.seq), wantSeqs, 'messages after N, in seq order');
    for (const m of list) {
      const a = all.find((x) => x.id === m.id);
      if (!a) continue;
      checkChatMessage(m, { seq: a.seq, clientid: a.clientid, message: a.message, agentserviceid: sid }, 'REST');
    }
    expectStatus(await http(c.gw[1].url, 'GET', `/api/v1/sessions/${encodeURIComponent(sid)}/messages?after=0`), 401, 'no token');
    expectStatus(await http(c.gw[1].url, 'GET', `/api/v1/sessions/${encodeURIComponent(sid)}/messages?after=0`, { token: 'x'.repeat(64) }), 401, 'forged token');
  }));

  test('visitor REST: session messages after a seq', run(async () => {
    const { ident, sid, acks } = await chatting(TRANSPORTS.polling);
    const base = `/im/demo/messages?userid=${encodeURIComponent(ident.userid)}&sign=${encodeURIComponent(ident.sign)}`;
    const list = expectStatus(await http(c.gw[0].url, 'GET', `${base}&session=${encodeURIComponent(sid)}&after=${acks[0].seq}`), 200);
    assert.ok(Array.isArray(list), `want a JSON array: ${brief(list)}`);
    assert.deepEqual(list.filter((m) => m.type === 'message').map((m) => m.id), acks.slice(1).map((a) => a.id), 'messages after seq, in order');
    const bad = await http(c.gw[0].url, 'GET', `/im/demo/messages?userid=${encodeURIComponent(ident.userid)}&sign=${'0'.repeat(64)}&session=${encodeURIComponent(sid)}&after=0`);
    expectStatus(bad, [401, 403], 'bad sign');
    assert.ok(!bad.text.includes(acks[0].id), 'no messages with a bad sign');
  }));

  test('visitor REST: history across sessions, paging back with before=<id>', run(async () => {
    const { ident, v, sid, acks } = await chatting(TRANSPORTS.websocket);
    const end = await http(c.gw[1].url, 'POST', `/api/v1/sessions/${encodeURIComponent(sid)}/end`, { token: agent.token, body: {} });
    expectStatus(end, [200, 204], 'end the session');
    await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.state === 'ended', { what: 'status ended' });
    const { sid: sid2 } = await openChat(v, ident, agent);
    assert.notEqual(sid2, sid, 'a new session after the end');
    const second = [await visitorSay(v, 's2 v1'), await agentSay(agent.socket, sid2, 's2 a1'), await visitorSay(v, 's2 v2')];
    const mine = [...acks, ...second].map((a) => a.id);

    const base = `/im/demo/messages?userid=${encodeURIComponent(ident.userid)}&sign=${encodeURIComponent(ident.sign)}`;
    const hist = expectStatus(await http(c.gw[0].url, 'GET', base), 200, 'history');
    assert.ok(Array.isArray(hist), `want a JSON array: ${brief(hist)}`);
    const ids = hist.filter((m) => m.type === 'message' && m.calltype !== 'system').map((m) => m.id);
    for (const id of mine) assert.ok(ids.includes(id), `history has ${id} from both sessions`);
    assert.ok(hist.every((m) => m.usession === ident.userid), 'only this visitor’s messages');

    // Page back from the first message of the second session, two at a time,
    // until the history runs out: exactly the older messages, each once.
    const pos = (id) => hist.findIndex((m) => m.id === id);
    const ascending = pos(acks[0].id) < pos(second[0].id);
    const older = (ascending ? hist.slice(0, pos(second[0].id)) : hist.slice(pos(second[0].id) + 1)).map((m) => m.id);
    const byAge = ascending ? older.slice().reverse() : older; // newest first
    const got = [];
    let before = second[0].id;
    for (let page = 0; page < 20; page++) {
      const res = await http(c.gw[0].url, 'GET', `${base}&before=${encodeURIComponent(before)}&limit=2`);
      const list = expectStatus(res, 200, 'page back');
      assert.ok(Array.isArray(list), `want a JSON array: ${res.text}`);
      assert.ok(list.length <= 2, `limit=2 honoured: ${res.text}`);
      if (list.length === 0) break;
      const ids = list.map((m) => m.id);
      assert.deepEqual(ids.slice().sort(), byAge.slice(got.length, got.length + ids.length).sort(),
        `page ${page} (before=${before}) must hold the next older messages: ${res.text}`);
      got.push(...byAge.slice(got.length, got.length + ids.length));
      before = got.at(-1);
    }
    assert.deepEqual(got, byAge, 'paging back visits every older message once');
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
