// The workbench's server side across nodes: agents' IM (1:1, groups, every
// tab, resends, presence), read marks kept in step across an agent's tabs,
// the visitor panel's location, the online-visitor list for invites, and the
// leave-message notice.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason } from './cluster.mjs';
import {
  TRANSPORTS, Recorder, http, expectStatus, newVisitor, connectVisitor, connectAgent, createAgent, setStatus,
  adminLogin, openChat, visitorSay, uid, brief, closeAllClients,
} from './client.mjs';

const connectIM = (url, token, label) => new Recorder(url, '/im/entim', { query: { token }, transports: TRANSPORTS.websocket, label });

describe('workbench: agents\' IM, read marks, online visitors, leave-message notice', { skip: skipReason() }, () => {
  let c;
  let admin;
  let gw1;
  let gw2;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'workbench' });
    [gw1, gw2] = c.gw.map((g) => g.url);
    admin = await c.guard('setup', () => adminLogin(c));
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('IM: 1:1 across nodes to every tab, resend stored once, unread and read, groups, presence from the workbench', run(async () => {
    const a = await createAgent(gw1, admin.token, { nickname: 'Ann' });
    const b = await createAgent(gw1, admin.token, { nickname: 'Bo' });
    const aIM = connectIM(gw1, a.token, 'Ann IM@gw1');
    const bIM = connectIM(gw2, b.token, 'Bo IM@gw2');
    const bIM2 = connectIM(gw1, b.token, 'Bo IM tab 2@gw1');
    await Promise.all([aIM.connected(), bIM.connected(), bIM2.connected()]);

    // Presence: Bo opens the workbench (an /im/agent socket); Ann hears it.
    const pmark = aIM.mark();
    const bWork = connectAgent(gw2, b.token, { label: 'Bo workbench@gw2' });
    await bWork.connected();
    await aIM.waitFor('status', (s) => s && s.userid === b.agent.id && s.online === true, { after: pmark, what: 'Bo online' });

    const clientid = uid('im');
    const marks = [aIM, bIM, bIM2].map((r) => r.mark());
    const ack = await aIM.emitAck('message', { touser: b.agent.id, msgtype: 'text', message: 'lunch at 12?', clientid });
    assert.ok(ack?.ok && ack.id, `ack: ${brief(ack)}`);
    for (const [i, r] of [aIM, bIM, bIM2].entries()) {
      const m = await r.waitFor('message', (x) => x && x.id === ack.id, { after: marks[i], what: `IM on ${r.label}` });
      assert.equal(m.from, a.agent.id, `from: ${brief(m)}`);
      assert.equal(m.message, 'lunch at 12?', `text: ${brief(m)}`);
    }
    const again = await aIM.emitAck('message', { touser: b.agent.id, msgtype: 'text', message: 'lunch at 12?', clientid });
    assert.equal(again?.id, ack.id, `a resend answers the first copy: ${brief(again)}`);
    const bad = await aIM.emitAck('message', { touser: 'nobody', message: 'x', clientid: uid() });
    assert.equal(bad?.error?.code, 'not_found', `unknown colleague: ${brief(bad)}`);
    const both = await aIM.emitAck('message', { touser: b.agent.id, group: 'g', message: 'x', clientid: uid() });
    assert.equal(both?.error?.code, 'bad_request', `touser and group: ${brief(both)}`);

    const contacts = expectStatus(await http(gw2, 'GET', '/api/v1/entim/contacts', { token: b.token }), 200, 'contacts');
    const ann = contacts.contacts.find((x) => x.id === a.agent.id);
    assert.deepEqual({ unread: ann?.unread, online: ann?.online }, { unread: 1, online: false }, `Bo's view of Ann: ${brief(contacts)}`);
    const history = expectStatus(await http(gw2, 'GET', `/api/v1/entim/messages?with=${a.agent.id}`, { token: b.token }), 200, 'history');
    assert.deepEqual(history.map((m) => m.id), [ack.id], `one stored copy: ${brief(history)}`);
    const rmark = bIM2.mark();
    expectStatus(await http(gw2, 'POST', '/api/v1/entim/read', { token: b.token, body: { with: a.agent.id } }), 204, 'read');
    const told = await bIM2.waitFor('read', (r) => r && r.with === a.agent.id, { after: rmark, what: "read on Bo's other tab" });
    assert.deepEqual(told, { with: a.agent.id }, `read event: ${brief(told)}`);
    const after = expectStatus(await http(gw2, 'GET', '/api/v1/entim/contacts', { token: b.token }), 200, 'contacts after read');
    assert.equal(after.contacts.find((x) => x.id === a.agent.id)?.unread, 0, 'read');

    const g = expectStatus(await http(gw1, 'POST', '/api/v1/entim/groups', { token: a.token, body: { name: 'Shift A', members: [b.agent.id] } }), 201, 'group');
    const gmark = bIM.mark();
    const gack = await aIM.emitAck('message', { group: g.id, message: 'standup in 5', clientid: uid() });
    assert.ok(gack?.ok, `group ack: ${brief(gack)}`);
    const gm = await bIM.waitFor('message', (x) => x && x.id === gack.id, { after: gmark, what: 'group message' });
    assert.equal(gm.group, g.id, `group: ${brief(gm)}`);
    const outsider = await createAgent(gw1, admin.token);
    const oIM = connectIM(gw2, outsider.token, 'outsider IM');
    await oIM.connected();
    const refused = await oIM.emitAck('message', { group: g.id, message: 'let me in', clientid: uid() });
    assert.equal(refused?.error?.code, 'not_found', `not a member: ${brief(refused)}`);

    // Bo closes the workbench; after the grace (2 s here) Ann hears it.
    const omark = aIM.mark();
    bWork.close();
    await aIM.waitFor('status', (s) => s && s.userid === b.agent.id && s.online === false, { after: omark, timeout: 15000, what: 'Bo offline' });
  }));

  test('read marks: marking a chat read on one node reaches the agent\'s tab on the other', run(async () => {
    const a = await createAgent(gw1, admin.token);
    a.socket = connectAgent(gw1, a.token, { label: 'tab 1@gw1' });
    const tab2 = connectAgent(gw2, a.token, { label: 'tab 2@gw2' });
    await Promise.all([a.socket.connected(), tab2.connected()]);
    await setStatus(gw1, a.token, { status: 'ready' });
    const ident = await newVisitor(gw1);
    const v = connectVisitor(gw1, ident, { label: 'visitor' });
    await v.connected();
    const { sid } = await openChat(v, ident, a, { name: 'Reader' });
    await visitorSay(v, 'one');
    await visitorSay(v, 'two');
    const list = expectStatus(await http(gw2, 'GET', '/api/v1/agent/sessions', { token: a.token }), 200, 'sessions');
    const row = list.find((s) => s.agentserviceid === sid);
    assert.deepEqual({ readseq: row?.readseq, unread: row?.unread }, { readseq: 0, unread: 2 }, `before reading: ${brief(row)}`);
    const mark = tab2.mark();
    const read = expectStatus(await http(gw1, 'POST', `/api/v1/sessions/${sid}/read`, { token: a.token, body: { seq: 2 } }), 200, 'read');
    assert.deepEqual(read, { agentserviceid: sid, readseq: 2, unread: 0 }, 'read answer');
    const ev = await tab2.waitFor('read', (r) => r && r.agentserviceid === sid, { after: mark, what: 'read on the other tab' });
    assert.deepEqual(ev, read, 'the other tab hears the same');
  }));

  test('visitor panel: the location from the gateways\' GeoIP database (the test one puts 127.0.0.1 in Testland)', run(async () => {
    const a = await createAgent(gw1, admin.token);
    a.socket = connectAgent(gw1, a.token, { label: 'agent@gw1' });
    await a.socket.connected();
    await setStatus(gw1, a.token, { status: 'ready' });
    const ident = await newVisitor(gw1);
    const v = connectVisitor(gw1, ident, { label: 'visitor' });
    await v.connected();
    const { sid } = await openChat(v, ident, a, { name: 'Located' });
    const panel = expectStatus(await http(gw2, 'GET', `/api/v1/sessions/${sid}/visitor`, { token: a.token }), 200, 'visitor panel');
    assert.deepEqual(panel.location, { country: 'Testland', countrycode: 'XT', region: 'Loopback', city: 'Localhost' }, brief(panel));
    assert.equal(panel.ip, '127.0.0.1', 'the address without its port');
  }));

  test('visitor panel: behind a trusted load balancer, the address and location are the visitor\'s (X-Forwarded-For)', run(async () => {
    const a = await createAgent(gw1, admin.token);
    a.socket = connectAgent(gw1, a.token, { label: 'agent@gw1' });
    await a.socket.connected();
    await setStatus(gw1, a.token, { status: 'ready' });
    const ident = await newVisitor(gw1);
    const v = connectVisitor(gw2, ident, { label: 'proxied visitor', extraHeaders: { 'X-Forwarded-For': '81.2.69.160' } });
    await v.connected();
    const { sid } = await openChat(v, ident, a, { name: 'Proxied' });
    const panel = expectStatus(await http(gw1, 'GET', `/api/v1/sessions/${sid}/visitor`, { token: a.token }), 200, 'visitor panel');
    assert.equal(panel.ip, '81.2.69.160', brief(panel));
    assert.equal(panel.location?.city, 'London', brief(panel));
  }));

  test('online visitors: a visitor with the widget open on one node is listed on the other, with its page; gone when it leaves', run(async () => {
    const a = await createAgent(gw1, admin.token);
    const ident = await newVisitor(gw1);
    const v = connectVisitor(gw1, ident, { transports: TRANSPORTS.websocket, query: { title: 'Pricing', url: 'https://shop.example/pricing' }, label: 'browsing visitor' });
    await v.connected();
    const listed = async (pred, what) => {
      const deadline = Date.now() + 10000;
      for (;;) { // a list to poll: no event tells an agent that someone browses
        const vs = expectStatus(await http(gw2, 'GET', '/api/v1/visitors/online', { token: a.token }), 200, 'online');
        const me = vs.find((x) => x.userid === ident.userid);
        if (pred(me)) return me;
        if (Date.now() > deadline) throw new Error(`${what}: ${brief(vs)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const me = await listed((x) => x, 'listed');
    assert.deepEqual({ url: me.url, title: me.title, chatting: me.chatting }, { url: 'https://shop.example/pricing', title: 'Pricing', chatting: false }, brief(me));
    assert.ok((await v.emitAck('trace', { title: 'Checkout', url: 'https://shop.example/checkout' }))?.ok, 'trace');
    await listed((x) => x && x.url === 'https://shop.example/checkout', 'page followed');
    v.close();
    await listed((x) => !x, 'gone');
  }));

  test('leave a message: the tenant\'s agents are told', run(async () => {
    const a = await createAgent(gw1, admin.token);
    a.socket = connectAgent(gw2, a.token, { label: 'agent@gw2' });
    await a.socket.connected();
    const ident = await newVisitor(gw1);
    const mark = a.socket.mark();
    const res = expectStatus(await http(gw1, 'POST', '/im/demo/leavemsg', { body: { userid: ident.userid, sign: ident.sign, name: 'Lee', email: 'lee@example.com', content: 'call me' } }), 201, 'leave message');
    const note = await a.socket.waitFor('leavemsg', (m) => m && m.id === res.id, { after: mark, what: 'leavemsg notice' });
    assert.equal(note.name, 'Lee', brief(note));
    const inbox = expectStatus(await http(gw2, 'GET', '/api/v1/leavemsgs', { token: a.token }), 200, 'inbox');
    assert.ok(inbox.some((m) => m.id === res.id && m.status === 'notprocess'), brief(inbox));
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
