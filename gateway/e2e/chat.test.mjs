// Cross-node chat: the visitor on gw1, the agent on gw2 (and a second socket
// of each on the other node), for long-polling only, websocket only and the
// client's default polling → websocket upgrade; both directions, acks,
// per-session seq, echoes, drafts, resends, rows in MariaDB.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TRANSPORTS, uid, http, expectStatus, newVisitor, connectVisitor, readyAgent, adminLogin, openChat,
  visitorSay, agentSay, waitMsg, checkChatMessage, brief, closeAllClients, connectAgent,
} from './client.mjs';

/** Seqs of the distinct `message` events (type message) of one session, in arrival order. */
function arrivalSeqs(rec, sid) {
  const seen = new Set();
  const out = [];
  for (const e of rec.all('message', (m) => m && m.type === 'message' && m.agentserviceid === sid)) {
    if (seen.has(e.data.id)) continue;
    seen.add(e.data.id);
    out.push(e.data.seq);
  }
  return out;
}

function assertIncreasing(seqs, ctx) {
  for (let i = 1; i < seqs.length; i++) {
    assert.ok(seqs[i] > seqs[i - 1], `${ctx}: seq not strictly increasing: ${seqs.join(',')}`);
  }
}

describe('cross-node chat', { skip: skipReason() }, () => {
  let c;
  let agent; // one agent; a socket per transport on gw2, plus one on gw1
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'chat' });
    await c.guard('setup', async () => {
      const admin = await adminLogin(c);
      assert.ok(admin.agent.roles.includes('admin'), `admin roles: ${brief(admin.agent)}`);
      const gw2 = c.gw[1].url;
      agent = await readyAgent(c, admin.token, {
        sockets: [
          { url: gw2, transports: TRANSPORTS.polling },
          { url: gw2, transports: TRANSPORTS.websocket },
          { url: c.gw[0].url, transports: TRANSPORTS.polling },
        ],
      });
      agent.byTransport = { polling: agent.sockets[0], websocket: agent.sockets[1] };
    });
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('visitor identity: a good pair is returned unchanged, a bad sign gets a fresh identity, unknown appid 404', run(async () => {
    const gw1 = c.gw[0].url;
    const id = await newVisitor(gw1);
    const same = expectStatus(await http(gw1, 'POST', '/im/demo/visitor', { body: { userid: id.userid, sign: id.sign } }), 200);
    assert.deepEqual({ userid: same.userid, sign: same.sign }, { userid: id.userid, sign: id.sign }, 'good pair must come back unchanged');
    // Signed identities are valid on every node (shared secret).
    const other = expectStatus(await http(c.gw[1].url, 'POST', '/im/demo/visitor', { body: { userid: id.userid, sign: id.sign } }), 200);
    assert.deepEqual({ userid: other.userid, sign: other.sign }, { userid: id.userid, sign: id.sign }, 'good pair on gw2');
    const forged = expectStatus(await http(gw1, 'POST', '/im/demo/visitor', { body: { userid: id.userid, sign: 'f'.repeat(64) } }), 200);
    assert.ok(forged.userid && forged.sign, `fresh identity: ${brief(forged)}`);
    assert.notEqual(forged.userid, id.userid, 'a bad sign must not keep the claimed userid');
    const bare = expectStatus(await http(gw1, 'POST', '/im/demo/visitor', { body: { userid: id.userid } }), 200);
    assert.notEqual(bare.userid, id.userid, 'a missing sign must not keep the claimed userid');
    const nf = await http(gw1, 'POST', `/im/${uid('nosuchsite')}/visitor`, { body: {} });
    expectStatus(nf, 404, 'unknown appid');
    assert.equal(nf.body?.error?.code, 'not_found', `unknown appid body: ${nf.text}`);
  }));

  for (const [tname, transports] of Object.entries(TRANSPORTS)) {
    test(`${tname}: visitor on gw1 ↔ agent on gw2, both directions`, run(async () => {
      const [gw1, gw2] = c.gw.map((g) => g.url);
      const ident = await newVisitor(gw1);
      const v1 = connectVisitor(gw1, ident, { transports, label: `visitor@gw1/${tname}` });
      const v2 = connectVisitor(gw2, ident, { transports, label: `visitor@gw2/${tname}` });
      await Promise.all([v1.connected(), v2.connected()]);
      if (tname === 'upgrade') {
        await v1.waitEvent('engine_upgrade', (n) => n === 'websocket', { what: 'polling → websocket upgrade' });
        assert.equal(v1.transport(), 'websocket');
      } else {
        assert.equal(v1.transport(), transports[0]);
      }
      let a = agent.byTransport[tname];
      const agentSockets = [...agent.sockets];
      if (!a) {
        // An agent socket of this transport on gw2, for this test only.
        a = connectAgent(gw2, agent.token, { transports, label: `agent@gw2/${tname}` });
        await a.connected();
        if (tname === 'upgrade') await a.waitEvent('engine_upgrade', (n) => n === 'websocket', { what: 'agent polling → websocket upgrade' });
        agentSockets.push(a);
      }

      const { sid } = await openChat(v1, ident, { ...agent, socket: a });
      for (const s of agentSockets) {
        await s.waitFor('new', (x) => x && x.agentserviceid === sid, { what: `every agent socket gets new ${sid}` });
      }
      const sessionRow = await c.sql(`SELECT id, status, agentno, appid, userid FROM sessions WHERE id=${q(sid)}`);
      assert.deepEqual(sessionRow, [[sid, 'inservice', String(agent.agent.id), 'demo', ident.userid]], 'sessions row');

      // Visitor draft → the agent gets a `writing` message; nothing stored.
      v1.emit('message', { type: 'writing', msgtype: 'text', message: 'dra', clientid: uid('w') });
      await a.waitFor('message', (m) => m && m.type === 'writing' && m.agentserviceid === sid, { what: 'visitor writing' });

      // Visitor → agent.
      const texts = [`hello from ${tname}`, '<b>not html</b> & "quotes" \'single\' 中文 😀', 'line one\nline two'];
      const sent = [];
      for (const text of texts) {
        const ack = await visitorSay(v1, text);
        sent.push({ ...ack, calltype: 'in' });
        const want = { id: ack.id, seq: ack.seq, clientid: ack.clientid, agentserviceid: sid, usession: ident.userid, type: 'message', msgtype: 'text', calltype: 'in', message: text, appid: 'demo' };
        for (const r of [v1, v2, ...agentSockets]) {
          const m = await waitMsg(r, ack);
          checkChatMessage(m, want, r.label);
        }
      }

      // Agent → visitor (from the gw2 socket of this transport).
      for (const text of [`reply over ${tname}`, '<i>agent</i> 回复']) {
        const ack = await agentSay(a, sid, text);
        sent.push({ ...ack, calltype: 'out' });
        const want = { id: ack.id, seq: ack.seq, clientid: ack.clientid, agentserviceid: sid, usession: ident.userid, type: 'message', msgtype: 'text', calltype: 'out', message: text };
        for (const r of [v1, v2, ...agentSockets]) {
          const m = await waitMsg(r, ack);
          checkChatMessage(m, want, r.label);
        }
      }
      assertIncreasing(sent.map((s) => s.seq), 'acks');

      // The agent's draft reaches the visitor as `typing` only.
      const vm = v1.mark();
      a.emit('message', { agentserviceid: sid, type: 'writing', msgtype: 'text', message: 'typing…', clientid: uid('w') });
      const typing = await v1.waitFor('typing', (x) => x && x.agentserviceid === sid, { after: vm, what: 'agent typing' });
      assert.equal(typing.agentserviceid, sid);

      // Resends return the first ack and store nothing.
      const first = sent[0];
      const re = await v1.emitAck('message', { type: 'message', msgtype: 'text', message: first.message, clientid: first.clientid });
      assert.deepEqual({ ok: re?.ok, id: re?.id, seq: re?.seq }, { ok: true, id: first.id, seq: first.seq }, `visitor resend ack ${brief(re)}`);
      const aFirst = sent[3];
      const re2 = await a.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: aFirst.message, clientid: aFirst.clientid });
      assert.deepEqual({ ok: re2?.ok, id: re2?.id, seq: re2?.seq }, { ok: true, id: aFirst.id, seq: aFirst.seq }, `agent resend ack ${brief(re2)}`);

      // A second `new` while the session is open: same id, no second agent `new`.
      const again = await v1.emitAck('new', { name: 'again' });
      assert.deepEqual({ ok: again?.ok, agentserviceid: again?.agentserviceid }, { ok: true, agentserviceid: sid }, `second new ${brief(again)}`);

      // Barrier: one more message through the whole path, then look back.
      const last = await visitorSay(v1, 'barrier');
      sent.push({ ...last, calltype: 'in' });
      for (const r of agentSockets) await waitMsg(r, last);
      await waitMsg(v2, last);
      for (const r of agentSockets) {
        assert.equal(r.count('new', (x) => x && x.agentserviceid === sid), 1, `${r.label}: exactly one new for ${sid}`);
      }
      assertIncreasing(sent.map((s) => s.seq), 'acks');

      // Every participant saw the session's messages in seq order.
      for (const r of [v1, v2, ...agentSockets]) assertIncreasing(arrivalSeqs(r, sid), `${r.label} arrival order`);

      // Rows: one per acknowledged message, seq 1..N without gaps, nothing for drafts or resends.
      const rows = await c.sql(`SELECT seq, clientid, message, calltype, usession, appid, agentserviceid FROM messages WHERE agentserviceid=${q(sid)} ORDER BY seq`);
      const seqs = rows.map((r) => Number(r[0]));
      assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `stored seqs must be 1..N: ${seqs.join(',')}`);
      for (const s of sent) {
        const mine = rows.filter((r) => r[1] === s.clientid);
        assert.equal(mine.length, 1, `exactly one row for clientid ${s.clientid} (${rows.length} rows)`);
        assert.deepEqual(mine[0], [String(s.seq), s.clientid, s.message, s.calltype, ident.userid, 'demo', sid], 'message row');
      }
      const foreign = rows.filter((r) => !sent.some((s) => s.clientid === r[1]) && r[3] !== 'system');
      assert.deepEqual(foreign, [], 'no rows besides the acknowledged messages (and system notes)');
      for (const r of [v1, v2]) r.close();
      if (a !== agent.byTransport[tname]) a.close();
    }));
  }

  test('concurrent senders in one session on both nodes: every message acked once, seqs 1..N with no gap or repeat', run(async () => {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const ident = await newVisitor(gw1);
    const v1 = connectVisitor(gw1, ident, { transports: TRANSPORTS.websocket, label: 'burst visitor@gw1' });
    const v2 = connectVisitor(gw2, ident, { transports: TRANSPORTS.polling, label: 'burst visitor@gw2' });
    await Promise.all([v1.connected(), v2.connected()]);
    const a = agent.byTransport.websocket;
    const { sid } = await openChat(v1, ident, { ...agent, socket: a });
    const PER = 20;
    const sends = [];
    for (let i = 0; i < PER; i++) {
      sends.push(visitorSay(v1, `v1-${i}`), visitorSay(v2, `v2-${i}`), agentSay(a, sid, `a-${i}`), agentSay(agent.sockets[2], sid, `a2-${i}`));
    }
    const acks = await Promise.all(sends);
    const seqs = acks.map((x) => x.seq).sort((x, y) => x - y);
    assert.deepEqual(seqs, seqs.map((_, i) => i + 1), `acked seqs must be 1..${acks.length}`);
    assert.equal(new Set(acks.map((x) => x.id)).size, acks.length, 'distinct ids');
    // Every message reaches the agent's gw2 socket and the visitor's gw2 socket exactly once.
    for (const r of [a, v2]) {
      for (const ack of acks) await waitMsg(r, ack);
      const got = r.all('message', (m) => m && m.type === 'message' && m.agentserviceid === sid).map((e) => e.data.id);
      assert.equal(got.length, new Set(got).size, `${r.label}: a message delivered twice`);
      assert.equal(got.length, acks.length, `${r.label}: ${got.length} messages, want ${acks.length}`);
    }
    const rows = await c.sql(`SELECT seq FROM messages WHERE agentserviceid=${q(sid)} ORDER BY seq`);
    assert.deepEqual(rows.map((r) => Number(r[0])), seqs, 'stored seqs');
    for (const r of [v1, v2]) r.close();
  }));

  test('upgrade under load: 3 bursts of 16 visitors connecting at once on both nodes all connect and chat', run(async () => {
    const N = 16;
    for (let round = 1; round <= 3; round++) {
      const idents = await Promise.all(Array.from({ length: N }, (_, i) => newVisitor(c.gw[i % 2].url)));
      const vs = idents.map((id, i) => connectVisitor(c.gw[i % 2].url, id, { transports: TRANSPORTS.upgrade, label: `burst ${round} visitor ${i}@gw${(i % 2) + 1}/upgrade` }));
      const connected = await Promise.allSettled(vs.map((v) => v.connected()));
      const lost = connected.map((r, i) => (r.status === 'rejected' ? `${vs[i].label}: ${vs[i].events.map((e) => e.name).join(',') || 'no events'}` : null)).filter(Boolean);
      assert.deepEqual(lost, [], `burst ${round}: ${lost.length} of ${N} sockets never got their namespace CONNECT (default polling → websocket upgrade)`);
      const chats = await Promise.allSettled(vs.map(async (v) => {
        const ack = await v.emitAck('new', { name: v.label });
        assert.ok(ack?.ok, `new: ${brief(ack)}`);
        await v.waitFor('status', (st) => st && st.agentserviceid === ack.agentserviceid && st.state === 'assigned');
        const m = await visitorSay(v, `hi from ${v.label}`);
        await waitMsg(agent.sockets[0], m);
        await waitMsg(v, m);
      }));
      const failed = chats.map((r, i) => (r.status === 'rejected' ? `${vs[i].label}: ${r.reason.message.split('\n')[0]}` : null)).filter(Boolean);
      assert.deepEqual(failed, [], `burst ${round}: ${failed.length} of ${N} visitors could not chat`);
      for (const v of vs) v.close();
    }
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
