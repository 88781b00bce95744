// Test cluster harness: a fresh MariaDB database, 2 gateway processes and 1
// routing process (from $KEFU_E2E_BIN) on free loopback ports, sharing one
// Redis and that database. Process logs go to files; a failing test prints them.
//
// Environment (deploy/testenv/servers.sh writes it; deploy/testenv/test.sh
// exports it): KEFU_E2E_BIN, KEFU_TEST_REDIS_URL, KEFU_TEST_REDIS_PORT,
// KEFU_TEST_REDIS_DIR, KEFU_TEST_MYSQL_PORT, KEFU_TEST_REQUIRE_SERVERS,
// and optionally KEFU_E2E_LOGDIR (where log directories are kept).

import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';

const execFileP = promisify(execFile);

export const DEMO_PASSWORD = 'e2e-demo-pass-0123';
export const SECRET = 'e2e-visitor-signing-secret-0123456789abcdef';

const E = process.env;

// The geoip package's test database: it puts 127.0.0.0/8, where every test
// visitor comes from, in "Testland", so visitor panels have a location.
const GEOIP_DB = fileURLToPath(new URL('../../pkg/geoip/testdata/test-city.mmdb', import.meta.url));

/** Why the e2e suite cannot run here, or null when it can. */
export function missingEnv() {
  const need = ['KEFU_E2E_BIN', 'KEFU_TEST_REDIS_URL', 'KEFU_TEST_REDIS_PORT', 'KEFU_TEST_REDIS_DIR', 'KEFU_TEST_MYSQL_PORT'];
  const missing = need.filter((k) => !E[k]);
  if (missing.length) return `missing env ${missing.join(', ')} (run: make test, or deploy/testenv/test.sh)`;
  for (const b of ['gateway', 'routing']) {
    if (!fs.existsSync(path.join(E.KEFU_E2E_BIN, b))) return `no ${b} binary in KEFU_E2E_BIN=${E.KEFU_E2E_BIN}`;
  }
  return null;
}

/**
 * skipReason() is passed as `skip` to describe()/test(): the suite skips
 * (with the reason) when the environment is missing, unless
 * KEFU_TEST_REQUIRE_SERVERS=1, where a missing environment fails instead.
 */
export function skipReason() {
  const why = missingEnv();
  if (!why) return false;
  if (E.KEFU_TEST_REQUIRE_SERVERS === '1') throw new Error(`e2e: ${why}`);
  return why;
}

// Ports freePort has handed out: the kernel may offer a just-closed port again before its first
// taker binds it (a gateway and a routing replica once got the same one, and the replica's
// /healthz then answered for the gateway that could not start).
const handedOut = new Set();

/** A loopback port nobody listens on now, never one this process was given before. */
export async function freePort() {
  for (;;) {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    const { port } = srv.address();
    await new Promise((r) => srv.close(r));
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Matches the log line of a routing replica that took the lease. */
export const LEADING = /lease: acquired, leading/;

/** The routing replicas that logged taking the lease (a log file: no event to await). */
export async function leaderOf(c, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const leaders = c.routings.filter((r) => !r.proc.exited && LEADING.test(r.proc.log()));
    if (leaders.length >= 1) return leaders;
    if (Date.now() > deadline) throw new Error('no routing replica took the lease');
    await sleep(50);
  }
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Quote a value for a MariaDB string literal. */
export function q(v) {
  return "'" + String(v).replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\0/g, '\\0') + "'";
}

function unescapeBatch(s) {
  if (s === 'NULL') return null;
  return s.replace(/\\(.)/g, (_, c) => ({ n: '\n', t: '\t', 0: '\0', '\\': '\\' })[c] ?? c);
}

async function mariadb(port, args) {
  const { stdout } = await execFileP('mariadb', ['--default-character-set=utf8mb4', '-h127.0.0.1', `-P${port}`, '-uroot', ...args], {
    maxBuffer: 64 << 20,
  });
  return stdout;
}

async function redisCli(port, ...args) {
  try {
    const { stdout } = await execFileP('redis-cli', ['-p', String(port), ...args]);
    return stdout.trim();
  } catch (e) {
    return `ERR ${e.message}`;
  }
}

// The redis-server command of deploy/testenv/servers.sh.
function redisServerArgs(port, dir, daemonize = true) {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', daemonize ? 'yes' : 'no',
    '--dir', dir, '--pidfile', path.join(dir, 'redis.pid'), '--logfile', path.join(dir, 'redis.log')];
}

async function waitFor(what, fn, { timeout = 30000, interval = 100 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (e.fatal) throw e;
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await sleep(interval);
  }
}

const live = new Set(); // every child process not yet reaped, killed on exit
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* gone */ }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => process.exit(130));
}

class Proc {
  constructor(name, bin, env, logFile) {
    this.name = name;
    this.logFile = logFile;
    const fd = fs.openSync(logFile, 'a');
    this.child = spawn(bin, [], { env, stdio: ['ignore', fd, fd] });
    fs.closeSync(fd);
    this.exited = null; // {code, signal} once it has exited
    this.expectExit = false;
    live.add(this.child);
    this.exitPromise = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        live.delete(this.child);
        this.exited = { code, signal };
        resolve(this.exited);
      });
      this.child.on('error', (err) => {
        live.delete(this.child);
        this.exited = { code: null, signal: null, error: err.message };
        resolve(this.exited);
      });
    });
  }

  log() {
    try { return fs.readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }

  async stop(timeout = 10000) {
    this.expectExit = true;
    if (this.exited) return this.exited;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => { if (!this.exited) this.child.kill('SIGKILL'); }, timeout);
    const r = await this.exitPromise;
    clearTimeout(t);
    return r;
  }
}

/**
 * startCluster({name, privateRedis}) starts a cluster and resolves once every
 * gateway answers GET /healthz 200 and routing answers its /healthz.
 *
 * privateRedis (default true): the cluster runs a Redis of its own (the same
 * redis-server command as servers.sh, on a free port, in the cluster's
 * directory). Pub/sub channels are global to a Redis server whatever the
 * database index, so two clusters on one Redis (test files running in
 * parallel) would hear each other's broadcasts; and a private Redis can be
 * restarted without disturbing anyone else. privateRedis: false uses the
 * shared $KEFU_TEST_REDIS_URL with a database index of its own, flushed.
 *
 * seedDemo (default true): the gateways seed the demo tenant, site and users;
 * false starts from an empty installation, as in production (see adminCli).
 */
export async function startCluster({ name = 'e2e', privateRedis = true, gateways = 2, routings = 1, seedDemo = true } = {}) {
  const why = missingEnv();
  if (why) throw new Error(`e2e: ${why}`);
  const c = new Cluster(name);
  try {
    await c.start({ privateRedis, gateways, routings, seedDemo });
  } catch (e) {
    c.dumpLogs(`cluster "${name}" failed to start: ${e.message}`);
    await c.stop().catch(() => {});
    throw e;
  }
  return c;
}

/**
 * Runs `gateway admin ...args` (the installation's CLI) against the cluster's
 * database and Redis, with stdin as its standard input (for --password-stdin),
 * and returns its standard output. A failure rejects with its standard error.
 */
export async function adminCli(c, args, { stdin = '' } = {}) {
  const run = execFileP(path.join(E.KEFU_E2E_BIN, 'gateway'), ['admin', ...args], {
    env: { ...process.env, KEFU_MYSQL_DSN: c.dsn, KEFU_REDIS_URL: c.redisUrl, KEFU_SECRET: SECRET },
    timeout: 60000,
  });
  // A command that fails before reading its input closes the pipe: not an error of its own.
  run.child.stdin.on('error', () => {});
  run.child.stdin.end(stdin);
  try {
    return (await run).stdout;
  } catch (e) {
    throw new Error(`gateway admin ${args.join(' ')}: exit ${e.code}: ${(e.stderr || e.message).trim()}`);
  }
}

export class Cluster {
  constructor(name) {
    this.name = name;
    const id = `${name.replace(/[^a-z0-9]/gi, '').slice(0, 16)}_${process.pid}_${randomBytes(3).toString('hex')}`;
    this.db = `kefu_e2e_${id}`.toLowerCase();
    const base = E.KEFU_E2E_LOGDIR || os.tmpdir();
    fs.mkdirSync(base, { recursive: true });
    this.dir = fs.mkdtempSync(path.join(base, `${name}-`));
    this.mysqlPort = E.KEFU_TEST_MYSQL_PORT;
    this.gw = []; // [{id, port, url, proc}]
    this.routing = null;
    this.procs = [];
    this.stopped = false;
  }

  async start({ privateRedis, gateways, routings = 1, seedDemo = true }) {
    // Redis: the shared one (a database index of our own, flushed), or a private one.
    if (privateRedis) {
      this.redisPort = await freePort();
      this.redisDir = path.join(this.dir, 'redis');
      fs.mkdirSync(this.redisDir);
      this.privateRedis = true; // set before startRedis()
      await this.startRedis();
      this.redisUrl = `redis://127.0.0.1:${this.redisPort}/0`;
    } else {
      this.redisPort = E.KEFU_TEST_REDIS_PORT;
      this.redisDir = E.KEFU_TEST_REDIS_DIR;
      const dbIndex = 1 + (process.pid % 15);
      const u = new URL(E.KEFU_TEST_REDIS_URL);
      u.pathname = `/${dbIndex}`;
      this.redisUrl = u.toString();
      await redisCli(this.redisPort, '-n', String(dbIndex), 'flushdb');
    }

    await mariadb(this.mysqlPort, ['-e', `CREATE DATABASE \`${this.db}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`]);
    this.dsn = `root@tcp(127.0.0.1:${this.mysqlPort})/${this.db}`;

    const common = {
      KEFU_REDIS_URL: this.redisUrl,
      KEFU_MYSQL_DSN: this.dsn,
      KEFU_LOG_FORMAT: 'json',
    };
    const ports = [];
    for (let i = 0; i < gateways + routings; i++) ports.push(await freePort());
    for (let i = 0; i < gateways; i++) {
      const id = `gw${i + 1}`;
      const port = ports[i];
      const url = `http://127.0.0.1:${port}`;
      const proc = this.spawn(id, 'gateway', {
        ...common,
        KEFU_ADDR: `127.0.0.1:${port}`,
        KEFU_NODE_ID: id,
        KEFU_SECRET: SECRET,
        KEFU_ROUTING: 'external',
        KEFU_SEED_DEMO: String(seedDemo),
        KEFU_DEMO_PASSWORD: DEMO_PASSWORD,
        KEFU_PUBLIC_URL: url,
        KEFU_VISITOR_RATE: '10000', // every test visitor comes from 127.0.0.1
        KEFU_DRAIN_DELAY: '100ms', // nothing balances these: no need to wait for a balancer on stop
        KEFU_GEOIP_DB: GEOIP_DB,
        KEFU_TRUST_PROXY: 'true', // as behind the shipped load balancers; a test may send X-Forwarded-For
      });
      this.gw.push({ id, port, url, proc });
    }
    this.routings = [];
    for (let i = 0; i < routings; i++) {
      const id = `rt${i + 1}`;
      const rport = ports[gateways + i];
      this.routings.push({
        id,
        port: rport,
        url: `http://127.0.0.1:${rport}`,
        // A short agent grace keeps the presence test quick.
        proc: this.spawn(id, 'routing', { ...common, KEFU_ADDR: `127.0.0.1:${rport}`, KEFU_NODE_ID: id, KEFU_AGENT_GRACE: '2s' }),
      });
    }
    this.routing = this.routings[0];
    await Promise.all([...this.gw, ...this.routings].map((n) => this.waitHealthy(n)));
  }

  spawn(id, binName, extra) {
    const env = { ...process.env, ...extra };
    const proc = new Proc(id, path.join(E.KEFU_E2E_BIN, binName), env, path.join(this.dir, `${id}.log`));
    this.procs.push(proc);
    return proc;
  }

  async waitHealthy(node, timeout = 60000) {
    await waitFor(`${node.id} GET /healthz 200`, async () => {
      if (node.proc.exited) {
        throw Object.assign(new Error(`${node.id} exited early: ${JSON.stringify(node.proc.exited)}`), { fatal: true });
      }
      const r = await fetch(`${node.url}/healthz`, { signal: AbortSignal.timeout(2000) });
      return r.status === 200;
    }, { timeout }).catch((e) => {
      throw new Error(`${node.id}: ${e.message}`);
    });
  }

  // ---- Redis ----

  async startRedis() {
    if (this.privateRedis) {
      // Our child (not daemonized), so that it dies with this process whatever happens.
      const child = spawn('redis-server', redisServerArgs(this.redisPort, this.redisDir, false), { stdio: 'ignore' });
      live.add(child);
      child.on('exit', () => live.delete(child));
      this.redisChild = child;
    } else {
      await execFileP('redis-server', redisServerArgs(this.redisPort, this.redisDir));
    }
    await waitFor(`redis on ${this.redisPort}`, async () => (await redisCli(this.redisPort, 'ping')) === 'PONG', { timeout: 20000, interval: 50 });
  }

  /**
   * Restart Redis (shutdown nosave, then the same redis-server command).
   * whileDown, if given, runs while Redis is down.
   */
  async restartRedis({ whileDown } = {}) {
    const child = this.redisChild;
    const gone = child && child.exitCode === null && child.signalCode === null ? once(child, 'exit') : null;
    await redisCli(this.redisPort, 'shutdown', 'nosave');
    if (gone) await Promise.race([gone, sleep(10000)]);
    await waitFor('redis to go down', async () => (await redisCli(this.redisPort, 'ping')) !== 'PONG', { timeout: 10000, interval: 50 });
    if (whileDown) await whileDown();
    await this.startRedis();
    this.redisRestarted = true;
  }

  // ---- MariaDB ----

  /** Run SQL in the cluster's database; returns rows as arrays of strings (null for NULL). */
  async sql(query) {
    const out = await mariadb(this.mysqlPort, ['-N', '-B', '-e', query, this.db]);
    return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t').map(unescapeBatch));
  }

  // ---- health and logs ----

  /** Problems seen so far: processes that exited unexpectedly, panics in logs. */
  problems() {
    const out = [];
    for (const p of this.procs) {
      if (p.exited && !p.expectExit) out.push(`${p.name} exited unexpectedly: ${JSON.stringify(p.exited)}`);
      const log = p.log();
      const m = log.match(/^.*\bpanic\b.*$/im);
      if (m) out.push(`${p.name} log mentions a panic: ${m[0].slice(0, 500)}`);
      if (/DATA RACE/.test(log)) out.push(`${p.name} log reports a data race`);
    }
    return out;
  }

  dumpLogs(reason, lines = 150) {
    const parts = [`\n----- ${reason}: logs of cluster "${this.name}" (${this.dir}) -----`];
    for (const p of this.procs) {
      const all = p.log().split('\n');
      parts.push(`--- ${p.name} (${p.logFile}), last ${Math.min(lines, all.length)} of ${all.length} lines ---`);
      parts.push(all.slice(-lines).join('\n'));
    }
    parts.push(`----- end of logs of "${this.name}" -----\n`);
    process.stderr.write(parts.join('\n') + '\n');
  }

  /** guard(what, fn): run fn, printing the cluster's logs when it fails (for before hooks). */
  async guard(what, fn) {
    try {
      return await fn();
    } catch (e) {
      this.dumpLogs(`${what} failed: ${e && e.message ? e.message.split('\n')[0] : e}`);
      throw e;
    }
  }

  /** wrap(fn): a test body that prints the cluster's logs when it fails. */
  wrap(fn) {
    return async (t) => {
      try {
        await fn(t);
      } catch (e) {
        this.dumpLogs(`test "${t.name}" failed: ${e && e.message ? e.message.split('\n')[0] : e}`);
        throw e;
      }
    };
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.procs.map((p) => p.stop()));
    if (this.privateRedis) {
      await redisCli(this.redisPort, 'shutdown', 'nosave');
      if (this.redisChild && this.redisChild.exitCode === null && this.redisChild.signalCode === null) this.redisChild.kill('SIGKILL');
    }
    await mariadb(this.mysqlPort, ['-e', `DROP DATABASE IF EXISTS \`${this.db}\``]).catch(() => {});
    if (!E.KEFU_E2E_LOGDIR && !E.KEFU_E2E_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
