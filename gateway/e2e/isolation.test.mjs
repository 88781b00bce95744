// Identity and isolation: forged signs and tokens are refused at connect, a
// visitor identity is bound to its site, visitors read only their own
// messages, agents act only on their own sessions, REST needs a token.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TRANSPORTS, uid, http, expectStatus, newVisitor, connectVisitor, connectAgent, readyAgent, createAgent,
  adminLogin, openChat, visitorSay, agentSay, waitMsg, checkErrorAck, brief, Recorder, closeAllClients,
} from './client.mjs';

describe('identity and isolation', { skip: skipReason() }, () => {
  let c;
  let admin;
  let agent; // ready, serves every visitor of this file
  let other; // a second agent: logged in, connected, never ready
  let siteB;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'isolation' });
    await c.guard('setup', async () => {
      admin = await adminLogin(c);
      agent = await readyAgent(c, admin.token, { sockets: [{ url: c.gw[1].url }] });
      other = await createAgent(c.gw[0].url, admin.token, {});
      other.socket = connectAgent(c.gw[0].url, other.token, { label: 'other agent@gw1' });
      await other.socket.connected();
      const res = await http(c.gw[0].url, 'POST', '/api/v1/admin/sites', { token: admin.token, body: { name: `Site B ${uid('b')}`, origins: ['*'], config: {} } });
      siteB = expectStatus(res, [200, 201], 'create site B');
      assert.ok(siteB && typeof siteB.appid === 'string' && siteB.appid && siteB.appid !== 'demo', `site: ${res.text}`);
      assert.equal(typeof siteB.embed, 'string', `site embed: ${res.text}`);
    });
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  /** Connect, expect `refused {code}` as the first server event, then a disconnect. */
  async function expectRefused(rec, code) {
    const ev = await rec.waitEvent('refused', () => true, { what: `refused ${code}` });
    assert.equal(ev.data?.code, code, `refused payload: ${brief(ev.data)}`);
    assert.equal(typeof ev.data?.message, 'string', `refused message: ${brief(ev.data)}`);
    const firstServerEvent = rec.events.find((e) => !e.local);
    assert.equal(firstServerEvent.name, 'refused', `nothing is sent before refused:\n${rec.describe()}`);
    await rec.waitEvent('disconnect', () => true, { after: ev.i, what: 'server disconnect after refused' });
    assert.equal(rec.count('message'), 0, 'no message events on a refused socket');
    assert.equal(rec.count('status'), 0, 'no status events on a refused socket');
    rec.close();
  }

  for (const tname of ['polling', 'websocket']) {
    const transports = TRANSPORTS[tname];
    test(`${tname}: visitor connect with a forged, missing or other site's sign → refused unauthorized`, run(async () => {
      const gw = c.gw[0].url;
      const id = await newVisitor(gw);
      await expectRefused(connectVisitor(gw, { ...id, sign: 'a'.repeat(64) }, { transports, reconnection: false, label: 'forged sign' }), 'unauthorized');
      await expectRefused(new Recorder(gw, '/im/user', { query: { appid: 'demo', userid: id.userid }, transports, reconnection: false, label: 'no sign' }), 'unauthorized');
      const id2 = await newVisitor(gw);
      await expectRefused(connectVisitor(gw, { ...id, sign: id2.sign }, { transports, reconnection: false, label: "another visitor's sign" }), 'unauthorized');
      await expectRefused(connectVisitor(gw, { ...id, appid: siteB.appid }, { transports, reconnection: false, label: 'site A identity on site B' }), 'unauthorized');
      await expectRefused(connectVisitor(gw, { ...id, appid: uid('nosuchsite') }, { transports, reconnection: false, label: 'unknown appid' }), 'not_found');
    }));

    test(`${tname}: agent connect with a missing or forged token → refused unauthorized`, run(async () => {
      const gw = c.gw[1].url;
      await expectRefused(new Recorder(gw, '/im/agent', { query: {}, transports, reconnection: false, label: 'agent no token' }), 'unauthorized');
      await expectRefused(connectAgent(gw, 'f'.repeat(64), { transports, reconnection: false, label: 'agent forged token' }), 'unauthorized');
      await expectRefused(connectAgent(gw, agent.token.slice(0, -2) + (agent.token.endsWith('00') ? '11' : '00'), { transports, reconnection: false, label: 'agent altered token' }), 'unauthorized');
    }));
  }

  test('site B: identity of site A is not valid there; history of A is not readable through B', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const ida = await newVisitor(gw1);
    const v = connectVisitor(gw1, ida, { label: 'visitor A' });
    await v.connected();
    const { sid } = await openChat(v, ida, agent);
    const secret = `secret of A ${uid('s')}`;
    const m = await visitorSay(v, secret);

    // POST /im/B/visitor with A's pair: a fresh identity, not A's userid.
    const fresh = expectStatus(await http(gw2, 'POST', `/im/${siteB.appid}/visitor`, { body: { userid: ida.userid, sign: ida.sign } }), 200);
    assert.notEqual(fresh.userid, ida.userid, `site B must not accept A's identity: ${brief(fresh)}`);

    for (const qs of [`userid=${encodeURIComponent(ida.userid)}&sign=${encodeURIComponent(ida.sign)}`,
      `userid=${encodeURIComponent(ida.userid)}&sign=${encodeURIComponent(ida.sign)}&session=${encodeURIComponent(sid)}&after=0`]) {
      const r = await http(gw2, 'GET', `/im/${siteB.appid}/messages?${qs}`);
      expectStatus(r, [401, 403, 404], 'A identity on B messages');
      assert.ok(!r.text.includes(secret) && !r.text.includes(m.id), `A's messages leaked through B: ${r.text}`);
    }
    // B's own fresh visitor cannot name A's session either.
    const idb = await newVisitor(gw2, siteB.appid);
    const r = await http(gw2, 'GET', `/im/${siteB.appid}/messages?userid=${encodeURIComponent(idb.userid)}&sign=${encodeURIComponent(idb.sign)}&session=${encodeURIComponent(sid)}&after=0`);
    assert.ok(!r.text.includes(secret), `A's session readable by a B visitor: ${r.status} ${r.text}`);
    const r2 = await http(gw2, 'GET', `/im/demo/messages?userid=${encodeURIComponent(idb.userid)}&sign=${encodeURIComponent(idb.sign)}&session=${encodeURIComponent(sid)}`);
    assert.ok(!r2.text.includes(secret), `A's session readable with B's identity on A: ${r2.status} ${r2.text}`);
  }));

  test("a visitor reads only its own messages, not another visitor's session", run(async () => {
    const gw = c.gw[0].url;
    const id1 = await newVisitor(gw);
    const id2 = await newVisitor(gw);
    const v1 = connectVisitor(gw, id1, { label: 'visitor 1' });
    const v2 = connectVisitor(c.gw[1].url, id2, { label: 'visitor 2' });
    await Promise.all([v1.connected(), v2.connected()]);
    const { sid: sid1 } = await openChat(v1, id1, agent);
    const { sid: sid2 } = await openChat(v2, id2, agent);
    const secret = `private to visitor 1 ${uid('s')}`;
    const m1 = await visitorSay(v1, secret);
    const m2 = await visitorSay(v2, 'visitor 2 says hi');
    await waitMsg(agent.socket, m1);
    await waitMsg(agent.socket, m2);
    await waitMsg(v2, m2); // barrier: visitor 1's earlier message would have reached visitor 2 by now
    // Visitor 2 never got visitor 1's message.
    assert.equal(v2.count('message', (m) => m && (m.agentserviceid === sid1 || m.message === secret)), 0, 'visitor 2 saw visitor 1 traffic');

    const asV2 = `userid=${encodeURIComponent(id2.userid)}&sign=${encodeURIComponent(id2.sign)}`;
    const r = await http(gw, 'GET', `/im/demo/messages?${asV2}&session=${encodeURIComponent(sid1)}&after=0`);
    assert.ok(!r.text.includes(secret) && !r.text.includes(m1.id), `visitor 2 read visitor 1's session: ${r.status} ${r.text}`);
    const h = await http(gw, 'GET', `/im/demo/messages?${asV2}`);
    assert.ok(!h.text.includes(secret), `visitor 2's history holds visitor 1's message: ${h.text}`);
    // Visitor 1's userid with visitor 2's sign: rejected.
    const forged = await http(gw, 'GET', `/im/demo/messages?userid=${encodeURIComponent(id1.userid)}&sign=${encodeURIComponent(id2.sign)}`);
    expectStatus(forged, [401, 403], 'forged sign');
    assert.ok(!forged.text.includes(secret), 'no messages with a forged sign');
    void sid2;
  }));

  test('an agent cannot post to or read a session that is not theirs', run(async () => {
    const id = await newVisitor(c.gw[0].url);
    const v = connectVisitor(c.gw[0].url, id, { label: 'visitor' });
    await v.connected();
    const { sid } = await openChat(v, id, agent);
    const mark = v.mark();
    const clientid = uid('intruder');
    const ack = await other.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: 'intruder', clientid });
    checkErrorAck(ack, ['forbidden', 'not_found'], 'other agent posting');
    const unknown = await other.socket.emitAck('message', { agentserviceid: uid('nosuchsession'), type: 'message', msgtype: 'text', message: 'x', clientid: uid() });
    checkErrorAck(unknown, ['not_found', 'forbidden'], 'unknown session');
    const r = await http(c.gw[0].url, 'GET', `/api/v1/sessions/${encodeURIComponent(sid)}/messages?after=0`, { token: other.token });
    expectStatus(r, [403, 404], "other agent reading the session's messages");
    // Barrier: the real agent's message arrives; the intruder's never did.
    const ok = await agentSay(agent.socket, sid, 'the real agent');
    await waitMsg(v, ok);
    assert.equal(v.count('message', (m) => m && m.clientid === clientid, mark), 0, 'the visitor got the intruder message');
    assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM messages WHERE clientid=${q(clientid)}`), [['0']], 'intruder message stored');
  }));

  test('REST authentication and authorisation', run(async () => {
    const gw = c.gw[1].url;
    const bad = await http(gw, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'wrong password' } });
    expectStatus(bad, 401, 'wrong password');
    assert.equal(typeof bad.body?.error?.code, 'string', `error body: ${bad.text}`);
    assert.ok(!bad.text.includes('token'), `no token on a failed login: ${bad.text}`);
    const none = await http(gw, 'PUT', '/api/v1/agent/status', { body: { status: 'ready' } });
    expectStatus(none, 401, 'status without token');
    assert.equal(none.body?.error?.code, 'unauthorized', `error body: ${none.text}`);
    expectStatus(await http(gw, 'PUT', '/api/v1/agent/status', { body: { status: 'ready' }, token: 'f'.repeat(64) }), 401, 'forged token');
    // An agent is not an admin.
    const asAgent = await http(gw, 'POST', '/api/v1/admin/sites', { token: other.token, body: { name: 'nope', origins: ['*'], config: {} } });
    expectStatus(asAgent, 403, 'agent creating a site');
    assert.equal(asAgent.body?.error?.code, 'forbidden', `error body: ${asAgent.text}`);
    expectStatus(await http(gw, 'POST', '/api/v1/admin/agents', { token: other.token, body: { username: uid('x'), password: 'pw-123456', nickname: 'x' } }), 403, 'agent creating an agent');
  }));

  test('logout ends that login everywhere: its sockets on both nodes get leave and are disconnected; other logins stay', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const a = await createAgent(gw1, admin.token);
    const second = expectStatus(await http(gw1, 'POST', '/api/v1/auth/login', { body: { username: a.username, password: a.password } }), 200, 'second login');
    const s1 = connectAgent(gw1, a.token, { transports: TRANSPORTS.websocket, label: 'login 1@gw1', reconnection: false });
    const s2 = connectAgent(gw2, a.token, { transports: TRANSPORTS.polling, label: 'login 1@gw2', reconnection: false });
    const keep = connectAgent(gw2, second.token, { transports: TRANSPORTS.websocket, label: 'login 2@gw2', reconnection: false });
    await Promise.all([s1.connected(), s2.connected(), keep.connected()]);
    expectStatus(await http(gw2, 'POST', '/api/v1/auth/logout', { token: a.token }), [200, 204], 'logout');
    for (const s of [s1, s2]) {
      const leave = await s.waitFor('leave', () => true, { what: `${s.label}: leave` });
      assert.equal(leave?.reason, 'logout', `leave payload: ${brief(leave)}`);
      await s.waitEvent('disconnect', () => true, { what: `${s.label}: disconnected after leave` });
    }
    assert.equal(keep.count('leave'), 0, 'the other login got leave');
    assert.equal(keep.count('disconnect'), 0, 'the other login was disconnected');
    // The ended login's token no longer opens a socket.
    const again = connectAgent(gw1, a.token, { transports: TRANSPORTS.websocket, label: 'after logout', reconnection: false });
    const refused = await again.waitFor('refused', () => true, { what: 'refused after logout' });
    assert.equal(refused?.code, 'unauthorized', `refusal: ${brief(refused)}`);
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
