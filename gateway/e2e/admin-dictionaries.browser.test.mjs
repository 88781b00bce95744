// The dictionaries in chromium (issue 11), on the demo-seeded 2-gateway cluster: in the admin
// console (/admin/ on gateway 1, the demo admin) tags are created with a colour and kind,
// edited in place and deleted; the blacklist is searched, a block extended by days with a new
// reason and another lifted (the visitor gets an identity again from gateway 2 at once); a CSV
// file of canned replies (Chinese, quoted newlines, CRLF, a bad row) is imported, the result
// shows the refused line, the category tree shows the paths, a category is added and a reply
// filed in it, and the export is the file's content. In the workbench (gateway 2), an agent tags
// the visitor of its chat from the visitor panel (the visitor tag picker; conversation tags offer
// only conversation tags) and finds the imported replies in the canned panel's tree. XSS payloads
// in tag names and reasons are shown as text. Screenshots: admin-tags.png, admin-blacklist.png,
// admin-canned.png, workbench-visitor-tags.png.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_PASSWORD } from './cluster.mjs';
import { http, expectStatus, newVisitor, connectVisitor, brief } from './client.mjs';
import { workbenchSuite, browserSkip, SHOTS, T } from './workbench-harness.mjs';
import { launchBrowser, recordedPage, adminSignIn, confirmYes, noInjection } from './admin-harness.mjs';

const XSS = '<img src=x onerror="window.__xss=1">';
const DAY = 86400000;

describe('dictionaries in the browser', { skip: browserSkip() }, () => {
  const w = workbenchSuite('admin-dictionaries');
  let browser;
  let page;
  const api = async (method, url, body, want = 200) => expectStatus(await http(w.gw1, method, url, { token: w.admin.token, body }), want, `${method} ${url}`);

  before(async () => {
    browser = await launchBrowser();
    page = await recordedPage(browser, { acceptDownloads: true });
    await adminSignIn(page, w.gw1, 'admin', DEMO_PASSWORD);
    await page.locator('#nav-tags').waitFor({ timeout: T });
  });

  after(async () => {
    await browser?.close().catch(() => {});
  });

  const tagRow = (name) => page.locator('#tags-table tbody tr', { has: page.locator('.tag-chip', { hasText: name }) });
  const blRow = (userid) => page.locator(`#bl-table tbody tr[data-key="demo/${userid}"]`);

  test('tags: created by kind with a colour, edited in place, deleted', w.run(async () => {
    await page.locator('#nav-tags').click();
    await page.locator('#tags-table').waitFor({ timeout: T });
    await page.locator('#tag-name').fill('Returning');
    await page.locator('#tag-color').fill('#1a7f37');
    await page.locator('#tag-new-kind').selectOption('visitor');
    await page.locator('#tag-create').click();
    await tagRow('Returning').waitFor({ timeout: T });
    assert.equal(await page.locator('#tags-kind').inputValue(), 'visitor', 'the list shows the new tag\'s kind');

    await page.locator('#tag-name').fill('Fraud ' + XSS);
    await page.locator('#tag-create').click();
    await tagRow('Fraud').waitFor({ timeout: T });
    await noInjection(page, 'a tag named with markup');
    assert.equal(await tagRow('Fraud').locator('.tag-chip').textContent(), 'Fraud ' + XSS);

    // The same name and kind again: refused, with the reason.
    await page.locator('#tag-name').fill('returning');
    await page.locator('#tag-create').click();
    await page.locator('#notice.error', { hasText: 'exists already' }).waitFor({ timeout: T });

    // Edit in place: a new name and colour.
    await tagRow('Returning').locator('[data-action="edit"]').click();
    await page.locator('.tag-edit-name').fill('VIP');
    await page.locator('.tag-edit-color').fill('#b26a00');
    await page.locator('#tags-table [data-action="save"]').click();
    await tagRow('VIP').waitFor({ timeout: T });
    const tags = await api('GET', '/api/v1/tags?kind=visitor');
    const vip = tags.find((x) => x.name === 'VIP');
    assert.ok(vip && vip.color === '#b26a00' && vip.kind === 'visitor', `tags: ${brief(tags)}`);

    // Delete, confirmed in the page's dialog.
    await tagRow('Fraud').locator('[data-action="delete"]').click();
    await confirmYes(page);
    await tagRow('Fraud').waitFor({ state: 'detached', timeout: T });
    assert.deepEqual((await api('GET', '/api/v1/tags?kind=visitor')).map((x) => x.name), ['VIP']);

    // A conversation tag, for the workbench test below.
    await page.locator('#tags-kind').selectOption('session');
    await page.locator('#tag-name').fill('Shipping');
    await page.locator('#tag-new-kind').selectOption('session');
    await page.locator('#tag-create').click();
    await tagRow('Shipping').waitFor({ timeout: T });
    await page.locator('#tags-kind').selectOption('visitor');
    await tagRow('VIP').waitFor({ timeout: T });
    await page.locator('#notice').waitFor({ state: 'hidden', timeout: T });
    await page.screenshot({ path: SHOTS + 'admin-tags.png', fullPage: true });
  }));

  test('blacklist: searched, extended by days with a reason, lifted on every gateway', w.run(async () => {
    const a = await w.agent('Blocker');
    const idents = [];
    for (const [nick, reason] of [['Spammer Sam', 'spam links'], ['Rude Rita', 'abuse ' + XSS]]) {
      const ident = await newVisitor(w.gw1);
      const v = connectVisitor(w.gw1, ident, { query: { nickname: nick } });
      await v.connected();
      expectStatus(await http(w.gw2, 'POST', '/api/v1/blacklist', { token: a.token, body: { appid: 'demo', userid: ident.userid, hours: 2, reason } }), 201, 'block');
      await v.waitFor('refused', () => true, { what: 'refused' });
      v.close();
      idents.push(ident);
    }
    const [sam, rita] = idents;
    await page.locator('#nav-blacklist').click();
    await blRow(sam.userid).waitFor({ timeout: T });
    await blRow(rita.userid).waitFor({ timeout: T });
    assert.equal(await blRow(rita.userid).locator('td').nth(2).textContent(), 'abuse ' + XSS);
    await noInjection(page, 'a reason with markup');

    await page.locator('#bl-q').fill('spam');
    await page.locator('#bl-search').click();
    await blRow(rita.userid).waitFor({ state: 'detached', timeout: T });
    await blRow(sam.userid).waitFor({ timeout: T });
    await page.locator('#bl-q').fill('');
    await page.locator('#bl-search').click();
    await blRow(rita.userid).waitFor({ timeout: T });

    // Extend Sam's block by 3 days, with a new reason.
    const before = (await api('GET', '/api/v1/blacklist?q=' + encodeURIComponent(sam.userid))).items[0];
    await blRow(sam.userid).locator('[data-action="extend"]').click();
    await page.locator('#bl-table .bl-days').fill('3');
    await page.locator('#bl-table .bl-reason').fill('spam links, again');
    await page.locator('#bl-table [data-action="save"]').click();
    await blRow(sam.userid).locator('td', { hasText: 'spam links, again' }).waitFor({ timeout: T });
    const after = (await api('GET', '/api/v1/blacklist?q=' + encodeURIComponent(sam.userid))).items[0];
    assert.equal(new Date(after.until) - new Date(before.until), 3 * DAY, `extended: ${brief({ before, after })}`);
    assert.equal(after.reason, 'spam links, again');

    // Lift Rita's: gateway 2 gives her an identity again at once.
    expectStatus(await http(w.gw2, 'POST', '/im/demo/visitor', { body: { userid: rita.userid, sign: rita.sign } }), 403, 'identity while blocked');
    await blRow(rita.userid).locator('[data-action="lift"]').click();
    await confirmYes(page);
    await blRow(rita.userid).waitFor({ state: 'detached', timeout: T });
    expectStatus(await http(w.gw2, 'POST', '/im/demo/visitor', { body: { userid: rita.userid, sign: rita.sign } }), 200, 'identity once lifted');
    await page.locator('#notice').waitFor({ state: 'hidden', timeout: T });
    await page.screenshot({ path: SHOTS + 'admin-blacklist.png', fullPage: true });
  }));

  test('canned replies: a CSV file imported (result per line), the tree, a category and a reply added, the export', w.run(async () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'kefu-canned-')), 'replies.csv');
    fs.writeFileSync(file, '\uFEFFcategory,title,content\r\n' +
      '售后/退款,退款时效,"退款 3-5 个工作日到账，\r\n如有疑问请联系我们。"\r\n' + // lines 2-3
      '售后/换货,换货流程,请在订单页申请换货。\r\n' +
      'Shipping,Shipping times,"We ship within 2 working days, ""usually"" sooner."\r\n' +
      'Shipping,,no title\r\n' + // line 6: refused
      ',Greeting,Hello! How can I help?\r\n');
    await page.locator('#nav-canned').click();
    await page.locator('#canned-tree').waitFor({ timeout: T });
    await page.locator('#canned-import-file').setInputFiles(file);
    await page.locator('#canned-import').click();
    const result = page.locator('#canned-import-result');
    await result.locator('.import-summary', { hasText: '4 new' }).waitFor({ timeout: T });
    assert.match(await result.locator('.import-summary').textContent(), /4 new, 0 updated, 0 unchanged, 4 new categories; 1 rows refused/);
    assert.match(await result.locator('li[data-line="6"]').textContent(), /^Line 6: title must be/);

    // The tree: 售后 with 退款 and 换货 below it, Shipping; picking a node lists its replies.
    const node = (p) => page.locator(`#canned-tree li[data-path="${p}"] > .tree-row .tree-node`);
    for (const p of ['售后', '售后/退款', '售后/换货', 'Shipping']) await node(p).waitFor({ timeout: T });
    await node('售后/退款').click();
    await page.locator('#canned-table tbody tr', { hasText: '退款时效' }).waitFor({ timeout: T });
    assert.equal(await page.locator('#canned-table tbody tr').count(), 1);
    assert.match(await page.locator('#canned-table .reply-content').textContent(), /到账，\n如有疑问/);

    // Fold 售后: its children go; unfold: back.
    await page.locator('#canned-tree li[data-path="售后"] > .tree-row .tree-toggle').click();
    await node('售后/退款').waitFor({ state: 'detached', timeout: T });
    await page.locator('#canned-tree li[data-path="售后"] > .tree-row .tree-toggle').click();
    await node('售后/退款').waitFor({ timeout: T });

    // A category below Shipping, and a reply filed in it through the form.
    await node('Shipping').click();
    await page.locator('#cat-name').fill('Customs');
    await page.locator('#cat-add').click();
    await node('Shipping/Customs').waitFor({ timeout: T });
    await node('Shipping/Customs').click();
    assert.equal(await page.locator('#reply-category option:checked').textContent(), 'Shipping/Customs');
    await page.locator('#reply-title').fill('Customs fees');
    await page.locator('#reply-content').fill('Customs fees are paid by the recipient.');
    await page.locator('#reply-save').click();
    await page.locator('#canned-table tbody tr', { hasText: 'Customs fees' }).waitFor({ timeout: T });

    // Deleting a category that holds replies moves them first.
    await node('Shipping/Customs').click();
    await page.locator('#cat-move-to').selectOption({ label: 'Shipping' });
    await page.locator('#cat-delete').click();
    await confirmYes(page);
    await node('Shipping/Customs').waitFor({ state: 'detached', timeout: T });
    const moved = (await api('GET', '/api/v1/canned?q=Customs'))[0];
    assert.equal(moved.category, 'Shipping', `moved: ${brief(moved)}`);

    // The export: BOM, header, the replies by path.
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: T }), page.click('#canned-export')]);
    assert.match(download.suggestedFilename(), /^kefu-canned-tenant-.*\.csv$/);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    assert.ok(csv.startsWith('\uFEFFcategory,title,content\n'), `csv: ${brief(csv)}`);
    for (const row of [',Greeting,Hello! How can I help?', 'Shipping,Customs fees,Customs fees are paid by the recipient.', '售后/换货,换货流程,请在订单页申请换货。']) {
      assert.ok(csv.includes('\n' + row + '\n'), `row ${row} in ${brief(csv)}`);
    }
    await node('售后/退款').click();
    await page.locator('#notice').waitFor({ state: 'hidden', timeout: T });
    await page.screenshot({ path: SHOTS + 'admin-canned.png', fullPage: true });

    // In Chinese.
    await page.locator('#lang').selectOption('zh-CN');
    await page.locator('#section h2', { hasText: '快捷回复' }).waitFor({ timeout: T });
    await page.locator('#canned-export', { hasText: '导出 CSV' }).waitFor({ timeout: T });
    assert.equal(await page.locator('#nav-blacklist').textContent(), '黑名单');
    await page.locator('#lang').selectOption('en');
    await page.locator('#section h2', { hasText: 'Canned replies' }).waitFor({ timeout: T });
    assert.deepEqual(page.errors, [], 'page errors');
  }));

  test('workbench: the visitor panel tags the visitor; canned replies in their tree', w.run(async () => {
    const tags = await api('GET', '/api/v1/tags');
    const vip = tags.find((x) => x.name === 'VIP' && x.kind === 'visitor');
    const ship = tags.find((x) => x.name === 'Shipping' && x.kind === 'session');
    assert.ok(vip && ship, `tags from the first test: ${brief(tags)}`);
    const a = await w.agent('Tess');
    const wb = await w.openWorkbench(w.gw2, a);
    const { v, sid, ident } = await w.visitorChat(w.gw1, a, { query: { nickname: 'Lena' } });
    await w.conv(wb, sid).click();
    await wb.locator('#visitor-profile-tags').waitFor({ timeout: T });

    // Conversation tags offer conversation tags only; the visitor's picker, visitor tags only.
    assert.deepEqual(await wb.locator('#visitor-tags .chip').evaluateAll((cs) => cs.map((c) => c.dataset.id)), [ship.id]);
    assert.deepEqual(await wb.locator('#visitor-tag-pick option').evaluateAll((os) => os.map((o) => o.value)), ['', vip.id]);
    await wb.locator('#visitor-tag-pick').selectOption(vip.id);
    await wb.locator(`#visitor-profile-tags .chip.on[data-id="${vip.id}"]`).waitFor({ timeout: T });
    const path = `/api/v1/visitors/demo/${encodeURIComponent(ident.userid)}/tags`;
    assert.deepEqual(expectStatus(await http(w.gw1, 'GET', path, { token: a.token }), 200, 'visitor tags').tags, [vip.id]);
    const panel = expectStatus(await http(w.gw1, 'GET', `/api/v1/sessions/${sid}/visitor`, { token: a.token }), 200, 'panel');
    assert.deepEqual({ tags: panel.tags, visitortags: panel.visitortags }, { tags: [], visitortags: [vip.id] });
    await wb.click(`#visitor-tags .chip[data-id="${ship.id}"]`);
    await wb.locator(`#visitor-tags .chip[data-id="${ship.id}"][aria-pressed="true"]`).waitFor({ timeout: T });
    await wb.locator('#toast').waitFor({ state: 'hidden', timeout: T });
    await wb.mouse.move(0, 0); // no hover on the chips in the picture
    await w.shot(wb, 'workbench-visitor-tags.png');

    // Removing the chip takes the tag off the visitor.
    await wb.locator(`#visitor-profile-tags .chip.on[data-id="${vip.id}"] .chip-remove`).click();
    await wb.locator(`#visitor-profile-tags .chip.on[data-id="${vip.id}"]`).waitFor({ state: 'detached', timeout: T });
    assert.deepEqual(expectStatus(await http(w.gw1, 'GET', path, { token: a.token }), 200, 'visitor tags').tags, []);

    // The canned panel: the team's tree from the import, nested.
    await wb.click('button[data-side="canned"]');
    const refunds = wb.locator('#canned-list .canned-scope[data-scope="tenant"] details.canned-cat details.canned-cat', { hasText: '退款' });
    await refunds.locator('.canned-item', { hasText: '退款时效' }).waitFor({ timeout: T });
    await wb.locator('#canned-search').fill('Customs');
    await wb.locator('#canned-list .canned-item', { hasText: 'Customs fees' }).waitFor({ timeout: T });
    await wb.locator('#canned-list .canned-item', { hasText: '退款时效' }).waitFor({ state: 'detached', timeout: T });
    await w.assertInert(wb, 'workbench');
    assert.deepEqual(wb.errors, [], 'workbench page errors');
    v.close();
  }));
});
