// Supervision in chromium (workbench-harness.mjs): a supervisor's Monitor tab on one gateway,
// agents' workbenches on both, visitors as socket.io-client sockets on either and as the widget's
// full-page chat. The monitor follows chats as they start, wait and end; the supervisor joins,
// whispers and takes over from the page (what the visitor and the agent each see checked in their
// own pages); forces an agent offline (its chat back in the queue); acts on the queue; sees
// nothing of another group's chats; XSS payloads shown as text. Screenshots: monitor-*.png.

import { describe, test, before } from 'node:test';
import assert from 'node:assert/strict';
import { http, expectStatus, login, newVisitor, connectVisitor, connectAgent, setStatus, uid, brief } from './client.mjs';
import { workbenchSuite, browserSkip, T } from './workbench-harness.mjs';

const XSS = '<img src=x onerror="window.__xss=1;alert(1)"><b>bold</b>';

describe('supervision in the browser', { skip: browserSkip() }, () => {
  const w = workbenchSuite('monitor-ui');
  const g = {}; // skill groups: sales, billing, backlog (a child of sales nobody serves)
  let sue; // supervisor of sales, on gw1
  let ben; // supervisor of billing, on gw2

  /** A staff member with roles and groups, signed in (the shape of createAgent's answer). */
  async function staff(nickname, roles, skills, maxuser = 5) {
    const username = uid('staff');
    const password = 'pw-' + uid('p');
    expectStatus(await http(w.gw1, 'POST', '/api/v1/admin/agents', { token: w.admin.token, body: { username, password, nickname, roles, skills, maxuser } }), 201, 'create ' + nickname);
    return { ...(await login(w.gw1, username, password)), username, password, nickname };
  }

  /** A staff member ready to take chats without a page: a socket and status ready. */
  async function readyStaff(nickname, roles, skills) {
    const a = await staff(nickname, roles, skills);
    a.socket = connectAgent(w.gw2, a.token, { label: nickname });
    await a.socket.connected();
    await setStatus(w.gw1, a.token, { status: 'ready' });
    return a;
  }

  async function group(name, parent = '') {
    return expectStatus(await http(w.gw1, 'POST', '/api/v1/admin/skills', { token: w.admin.token, body: { name, parent } }), 201, 'group ' + name).id;
  }

  /** Opens the Monitor tab of page and waits for its snapshot to be drawn. */
  async function openMonitor(page) {
    await page.locator('#monitor-tab').waitFor({ timeout: T });
    await page.click('#monitor-tab');
    await page.locator('#mon-counters').filter({ hasText: /\d/ }).waitFor({ timeout: T });
  }

  const chatRow = (page, sid) => page.locator(`#mon-chats tr[data-sid="${sid}"]`);
  const queueRow = (page, sid) => page.locator(`#mon-queue tr[data-sid="${sid}"]`);
  const agentRow = (page, id) => page.locator(`#mon-agents tr[data-agent="${id}"]`);

  /** A visitor (socket) opening a chat in skill group `skill`, waiting or served. */
  async function waiting(gw, skill, nickname = 'Waiting visitor') {
    const ident = await newVisitor(gw);
    const v = connectVisitor(gw, ident, { query: { skill, nickname } });
    await v.connected();
    const mark = v.mark();
    const ack = await v.emitAck('new', { name: nickname });
    assert.ok(ack?.ok, `new: ${brief(ack)}`);
    await v.waitFor('status', () => true, { after: mark, what: 'first status' });
    return { v, sid: ack.agentserviceid };
  }

  before(async () => {
    await w.c.guard('groups and supervisors', async () => {
      g.sales = await group('Sales');
      g.billing = await group('Billing');
      g.backlog = await group('Sales backlog', g.sales);
      sue = await staff('Sue', ['supervisor'], [g.sales]);
      ben = await staff('Ben', ['supervisor'], [g.billing]);
    });
  });

  test('the monitor follows chats as they start, wait and end; another group\'s supervisor sees none of them', w.run(async () => {
    const alice = await staff('Alice', ['agent'], [g.sales]);
    const carl = await readyStaff('Carl', ['agent'], [g.billing]);
    const alicePage = await w.openWorkbench(w.gw1, alice);
    const suePage = await w.openWorkbench(w.gw1, sue, { ready: false });
    const benPage = await w.openWorkbench(w.gw2, ben, { ready: false });
    await openMonitor(suePage);
    await openMonitor(benPage);
    await suePage.locator('#mon-rights').filter({ hasText: /watch, join, take over/ }).waitFor({ timeout: T });

    const { v, sid } = await w.visitorChat(w.gw2, alice, { query: { nickname: 'Mira', skill: g.sales } });
    await chatRow(suePage, sid).waitFor({ timeout: T });
    assert.match(await chatRow(suePage, sid).innerText(), /Mira[\s\S]*Sales[\s\S]*Alice/, 'the row names visitor, group and agent');
    await v.emitAck('message', { type: 'message', msgtype: 'text', message: 'Where is my order?', clientid: uid() });
    await chatRow(suePage, sid).locator('.c-last', { hasText: 'Where is my order?' }).waitFor({ timeout: T });
    await chatRow(suePage, sid).locator('.c-unread', { hasText: '1' }).waitFor({ timeout: T });
    // Alice reads it: the unread count goes.
    await alicePage.locator(`#conv-list li.conv[data-sid="${sid}"]`).click();
    await chatRow(suePage, sid).locator('.c-unread.hot').waitFor({ state: 'detached', timeout: T });

    // One waiting in Sales' backlog (nobody serves it): Sue's queue, with its position.
    const q = await waiting(w.gw1, g.backlog, 'Queued Quinn');
    await suePage.click('#mon-view-queue');
    await queueRow(suePage, q.sid).waitFor({ timeout: T });
    assert.match(await queueRow(suePage, q.sid).innerText(), /^1\s+Queued Quinn\s+Sales backlog/, 'position, visitor, group');
    await suePage.locator('#mon-view-queue', { hasText: '(1)' }).waitFor({ timeout: T });

    // Billing's chat reaches Ben, after Sales' would have: Ben sees none of Sales'.
    const { sid: billingSid } = await w.visitorChat(w.gw1, carl, { query: { nickname: 'Bill', skill: g.billing } });
    await chatRow(benPage, billingSid).waitFor({ timeout: T });
    assert.equal(await chatRow(benPage, sid).count(), 0, 'Ben sees a Sales chat');
    await benPage.click('#mon-view-queue');
    assert.equal(await queueRow(benPage, q.sid).count(), 0, 'Ben sees the Sales queue');
    await benPage.click('#mon-view-agents');
    await agentRow(benPage, carl.agent.id).waitFor({ timeout: T });
    assert.equal(await agentRow(benPage, alice.agent.id).count(), 0, 'Ben sees a Sales agent');
    assert.equal(await chatRow(suePage, billingSid).count(), 0, 'Sue sees a Billing chat');
    // Nor can he act on them, whatever the page shows.
    expectStatus(await http(w.gw2, 'POST', `/api/v1/sessions/${sid}/takeover`, { token: ben.token, body: {} }), 403, 'Ben takes over a Sales chat');
    expectStatus(await http(w.gw2, 'POST', `/api/v1/queue/${q.sid}/reroute`, { token: ben.token }), 403, 'Ben reroutes a Sales visitor');

    await suePage.click('#mon-view-chats');
    await w.shot(suePage, 'monitor-chats.png');
    expectStatus(await http(w.gw1, 'POST', `/api/v1/sessions/${sid}/end`, { token: alice.token }), 200, 'end');
    await chatRow(suePage, sid).waitFor({ state: 'detached', timeout: T });
    q.v.close();
    await w.notReady(alice, carl);
  }));

  test('join, whisper and take over from the page: what the visitor and the agent each see', w.run(async () => {
    const alice = await staff('Alice J', ['agent'], [g.sales]);
    const alicePage = await w.openWorkbench(w.gw2, alice);
    const suePage = await w.openWorkbench(w.gw1, sue, { ready: false });
    await openMonitor(suePage);
    // The visitor in the widget's full-page chat on gw1; Alice is the only one ready.
    const ctx = await alicePage.context().browser().newContext({ viewport: { width: 420, height: 720 } });
    const visitor = await ctx.newPage();
    await visitor.goto(`${w.gw1}/im/demo/widget`);
    await visitor.locator('#kefu-text').waitFor({ timeout: T });
    await visitor.fill('#kefu-text', 'Can I pay by invoice?');
    await visitor.press('#kefu-text', 'Enter');
    const conv = alicePage.locator('#conv-list li.conv').first();
    await conv.waitFor({ timeout: T });
    const sid = await conv.getAttribute('data-sid');
    await conv.click();
    await alicePage.locator('#chat-logs li.msg.peer', { hasText: 'pay by invoice' }).waitFor({ timeout: T });

    // Sue opens it: the history, then the live draft.
    await chatRow(suePage, sid).click();
    await suePage.locator('#watch-log li.msg', { hasText: 'pay by invoice' }).waitFor({ timeout: T });
    await visitor.fill('#kefu-text', 'And by card');
    await suePage.locator('#watch-draft', { hasText: 'And by card' }).waitFor({ timeout: T });
    await visitor.press('#kefu-text', 'Enter');
    await suePage.locator('#watch-log li.msg', { hasText: 'And by card' }).waitFor({ timeout: T });

    // Join: the visitor sees Sue's message under her name, Alice sees it marked as Sue's.
    await suePage.fill('#watch-input', 'Hello, I am the team lead: yes to both.');
    await suePage.press('#watch-input', 'Enter');
    await suePage.locator('#watch-log li.msg.intervened.sent', { hasText: 'team lead' }).waitFor({ timeout: T });
    await visitor.locator('#kefu-log li', { hasText: 'team lead' }).waitFor({ timeout: T });
    assert.match(await visitor.locator('#kefu-log li', { hasText: 'team lead' }).innerText(), /Sue/, 'the visitor sees who wrote');
    await alicePage.locator('#chat-logs li.msg.intervened', { hasText: 'team lead' }).waitFor({ timeout: T });
    assert.match(await alicePage.locator('#chat-logs li.msg.intervened', { hasText: 'team lead' }).innerText(), /Sue · supervisor/, 'Alice sees it is Sue\'s');

    // Whisper: Alice sees it, the visitor never.
    await suePage.check('#watch-mode-whisper');
    await suePage.fill('#watch-input', 'Offer the 10% loyalty discount');
    await suePage.press('#watch-input', 'Enter');
    await alicePage.locator('#chat-logs li.whisper', { hasText: 'loyalty discount' }).waitFor({ timeout: T });
    await suePage.locator('#watch-log li.whisper', { hasText: 'loyalty discount' }).waitFor({ timeout: T });
    await w.shot(suePage, 'monitor-watch.png');
    await alicePage.locator('#chat-logs li.msg.me').last().waitFor({ timeout: T });
    await w.shot(alicePage, 'workbench-supervised.png');

    // Take over: the chat leaves Alice and opens in Sue's Chats tab; the visitor carries on.
    await suePage.click('#watch-takeover');
    await suePage.click('#watch-confirm-submit');
    await alicePage.locator(`#conv-list li.conv[data-sid="${sid}"]`).waitFor({ state: 'detached', timeout: T });
    await suePage.click('button[data-tab="chats"]');
    await suePage.locator(`#conv-list li.conv[data-sid="${sid}"]`).click();
    await suePage.locator('#chat-logs li.msg.peer', { hasText: 'And by card' }).waitFor({ timeout: T });
    await suePage.fill('#composer-text', 'I will take it from here.');
    await suePage.press('#composer-text', 'Enter');
    await visitor.locator('#kefu-log li', { hasText: 'take it from here' }).waitFor({ timeout: T });
    const visitorText = await visitor.locator('#kefu-log').innerText();
    assert.ok(!visitorText.includes('loyalty discount'), 'the visitor saw the whisper');
    await w.assertInert(suePage, 'supervisor');
    expectStatus(await http(w.gw1, 'POST', `/api/v1/sessions/${sid}/end`, { token: sue.token }), 200, 'end');
    await ctx.close();
    await w.notReady(alice);
  }));

  test('force offline puts an agent\'s chats back in the queue; queue actions: take, assign, move, re-route', w.run(async () => {
    const bob = await staff('Bob', ['agent'], [g.sales]);
    const dora = await staff('Dora', ['agent'], [g.sales]);
    dora.socket = connectAgent(w.gw1, dora.token, { label: 'Dora' }); // online, not ready
    await dora.socket.connected();
    const bobPage = await w.openWorkbench(w.gw2, bob);
    const suePage = await w.openWorkbench(w.gw1, sue, { ready: false });
    await openMonitor(suePage);
    const { sid } = await w.visitorChat(w.gw1, bob, { query: { nickname: 'Otto', skill: g.sales } });
    await suePage.click('#mon-view-agents');
    await agentRow(suePage, bob.agent.id).locator('.c-load', { hasText: '1 / 5' }).waitFor({ timeout: T });
    await w.shot(suePage, 'monitor-agents.png');
    await agentRow(suePage, bob.agent.id).locator('.a-offline').click();
    await suePage.click('#offline-dialog-submit');
    await bobPage.locator('#status-toggle[data-status="offline"]').waitFor({ timeout: T });
    await bobPage.locator(`#conv-list li.conv[data-sid="${sid}"]`).waitFor({ state: 'detached', timeout: T });
    await agentRow(suePage, bob.agent.id).locator('.c-status', { hasText: 'Offline' }).waitFor({ timeout: T });
    // Nobody else ready: Otto waits, at the head.
    await suePage.click('#mon-view-queue');
    await queueRow(suePage, sid).locator('.c-num', { hasText: '1' }).waitFor({ timeout: T });

    // Take it: Otto comes to Sue.
    await queueRow(suePage, sid).locator('.q-take').click();
    await queueRow(suePage, sid).waitFor({ state: 'detached', timeout: T });
    await suePage.locator(`#conv-list li.conv[data-sid="${sid}"]`).waitFor({ state: 'attached', timeout: T });

    // One in the backlog: move it to Sales (still nobody ready: it waits there), re-route it
    // (no group), then assign it to Dora, not ready, with the override.
    const q = await waiting(w.gw2, g.backlog, 'Mover');
    await queueRow(suePage, q.sid).waitFor({ timeout: T });
    await queueRow(suePage, q.sid).locator('.q-move').click();
    await suePage.locator(`#move-skill option[value="${g.sales}"]`).waitFor({ state: 'attached', timeout: T });
    await suePage.selectOption('#move-skill', g.sales);
    await suePage.click('#move-dialog-submit');
    await queueRow(suePage, q.sid).locator('.c-skill', { hasText: /^Sales$/ }).waitFor({ timeout: T });
    await w.shot(suePage, 'monitor-queue.png');
    await queueRow(suePage, q.sid).locator('.q-reroute').click();
    await queueRow(suePage, q.sid).locator('.c-skill', { hasText: 'No group' }).waitFor({ timeout: T });
    await queueRow(suePage, q.sid).locator('.q-assign').click();
    await suePage.selectOption('#assign-agent', dora.agent.id);
    await suePage.check('#assign-override');
    await suePage.click('#assign-dialog-submit');
    await queueRow(suePage, q.sid).waitFor({ state: 'detached', timeout: T });
    const rows = await w.c.sql(`SELECT agentno, status, skill FROM sessions WHERE id = '${q.sid}'`);
    assert.deepEqual(rows[0], [dora.agent.id, 'inservice', ''], 'assigned to Dora');
    const events = await w.c.sql(`SELECT kind FROM session_events WHERE agentserviceid = '${q.sid}' ORDER BY pk`);
    assert.deepEqual(events.map((e) => e[0]), ['queued', 'moved', 'rerouted', 'assigned'], 'the transcript\'s events');
    q.v.close();
    expectStatus(await http(w.gw1, 'POST', `/api/v1/sessions/${sid}/end`, { token: sue.token }), 200, 'end');
  }));

  test('XSS payloads in every supervisor view are shown as text', w.run(async () => {
    const eve = await staff(XSS, ['agent'], [g.sales]);
    await w.openWorkbench(w.gw2, eve);
    const suePage = await w.openWorkbench(w.gw1, sue, { ready: false });
    await openMonitor(suePage);
    const { v, sid } = await w.visitorChat(w.gw2, eve, { query: { nickname: XSS, skill: g.sales } });
    await v.emitAck('message', { type: 'message', msgtype: 'text', message: XSS, clientid: uid() });
    await chatRow(suePage, sid).locator('.c-last', { hasText: 'onerror' }).waitFor({ timeout: T });
    await chatRow(suePage, sid).click();
    await suePage.locator('#watch-log li.msg', { hasText: 'onerror' }).waitFor({ timeout: T });
    await v.emitAck('message', { type: 'writing', msgtype: 'text', message: XSS, clientid: uid() });
    await suePage.locator('#watch-draft', { hasText: 'onerror' }).waitFor({ timeout: T });
    await suePage.check('#watch-mode-whisper');
    await suePage.fill('#watch-input', XSS);
    await suePage.press('#watch-input', 'Enter');
    await suePage.locator('#watch-log li.whisper', { hasText: 'onerror' }).waitFor({ timeout: T });
    const q = await waiting(w.gw1, g.backlog, XSS);
    await suePage.click('#mon-view-queue');
    await queueRow(suePage, q.sid).waitFor({ timeout: T });
    await suePage.click('#mon-view-agents');
    await agentRow(suePage, eve.agent.id).locator('.c-name', { hasText: 'onerror' }).waitFor({ timeout: T });
    await w.assertInert(suePage, 'monitor');
    q.v.close();
    expectStatus(await http(w.gw1, 'POST', `/api/v1/sessions/${sid}/end`, { token: eve.token }), 200, 'end');
    await w.notReady(eve);
  }));
});
