// The routing and session settings section in chromium (issue 11): signed in at /admin/ on
// gateway 1, the admin moves the demo tenant to Asia/Shanghai and sets hours that are closed
// right now by Shanghai's clock (the hours exclude the two hours around Shanghai's time now, and
// Shanghai's weekday is marked closed): the editor says "Closed now", the widget config on
// gateway 2 says open:false and a visitor asking for a chat is told it is off hours. A bad range
// is refused with the message next to its weekday. Then the admin opens the service: open:true.
// A skill group's overrides ("#/settings?skill=<id>"): the timer shows what it inherits from the
// tenant, the group's own value takes effect, and removing the overrides inherits again. Chinese
// texts checked. Screenshots: admin-settings.png, admin-settings-group.png.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { DEMO_PASSWORD } from './cluster.mjs';
import { http, expectStatus, newVisitor, connectVisitor } from './client.mjs';
import { browserSkip, SHOTS, T } from './widget-harness.mjs';
import { startSuite, stopSuite, recordedPage, adminSignIn, confirmYes } from './admin-harness.mjs';

const WEEK = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const pad = (n) => String(((n % 24) + 24) % 24).padStart(2, '0');

/** Shanghai's wall clock now (UTC+8 all year). */
function shanghai() {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  return { hour: d.getUTCHours(), weekday: WEEK[d.getUTCDay()], date: (k) => new Date(d.getTime() + k * 86400000).toISOString().slice(0, 10) };
}

describe('routing and session settings in the browser', { skip: browserSkip() }, () => {
  let c;
  let gw1;
  let gw2;
  let admin;
  let browser;
  let page;

  before(async () => {
    ({ c, gw1, gw2, admin, browser } = await startSuite('admin-settings'));
    page = await recordedPage(browser);
    await adminSignIn(page, gw1, 'admin', DEMO_PASSWORD);
    await page.locator('#nav-settings').waitFor({ timeout: T });
  });

  after(() => stopSuite({ c, browser }));

  const run = (fn) => (t) => c.wrap(fn)(t);
  const widgetOpen = async () => expectStatus(await http(gw2, 'GET', '/im/demo/config'), 200, 'widget config').open;
  const stored = async () => expectStatus(await http(gw1, 'GET', '/api/v1/admin/sessionconfig', { token: admin.token }), 200, 'settings');
  const openState = () => page.locator('#set-open-now');

  async function save() {
    await page.locator('#set-save').click();
    await page.locator('#notice.ok').filter({ hasText: 'Settings saved' }).waitFor({ timeout: T });
  }

  test('time zone and hours closed by Shanghai\'s clock, then open', run(async () => {
    await page.locator('#nav-settings').click();
    await page.locator('#set-timezone').fill('Asia/Shanghai');
    await page.locator('#set-tenant-save').click();
    await page.locator('#set-clock').filter({ hasText: 'Asia/Shanghai' }).waitFor({ timeout: T });
    const tenant = expectStatus(await http(gw1, 'GET', '/api/v1/admin/tenant', { token: admin.token }), 200, 'tenant');
    assert.equal(tenant.timezone, 'Asia/Shanghai');
    assert.match(tenant.now, /\+08:00$/);

    // A bad range is refused with the message next to the day it belongs to.
    await page.locator('#set-day-mon').fill('9-18');
    await page.locator('#set-save').click();
    const monError = page.locator('[data-field="schedule.days.mon"]');
    await monError.filter({ hasText: 'schedule.days.mon' }).waitFor({ timeout: T });
    await page.locator('#set-day-mon').fill('');

    // Open every day except the two hours either side of Shanghai's time now, and today (by
    // Shanghai's date) closed: closed now even if the date turns meanwhile.
    const sh = shanghai();
    const spec = `${pad(sh.hour + 2)}:00~${pad(sh.hour - 2)}:00`;
    await page.locator('#set-workinghours').fill(spec);
    await page.locator(`#set-day-${sh.weekday}-closed`).check();
    assert.equal(await page.locator(`#set-day-${sh.weekday}`).isDisabled(), true, 'a closed day takes no ranges');
    await page.locator('#set-timeout').fill('300');
    await page.locator('#set-hol-add').click();
    await page.locator('#set-hol-0-date').fill(sh.date(7));
    await page.locator('#set-hol-0-name').fill('国庆节');
    await save();
    assert.equal(await monError.isHidden(), true, 'the error is gone once saved');
    await openState().and(page.locator('[data-open="false"]')).waitFor({ timeout: T });
    assert.match(await openState().innerText(), /Closed now \(Asia\/Shanghai \d\d:\d\d, \w+day\)/);
    assert.equal(await widgetOpen(), false, 'the widget config by Shanghai\'s clock');

    const row = (await stored()).find((r) => r.skill === '');
    assert.equal(row.workinghours, spec);
    assert.deepEqual(row.schedule, { days: { [sh.weekday]: '' }, holidays: [{ date: sh.date(7), hours: '', name: '国庆节' }] });

    // Routing reads the same clock: a visitor asking now is told it is off hours.
    const ident = await newVisitor(gw2);
    const v = connectVisitor(gw2, ident, { label: 'visitor off hours' });
    await v.connected();
    const mark = v.mark();
    const ack = await v.emitAck('new', { name: 'Off hours' });
    assert.equal(ack.ok, true);
    await v.waitFor('status', (s) => s && s.state === 'offhours', { after: mark, what: 'offhours' });

    // Open it: every day, today included.
    await page.locator('#set-workinghours').fill('');
    await page.locator(`#set-day-${sh.weekday}-closed`).uncheck();
    await save();
    await openState().and(page.locator('[data-open="true"]')).waitFor({ timeout: T });
    assert.match(await openState().innerText(), /Open now \(Asia\/Shanghai/);
    assert.equal(await widgetOpen(), true, 'the widget config once open');
    assert.match(await page.locator('#set-eff-initmaxuser').innerText(), /inherits 5 from the default/);
    await page.screenshot({ path: SHOTS + 'admin-settings.png', fullPage: true });
    assert.deepEqual(page.errors, []);
  }));

  test('a skill group\'s overrides: inherited, its own, removed', run(async () => {
    const group = expectStatus(await http(gw1, 'POST', '/api/v1/admin/skills', { token: admin.token, body: { name: 'VIP' } }), [200, 201], 'group');
    await page.goto(`${gw1}/admin/#/settings?skill=${encodeURIComponent(group.id)}`);
    await page.locator('#set-scope').waitFor({ timeout: T });
    assert.equal(await page.locator('#set-scope').inputValue(), group.id);
    assert.equal(await page.locator('#set-lang').count(), 0, 'language and prompts are the tenant\'s');
    const eff = page.locator('#set-eff-timeout');
    assert.match(await eff.innerText(), /inherits 300 s from the tenant/);
    assert.equal(await page.locator('#set-eff-hours').innerText(), 'Inherits from the tenant: always open; 1 special date');
    await page.locator('#set-timeout').fill('120');
    await page.locator('#set-day-sat-closed').check();
    await save();
    await eff.filter({ hasText: 'in effect: 120 s' }).waitFor({ timeout: T });
    assert.equal(await page.locator('#set-eff-hours').innerText(), 'In effect: always open; Saturday closed', 'the group\'s hours replace the tenant\'s whole');
    const effective = expectStatus(await http(gw1, 'GET', `/api/v1/admin/sessionconfig/effective?skill=${group.id}`, { token: admin.token }), 200, 'effective');
    assert.deepEqual(effective.effective.timeout, { value: 120, source: 'group' });
    assert.deepEqual(effective.effective.schedule, { value: { days: { sat: '' } }, source: 'group' });
    await page.screenshot({ path: SHOTS + 'admin-settings-group.png', fullPage: true });

    await page.locator('#set-reset').click();
    await confirmYes(page);
    await page.locator('#set-eff-timeout').filter({ hasText: 'inherits 300 s from the tenant' }).waitFor({ timeout: T });
    assert.equal((await stored()).some((r) => r.skill === group.id), false, 'the group\'s row is gone');

    // In Chinese.
    await page.locator('#lang').selectOption('zh-CN');
    await page.locator('#section h2', { hasText: '路由与会话设置' }).waitFor({ timeout: T });
    assert.match(await openState().innerText(), /当前营业中/);
    assert.match(await page.locator('#set-eff-timeout').innerText(), /继承租户：300 s/);
    assert.deepEqual(page.errors, []);
  }));
});
