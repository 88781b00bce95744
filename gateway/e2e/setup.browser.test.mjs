// A contact centre set up from nothing, as a new operator would: a 2-gateway cluster started
// without the demo seed; `gateway admin create-tenant` makes the tenant and its first admin; then
// everything else happens in the browser at /admin/ (gateway 1): two skill groups, an agent in
// each, the tenant's time zone (Asia/Shanghai), a site bound to both groups with the skill picker
// and a pre-chat question. A visitor on a shop's page picks "Support" in the widget and reaches
// Support's agent, whose workbench is on gateway 2, with the question shown; working hours closed
// by Shanghai's clock send the next visitor to the leave-message form; five wrong passwords lock
// an account; the audit log lists every change above. Screenshots: docs/screenshots/setup-*.png.
//
// Every wait is on DOM state, an event or an answer; no sleep synchronises anything.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import { adminCli, freePort } from './cluster.mjs';
import { http, expectStatus, login } from './client.mjs';
import { browserSkip, widgetFrame, SHOTS, DESKTOP, T } from './widget-harness.mjs';
import { startSuite, stopSuite, recordedPage, adminSignIn } from './admin-harness.mjs';

const BOSS = { username: 'boss', password: 'Acme-chief-2026' };
const SUE = { username: 'sue', nickname: 'Sue (Support)', password: 'Kettle-fix-22' };
const SAM = { username: 'sam', nickname: 'Sam (Sales)', password: 'Teapots-sell-1' };
const HOST = 'shop.acme.test';

/** "HH:MM" of the clock in Asia/Shanghai, minutes from now. */
function shanghai(minutes) {
  const d = new Date(Date.now() + minutes * 60000);
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
}

describe('a fresh install, set up entirely in the browser', { skip: browserSkip() }, () => {
  let c;
  let gw1;
  let gw2;
  let browser;
  let admin; // the admin console page, signed in as BOSS
  let hostServer;
  let hostOrigin;
  let appid = '';
  const groups = {}; // name → id
  const errors = [];

  before(async () => {
    ({ c, gw1, gw2, browser } = await startSuite('setup', { seedDemo: false, browserArgs: [`--host-resolver-rules=MAP ${HOST} 127.0.0.1`] }));
    const port = await freePort();
    hostOrigin = `http://${HOST}:${port}`;
    hostServer = nodeHttp.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme shop</title></head>
<body style="font:16px Georgia,serif;background:#faf7f2"><h1>Acme teapots</h1><p>Questions? Ask us.</p>
<script src="${gw1}/im/${encodeURIComponent(appid)}.js" defer></script></body></html>`);
    });
    await new Promise((r) => hostServer.listen(port, '127.0.0.1', r));
  });

  after(async () => {
    hostServer?.close();
    await stopSuite({ c, browser });
  });

  const run = (fn) => (t) => c.wrap(fn)(t);
  const shot = (page, name) => page.screenshot({ path: SHOTS + name, fullPage: true });
  const notice = () => admin.locator('#notice');

  // Every page's errors and dialogs go to `errors`: the last test asserts there were none.
  const newPage = () => recordedPage(browser, { errors, dialogs: errors });

  test('the CLI creates the tenant and its first admin; there is no demo', run(async () => {
    assert.doesNotMatch(await adminCli(c, ['list-tenants']), /demo/);
    const out = await adminCli(c, ['create-tenant', '--id', 'acme', '--name', 'Acme 商城', '--admin', BOSS.username, '--nickname', 'The Boss', '--password-stdin'], { stdin: BOSS.password + '\n' });
    assert.match(out, /Created tenant acme/);
    assert.match(await adminCli(c, ['list-tenants']), /acme/);
    expectError(await http(gw2, 'POST', '/api/v1/auth/login', { body: { username: 'admin', password: 'whatever-1' } }), 401);
    admin = await newPage();
    await adminSignIn(admin, gw1, BOSS.username, BOSS.password);
    await admin.locator('#nav-groups').waitFor({ timeout: T });
  }));

  test('skill groups and agents through the pages', run(async () => {
    await admin.click('#nav-groups');
    for (const name of ['Sales', 'Support']) {
      await admin.click('#groups-new');
      await admin.fill('#group-name', name);
      await admin.click('#group-save');
      await admin.locator('#groups-tree .group-name', { hasText: new RegExp(`^${name}$`) }).waitFor({ timeout: T });
    }
    const token = (await login(gw1, BOSS.username, BOSS.password)).token;
    for (const g of expectStatus(await http(gw1, 'GET', '/api/v1/admin/skills', { token }), 200, 'groups')) groups[g.name] = g.id;
    assert.ok(groups.Sales && groups.Support, `groups: ${JSON.stringify(groups)}`);
    await shot(admin, 'setup-groups.png');

    await admin.click('#nav-users');
    for (const [who, group] of [[SAM, 'Sales'], [SUE, 'Support']]) {
      await admin.click('#users-new');
      await admin.fill('#user-username', who.username);
      await admin.fill('#user-nickname', who.nickname);
      await admin.fill('#user-password', 'short');
      await admin.click('#user-save');
      await admin.locator('#user-error:not([hidden])').waitFor({ timeout: T }); // the password rules
      await admin.fill('#user-password', who.password);
      await admin.locator(`#user-skills input[value="${groups[group]}"]`).check();
      await admin.click('#user-save');
      await admin.locator('#users-table tbody tr', { hasText: who.nickname }).waitFor({ timeout: T });
    }
    await shot(admin, 'setup-users.png');
  }));

  test('settings: the tenant lives in Asia/Shanghai', run(async () => {
    await admin.click('#nav-settings');
    await admin.fill('#set-timezone', 'Asia/Shanghai');
    await admin.click('#set-tenant-save');
    await admin.locator('#set-clock', { hasText: 'Asia/Shanghai' }).waitFor({ timeout: T });
    await admin.locator('#set-open-now[data-open="true"]').waitFor({ timeout: T });
  }));

  test('a site bound to both groups, with the picker and a pre-chat question', run(async () => {
    await admin.click('#nav-sites');
    await admin.click('#new-site');
    await admin.fill('#f-name', 'Acme shop');
    await admin.fill('#f-origins', hostOrigin);
    await admin.locator(`#site-skills input[data-skill="${groups.Sales}"]`).check();
    await admin.locator(`#site-skills input[data-skill="${groups.Support}"]`).check();
    await admin.fill('#f-consult-title', 'Which team do you need?');
    await admin.locator('#f-lang').selectOption('en');
    await admin.locator('#f-prechat').check();
    await admin.locator('#f-pc-memo').check();
    await admin.click('#save');
    await admin.locator('#form-ok').waitFor({ state: 'visible', timeout: T });
    const embed = await admin.locator('#embed-code').inputValue();
    const m = /\/im\/([^"/]+)\.js"/.exec(embed);
    assert.ok(m, `embed code: ${embed}`);
    appid = m[1];
    assert.deepEqual(await c.sql(`SELECT orgi, skills FROM sites WHERE appid='${appid}'`), [['acme', `${groups.Sales},${groups.Support}`]]);
    await shot(admin, 'setup-site.png');
  }));

  test('a visitor picks Support and reaches its agent on the other gateway, with the question', run(async () => {
    // Sue works on gateway 2, in the workbench.
    const wb = await newPage();
    await wb.goto(`${gw2}/agent/`);
    await wb.fill('#login-username', SUE.username);
    await wb.fill('#login-password', SUE.password);
    await wb.click('#login-submit');
    await wb.locator('#conn[data-state="connected"]').waitFor({ timeout: T });
    await wb.locator('#status-toggle[data-status]').waitFor({ timeout: T });
    if ((await wb.getAttribute('#status-toggle', 'data-status')) !== 'ready') await wb.click('#status-toggle');
    await wb.locator('#status-toggle[data-status="ready"]').waitFor({ timeout: T });

    const ctx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 });
    try {
      const shop = await ctx.newPage();
      shop.on('pageerror', (e) => errors.push(String(e && e.message)));
      await shop.goto(hostOrigin + '/');
      const frame = await widgetFrame(shop);
      await frame.locator('#kefu-launcher').click();
      await frame.locator('#kefu-picker-title', { hasText: 'Which team do you need?' }).waitFor({ timeout: T });
      await frame.locator(`#kefu-picker button[data-skill="${groups.Support}"]`).click();
      await frame.locator('#kefu-pc-memo').fill('My teapot leaks');
      await frame.locator('#kefu-prechat-submit').click();
      await frame.locator('#kefu-status', { hasText: SUE.nickname }).waitFor({ timeout: T });
      const rows = await c.sql(`SELECT s.id, s.skill, a.username FROM sessions s JOIN agents a ON a.id = s.agentno WHERE s.appid='${appid}'`);
      assert.equal(rows.length, 1, `one chat: ${JSON.stringify(rows)}`);
      const [[sid, skill, username]] = rows;
      assert.deepEqual([skill, username], [groups.Support, SUE.username], 'routed to Support, served by Sue');
      await wb.locator(`#conv-list li.conv[data-sid="${sid}"]`).click();
      await wb.locator('#chat-question', { hasText: 'My teapot leaks' }).waitFor({ timeout: T });
      await shot(wb, 'setup-workbench.png');
    } finally {
      await ctx.close();
      await wb.close();
    }
  }));

  test('off-hours by the tenant\'s clock send the next visitor to the leave-message form', run(async () => {
    await admin.click('#nav-settings');
    // Open only later today in Shanghai: closed now, whatever the machine's own zone is.
    await admin.fill('#set-workinghours', `${shanghai(120)}~${shanghai(180)}`);
    await admin.click('#set-save');
    await admin.locator('#set-open-now[data-open="false"]').waitFor({ timeout: T });
    await shot(admin, 'setup-hours.png');
    const cfg = expectStatus(await http(gw2, 'GET', `/im/${appid}/config`), 200, 'widget config');
    assert.equal(cfg.open, false, 'closed by Shanghai\'s clock');

    const ctx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1 });
    try {
      const shop = await ctx.newPage();
      await shop.goto(hostOrigin + '/');
      const frame = await widgetFrame(shop);
      await frame.locator('#kefu-launcher').click();
      await frame.locator('#kefu-leave-form').waitFor({ state: 'visible', timeout: T });
    } finally {
      await ctx.close();
    }
  }));

  test('five wrong passwords lock an account, with a clear message', run(async () => {
    const page = await newPage();
    try {
      await page.goto(`${gw2}/admin/`);
      await page.locator('#login-lang').selectOption('en');
      await page.fill('#username', SAM.username);
      for (let i = 1; i <= 5; i++) {
        await page.fill('#password', `wrong-guess-${i}`);
        await page.click('#login-form button[type=submit]');
        // Submitting hides the last message at once; the answer shows the next one.
        await page.locator('#login-error:not([hidden])').waitFor({ timeout: T });
      }
      await page.locator('#login-error', { hasText: /try again after .*\(locked\)/ }).waitFor({ timeout: T });
      // The right password is refused too while the lock lasts.
      expectError(await http(gw1, 'POST', '/api/v1/auth/login', { body: { username: SAM.username, password: SAM.password } }), 429);
      await shot(page, 'setup-lockout.png');
    } finally {
      await page.close();
    }
  }));

  test('the audit log shows every change, by whom', run(async () => {
    await admin.click('#nav-audit');
    const list = admin.locator('#audit-list');
    await list.locator('tbody tr').first().waitFor({ timeout: T });
    const text = await list.innerText();
    for (const action of ['skills.create', 'agents.create', 'tenant.update', 'sessionconfig.update', 'sites.create']) {
      assert.ok(text.includes(action), `audit log has ${action}:\n${text}`);
    }
    assert.ok(text.includes('The Boss'), 'by the admin');
    assert.ok(!text.includes(SUE.password), 'no password in the log');
    await shot(admin, 'setup-audit.png');
    assert.deepEqual(errors, [], 'no page errors or dialogs');
  }));
});

function expectError(res, status) {
  assert.equal(res.status, status, `status ${res.status}: ${JSON.stringify(res.body)}`);
}
