// Shared set-up of the widget's browser tests (widget*.browser.test.mjs): Debian's chromium
// driven by playwright-core, a host site on another origin, the cluster, and helpers.
//
// A host page on another origin (http://shop.test:PORT, a tiny server here, mapped to 127.0.0.1 by
// chromium's resolver) embeds the one tag pointing at gateway A; agents are driven through the
// socket protocol (client.mjs) on gateway B. The demo site is configured through the admin REST
// API before each scenario. Screenshots go to docs/screenshots/ at the repository root.
//
// Every wait is on an event or on DOM state (playwright's waitFor / waitForFunction poll the
// page); no sleep is used to synchronise.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import nodeHttp from 'node:http';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';
import { startCluster, skipReason, freePort } from './cluster.mjs';
import { http, expectStatus, adminLogin, setStatus, brief, closeAllClients } from './client.mjs';

export const CHROMIUM = process.env.KEFU_CHROMIUM || '/usr/bin/chromium';
export const SHOTS = fileURLToPath(new URL('../../docs/screenshots/', import.meta.url));
export const HOST = 'shop.test';
export const T = 20000; // UI waits (generous: CI machines may be busy)
export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

export function browserSkip() {
  const why = skipReason();
  if (why) return why;
  if (!fs.existsSync(CHROMIUM)) {
    const msg = `no chromium at ${CHROMIUM} (apt-get install -y chromium, or set KEFU_CHROMIUM)`;
    if (process.env.KEFU_TEST_REQUIRE_SERVERS === '1') throw new Error(`e2e: ${msg}`);
    return msg;
  }
  return false;
}

// ---- a small PNG of our own (a colour gradient), so that the screenshots show a real picture

function crc32(buf) {
  let c;
  let crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

export function png(width, height, pixel) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0;
    for (let x = 0; x < width; x++) {
      const [r, g, b] = pixel(x, y);
      const o = y * (width * 3 + 1) + 1 + x * 3;
      raw[o] = r; raw[o + 1] = g; raw[o + 2] = b;
    }
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

export const VISITOR_PNG = png(160, 100, (x, y) => [55 + x, 127 + (y >> 1), 237 - (x >> 1)]);
export const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
export const AGENT_PNG = png(120, 120, (x, y) => [255 - y, 98 + (x >> 1), 111 + (y >> 1)]);

// ---- the host site

export const XSS_TITLE = '<img src=x onerror="window.__xss=1;alert(\'title\')"> Shop & <b>Co</b>';

export const HOSTILE_CSS = `
* { all: unset !important; }
html, body { display: block !important; }
body * { display: none !important; position: static !important; width: 1px !important; height: 1px !important;
  transform: scale(.3) rotate(45deg) !important; opacity: .1 !important; font-size: 64px !important; line-height: 5 !important;
  filter: blur(3px) invert(1) !important; z-index: -1 !important; visibility: hidden !important; clip-path: inset(40%) !important;
  border: 30px solid red !important; margin: 50px !important; padding: 50px !important; box-shadow: 0 0 0 100px lime !important; }
iframe, kefu-widget, div, span, button, [style] { display: none !important; pointer-events: none !important; }
body > *:last-child { inset: 0 !important; }
`;

// Scripts of a hostile page: polluted prototypes and globals the widget must not rely on (Promise is
// left alone: playwright's own evaluation in the page needs it).
export const HOSTILE_JS = `
Object.prototype.polluted = 'yes';
Array.prototype.forEach = function () { throw new Error('host broke forEach'); };
Array.prototype.map = function () { throw new Error('host broke map'); };
JSON.parse = function () { throw new Error('host broke JSON.parse'); };
JSON.stringify = function () { throw new Error('host broke JSON.stringify'); };
window.fetch = function () { throw new Error('host broke fetch'); };
window.postMessage = function () { throw new Error('host broke postMessage'); };
window.io = function () { throw new Error('host io'); };
`;

function esc(s) {
  return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);
}

/**
 * A TCP proxy in front of a gateway, whose connections the test can cut (and refuse for a while):
 * the browser's connection drops as on a network change, whatever the transport.
 */
export async function cuttableProxy(target) {
  const t = new URL(target);
  const pairs = new Set();
  const proxy = { down: false };
  const server = net.createServer((client) => {
    if (proxy.down) return client.destroy();
    const up = net.connect(Number(t.port), t.hostname);
    const pair = [client, up];
    pairs.add(pair);
    const close = () => { pairs.delete(pair); client.destroy(); up.destroy(); };
    client.on('error', close).on('close', close);
    up.on('error', close).on('close', close);
    client.pipe(up);
    up.pipe(client);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  proxy.url = `http://127.0.0.1:${port}`;
  proxy.cut = () => { for (const [a, b] of pairs) { a.destroy(); b.destroy(); } pairs.clear(); };
  proxy.close = () => { proxy.cut(); server.close(); };
  return proxy;
}

function hostPage({ gw, appid = 'demo', title = 'Shop · home', hostile = false, body = '', tag = {} }) {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body { margin: 0; font: 16px/1.5 Georgia, serif; color: #222; background: #faf7f2; }
header { background: #2d2a26; color: #fff; padding: 18px 40px; font-size: 22px; letter-spacing: .05em; }
main { max-width: 760px; margin: 40px auto; padding: 0 24px; }
.products { display: grid; grid-template-columns: repeat(3, 1fr); gap: 20px; margin-top: 24px; }
.products div { height: 140px; background: #e9e1d4; border-radius: 6px; }
</style>
${hostile ? `<style>${HOSTILE_CSS}</style><script>${HOSTILE_JS}</script>` : ''}
</head><body>
<header>Kefu Shop</header>
<main><h1>Handmade teapots</h1><p>Browse our collection. Questions? Our team is one click away.</p>
<div class="products"><div></div><div></div><div></div></div>${body}</main>
<script src="${gw}/im/${encodeURIComponent(appid)}.js"${Object.entries(tag).map(([k, v]) => ` ${k}="${esc(v)}"`).join('')} defer></script>
</body></html>`;
}

/** The widget's iframe in `page` (inside a closed shadow root: found among the page's frames), loaded. */
export async function widgetFrame(page) {
  const re = /\/im\/[^/]+\/widget$/;
  const match = (f) => { try { return re.test(new URL(f.url()).pathname); } catch { return false; } };
  let f = page.frames().find(match);
  if (!f) f = await page.waitForEvent('framenavigated', { predicate: match, timeout: T });
  await f.waitForLoadState('load', { timeout: T });
  return f;
}

/**
 * Registers the suite's before/after hooks (call it inside describe()): a 2-gateway cluster, the
 * host site and chromium. Returns the helpers; w.c, w.admin, w.gwA, w.gwB, w.hostOrigin are set
 * once the hooks ran.
 */
export function widgetSuite(suiteName) {
  let c;
  let admin;
  let gwA; // the visitor's gateway (the tag points here)
  let gwB; // the agents' gateway
  let browser;
  let hostServer;
  let hostOrigin;
  const pages = new Map(); // host page id -> options
  const run = (fn) => (t) => c.wrap(fn)(t);
  let name = suiteName;

  before(async () => {
    c = await startCluster({ name, gateways: 2 });
    [gwA, gwB] = c.gw.map((g) => g.url);
    admin = await c.guard('admin login', () => adminLogin(c));
    const port = await freePort();
    hostOrigin = `http://${HOST}:${port}`;
    hostServer = nodeHttp.createServer((req, res) => {
      const u = new URL(req.url, hostOrigin);
      const opts = pages.get(u.searchParams.get('p') || '') || {};
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(hostPage({ gw: opts.gw || gwA, ...opts }));
    });
    await new Promise((r) => hostServer.listen(port, '127.0.0.1', r));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
    });
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    hostServer?.close();
    closeAllClients();
    await c?.stop();
  });

  // ---- helpers

  /** Sets the demo site's widget config (and its allowed origin: the host site only). */
  async function configure(config) {
    expectStatus(await http(gwA, 'PUT', '/api/v1/admin/sites/demo', {
      token: admin.token, body: { name: 'Kefu Shop', origins: [hostOrigin], config },
    }), 200, 'configure the demo site');
  }

  /** A fresh visitor: a browser context of its own (its own storage), with dialogs recorded. */
  async function visitorContext(viewport = DESKTOP) {
    const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1 });
    ctx.dialogs = [];
    ctx.errors = [];
    return ctx;
  }

  let pageSeq = 0;
  /** Opens a host page in ctx; resolves with {page, frame} once the widget's iframe has loaded. */
  async function openHost(ctx, opts = {}) {
    const id = `p${++pageSeq}`;
    pages.set(id, opts);
    const page = await ctx.newPage();
    page.on('dialog', (d) => {
      ctx.dialogs.push(d.message());
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => ctx.errors.push(String(e && e.message)));
    await page.goto(`${hostOrigin}/?p=${id}`);
    const frame = await widgetFrame(page);
    return { page, frame, id };
  }

  /**
   * The visitor identity the widget keeps: in its own localStorage, or (where the browser denies
   * a third-party frame its storage, as this chromium does) in the host page's, via the loader.
   */
  async function identityOf(page, frame) {
    const inStorage = (where) => where.waitForFunction(() => localStorage.getItem('kefu:demo:identity'), null, { timeout: T })
      .then((h) => h.jsonValue());
    // The frame's own storage rejects at once where it is denied; the host page's then answers.
    const raw = await Promise.any([inStorage(frame), inStorage(page)]).catch((e) => {
      throw new Error(`the widget stored no visitor identity: ${e.errors.map((x) => x.message.split('\n')[0]).join('; ')}`);
    });
    return JSON.parse(raw);
  }

  async function box(page) {
    return page.locator('kefu-widget').boundingBox();
  }

  /** Polls the widget's box on the host page until pred(box) holds. */
  async function waitBox(page, pred, timeout = T) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const b = await box(page);
      if (b && pred(b)) return b;
      if (Date.now() > deadline) throw new Error(`widget box ${brief(b)} never satisfied ${pred}`);
      await page.waitForTimeout(50);
    }
  }

  async function waitMode(frame, mode) {
    await frame.waitForFunction((m) => document.body.getAttribute('data-mode') === m, mode, { timeout: T });
  }

  async function shot(page, name) {
    await page.screenshot({ path: SHOTS + name });
  }

  /** Waits for the session's agent to get `new` for this visitor; resolves with the summary. */
  function agentNew(a, userid, after) {
    return a.socket.waitFor('new', (s) => s && s.userid === userid, { after, timeout: T, what: `new for ${userid}` });
  }

  async function notReady(...agents) {
    for (const a of agents) await setStatus(gwA, a.token, { status: 'notready' });
  }

  async function agentUpload(a, sid, bytes, filename) {
    const form = new FormData();
    form.append('agentserviceid', sid);
    form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), filename);
    const r = await fetch(gwB + '/api/v1/uploads', { method: 'POST', body: form, headers: { authorization: `Bearer ${a.token}` } });
    const text = await r.text();
    assert.equal(r.status, 201, `agent upload: ${r.status} ${text}`);
    return JSON.parse(text);
  }

  async function imgLoaded(frame, selector) {
    await frame.waitForFunction((sel) => {
      const img = document.querySelector(sel);
      return !!img && img.complete && img.naturalWidth > 0;
    }, selector, { timeout: T });
  }

  /** Every message of the log is there once (by its server id). */
  async function assertNoDuplicates(frame) {
    const ids = await frame.$$eval('#kefu-log li[data-id]', (lis) => lis.map((li) => li.getAttribute('data-id')));
    assert.equal(new Set(ids).size, ids.length, `duplicate messages in the widget: ${ids.join(', ')}`);
    return ids;
  }

  // ---- scenarios

  /** Polls an SQL query until check(rows) holds (the rows are written asynchronously). */
  async function waitRows(sql, check, what, timeout = T) {
    const deadline = Date.now() + timeout;
    let rows;
    for (;;) {
      rows = await c.sql(sql);
      if (rows.length && check(rows)) return rows;
      if (Date.now() > deadline) throw new Error(`${what}: ${sql} → ${brief(rows)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  return {
    get c() { return c; },
    get admin() { return admin; },
    get gwA() { return gwA; },
    get gwB() { return gwB; },
    get hostOrigin() { return hostOrigin; },
    run, configure, visitorContext, openHost, widgetFrame, identityOf, box, waitBox, waitMode, shot, agentNew,
    notReady, agentUpload, imgLoaded, assertNoDuplicates, waitRows,
  };
}
