// A fresh installation run from the shell and the tenants page, in chromium, on a 2-gateway
// cluster started without the demo seed: `gateway admin create-tenant --platform` makes the first
// tenant and its platform admin; the admin signs in at /admin/ on gw1, creates a tenant with its
// first admin through the page (a bad time zone refused first), renames it and moves its time
// zone, then disables it: the new tenant's agent and visitor sockets on gw2 are closed (`leave`,
// `refused`), its admin's token and sign-in are refused, its widget answers "tenant disabled";
// enabled again, its admin signs in. The CLI lists, disables and enables tenants on the running
// cluster too. Screenshots: docs/screenshots/admin-tenants.png, admin-tenants-zh.png.
//
// Every wait is on DOM state, an event or an answer; no sleep synchronises anything.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { adminCli } from './cluster.mjs';
import { http, expectStatus, login, connectAgent, connectVisitor, newVisitor, uid } from './client.mjs';
import { SHOTS, T, browserSkip } from './widget-harness.mjs';
import { startSuite, stopSuite, recordedPage, adminSignIn, confirmYes } from './admin-harness.mjs';

const ROOT_PASSWORD = 'Pl4tform-secret-pass';
const ALICE_PASSWORD = 'acme-first-pass-1';

describe('tenants: the CLI and the tenants page', { skip: browserSkip() }, () => {
  let c;
  let gw1;
  let gw2;
  let browser;

  before(async () => {
    ({ c, gw1, gw2, browser } = await startSuite('admin-tenants', { seedDemo: false }));
  });

  after(() => stopSuite({ c, browser }));

  test('the first tenant and its platform admin come from the CLI; bad input is refused', async (t) => c.wrap(async () => {
    assert.match(await adminCli(c, ['help']), /create-tenant[\s\S]*--platform[\s\S]*reset-password/);
    assert.doesNotMatch(await adminCli(c, ['list-tenants']), /demo/, 'no demo seed');
    const out = await adminCli(c, ['create-tenant', '--id', 'platform', '--name', 'Platform 平台', '--timezone', 'Asia/Shanghai', '--admin', 'root', '--password-stdin', '--platform'], { stdin: ROOT_PASSWORD + '\n' });
    assert.match(out, /Created tenant platform .*admin root \(roles admin,superadmin\)/);
    await assert.rejects(adminCli(c, ['create-tenant', '--id', 'Bad!', '--name', 'x', '--admin', 'u1']), /tenant id must be 1 to 32/);
    await assert.rejects(adminCli(c, ['create-tenant', '--id', 'platform', '--name', 'x', '--admin', 'u1']), /tenant id "platform" is taken/);
    await assert.rejects(adminCli(c, ['frobnicate']), /unknown command "frobnicate"/);
    const me = await login(gw2, 'root', ROOT_PASSWORD);
    assert.deepEqual(me.agent.roles, ['admin', 'superadmin']);
  })(t));

  test('the tenants page creates, renames and disables a tenant; its sockets close on the other gateway', async (t) => c.wrap(async () => {
    const page = await recordedPage(browser);
    await adminSignIn(page, gw1, 'root', ROOT_PASSWORD, { lang: null });
    await page.locator('#nav-tenants').click({ timeout: T });
    const row = (id) => page.locator(`#tenants-table tr[data-key="${id}"]`);
    await row('platform').waitFor({ timeout: T });
    assert.equal(await row('platform').locator('[data-action="disable"]').isDisabled(), true, 'own tenant cannot be disabled');

    // A zone the server does not know is refused with its message; then a listed one.
    await page.fill('#tenant-new-id', 'acme');
    await page.fill('#tenant-new-name', 'Acme Ltd');
    await page.selectOption('#tenant-new-tz', 'other');
    await page.fill('#tenant-new-tz-other', 'Mars/Olympus');
    await page.fill('#tenant-new-admin', 'alice');
    await page.fill('#tenant-new-nickname', 'Alice');
    await page.fill('#tenant-new-password', ALICE_PASSWORD);
    await page.click('#tenant-create');
    await page.locator('#tenant-new-error:not([hidden])').filter({ hasText: 'unknown time zone "Mars/Olympus"' }).waitFor({ timeout: T });
    await page.fill('#tenant-new-tz-other', 'Europe/Madrid');
    await page.click('#tenant-create');
    await row('acme').filter({ hasText: 'Europe/Madrid' }).waitFor({ timeout: T });
    assert.equal(await page.inputValue('#tenant-new-id'), '', 'the form is emptied');

    // Rename and move the time zone in the row's editor.
    await row('acme').locator('[data-action="edit"]').click();
    await page.fill('#tenant-edit-name', 'Acme Group 集团');
    await page.selectOption('#tenant-edit-tz', 'Asia/Shanghai');
    await page.click('#tenant-edit-save');
    await row('acme').filter({ hasText: 'Acme Group 集团' }).filter({ hasText: 'Asia/Shanghai' }).waitFor({ timeout: T });

    // The new tenant at work, on gw2: its admin signed in with a socket, a site, a visitor.
    const alice = await login(gw2, 'alice', ALICE_PASSWORD);
    assert.equal(alice.agent.orgi, 'acme');
    const site = expectStatus(await http(gw2, 'POST', '/api/v1/admin/sites', { token: alice.token, body: { name: `Acme shop ${uid('s')}`, origins: ['*'], config: {} } }), [200, 201], 'acme site');
    const agent = connectAgent(gw2, alice.token, { reconnection: false, label: 'alice' });
    const ident = await newVisitor(gw2, site.appid);
    const visitor = connectVisitor(gw2, ident, { reconnection: false, label: 'acme visitor' });
    await Promise.all([agent.connected(), visitor.connected()]);

    await row('acme').locator('[data-action="disable"]').click();
    await confirmYes(page, 'Disable Acme Group 集团 (acme)?');
    await row('acme').locator('.badge.off').filter({ hasText: 'Disabled' }).waitFor({ timeout: T });
    assert.equal((await agent.waitFor('leave')).reason, 'tenant disabled');
    assert.deepEqual(await visitor.waitFor('refused'), { code: 'forbidden', message: 'tenant disabled' });
    await Promise.all([agent.waitEvent('disconnect'), visitor.waitEvent('disconnect')]);
    await page.screenshot({ path: SHOTS + 'admin-tenants.png', fullPage: true });

    expectStatus(await http(gw1, 'GET', '/api/v1/agent/sessions', { token: alice.token }), 401, 'old token');
    const refused = await http(gw1, 'POST', '/api/v1/auth/login', { body: { username: 'alice', password: ALICE_PASSWORD } });
    expectStatus(refused, 403, 'sign-in of a disabled tenant');
    assert.equal(refused.body.error.message, 'tenant disabled');
    const widget = await http(gw1, 'GET', `/im/${site.appid}/config`);
    expectStatus(widget, 403, 'widget config');
    assert.equal(widget.body.error.message, 'tenant disabled');

    await row('acme').locator('[data-action="enable"]').click();
    await confirmYes(page);
    await row('acme').locator('.badge.on').waitFor({ timeout: T });
    await login(gw1, 'alice', ALICE_PASSWORD);

    // The page in Chinese, the row editor open.
    await page.selectOption('#lang', 'zh-CN');
    await page.locator('#nav-tenants').filter({ hasText: '租户管理' }).waitFor({ timeout: T });
    await row('acme').locator('.badge.on').filter({ hasText: '正常' }).waitFor({ timeout: T });
    await row('acme').locator('[data-action="edit"]').click();
    await page.locator('#tenant-edit-save').filter({ hasText: '保存' }).waitFor({ timeout: T });
    await page.screenshot({ path: SHOTS + 'admin-tenants-zh.png', fullPage: true });
    assert.deepEqual(page.errors, []);
    await page.close();
  })(t));

  test('the CLI disables and enables a tenant of the running cluster', async (t) => c.wrap(async () => {
    const alice = await login(gw1, 'alice', ALICE_PASSWORD);
    const agent = connectAgent(gw2, alice.token, { reconnection: false, label: 'alice (cli)' });
    await agent.connected();
    assert.match(await adminCli(c, ['disable-tenant', '--id', 'acme']), /Tenant acme \(Acme Group 集团\) is disabled\./);
    assert.equal((await agent.waitFor('leave')).reason, 'tenant disabled');
    assert.match(await adminCli(c, ['list-tenants']), /acme\s+Acme Group 集团\s+Asia\/Shanghai\s+true/);
    expectStatus(await http(gw2, 'POST', '/api/v1/auth/login', { body: { username: 'alice', password: ALICE_PASSWORD } }), 403, 'sign-in after the CLI disabled');
    assert.match(await adminCli(c, ['enable-tenant', '--id', 'acme']), /is enabled/);
    await login(gw2, 'alice', ALICE_PASSWORD);
    const reset = await adminCli(c, ['reset-password', '--username', 'alice']);
    const pw = /New password: (\S+)/.exec(reset);
    assert.ok(pw, reset);
    await login(gw1, 'alice', pw[1]);
  })(t));
});
