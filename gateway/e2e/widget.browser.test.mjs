// The visitor widget in a real browser (Debian's chromium, playwright-core; see widget-harness.mjs):
// the admin page creates a site whose tag works; the entry button, the pre-chat form, text, pictures
// and files both ways, typing, sneak peek on and off, end and rating, rating on request, unread
// count, emoji, the mobile layout. Screenshots go to docs/screenshots/.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { q, DEMO_PASSWORD } from './cluster.mjs';
import { uid, http, expectStatus, readyAgent, brief } from './client.mjs';
import { browserSkip, widgetSuite, T, DESKTOP, MOBILE, VISITOR_PNG, AGENT_PNG, PDF } from './widget-harness.mjs';

describe('the visitor widget in chromium: site admin, the tag on another site, chat with an agent on the other gateway', { skip: browserSkip() }, () => {
  const w = widgetSuite('widget');
  const {
    run, configure, visitorContext, openHost, identityOf, box, waitBox, waitMode, shot, agentNew, notReady,
    agentUpload, imgLoaded, waitRows,
  } = w;

  test('the admin page: log in, create a site, copy its tag; a page with that tag shows its button', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    const ctx = await visitorContext();
    try {
      const page = await ctx.newPage();
      page.on('dialog', (d) => { ctx.dialogs.push(d.message()); d.dismiss().catch(() => {}); });
      await page.goto(`${gwA}/admin/`);
      await page.locator('#username').fill('admin');
      await page.locator('#password').fill('wrong password');
      await page.locator('#login-form button[type=submit]').click();
      await page.locator('#login-error').waitFor({ state: 'visible', timeout: T });
      await page.locator('#password').fill(DEMO_PASSWORD);
      await page.locator('#login-form button[type=submit]').click();
      await page.locator('#nav-sites').click(); // the console's Sites section
      await page.locator('#sites li', { hasText: 'demo' }).first().waitFor({ timeout: T });
      await page.locator('#new-site').click();
      await page.locator('#f-name').fill('Teapot Outlet');
      await page.locator('#f-origins').fill(hostOrigin);
      await page.locator('#f-shape').selectOption('circle');
      await page.locator('#f-position').selectOption('left');
      await page.locator('.swatch').nth(3).click(); // UCKeFu's green, #32C24D
      await page.locator('#f-welcome').fill('Welcome to the outlet!');
      await page.locator('#f-lang').selectOption('en');
      await page.locator('#f-prechat').check();
      await page.locator('#f-pc-name').check();
      await page.locator('#f-pc-name-req').check();
      const raw = JSON.parse(await page.locator('#raw').inputValue());
      assert.deepEqual(raw.button, { shape: 'circle', color: '#32C24D', position: 'left' }, `the JSON follows the form: ${brief(raw)}`);
      await page.locator('#save').click();
      await page.locator('#form-ok').waitFor({ state: 'visible', timeout: T });
      const embed = await page.locator('#embed-code').inputValue();
      const m = /^<script src="([^"]+)\/im\/([^"/]+)\.js" defer><\/script>$/.exec(embed);
      assert.ok(m, `embed code: ${embed}`);
      assert.equal(m[1], gwA);
      const appid = m[2];
      const rows = await c.sql(`SELECT name, origins FROM sites WHERE appid=${q(appid)}`);
      assert.deepEqual(rows, [['Teapot Outlet', JSON.stringify([hostOrigin])]]);
      await shot(page, 'admin-site.png');

      // The tag on the shop's page: the site's button (circle, green, on the left).
      const { page: host, frame } = await openHost(ctx, { appid });
      await frame.locator('#kefu-launcher.shape-circle').waitFor({ state: 'visible', timeout: T });
      assert.equal(await frame.locator('#kefu-launcher').evaluate((b) => getComputedStyle(b).backgroundColor), 'rgb(50, 194, 77)');
      const b = await waitBox(host, (x) => x.width === 60);
      assert.ok(b.x < 40, `on the left: ${brief(b)}`);
      await frame.locator('#kefu-launcher').click();
      // Nobody is ready at this point: the window offers the leave-message form.
      await frame.locator('#kefu-leave-form').waitFor({ state: 'visible', timeout: T });
      assert.equal(await frame.locator('#kefu-welcome').textContent(), 'Welcome to the outlet!');
      assert.deepEqual(ctx.dialogs, []);
    } finally {
      await ctx.close();
    }
  }));

  test('button (delay, shape, colour), pre-chat form, text both ways, pictures both ways, typing, sneak peek on, end and rating', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({
      button: { shape: 'square', color: '#E45DB3', position: 'right', text: 'Chat', delay: 1 },
      theme: { color: '#377FED' },
      welcome: 'Hello! Ask us anything about our teapots.',
      panel: { name: 'Kefu Shop', phone: '+86 10 1234 5678', email: 'help@shop.test', intro: 'Handmade teapots since 1999.' },
      prechat: { enabled: true, fields: [{ name: 'name', required: true }, { name: 'email' }] },
      sneakpeek: true,
      lang: 'en',
    });
    const a = await readyAgent(c, admin.token);
    const ctx = await visitorContext();
    try {
      const t0 = Date.now();
      const { page, frame, id: pageId } = await openHost(ctx);
      // The entry button appears after the delay (1 s), styled by the config, in the bottom corner.
      const launcher = frame.locator('#kefu-launcher');
      await launcher.waitFor({ state: 'visible', timeout: T });
      assert.ok(Date.now() - t0 >= 900, `the button showed ${Date.now() - t0} ms after the page opened, before its 1 s delay`);
      await waitMode(frame, 'button');
      const style = await launcher.evaluate((b) => ({ bg: getComputedStyle(b).backgroundColor, text: b.textContent }));
      assert.equal(style.bg, 'rgb(228, 93, 179)', 'button colour from the config');
      assert.match(style.text, /Chat/);
      await page.waitForFunction(() => {
        const r = document.querySelector('kefu-widget').getBoundingClientRect();
        return r.width > 40 && r.height > 40;
      }, null, { timeout: T });
      const b = await box(page);
      assert.ok(b.x + b.width > DESKTOP.width - 40 && b.y + b.height > DESKTOP.height - 40, `square button at the bottom right: ${brief(b)}`);
      const ident = await identityOf(page, frame);
      await shot(page, 'widget-button.png');

      // The page trail: the page view was stored.
      await waitRows(`SELECT COUNT(*) FROM visitor_traces WHERE userid=${q(ident.userid)} AND title='Shop · home'`, (r) => r[0][0] >= '1', 'trace row');

      // Open: the pre-chat form (name required).
      await launcher.click();
      await waitMode(frame, 'open');
      const prechat = frame.locator('#kefu-prechat');
      await prechat.waitFor({ state: 'visible', timeout: T });
      assert.equal(await frame.locator('#kefu-welcome').textContent(), 'Hello! Ask us anything about our teapots.');
      await frame.locator('#kefu-prechat-submit').click();
      await frame.locator('#kefu-prechat-error').waitFor({ state: 'visible', timeout: T });
      assert.match(await frame.locator('#kefu-prechat-error').textContent(), /Name is required/);
      await shot(page, 'widget-prechat.png');
      const amark = a.socket.mark();
      await frame.locator('#kefu-pc-name').fill('Alice Visitor');
      await frame.locator('#kefu-pc-email').fill('alice@example.com');
      await frame.locator('#kefu-prechat-submit').click();
      const summary = await agentNew(a, ident.userid, amark);
      assert.equal(summary.name, 'Alice Visitor', `pre-chat name reached the agent: ${brief(summary)}`);
      assert.equal(summary.email, 'alice@example.com');
      assert.equal(summary.title, 'Shop · home', 'the host page title');
      assert.equal(summary.url, `${hostOrigin}/?p=${pageId}`, 'the host page URL');
      const sid = summary.agentserviceid;
      await frame.locator('#kefu-status').getByText(a.nickname).waitFor({ timeout: T });
      assert.equal(await frame.locator('#kefu-subtitle').textContent(), a.nickname, 'the agent named in the header');

      // Sneak peek on: the visitor is told; the draft reaches the agent as typed.
      const text = frame.locator('#kefu-text');
      await text.click();
      const dmark = a.socket.mark();
      await text.pressSequentially('hello, is the blue teapot in stock?', { delay: 5 });
      await frame.locator('#kefu-sneakpeek').waitFor({ state: 'visible', timeout: T });
      await a.socket.waitFor('message', (m) => m.type === 'writing' && m.agentserviceid === sid && m.message === 'hello, is the blue teapot in stock?',
        { after: dmark, timeout: T, what: 'the full draft (sneak peek on)' });
      await text.press('Enter');
      const vmsg = await a.socket.waitFor('message', (m) => m.type === 'message' && m.calltype === 'in' && m.message === 'hello, is the blue teapot in stock?',
        { after: dmark, timeout: T, what: 'the visitor message' });
      assert.equal(vmsg.agentserviceid, sid);
      await frame.locator(`#kefu-log li.msg.me.sent[data-id="${vmsg.id}"]`).waitFor({ timeout: T });

      // The agent types: the widget shows the typing indicator; the reply shows as text and hides it.
      a.socket.emit('message', { agentserviceid: sid, type: 'writing', msgtype: 'text', message: 'Let me c', clientid: uid() });
      await frame.locator('#kefu-typing').waitFor({ state: 'visible', timeout: T });
      assert.match(await frame.locator('#kefu-typing').textContent(), new RegExp(`${a.nickname} is typing`));
      const reply = await a.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'text', message: 'Yes, we have 3 left. See https://shop.test/blue', clientid: uid() });
      assert.ok(reply.ok, brief(reply));
      await frame.locator(`#kefu-log li.msg.agent[data-id="${reply.id}"]`).waitFor({ timeout: T });
      await frame.locator('#kefu-typing').waitFor({ state: 'hidden', timeout: T });
      assert.equal(await frame.locator(`#kefu-log li[data-id="${reply.id}"] .text a`).getAttribute('href'), 'https://shop.test/blue', 'links are links');

      // The visitor sends a picture (file picker): uploaded, sent with its attachmentid, shown.
      const imark = a.socket.mark();
      await frame.locator('#kefu-file').setInputFiles({ name: 'teapot.png', mimeType: 'image/png', buffer: VISITOR_PNG });
      const vimg = await a.socket.waitFor('message', (m) => m.type === 'message' && m.msgtype === 'image' && m.calltype === 'in',
        { after: imark, timeout: T, what: 'the visitor picture' });
      assert.ok(vimg.attachmentid && /^\/files\//.test(vimg.url), `picture message: ${brief(vimg)}`);
      assert.equal(vimg.filename, 'teapot.png');
      await imgLoaded(frame, `#kefu-log li[data-id="${vimg.id}"] img`);

      // The agent uploads a picture (POST /api/v1/uploads) and sends it: the widget shows it.
      const up = await agentUpload(a, sid, AGENT_PNG, 'blue-teapot.png');
      const aimg = await a.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'image', message: 'blue-teapot.png', attachmentid: up.attachmentid, clientid: uid() });
      assert.ok(aimg.ok, brief(aimg));
      await imgLoaded(frame, `#kefu-log li[data-id="${aimg.id}"] img`);
      const src = await frame.locator(`#kefu-log li[data-id="${aimg.id}"] img`).getAttribute('src');
      assert.equal(src, gwA + up.url, 'the picture is shown from its URL');
      await shot(page, 'widget-chat-desktop.png');

      // Pasting a picture into the message box sends it too.
      const pmark = a.socket.mark();
      await frame.locator('#kefu-text').evaluate((ta, b64) => {
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }));
        ta.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
      }, AGENT_PNG.toString('base64'));
      const pimg = await a.socket.waitFor('message', (m) => m.type === 'message' && m.msgtype === 'image' && m.filename === 'pasted.png',
        { after: pmark, timeout: T, what: 'the pasted picture' });
      await imgLoaded(frame, `#kefu-log li[data-id="${pimg.id}"] img`);

      // A PDF goes as a file (a download link with its name and size); HTML named .png is refused
      // by the server (the type is read from the content) and shows as not sent.
      const fmark = a.socket.mark();
      await frame.locator('#kefu-file').setInputFiles({ name: 'price-list.pdf', mimeType: 'application/pdf', buffer: PDF });
      const vfile = await a.socket.waitFor('message', (m) => m.type === 'message' && m.msgtype === 'file' && m.calltype === 'in',
        { after: fmark, timeout: T, what: 'the visitor file' });
      assert.equal(vfile.filename, 'price-list.pdf');
      const fileLink = frame.locator(`#kefu-log li[data-id="${vfile.id}"] a.file-link`);
      await fileLink.waitFor({ timeout: T });
      assert.equal(await fileLink.getAttribute('href'), gwA + vfile.url);
      assert.match(await fileLink.textContent(), /price-list\.pdf/);
      await frame.locator('#kefu-file').setInputFiles({ name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
      const refused = frame.locator('#kefu-log li.msg.me.failed', { hasText: 'evil.png' });
      await refused.waitFor({ timeout: T });
      assert.match(await refused.textContent(), /cannot be sent/);
      assert.equal(a.socket.count('message', (m) => m.type === 'message' && m.filename === 'evil.png', fmark), 0, 'nothing sent');

      // The side panel (about us): text only, and the Escape key closes it.
      await frame.locator('#kefu-info').click();
      await frame.locator('#kefu-panel').getByText('Handmade teapots since 1999.').waitFor({ timeout: T });
      await frame.locator('#kefu-panel').press('Escape');
      await frame.locator('#kefu-panel').waitFor({ state: 'hidden', timeout: T });

      // The agent ends the chat: the rating dialog; 4 stars and a comment are stored.
      expectStatus(await http(gwB, 'POST', `/api/v1/sessions/${sid}/end`, { token: a.token }), 200, 'end');
      const rating = frame.locator('#kefu-rating');
      await rating.waitFor({ state: 'visible', timeout: T });
      await frame.locator('label[for="kefu-star-4"]').click();
      await frame.locator('#kefu-rating-comment').fill('Quick and kind');
      await shot(page, 'widget-rating.png');
      await frame.locator('#kefu-rating-submit').click();
      await rating.waitFor({ state: 'hidden', timeout: T });
      await waitRows(`SELECT satis_level, satis_comment FROM sessions WHERE id=${q(sid)}`, (r) => r[0][0] === '4', 'rating stored');
      assert.deepEqual(await c.sql(`SELECT satis_level, satis_comment FROM sessions WHERE id=${q(sid)}`), [['4', 'Quick and kind']]);
      await frame.locator('#kefu-newchat').waitFor({ state: 'visible', timeout: T });

      // Escape minimises the window back to the button.
      await frame.locator('#kefu-newchat').press('Escape');
      await waitMode(frame, 'button');
      assert.deepEqual(ctx.dialogs, [], 'no dialog');
    } finally {
      await ctx.close();
      await notReady(a);
    }
  }));

  test('sneak peek off: the agent only learns that the visitor types; no notice', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'circle', color: '#32C24D' }, lang: 'en' });
    const a = await readyAgent(c, admin.token);
    const ctx = await visitorContext();
    try {
      const { page, frame } = await openHost(ctx);
      await frame.locator('#kefu-launcher').click();
      await waitMode(frame, 'open');
      const ident = await identityOf(page, frame);
      // No pre-chat form: the first message opens the chat.
      const amark = a.socket.mark();
      const text = frame.locator('#kefu-text');
      await text.fill('first question');
      await text.press('Enter');
      const s = await agentNew(a, ident.userid, amark);
      // Sent at once after `new`, possibly while still queued: such messages reach the agent
      // through the history API (protocol.md), so look there.
      await frame.locator('#kefu-log li.msg.me.sent', { hasText: 'first question' }).waitFor({ timeout: T });
      const hist = await http(gwB, 'GET', `/api/v1/sessions/${s.agentserviceid}/messages`, { token: a.token });
      assert.ok((hist.body || []).some((m) => m.message === 'first question'), `the first message is in the session: ${hist.text}`);
      await frame.locator('#kefu-status').getByText(a.nickname).waitFor({ timeout: T });
      const dmark = a.socket.mark();
      await text.click();
      await text.pressSequentially('my secret draft', { delay: 5 });
      const w = await a.socket.waitFor('message', (m) => m.type === 'writing' && m.agentserviceid === s.agentserviceid,
        { after: dmark, timeout: T, what: 'a typing signal' });
      assert.equal(w.message, '', `typing only: ${brief(w)}`);
      assert.equal(await frame.locator('#kefu-sneakpeek').isVisible(), false, 'no sneak-peek notice');
      await text.press('Enter');
      await a.socket.waitFor('message', (m) => m.type === 'message' && m.message === 'my secret draft', { after: dmark, timeout: T });
      const leaked = a.socket.all('message', (m) => m.type === 'writing' && m.message !== '', dmark);
      assert.deepEqual(leaked.map((e) => e.data.message), [], 'no draft text reached the agent');
      assert.equal(await frame.locator('#kefu-sneakpeek').isVisible(), false, 'no sneak-peek notice');
      // The circle button, bottom right, round.
      await frame.locator('#kefu-close').click();
      await waitMode(frame, 'button');
      await page.waitForFunction(() => document.querySelector('kefu-widget').getBoundingClientRect().width === 60, null, { timeout: T });
      // A reply while the window is closed: the button shows an unread count, opening clears it.
      const r = await a.socket.emitAck('message', { agentserviceid: s.agentserviceid, type: 'message', msgtype: 'text', message: 'Anything else?', clientid: uid() });
      assert.ok(r.ok, brief(r));
      await frame.locator('#kefu-launcher .badge').getByText('1').waitFor({ timeout: T });
      assert.match(await frame.locator('#kefu-launcher').getAttribute('aria-label'), /1 unread message/);
      await shot(page, 'widget-button-circle.png');
      await frame.locator('#kefu-launcher').click();
      await frame.locator(`#kefu-log li[data-id="${r.id}"]`).waitFor({ timeout: T });
      await frame.waitForFunction(() => document.querySelector('#kefu-launcher .badge').hidden, null, { timeout: T });
    } finally {
      await ctx.close();
      await notReady(a);
    }
  }));

  test('mobile: the window fills the screen', run(async () => {
    const { c, admin, gwA, gwB, hostOrigin } = w;
    await configure({ button: { shape: 'circle', color: '#377FED' }, lang: 'en', welcome: 'Hi! How can we help?' });
    const a = await readyAgent(c, admin.token);
    const ctx = await visitorContext(MOBILE);
    try {
      const { page, frame } = await openHost(ctx);
      await frame.locator('#kefu-launcher').waitFor({ state: 'visible', timeout: T });
      await shot(page, 'widget-button-mobile.png');
      await frame.locator('#kefu-launcher').click();
      await waitMode(frame, 'open');
      await page.waitForFunction((w) => document.querySelector('kefu-widget').getBoundingClientRect().width === w, MOBILE.width, { timeout: T });
      assert.deepEqual(await box(page), { x: 0, y: 0, width: MOBILE.width, height: MOBILE.height }, 'full screen');
      const ident = await identityOf(page, frame);
      const amark = a.socket.mark();
      await frame.locator('#kefu-text').fill('Do you ship to Shanghai?');
      await frame.locator('#kefu-text').press('Enter');
      const s = await agentNew(a, ident.userid, amark);
      await frame.locator('#kefu-log li.msg.me.sent').waitFor({ timeout: T });
      const r = await a.socket.emitAck('message', { agentserviceid: s.agentserviceid, type: 'message', msgtype: 'text', message: 'Yes, in 3 days 🚚', clientid: uid() });
      await frame.locator(`#kefu-log li[data-id="${r.id}"]`).waitFor({ timeout: T });
      const order = await frame.$$eval('#kefu-log li.msg', (lis) => lis.map((li) => li.textContent));
      assert.ok(/Shanghai/.test(order[0]) && /3 days/.test(order[1]), `in the order sent: ${brief(order)}`);
      // The emoji picker puts an emoji into the message.
      await frame.locator('#kefu-emoji-button').click();
      await frame.locator('#kefu-emoji button', { hasText: '👍' }).click();
      assert.equal(await frame.locator('#kefu-text').inputValue(), '👍');
      await shot(page, 'widget-chat-mobile.png');

      // The agent asks for a rating during the chat (status rating): the dialog; 5 stars stored.
      expectStatus(await http(gwB, 'POST', `/api/v1/sessions/${s.agentserviceid}/rating-request`, { token: a.token }), 200, 'rating request');
      await frame.locator('#kefu-rating').waitFor({ state: 'visible', timeout: T });
      await frame.locator('label[for="kefu-star-5"]').click();
      await frame.locator('#kefu-rating-submit').click();
      await frame.locator('#kefu-rating').waitFor({ state: 'hidden', timeout: T });
      await waitRows(`SELECT satis_level FROM sessions WHERE id=${q(s.agentserviceid)}`, (r) => r[0][0] === '5', 'rating stored');
    } finally {
      await ctx.close();
      await notReady(a);
    }
  }));
});
