// The visitor widget in a real browser (see widget-harness.mjs): a page reload mid-chat keeps the
// session, a returning visitor sees the history, a dropped connection resumes with lastseq (no gap,
// no duplicate), the leave-message form when nobody is ready and outside working hours.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { q } from './cluster.mjs';
import { uid, http, expectStatus, readyAgent, brief } from './client.mjs';
import { browserSkip, widgetSuite, T, cuttableProxy } from './widget-harness.mjs';

describe('the visitor widget in chromium: sessions across reloads and drops, nobody to answer', { skip: browserSkip() }, () => {
  const w = widgetSuite('widget-session');
  const {
    run, configure, visitorContext, openHost, widgetFrame, identityOf, waitMode, shot, agentNew, notReady,
    assertNoDuplicates,
  } = w;

  test('page reload mid-chat keeps the session (replay, no duplicates, no new session); a returning visitor sees the history', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'bar', color: '#377FED' }, lang: 'zh-CN', welcome: '您好，欢迎光临！' });
    const a = await readyAgent(c, admin.token);
    const ctx = await visitorContext();
    try {
      let { page, frame } = await openHost(ctx);
      await frame.locator('#kefu-launcher').waitFor({ state: 'visible', timeout: T });
      assert.equal(await frame.locator('.launcher-text').textContent(), '在线客服', 'zh-CN texts');
      await shot(page, 'widget-button-bar.png');
      const ident = await identityOf(page, frame);
      await frame.locator('#kefu-launcher').click();
      const amark = a.socket.mark();
      await frame.locator('#kefu-text').fill('你好');
      await frame.locator('#kefu-text').press('Enter');
      const s = await agentNew(a, ident.userid, amark);
      const sid = s.agentserviceid;
      await frame.locator('#kefu-status').getByText(a.nickname).waitFor({ timeout: T });
      const r1 = await a.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: '您好，请问有什么可以帮您？', clientid: uid() });
      await frame.locator(`#kefu-log li[data-id="${r1.id}"]`).waitFor({ timeout: T });
      await frame.locator('#kefu-text').fill('我想买茶壶');
      await frame.locator('#kefu-text').press('Enter');
      await frame.locator('#kefu-log li.msg.me.sent', { hasText: '我想买茶壶' }).waitFor({ timeout: T });
      const before = await assertNoDuplicates(frame);
      assert.equal(before.length, 3);

      // Reload: the window comes back open with the whole conversation once, in the same session.
      const newsBefore = a.socket.count('new', (x) => x.userid === ident.userid);
      await page.reload();
      frame = await widgetFrame(page);
      await waitMode(frame, 'open');
      await frame.locator(`#kefu-log li[data-id="${r1.id}"]`).waitFor({ timeout: T });
      await frame.locator('#kefu-status').getByText(a.nickname).waitFor({ timeout: T });
      await frame.waitForFunction((n) => document.querySelectorAll('#kefu-log li[data-id]').length >= n, before.length, { timeout: T });
      const after = await assertNoDuplicates(frame);
      assert.deepEqual([...after].sort(), [...before].sort(), 'the same messages after the reload');
      const m3 = a.socket.mark();
      await frame.locator('#kefu-text').fill('还在吗？');
      await frame.locator('#kefu-text').press('Enter');
      const again = await a.socket.waitFor('message', (m) => m.type === 'message' && m.message === '还在吗？', { after: m3, timeout: T });
      assert.equal(again.agentserviceid, sid, 'the same session after the reload');
      assert.equal(a.socket.count('new', (x) => x.userid === ident.userid), newsBefore, 'no second `new` to the agent');
      assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM sessions WHERE userid=${q(ident.userid)}`), [['1']], 'one session');
      await shot(page, 'widget-chat-zh.png');

      // The chat ends; the visitor leaves and comes back another day: the history is there.
      expectStatus(await http(gwB, 'POST', `/api/v1/sessions/${sid}/end`, { token: a.token }), 200, 'end');
      await frame.locator('#kefu-rating').waitFor({ state: 'visible', timeout: T });
      await frame.locator('#kefu-rating-skip').click();
      await page.close();
      ({ page, frame } = await openHost(ctx, { title: 'Shop · teapots' }));
      await frame.locator('#kefu-launcher').waitFor({ state: 'visible', timeout: T });
      await frame.locator('#kefu-launcher').click();
      await frame.locator(`#kefu-log li[data-id="${r1.id}"]`).waitFor({ timeout: T });
      await frame.locator('#kefu-log li.msg.me', { hasText: '还在吗？' }).waitFor({ timeout: T });
      const back = await assertNoDuplicates(frame);
      assert.equal(back.length, 4, 'the four messages of the earlier chat');
      assert.equal(await frame.locator('#kefu-rating').isVisible(), false, 'no second rating request for a skipped one');
    } finally {
      await ctx.close();
      await notReady(a);
    }
  }));

  test('the connection drops mid-chat: reconnect with lastseq, the missed replies once, the pending message sent once', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'circle', color: '#377FED' }, lang: 'en' });
    const a = await readyAgent(c, admin.token);
    const ctx = await visitorContext();
    // The tag points at gateway A through a proxy whose connections we cut.
    const proxy = await cuttableProxy(gwA);
    try {
      const { frame, page } = await openHost(ctx, { gw: proxy.url });
      await frame.locator('#kefu-launcher').click();
      const ident = await identityOf(page, frame);
      const amark = a.socket.mark();
      await frame.locator('#kefu-text').fill('before the drop');
      await frame.locator('#kefu-text').press('Enter');
      const s = await agentNew(a, ident.userid, amark);
      const sid = s.agentserviceid;
      await frame.locator('#kefu-status').getByText(a.nickname).waitFor({ timeout: T });
      await frame.locator('#kefu-log li.msg.me.sent', { hasText: 'before the drop' }).waitFor({ timeout: T });

      proxy.down = true;
      proxy.cut();
      await frame.locator('#kefu-subtitle').getByText('reconnecting').waitFor({ timeout: T });
      const missed = [];
      for (const text of ['missed one', 'missed two']) {
        const r = await a.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: text, clientid: uid() });
        assert.ok(r.ok, brief(r));
        missed.push(r.id);
      }
      const m2 = a.socket.mark();
      await frame.locator('#kefu-text').fill('sent while offline');
      await frame.locator('#kefu-text').press('Enter');
      await frame.locator('#kefu-log li.msg.me.sending', { hasText: 'sent while offline' }).waitFor({ timeout: T });

      proxy.down = false;
      for (const id of missed) await frame.locator(`#kefu-log li[data-id="${id}"]`).waitFor({ timeout: 30000 });
      await frame.locator('#kefu-log li.msg.me.sent', { hasText: 'sent while offline' }).waitFor({ timeout: 30000 });
      await a.socket.waitFor('message', (m) => m.type === 'message' && m.message === 'sent while offline', { after: m2, timeout: T });
      assert.equal(a.socket.count('message', (m) => m.type === 'message' && m.message === 'sent while offline', m2), 1, 'delivered once');
      assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM messages WHERE agentserviceid=${q(sid)} AND message='sent while offline'`), [['1']], 'stored once');
      await assertNoDuplicates(frame);
      assert.equal(await frame.locator('#kefu-log li.msg', { hasText: 'missed one' }).count(), 1, 'the missed reply once');
      assert.equal(a.socket.count('new', (x) => x.userid === ident.userid), 1, 'the same session: no second `new`');
    } finally {
      await ctx.close();
      proxy.close();
      await notReady(a);
    }
  }));

  test('nobody ready: the leave-message form; the message is stored', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'square', color: '#FF626F', text: 'Help' }, lang: 'en' });
    const ctx = await visitorContext();
    try {
      const { page, frame } = await openHost(ctx);
      const ident = await identityOf(page, frame);
      await frame.locator('#kefu-launcher').click();
      await frame.locator('#kefu-leave-form').waitFor({ state: 'visible', timeout: T });
      await frame.locator('#kefu-leave-submit').click();
      await frame.locator('#kefu-leave-error').waitFor({ state: 'visible', timeout: T });
      await frame.locator('#kefu-lm-name').fill('Bob Buyer');
      await frame.locator('#kefu-lm-email').fill('bob@example.com');
      await frame.locator('#kefu-lm-content').fill('Please call me back about a wholesale order.');
      await shot(page, 'widget-leave-message.png');
      await frame.locator('#kefu-leave-submit').click();
      await frame.locator('#kefu-leave-done').waitFor({ state: 'visible', timeout: T });
      assert.deepEqual(await c.sql(`SELECT name, email, content, status FROM leave_messages WHERE userid=${q(ident.userid)}`),
        [['Bob Buyer', 'bob@example.com', 'Please call me back about a wholesale order.', 'notprocess']]);

      // Back to the chat, chatting anyway while nobody is ready: the status says so and offers
      // the form again.
      await frame.locator('#kefu-leave-back').click();
      await frame.locator('#kefu-text').fill('Is anybody there?');
      await frame.locator('#kefu-text').press('Enter');
      await frame.locator('#kefu-status-leave').waitFor({ state: 'visible', timeout: T });
      assert.match(await frame.locator('#kefu-status').textContent(), /\S/, 'a status text');
      await frame.locator('#kefu-status-leave').click();
      await frame.locator('#kefu-leave-form').waitFor({ state: 'visible', timeout: T });
    } finally {
      await ctx.close();
    }
  }));

  test('outside working hours: the leave-message form says so, no chat offered', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ lang: 'en' });
    const get = expectStatus(await http(gwA, 'GET', '/api/v1/admin/sessionconfig', { token: admin.token }), 200, 'sessionconfig');
    const row = (get || []).find((r) => !r.skill) || {};
    const h = (new Date().getUTCHours() + 3) % 24; // the demo tenant's time zone is UTC
    const pad = (n) => String(n).padStart(2, '0');
    expectStatus(await http(gwA, 'PUT', '/api/v1/admin/sessionconfig', { token: admin.token, body: { ...row, skill: '', workinghours: `${pad(h)}:00~${pad((h + 1) % 24)}:00` } }), 200, 'closed now');
    const a = await readyAgent(c, admin.token); // someone is ready, but it is after hours
    const ctx = await visitorContext();
    try {
      const { frame } = await openHost(ctx);
      await frame.locator('#kefu-launcher').click();
      await frame.locator('#kefu-leave-form').waitFor({ state: 'visible', timeout: T });
      assert.match(await frame.locator('#kefu-leave-intro').textContent(), /outside our opening hours/);
      assert.equal(await frame.locator('#kefu-chat-anyway').count(), 0, 'no chat offered after hours');
    } finally {
      await ctx.close();
      expectStatus(await http(gwA, 'PUT', '/api/v1/admin/sessionconfig', { token: admin.token, body: { ...row, skill: '' } }), 200, 'restore the hours');
      await notReady(a);
    }
  }));
});
