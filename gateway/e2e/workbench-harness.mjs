// Set-up of the workbench's browser tests (workbench.browser.test.mjs): a 2-gateway cluster,
// Debian's chromium (widget-harness.mjs), agents signing in to /agent/ on either gateway, and
// visitors as socket.io-client sockets (client.mjs) that ask for a given agent, so tests sharing
// the cluster never get each other's visitors.
//
// Each workbench page gets, before its scripts run, a recording Notification, a recording
// AudioContext (the chime) and a switch for document.visibilityState (window.__setHidden).
// Every wait is on an event or on DOM state; no sleep synchronises anything.

import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { startCluster } from './cluster.mjs';
import { http, expectStatus, adminLogin, createAgent, newVisitor, connectVisitor, setStatus, closeAllClients, brief } from './client.mjs';
import { CHROMIUM, SHOTS, DESKTOP, T } from './widget-harness.mjs';

export { browserSkip, SHOTS, T } from './widget-harness.mjs';

/** Runs in every workbench page before its own scripts. */
function pageStubs() {
  window.__notes = [];
  window.__sounds = 0;
  class RecordingNotification {
    constructor(title, opts) {
      window.__notes.push({ title: String(title), body: opts && opts.body, tag: opts && opts.tag });
    }
    close() {}
  }
  RecordingNotification.permission = 'granted';
  RecordingNotification.requestPermission = () => Promise.resolve('granted');
  window.Notification = RecordingNotification;
  const param = { setValueAtTime() {}, exponentialRampToValueAtTime() {} };
  window.AudioContext = class {
    constructor() { this.state = 'running'; this.currentTime = 0; this.destination = {}; }
    resume() { return Promise.resolve(); }
    createOscillator() {
      window.__sounds++;
      return { type: '', frequency: param, connect() {}, start() {}, stop() {} };
    }
    createGain() { return { gain: param, connect() {} }; }
  };
  let hidden = false;
  window.__setHidden = (v) => {
    hidden = !!v;
    document.dispatchEvent(new Event('visibilitychange'));
  };
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
}

/** Registers the suite's hooks (inside describe()); w.c, w.admin, w.gw1, w.gw2 are set once they ran. */
export function workbenchSuite(name) {
  let c;
  let admin;
  let gw1;
  let gw2;
  let browser;
  const contexts = new Set();

  before(async () => {
    c = await startCluster({ name, gateways: 2 });
    [gw1, gw2] = c.gw.map((g) => g.url);
    admin = await c.guard('admin login', () => adminLogin(c));
    // Drafts carry their text to agents only with sneak peek on; set through the visitors' gateway.
    expectStatus(await http(gw1, 'PUT', '/api/v1/admin/sites/demo', { token: admin.token, body: { name: 'Kefu Shop', origins: ['*'], config: { sneakpeek: true } } }), 200, 'sneak peek on');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    for (const ctx of contexts) await ctx.close().catch(() => {});
    await browser?.close().catch(() => {});
    closeAllClients();
    await c?.stop();
  });

  /** A fresh agent (admin API) with its REST login; nickname given or made up. */
  async function agent(nickname) {
    return createAgent(gw1, admin.token, { nickname });
  }

  /**
   * The workbench of `a` on gateway `gw`, in a browser context of its own (or `ctx`), signed in
   * through the form, its socket connected, and (unless ready: false) set Ready with the toggle.
   * Dialogs, page errors and CSP refusals are recorded on page.dialogs / page.errors.
   */
  async function openWorkbench(gw, a, { ready = true, ctx } = {}) {
    if (!ctx) {
      ctx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, locale: 'en-US' });
      await ctx.addInitScript(pageStubs);
      contexts.add(ctx);
    }
    const page = await ctx.newPage();
    page.dialogs = [];
    page.errors = [];
    page.on('dialog', (d) => {
      page.dialogs.push(d.message());
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => page.errors.push(String(e && e.message)));
    // A CSP refusal is logged, not thrown: count it as an error too.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) page.errors.push(m.text());
    });
    await page.goto(`${gw}/agent/`);
    await page.fill('#login-username', a.username);
    await page.fill('#login-password', a.password);
    await page.click('#login-submit');
    await page.locator('#workbench').waitFor({ state: 'visible', timeout: T });
    await page.locator('#conn[data-state="connected"]').waitFor({ timeout: T });
    if (ready) {
      await page.locator('#status-toggle[data-status]').waitFor({ timeout: T });
      if ((await page.getAttribute('#status-toggle', 'data-status')) !== 'ready') await page.click('#status-toggle');
      await page.locator('#status-toggle[data-status="ready"]').waitFor({ timeout: T });
    }
    return page;
  }

  /**
   * A visitor on gateway `gw` (a socket.io-client socket) who opens a chat asking for agent `a`.
   * query may set nickname, title, url. Resolves with {ident, v, sid}.
   */
  async function visitorChat(gw, a, { query = {}, name = 'Wb Visitor' } = {}) {
    const ident = await newVisitor(gw);
    const v = connectVisitor(gw, ident, { query: { agent: a.agent.id, ...query } });
    await v.connected();
    const mark = v.mark();
    const ack = await v.emitAck('new', { name });
    assert.ok(ack?.ok && ack.agentserviceid, `new: ${brief(ack)}`);
    const st = await v.waitFor('status', (s) => s && s.state === 'assigned', { after: mark, what: 'assigned' });
    assert.equal(String(st.agentno), String(a.agent.id), `assigned to the agent asked for: ${brief(st)}`);
    return { ident, v, sid: ack.agentserviceid };
  }

  /** Everyone of this test stops taking chats (tests share the cluster). */
  async function notReady(...agents) {
    for (const a of agents) await setStatus(gw1, a.token, { status: 'notready' });
  }

  async function shot(page, file) {
    await page.screenshot({ path: SHOTS + file });
  }

  /** The conversation's row in the list. */
  const conv = (page, sid) => page.locator(`#conv-list li.conv[data-sid="${sid}"]`);

  /** No dialog opened, no payload element exists and the marker global is unset. */
  async function assertInert(page, what) {
    assert.deepEqual(page.dialogs, [], `${what}: dialogs fired`);
    const injected = await page.evaluate(() => ({
      xss: window.__xss === undefined ? null : window.__xss,
      nodes: document.querySelectorAll('img[src="x"], img[src$="/x"], script:not([src]), svg[onload], [onerror], [onload], iframe').length,
      bold: Array.from(document.querySelectorAll('b')).length,
    }));
    assert.deepEqual(injected, { xss: null, nodes: 0, bold: 0 }, `${what}: injected markup`);
  }

  return {
    get c() { return c; },
    get admin() { return admin; },
    get gw1() { return gw1; },
    get gw2() { return gw2; },
    run: (fn) => (t) => c.wrap(fn)(t),
    agent, openWorkbench, visitorChat, notReady, shot, conv, assertInert,
  };
}
