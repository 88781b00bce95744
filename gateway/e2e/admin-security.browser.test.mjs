// Sign-in safety and the audit log in chromium, on a 2-gateway cluster: wrong passwords typed into
// the admin page's form on gw1 (one more sent to gw2: the count is the cluster's) lock the account,
// and the form says so, the right password included; the admin (another account, on gw2) unlocks
// it and makes changes; the Audit log section shows them (who, what, which, the password
// redacted, an XSS payload as text), filters them and exports the CSV; the Sign-in security
// section states the policy and lists the admin's own sessions. Screenshots:
// docs/screenshots/admin-lockout.png, admin-audit.png.
//
// Every wait is on DOM state, a download or an answer; no sleep synchronises anything.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { DEMO_PASSWORD } from './cluster.mjs';
import { http, expectStatus, createAgent, uid } from './client.mjs';
import { SHOTS, T, browserSkip } from './widget-harness.mjs';
import { startSuite, stopSuite, recordedPage, adminSignIn } from './admin-harness.mjs';

const XSS = '<img src=x onerror="window.__xss=1;alert(1)"><b>bold</b>';

describe('sign-in safety and the audit log in the browser', { skip: browserSkip() }, () => {
  let c;
  let gw1;
  let gw2;
  let admin;
  let browser;

  before(async () => {
    ({ c, gw1, gw2, admin, browser } = await startSuite('admin-security'));
  });

  after(() => stopSuite({ c, browser }));

  /** A page of its own (own storage) with dialogs and page errors recorded. */
  const newPage = () => recordedPage(browser, { acceptDownloads: true });

  /** Submits the admin sign-in form and waits for its error line to show `want`. */
  async function signInFails(page, username, password, want) {
    await page.fill('#username', username);
    await page.fill('#password', password);
    // Each answer rewrites the line; the same text twice is told apart by waiting for the answer.
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/login'), { timeout: T });
    await page.click('#login-form button[type="submit"]');
    await answered;
    await page.locator('#login-error:not([hidden])').filter({ hasText: want }).waitFor({ timeout: T });
  }

  test('wrong passwords lock the account out on every gateway; the form says so; the admin unlocks it', async (t) => c.wrap(async () => {
    const victim = await createAgent(gw1, admin.token, { nickname: 'Lockout Victim' });
    const page = await newPage();
    await page.goto(`${gw1}/admin/`);
    await page.locator('#login-form').waitFor({ timeout: T });
    for (let i = 0; i < 3; i++) await signInFails(page, victim.username, 'wrong-' + i, /wrong username or password/);
    // The fourth failure reaches the other gateway: the count is shared through the database.
    expectStatus(await http(gw2, 'POST', '/api/v1/auth/login', { body: { username: victim.username, password: 'wrong-3' } }), 401, 'fourth failure on gw2');
    await signInFails(page, victim.username, 'wrong-4', /too many failed sign-ins for this account: try again after \d{4}-\d\d-\d\d \d\d:\d\d UTC \(locked\)/);
    // The right password is refused too, on either gateway, with Retry-After.
    await signInFails(page, victim.username, victim.password, /too many failed sign-ins/);
    const locked = await http(gw2, 'POST', '/api/v1/auth/login', { body: { username: victim.username, password: victim.password } });
    expectStatus(locked, 429, 'right password while locked');
    assert.equal(locked.body?.error?.code, 'locked');
    const retry = Number(locked.headers.get('retry-after'));
    assert.ok(retry > 800 && retry <= 900, `Retry-After ${retry}`);
    await page.screenshot({ path: SHOTS + 'admin-lockout.png' });

    // The admin sees the lock and lifts it; the victim signs in again.
    const view = expectStatus(await http(gw2, 'GET', `/api/v1/admin/agents/${victim.agent.id}/logins`, { token: admin.token }), 200, 'lock state');
    assert.equal(view.lock.locked, true);
    assert.equal(view.lock.failures, 5);
    expectStatus(await http(gw2, 'DELETE', `/api/v1/admin/agents/${victim.agent.id}/lock`, { token: admin.token }), 204, 'unlock');
    expectStatus(await http(gw1, 'POST', '/api/v1/auth/login', { body: { username: victim.username, password: victim.password } }), 200, 'login after unlock');
    assert.deepEqual(page.dialogs, []);
    assert.deepEqual(page.errors, []);
  })(t));

  test('the audit log shows who changed what, redacted, filtered and exported; the security section', async (t) => c.wrap(async () => {
    // Changes by the admin, on gw2: a user with a password and an XSS nickname, a skill group, its rename.
    const username = uid('audited');
    expectStatus(await http(gw2, 'POST', '/api/v1/admin/agents', {
      token: admin.token, body: { username, password: 'Audit-Secret-42', nickname: XSS, roles: ['agent'] },
    }), 201, 'create a user');
    const group = expectStatus(await http(gw2, 'POST', '/api/v1/admin/skills', { token: admin.token, body: { name: 'Audited group' } }), 201, 'create a group');
    expectStatus(await http(gw2, 'PUT', `/api/v1/admin/skills/${group.id}`, { token: admin.token, body: { name: '售后 Audited' } }), 200, 'rename the group');

    const page = await newPage();
    await adminSignIn(page, gw1, 'admin', DEMO_PASSWORD, { lang: null });
    await page.locator('#app:not([hidden])').waitFor({ timeout: T });
    await page.click('#nav-audit');
    const rows = page.locator('#audit-table tbody tr');
    await rows.filter({ hasText: 'skills.update' }).waitFor({ timeout: T });

    const text = async (action) => (await rows.filter({ hasText: action }).first().innerText());
    const upd = await text('skills.update');
    assert.match(upd, /Admin/);
    assert.match(upd, /售后 Audited/);
    // Targets of the tenant's users and groups show their names, the id as the title.
    const target = rows.filter({ hasText: 'skills.update' }).first().locator('.audit-target');
    assert.equal(await target.getAttribute('title'), group.id);
    assert.equal(await target.innerText(), '售后 Audited');
    const created = await text('agents.create');
    assert.match(created, /"password":"\*\*\*"/);
    assert.ok(!created.includes('Audit-Secret-42'), 'the password is never shown');
    assert.ok(created.includes(XSS.replace(/"/g, '\\"')), `the nickname as text: ${created}`);
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script ran');
    assert.equal(await page.locator('#audit-table img').count(), 0, 'no element from the payload');
    // The earlier test's lockout and unlock are there too.
    await rows.filter({ hasText: 'auth.lockout' }).first().waitFor({ timeout: T });
    await rows.filter({ hasText: 'agents.lock.delete' }).first().waitFor({ timeout: T });
    await page.screenshot({ path: SHOTS + 'admin-audit.png', fullPage: true });

    // Filter: skill groups only.
    await page.selectOption('#audit-action', 'skills');
    const filtered = page.waitForResponse((r) => r.url().includes('/api/v1/admin/audit?') && r.url().includes('action=skills'), { timeout: T });
    await page.click('#audit-search');
    await filtered;
    await page.locator('#audit-table tbody tr', { hasText: 'skills.create' }).waitFor({ timeout: T });
    const actions = await page.locator('#audit-table tbody tr code.audit-action').allInnerTexts();
    assert.deepEqual(actions, ['skills.update', 'skills.create'], `filtered actions: ${actions}`);

    // Export: what the filter selects, as CSV with a BOM.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.click('#audit-export')]);
    assert.match(download.suggestedFilename(), /^kefu-audit-.*\.csv$/);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\uFEFFtime_utc,actor_id,actor,action,target,ip,detail\n'), csv.slice(0, 80));
    assert.match(csv, /skills\.update/);
    assert.match(csv, /售后 Audited/);
    assert.doesNotMatch(csv, /agents\.create/);

    // The security section: the policy in words and this page's own session among the admin's.
    await page.click('#nav-security');
    await page.locator('#lockout-policy').filter({ hasText: /After 5 failed sign-ins to one account, or 20 from one network address, within 15 minutes/ }).waitFor({ timeout: T });
    await page.locator('#logins-table tbody tr', { hasText: 'this page' }).waitFor({ timeout: T });
    assert.ok((await page.locator('#logins-table tbody tr').count()) >= 2, 'the REST login and this page');
    assert.deepEqual(page.dialogs, []);
    assert.deepEqual(page.errors, []);
  })(t));
});
