// The admin console's team sections in chromium (issue 11): signed in at /admin/ as the demo
// admin on gateway 1, the admin builds a skill-group tree (a parent and a child, the child's
// parent choices leaving out its own subtree), defines a custom role with rights, creates a user
// with that role and a skill, edits it, resets its password (a generated one shown once, which
// then signs in), and deletes it: its socket on gateway 2 gets `leave`, its token stops working,
// it is in no list, and its name is free again. Chinese texts checked. XSS payloads shown as
// text. Screenshots: admin-users.png, admin-groups.png, admin-roles.png.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from './cluster.mjs';
import { http, expectStatus, login, connectAgent, uid } from './client.mjs';
import { browserSkip, SHOTS, T } from './widget-harness.mjs';
import { startSuite, stopSuite, recordedPage, adminSignIn, confirmYes, noInjection } from './admin-harness.mjs';

const XSS = '<img src=x onerror="window.__xss=1">';

describe('team administration in the browser', { skip: browserSkip() }, () => {
  let c;
  let gw1;
  let gw2;
  let admin;
  let browser;
  let page;

  before(async () => {
    ({ c, gw1, gw2, admin, browser } = await startSuite('admin-team'));
    page = await recordedPage(browser);
    await adminSignIn(page, gw1, 'admin', DEMO_PASSWORD);
    await page.locator('#nav-users').waitFor({ timeout: T });
  });

  after(() => stopSuite({ c, browser }));

  const run = (fn) => (t) => c.wrap(fn)(t);
  const groupRow = (name) => page.locator('#groups-tree li.group-row', { has: page.locator('.group-name', { hasText: new RegExp(`^${name}$`) }) });
  const userRow = (username) => page.locator('#users-table tbody tr', { has: page.locator('td', { hasText: new RegExp(`^${username}$`) }) });
  const notice = () => page.locator('#notice');

  const skills = async () => expectStatus(await http(gw1, 'GET', '/api/v1/admin/skills', { token: admin.token }), 200, 'skills');

  test('skill groups: a tree, edited, members, deletion refused while it has children', run(async () => {
    await page.locator('#nav-groups').click();
    await page.locator('#groups-new').click();
    await page.locator('#group-name').fill('Pre-sales');
    await page.locator('#group-maxuser').fill('6');
    await page.locator('#group-save').click();
    await groupRow('Pre-sales').waitFor({ timeout: T });

    // A child through the row's "+ Sub-group": the parent is preset.
    await groupRow('Pre-sales').locator('[data-action="child"]').click();
    assert.equal(await page.locator('#group-parent option:checked').innerText(), 'Pre-sales');
    await page.locator('#group-name').fill('Hardware ' + XSS);
    await page.locator('#group-save').click();
    const child = groupRow(`Hardware ${XSS.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
    await child.waitFor({ timeout: T });
    assert.equal(await child.getAttribute('data-depth'), '1', 'the child is indented below its parent');
    await noInjection(page, 'a group named with markup');

    let groups = await skills();
    const parent = groups.find((g) => g.name === 'Pre-sales');
    const kid = groups.find((g) => g.name.startsWith('Hardware'));
    assert.equal(kid.parent, parent.id);
    assert.equal(parent.maxuser, 6);

    // The parent's editor does not offer its own subtree as a parent.
    await groupRow('Pre-sales').locator('[data-action="edit"]').click();
    const offered = await page.locator('#group-parent option').evaluateAll((os) => os.map((o) => o.value));
    assert.ok(!offered.includes(parent.id) && !offered.includes(kid.id), `parent choices: ${offered}`);
    await page.locator('#group-name').fill('Sales');
    await page.locator('#group-save').click();
    await groupRow('Sales').waitFor({ timeout: T });

    // Deleting a group with a child is refused, with the reason.
    await groupRow('Sales').locator('[data-action="delete"]').click();
    await confirmYes(page);
    await notice().filter({ hasText: 'child groups' }).waitFor({ timeout: T });
    assert.match(await notice().getAttribute('class'), /error/);

    // Members: the demo agent joins the child group.
    await child.locator('[data-action="members"]').click();
    await page.locator('#members-boxes label', { hasText: '(agent)' }).locator('input').check();
    await page.locator('#members-save').click();
    await child.locator('[data-members="1"]').waitFor({ timeout: T });

    // The link to the group's own routing settings.
    assert.equal(await child.locator('[data-action="settings"]').getAttribute('href'), `#/settings?skill=${encodeURIComponent(kid.id)}`);
    await page.screenshot({ path: SHOTS + 'admin-groups.png', fullPage: true });

    // A group with nothing depending on it goes.
    await page.locator('#groups-new').click();
    await page.locator('#group-name').fill('Short-lived');
    await page.locator('#group-save').click();
    await groupRow('Short-lived').locator('[data-action="delete"]').click();
    await confirmYes(page);
    await notice().filter({ hasText: 'Group deleted.' }).waitFor({ timeout: T });
    await groupRow('Short-lived').waitFor({ state: 'detached', timeout: T });
    groups = await skills();
    assert.ok(!groups.some((g) => g.name === 'Short-lived'));
  }));

  test('roles: a custom role with rights; admin is fixed', run(async () => {
    await page.locator('#nav-roles').click();
    await page.locator('#roles-table tr[data-key="admin"]').waitFor({ timeout: T });
    assert.equal(await page.locator('#roles-table tr[data-key="admin"] input[data-right="read"]').isDisabled(), true, "admin's rights are fixed");
    await page.locator('#role-name').fill('Bad Name');
    await page.locator('#role-create').click();
    await page.locator('#role-error').filter({ hasText: 'starting with a letter' }).waitFor({ timeout: T });
    await page.locator('#role-name').fill('auditor');
    await page.locator('#role-rights input[data-new-right="read"]').check();
    await page.locator('#role-create').click();
    const row = page.locator('#roles-table tr[data-key="auditor"]');
    await row.waitFor({ timeout: T });
    assert.equal(await row.locator('input[data-right="read"]').isChecked(), true);
    assert.equal(await row.locator('input[data-right="write"]').isChecked(), false);
    // A right ticked in the table is saved at once.
    await row.locator('input[data-right="write"]').check();
    await notice().filter({ hasText: 'Rights of auditor saved.' }).waitFor({ timeout: T });
    const roles = expectStatus(await http(gw1, 'GET', '/api/v1/admin/roles', { token: admin.token }), 200, 'roles');
    assert.deepEqual(roles.find((r) => r.name === 'auditor').rights, ['read', 'write']);
    await page.screenshot({ path: SHOTS + 'admin-roles.png', fullPage: true });
  }));

  test('users: create with a role and a skill, edit, reset the password, delete', run(async () => {
    const username = uid('eve').replace(/-/g, '_');
    const kid = (await skills()).find((g) => g.name.startsWith('Hardware'));
    await page.locator('#nav-users').click();
    await page.locator('#users-table').waitFor({ timeout: T });
    await page.locator('#users-new').click();
    await page.locator('#user-username').fill(username);
    await page.locator('#user-nickname').fill('Eve ' + XSS);
    // The password rules are shown and applied.
    assert.match(await page.locator('#user-form').innerText(), /At least 8 characters/);
    await page.locator('#user-password').fill('weakpass');
    await page.locator('#user-roles input[value="auditor"]').check();
    await page.locator(`#user-skills input[value="${kid.id}"]`).check();
    await page.locator('#user-maxuser').fill('3');
    await page.locator('#user-save').click();
    await page.locator('#user-error').filter({ hasText: 'a letter and a digit' }).waitFor({ timeout: T });
    const password = 'glass-orbit-4711';
    await page.locator('#user-password').fill(password);
    await page.locator('#user-save').click();
    await userRow(username).waitFor({ timeout: T });
    await noInjection(page, 'a nickname with markup');
    const row = userRow(username);
    assert.match(await row.innerText(), /auditor/);
    assert.match(await row.innerText(), /Hardware/);

    // Filters narrow the list on the server.
    await page.locator('#users-role').selectOption('auditor');
    await page.locator('#users-table tbody tr').first().waitFor({ timeout: T });
    await page.waitForFunction(() => document.querySelectorAll('#users-table tbody tr').length === 1, null, { timeout: T });
    await page.locator('#users-q').fill('no-such-user');
    await page.locator('#users-table tr.empty').waitFor({ timeout: T });
    await page.locator('#users-q').fill('');
    await page.locator('#users-role').selectOption('');
    await row.waitFor({ timeout: T });

    // Edit: nickname, capacity, roles.
    await row.locator('[data-action="edit"]').click();
    assert.equal(await page.locator('#user-username').getAttribute('readonly'), '');
    await page.locator('#user-nickname').fill('Eve Evans');
    await page.locator('#user-maxuser').fill('0');
    await page.locator('#user-roles input[value="supervisor"]').check();
    await page.screenshot({ path: SHOTS + 'admin-users.png', fullPage: true });
    await page.locator('#user-save').click();
    await notice().filter({ hasText: 'User saved.' }).waitFor({ timeout: T });
    await row.filter({ hasText: 'Eve Evans' }).waitFor({ timeout: T });
    assert.match(await row.innerText(), /inherit/);
    assert.match(await row.innerText(), /Supervisor/);

    // Reset: a generated password, shown once, that signs in; the old login ends.
    const before = await login(gw2, username, password);
    await row.locator('[data-action="reset"]').click();
    await page.locator('#reset-go').click();
    const generated = (await page.locator('#reset-generated').innerText()).trim();
    assert.equal(generated.length, 16, `generated password: ${generated}`);
    expectStatus(await http(gw2, 'GET', '/api/v1/agent/sessions', { token: before.token }), 401, 'a login from before the reset');
    const eve = await login(gw2, username, generated);
    await page.locator('#reset-close').click();

    // Delete: its socket on the other gateway gets leave, it is gone, its name is free.
    const sock = connectAgent(gw2, eve.token, { label: 'eve' });
    await sock.connected();
    const mark = sock.mark();
    await row.locator('[data-action="delete"]').click();
    await confirmYes(page);
    await notice().filter({ hasText: 'User deleted.' }).waitFor({ timeout: T });
    await sock.waitFor('leave', () => true, { after: mark, what: 'leave on delete' });
    await row.waitFor({ state: 'detached', timeout: T });
    expectStatus(await http(gw2, 'GET', '/api/v1/agent/sessions', { token: eve.token }), 401, "a deleted user's token");
    const list = expectStatus(await http(gw1, 'GET', '/api/v1/admin/agents', { token: admin.token }), 200, 'agents');
    assert.ok(!list.some((a) => a.id === eve.agent.id), 'the deleted user is in no list');
    const rows = await c.sql(`SELECT nickname, disabled, deleted_at IS NOT NULL FROM agents WHERE id='${eve.agent.id}'`);
    assert.deepEqual(rows, [['Eve Evans', '1', '1']], 'the row and its nickname stay');
    expectStatus(await http(gw1, 'POST', '/api/v1/admin/agents', { token: admin.token, body: { username, password } }), 201, 'the name is free again');

    // The admin's own row cannot be disabled or deleted.
    const mine = page.locator('#users-table tbody tr', { has: page.locator('td', { hasText: /^admin$/ }) });
    assert.equal(await mine.locator('[data-action="delete"]').isDisabled(), true);
    assert.equal(await mine.locator('[data-action="toggle"]').isDisabled(), true);
  }));

  test('the team sections in Chinese', run(async () => {
    await page.locator('#lang').selectOption('zh-CN');
    await page.locator('#nav-users', { hasText: '用户' }).waitFor({ timeout: T });
    await page.locator('#users-new', { hasText: '新建用户' }).waitFor({ timeout: T });
    await page.locator('#nav-groups').click();
    await page.locator('#groups-new', { hasText: '新建技能组' }).waitFor({ timeout: T });
    await page.locator('#nav-roles').click();
    await page.locator('#role-create', { hasText: '创建角色' }).waitFor({ timeout: T });
    assert.deepEqual(page.errors, [], 'page errors');
    await page.locator('#lang').selectOption('en');
  }));
});
