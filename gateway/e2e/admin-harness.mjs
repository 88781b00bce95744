// Small helpers of the admin console's browser tests (admin-*.browser.test.mjs and
// setup.browser.test.mjs): a suite's cluster and chromium started and stopped, pages that record
// their errors and dialogs, the /admin/ sign-in form, the confirm dialog and the XSS check. The
// hooks stay in the test files; chromium's settings come from widget-harness.mjs.
//
// Every wait is on DOM state; no sleep synchronises anything.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { startCluster } from './cluster.mjs';
import { adminLogin, closeAllClients } from './client.mjs';
import { CHROMIUM, SHOTS, DESKTOP, T } from './widget-harness.mjs';

/**
 * Debian's chromium, headless (`args` are added to the usual flags, e.g. a
 * `--host-resolver-rules` mapping), with the screenshot folder docs/screenshots/ made.
 */
export async function launchBrowser({ args = [] } = {}) {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', ...args] });
  fs.mkdirSync(SHOTS, { recursive: true });
  return browser;
}

/**
 * For a before hook: a 2-gateway cluster named `name` (`seedDemo: false`: an empty installation),
 * the demo admin's REST login when seeded (admin is null otherwise) and chromium
 * (launchBrowser({args: browserArgs})). Resolves with {c, gw1, gw2, admin, browser}; when a step
 * fails, what was started is stopped (the cluster's logs printed) before it rejects.
 */
export async function startSuite(name, { seedDemo = true, browserArgs = [] } = {}) {
  const c = await startCluster({ name, gateways: 2, seedDemo });
  try {
    const [gw1, gw2] = c.gw.map((g) => g.url);
    const admin = seedDemo ? await c.guard('admin login', () => adminLogin(c)) : null;
    const browser = await launchBrowser({ args: browserArgs });
    return { c, gw1, gw2, admin, browser };
  } catch (e) {
    await c.stop();
    throw e;
  }
}

/** For an after hook: closes chromium and every socket.io client, then stops the cluster. */
export async function stopSuite({ c, browser }) {
  await browser?.close().catch(() => {});
  closeAllClients();
  await c?.stop();
}

/**
 * A page in a browser context of its own (its own storage; closed with the page): desktop-sized,
 * en-US, unless `contextOptions` (playwright's, e.g. locale, acceptDownloads) say otherwise. Its page errors go to page.errors and its dialogs (dismissed) to page.dialogs;
 * pass `errors` / `dialogs` arrays to collect them elsewhere (one array for several pages, say).
 */
export async function recordedPage(browser, { errors = [], dialogs = [], ...contextOptions } = {}) {
  const ctx = await browser.newContext({ viewport: DESKTOP, deviceScaleFactor: 1, locale: 'en-US', ...contextOptions });
  const page = await ctx.newPage();
  page.once('close', () => ctx.close().catch(() => {}));
  page.errors = errors;
  page.dialogs = dialogs;
  page.on('pageerror', (e) => errors.push(String(e && e.message)));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    d.dismiss().catch(() => {});
  });
  return page;
}

/**
 * Opens /admin/ on gateway `gw` and submits the sign-in form as username/password, the form's
 * language picked first (`lang: null` leaves the page's own). Waits for nothing after the submit:
 * the caller waits for what its test needs (a section's link, an error line).
 */
export async function adminSignIn(page, gw, username, password, { lang = 'en' } = {}) {
  await page.goto(`${gw}/admin/`);
  if (lang) await page.locator('#login-lang').selectOption(lang);
  await page.locator('#username').fill(username);
  await page.locator('#password').fill(password);
  await page.locator('#login-form button[type=submit]').click();
}

/** Waits for the console's confirm dialog (saying `text`, when given) and answers yes. */
export async function confirmYes(page, text) {
  const dialog = page.locator('#confirm-dialog[open]');
  await (text ? dialog.filter({ hasText: text }) : dialog).waitFor({ timeout: T });
  await page.locator('#confirm-yes').click();
}

/** No dialog was opened and no markup of an XSS payload (`<img src=x onerror=…>`) ran or exists. */
export async function noInjection(page, what) {
  assert.deepEqual(page.dialogs || [], [], `${what}: dialogs`);
  const got = await page.evaluate(() => ({ xss: window.__xss === undefined ? null : window.__xss, nodes: document.querySelectorAll('img[src="x"], [onerror]').length }));
  assert.deepEqual(got, { xss: null, nodes: 0 }, `${what}: injected markup`);
}
