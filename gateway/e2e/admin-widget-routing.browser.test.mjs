// The widget's routing and rating settings in chromium (issue 11), on the demo cluster's two
// gateways: the admin binds the demo site to two skill groups in the site editor (gateway 1), with
// the picker's title, "show who is online" and a 3-level rating scale with its own labels and no
// comment. A visitor on the shop's page (the tag points at gateway 1) gets the picker, picks the
// second group and is served by that group's agent on gateway 2; the end brings the 3-level form
// with the site's labels, and the rating is stored. A data-skill preset on the embed tag skips the
// picker (routed to that group); a preset that is none of the site's groups shows the picker.
// Screenshots: admin-site-routing.png, widget-skill-picker.png, widget-rating-scale.png.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { q, DEMO_PASSWORD } from './cluster.mjs';
import { uid, http, expectStatus, createAgent, connectAgent, setStatus, brief } from './client.mjs';
import { browserSkip, widgetSuite, T } from './widget-harness.mjs';
import { adminSignIn } from './admin-harness.mjs';

describe('the widget\'s routing: sites bound to skill groups, the picker, presets, the rating scale', { skip: browserSkip() }, () => {
  const w = widgetSuite('admin-widget-routing');
  const { run, configure, visitorContext, openHost, identityOf, shot, agentNew, waitRows } = w;
  const groups = {}; // name -> id
  const agents = {}; // group name -> ready agent with its socket on gateway 2

  /** A skill group made through the admin API, with one ready agent whose socket is on gateway 2. */
  async function groupWithAgent(name) {
    const { admin, gwA, gwB } = w;
    const g = await http(gwA, 'POST', '/api/v1/admin/skills', { token: admin.token, body: { name } });
    expectStatus(g, 201, `create group ${name}`);
    groups[name] = g.body.id;
    const a = await createAgent(gwA, admin.token, { nickname: `${name} agent` });
    expectStatus(await http(gwA, 'PUT', `/api/v1/admin/agents/${a.agent.id}`, { token: admin.token, body: { skills: [g.body.id] } }), 200, 'join the group');
    a.socket = connectAgent(gwB, a.token, { label: `${name} agent` });
    await a.socket.connected();
    const st = await setStatus(gwA, a.token, { status: 'ready' });
    assert.equal(st.status, 'ready', `ready: ${brief(st)}`);
    agents[name] = a;
    return a;
  }

  test('the site editor binds two groups in order, the picker\'s settings and a 3-level rating scale', run(async () => {
    const { c, gwA } = w;
    await configure({ lang: 'en' }); // the shop's origin is allowed; the rest comes from the editor
    await groupWithAgent('Sales');
    await groupWithAgent('Support');
    const ctx = await visitorContext();
    try {
      const page = await ctx.newPage();
      await adminSignIn(page, gwA, 'admin', DEMO_PASSWORD);
      await page.locator('#nav-sites').click();
      await page.locator('#sites button[data-appid="demo"]').click();
      const box = (name) => page.locator(`#site-skills input[data-skill="${groups[name]}"]`);
      await box('Support').waitFor({ timeout: T });
      // Checked in this order: Sales first, Support second (the picker's order).
      await box('Sales').check();
      await box('Support').check();
      assert.deepEqual(await page.locator('#site-skills .skill-order').allTextContents(), ['1', '2'], 'the order shown');
      await page.locator('#f-consult-title').fill('Which team do you need?');
      await page.locator('#f-consult-agents').check();
      await page.locator('#f-sat-scale').selectOption('3');
      for (const [i, name] of ['Bad', 'Fine', 'Great'].entries()) await page.locator(`#f-sat-label-${i + 1}`).fill(name);
      await page.locator('#f-sat-comment').uncheck();
      // Some levels named, not all: refused in the page.
      await page.locator('#f-sat-label-2').fill('');
      await page.locator('#save').click();
      await page.locator('#form-error').waitFor({ state: 'visible', timeout: T });
      assert.match(await page.locator('#form-error').textContent(), /every level/);
      await page.locator('#f-sat-label-2').fill('Fine');
      const raw = JSON.parse(await page.locator('#raw').inputValue());
      assert.deepEqual(raw.consult, { title: 'Which team do you need?', showagents: true }, `consult in the JSON: ${brief(raw)}`);
      assert.deepEqual(raw.satisfaction, { scale: 3, comment: false, labels: ['Bad', 'Fine', 'Great'] }, `satisfaction in the JSON: ${brief(raw)}`);
      await page.locator('#save').click();
      await page.locator('#form-ok').waitFor({ state: 'visible', timeout: T });
      const rows = await c.sql(`SELECT skills FROM sites WHERE appid='demo'`);
      assert.deepEqual(rows, [[`${groups.Sales},${groups.Support}`]], 'the bound groups, in order');
      await page.setViewportSize({ width: 1280, height: 1000 });
      await page.locator('#site-routing').evaluate((el) => el.scrollIntoView({ block: 'start' }));
      await shot(page, 'admin-site-routing.png');
    } finally {
      await ctx.close();
    }
  }));

  test('the visitor picks the second group in the widget and reaches its agent on the other gateway; the 3-level rating', run(async () => {
    const { gwB } = w;
    const ctx = await visitorContext();
    try {
      const { page, frame } = await openHost(ctx);
      const ident = await identityOf(page, frame);
      await frame.locator('#kefu-launcher').click();
      const picker = frame.locator('#kefu-picker');
      await picker.waitFor({ state: 'visible', timeout: T });
      assert.equal(await frame.locator('#kefu-picker-title').textContent(), 'Which team do you need?');
      const ids = await picker.locator('button[data-skill]').evaluateAll((bs) => bs.map((b) => [b.getAttribute('data-skill'), b.getAttribute('data-online')]));
      assert.deepEqual(ids, [[groups.Sales, 'true'], [groups.Support, 'true']], 'the site\'s groups in its order, both online');
      assert.ok(await frame.locator('#kefu-composer').isHidden(), 'no composer before the pick');
      await shot(page, 'widget-skill-picker.png');

      const helper = agents.Support;
      const mark = helper.socket.mark();
      await picker.locator(`button[data-skill="${groups.Support}"]`).click();
      const summary = await agentNew(helper, ident.userid, mark);
      const sid = summary.agentserviceid;
      const [[skill, agentno]] = await waitRows(`SELECT skill, agentno FROM sessions WHERE id=${q(sid)}`, (r) => r[0][1] !== '', 'the chat assigned');
      assert.deepEqual([skill, agentno], [groups.Support, helper.agent.id], 'routed to Support\'s agent');
      await frame.locator('#kefu-status', { hasText: 'Support agent' }).waitFor({ timeout: T });

      // Chat both ways across the gateways.
      await frame.locator('#kefu-text').fill('My teapot leaks');
      await frame.locator('#kefu-text').press('Enter');
      await helper.socket.waitFor('message', (m) => m && m.agentserviceid === sid && m.message === 'My teapot leaks', { timeout: T });
      const reply = await helper.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: 'Let us fix that', clientid: uid() });
      assert.ok(reply.ok, `agent reply: ${brief(reply)}`);
      await frame.locator('#kefu-log li', { hasText: 'Let us fix that' }).waitFor({ timeout: T });

      // The end: the site's three levels with its own names, no comment field.
      expectStatus(await http(gwB, 'POST', `/api/v1/sessions/${sid}/end`, { token: helper.token }), 200, 'end');
      const rating = frame.locator('#kefu-rating');
      await rating.waitFor({ state: 'visible', timeout: T });
      assert.equal(await frame.locator('#kefu-stars input[name="level"]').count(), 3);
      assert.deepEqual(await frame.locator('#kefu-stars label').evaluateAll((ls) => ls.map((l) => l.title)), ['Bad', 'Fine', 'Great']);
      assert.ok(await frame.locator('#kefu-rating-comment').isHidden(), 'no comment field');
      await frame.locator('label[for="kefu-star-3"]').click();
      assert.equal(await frame.locator('#kefu-level-text').textContent(), 'Great');
      await shot(page, 'widget-rating-scale.png');
      await frame.locator('#kefu-rating-submit').click();
      await rating.waitFor({ state: 'hidden', timeout: T });
      await waitRows(`SELECT satis_level FROM sessions WHERE id=${q(sid)}`, (r) => r[0][0] === '3', 'rating 3 of 3 stored');
    } finally {
      await ctx.close();
    }
  }));

  test('a data-skill preset on the embed tag skips the picker; one that is none of the site\'s groups shows it', run(async () => {
    const ctx = await visitorContext();
    try {
      const { page, frame } = await openHost(ctx, { tag: { 'data-skill': groups.Sales } });
      const ident = await identityOf(page, frame);
      await frame.locator('#kefu-launcher').click();
      await frame.locator('#kefu-composer').waitFor({ state: 'visible', timeout: T });
      assert.ok(await frame.locator('#kefu-picker').isHidden(), 'no picker with a valid preset');
      const seller = agents.Sales;
      const mark = seller.socket.mark();
      await frame.locator('#kefu-text').fill('Do you ship to Lyon?');
      await frame.locator('#kefu-text').press('Enter');
      const summary = await agentNew(seller, ident.userid, mark);
      const [[skill]] = await waitRows(`SELECT skill FROM sessions WHERE id=${q(summary.agentserviceid)}`, () => true, 'the chat');
      assert.equal(skill, groups.Sales, 'routed to the preset group');
    } finally {
      await ctx.close();
    }
    const other = await visitorContext();
    try {
      const { frame } = await openHost(other, { tag: { 'data-skill': 'not-a-group-of-this-site' } });
      await frame.locator('#kefu-launcher').click();
      await frame.locator('#kefu-picker').waitFor({ state: 'visible', timeout: T });
      assert.deepEqual(other.errors, []);
    } finally {
      await other.close();
    }
  }));
});
