// The workbench's enterprise IM panel in a real browser: two agents (A on gateway 1, B on
// gateway 2) in their own browser contexts. Presence (B signs in → A sees B online; B signs out
// → offline after the agent grace), 1:1 both ways with the IM tab's unread badge while the tab
// is hidden (cleared, and read on the server, once the conversation is opened), a group of both
// (created in the dialog) with messages both ways, a second tab of A getting the same messages
// once, history paging, XSS payloads in messages and group names shown as text. Screenshot:
// docs/screenshots/workbench-entim.png.
//
// Every wait is on DOM state (playwright's waitFor/expect-like polling of the page) or a
// network response; no sleep synchronises anything.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { startCluster } from './cluster.mjs';
import { Recorder, TRANSPORTS, http, expectStatus, adminLogin, createAgent, uid, brief, closeAllClients } from './client.mjs';
import { CHROMIUM, SHOTS, T, DESKTOP, browserSkip, cuttableProxy } from './widget-harness.mjs';
import { connectAgent } from './client.mjs';

const XSS_GROUP = '<img src=x onerror="window.__xss=1"> Night <b>shift</b> & co';
const XSS_TEXT = '<script>window.__xss=1</script><img src=x onerror="window.__xss=1;alert(1)"> a < b && "c"';

describe('workbench: enterprise IM panel (browser)', { skip: browserSkip() }, () => {
  let c;
  let admin;
  let gw1;
  let gw2;
  let browser;
  let A; // {agent, username, password, nickname}
  let B;
  let C; // a colleague driven from node (history paging)
  const contexts = [];
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'entim-browser', gateways: 2 });
    [gw1, gw2] = c.gw.map((g) => g.url);
    admin = await c.guard('admin login', () => adminLogin(c));
    A = await createAgent(gw1, admin.token, { nickname: 'Ann Lee' });
    B = await createAgent(gw1, admin.token, { nickname: 'Bo Chen' });
    C = await createAgent(gw1, admin.token, { nickname: 'Chloé Martin' });
    // More colleagues, so that the list looks like a team.
    for (const nickname of ['王芳', 'Dmitri Volkov', 'Priya Nair']) await createAgent(gw1, admin.token, { nickname });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    fs.mkdirSync(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close().catch(() => {});
    closeAllClients();
    await c?.stop();
  });

  // ---- helpers

  /** A browser context of its own (storage, so a login of its own), dialogs and page errors recorded. */
  async function newContext() {
    const ctx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, locale: 'en-US' });
    ctx.dialogs = [];
    ctx.errors = [];
    contexts.push(ctx);
    return ctx;
  }

  /** Opens the workbench on gw in a new page of ctx and signs in as `who`. */
  async function signIn(ctx, gw, who) {
    const page = await ctx.newPage();
    page.on('dialog', (d) => {
      ctx.dialogs.push(d.message());
      d.dismiss().catch(() => {});
    });
    page.on('pageerror', (e) => ctx.errors.push(String(e && e.message)));
    await page.goto(`${gw}/agent/`);
    await page.fill('#login-username', who.username);
    await page.fill('#login-password', who.password);
    await page.click('#login-submit');
    await page.locator('#workbench').waitFor({ state: 'visible', timeout: T });
    await page.locator('#entim-root .entim').waitFor({ state: 'attached', timeout: T });
    return page;
  }

  async function openIM(page) {
    await page.click('button[data-tab="entim"]');
    await page.locator('#entim-root .entim-side').waitFor({ state: 'visible', timeout: T });
  }

  const item = (page, kind, id) => page.locator(`.entim-item[data-kind="${kind}"][data-id="${id}"]`);

  async function waitPresence(page, id, online) {
    await page.waitForSelector(`.entim-item[data-kind="user"][data-id="${id}"] .entim-dot[data-online="${online}"]`, { state: 'attached', timeout: T });
  }

  /** Types text into the open conversation's composer (Shift+Enter between lines) and presses Enter. */
  async function say(page, text) {
    const box = page.locator('.entim-compose');
    await box.click();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      if (i > 0) await box.press('Shift+Enter');
      await box.pressSequentially(lines[i]);
    }
    assert.equal(await box.inputValue(), text, 'Shift+Enter makes a new line, it does not send');
    await box.press('Enter');
    assert.equal(await box.inputValue(), '', 'Enter sends and empties the composer');
  }

  /** The open log's messages, in order: [{text, mine, state, id}]. */
  function messages(page) {
    return page.$$eval('.entim-conv-body .entim-log > li.entim-msg', (lis) => lis.map((li) => ({
      text: li.querySelector('.entim-text')?.textContent,
      mine: li.classList.contains('entim-mine'),
      state: li.dataset.state,
      id: li.dataset.id || '',
      who: li.querySelector('.entim-who')?.textContent,
      named: li.classList.contains('entim-named'),
    })));
  }

  /** Waits until the open log holds a message with this text in the sent state; returns its entry. */
  async function waitMessage(page, text, what) {
    try {
      await page.waitForFunction((want) => Array.from(document.querySelectorAll('.entim-conv-body .entim-log > li.entim-msg'))
        .some((li) => li.dataset.state === 'sent' && li.querySelector('.entim-text')?.textContent === want), text, { timeout: T });
    } catch (e) {
      throw new Error(`${what}: ${brief(await messages(page))}: ${e.message.split('\n')[0]}`);
    }
    const all = await messages(page);
    const hits = all.filter((m) => m.text === text);
    assert.equal(hits.length, 1, `${what}: shown once: ${brief(all)}`);
    return hits[0];
  }

  async function badge(page) {
    const b = page.locator('#entim-badge');
    return (await b.isVisible()) ? (await b.textContent()).trim() : '';
  }

  async function waitBadge(page, want, what) {
    try {
      await page.waitForFunction((w) => {
        const b = document.getElementById('entim-badge');
        return w === '' ? !b || b.hidden : !!b && !b.hidden && b.textContent.trim() === w;
      }, want, { timeout: T });
    } catch (e) {
      throw new Error(`${what}: the IM tab's badge is "${await badge(page)}", want "${want}"`);
    }
  }

  async function tokenOf(page) {
    return page.evaluate(() => sessionStorage.getItem('kefu:workbench:token'));
  }

  async function unreadOnServer(gw, token) {
    return expectStatus(await http(gw, 'GET', '/api/v1/entim/contacts', { token }), 200, 'contacts');
  }

  /** Nothing ran from user text: no dialog, no flag, no element built from it. */
  async function assertInert(ctx, page, what) {
    assert.deepEqual(ctx.dialogs, [], `${what}: no dialog opened`);
    assert.equal(await page.evaluate(() => window.__xss), undefined, `${what}: no script ran`);
    const injected = await page.$$eval('#entim-root img, #entim-root script, #entim-root b', (n) => n.length);
    assert.equal(injected, 0, `${what}: no element was made from user text`);
  }

  // ---- scenarios (in order: they share the agents' pages)

  let ctxA;
  let ctxB;
  let pageA;
  let pageB;

  test('presence: B signs in on the other gateway → A sees B online', run(async () => {
    ctxA = await newContext();
    ctxB = await newContext();
    pageA = await signIn(ctxA, gw1, A);
    await openIM(pageA);
    await item(pageA, 'user', B.agent.id).waitFor({ timeout: T });
    await waitPresence(pageA, B.agent.id, false);
    assert.equal(await item(pageA, 'user', A.agent.id).count(), 0, 'one is not one\'s own colleague');
    pageB = await signIn(ctxB, gw2, B);
    await waitPresence(pageA, B.agent.id, true);
    // Online colleagues come first.
    const first = await pageA.locator('.entim-contacts .entim-item').first().getAttribute('data-id');
    assert.equal(first, B.agent.id, 'the online colleague heads the list');
  }));

  test('1:1 both ways: the IM tab\'s badge counts while the tab is hidden, opening the conversation reads it', run(async () => {
    await item(pageA, 'user', B.agent.id).click();
    await pageA.locator('.entim-conv-title').filter({ hasText: 'Bo Chen' }).waitFor({ timeout: T });
    await say(pageA, 'Hi Bo! Do you have a minute?');
    await waitMessage(pageA, 'Hi Bo! Do you have a minute?', 'A\'s own message, acknowledged');
    await say(pageA, 'Line one\nline two');
    await waitMessage(pageA, 'Line one\nline two', 'a two-line message');

    // B is on the chats tab: the IM tab counts.
    assert.equal(await pageB.locator('#tab-entim').isHidden(), true, 'B\'s IM tab is hidden');
    await waitBadge(pageB, '2', 'B\'s IM badge after two messages');
    const bToken = await tokenOf(pageB);
    let seen = await unreadOnServer(gw2, bToken);
    assert.equal(seen.contacts.find((x) => x.id === A.agent.id)?.unread, 2, `server unread before reading: ${brief(seen)}`);

    await openIM(pageB);
    assert.equal((await item(pageB, 'user', A.agent.id).locator('.entim-badge').textContent()).trim(), '2', 'A\'s row counts 2');
    const read = pageB.waitForResponse((r) => r.url().includes('/api/v1/entim/read') && r.request().method() === 'POST', { timeout: T });
    await item(pageB, 'user', A.agent.id).click();
    assert.equal((await read).status(), 204, 'marked read');
    await waitBadge(pageB, '', 'B\'s IM badge once the conversation is open');
    assert.equal(await item(pageB, 'user', A.agent.id).locator('.entim-badge').isHidden(), true, 'the row\'s count is gone');
    seen = await unreadOnServer(gw2, bToken);
    assert.equal(seen.contacts.find((x) => x.id === A.agent.id)?.unread, 0, `server unread after reading: ${brief(seen)}`);
    const history = await messages(pageB);
    assert.deepEqual(history.map((m) => [m.text, m.mine]), [['Hi Bo! Do you have a minute?', false], ['Line one\nline two', false]], 'B\'s history, oldest first');

    // B answers; A is looking at the conversation: it is read at once, no badge.
    const aRead = pageA.waitForResponse((r) => r.url().includes('/api/v1/entim/read') && r.request().method() === 'POST', { timeout: T });
    await say(pageB, 'Sure, what\'s up?');
    await waitMessage(pageB, 'Sure, what\'s up?', 'B\'s answer on B\'s side');
    const got = await waitMessage(pageA, 'Sure, what\'s up?', 'B\'s answer on A\'s side');
    assert.equal(got.mine, false, 'on the other side');
    assert.equal((await aRead).status(), 204, 'A, looking, marks it read');
    assert.equal(await badge(pageA), '', 'no badge for what A is looking at');
  }));

  test('a second tab of A (on the other gateway) gets the same messages, once each', run(async () => {
    const pageA2 = await signIn(ctxA, gw2, A);
    await openIM(pageA2);
    await item(pageA2, 'user', B.agent.id).click();
    await waitMessage(pageA2, 'Sure, what\'s up?', 'history in the second tab');
    assert.deepEqual((await messages(pageA2)).map((m) => m.text), ['Hi Bo! Do you have a minute?', 'Line one\nline two', 'Sure, what\'s up?'], 'history');

    await say(pageB, 'Meeting room 3 in five?');
    const one = await waitMessage(pageA, 'Meeting room 3 in five?', 'tab 1');
    const two = await waitMessage(pageA2, 'Meeting room 3 in five?', 'tab 2');
    assert.ok(one.id && one.id === two.id, `the same message: ${one.id} / ${two.id}`);

    await say(pageA2, 'On my way 🏃');
    const mine = await waitMessage(pageA, 'On my way 🏃', 'A\'s message from tab 2 in tab 1');
    assert.equal(mine.mine, true, 'shown as A\'s own in the other tab too');
    await waitMessage(pageB, 'On my way 🏃', 'B gets it');
    await pageA2.close();
  }));

  test('a read in one tab clears the count in the agent\'s other tab, whose IM tab stays hidden', run(async () => {
    const pageB2 = await signIn(ctxB, gw1, B);
    await pageB.click('button[data-tab="chats"]');
    const cIM = new Recorder(gw2, '/im/entim', { query: { token: C.token }, transports: TRANSPORTS.websocket, label: 'Chloé IM (tabs)' });
    await cIM.connected();
    assert.ok((await cIM.emitAck('message', { touser: B.agent.id, msgtype: 'text', message: 'Can you cover my 4 pm?', clientid: uid('im') }))?.ok, 'Chloé\'s message');
    await waitBadge(pageB, '1', 'B\'s first tab counts it');
    await waitBadge(pageB2, '1', 'B\'s second tab counts it');
    await openIM(pageB);
    await item(pageB, 'user', C.agent.id).click();
    await waitBadge(pageB, '', 'read in the first tab');
    await waitBadge(pageB2, '', 'the second tab hears the read');
    assert.equal(await pageB2.locator('#tab-entim').isHidden(), true, 'without showing its IM tab');
    cIM.close();
    await pageB2.close();
  }));

  test('a group of both, made in the dialog: messages both ways; names and texts with markup stay text', run(async () => {
    await pageA.click('.entim-new-group');
    const dialog = pageA.locator('dialog.entim-dialog');
    await dialog.waitFor({ timeout: T });
    // Both fields are required.
    await dialog.locator('.entim-group-create').click();
    await dialog.locator('.entim-dialog-error').filter({ hasText: 'name' }).waitFor({ timeout: T });
    await dialog.locator('.entim-group-name').fill(XSS_GROUP);
    await dialog.locator(`.entim-member-check[value="${B.agent.id}"]`).check();
    const created = pageA.waitForResponse((r) => r.url().endsWith('/api/v1/entim/groups') && r.request().method() === 'POST', { timeout: T });
    await dialog.locator('.entim-group-create').click();
    const res = await created;
    assert.equal(res.status(), 201, 'group created');
    const g = await res.json();
    assert.deepEqual(g.members.slice().sort(), [A.agent.id, B.agent.id].sort(), `members: ${brief(g)}`);
    await dialog.waitFor({ state: 'detached', timeout: T });
    await pageA.locator('.entim-conv-title').filter({ hasText: 'Night' }).waitFor({ timeout: T });
    assert.equal(await pageA.locator('.entim-conv-title').textContent(), XSS_GROUP, 'the group\'s name, as text');
    assert.equal(await item(pageA, 'group', g.id).locator('.entim-item-name').textContent(), XSS_GROUP, 'listed as text');

    await say(pageA, XSS_TEXT);
    await waitMessage(pageA, XSS_TEXT, 'A\'s group message');

    // B did not know the group: it appears with its unread count; B is on the IM tab, another conversation open.
    await item(pageB, 'group', g.id).waitFor({ timeout: T });
    await pageB.waitForFunction((id) => {
      const b = document.querySelector(`.entim-item[data-kind="group"][data-id="${id}"] .entim-badge`);
      return !!b && !b.hidden && b.textContent === '1';
    }, g.id, { timeout: T });
    await waitBadge(pageB, '1', 'B\'s IM badge counts the group message');
    assert.equal(await item(pageB, 'group', g.id).locator('.entim-item-name').textContent(), XSS_GROUP, 'B sees the name as text');
    await item(pageB, 'group', g.id).click();
    const fromA = await waitMessage(pageB, XSS_TEXT, 'the group message at B');
    assert.deepEqual({ who: fromA.who, named: fromA.named }, { who: 'Ann Lee', named: true }, 'a group message says who wrote it');
    await waitBadge(pageB, '', 'read once open');

    await say(pageB, 'Count me in <3');
    const back = await waitMessage(pageA, 'Count me in <3', 'B\'s group message at A');
    assert.deepEqual({ who: back.who, mine: back.mine }, { who: 'Bo Chen', mine: false }, 'from B');
    await say(pageA, 'Great, see you there.');
    await waitMessage(pageB, 'Great, see you there.', 'back to B');

    await assertInert(ctxA, pageA, 'A');
    await assertInert(ctxB, pageB, 'B');
  }));

  test('history pages back: 30 at first, "load earlier" brings the rest in order', run(async () => {
    const cIM = new Recorder(gw2, '/im/entim', { query: { token: C.token }, transports: TRANSPORTS.websocket, label: 'Chloé IM' });
    await cIM.connected();
    for (let i = 1; i <= 35; i++) {
      const ack = await cIM.emitAck('message', { touser: A.agent.id, msgtype: 'text', message: `note ${i}`, clientid: uid('im') });
      assert.ok(ack?.ok, `ack ${i}: ${brief(ack)}`);
    }
    await pageA.waitForFunction((id) => {
      const b = document.querySelector(`.entim-item[data-kind="user"][data-id="${id}"] .entim-badge`);
      return !!b && b.textContent === '35';
    }, C.agent.id, { timeout: T });
    await item(pageA, 'user', C.agent.id).click();
    await waitMessage(pageA, 'note 35', 'the latest');
    assert.deepEqual((await messages(pageA)).map((m) => m.text), Array.from({ length: 30 }, (_, i) => `note ${i + 6}`), 'the latest 30');
    await pageA.click('.entim-conv-body .entim-earlier');
    await waitMessage(pageA, 'note 1', 'the earliest, after paging back');
    assert.deepEqual((await messages(pageA)).map((m) => m.text), Array.from({ length: 35 }, (_, i) => `note ${i + 1}`), 'all 35, in order');
    await pageA.locator('.entim-conv-body .entim-log-note').filter({ hasText: 'start of the conversation' }).waitFor({ timeout: T });
    assert.equal(await pageA.locator('.entim-conv-body .entim-earlier').isHidden(), true, 'nothing more to load');
    cIM.close();
  }));

  test('a dropped connection: a send fails, is retried with the same clientid and stored once; on reconnect presence and missed messages come back', run(async () => {
    const proxy = await cuttableProxy(gw1);
    try {
      const ctx = await newContext();
      const page = await signIn(ctx, proxy.url, A);
      await openIM(page);
      await item(page, 'user', C.agent.id).click();
      await waitMessage(page, 'note 35', 'the conversation with C');
      await waitPresence(page, C.agent.id, false);

      proxy.down = true;
      proxy.cut();
      await page.locator('.entim-banner').filter({ hasText: 'reconnecting' }).waitFor({ timeout: T });
      await say(page, 'Are you there?');
      // Unanswered, it turns failed after the acknowledgement timeout, with a retry.
      await page.locator('li.entim-msg[data-state="failed"] .entim-retry').waitFor({ timeout: 30000 });
      await page.click('li.entim-msg[data-state="failed"] .entim-retry');
      await page.locator('li.entim-msg[data-state="sending"]').waitFor({ timeout: T });

      // Meanwhile C opens the workbench (online) and writes: this page hears neither.
      const cWork = connectAgent(gw2, C.token, { label: 'Chloé workbench' });
      await cWork.connected();
      const cIM = new Recorder(gw2, '/im/entim', { query: { token: C.token }, transports: TRANSPORTS.websocket, label: 'Chloé IM 2' });
      await cIM.connected();
      const ack = await cIM.emitAck('message', { touser: A.agent.id, msgtype: 'text', message: 'Back now — sorry!', clientid: uid('im') });
      assert.ok(ack?.ok, `C's message: ${brief(ack)}`);
      await waitPresence(pageA, C.agent.id, true); // the page still connected hears it

      proxy.down = false;
      await page.locator('.entim-banner').waitFor({ state: 'hidden', timeout: T });
      await waitPresence(page, C.agent.id, true);
      await waitMessage(page, 'Back now — sorry!', 'the message missed while away');
      const mine = await waitMessage(page, 'Are you there?', 'the retried send, once');
      assert.ok(mine.mine && mine.id, `sent: ${brief(mine)}`);
      const stored = await c.sql(`SELECT COUNT(*) FROM im_messages WHERE body = 'Are you there?'`);
      assert.equal(stored[0][0], '1', 'stored once');
      await page.close();
      cWork.close();
      cIM.close();
    } finally {
      proxy.close();
    }
  }));

  test('screenshot, then presence: B signs out → A sees B offline after the grace', run(async () => {
    // A few more lines for a conversation that looks like one.
    await item(pageA, 'user', B.agent.id).click();
    await waitMessage(pageA, 'On my way 🏃', 'back in the conversation with B');
    await item(pageB, 'user', A.agent.id).click();
    await waitMessage(pageB, 'On my way 🏃', 'B back in the conversation with A');
    await say(pageB, 'Also: the customer from this morning wrote again about the refund.\nCould you take that chat?');
    await waitMessage(pageA, 'Also: the customer from this morning wrote again about the refund.\nCould you take that chat?', 'B\'s long message');
    await say(pageA, 'Yes, transfer it to me 👍');
    await waitMessage(pageA, 'Yes, transfer it to me 👍', 'A\'s reply');
    // A group A is added to by someone else shows up with its unread count (and the IM tab's badge).
    const team = expectStatus(await http(gw2, 'POST', '/api/v1/entim/groups', { token: C.token, body: { name: 'Support team', members: [A.agent.id, B.agent.id] } }), 201, 'group');
    const cIM = new Recorder(gw2, '/im/entim', { query: { token: C.token }, transports: TRANSPORTS.websocket, label: 'Chloé IM 3' });
    await cIM.connected();
    assert.ok((await cIM.emitAck('message', { group: team.id, msgtype: 'text', message: 'Reminder: team sync at 3 pm', clientid: uid('im') }))?.ok, 'group message');
    await pageA.waitForFunction((id) => document.querySelector(`.entim-item[data-kind="group"][data-id="${id}"] .entim-badge`)?.textContent === '1', team.id, { timeout: T });
    await waitBadge(pageA, '1', 'A\'s IM badge counts the group it was added to');
    cIM.close();
    await pageA.locator('.entim-compose').fill('Thanks for the heads-up');
    await pageA.screenshot({ path: SHOTS + 'workbench-entim.png' });

    await pageB.click('#logout');
    await pageB.locator('#login-view').waitFor({ state: 'visible', timeout: T });
    assert.equal(await pageB.locator('#entim-root .entim').count(), 0, 'the panel is cleared on sign-out');
    await waitPresence(pageA, B.agent.id, false);
    await pageA.locator('.entim-conv-sub').filter({ hasText: 'Offline' }).waitFor({ timeout: T });
    assert.deepEqual(ctxA.errors, [], 'no page errors at A');
    assert.deepEqual(ctxB.errors, [], 'no page errors at B');
  }));

  test('in Chinese: the panel speaks the workbench\'s language', run(async () => {
    const ctx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, locale: 'zh-CN' });
    ctx.dialogs = [];
    ctx.errors = [];
    contexts.push(ctx);
    const page = await signIn(ctx, gw2, C);
    await openIM(page);
    assert.deepEqual(await page.$$eval('.entim-section-title', (h) => h.map((x) => x.textContent)), ['同事', '群组'], 'section titles');
    assert.equal(await page.getAttribute('.entim-search-input', 'placeholder'), '搜索', 'search');
    await item(page, 'user', A.agent.id).click();
    await waitMessage(page, 'Back now — sorry!', 'C\'s conversation with A');
    assert.equal(await page.getAttribute('.entim-compose', 'placeholder'), '发消息给 Ann Lee', 'composer');
    assert.equal(await page.textContent('.entim-compose-hint'), 'Enter 发送 · Shift+Enter 换行', 'hint');
    assert.equal(await page.textContent('.entim-conv-sub'), '在线', 'A, still signed in, is online');
    // A language change after sign-in reaches the panel too (it is mounted again).
    await page.evaluate(() => {
      const s = document.querySelector('.lang-select');
      s.value = 'en';
      s.dispatchEvent(new Event('change'));
    });
    await page.waitForFunction(() => Array.from(document.querySelectorAll('.entim-section-title')).map((x) => x.textContent).join() === 'Colleagues,Groups', null, { timeout: T });
    assert.equal(await page.locator('#entim-root .entim-side').isVisible(), true, 'the panel is still shown');
    assert.deepEqual(ctx.errors, [], 'no page errors');
  }));
});
