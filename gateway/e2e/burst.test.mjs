// Routing under a burst: 50 agents of capacity 3 (150 places) spread over two
// gateways, then 400 visitors (on both gateways, mostly websocket, every 8th
// long-polling) all open a chat (`new`) at once. Two routing replicas; in the
// second test the leading one is killed -9 in the middle of the burst (once
// 100 of the 400 `new` are answered) and the standby finishes.
//
// Invariants, checked as the events arrive and in MariaDB:
// - no agent ever holds more than 3 chats: on every `new` an agent receives
//   (its `new`s minus its `transout`s minus the ends this test has asked
//   for), by polling MariaDB during the whole run, and at the end by
//   replaying every session's service and end times per agent;
// - no visitor is assigned twice: one `new` per session across all agents,
//   one `status` assigned per visitor, never `queued` once assigned
//   (repeated identical `queued` notices are fine: commands are at least once);
// - every `new` is answered with a session (an `unavailable` answer is asked
//   again, and counted as a wrong outcome);
// - the burst settles with exactly 150 served and 250 waiting, and the latest
//   position each waiting visitor was told is its rank in the queue: 1..250 in
//   enqueue order (sessions.created_at, then id: the routing's own order);
// - the drain: chats are ended in waves of k at once; after each wave exactly
//   k waiting visitors are served, and they are the k oldest still waiting
//   (as a set: the k places free at once and may be filled in any order), and
//   those still waiting are told their new positions; until all 400 are served.
// Breaches fail the test at once; wrong outcomes (positions, order, retries)
// are collected and fail it at the end, after everything else was checked.
// Timings (burst, takeover) are reported as diagnostics, never asserted.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, sleep, q, leaderOf, LEADING } from './cluster.mjs';
import {
  TRANSPORTS, http, expectStatus, newVisitor, connectVisitor, readyAgent, adminLogin, brief, closeAllClients,
} from './client.mjs';

const AGENTS = 50;
const MAXUSER = 3;
const VISITORS = 400;
const PLACES = AGENTS * MAXUSER; // 150
const WAITING = VISITORS - PLACES; // 250
// Chats ended at once in each wave of the drain; they add up to WAITING.
const WAVES = [1, 1, 3, 5, 10, 20, 30, 40, 50, 50, 40];
const POLLING_EVERY = 8; // every 8th visitor uses long-polling, the others websocket
// Failover: kill the leader once this many visitors' new were answered (their
// sessions exist, their commands are in the stream) while the rest still arrive.
const KILL_AFTER = 100;
const DB_POLL_MS = 50;
const SKEW_MS = 250; // see finalChecks

/** Run fn(i) for i in 0..n-1, at most `width` at a time; resolves with the results in order. */
async function pool(n, width, fn) {
  const out = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await fn(i);
    }
  }));
  return out;
}

/** Sum of a JSON log field over the lines of `log` that contain `msg`, or the number of such lines. */
function logCount(log, msg, field) {
  let n = 0;
  for (const line of log.split('\n')) {
    if (!line.includes(msg)) continue;
    if (!field) { n++; continue; }
    try { n += JSON.parse(line)[field] || 0; } catch { /* not JSON */ }
  }
  return n;
}

const SQL_TIME = (col) => `DATE_FORMAT(${col}, '%Y-%m-%d %H:%i:%s.%f')`;

/**
 * One burst's bookkeeping: every agent's `new`/`transout` and every
 * visitor's `status`, checked as they arrive. Breaches of an invariant are
 * `violations` (the next wait fails at once); `issues` are wrong outcomes
 * found at a checkpoint (wrong positions, a wave served out of order): the
 * test goes on to check the rest and fails at the end with all of them.
 */
class Burst {
  constructor(c, agents, visitors) {
    this.c = c;
    this.agents = agents;
    this.visitors = visitors;
    this.agentById = new Map(agents.map((a) => [String(a.agent.id), a]));
    this.bySid = new Map(); // session id → visitor
    this.owner = new Map(); // session id → agent id, from the agents' `new`
    this.assignLog = []; // {sid, agent, t} in arrival order of the agents' `new`
    this.ended = new Set(); // sessions this test ended
    this.transouts = [];
    this.acked = 0; // visitors whose new was answered with a session
    this.violations = [];
    this.issues = [];
    this.checks = new Set(); // pending until() conditions, re-evaluated on every event
    for (const a of agents) this.watchAgent(a);
    for (const x of visitors) this.watchVisitor(x);
  }

  violate(msg) {
    if (this.violations.length < 40) this.violations.push(msg);
    this.poke();
  }

  issue(msg) {
    this.issues.push(msg);
  }

  poke() {
    for (const f of [...this.checks]) f();
  }

  watchAgent(a) {
    const id = String(a.agent.id);
    a.load = 0; // chats held by this agent as far as this test can tell (an upper bound)
    a.open = new Set();
    a.maxLoad = 0;
    a.socket.socket.on('new', (s) => {
      const sid = s && s.agentserviceid;
      if (String(s && s.agentno) !== id) this.violate(`agent ${id} got new with agentno ${brief(s && s.agentno)}: ${brief(s)}`);
      const prev = this.owner.get(sid);
      if (prev !== undefined) this.violate(`session ${sid} assigned twice: new to agent ${prev}, then to agent ${id}`);
      else this.owner.set(sid, id);
      a.open.add(sid);
      a.load++;
      a.maxLoad = Math.max(a.maxLoad, a.load);
      if (a.load > MAXUSER) {
        this.violate(`agent ${id} (maxuser ${MAXUSER}) holds ${a.load} chats on receiving new ${sid}: ${[...a.open].join(', ')}`);
      }
      this.assignLog.push({ sid, agent: id, t: Date.now() });
      this.poke();
    });
    a.socket.socket.on('transout', (s) => {
      const sid = s && s.agentserviceid;
      this.transouts.push({ sid, agent: id });
      if (a.open.delete(sid)) a.load--;
      this.poke();
    });
  }

  watchVisitor(x) {
    x.statuses = [];
    x.assigned = null;
    x.latest = null;
    x.drops = [];
    // A socket that reconnects is told its status again by its gateway: say
    // so next to any violation it shows (the sockets are not expected to drop).
    x.v.socket.on('disconnect', (reason) => x.drops.push(reason));
    const violate = (msg) => this.violate(x.drops.length ? `${msg} [its socket dropped: ${x.drops.join(', ')}]` : msg);
    x.v.socket.on('status', (s) => {
      const t = Date.now();
      x.statuses.push({ s, t });
      if (x.sid && s?.agentserviceid !== x.sid) violate(`${x.v.label}: status for ${brief(s?.agentserviceid)}, its session is ${x.sid}: ${brief(s)}`);
      switch (s?.state) {
        case 'assigned':
          if (x.assigned) violate(`${x.v.label} (${x.sid}) told assigned twice: ${brief(x.assigned)} then ${brief(s)}`);
          else { x.assigned = s; x.assignedAt = t; }
          break;
        case 'queued':
        case 'noagent':
          if (x.assigned) violate(`${x.v.label} (${x.sid}) told ${s.state} after being assigned: ${brief(s)}`);
          if (!Number.isInteger(s.num) || s.num < 1) violate(`${x.v.label}: ${s.state} without a position: ${brief(s)}`);
          break;
        case 'ended':
          if (!this.ended.has(x.sid)) violate(`${x.v.label} (${x.sid}) told ended, but the test ended no such chat: ${brief(s)}`);
          break;
        default:
          violate(`${x.v.label}: unexpected status ${brief(s)}`);
      }
      x.latest = s;
      this.poke();
    });
  }

  /**
   * Resolve once cond() is true (evaluated now and on every recorded event);
   * reject at once on a violation, or after `timeout` ms with detail().
   */
  until(what, cond, { timeout = 20000, detail } = {}) {
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = () => {
        settled = true;
        clearTimeout(timer);
        this.checks.delete(check);
      };
      const check = () => {
        if (settled) return;
        if (this.violations.length) {
          done();
          reject(new Error(`invariant broken (while waiting for ${what}):\n  ${this.violations.join('\n  ')}`));
          return;
        }
        let ok;
        try { ok = cond(); } catch (e) { done(); reject(e); return; }
        if (ok) { done(); resolve(ok); }
      };
      const timer = setTimeout(async () => {
        if (settled) return;
        done();
        let d = '';
        try { d = detail ? `\n${await detail()}` : ''; } catch (e) { d = `\n(detail failed: ${e.message})`; }
        reject(Object.assign(new Error(`timed out after ${timeout} ms waiting for ${what}${d}`), { timeout: true }));
      }, timeout);
      this.checks.add(check);
      check();
    });
  }

  assertNoViolation(when) {
    assert.deepEqual(this.violations, [], `invariants broken ${when}`);
  }

  routed() {
    return this.visitors.filter((x) => x.statuses.length > 0).length;
  }

  assignedCount() {
    return this.visitors.filter((x) => x.assigned).length;
  }

  /** Poll MariaDB for agents over capacity until stop() (no event tells a row count). */
  pollCapacity() {
    let stopped = false;
    let polls = 0;
    const loop = (async () => {
      while (!stopped) {
        let rows;
        try {
          rows = await this.c.sql(`SELECT agentno, COUNT(*) FROM sessions WHERE status='inservice' GROUP BY agentno HAVING COUNT(*) > ${MAXUSER}`);
        } catch (e) {
          this.issue(`MariaDB capacity poll failed: ${e.message}`);
          return;
        }
        polls++;
        if (rows.length) this.violate(`MariaDB: agents in service with more than ${MAXUSER} sessions: ${JSON.stringify(rows)}`);
        await sleep(DB_POLL_MS);
      }
    })();
    return async () => {
      stopped = true;
      await loop;
      return polls;
    };
  }

  async dbStatusCounts() {
    const rows = await this.c.sql('SELECT status, COUNT(*) FROM sessions GROUP BY status ORDER BY status');
    return Object.fromEntries(rows.map(([s, n]) => [s, Number(n)]));
  }

  /** Waiting sessions in the routing's queue order: created_at, then id. */
  async dbQueue() {
    return (await this.c.sql(`SELECT id FROM sessions WHERE status='inquene' ORDER BY created_at, id`)).map((r) => r[0]);
  }

  /** Why visitors have no status yet: their sessions as MariaDB has them. */
  async unroutedDetail() {
    const missing = this.visitors.filter((x) => !x.latest || !x.sid);
    const lines = [`${missing.length} visitors without any status; ${this.assignedCount()} told assigned, ${this.assignLog.length} agent new events; MariaDB: ${JSON.stringify(await this.dbStatusCounts())}`];
    const sids = missing.filter((x) => x.sid).slice(0, 15).map((x) => q(x.sid));
    if (sids.length) {
      const rows = await this.c.sql(`SELECT id, status, agentno, ${SQL_TIME('created_at')}, ${SQL_TIME('service_time')} FROM sessions WHERE id IN (${sids.join(',')})`);
      for (const r of rows) {
        const got = this.owner.get(r[0]);
        lines.push(`  session ${r[0]} (${this.bySid.get(r[0])?.v.label}): MariaDB status ${r[1]}, agentno ${r[2] || '-'}, created ${r[3]}, service_time ${r[4]}; ` +
          `${got ? `agent ${got} got new for it` : 'no agent got new for it'}`);
      }
    }
    const notNew = this.visitors.filter((x) => x.assigned && !this.owner.has(x.sid)).slice(0, 10);
    for (const x of notNew) lines.push(`  ${x.v.label} (${x.sid}) told assigned to ${x.assigned.agentno}, but no agent got new`);
    return lines.join('\n');
  }

  /**
   * Wait until every session of `queue` (oldest first) holds as latest
   * status queued/noagent with num = its rank; on timeout, record an issue
   * that says who holds what. Returns true when they do.
   */
  async positions(queue, what, timeout = 3000) {
    const wrong = () => queue.map((sid, k) => {
      const x = this.bySid.get(sid);
      const l = x && x.latest;
      return (l && (l.state === 'queued' || l.state === 'noagent') && l.num === k + 1) ? null : { k, sid, x, l };
    }).filter(Boolean);
    try {
      await this.until(`${what}: positions 1..${queue.length} in enqueue order`, () => wrong().length === 0, { timeout });
      return true;
    } catch (e) {
      if (!e.timeout) throw e;
      const w = wrong();
      const held = {};
      for (const { l } of w) {
        const key = l ? `${l.state} ${l.num}` : 'none';
        held[key] = (held[key] || 0) + 1;
      }
      const ranks = w.map(({ k }) => k + 1);
      this.issue(`${what}: ${w.length} of ${queue.length} waiting visitors do not hold their queue position after ${timeout} ms ` +
        `(wrong ranks ${ranks.slice(0, 5).join(', ')}${ranks.length > 5 ? ` … ${ranks.slice(-3).join(', ')}` : ''}); ` +
        `what they hold instead (latest status: count): ${brief(held)}; e.g. ` +
        w.slice(0, 3).map(({ k, sid, l }) => `rank ${k + 1} ${sid}: ${brief(l)}`).join('; '));
      return false;
    }
  }

  /** End one chat through the REST API as its agent (on gateway gw). */
  async end(sid, gw) {
    const agentId = this.owner.get(sid);
    const a = this.agentById.get(agentId);
    // The place may be refilled as soon as the session row is ended, which
    // happens during the request: count it free from the moment we ask.
    if (a.open.delete(sid)) a.load--;
    this.ended.add(sid);
    const res = await http(this.c.gw[gw].url, 'POST', `/api/v1/sessions/${encodeURIComponent(sid)}/end`, { token: a.token, body: {} });
    expectStatus(res, 200, `agent ${agentId} ends ${sid}`);
  }
}

/** 50 ready agents (maxuser 3) on alternating gateways, then 400 connected visitors. */
async function prepare(c, admin, report) {
  const t0 = Date.now();
  const agents = await pool(AGENTS, 10, (i) => readyAgent(c, admin.token, {
    maxuser: MAXUSER,
    sockets: [{ url: c.gw[i % 2].url, transports: TRANSPORTS.websocket }],
    label: `agent ${i + 1}@gw${(i % 2) + 1}`,
  }));
  // Routing applied every ready (a socket's connect reaches it before the
  // status change that follows): the tenant counters it sends agents say so.
  await agents[0].socket.waitFor('status', (s) => s && s.agents === AGENTS && s.users === 0, { timeout: 15000, what: `counters with ${AGENTS} ready agents` });
  const tAgents = Date.now();

  const idents = await pool(VISITORS, 40, (i) => newVisitor(c.gw[i % 2].url));
  const tConnect = Date.now();
  const visitors = idents.map((ident, i) => {
    const gw = i % 2;
    const transport = i % POLLING_EVERY === POLLING_EVERY - 1 ? 'polling' : 'websocket';
    const v = connectVisitor(c.gw[gw].url, ident, { transports: TRANSPORTS[transport], label: `visitor ${i + 1}@gw${gw + 1}/${transport}` });
    return { i, ident, gw, transport, v, sid: null };
  });
  await Promise.all(visitors.map((x) => x.v.connected({ timeout: 30000 })));
  report(`setup: ${AGENTS} ready agents in ${tAgents - t0} ms; ${VISITORS} visitor identities in ${tConnect - tAgents} ms; ` +
    `${VISITORS} sockets (${visitors.filter((x) => x.transport === 'polling').length} polling) connected at once in ${Date.now() - tConnect} ms`);
  return { agents, visitors };
}

/**
 * The burst: every visitor sends `new` at once. midway(b), if given, runs
 * alongside (the failover). Resolves once routing settled: every visitor has
 * a status, 150 are assigned; checks the counts, the positions.
 */
async function runBurst(b, report, { midway, settleTimeout = 20000 } = {}) {
  const t0 = Date.now();
  let tAcks;
  const refused = []; // [label, why]: no session
  const retried = []; // [label, why]: answered unavailable, asked again
  const accept = (x, ack) => {
    if (b.bySid.has(ack.agentserviceid)) b.violate(`two visitors got session ${ack.agentserviceid}`);
    x.sid = ack.agentserviceid;
    b.bySid.set(x.sid, x);
    b.acked++;
    for (const { s } of x.statuses) {
      if (s?.agentserviceid !== x.sid) b.violate(`${x.v.label}: status for ${brief(s?.agentserviceid)}, its session is ${x.sid}`);
    }
    b.poke();
  };
  // `unavailable` says "retry": a visitor asks again (at once, up to 5 times),
  // and the test fails at the end with how many had to.
  const sendNew = async (x) => {
    for (let attempt = 1; ; attempt++) {
      let ack;
      try {
        ack = await x.v.emitAck('new', { name: `Burst ${x.i + 1}` }, { timeout: 30000 });
      } catch (e) {
        refused.push([x.v.label, e.message.split('\n')[0]]);
        return;
      }
      if (ack && ack.ok === true && typeof ack.agentserviceid === 'string' && ack.agentserviceid) {
        accept(x, ack);
        return;
      }
      if (ack?.error?.code === 'unavailable' && attempt < 5) {
        retried.push([x.v.label, brief(ack.error)]);
        continue;
      }
      refused.push([x.v.label, ack?.error?.code || brief(ack)]);
      return;
    }
  };
  const acks = Promise.all(b.visitors.map(sendNew)).then(() => { tAcks = Date.now(); });
  await Promise.all([acks, midway ? midway(b) : null]);
  const tally = (list) => {
    const why = {};
    for (const [, w] of list) why[w] = (why[w] || 0) + 1;
    return `(by answer: ${brief(why)}); e.g. ${list.slice(0, 3).map(([l, w]) => `${l}: ${w}`).join('; ')}`;
  };
  if (retried.length) {
    b.issue(`${retried.length} answers to the burst's ${VISITORS} new were errors that say retry, from ${new Set(retried.map(([l]) => l)).size} visitors ${tally(retried)}`);
  }
  if (refused.length) assert.fail(`${refused.length} of ${VISITORS} visitors' new were not answered {ok: true, agentserviceid} ${tally(refused)}`);

  await b.until(`the burst to settle: every visitor routed, ${PLACES} assigned`,
    () => b.visitors.every((x) => x.sid && x.latest) && b.assignedCount() >= PLACES && b.assignLog.length >= PLACES,
    { timeout: settleTimeout, detail: () => b.unroutedDetail() });
  const tSettled = Date.now();
  b.assertNoViolation('during the burst');
  report(`burst: ${VISITORS} new sent at once; all acked after ${tAcks - t0} ms; settled (every visitor told assigned or queued) after ${tSettled - t0} ms`);

  // Exactly 150 served, each visitor told by the agent who got `new`; 250 waiting.
  assert.equal(b.assignLog.length, PLACES, `agents got ${b.assignLog.length} new events for ${PLACES} places`);
  assert.equal(b.assignedCount(), PLACES, `visitors told assigned`);
  for (const x of b.visitors.filter((y) => y.assigned)) {
    assert.equal(String(x.assigned.agentno), b.owner.get(x.sid), `${x.v.label} (${x.sid}) told assigned to ${brief(x.assigned)}, the agent who got new: ${b.owner.get(x.sid)}`);
  }
  assert.deepEqual(await b.dbStatusCounts(), { inquene: WAITING, inservice: PLACES }, 'sessions in MariaDB after the burst');
  for (const a of b.agents) assert.equal(a.load, MAXUSER, `agent ${a.agent.id} is full after the burst: ${[...a.open].join(', ')}`);

  // Who was served: not asserted (the burst's first requests meet free
  // places in the order the routing reads them, not by creation time).
  const all = (await b.c.sql(`SELECT id, status FROM sessions ORDER BY created_at, id`));
  const oldestWaiting = all.findIndex((r) => r[1] === 'inquene');
  const younger = all.filter((r, k) => r[1] === 'inservice' && k > oldestWaiting).length;
  report(`burst: ${younger} of the ${PLACES} served visitors arrived after the oldest one left waiting (rank ${oldestWaiting + 1} of ${VISITORS})`);

  const queue = await b.dbQueue();
  assert.equal(queue.length, WAITING);
  const ok = await b.positions(queue, 'after the burst');
  // The agents' counters: reported, not asserted.
  const want = (s) => s && s.users === PLACES && s.agents === AGENTS && s.inquene === WAITING;
  const counters = await b.agents[0].socket.waitFor('status', want, { timeout: 3000, what: 'counters after the burst' })
    .then((s) => `reached ${brief(s)}`, () => `never showed ${PLACES} users and ${WAITING} waiting within 3 s, the latest: ${brief(b.agents[0].socket.all('status').at(-1)?.data)}`);
  const noagent = b.visitors.filter((x) => x.statuses.some(({ s }) => s?.state === 'noagent')).length;
  report(`burst: waiting visitors' positions ${ok ? `are 1..${WAITING} in enqueue order` : 'WRONG (see the failure)'}; ` +
    `${noagent} visitors were told noagent at some point; agents' counters ${counters}`);
  return queue;
}

/**
 * The drain: end chats in waves of WAVES[w] at once (the ones assigned
 * longest ago, through both gateways); each wave must serve exactly the
 * WAVES[w] oldest waiting visitors, and those left hear their new positions.
 */
async function runDrain(b, queue, report) {
  const waiting = queue.slice();
  let checkPositions = true;
  const t0 = Date.now();
  const times = [];
  for (const [w, k] of WAVES.entries()) {
    const tw = Date.now();
    const expected = waiting.slice(0, k);
    const before = b.assignLog.length;
    const victims = b.assignLog.map((e) => e.sid).filter((sid) => !b.ended.has(sid)).slice(0, k);
    assert.equal(victims.length, k, `wave ${w + 1}: ${k} chats to end`);
    await Promise.all(victims.map((sid, j) => b.end(sid, j % 2)));
    await b.until(`wave ${w + 1}: ${k} chats ended, ${k} waiting visitors served`, () => b.assignLog.length >= before + k, {
      timeout: 15000,
      detail: async () => `agents got ${b.assignLog.length - before} new since the wave; the oldest waiting: ${expected.slice(0, 5).join(', ')}; MariaDB: ${JSON.stringify(await b.dbStatusCounts())}`,
    });
    const got = b.assignLog.slice(before, before + k).map((e) => e.sid);
    await b.until(`wave ${w + 1}: the ${k} served visitors told assigned`, () => got.every((sid) => b.bySid.get(sid)?.assigned), {
      timeout: 10000,
      detail: () => got.filter((sid) => !b.bySid.get(sid)?.assigned).map((sid) => `${sid}: ${b.bySid.get(sid) ? brief(b.bySid.get(sid).latest) : 'not one of our sessions'}`).join('\n'),
    });
    for (const sid of got) {
      const x = b.bySid.get(sid);
      assert.equal(String(x.assigned.agentno), b.owner.get(sid), `${x.v.label}: told assigned to ${x.assigned.agentno}, new went to ${b.owner.get(sid)}`);
    }
    // FIFO: the k places freed at once went to the k oldest waiting, in any order among them.
    const want = new Set(expected);
    const jumped = got.filter((sid) => !want.has(sid));
    if (jumped.length) {
      const rank = (sid) => waiting.indexOf(sid) + 1;
      const list = (sids) => sids.slice(0, 5).map((sid) => `${sid} (rank ${rank(sid)})`).join(', ') + (sids.length > 5 ? ` and ${sids.length - 5} more` : '');
      b.issue(`wave ${w + 1} (${k} chats ended at once, ${waiting.length} waiting): served ${jumped.length} out of queue order: ${list(jumped)}, ` +
        `instead of ${list(expected.filter((sid) => !got.includes(sid)))}`);
    }
    for (const sid of got) {
      const k2 = waiting.indexOf(sid);
      if (k2 >= 0) waiting.splice(k2, 1);
    }
    if (checkPositions && waiting.length) checkPositions = await b.positions(waiting, `after wave ${w + 1} (${k} ended)`);
    times.push(`${k}:${Date.now() - tw}ms`);
  }
  assert.equal(waiting.length, 0, 'everyone served');
  b.assertNoViolation('during the drain');
  report(`drain: ${WAITING} waiting visitors served in ${WAVES.length} waves in ${Date.now() - t0} ms (wave size:time ${times.join(' ')}); ` +
    `positions ${checkPositions ? 'right after every wave' : 'WRONG (see the failure)'}`);
}

/** The end state, and capacity replayed from every session's service and end times. */
async function finalChecks(b, report) {
  assert.equal(b.assignLog.length, VISITORS, 'agents got one new per visitor');
  assert.equal(b.owner.size, VISITORS, 'every session assigned once');
  assert.ok(b.visitors.every((x) => x.assigned), 'every visitor told assigned');
  assert.deepEqual(await b.dbStatusCounts(), { end: WAITING, inservice: PLACES }, 'sessions in MariaDB after the drain');
  const rows = await b.c.sql(`SELECT id, agentno, ${SQL_TIME('service_time')}, ${SQL_TIME('end_time')} FROM sessions`);
  assert.equal(rows.length, VISITORS, 'sessions in MariaDB');
  // service_time is the routing's clock when it decided (a batch may date
  // its assignments from its start), end_time the gateway's just before its
  // commit: an end counts as SKEW_MS earlier than recorded, so only a chat
  // that overlapped by more than that counts as a place held twice.
  const ms = (t) => Date.parse(`${t.replace(' ', 'T')}Z`);
  const perAgent = new Map();
  for (const [id, agentno, served, ended] of rows) {
    assert.equal(agentno, b.owner.get(id), `session ${id}: agentno in MariaDB vs the agent who got new`);
    assert.ok(served, `session ${id}: no service_time`);
    const evs = perAgent.get(agentno) || [];
    evs.push({ t: ms(served), d: 1, id, at: served });
    if (ended) evs.push({ t: ms(ended) - SKEW_MS, d: -1, id, at: ended });
    perAgent.set(agentno, evs);
  }
  let worst = 0;
  for (const [agentno, evs] of perAgent) {
    evs.sort((p, q) => p.t - q.t || p.d - q.d);
    let n = 0;
    const open = new Set();
    for (const e of evs) {
      n += e.d;
      if (e.d > 0) open.add(e.id); else open.delete(e.id);
      worst = Math.max(worst, n);
      if (n > MAXUSER) b.violate(`MariaDB times: agent ${agentno} served ${n} sessions at ${e.at}: ${[...open].join(', ')}`);
    }
  }
  b.assertNoViolation('(service and end times in MariaDB)');
  assert.deepEqual(b.transouts, [], 'no chat was transferred away (the agents never left)');
  report(`capacity: at most ${Math.max(...b.agents.map((a) => a.maxLoad))} chats per agent seen live, at most ${worst} replayed from MariaDB`);
}

/** Timings and figures go out as the test's diagnostics (TAP `# ...` lines). */
function reporter(t) {
  return (msg) => t.diagnostic(msg);
}

describe('routing burst: 400 visitors at once on 50 agents of capacity 3', { skip: skipReason() }, () => {
  let c;
  let admin;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'burst', gateways: 2, routings: 2 });
    admin = await c.guard('setup', () => adminLogin(c));
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('capacity never exceeded, nobody assigned twice, 150 served and 250 queued in order, drained FIFO', run(async (t) => {
    const report = reporter(t);
    const { agents, visitors } = await prepare(c, admin, report);
    const b = new Burst(c, agents, visitors);
    const stopPoll = b.pollCapacity();
    try {
      const queue = await runBurst(b, report);
      await runDrain(b, queue, report);
      await finalChecks(b, report);
    } finally {
      report(`MariaDB polled ${await stopPoll()} times for agents over capacity`);
    }
    b.assertNoViolation('(MariaDB polls)');
    assert.deepEqual(b.issues, [], 'wrong outcomes');
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});

describe('routing burst with failover: kill -9 the leading replica mid-burst', { skip: skipReason() }, () => {
  let c;
  let admin;
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'burstfail', gateways: 2, routings: 2 });
    admin = await c.guard('setup', () => adminLogin(c));
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  test('the standby finishes the burst: same invariants, then drains the queue FIFO', run(async (t) => {
    const report = reporter(t);
    const leaders = await leaderOf(c);
    assert.equal(leaders.length, 1, `exactly one replica leads: ${leaders.map((r) => r.id)}`);
    const [leader] = leaders;
    const standby = c.routings.find((r) => r !== leader);
    const { agents, visitors } = await prepare(c, admin, report);
    const b = new Burst(c, agents, visitors);
    const stopPoll = b.pollCapacity();
    let killedAt;
    try {
      const midway = async () => {
        const t0 = Date.now();
        await b.until(`${KILL_AFTER} visitors' new answered`, () => b.acked >= KILL_AFTER, { timeout: 30000 });
        leader.proc.expectExit = true;
        leader.proc.child.kill('SIGKILL');
        killedAt = Date.now();
        report(`killed -9 ${leader.id} ${killedAt - t0} ms into the burst, with ${b.acked} new answered and ${b.routed()} visitors told a status (${b.assignedCount()} assigned) so far`);
        while (!LEADING.test(standby.proc.log())) {
          assert.ok(Date.now() - killedAt < 20000, 'the standby never took the lease');
          await sleep(50); // a log file: no event to await
        }
        report(`takeover: ${standby.id} took the lease ${Date.now() - killedAt} ms after the kill; ${b.routed()} visitors routed by then`);
      };
      // The leader may have read commands it never acknowledged: the standby
      // claims them after the stream's claim-idle time (10 s).
      const queue = await runBurst(b, report, { midway, settleTimeout: 30000 });
      report(`failover: burst settled ${Date.now() - killedAt} ms after the kill`);
      await runDrain(b, queue, report);
      await finalChecks(b, report);
    } finally {
      report(`MariaDB polled ${await stopPoll()} times for agents over capacity`);
      const slog = standby.proc.log();
      report(`logs: ${leader.id} logged ${logCount(leader.proc.log(), 'routing: assigned')} assignments, ${standby.id} ${logCount(slog, 'routing: assigned')}; ` +
        `${standby.id} claimed ${logCount(slog, 'claimed commands left by another consumer', 'count')} commands left by ${leader.id}`);
    }
    b.assertNoViolation('(MariaDB polls)');
    assert.deepEqual(b.issues, [], 'wrong outcomes');
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
