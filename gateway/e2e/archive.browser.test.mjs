// The archive and quality review in the workbench (chromium, 2 gateways): chats made by visitors
// and agents over both gateways and ended are indexed by the routing leader; a supervisor finds
// them by words (English and Chinese) and by filters, reads a transcript with its events and a
// whisper in time order, exports the result list as CSV (rows = the table's), and scores a chat
// against the checklist an admin edited; the agent then sees the review in its archive (in
// Chinese too). XSS payloads in visitor names, messages, whispers, comments and checklist names
// stay text. Screenshots: docs/screenshots/archive-search.png, archive-transcript.png,
// quality-review.png.
//
// Every wait is on DOM state, a download or the server's state; no sleep synchronises anything.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { http, expectStatus, login, connectAgent, agentSay, uid, brief } from './client.mjs';
import { workbenchSuite, browserSkip, T } from './workbench-harness.mjs';
import { DEMO_PASSWORD } from './cluster.mjs';

const XSS = '<img src=x onerror="window.__xss=1;alert(1)"><b>bold</b>';

describe('archive and quality review in the browser', { skip: browserSkip() }, () => {
  const w = workbenchSuite('archive-ui');
  let sales;
  let support;
  let ann; // agent in Sales
  let bob; // agent in Support
  let sue; // supervisor of Sales
  const chat = {}; // name → {sid, v}

  /** A staff member with roles and skill groups (admin API) and its login. */
  async function staff(nickname, roles, skills) {
    const username = uid('arch');
    const password = 'pw-' + uid('p');
    expectStatus(await http(w.gw1, 'POST', '/api/v1/admin/agents', { token: w.admin.token, body: { username, password, nickname, roles, skills, maxuser: 10 } }), 201, 'create ' + nickname);
    return { ...(await login(w.gw1, username, password)), username, password, nickname };
  }

  /** Polls the archive (the server's state) until q finds n chats for token. */
  async function indexed(token, q, n) {
    const deadline = Date.now() + T;
    for (;;) {
      const page = expectStatus(await http(w.gw1, 'GET', '/api/v1/archive?q=' + encodeURIComponent(q), { token }), 200, 'search');
      if (page.items.length === n) return page.items;
      assert.ok(Date.now() < deadline, `"${q}" found ${page.items.length} chats, not ${n}, within ${T} ms: ${brief(page)}`);
      await new Promise((r) => setTimeout(r, 200)); // polling the index's state
    }
  }

  /** The result table's conversation ids, in order. */
  const tableIds = (page) => page.$$eval('#archive-body tr', (rows) => rows.map((r) => r.getAttribute('data-id')));

  async function searchFor(page, q, want) {
    await page.fill('#archive-q', q);
    await page.click('#archive-search');
    await page.waitForFunction((ids) => {
      const got = Array.from(document.querySelectorAll('#archive-body tr')).map((r) => r.getAttribute('data-id'));
      return !document.querySelector('#tab-archive[aria-busy]') && got.length === ids.length && ids.every((id, i) => got[i] === id);
    }, want, { timeout: T });
  }

  test('chats over both gateways, ended, are searchable', w.run(async () => {
    const skill = async (name) => expectStatus(await http(w.gw1, 'POST', '/api/v1/admin/skills', { token: w.admin.token, body: { name } }), 201, 'skill').id;
    sales = await skill('Sales');
    support = await skill('Support');
    ann = await staff('Ann Archer', ['agent'], [sales]);
    bob = await staff('Bob Stone', ['agent'], [support]);
    sue = await staff('Sue Visor', ['supervisor'], [sales]);
    const annSocket = connectAgent(w.gw2, ann.token);
    const bobSocket = connectAgent(w.gw2, bob.token);
    await Promise.all([annSocket.connected(), bobSocket.connected()]);
    for (const a of [ann, bob]) expectStatus(await http(w.gw1, 'PUT', '/api/v1/agent/status', { token: a.token, body: { status: 'ready' } }), 200, 'ready');

    const talk = async (name, a, socket, nickname, lines, rating) => {
      const c = await w.visitorChat(w.gw1, a, { query: { nickname }, name: nickname });
      for (const [who, text] of lines) {
        if (who === 'v') assert.ok((await c.v.emitAck('message', { type: 'message', msgtype: 'text', message: text, clientid: uid() }))?.ok, 'visitor message');
        else await agentSay(socket, c.sid, text);
      }
      expectStatus(await http(w.gw2, 'POST', `/api/v1/sessions/${c.sid}/end`, { token: a.token }), 200, 'end');
      if (rating) assert.ok((await c.v.emitAck('satisfaction', { agentserviceid: c.sid, level: rating, comment: 'quick' }))?.ok, 'rating');
      chat[name] = c;
    };
    await talk('parcel', ann, annSocket, 'Lena Berg', [
      ['v', 'Hi, my parcel never arrived.'], ['a', 'Sorry to hear that! Let me check the tracking number.'],
      ['v', '我要退货，谢谢'], ['a', 'The refund is on its way.'],
    ], 4);
    await talk('xss', ann, annSocket, XSS, [['v', 'A warranty question ' + XSS], ['a', 'Happy to help with the warranty.']], 0);
    await talk('invoice', bob, bobSocket, 'Omar Haddad', [['v', 'Where is my invoice?'], ['a', 'I have sent it again.']], 5);
    // A few more of Ann's, tagged, so that the list looks like a working day.
    await talk('address', ann, annSocket, 'Tomás Ruiz', [['v', 'Can I change my delivery address?'], ['a', 'Yes, until it ships.']], 5);
    await talk('coupon', ann, annSocket, '王芳', [['v', '优惠券怎么用？'], ['a', '结账时输入优惠码即可。']], 3);
    await talk('crash', ann, annSocket, 'Priya Nair', [['v', 'The app crashes at checkout.'], ['a', 'Which version do you have?']], 0);
    const tag = async (name, color) => expectStatus(await http(w.gw1, 'POST', '/api/v1/tags', { token: w.admin.token, body: { name, color } }), 201, 'tag').id;
    const [vip, refund] = [await tag('VIP', '#b26a00'), await tag('Refund', '#2f6fde')];
    for (const [c, tags] of [[chat.parcel, [refund, vip]], [chat.coupon, [vip]], [chat.crash, [refund]]]) {
      expectStatus(await http(w.gw1, 'PUT', `/api/v1/sessions/${c.sid}/tags`, { token: ann.token, body: { tags } }), 200, 'tags');
    }

    // The routing leader indexes them within seconds.
    assert.deepEqual((await indexed(w.admin.token, 'parcel', 1)).map((i) => i.agentserviceid), [chat.parcel.sid]);
    assert.deepEqual((await indexed(w.admin.token, '退货', 1)).map((i) => i.agentserviceid), [chat.parcel.sid]);
    await indexed(w.admin.token, 'invoice', 1);
    await indexed(w.admin.token, 'warranty', 1);
    await indexed(w.admin.token, 'checkout', 1);
    // A whisper from Sue between the chat's 2nd and 3rd messages (supervisors' whispers are
    // written by the monitor; here straight into the table).
    const tr = expectStatus(await http(w.gw1, 'GET', `/api/v1/archive/${chat.parcel.sid}`, { token: w.admin.token }), 200, 'transcript');
    const i = tr.messages.findIndex((m) => m.message === '我要退货，谢谢');
    assert.ok(i > 0, `messages: ${brief(tr.messages)}`);
    const [prev, third] = [tr.messages[i - 1], tr.messages[i]];
    const mid = Math.floor((Date.parse(prev.createtime) + Date.parse(third.createtime)) / 2);
    const at = new Date(mid).toISOString().replace('T', ' ').replace('Z', '');
    const esc = (s) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
    await w.c.sql(`INSERT INTO session_notes (id, agentserviceid, clientid, orgi, author_id, author_name, body, created_at) VALUES
      ('${uid('n').replace(/[^a-z0-9]/g, '').slice(0, 32)}', '${chat.parcel.sid}', 'w1', 'demo', '${sue.agent.id}', 'Sue Visor', '${esc('Offer a voucher ' + XSS)}', '${at}')`);
    chat.parcel.third = third.id;
    for (const a of [ann, bob]) expectStatus(await http(w.gw1, 'PUT', '/api/v1/agent/status', { token: a.token, body: { status: 'notready' } }), 200, 'not ready');
  }));

  test('an admin edits the checklist', w.run(async () => {
    const page = await w.openWorkbench(w.gw2, { username: 'admin', password: DEMO_PASSWORD }, { ready: false });
    await page.click('button[data-tab="archive"]');
    await page.locator('#archive-checklist:not([hidden])').waitFor({ timeout: T });
    await page.click('#archive-checklist');
    await page.locator('#checklist-dialog').waitFor({ timeout: T });
    for (const [name, weight] of [['Greeting', '1'], ['Solved the problem', '3'], [XSS + ' Tone', '2']]) {
      await page.click('#checklist-add');
      await page.locator('#checklist-rows li:last-child .checklist-name').fill(name);
      await page.locator('#checklist-rows li:last-child .checklist-weight').fill(weight);
    }
    // Move the last one up: it becomes the second.
    await page.locator('#checklist-rows li:last-child button[aria-label="Move up"]').click();
    await page.click('#checklist-dialog-submit');
    await page.locator('#checklist-dialog').waitFor({ state: 'detached', timeout: T });
    const items = expectStatus(await http(w.gw1, 'GET', '/api/v1/quality/items', { token: ann.token }), 200, 'items');
    assert.deepEqual(items.map((i) => [i.name, i.weight]), [['Greeting', 1], [XSS + ' Tone', 2], ['Solved the problem', 3]]);
    // Opened again, it shows them (as text).
    await page.click('#archive-checklist');
    await page.locator('#checklist-rows li').nth(2).waitFor({ timeout: T });
    assert.equal(await page.locator('#checklist-rows li').nth(1).locator('.checklist-name').inputValue(), XSS + ' Tone');
    await page.keyboard.press('Escape');
    await w.assertInert(page, 'checklist');
    assert.deepEqual(page.errors, [], 'page errors');
  }));

  test('a supervisor searches, reads a transcript, exports CSV and scores a chat', w.run(async () => {
    const page = await w.openWorkbench(w.gw2, sue, { ready: false });
    await page.click('button[data-tab="archive"]');
    // Its scope: Ann's chats (Ann is in Sales), not Bob's.
    const anns = [chat.crash.sid, chat.coupon.sid, chat.address.sid, chat.xss.sid, chat.parcel.sid];
    await page.waitForFunction((n) => document.querySelectorAll('#archive-body tr').length === n, anns.length, { timeout: T });
    assert.deepEqual(await tableIds(page), anns);
    assert.equal(await page.locator('#archive-agent').isVisible(), true, 'supervisors filter by agent');

    await searchFor(page, 'parcel', [chat.parcel.sid]);
    await searchFor(page, '退货', [chat.parcel.sid]);
    await searchFor(page, 'tracking number', [chat.parcel.sid]);
    await searchFor(page, 'number tracking', []); // words, not the phrase
    await searchFor(page, 'invoice', []); // Bob's: out of scope
    await page.fill('#archive-q', '');
    await page.selectOption('#archive-rating', '4');
    await searchFor(page, '', [chat.parcel.sid]);
    await page.selectOption('#archive-rating', '');
    await page.selectOption('#archive-agent', ann.agent.id);
    await page.selectOption('#archive-endby', 'agent');
    await searchFor(page, '', anns);
    await page.fill('#archive-visitor', 'lena');
    await searchFor(page, '', [chat.parcel.sid]);
    await page.fill('#archive-visitor', '');
    await page.selectOption('#archive-tag', { label: 'VIP' });
    await searchFor(page, '', [chat.coupon.sid, chat.parcel.sid]);
    await searchFor(page, '优惠券', [chat.coupon.sid]);
    await page.click('#archive-clear');
    await page.waitForFunction((n) => document.querySelectorAll('#archive-body tr').length === n, anns.length, { timeout: T });
    await w.assertInert(page, 'result table');
    assert.equal(await page.locator(`#archive-body tr[data-id="${chat.xss.sid}"] .archive-visitor`).textContent(), XSS);

    // CSV of the list: the table's rows, in order.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.click('#archive-export')]);
    assert.match(download.suggestedFilename(), /^kefu-archive-.*\.csv$/);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\uFEFF'), 'byte order mark');
    const lines = csv.slice(1).trim().split(/\r?\n/);
    assert.equal(lines[0].split(',')[0], 'agentserviceid');
    assert.deepEqual(lines.slice(1).map((l) => l.split(',')[0]), await tableIds(page));
    assert.ok(lines.some((l) => l.startsWith(chat.parcel.sid + ',') && l.includes('Lena Berg') && l.includes('Ann Archer') && l.includes('Refund; VIP')), `rows: ${brief(lines)}`);
    assert.ok(lines.some((l) => l.startsWith(chat.coupon.sid + ',') && l.includes('王芳')), `rows: ${brief(lines)}`);
    await page.locator('#toast').waitFor({ state: 'hidden', timeout: T });
    await w.shot(page, 'archive-search.png');

    // The transcript: messages, the whisper between the 2nd and 3rd, events.
    await page.click(`#archive-body tr[data-id="${chat.parcel.sid}"]`);
    await page.locator('#archive-log li.msg.peer', { hasText: '我要退货' }).waitFor({ timeout: T });
    await page.locator('#archive-log li.msg.me', { hasText: 'tracking number' }).waitFor({ timeout: T });
    const whisper = page.locator('#archive-log li.whisper');
    await whisper.waitFor({ timeout: T });
    assert.equal(await whisper.locator('.text').textContent(), 'Offer a voucher ' + XSS);
    assert.equal(await page.evaluate((id) => document.querySelector('#archive-log li.whisper').nextElementSibling?.getAttribute('data-id'), chat.parcel.third), chat.parcel.third,
      'the whisper sits before the message that came after it');
    await page.locator('.archive-facts', { hasText: 'Ann Archer' }).waitFor({ timeout: T });
    await w.assertInert(page, 'transcript');
    await w.shot(page, 'archive-transcript.png');

    // Score it: 5, 3, 4 with weights 1, 2, 3 → 100 × (5 + 6 + 12) / 30 = 76.7.
    await page.click('#review-open');
    await page.locator('#review-form').waitFor({ timeout: T });
    const selects = page.locator('#review-form select');
    await selects.nth(1).selectOption('3');
    await selects.nth(2).selectOption('4');
    await page.locator('#review-total', { hasText: '76.7' }).waitFor({ timeout: T });
    await page.fill('#review-comment', 'Kind and quick. ' + XSS);
    await page.click('#review-save');
    await page.locator('#archive-review .review-score', { hasText: '76.7' }).waitFor({ timeout: T });
    assert.equal(await page.locator('#archive-review .review-comment').textContent(), 'Kind and quick. ' + XSS);
    await page.locator(`#archive-body tr[data-id="${chat.parcel.sid}"] td.num`, { hasText: '76.7' }).waitFor({ timeout: T });
    const review = expectStatus(await http(w.gw1, 'GET', `/api/v1/sessions/${chat.parcel.sid}/review`, { token: ann.token }), 200, 'review');
    assert.equal(review.score, 76.7);
    // Opened again, the transcript has the `reviewed` event.
    await page.click(`#archive-body tr[data-id="${chat.xss.sid}"]`);
    await page.locator('#archive-log li.msg.peer', { hasText: 'warranty question' }).waitFor({ timeout: T });
    await page.click(`#archive-body tr[data-id="${chat.parcel.sid}"]`);
    await page.locator('#archive-log li.event[data-kind="reviewed"]', { hasText: 'Sue Visor' }).waitFor({ timeout: T });
    await page.locator('#archive-review').scrollIntoViewIfNeeded();
    await w.assertInert(page, 'review');
    await page.locator('#toast').waitFor({ state: 'hidden', timeout: T });
    await w.shot(page, 'quality-review.png');
    assert.deepEqual(page.errors, [], 'page errors');
  }));

  test('the agent sees its own archive and its review, in Chinese too', w.run(async () => {
    const page = await w.openWorkbench(w.gw1, ann, { ready: false });
    await page.click('button[data-tab="archive"]');
    const anns = [chat.crash.sid, chat.coupon.sid, chat.address.sid, chat.xss.sid, chat.parcel.sid];
    await page.waitForFunction((n) => document.querySelectorAll('#archive-body tr').length === n, anns.length, { timeout: T });
    assert.deepEqual(await tableIds(page), anns);
    assert.equal(await page.locator('#archive-agent').isVisible(), false, 'an agent has no agent filter');
    await page.click('#archive-views button[data-view="reviews"]');
    const row = page.locator(`#reviews-body tr[data-id="${chat.parcel.sid}"]`);
    await row.waitFor({ timeout: T });
    assert.match(await row.textContent(), /76\.7/);
    await row.locator('button').click();
    await page.locator('#archive-review .review-score', { hasText: '76.7' }).waitFor({ timeout: T });
    assert.equal(await page.locator('#review-open').count(), 0, 'an agent cannot score');
    // Bob's chat is not Ann's to open.
    const res = await http(w.gw1, 'GET', `/api/v1/archive/${chat.invoice.sid}`, { token: ann.token });
    assert.equal(res.status, 403, res.text);

    // 简体中文.
    await page.click('#settings-button');
    await page.selectOption('#pref-lang', 'zh-CN');
    await page.click('#settings-dialog-submit');
    await page.locator('#archive-views button[data-view="reviews"]', { hasText: '我的质检' }).waitFor({ timeout: T });
    await page.locator('#archive-review h4', { hasText: '质检' }).waitFor({ timeout: T });
    await page.click('#archive-views button[data-view="search"]');
    await page.locator('label[for="archive-q"]', { hasText: '消息内容' }).waitFor({ timeout: T });
    await page.locator('#archive-table th', { hasText: '结束时间' }).waitFor({ timeout: T });
    await w.assertInert(page, 'agent archive');
    assert.deepEqual(page.errors, [], 'page errors');
  }));
});
