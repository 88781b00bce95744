// Routing features across nodes: transfers (to an agent, to a skill group,
// and the refusals), the transfer dialog's lists, the routing settings
// (validation, prompts, language) and the timers (visitor grace, queue
// timeout).
//
// The settings are the demo tenant's: every test that changes them puts an
// empty tenant row back in `finally`. Agents made here stay ready after
// their test, so every visitor names its agent (`agent` query) or skill
// group (`skill` query), except in the queue-timeout test, which first makes
// all of them not ready.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  uid, http, expectStatus, login, newVisitor, connectVisitor, connectAgent, setStatus, adminLogin, openChat,
  visitorSay, agentSay, waitMsg, checkChatMessage, checkErrorAck, brief, closeAllClients,
} from './client.mjs';

describe('routing: transfer, settings, timers', { skip: skipReason() }, () => {
  let c;
  let admin;
  let gw1;
  let gw2;
  const made = []; // every agent made here (the queue-timeout test makes them all not ready)
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'routing', gateways: 2, routings: 1 });
    [gw1, gw2] = c.gw.map((g) => g.url);
    admin = await c.guard('setup', () => adminLogin(c));
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  /** An agent made through the admin API with one socket on `url`, ready unless told. */
  async function agentOn(url, { maxuser = 2, skills, ready = true, label = 'agent' } = {}) {
    const username = uid('rt');
    const password = `pw-${uid('p')}`;
    const nickname = `Nick ${username.slice(-8)}`;
    const body = { username, password, nickname, maxuser };
    if (skills) body.skills = skills;
    const created = expectStatus(await http(gw1, 'POST', '/api/v1/admin/agents', { token: admin.token, body }), [200, 201], 'create agent');
    const a = { ...(await login(gw1, username, password)), username, password, nickname };
    assert.equal(String(a.agent.id), String(created.id), 'login agent.id vs created id');
    a.id = String(a.agent.id);
    a.socket = connectAgent(url, a.token, { label: `${label} ${nickname}` });
    await a.socket.connected();
    if (ready) await setStatus(gw1, a.token, { status: 'ready' });
    made.push(a);
    return a;
  }

  async function visitorOn(url, { query = {}, label = 'visitor' } = {}) {
    const ident = await newVisitor(url);
    const v = connectVisitor(url, ident, { query, label });
    await v.connected();
    return { ident, v };
  }

  async function createSkill(name) {
    const sk = expectStatus(await http(gw1, 'POST', '/api/v1/admin/skills', { token: admin.token, body: { name } }), [200, 201], 'create skill');
    assert.ok(sk && sk.id, `create skill: ${brief(sk)}`);
    return sk;
  }

  const transfer = (url, token, sid, body) => http(url, 'POST', `/api/v1/sessions/${encodeURIComponent(sid)}/transfer`, { token, body });
  const endChat = async (url, token, sid) => expectStatus(await http(url, 'POST', `/api/v1/sessions/${encodeURIComponent(sid)}/end`, { token, body: {} }), 200, 'end');
  const putConfig = (body, token = admin.token) => http(gw2, 'PUT', '/api/v1/admin/sessionconfig', { token, body });
  const tenantRow = async () => (expectStatus(await http(gw1, 'GET', '/api/v1/admin/sessionconfig', { token: admin.token }), 200, 'get sessionconfig') || [])
    .find((r) => !r.skill);
  const resetConfig = async () => expectStatus(await putConfig({}), 200, 'reset the tenant row');

  function expectError(res, status, code, what) {
    const b = expectStatus(res, status, what);
    assert.equal(b?.error?.code, code, `${what}: ${res.req} → ${res.status} ${brief(res.text)}`);
    assert.equal(typeof b.error.message, 'string', `${what}: error.message`);
  }

  async function row(sid, cols = 'status, agentno, trans, trans_memo, end_by') {
    const rows = await c.sql(`SELECT ${cols} FROM sessions WHERE id=${q(sid)}`);
    assert.equal(rows.length, 1, `session ${sid} row`);
    return rows[0];
  }

  test('transfer dialog lists: GET /api/v1/agents (no usernames) and GET /api/v1/skills (enabled groups)', run(async () => {
    const sk = await createSkill(uid('Lists'));
    const off = await createSkill(uid('Gone'));
    expectStatus(await http(gw1, 'PUT', `/api/v1/admin/skills/${encodeURIComponent(off.id)}`, { token: admin.token, body: { disabled: true } }), 200, 'disable skill');
    const l = await agentOn(gw2, { maxuser: 4, skills: [sk.id], label: 'L@gw2' });

    // A chat of L's: once it is assigned, routing has applied L's `ready` (commands are ordered) and the load is 1.
    const { ident, v } = await visitorOn(gw1, { query: { agent: l.id }, label: 'visitor of L' });
    await openChat(v, ident, l);

    expectError(await http(gw1, 'GET', '/api/v1/agents'), 401, 'unauthorized', 'agents without a token');
    // Any staff token will do: a plain agent's here.
    const list = expectStatus(await http(gw1, 'GET', '/api/v1/agents', { token: l.token }), 200, 'agents');
    assert.ok(Array.isArray(list), `agents: ${brief(list)}`);
    for (const e of list) {
      assert.deepEqual(Object.keys(e).sort(), ['busy', 'id', 'maxuser', 'nickname', 'skills', 'status', 'users'], `agent entry: ${brief(e)}`);
    }
    const me = list.find((e) => String(e.id) === l.id);
    assert.ok(me, `L listed: ${brief(list)}`);
    assert.deepEqual({ ...me, id: String(me.id) }, { id: l.id, nickname: l.nickname, status: 'ready', busy: false, users: 1, maxuser: 4, skills: [sk.id] }, 'L');
    assert.ok(!list.some((e) => String(e.id) === String(admin.agent.id)), 'the admin (no agent role) is not a transfer target');

    const skills = expectStatus(await http(gw2, 'GET', '/api/v1/skills', { token: l.token }), 200, 'skills');
    assert.ok(Array.isArray(skills), `skills: ${brief(skills)}`);
    for (const s of skills) assert.deepEqual(Object.keys(s).sort(), ['id', 'name'], `skill entry: ${brief(s)}`);
    assert.ok(skills.some((s) => s.id === sk.id && s.name === sk.name), `enabled group listed: ${brief(skills)}`);
    assert.ok(!skills.some((s) => s.id === off.id), `disabled group not listed: ${brief(skills)}`);
  }));

  test('transfer to an agent on the other node: 200 with the moved session, new/transout/status, chat goes on with the new agent', run(async () => {
    const a = await agentOn(gw1, { maxuser: 2, label: 'A@gw1' });
    const b = await agentOn(gw2, { maxuser: 2, label: 'B@gw2' });
    // The visitor asks for A (the `agent` query), so A serves it though B is ready too.
    const { ident, v } = await visitorOn(gw1, { query: { agent: a.id }, label: 'visitor@gw1' });
    const { sid } = await openChat(v, ident, a);
    const before = await visitorSay(v, 'before the transfer');
    await waitMsg(a.socket, { clientid: before.clientid }, { what: 'A gets the message before the transfer' });

    const [vm, am, bm] = [v.mark(), a.socket.mark(), b.socket.mark()];
    const memo = 'Billing question: 退款 ✓';
    // A's socket is on gw1; the request goes to gw2, whose answer comes from routing.
    const res = await transfer(gw2, a.token, sid, { agentno: b.id, memo });
    const body = expectStatus(res, 200, 'transfer to B');
    assert.equal(body.ok, true, `ok: ${brief(body)}`);
    assert.ok(!body.queued, `not queued: ${brief(body)}`);
    const s = body.session || {};
    assert.deepEqual(
      { agentserviceid: s.agentserviceid, userid: s.userid, agentno: String(s.agentno), transfrom: String(s.transfrom), trans: s.trans, transmemo: s.transmemo, status: s.status },
      { agentserviceid: sid, userid: ident.userid, agentno: b.id, transfrom: a.id, trans: true, transmemo: memo, status: 'inservice' },
      `session in the answer: ${brief(s)}`,
    );

    const got = await b.socket.waitFor('new', (x) => x && x.agentserviceid === sid, { after: bm, what: 'B: new for the transferred chat' });
    assert.deepEqual(
      { userid: got.userid, agentno: String(got.agentno), transfrom: String(got.transfrom), trans: got.trans, transmemo: got.transmemo },
      { userid: ident.userid, agentno: b.id, transfrom: a.id, trans: true, transmemo: memo },
      `B's new: ${brief(got)}`,
    );
    const out = await a.socket.waitFor('transout', (x) => x && x.agentserviceid === sid, { after: am, what: 'A: transout' });
    assert.equal(out.userid, ident.userid, `transout: ${brief(out)}`);
    const st = await v.waitFor('status', (x) => x && x.agentserviceid === sid && x.state === 'assigned' && String(x.agentno) === b.id, { after: vm, what: 'visitor: assigned to B' });
    assert.equal(st.nickName, b.nickname, `status nickName: ${brief(st)}`);
    assert.equal(st.messageType, 'message', `status messageType: ${brief(st)}`);
    assert.ok(typeof st.message === 'string' && st.message.includes(b.nickname), `the transfer prompt names B: ${brief(st)}`);

    // The chat now runs between the visitor and B, both ways.
    const fromB = await agentSay(b.socket, sid, 'B here, taking over');
    checkChatMessage(await waitMsg(v, { clientid: fromB.clientid }, { what: 'visitor gets B\'s message' }), { agentserviceid: sid, message: 'B here, taking over' }, 'to visitor');
    const fromV = await visitorSay(v, 'thanks B');
    checkChatMessage(await waitMsg(b.socket, { clientid: fromV.clientid }, { what: 'B gets the visitor\'s message' }), { agentserviceid: sid, message: 'thanks B' }, 'to B');
    // A no longer may write to it.
    checkErrorAck(await a.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: 'still mine?', clientid: uid() }), 'forbidden', 'A after the transfer');
    // B reads the history from before the transfer.
    const hist = expectStatus(await http(gw2, 'GET', `/api/v1/sessions/${encodeURIComponent(sid)}/messages?after=0`, { token: b.token }), 200, 'B reads the history');
    assert.ok(hist.some((m) => m.clientid === before.clientid), `history has the message before the transfer: ${brief(hist)}`);

    assert.deepEqual(await row(sid), ['inservice', b.id, '1', memo, ''], 'session row');
  }));

  test('transfer refusals: full (409), override by an agent (403), agentno+skill or neither (400), self (400), unknown (404), not ready (409), not yours (403), ended (409); a supervisor overrides capacity', run(async () => {
    const a = await agentOn(gw1, { maxuser: 3, label: 'A@gw1' });
    const full = await agentOn(gw2, { maxuser: 1, label: 'F@gw2' });
    const other = await agentOn(gw1, { maxuser: 3, ready: false, label: 'O@gw1' }); // connected, not ready
    const f = await visitorOn(gw2, { query: { agent: full.id }, label: 'visitor of F' });
    const { sid: fsid } = await openChat(f.v, f.ident, full); // F is full now (1 of 1)
    const { ident, v } = await visitorOn(gw1, { query: { agent: a.id }, label: 'visitor of A' });
    const { sid } = await openChat(v, ident, a);
    const [vm, am, fm] = [v.mark(), a.socket.mark(), full.socket.mark()];

    expectError(await transfer(gw2, a.token, sid, { agentno: full.id, memo: 'x' }), 409, 'conflict', 'to a full agent');
    expectError(await transfer(gw1, a.token, sid, { agentno: full.id, override: true }), 403, 'forbidden', 'override by a plain agent');
    expectError(await transfer(gw1, a.token, sid, { agentno: full.id, skill: 'sk' }), 400, 'bad_request', 'both agentno and skill');
    expectError(await transfer(gw1, a.token, sid, { memo: 'to nobody' }), 400, 'bad_request', 'neither agentno nor skill');
    expectError(await transfer(gw1, a.token, sid, { agentno: a.id }), 400, 'bad_request', 'to the agent who has it');
    expectError(await transfer(gw1, a.token, sid, { agentno: 'no-such-agent' }), 404, 'not_found', 'to an unknown agent');
    expectError(await transfer(gw2, a.token, sid, { agentno: other.id }), 409, 'conflict', 'to an agent who is not ready');
    expectError(await transfer(gw2, other.token, sid, { agentno: full.id }), 403, 'forbidden', 'by an agent who does not serve it');
    // Nothing moved (routing writes before it answers).
    assert.deepEqual(await row(sid), ['inservice', a.id, '0', '', ''], 'row after the refusals');
    assert.equal(a.socket.count('transout', (x) => x.agentserviceid === sid, am), 0, 'A got no transout');
    assert.equal(full.socket.count('new', (x) => x.agentserviceid === sid, fm), 0, 'F got no new');

    // The admin (a supervisor, not the chat's agent) may override F's capacity.
    const res = await transfer(gw2, admin.token, sid, { agentno: full.id, override: true, memo: 'VIP, over capacity' });
    const body = expectStatus(res, 200, 'supervisor override');
    assert.ok(body.ok && body.session && String(body.session.agentno) === full.id && String(body.session.transfrom) === a.id, `override answer: ${brief(body)}`);
    const got = await full.socket.waitFor('new', (x) => x && x.agentserviceid === sid, { after: fm, what: 'F: new (override)' });
    assert.equal(got.transmemo, 'VIP, over capacity', `F's new: ${brief(got)}`);
    await a.socket.waitFor('transout', (x) => x && x.agentserviceid === sid, { after: am, what: 'A: transout (override)' });
    await v.waitFor('status', (x) => x && x.agentserviceid === sid && x.state === 'assigned' && String(x.agentno) === full.id, { after: vm, what: 'visitor: assigned to F' });
    assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM sessions WHERE agentno=${q(full.id)} AND status='inservice'`), [['2']], 'F over its maxuser by the override');

    // An ended chat cannot be transferred, even by its agent.
    await endChat(gw1, full.token, fsid);
    expectError(await transfer(gw1, full.token, fsid, { agentno: a.id }), 409, 'conflict', 'an ended chat');
    assert.deepEqual(await row(fsid, 'status, agentno, trans'), ['end', full.id, '0'], 'ended row untouched');
  }));

  test('transfer to a skill group whose agent is full: queued at the head of the group, served when the agent has room', run(async () => {
    const sk = await createSkill(uid('Billing'));
    const cAgent = await agentOn(gw2, { maxuser: 1, skills: [sk.id], label: 'C@gw2' });
    // C is full: a visitor of the group has it.
    const first = await visitorOn(gw2, { query: { skill: sk.id }, label: 'group visitor' });
    const { sid: firstSid } = await openChat(first.v, first.ident, cAgent);
    const a = await agentOn(gw1, { maxuser: 2, label: 'A@gw1' });
    const { ident, v } = await visitorOn(gw1, { query: { agent: a.id }, label: 'visitor of A' });
    const { sid } = await openChat(v, ident, a);

    const [vm, am, cm] = [v.mark(), a.socket.mark(), cAgent.socket.mark()];
    const memo = 'needs billing';
    const body = expectStatus(await transfer(gw2, a.token, sid, { skill: sk.id, memo }), 200, 'transfer to the group');
    assert.equal(body.ok, true, `ok: ${brief(body)}`);
    assert.equal(body.queued, true, `queued: ${brief(body)}`);
    const s = body.session || {};
    assert.deepEqual(
      { agentserviceid: s.agentserviceid, status: s.status, skill: s.skill, agentno: s.agentno || '', transfrom: String(s.transfrom), trans: s.trans, transmemo: s.transmemo },
      { agentserviceid: sid, status: 'inquene', skill: sk.id, agentno: '', transfrom: a.id, trans: true, transmemo: memo },
      `session in the answer: ${brief(s)}`,
    );
    await a.socket.waitFor('transout', (x) => x && x.agentserviceid === sid, { after: am, what: 'A: transout' });
    const waiting = await v.waitFor('status', (x) => x && x.agentserviceid === sid && ['queued', 'noagent'].includes(x.state), { after: vm, what: 'visitor waits for the group' });
    assert.equal(waiting.num, 1, `first in the group's queue: ${brief(waiting)}`);
    assert.deepEqual(await row(sid, 'status, agentno, skill, agent, trans, trans_memo'), ['inquene', '', sk.id, '', '1', memo], 'queued row');

    // C's chat ends: C has room and takes the transferred visitor.
    await endChat(gw1, cAgent.token, firstSid);
    const got = await cAgent.socket.waitFor('new', (x) => x && x.agentserviceid === sid, { after: cm, what: 'C: new for the transferred chat' });
    assert.deepEqual({ transmemo: got.transmemo, trans: got.trans, agentno: String(got.agentno) }, { transmemo: memo, trans: true, agentno: cAgent.id }, `C's new: ${brief(got)}`);
    const st = await v.waitFor('status', (x) => x && x.agentserviceid === sid && x.state === 'assigned', { after: vm, what: 'visitor: assigned in the group' });
    assert.equal(String(st.agentno), cAgent.id, `assigned to C: ${brief(st)}`);
    assert.deepEqual(await row(sid, 'status, agentno, skill'), ['inservice', cAgent.id, sk.id], 'served row');
    assert.equal(a.socket.count('new', (x) => x.agentserviceid === sid, am), 0, 'A did not get the chat back');
  }));

  test('session config: invalid values 400, custom assigned prompt and language, reset', run(async () => {
    await resetConfig(); // from the seed's (English) to an empty tenant row
    const bad = [
      [{ lang: 'fr' }, 'unknown lang'],
      [{ prompts: { nosuchprompt: 'x' } }, 'unknown prompt key'],
      [{ prompts: { successmsg: 'x'.repeat(501) } }, 'prompt too long'],
      [{ workinghours: '9-18' }, 'working hours not HH:MM~HH:MM'],
      [{ quenetimeout: -1 }, 'negative timer on the tenant row'],
      [{ visitorleftgrace: 86401 }, 'timer over a day'],
      [{ distribution: 'random' }, 'unknown distribution'],
    ];
    for (const [body, why] of bad) expectError(await putConfig(body), 400, 'bad_request', why);
    const d = await agentOn(gw2, { maxuser: 2, label: 'D@gw2' });
    expectError(await putConfig({ lang: 'en' }, d.token), 403, 'forbidden', 'a plain agent');
    const untouched = await tenantRow();
    assert.ok(!untouched || (!untouched.lang && Object.keys(untouched.prompts || {}).length === 0), `nothing saved: ${brief(untouched)}`);

    try {
      const set = { lang: 'en', prompts: { successmsg: 'Hello, {agent} here.' }, visitorleftgrace: 1 };
      expectStatus(await putConfig(set), 200, 'set lang, prompt, grace');
      const saved = await tenantRow();
      assert.deepEqual({ lang: saved?.lang, prompts: saved?.prompts, visitorleftgrace: saved?.visitorleftgrace }, set, `saved row: ${brief(saved)}`);

      const { ident, v } = await visitorOn(gw1, { query: { agent: d.id }, label: 'visitor of D' });
      const { sid, status } = await openChat(v, ident, d);
      assert.equal(status.message, `Hello, ${d.nickname} here.`, `assigned text: ${brief(status)}`);
      // The prompts not customised come in the tenant's language (the gateway's end reads them too).
      const vm = v.mark();
      await endChat(gw2, d.token, sid);
      const ended = await v.waitFor('status', (x) => x && x.agentserviceid === sid && x.state === 'ended', { after: vm, what: 'visitor: ended' });
      assert.equal(ended.messageType, 'end', `ended: ${brief(ended)}`);
      assert.ok(ended.message && !/[\u3000-\u9fff\uff00-\uffef]/.test(ended.message), `English end text, not the Chinese default: ${brief(ended)}`);
    } finally {
      await resetConfig();
    }
    const reset = await tenantRow();
    assert.ok(reset && reset.lang === '' && Object.keys(reset.prompts).length === 0 && reset.visitorleftgrace === 0, `reset row: ${brief(reset)}`);
  }));

  test('visitor grace: a visitor who comes back in time keeps the chat; one who stays away is ended (by user) after the grace', run(async () => {
    const GRACE = 3; // seconds
    try {
      expectStatus(await putConfig({ visitorleftgrace: GRACE }), 200, 'set the visitor grace');
      const e = await agentOn(gw2, { maxuser: 3, label: 'E@gw2' });
      const x = await visitorOn(gw1, { query: { agent: e.id }, label: 'visitor X@gw1' });
      const { sid: xsid } = await openChat(x.v, x.ident, e);
      const y = await visitorOn(gw1, { query: { agent: e.id }, label: 'visitor Y@gw1' });
      const { sid: ysid } = await openChat(y.v, y.ident, e);

      // X leaves and is back at once, on the other node, with the same identity.
      x.v.close();
      const x2 = connectVisitor(gw2, x.ident, { label: 'visitor X back@gw2' });
      await x2.connected();
      const back = await x2.waitFor('status', (s) => s && s.agentserviceid === xsid, { what: 'X back: current status' });
      assert.equal(back.state, 'assigned', `X back: ${brief(back)}`);

      // Y leaves for good, after X left: its grace ends after X's would have.
      const em = e.socket.mark();
      const closedAt = Date.now();
      y.v.close();
      const endEv = await e.socket.waitEvent('end', (s) => s && s.agentserviceid === ysid, { after: em, timeout: GRACE * 1000 + 10000, what: 'E: end of Y\'s chat after the grace' });
      const took = endEv.t - closedAt;
      assert.ok(took >= GRACE * 1000 - 100, `Y's chat ended ${took} ms after its socket closed, before the ${GRACE} s grace`);
      assert.deepEqual(await row(ysid, 'status, end_by'), ['end', 'user'], 'Y\'s row');

      // X's grace, had it not been cancelled, ended no later than Y's: routing
      // ends every chat whose grace is over in one pass and commits before it
      // announces, so by Y's `end` X's chat would have ended too. It has not.
      assert.deepEqual(await row(xsid, 'status, end_by'), ['inservice', ''], 'X\'s row after X\'s grace');
      assert.equal(e.socket.count('end', (s) => s.agentserviceid === xsid), 0, 'E got no end for X');
      const m = await agentSay(e.socket, xsid, 'still with you');
      await waitMsg(x2, { clientid: m.clientid }, { what: 'X (back, on gw2) gets E\'s message' });
    } finally {
      await resetConfig();
    }
  }));

  test('queue timeout: with nobody ready a waiting visitor is ended (by queue) after quenetimeout', run(async () => {
    try {
      expectStatus(await putConfig({ quenetimeout: 2 }), 200, 'set the queue timeout');
      // Nobody ready: every agent of this file (the demo agent never connected).
      for (const a of made) await setStatus(gw1, a.token, { status: 'notready' });
      const { v } = await visitorOn(gw2, { label: 'waiting visitor@gw2' });
      const ack = await v.emitAck('new', { name: 'patient' });
      assert.ok(ack?.ok && ack.agentserviceid, `new: ${brief(ack)}`);
      const sid = ack.agentserviceid;
      const waiting = await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.messageType === 'message', { what: 'visitor waits' });
      assert.equal(waiting.state, 'noagent', `nobody ready: ${brief(waiting)}`);
      // Routing scans the queue every 5 s: the end comes within 2 + 5 s (and some).
      const ended = await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.messageType === 'end', { timeout: 12000, what: 'ended by the queue timeout' });
      assert.equal(ended.state, 'ended', `ended: ${brief(ended)}`);
      assert.ok(typeof ended.message === 'string' && ended.message, `end text: ${brief(ended)}`);
      assert.deepEqual(await row(sid, 'status, agentno, end_by'), ['end', '', 'queue'], 'row');
    } finally {
      await resetConfig();
    }
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
