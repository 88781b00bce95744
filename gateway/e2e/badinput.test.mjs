// Bad input: too long texts, wrong types, oversized packets (polling and
// websocket), unknown events, malformed Engine.IO/Socket.IO packets. Each gets
// a clear error (or, for an oversized websocket frame, a closed connection)
// and nothing else is disturbed: other sockets, sessions and nodes keep
// working, nothing is stored, nothing panics.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TRANSPORTS, uid, http, expectStatus, newVisitor, connectVisitor, readyAgent, adminLogin, openChat,
  visitorSay, agentSay, waitMsg, checkErrorAck, brief, TIMEOUT, closeAllClients,
} from './client.mjs';

describe('bad input', { skip: skipReason() }, () => {
  let c;
  let agent;
  let bystander; // {ident, v, sid}: a session that must keep working throughout
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'badinput' });
    await c.guard('setup', async () => {
      const admin = await adminLogin(c);
      agent = await readyAgent(c, admin.token, { sockets: [{ url: c.gw[1].url, transports: TRANSPORTS.websocket }, { url: c.gw[0].url, transports: TRANSPORTS.polling }] });
      const ident = await newVisitor(c.gw[1].url);
      const v = connectVisitor(c.gw[1].url, ident, { transports: TRANSPORTS.polling, label: 'bystander@gw2' });
      await v.connected();
      const { sid } = await openChat(v, ident, agent);
      bystander = { ident, v, sid };
    });
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  /** The bystander session still works both ways, and both nodes are healthy. */
  async function othersStillWork() {
    const m = await visitorSay(bystander.v, `bystander ${uid('b')}`);
    for (const s of agent.sockets) await waitMsg(s, m);
    const r = await agentSay(agent.sockets[0], bystander.sid, `agent to bystander ${uid('b')}`);
    await waitMsg(bystander.v, r);
    for (const g of c.gw) assert.equal((await fetch(`${g.url}/healthz`)).status, 200, `${g.id} healthz`);
  }

  async function storedCount(clientid) {
    return Number((await c.sql(`SELECT COUNT(*) FROM messages WHERE clientid=${q(clientid)}`))[0][0]);
  }

  async function chatting(transports, label) {
    const ident = await newVisitor(c.gw[0].url);
    const v = connectVisitor(c.gw[0].url, ident, { transports, label });
    await v.connected();
    const { sid } = await openChat(v, ident, agent);
    return { ident, v, sid };
  }

  test('text over the limit → too_large; at the limit (in characters, not bytes) → stored intact', run(async () => {
    const { v, sid } = await chatting(TRANSPORTS.polling, 'visitor@gw1');
    const long = 'x'.repeat(2001);
    const cid = uid('long');
    checkErrorAck(await v.emitAck('message', { type: 'message', msgtype: 'text', message: long, clientid: cid }), 'too_large', 'visitor 2001 chars');
    assert.equal(await storedCount(cid), 0, 'nothing stored for a rejected message');
    const acid = uid('along');
    checkErrorAck(await agent.sockets[0].emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: long, clientid: acid }), 'too_large', 'agent 2001 chars');
    assert.equal(await storedCount(acid), 0, 'nothing stored for a rejected agent message');

    const cjk = '中'.repeat(2000); // 2,000 characters, 6,000 bytes
    const ok = await visitorSay(v, cjk);
    const m = await waitMsg(agent.sockets[0], ok);
    assert.equal(m.message, cjk, 'delivered intact');
    const row = await c.sql(`SELECT CHAR_LENGTH(message), message=${q(cjk)} FROM messages WHERE clientid=${q(ok.clientid)}`);
    assert.deepEqual(row, [['2000', '1']], 'stored intact, never truncated');
    await othersStillWork();
  }));

  test('wrong types → bad_request, nothing stored, the socket keeps working', run(async () => {
    const { v, sid } = await chatting(TRANSPORTS.websocket, 'visitor@gw1');
    const cases = [
      ['message: 123', { type: 'message', msgtype: 'text', message: 123, clientid: uid('t') }],
      ['string payload', 'hello'],
      ['number payload', 42],
      ['array payload', ['message', 'text', 'hi']],
      ['null payload', null],
      ['clientid: object', { type: 'message', msgtype: 'text', message: 'hi', clientid: { a: 1 } }],
      ['type: array', { type: ['message'], msgtype: 'text', message: 'hi', clientid: uid('t') }],
    ];
    for (const [what, payload] of cases) {
      checkErrorAck(await v.emitAck('message', payload), 'bad_request', `visitor ${what}:`);
      checkErrorAck(await agent.sockets[0].emitAck('message', payload), 'bad_request', `agent ${what}:`);
    }
    checkErrorAck(await agent.sockets[0].emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: 123, clientid: uid('t') }), 'bad_request', 'agent message: 123');
    // Without an ack callback: no answer expected, nothing breaks.
    v.emit('message', 'no ack wanted');
    v.emit('message', { type: 'message', msgtype: 'text', message: { nested: true } });
    const fine = await visitorSay(v, 'still fine');
    await waitMsg(agent.sockets[1], fine);
    const rows = await c.sql(`SELECT clientid FROM messages WHERE agentserviceid=${q(sid)} AND calltype<>'system'`);
    assert.deepEqual(rows, [[fine.clientid]], 'only the good message is stored');
    await othersStillWork();
  }));

  test('packet over 64 KiB over polling → too_large ack, the socket keeps working', run(async () => {
    const { v } = await chatting(TRANSPORTS.polling, 'visitor@gw1 polling');
    const cid = uid('huge');
    const mark = v.mark();
    const ack = await v.emitAck('message', { type: 'message', msgtype: 'text', message: 'y'.repeat(70 * 1024), clientid: cid }, { timeout: 15000 });
    checkErrorAck(ack, 'too_large', '70 KiB over polling');
    assert.equal(await storedCount(cid), 0, 'nothing stored');
    const fine = await visitorSay(v, 'after the huge one');
    await waitMsg(agent.sockets[0], fine);
    assert.equal(v.count('disconnect', () => true, mark), 0, 'the polling socket was not dropped');
    await othersStillWork();
  }));

  test('packet over 64 KiB over websocket → too_large ack or the connection closes; the client reconnects and carries on', run(async () => {
    const { v, sid } = await chatting(TRANSPORTS.websocket, 'visitor@gw1 websocket');
    const cid = uid('huge');
    const mark = v.mark();
    const ackP = v.emitAck('message', { type: 'message', msgtype: 'text', message: 'z'.repeat(70 * 1024), clientid: cid }, { timeout: 15000 }).then((a) => ({ ack: a }), (e) => ({ err: e }));
    const discP = v.waitEvent('disconnect', () => true, { after: mark, timeout: 15000 }).then((d) => ({ disconnect: d }), (e) => ({ err: e }));
    const first = await Promise.race([ackP, discP]);
    if (first.ack) {
      checkErrorAck(first.ack, 'too_large', '70 KiB over websocket');
    } else {
      assert.ok(first.disconnect, `neither a too_large ack nor a disconnect within 15 s:\n${v.describe()}`);
      await v.waitEvent('reconnect', () => true, { after: mark, what: 'reconnection after the oversized frame' });
    }
    assert.equal(await storedCount(cid), 0, 'nothing stored');
    const fine = await visitorSay(v, 'after the huge one');
    await waitMsg(agent.sockets[0], fine);
    const again = await v.emitAck('new', {});
    assert.equal(again?.agentserviceid, sid, `same session after: ${brief(again)}`);
    await othersStillWork();
  }));

  test('unknown events are ignored: no crash, no disconnect, traffic continues', run(async () => {
    const { v, sid } = await chatting(TRANSPORTS.polling, 'visitor@gw1');
    const mark = v.mark();
    v.emit('no_such_event', { x: 1 });
    v.emit('no_such_event_with_ack', { x: 1 }, () => {});
    v.emit('__proto__', 'x');
    v.emit('constructor');
    agent.sockets[0].emit('no_such_agent_event', [1, 2, 3]);
    agent.sockets[0].emit('new', { agentserviceid: 'x' }); // a server→client event name, sent by a client
    const fine = await visitorSay(v, 'after unknown events');
    await waitMsg(agent.sockets[0], fine);
    const back = await agentSay(agent.sockets[0], sid, 'reply after unknown events');
    await waitMsg(v, back);
    assert.equal(v.count('disconnect', () => true, mark), 0, 'visitor was disconnected');
    await othersStillWork();
  }));

  test('malformed Engine.IO / Socket.IO payloads POSTed into a polling session: a prompt answer, nothing else disturbed', run(async () => {
    const gw = c.gw[0].url;
    const frame = (p) => `${p.length}:${p}`; // Engine.IO 3 text payload framing
    const garbage = [
      frame('42["m'), // truncated JSON, default namespace
      frame('42/im/user,["message",{"type":'), // truncated JSON in the namespace
      frame('42/im/user,0'), // ack id without payload
      frame('42/im/user,["message","x"]'), // wrong type, no ack id
      frame('42/im/user,1["message",7]'), // wrong type, with ack id
      frame('42/im/user,2[{"a":1}]'), // event name not a string
      frame('42/im/user,3[]'), // no event name
      frame('4999["x"]'), // unknown Socket.IO packet type
      frame('9'), // unknown Engine.IO packet type
      frame(`42/im/user,4["message",${'['.repeat(5000)}`), // deep nesting
      'abc', // no framing at all
      '99999:4', // length beyond the body
      '\u0000\u0001\u00ff\u0000', // binary noise
    ];
    // Each payload goes into the Engine.IO session of a real, connected
    // polling client (which keeps its long-poll GET pending, as browsers do).
    const anomalies = [];
    for (const body of garbage) {
      const shown = JSON.stringify(body.slice(0, 50));
      const ident = await newVisitor(gw);
      const v = connectVisitor(gw, ident, { transports: TRANSPORTS.polling, reconnection: false, label: `victim of ${shown}` });
      await v.connected();
      const sid = v.socket.io.engine.id;
      const r = await http(gw, 'POST', `/socket.io/?EIO=3&transport=polling&sid=${encodeURIComponent(sid)}`,
        { raw: body, headers: { 'content-type': 'text/plain;charset=UTF-8' }, timeout: 3000 })
        .catch(() => ({ status: 'no answer within 3 s', text: '' }));
      if (!(typeof r.status === 'number' && r.status < 500)) anomalies.push(`POST ${shown} → ${r.status} ${brief(r.text)}`);
      for (const g of c.gw) assert.equal((await fetch(`${g.url}/healthz`)).status, 200, `${g.id} healthz after ${shown}`);
      v.close();
    }
    await othersStillWork();
    assert.deepEqual(anomalies, [], 'every malformed payload POST gets a prompt answer below 500 (a clear error, or ok)');
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
