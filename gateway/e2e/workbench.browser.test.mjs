// The agent workbench (/agent/) in chromium against a 2-gateway cluster: agents' pages on both
// gateways, visitors as socket.io-client sockets. A new chat's notification and chime while the
// page is hidden, chat both ways with the visitor's live draft, a canned reply through `#`, a
// transfer through the dialog with a memo, rating request and end, unread counts across two tabs,
// the leave-message inbox, XSS payloads from the visitor side, the visitor panel (location when
// the gateway has a GeoIP database), sign-in/out, status and language. Screenshots go to
// docs/screenshots/workbench-*.png.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { http, expectStatus, newVisitor, connectVisitor, uid, brief } from './client.mjs';
import { workbenchSuite, browserSkip, T } from './workbench-harness.mjs';
import { AGENT_PNG } from './widget-harness.mjs';

const XSS = '<img src=x onerror="window.__xss=1;alert(1)"><b>bold</b>';

describe('agent workbench in the browser', { skip: browserSkip() }, () => {
  const w = workbenchSuite('workbench-ui');

  test('a new chat notifies while hidden; chat both ways with the draft; a canned reply through #', w.run(async () => {
    const a = await w.agent('Ada');
    const page = await w.openWorkbench(w.gw1, a);
    expectStatus(await http(w.gw1, 'POST', '/api/v1/canned', {
      token: a.token, body: { category: 'Shipping', title: 'Shipping times', content: 'We ship within 2 working days.', scope: 'private' },
    }), 201, 'canned reply');
    expectStatus(await http(w.gw1, 'POST', '/api/v1/canned', {
      token: a.token, body: { category: 'Greetings', title: 'Hello', content: 'Hello! How can I help you today?', scope: 'private' },
    }), 201, 'canned reply');

    const vip = expectStatus(await http(w.gw1, 'POST', '/api/v1/tags', { token: w.admin.token, body: { name: 'VIP', color: '#b26a00' } }), 201, 'tag');
    const ship = expectStatus(await http(w.gw1, 'POST', '/api/v1/tags', { token: w.admin.token, body: { name: 'Shipping', color: '#2f6fde' } }), 201, 'tag');

    await page.evaluate(() => window.__setHidden(true));
    const { v, sid } = await w.visitorChat(w.gw2, a, { query: { nickname: 'Lena', title: 'Teapots · Kefu Shop', url: 'https://shop.example/teapots', osname: 'macOS', browser: 'Chrome 131' } });
    await w.conv(page, sid).waitFor({ timeout: T });
    await page.waitForFunction(() => window.__notes.length > 0 && window.__sounds > 0, null, { timeout: T });
    const notes = await page.evaluate(() => window.__notes);
    assert.match(notes[0].title, /Lena/, `notification: ${brief(notes)}`);
    await page.evaluate(() => window.__setHidden(false));
    expectStatus(await http(w.gw1, 'GET', '/api/v1/agent/sessions', { token: a.token }), 200);
    assert.ok((await v.emitAck('trace', { title: 'Teapots · Kefu Shop', url: 'https://shop.example/teapots', referrer: 'https://search.example/?q=teapot' }))?.ok, 'trace');

    // Visible and not looking at this chat: a message counts as unread, no chime.
    const sounds = await page.evaluate(() => window.__sounds);
    await v.emitAck('message', { type: 'message', msgtype: 'text', message: 'Hi, do you ship to Norway?', clientid: uid() });
    await w.conv(page, sid).locator('.unread-badge', { hasText: '1' }).waitFor({ timeout: T });
    assert.equal(await page.evaluate(() => window.__sounds), sounds, 'no chime while the page is visible');

    await w.conv(page, sid).click();
    await page.locator('#chat-logs li.msg.peer', { hasText: 'do you ship to Norway' }).waitFor({ timeout: T });
    await w.conv(page, sid).locator('.unread-badge').waitFor({ state: 'detached', timeout: T });

    // The visitor's live draft.
    await v.emitAck('message', { type: 'writing', msgtype: 'text', message: 'and to Swed', clientid: uid() });
    await page.locator('#draft-line .draft-text', { hasText: 'and to Swed' }).waitFor({ timeout: T });

    // A reply (Enter sends), then a canned one through #.
    const mark = v.mark();
    await page.fill('#composer-text', 'Yes, we do!');
    await page.press('#composer-text', 'Enter');
    await v.waitFor('message', (m) => m && m.calltype === 'out' && m.message === 'Yes, we do!', { after: mark, what: 'reply' });
    await page.locator('#chat-logs li.msg.me', { hasText: 'Yes, we do!' }).locator('.state', { hasText: 'Sent' }).waitFor({ timeout: T });

    await page.click('#composer-text');
    await page.keyboard.type('#ship');
    await page.locator('#canned-suggest .suggest-item', { hasText: 'Shipping times' }).waitFor({ timeout: T });
    await page.keyboard.press('Enter');
    assert.equal(await page.inputValue('#composer-text'), 'We ship within 2 working days.');
    const mark2 = v.mark();
    await page.keyboard.press('Enter');
    await v.waitFor('message', (m) => m && m.calltype === 'out' && m.message === 'We ship within 2 working days.', { after: mark2, what: 'canned reply' });

    // A picture, uploaded then sent by attachment id.
    const mark3 = v.mark();
    await page.setInputFiles('#file-input', { name: 'teapot.png', mimeType: 'image/png', buffer: AGENT_PNG });
    const pic = await v.waitFor('message', (m) => m && m.calltype === 'out' && m.msgtype === 'image', { after: mark3, what: 'picture' });
    assert.equal(pic.filename, 'teapot.png', brief(pic));
    await page.waitForFunction(() => {
      const img = document.querySelector('#chat-logs li.msg.me img');
      return !!img && img.complete && img.naturalWidth > 0;
    }, null, { timeout: T });

    await v.emitAck('message', { type: 'message', msgtype: 'text', message: 'Great, thanks. One more question…', clientid: uid() });
    await v.emitAck('message', { type: 'writing', msgtype: 'text', message: 'Do you gift-wrap the tea', clientid: uid() });
    await page.locator('#draft-line .draft-text', { hasText: 'gift-wrap' }).waitFor({ timeout: T });
    await w.shot(page, 'workbench-chat.png');

    await page.click('button[data-side="canned"]');
    await page.locator('#canned-list .canned-item', { hasText: 'Shipping times' }).waitFor({ timeout: T });
    await page.click('#canned-new');
    await page.fill('#canned-category', 'Returns');
    await page.fill('#canned-title', 'Return policy');
    await page.fill('#canned-content', 'You can return any item within 30 days.');
    await page.click('#canned-dialog-submit');
    await page.locator('#canned-list .canned-item', { hasText: 'Return policy' }).waitFor({ timeout: T });
    await w.shot(page, 'workbench-canned.png');

    // The visitor panel: the page trail, a tag toggled on, the service summary.
    await page.click('button[data-side="visitor"]');
    await page.locator('#visitor-trail a', { hasText: 'Teapots · Kefu Shop' }).waitFor({ timeout: T });
    await page.click(`#visitor-tags .chip[data-id="${ship.id}"]`);
    await page.locator(`#visitor-tags .chip[data-id="${ship.id}"][aria-pressed="true"]`).waitFor({ timeout: T });
    await page.fill('#visitor-summary', 'Asked about shipping to Norway and Sweden; gift wrap.');
    await page.click('#summary-save');
    await page.locator('#toast', { hasText: 'Summary saved' }).waitFor({ timeout: T });
    const panel = expectStatus(await http(w.gw1, 'GET', `/api/v1/sessions/${sid}/visitor`, { token: a.token }), 200, 'panel');
    assert.deepEqual({ tags: panel.tags, summary: panel.summary }, { tags: [ship.id], summary: 'Asked about shipping to Norway and Sweden; gift wrap.' });
    assert.equal(await page.locator(`#visitor-tags .chip[data-id="${vip.id}"]`).getAttribute('aria-pressed'), 'false');
    await page.locator('#toast').waitFor({ state: 'hidden', timeout: T });
    await w.shot(page, 'workbench-visitor.png');
    assert.deepEqual(page.errors, [], 'page errors');
    await w.notReady(a);
  }));

  test('transfer to an agent on the other gateway through the dialog, with a memo; rating request; end', w.run(async () => {
    const a = await w.agent('Ada Transfer');
    const b = await w.agent('Bert');
    const pa = await w.openWorkbench(w.gw1, a);
    const pb = await w.openWorkbench(w.gw2, b);
    const { v, sid } = await w.visitorChat(w.gw1, a, { query: { nickname: 'Mika' } });
    await w.conv(pa, sid).click();
    await v.emitAck('message', { type: 'message', msgtype: 'text', message: 'My order #1042 has not arrived.', clientid: uid() });
    await pa.locator('#chat-logs li.msg.peer', { hasText: 'order #1042' }).waitFor({ timeout: T });
    await pa.fill('#composer-text', 'Let me hand you to our shipping expert.');
    await pa.press('#composer-text', 'Enter');
    await pa.locator('#chat-logs li.msg.me', { hasText: 'shipping expert' }).locator('.state', { hasText: 'Sent' }).waitFor({ timeout: T });

    await pa.click('#act-transfer');
    const choice = pa.locator(`#transfer-agents input[data-agent="${b.agent.id}"]`);
    await choice.waitFor({ timeout: T });
    const label = pa.locator('#transfer-agents label.agent-choice', { has: pa.locator(`input[data-agent="${b.agent.id}"]`) });
    assert.match(await label.innerText(), /Bert[\s\S]*Ready[\s\S]*0\/100/, 'the agent list shows status and load');
    await choice.check();
    await pa.fill('#transfer-memo', 'Order 1042 lost in transit; VIP customer');
    await w.shot(pa, 'workbench-transfer.png');
    const vmark = v.mark();
    await pa.click('#transfer-dialog-submit');
    await w.conv(pa, sid).waitFor({ state: 'detached', timeout: T });
    await v.waitFor('status', (s) => s && s.state === 'assigned' && String(s.agentno) === String(b.agent.id), { after: vmark, what: 'assigned to Bert' });

    await w.conv(pb, sid).click();
    await pb.locator('#chat-memo', { hasText: 'Order 1042 lost in transit; VIP customer' }).waitFor({ timeout: T });
    await pb.locator('#chat-logs li.msg.peer', { hasText: 'order #1042' }).waitFor({ timeout: T });
    await pb.locator('#chat-logs li.msg.me', { hasText: 'shipping expert' }).waitFor({ timeout: T });

    const rmark = v.mark();
    await pb.click('#act-rating');
    await v.waitFor('status', (s) => s && s.state === 'rating' && s.agentserviceid === sid, { after: rmark, what: 'rating request' });

    const emark = v.mark();
    await pb.click('#act-end');
    await pb.click('#end-dialog-submit');
    await v.waitFor('status', (s) => s && s.state === 'ended', { after: emark, what: 'ended' });
    await w.conv(pb, sid).locator('.tag-ended').waitFor({ timeout: T });
    await pb.locator('#chat-ended').waitFor({ state: 'visible', timeout: T });
    assert.equal(await pb.locator('#composer').isVisible(), false, 'no composer on an ended chat');
    // A reload keeps the ended chat (from the server), with its latest message as the preview...
    await pb.reload();
    await w.conv(pb, sid).locator('.tag-ended').waitFor({ timeout: T });
    assert.notEqual((await w.conv(pb, sid).locator('.conv-preview').textContent()).trim(), '', 'a preview after the reload');
    const clearedAt = new Date().toISOString();
    await pb.click('#clear-ended');
    await w.conv(pb, sid).waitFor({ state: 'detached', timeout: T });
    // ...until it is cleared: then a reload asks only for chats ended since (the API test checks the filter).
    const listed = pb.waitForResponse((r) => r.url().includes('/api/v1/agent/sessions'), { timeout: T });
    await pb.reload();
    const res = await listed;
    assert.equal(res.status(), 200, 'the list loaded');
    const since = new URL(res.url()).searchParams.get('ended') || '';
    assert.ok(since >= clearedAt, `ended since ${since}, cleared at ${clearedAt}`);
    assert.ok(!(await res.json()).some((x) => x.agentserviceid === sid), 'the cleared chat is not in the answer');

    // The visitor comes back: the panel lists the earlier chat, whose transcript opens.
    await w.notReady(a);
    const again = await v.emitAck('new', { name: 'Mika', agent: b.agent.id });
    assert.ok(again?.ok && again.agentserviceid !== sid, `a second chat: ${brief(again)}`);
    await w.conv(pb, again.agentserviceid).click();
    await pb.locator('#visitor-previous button').first().click();
    await pb.locator('#transcript-log li.msg.peer', { hasText: 'order #1042' }).waitFor({ timeout: T });
    await pb.locator('#transcript-log li.msg.me', { hasText: 'shipping expert' }).waitFor({ timeout: T });
    await pb.keyboard.press('Escape');
    await pb.locator('#transcript-dialog').waitFor({ state: 'detached', timeout: T });
    assert.deepEqual([...pa.errors, ...pb.errors], [], 'page errors');
    await w.notReady(a, b);
  }));

  test('unread counts agree across two tabs of one agent; reading in one clears the other', w.run(async () => {
    const a = await w.agent('Cleo');
    const tab1 = await w.openWorkbench(w.gw1, a);
    const tab2 = await w.openWorkbench(w.gw2, a, { ready: false });
    const { v, sid } = await w.visitorChat(w.gw1, a, { query: { nickname: 'Noor' } });
    for (const tab of [tab1, tab2]) await w.conv(tab, sid).waitFor({ timeout: T });
    for (const text of ['one', 'two', 'three']) await v.emitAck('message', { type: 'message', msgtype: 'text', message: text, clientid: uid() });
    for (const tab of [tab1, tab2]) {
      await w.conv(tab, sid).locator('.unread-badge', { hasText: '3' }).waitFor({ timeout: T });
      await tab.locator('#chats-badge', { hasText: '3' }).waitFor({ timeout: T });
    }
    await w.conv(tab1, sid).click();
    await tab1.locator('#chat-logs li.msg.peer', { hasText: 'three' }).waitFor({ timeout: T });
    await w.conv(tab2, sid).locator('.unread-badge').waitFor({ state: 'detached', timeout: T });
    await tab2.locator('#chats-badge').waitFor({ state: 'hidden', timeout: T });
    const list = expectStatus(await http(w.gw1, 'GET', '/api/v1/agent/sessions', { token: a.token }), 200, 'sessions');
    assert.equal(list.find((s) => s.agentserviceid === sid)?.unread, 0, `the server agrees: ${brief(list)}`);
    // Tab 1 hidden reads nothing; a reload of tab 2 keeps the sign-in and shows the server's count.
    await tab1.evaluate(() => window.__setHidden(true));
    await v.emitAck('message', { type: 'message', msgtype: 'text', message: 'four', clientid: uid() });
    await w.conv(tab2, sid).locator('.unread-badge', { hasText: '1' }).waitFor({ timeout: T });
    await tab2.reload();
    await w.conv(tab2, sid).locator('.unread-badge', { hasText: '1' }).waitFor({ timeout: T });

    // More chats for the list: one with unread messages and a draft, one ended.
    const p2 = await w.visitorChat(w.gw2, a, { query: { nickname: 'Priya', title: 'Blue teapot · Kefu Shop' } });
    await p2.v.emitAck('message', { type: 'message', msgtype: 'text', message: 'Is the blue teapot back in stock?', clientid: uid() });
    await p2.v.emitAck('message', { type: 'message', msgtype: 'text', message: 'I would need two of them.', clientid: uid() });
    const p3 = await w.visitorChat(w.gw2, a, { query: { nickname: 'Tomás' } });
    await p3.v.emitAck('message', { type: 'message', msgtype: 'text', message: 'Thanks, that was all!', clientid: uid() });
    expectStatus(await http(w.gw1, 'POST', `/api/v1/sessions/${p3.sid}/end`, { token: a.token }), 200, 'end');
    await tab1.evaluate(() => window.__setHidden(false));
    await w.conv(tab1, p3.sid).locator('.tag-ended').waitFor({ timeout: T });
    await w.conv(tab1, p2.sid).locator('.unread-badge', { hasText: '2' }).waitFor({ timeout: T });
    await tab1.fill('#composer-text', 'Anything else I can help with?');
    await w.shot(tab1, 'workbench-list.png');
    await tab1.keyboard.press('Alt+ArrowUp');
    await tab1.locator('#chat-name', { hasText: 'Priya' }).waitFor({ timeout: T });
    await tab1.keyboard.press('Alt+ArrowDown');
    await tab1.locator('#chat-name', { hasText: 'Noor' }).waitFor({ timeout: T });

    // Block the visitor for 2 hours: the chat ends and their socket is refused.
    const vmark = v.mark();
    await tab1.click('#act-block');
    await tab1.fill('#block-hours', '2');
    await tab1.fill('#block-reason', 'spam');
    await tab1.click('#block-dialog-submit');
    await v.waitFor('refused', (e) => e && e.code === 'forbidden', { after: vmark, what: 'refused' });
    await w.conv(tab1, sid).locator('.tag-ended').waitFor({ timeout: T });
    const blocks = expectStatus(await http(w.gw1, 'GET', '/api/v1/blacklist', { token: a.token }), 200, 'blacklist');
    const entry = blocks.items.find((x) => x.userid === v.query.userid);
    assert.ok(entry && entry.reason === 'spam', `blacklisted: ${brief(blocks)}`);
    const hours = (Date.parse(entry.until) - Date.now()) / 3600e3;
    assert.ok(hours > 1.9 && hours <= 2, `for 2 hours: ${entry.until}`);
    assert.deepEqual([...tab1.errors, ...tab2.errors], [], 'page errors');
    await w.notReady(a);
  }));

  test('a left message appears in the inbox live, notifies, and is handled with a note', w.run(async () => {
    const a = await w.agent('Dana');
    const page = await w.openWorkbench(w.gw2, a, { ready: false });
    await page.click('button[data-tab="inbox"]');
    await page.locator('#inbox-list').waitFor({ timeout: T });
    await page.evaluate(() => window.__setHidden(true));
    const ident = await newVisitor(w.gw1);
    const name = 'Olga Berg';
    const left = expectStatus(await http(w.gw1, 'POST', '/im/demo/leavemsg', {
      body: { userid: ident.userid, sign: ident.sign, name, phone: '+44 20 7946 0000', email: 'olga@example.com', content: 'Please call me back about a wholesale order of 40 teapots.' },
    }), 201, 'leave a message');
    const item = page.locator(`#inbox-list li[data-id="${left.id}"]`);
    await item.waitFor({ timeout: T });
    await page.waitForFunction((n) => window.__notes.some((x) => x.title.includes(n)), name, { timeout: T });
    await page.evaluate(() => window.__setHidden(false));
    await page.locator('#inbox-badge:not([hidden])').waitFor({ timeout: T });
    await item.click();
    await page.locator('#inbox-content', { hasText: 'wholesale order of 40 teapots' }).waitFor({ timeout: T });
    await page.fill('#inbox-note', 'Called back, sent a quote by email.');
    await w.shot(page, 'workbench-inbox.png');
    await page.click('#inbox-handle');
    await item.waitFor({ state: 'detached', timeout: T });
    const done = expectStatus(await http(w.gw1, 'GET', '/api/v1/leavemsgs?status=processed', { token: a.token }), 200, 'processed');
    const row = done.find((m) => m.id === left.id);
    assert.deepEqual({ status: row?.status, note: row?.note }, { status: 'processed', note: 'Called back, sent a quote by email.' }, brief(row));
    await page.click('button[data-filter="processed"]');
    await page.locator(`#inbox-list li[data-id="${left.id}"]`).waitFor({ timeout: T });
    assert.deepEqual(page.errors, [], 'page errors');
  }));

  test('XSS payloads from the visitor side render as text everywhere; the visitor panel shows the location', w.run(async () => {
    const a = await w.agent('Eve');
    const page = await w.openWorkbench(w.gw1, a);
    const { v, sid, ident } = await w.visitorChat(w.gw2, a, {
      name: XSS,
      query: { nickname: XSS, title: XSS, url: 'javascript:window.__xss=2' },
    });
    assert.ok((await v.emitAck('trace', { title: XSS, url: 'javascript:window.__xss=3', referrer: XSS }))?.ok, 'trace');
    await v.emitAck('message', { type: 'message', msgtype: 'text', message: XSS, clientid: uid() });
    const row = w.conv(page, sid);
    await row.locator('.conv-name', { hasText: '<img src=x' }).waitFor({ timeout: T });
    await row.click();
    await page.locator('#chat-logs li.msg.peer .text', { hasText: '<b>bold</b>' }).waitFor({ timeout: T });
    await v.emitAck('message', { type: 'writing', msgtype: 'text', message: XSS + ' draft', clientid: uid() });
    await page.locator('#draft-line .draft-text', { hasText: '<b>bold</b> draft' }).waitFor({ timeout: T });
    assert.match(await page.innerText('#chat-name'), /<img src=x onerror=/);
    await page.locator('#visitor-trail li', { hasText: '<img src=x' }).first().waitFor({ timeout: T });
    await page.locator('.visitor-name', { hasText: '<b>bold</b>' }).waitFor({ timeout: T });

    const panel = expectStatus(await http(w.gw1, 'GET', `/api/v1/sessions/${sid}/visitor`, { token: a.token }), 200, 'panel');
    const loc = panel.location;
    if (loc && (loc.country || loc.region || loc.city)) {
      // The e2e gateways' GeoIP fixture maps 127.0.0.0/8 to Testland / Loopback / Localhost.
      const want = [loc.country, loc.region, loc.city].filter(Boolean).join(', ');
      await page.locator('#visitor-location', { hasText: want }).waitFor({ timeout: T });
    } else {
      await page.locator('#visitor-location', { hasText: 'Unknown' }).waitFor({ timeout: T });
    }

    const left = expectStatus(await http(w.gw2, 'POST', '/im/demo/leavemsg', {
      body: { userid: ident.userid, sign: ident.sign, name: XSS, email: 'eve@example.com', content: XSS + ' leave' },
    }), 201, 'leave a message');
    await page.click('button[data-tab="inbox"]');
    await page.locator(`#inbox-list li[data-id="${left.id}"]`).click();
    await page.locator('#inbox-content', { hasText: '<b>bold</b> leave' }).waitFor({ timeout: T });

    const hrefs = await page.$$eval('a[href]', (as) => as.map((x) => x.getAttribute('href')));
    assert.ok(hrefs.every((h) => /^(https?:|mailto:|tel:)/.test(h)), `only safe links: ${brief(hrefs)}`);
    await w.assertInert(page, 'workbench');
    assert.deepEqual(page.errors, [], 'page errors');
    await w.notReady(a);
  }));

  test('sign-in errors, status and busy, counters, language, password change and sign-out', w.run(async () => {
    const a = await w.agent('Finn');
    const p = await w.openWorkbench(w.gw2, a, { ready: false });
    await p.locator('#status-toggle[data-status="notready"]').waitFor({ timeout: T });
    await p.click('#status-toggle');
    await p.locator('#status-toggle[data-status="ready"]').waitFor({ timeout: T });
    await p.locator('#counters', { hasText: /Agents ready [1-9]/ }).waitFor({ timeout: T });
    await p.check('#busy-toggle');
    await p.locator('#status-toggle.busy').waitFor({ timeout: T });
    const st = expectStatus(await http(w.gw1, 'PUT', '/api/v1/agent/status', { token: a.token, body: {} }), 200);
    assert.deepEqual(st, { status: 'ready', busy: true });

    await p.click('#settings-button');
    await p.selectOption('#pref-lang', 'zh-CN');
    await p.selectOption('#pref-sendkey', 'ctrl');
    await p.click('#settings-dialog-submit');
    await p.locator('button[data-tab="chats"]', { hasText: '对话' }).waitFor({ timeout: T });
    assert.match(await p.getAttribute('#composer-text', 'placeholder') || '', /Ctrl\+Enter/);

    await p.click('#settings-button');
    await p.click('#change-password');
    await p.fill('#pw-old', a.password);
    await p.fill('#pw-new', 'new-secret-123');
    await p.click('#password-dialog-submit');
    await p.locator('#login-view').waitFor({ state: 'visible', timeout: T });
    await p.locator('#login-error', { hasText: '密码已修改' }).waitFor({ timeout: T });
    await p.locator('#login-submit', { hasText: '登录' }).waitFor({ timeout: T });

    await p.fill('#login-username', a.username);
    await p.fill('#login-password', 'new-secret-123');
    await p.click('#login-submit');
    await p.locator('#workbench').waitFor({ state: 'visible', timeout: T });
    const token = await p.evaluate(() => sessionStorage.getItem('kefu:workbench:token'));
    expectStatus(await http(w.gw2, 'GET', '/api/v1/agent/sessions', { token }), 200, 'signed in');
    await p.click('#logout');
    await p.locator('#login-view').waitFor({ state: 'visible', timeout: T });
    expectStatus(await http(w.gw2, 'GET', '/api/v1/agent/sessions', { token }), 401, 'the token ended');
    await p.fill('#login-username', a.username);
    await p.fill('#login-password', a.password); // the old one
    await p.click('#login-submit');
    await p.locator('#login-error', { hasText: '登录失败' }).waitFor({ timeout: T });
    assert.equal(await p.locator('#workbench').isVisible(), false);
    assert.deepEqual(p.errors, [], 'page errors');
  }));

  test('history paging; online visitors and an invite', w.run(async () => {
    const a = await w.agent('Gus');
    const page = await w.openWorkbench(w.gw1, a);
    const { v, sid } = await w.visitorChat(w.gw2, a, { query: { nickname: 'Quinn' } });
    for (let i = 1; i <= 35; i++) await v.emitAck('message', { type: 'message', msgtype: 'text', message: `line ${i}`, clientid: uid() });
    await w.conv(page, sid).locator('.unread-badge', { hasText: '35' }).waitFor({ timeout: T });
    // A tab opened now knows only what it loads: the latest page, then earlier ones on demand.
    const tab = await w.openWorkbench(w.gw2, a, { ready: false });
    await w.conv(tab, sid).click();
    await tab.locator('#chat-logs li.msg.peer', { hasText: 'line 35' }).waitFor({ timeout: T });
    const before = await tab.locator('#chat-logs ol:not([hidden]) li.msg').count();
    assert.ok(before < 35, `one page first (${before})`);
    await tab.click('#load-earlier');
    await tab.locator('#chat-logs li.msg.peer .text', { hasText: /^line 1$/ }).waitFor({ timeout: T });
    const texts = await tab.$$eval('#chat-logs ol:not([hidden]) li.msg.peer .text', (ps) => ps.map((p) => p.textContent));
    assert.deepEqual(texts, Array.from({ length: 35 }, (_, i) => `line ${i + 1}`), 'every message once, in order');
    await tab.locator('#load-earlier').waitFor({ state: 'hidden', timeout: T });
    await tab.close();

    // A visitor browsing without chatting is invited.
    const ident = await newVisitor(w.gw2);
    const browsing = connectVisitor(w.gw2, ident, { query: { nickname: 'Pia', title: 'Teapot sale', url: 'https://shop.example/sale' } });
    await browsing.connected();
    await page.click('#online-button');
    const item = page.locator('#online-list li', { hasText: 'Pia' });
    await item.waitFor({ timeout: T });
    await page.locator('#online-list li', { hasText: 'Quinn' }).locator('button[disabled]').waitFor({ timeout: T });
    await page.fill('#invite-message', 'Can I help you find a teapot?');
    const mark = browsing.mark();
    await item.locator('button').click();
    const inv = await browsing.waitFor('invite', () => true, { after: mark, what: 'invite' });
    assert.deepEqual({ agentno: String(inv.agentno), nickName: inv.nickName, message: inv.message }, { agentno: String(a.agent.id), nickName: 'Gus', message: 'Can I help you find a teapot?' });
    assert.deepEqual(page.errors, [], 'page errors');
    await w.notReady(a);
  }));
});
