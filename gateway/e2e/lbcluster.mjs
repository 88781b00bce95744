// A cluster behind HAProxy, started with deploy/cluster.sh (the operators'
// no-Docker script): N gateways gw1..gwN, 2 routing replicas, a private
// Redis, a database of its own on the test MariaDB ($KEFU_TEST_MYSQL_PORT),
// and HAProxy with deploy/haproxy/haproxy.cfg in front. Clients connect to
// `lbUrl`; `gw[i].url` reaches one gateway directly (metrics, health).
//
// Needs what cluster.mjs needs, plus haproxy (deploy/cluster.sh installs it
// with apt-get when running as root).

import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { DEMO_PASSWORD, SECRET, missingEnv } from './cluster.mjs';

const execFileP = promisify(execFile);
const E = process.env;
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCRIPT = path.join(ROOT, 'deploy/cluster.sh');

function onPath(cmd) {
  return (E.PATH || '').split(':').concat(['/usr/sbin', '/sbin']).some((d) => d && fs.existsSync(path.join(d, cmd)));
}

/** Why an LB cluster cannot run here, or null. */
export function lbMissing() {
  const why = missingEnv();
  if (why) return why;
  if (!onPath('haproxy') && process.getuid?.() !== 0) return 'haproxy is not installed (apt-get install haproxy, or run as root)';
  return null;
}

/** `skip` for describe(): as cluster.mjs's skipReason, for an LB cluster. */
export function lbSkipReason() {
  const why = lbMissing();
  if (!why) return false;
  if (E.KEFU_TEST_REQUIRE_SERVERS === '1') throw new Error(`e2e: ${why}`);
  return why;
}

const running = new Set(); // state dirs of clusters not stopped yet
process.on('exit', () => {
  for (const dir of running) {
    try {
      execFileSync('bash', [SCRIPT, 'stop'], { env: { ...E, KEFU_CLUSTER_DIR: dir }, stdio: 'ignore', timeout: 60000 });
    } catch { /* best effort */ }
  }
});

function parseEnvFile(text) {
  const env = {};
  for (const line of text.split('\n')) {
    const m = line.match(/^([A-Z0-9_]+)='(.*)'$/);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

/**
 * startLBCluster({name, gateways, env}) runs `deploy/cluster.sh start` and
 * resolves once HAProxy answers /readyz through a gateway. `env` adds
 * KEFU_* settings for every process.
 */
export async function startLBCluster({ name = 'lb', gateways = 2, env = {} } = {}) {
  const why = lbMissing();
  if (why) throw new Error(`e2e: ${why}`);
  const base = E.KEFU_E2E_LOGDIR || os.tmpdir();
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, `${name}-cluster-`));
  const c = new LBCluster(name, dir, env);
  running.add(dir);
  try {
    await execFileP('bash', [SCRIPT, 'start'], {
      env: {
        ...E,
        KEFU_CLUSTER_DIR: dir,
        KEFU_CLUSTER_BIN: E.KEFU_E2E_BIN,
        KEFU_CLUSTER_GATEWAYS: String(gateways),
        KEFU_SECRET: SECRET,
        KEFU_DEMO_PASSWORD: DEMO_PASSWORD,
        KEFU_LOG_FORMAT: 'json',
        KEFU_VISITOR_RATE: '10000', // every test visitor comes from 127.0.0.1
        ...env,
      },
      timeout: 300000, // includes apt-get install haproxy on a fresh machine
      maxBuffer: 16 << 20,
    });
  } catch (e) {
    process.stderr.write(`deploy/cluster.sh start failed:\n${e.stdout || ''}${e.stderr || ''}\n`);
    c.dumpLogs('cluster.sh start failed');
    await c.stop().catch(() => {});
    throw e;
  }
  c.load();
  return c;
}

export class LBCluster {
  constructor(name, dir, env = {}) {
    this.name = name;
    this.dir = dir;
    this.extraEnv = env;
    this.stopped = false;
  }

  load() {
    const env = parseEnvFile(fs.readFileSync(path.join(this.dir, 'env'), 'utf8'));
    this.env = env;
    this.lbUrl = env.KEFU_CLUSTER_LB_URL;
    this.statsUrl = env.KEFU_CLUSTER_STATS_URL;
    this.logs = env.KEFU_CLUSTER_LOGS;
    this.gw = [];
    for (let i = 1; i <= Number(env.KEFU_CLUSTER_GATEWAYS); i++) {
      this.gw.push({ id: `gw${i}`, url: env[`KEFU_CLUSTER_GW${i}_URL`], pid: Number(env[`KEFU_CLUSTER_GW${i}_PID`]) });
    }
    this.routings = [];
    for (let i = 1; env[`KEFU_CLUSTER_RT${i}_URL`]; i++) {
      this.routings.push({ id: `rt${i}`, url: env[`KEFU_CLUSTER_RT${i}_URL`], pid: Number(env[`KEFU_CLUSTER_RT${i}_PID`]) });
    }
    this.haproxyPid = Number(env.KEFU_CLUSTER_HAPROXY_PID);
  }

  /** A process's log (gw1, rt2, haproxy, redis ...), '' when there is none. */
  log(id) {
    try { return fs.readFileSync(path.join(this.dir, 'logs', `${id}.log`), 'utf8'); } catch { return ''; }
  }

  /** HAProxy's request log, one object per line: {server, sid, kefugw, cookies, method, path, status}. */
  lbRequests() {
    const out = [];
    for (const line of this.log('haproxy').split('\n')) {
      const m = line.match(/ kefu (\S+)\/(\S+) \S+ (\d+) .* sid=(\S+) kefugw=(\S+) cookies=(\S+) (\S+) (\S+)$/);
      if (!m) continue;
      out.push({ backend: m[1], server: m[2], status: Number(m[3]), sid: m[4] === '-' ? '' : m[4], kefugw: m[5] === '-' ? '' : m[5], cookies: Number(m[6]), method: m[7], path: m[8], line });
    }
    return out;
  }

  /** Problems seen in the processes' logs: panics, data races. */
  problems() {
    const out = [];
    for (const id of [...this.gw, ...this.routings].map((n) => n.id)) {
      const text = this.log(id);
      const m = text.match(/^.*\bpanic\b.*$/im);
      if (m) out.push(`${id} log mentions a panic: ${m[0].slice(0, 500)}`);
      if (/DATA RACE/.test(text)) out.push(`${id} log reports a data race`);
    }
    return out;
  }

  dumpLogs(reason, lines = 100) {
    const parts = [`\n----- ${reason}: logs of LB cluster "${this.name}" (${this.dir}) -----`];
    let files = [];
    try { files = fs.readdirSync(path.join(this.dir, 'logs')); } catch { /* none */ }
    for (const f of files.sort()) {
      const all = this.log(f.replace(/\.log$/, '')).split('\n');
      parts.push(`--- ${f}, last ${Math.min(lines, all.length)} of ${all.length} lines ---`);
      parts.push(all.slice(-lines).join('\n'));
    }
    parts.push(`----- end of logs of "${this.name}" -----\n`);
    process.stderr.write(parts.join('\n') + '\n');
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

  /** The figure of one Prometheus sample line on a gateway's /metrics (0 when absent). */
  async metric(gwIndex, name, labels = {}) {
    const r = await fetch(`${this.gw[gwIndex].url}/metrics`, { signal: AbortSignal.timeout(5000) });
    const text = await r.text();
    const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
    for (const line of text.split('\n')) {
      if (!line.startsWith(name)) continue;
      const m = line.match(/^(\w+)(?:\{(.*)\})? (\S+)$/);
      if (!m || m[1] !== name) continue;
      const have = m[2] ? m[2].split(',') : [];
      if (want.every((w) => have.includes(w))) return Number(m[3]);
    }
    return 0;
  }

  /** Whether a gateway's process still runs (an unreaped zombie does not count). */
  gatewayAlive(i) {
    try {
      const stat = fs.readFileSync(`/proc/${this.gw[i].pid}/stat`, 'utf8');
      return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
    } catch {
      return false;
    }
  }

  /**
   * restartGateway(i) starts gateway i again after it exited, as
   * deploy/cluster.sh started it (same node id, address and settings), and
   * resolves once its /readyz answers 200. `stop` stops it like the others.
   * `exited` resolves with the new process's exit code.
   */
  async restartGateway(i, { timeout = 60000 } = {}) {
    const g = this.gw[i];
    if (this.gatewayAlive(i)) throw new Error(`${g.id} is still running`);
    const env = this.env;
    const log = fs.openSync(path.join(this.dir, 'logs', `${g.id}.log`), 'a');
    const child = spawn(path.join(E.KEFU_E2E_BIN, 'gateway'), [], {
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        ...E,
        KEFU_LOG_FORMAT: 'json',
        KEFU_VISITOR_RATE: '10000',
        ...this.extraEnv,
        KEFU_REDIS_URL: env.KEFU_CLUSTER_REDIS_URL,
        KEFU_MYSQL_DSN: env.KEFU_CLUSTER_MYSQL_DSN,
        KEFU_ADDR: g.url.replace(/^http:\/\//, ''),
        KEFU_NODE_ID: g.id,
        KEFU_SECRET: env.KEFU_CLUSTER_SECRET,
        KEFU_DEMO_PASSWORD: env.KEFU_CLUSTER_DEMO_PASSWORD,
        KEFU_ROUTING: 'external',
        KEFU_PUBLIC_URL: this.lbUrl,
        KEFU_TRUST_PROXY: 'true',
      },
    });
    fs.closeSync(log);
    child.unref();
    g.pid = child.pid;
    g.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
    fs.writeFileSync(path.join(this.dir, 'pids', g.id), `${child.pid}\n`);
    const deadline = Date.now() + timeout;
    for (;;) {
      const r = await fetch(`${g.url}/readyz`, { signal: AbortSignal.timeout(2000) }).catch(() => null);
      if (r && r.status === 200) return;
      if (!this.gatewayAlive(i)) throw new Error(`${g.id} exited during restart: ${this.log(g.id).split('\n').slice(-10).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`${g.id} not ready ${timeout} ms after restart`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  /**
   * Run SQL in the cluster's database (the `mariadb` CLI); rows as arrays of
   * strings, undecoded: for simple values.
   */
  async sql(query) {
    const m = this.env.KEFU_CLUSTER_MYSQL_DSN.match(/^(\w+)@tcp\(([^:]+):(\d+)\)\/(\w+)$/);
    if (!m) throw new Error(`unexpected KEFU_CLUSTER_MYSQL_DSN ${this.env.KEFU_CLUSTER_MYSQL_DSN}`);
    const { stdout } = await execFileP('mariadb', ['--default-character-set=utf8mb4', `-h${m[2]}`, `-P${m[3]}`, `-u${m[1]}`, '-N', '-B', '-e', query, m[4]], { maxBuffer: 64 << 20 });
    return stdout.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
  }

  /** HAProxy's view of one server: "UP", "DOWN", "UP 1/2", ... ('' when not listed). */
  async lbServerStatus(server) {
    const r = await fetch(`${this.statsUrl};csv`, { signal: AbortSignal.timeout(5000) });
    for (const line of (await r.text()).split('\n')) {
      const f = line.split(',');
      if (f[0] === 'gateways' && f[1] === server) return f[17];
    }
    return '';
  }

  async stop() {
    if (this.stopped) return;
    this.stopped = true;
    const keep = E.KEFU_E2E_LOGDIR ? path.join(E.KEFU_E2E_LOGDIR, `${path.basename(this.dir)}-logs`) : '';
    await execFileP('bash', [SCRIPT, 'stop'], {
      env: { ...E, KEFU_CLUSTER_DIR: this.dir, ...(keep ? { KEFU_CLUSTER_KEEP_LOGS: keep } : {}) },
      timeout: 120000,
    });
    running.delete(this.dir);
  }
}
