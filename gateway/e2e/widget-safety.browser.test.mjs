// The visitor widget in a real browser (see widget-harness.mjs): an agent's invite and the automatic
// one, a blacklisted visitor, XSS payloads everywhere text is shown (widget and agent workbench),
// and a host page with hostile CSS and JS.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { q } from './cluster.mjs';
import {
  uid, http, expectStatus, readyAgent, createAgent, connectAgent, setStatus, newVisitor, connectVisitor,
  openChat, brief,
} from './client.mjs';
import { browserSkip, widgetSuite, T, XSS_TITLE } from './widget-harness.mjs';

describe('the visitor widget in chromium: invites, blacklist, XSS, hostile host pages', { skip: browserSkip() }, () => {
  const w = widgetSuite('widget-safety');
  const {
    run, configure, visitorContext, openHost, widgetFrame, identityOf, box, waitBox, waitMode, shot, agentNew,
    notReady, waitRows,
  } = w;

  test('an agent invites the visitor: the popup, accept, the chat goes to that agent', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'square', color: '#377FED' }, theme: { color: '#377FED' }, lang: 'en' });
    // The inviter already serves one visitor; another agent is free: without the invite's `agent`,
    // routing (fewest chats first) would pick the other one.
    const inviter = await readyAgent(c, admin.token);
    const pv = await newVisitor(gwA);
    const pvs = connectVisitor(gwA, pv);
    await pvs.connected();
    await openChat(pvs, pv, inviter);
    const other = await readyAgent(c, admin.token);
    const ctx = await visitorContext();
    try {
      const { page, frame } = await openHost(ctx);
      await frame.locator('#kefu-launcher').waitFor({ state: 'visible', timeout: T });
      const ident = await identityOf(page, frame);
      // The visitor's socket is up (presence) before any chat: the invite reaches it.
      await waitRows(`SELECT COUNT(*) FROM visitor_traces WHERE userid=${q(ident.userid)}`, (r) => r[0][0] >= '1', 'presence (trace)');
      expectStatus(await http(gwB, 'POST', `/api/v1/visitors/demo/${ident.userid}/invite`, { token: inviter.token, body: { message: 'Hi! Can I help you choose a teapot?' } }), 200, 'invite');
      await waitMode(frame, 'invite');
      await frame.locator('#kefu-invite').getByText('Hi! Can I help you choose a teapot?').waitFor({ timeout: T });
      assert.match(await frame.locator('#kefu-invite-title').textContent(), new RegExp(inviter.nickname));
      await page.waitForFunction(() => document.querySelector('kefu-widget').getBoundingClientRect().width >= 300, null, { timeout: T });
      await shot(page, 'widget-invite.png');
      const imark = inviter.socket.mark();
      const omark = other.socket.mark();
      await frame.locator('#kefu-invite-accept').click();
      await waitMode(frame, 'open');
      const s = await agentNew(inviter, ident.userid, imark);
      assert.equal(String(s.agentno), String(inviter.agent.id), 'assigned to the inviter');
      await frame.locator('#kefu-status').getByText(inviter.nickname).waitFor({ timeout: T });
      assert.equal(other.socket.count('new', (x) => x.userid === ident.userid, omark), 0, 'not to the other agent');
      assert.deepEqual(await c.sql(`SELECT agentno FROM sessions WHERE id=${q(s.agentserviceid)}`), [[String(inviter.agent.id)]]);
    } finally {
      await ctx.close();
      pvs.close();
      await notReady(inviter, other);
    }
  }));

  test('the automatic invite after N seconds; a blacklisted visitor gets no widget', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'square', color: '#67CAFF' }, invite: { auto: 1, message: 'Need a hand finding a teapot?' }, lang: 'en' });
    const ctx = await visitorContext();
    try {
      let { page, frame } = await openHost(ctx);
      await waitMode(frame, 'invite');
      await frame.locator('#kefu-invite').getByText('Need a hand finding a teapot?').waitFor({ timeout: T });
      await frame.locator('#kefu-invite-later').click();
      await waitMode(frame, 'button');
      const ident = await identityOf(page, frame);
      expectStatus(await http(gwA, 'POST', '/api/v1/blacklist', { token: admin.token, body: { appid: 'demo', userid: ident.userid, hours: 1, reason: 'spam' } }), [200, 201], 'blacklist');
      await page.reload();
      frame = await widgetFrame(page);
      await frame.waitForFunction(() => document.body.getAttribute('data-ready') === 'blocked', null, { timeout: T });
      assert.equal(await frame.evaluate(() => document.body.getAttribute('data-mode')), 'hidden');
      const b = await box(page);
      assert.ok(!b || b.width === 0 || b.height === 0, `no visible widget: ${brief(b)}`);
      assert.equal(await page.locator('kefu-widget').evaluate((e) => getComputedStyle(e).visibility), 'hidden');
    } finally {
      await ctx.close();
    }
  }));

  test('XSS payloads in the page title, the visitor name, messages and the agent name show as text and run nothing', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ prechat: { enabled: true, fields: [{ name: 'name', required: true }] }, lang: 'en' });
    const EVIL_NICK = '<img src=x onerror="alert(\'nick\')">Eve';
    const a = await createAgent(gwA, admin.token, { nickname: EVIL_NICK });
    a.socket = connectAgent(gwB, a.token, { label: 'evil agent' });
    await a.socket.connected();
    await setStatus(gwA, a.token, { status: 'ready' });
    const EVIL_NAME = '<script>alert("name")</script><img src=x onerror=alert("name2")>';
    const EVIL_MSG = '<img src=x onerror="window.__xss=1;alert(\'msg\')"><svg onload=alert(1)>';
    const EVIL_REPLY = '<iframe src="javascript:alert(\'reply\')"></iframe><a href="javascript:alert(2)">click</a>';
    const ctx = await visitorContext();
    // The agent workbench (on gateway B) in the browser too: the visitor's data must show as text there.
    const actx = await visitorContext();
    try {
      const { page, frame } = await openHost(ctx, { title: XSS_TITLE });
      const ident = await identityOf(page, frame);
      await frame.locator('#kefu-launcher').click();
      await frame.locator('#kefu-pc-name').fill(EVIL_NAME);
      const amark = a.socket.mark();
      await frame.locator('#kefu-prechat-submit').click();
      const s = await agentNew(a, ident.userid, amark);
      assert.equal(s.name, EVIL_NAME);
      assert.equal(s.title, XSS_TITLE, 'the host title, as text');
      await frame.locator('#kefu-status').getByText(EVIL_NICK).waitFor({ timeout: T });
      await frame.locator('#kefu-text').fill(EVIL_MSG);
      await frame.locator('#kefu-text').press('Enter');
      const vm = await a.socket.waitFor('message', (m) => m.type === 'message' && m.message === EVIL_MSG, { after: amark, timeout: T });
      const r = await a.socket.emitAck('message', { agentserviceid: s.agentserviceid, type: 'message', msgtype: 'text', message: EVIL_REPLY, clientid: uid() });
      assert.ok(r.ok, brief(r));
      await frame.locator(`#kefu-log li[data-id="${r.id}"]`).waitFor({ timeout: T });
      assert.equal(await frame.locator(`#kefu-log li[data-id="${vm.id}"] .text`).textContent(), EVIL_MSG, 'own message as text');
      assert.equal(await frame.locator(`#kefu-log li[data-id="${r.id}"] .text`).textContent(), EVIL_REPLY, 'reply as text');
      assert.equal(await frame.locator(`#kefu-log li[data-id="${r.id}"] .who`).textContent(), EVIL_NICK, 'agent name as text');
      const injected = await frame.evaluate(() => document.querySelectorAll('#kefu img[src="x"], #kefu svg[onload], #kefu iframe, #kefu script, #kefu a[href^="javascript"]').length);
      assert.equal(injected, 0, 'no element made from the payloads in the widget');

      const apage = await actx.newPage();
      apage.on('dialog', (d) => { actx.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
      await apage.goto(`${gwB}/agent/`);
      await apage.locator('#login-username').fill(a.username);
      await apage.locator('#login-password').fill(a.password);
      await apage.locator('#login-submit').click();
      const item = apage.locator(`#conv-list li.conv[data-sid="${s.agentserviceid}"]`);
      await item.waitFor({ timeout: T });
      await item.click();
      await apage.locator('#chat-logs').getByText(EVIL_MSG).waitFor({ timeout: T });
      // The name from the pre-chat form, in the visitor panel's contact, as text.
      await apage.locator('#workbench').getByText(EVIL_NAME, { exact: true }).first().waitFor({ timeout: T });
      assert.ok((await apage.locator('#chat-meta').textContent()).includes(XSS_TITLE), 'the page title as text on the workbench');
      assert.equal(await apage.evaluate(() => document.querySelectorAll('#workbench img[src="x"], #workbench svg[onload], #workbench iframe, #workbench script').length), 0, 'no element from the payloads on the workbench');

      for (const [where, p] of [['host page', page], ['workbench', apage]]) {
        assert.equal(await p.evaluate(() => window.__xss), undefined, `${where}: flag set by a payload`);
      }
      assert.equal(await frame.evaluate(() => window.__xss), undefined, 'widget: flag set by a payload');
      assert.deepEqual(ctx.dialogs, [], 'no dialog on the host page or in the widget');
      assert.deepEqual(actx.dialogs, [], 'no dialog on the workbench');
    } finally {
      await ctx.close();
      await actx.close();
      await notReady(a);
      a.socket.close();
    }
  }));

  test('hostile CSS and JS on the host page change nothing in the widget', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'square', color: '#8E8E8E', text: 'Chat' }, lang: 'en', welcome: 'Welcome!' });
    const measure = async (hostile) => {
      const ctx = await visitorContext();
      try {
        const { page, frame } = await openHost(ctx, { hostile });
        await frame.locator('#kefu-launcher').waitFor({ state: 'visible', timeout: T });
        const btnBox = await waitBox(page, (b) => b.width > 0);
        // Nothing of the host page covers the button.
        const onTop = await page.evaluate(() => {
          const w = document.querySelector('kefu-widget');
          const r = w.getBoundingClientRect();
          return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === w;
        });
        const inside = await frame.evaluate(() => {
          const b = document.getElementById('kefu-launcher');
          const cs = getComputedStyle(b);
          return { bg: cs.backgroundColor, font: cs.fontSize, family: cs.fontFamily, w: b.offsetWidth, h: b.offsetHeight };
        });
        // Inside the rounded corners (the host page's own background shows there).
        const btnShot = await page.screenshot({ clip: { x: btnBox.x + 6, y: btnBox.y + 6, width: btnBox.width - 12, height: btnBox.height - 12 } });
        await frame.locator('#kefu-launcher').click();
        await waitMode(frame, 'open');
        const winBox = await waitBox(page, (b) => b.height > 300);
        const win = await frame.evaluate(() => {
          const h = document.querySelector('.head');
          const t = document.getElementById('kefu-text');
          return { head: h.getBoundingClientRect().height, headFont: getComputedStyle(document.querySelector('.title')).fontSize, textarea: t.getBoundingClientRect().width };
        });
        if (hostile) await shot(page, 'widget-hostile-host.png');
        return { btnBox, onTop, inside, btnShot, winBox, win, errors: ctx.errors, dialogs: ctx.dialogs };
      } finally {
        await ctx.close();
      }
    };
    const plain = await measure(false);
    const hostile = await measure(true);
    assert.deepEqual(hostile.btnBox, plain.btnBox, 'the button box');
    assert.equal(plain.onTop, true, 'the button is on top (plain page)');
    assert.equal(hostile.onTop, true, 'nothing of the hostile page covers the button');
    assert.deepEqual(hostile.inside, plain.inside, 'the button inside the frame');
    assert.ok(hostile.btnShot.equals(plain.btnShot), 'the button looks the same, pixel for pixel');
    assert.deepEqual(hostile.winBox, plain.winBox, 'the window box');
    assert.deepEqual(hostile.win, plain.win, 'the window inside the frame');
    assert.deepEqual(hostile.dialogs, []);
    assert.deepEqual(plain.errors, [], 'no script error on the plain page');
    assert.deepEqual(hostile.errors, [], 'no script error on the hostile page (the loader relies on nothing it broke)');
  }));
});
