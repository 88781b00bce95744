// The visitor side beyond chatting (protocol.md, "The widget and the visitor
// side"), at the protocol level across both gateways (visitors on gw1,
// agents' sockets on gw2): uploads and attachments in messages, the page
// trail, invites, ratings, leave messages, the blacklist, the widget's
// config and its pages (loader, window).
//
// Agents made here stay ready after their test, so every visitor who opens a
// chat names its agent (`agent` query, or `new {agent}` after an invite).
// The config test runs first, before any agent of this file is ready.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startCluster, skipReason, q } from './cluster.mjs';
import {
  TIME_RE, uid, http, expectStatus, login, newVisitor, connectVisitor, connectAgent, setStatus, adminLogin, openChat,
  waitMsg, checkAck, checkErrorAck, checkChatMessage, brief, closeAllClients,
} from './client.mjs';

// A 1×1 PNG, a minimal PDF, and HTML dressed up as a PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const PDF = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const HTML = Buffer.from('<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>');

const UPLOAD_KEYS = ['attachmentid', 'filename', 'filesize', 'mime', 'url'];

describe('visitor side: uploads, page trail, invites, ratings, leave messages, blacklist, widget config and pages', { skip: skipReason() }, () => {
  let c;
  let admin;
  let gw1;
  let gw2;
  let shop; // a site of our own, origins ["https://shop.example"]
  const run = (fn) => (t) => c.wrap(fn)(t);

  before(async () => {
    c = await startCluster({ name: 'visitor', gateways: 2 });
    [gw1, gw2] = c.gw.map((g) => g.url);
    admin = await c.guard('setup', () => adminLogin(c));
    shop = await c.guard('create site', async () => {
      const res = await http(gw1, 'POST', '/api/v1/admin/sites', {
        token: admin.token, body: { name: 'Shop', origins: ['https://shop.example'], config: { welcome: 'Hello' } },
      });
      const s = expectStatus(res, [200, 201], 'create site');
      assert.ok(s && typeof s.appid === 'string' && s.appid, `create site: ${res.text}`);
      return s;
    });
  });

  after(async () => {
    closeAllClients();
    await c?.stop();
  });

  /** An agent made through the admin API with one socket on `url`, ready unless told. */
  async function agentOn(url, { maxuser = 3, ready = true, label = 'agent' } = {}) {
    const username = uid('vs');
    const password = `pw-${uid('p')}`;
    const nickname = `Nick ${username.slice(-8)}`;
    const created = expectStatus(await http(gw1, 'POST', '/api/v1/admin/agents', { token: admin.token, body: { username, password, nickname, maxuser } }),
      [200, 201], 'create agent');
    const a = { ...(await login(gw1, username, password)), username, password, nickname };
    assert.equal(String(a.agent.id), String(created.id), 'login agent.id vs created id');
    a.id = String(a.agent.id);
    a.socket = connectAgent(url, a.token, { label: `${label} ${nickname}` });
    await a.socket.connected();
    if (ready) await setStatus(gw1, a.token, { status: 'ready' });
    return a;
  }

  async function visitorOn(url, { query = {}, label = 'visitor', appid = 'demo' } = {}) {
    const ident = await newVisitor(url, appid);
    const v = connectVisitor(url, ident, { query, label });
    await v.connected();
    return { ident, v };
  }

  /** A visitor on gw1 in a chat with agent a (named in the `agent` query). */
  async function chatWith(a, label = 'visitor@gw1') {
    const { ident, v } = await visitorOn(gw1, { query: { agent: a.id }, label });
    const { sid } = await openChat(v, ident, a);
    return { ident, v, sid };
  }

  /** multipart POST: `file` (bytes, named filename) plus the given text fields. */
  async function upload(base, path, { bytes, filename, fields = {}, token }) {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), filename);
    const headers = token ? { authorization: `Bearer ${token}` } : {};
    const req = `POST ${path} multipart file=${filename} (${bytes.length} bytes) ${brief(fields)}`;
    const r = await fetch(base + path, { method: 'POST', body: form, headers, signal: AbortSignal.timeout(10000) });
    const text = await r.text();
    let body;
    try { body = text ? JSON.parse(text) : undefined; } catch { body = undefined; }
    return { status: r.status, body, text, headers: r.headers, req };
  }

  const visitorUpload = (base, ident, bytes, filename) =>
    upload(base, `/im/${encodeURIComponent(ident.appid)}/upload`, { bytes, filename, fields: { userid: ident.userid, sign: ident.sign } });

  /** An accepted upload: 201 with exactly the contract's fields. */
  function checkUpload(res, { filename, bytes, mime }, what) {
    const b = expectStatus(res, 201, what);
    assert.deepEqual(Object.keys(b || {}).sort(), UPLOAD_KEYS, `${what}: fields ${brief(b)}`);
    assert.equal(typeof b.attachmentid, 'string', `${what}: attachmentid ${brief(b)}`);
    assert.ok(b.attachmentid.length > 0, `${what}: attachmentid empty`);
    assert.deepEqual({ filename: b.filename, filesize: b.filesize, mime: b.mime }, { filename, filesize: bytes.length, mime }, `${what}: ${brief(b)}`);
    assert.match(b.url, new RegExp(`^/files/${b.attachmentid}/[^/?#]+$`), `${what}: url is /files/{attachmentid}/{token}: ${brief(b)}`);
    return b;
  }

  /** GET a file URL; resolves with {status, headers, bytes}. */
  async function getFile(base, url) {
    const r = await fetch(base + url, { signal: AbortSignal.timeout(10000) });
    return { status: r.status, headers: r.headers, bytes: Buffer.from(await r.arrayBuffer()) };
  }

  function checkServedSafely(f, what) {
    assert.equal(f.headers.get('x-content-type-options'), 'nosniff', `${what}: X-Content-Type-Options`);
    assert.match(f.headers.get('content-security-policy') || '', /(^|[;\s])sandbox([;\s]|$)/, `${what}: Content-Security-Policy must contain sandbox`);
  }

  const config = (base, appid, query = '') => http(base, 'GET', `/im/${encodeURIComponent(appid)}/config${query}`);
  const identQuery = (ident) => `?userid=${encodeURIComponent(ident.userid)}&sign=${encodeURIComponent(ident.sign)}`;

  function expectError(res, status, code, what) {
    const b = expectStatus(res, status, what);
    assert.equal(b?.error?.code, code, `${what}: ${res.req} → ${res.status} ${brief(res.text)}`);
    assert.equal(typeof b.error.message, 'string', `${what}: error.message`);
    return b;
  }

  /** Agents' live counters: the routing service sends them once its batch has committed. */
  const counters = (a, pred, after, what) => a.socket.waitFor('status', (s) => s && Number.isInteger(s.agents) && pred(s), { after, what });

  test('config: GET /im/{appid}/config shape; agents follows whether anyone is ready; invalid widget configs are refused', run(async () => {
    const res = await config(gw1, 'demo');
    const cfg = expectStatus(res, 200, 'demo config');
    for (const k of ['appid', 'name', 'config', 'lang', 'open', 'agents', 'blocked']) assert.ok(k in cfg, `config has ${k}: ${res.text}`);
    assert.equal(cfg.appid, 'demo', `appid: ${res.text}`);
    assert.equal(typeof cfg.name, 'string', `name: ${res.text}`);
    assert.ok(cfg.config && typeof cfg.config === 'object' && !Array.isArray(cfg.config), `config is an object: ${res.text}`);
    assert.equal(typeof cfg.lang, 'string', `lang: ${res.text}`);
    assert.equal(cfg.open, true, `open (no working hours set): ${res.text}`);
    assert.equal(cfg.blocked, false, `blocked without an identity: ${res.text}`);
    assert.ok(!('blockeduntil' in cfg), `no blockeduntil unless blocked: ${res.text}`);
    assert.equal(cfg.agents, false, `agents before anyone of this file is ready: ${res.text}`);
    expectError(await config(gw1, uid('nosite')), 404, 'not_found', 'config of an unknown appid');
    // An identity that is not blocked; a forged one is ignored (blocked false).
    const ident = await newVisitor(gw1);
    assert.equal(expectStatus(await config(gw2, 'demo', identQuery(ident)), 200, 'config with identity').blocked, false, 'blocked with a fresh identity');
    assert.equal(expectStatus(await config(gw2, 'demo', identQuery({ ...ident, sign: 'f'.repeat(64) })), 200, 'forged sign').blocked, false, 'forged sign');

    // An agent becomes ready (on gw2's socket): agents true; not ready again: false.
    const r = await agentOn(gw2, { ready: false, label: 'R@gw2' });
    let mark = r.socket.mark();
    await setStatus(gw2, r.token, { status: 'ready' });
    await counters(r, (s) => s.agents >= 1, mark, 'counters with R ready');
    assert.equal(expectStatus(await config(gw1, 'demo'), 200, 'config').agents, true, 'agents while R is ready');
    mark = r.socket.mark();
    await setStatus(gw1, r.token, { status: 'notready' });
    await counters(r, (s) => s.agents === 0, mark, 'counters with nobody ready');
    assert.equal(expectStatus(await config(gw2, 'demo'), 200, 'config').agents, false, 'agents once nobody is ready');

    // The site's widget config: a valid one is served as saved; invalid ones are refused and change nothing.
    const put = (body) => http(gw2, 'PUT', `/api/v1/admin/sites/${encodeURIComponent(shop.appid)}`, { token: admin.token, body });
    const widget = { button: { shape: 'circle', color: '#0a7', position: 'left', text: 'Chat', delay: 2 }, welcome: 'Hi there', invite: { auto: 0, message: 'Need help?' } };
    expectStatus(await put({ name: 'Shop', origins: ['https://shop.example'], config: widget }), 200, 'valid widget config');
    const shopCfg = expectStatus(await config(gw1, shop.appid), 200, 'shop config');
    assert.equal(shopCfg.appid, shop.appid);
    assert.equal(shopCfg.name, 'Shop');
    assert.deepEqual(shopCfg.config, widget, `the saved widget config: ${brief(shopCfg)}`);
    for (const [bad, key] of [
      [{ button: { shape: 'star' } }, 'button.shape'],
      [{ button: { position: 'top' } }, 'button.position'],
      [{ theme: { color: 'red;}body{display:none' } }, 'theme.color'],
      [{ theme: { logo: 'javascript:alert(1)' } }, 'theme.logo'],
      [{ prechat: { enabled: true, fields: [{ name: 'password' }] } }, 'prechat.fields'],
      [{ uploads: { maxsize: 11 << 20 } }, 'uploads.maxsize'],
    ]) {
      const b = expectError(await put({ name: 'Shop', origins: ['https://shop.example'], config: bad }), 400, 'bad_request', `widget config ${brief(bad)}`);
      assert.ok(b.error.message.includes(key), `the message names ${key}: ${brief(b)}`);
    }
    assert.deepEqual(expectStatus(await config(gw2, shop.appid), 200, 'shop config').config, widget, 'refused configs changed nothing');
  }));

  test('pages: GET /im/{appid}.js (loader) and /im/{appid}/widget (window framed by the site\'s origins only); unknown sites 404', run(async (t) => {
    // The pages are the built web bundle: without it they answer 503 (and a bundle built
    // without the widget has no loader.js/widget.html: a plain-text 404, not the API's JSON one).
    const notBuilt = (res, what) => {
      if (res.status === 503 || (res.status === 404 && res.body === undefined)) {
        t.diagnostic(`${what}: ${res.status} ${res.text.slice(0, 80).replace(/\s+/g, ' ')} — web assets not built (or built without the widget): content not checked; \`make test\` builds them`);
        return true;
      }
      return false;
    };

    const js = await http(gw1, 'GET', `/im/${shop.appid}.js`);
    if (!notBuilt(js, 'loader')) {
      expectStatus(js, 200, 'loader');
      assert.match(js.headers.get('content-type') || '', /^(text|application)\/javascript\b/, `loader Content-Type: ${js.headers.get('content-type')}`);
      assert.ok(js.text.length > 0, 'loader body');
      assert.equal(js.headers.get('x-content-type-options'), 'nosniff', 'loader nosniff');
    }
    expectError(await http(gw1, 'GET', `/im/${uid('nosite')}.js`), 404, 'not_found', 'loader of an unknown appid');
    expectStatus(await http(gw1, 'GET', `/im/${shop.appid}`), 404, '/im/{appid} without .js');

    const frameAncestors = (res) => {
      const csp = res.headers.get('content-security-policy') || '';
      const d = csp.split(';').map((s) => s.trim().split(/\s+/)).find((p) => p[0] === 'frame-ancestors');
      assert.ok(d, `Content-Security-Policy has frame-ancestors: ${csp}`);
      return d.slice(1);
    };
    const page = await http(gw2, 'GET', `/im/${shop.appid}/widget`);
    if (!notBuilt(page, 'widget page')) {
      expectStatus(page, 200, 'widget page');
      assert.match(page.headers.get('content-type') || '', /^text\/html\b/, `widget Content-Type: ${page.headers.get('content-type')}`);
      assert.match(page.text, /<html/i, 'widget page is HTML');
      const fa = frameAncestors(page);
      assert.ok(fa.includes('https://shop.example'), `frame-ancestors lists the site's origin: ${fa.join(' ')}`);
      assert.ok(!fa.includes('*'), `frame-ancestors is not open to anyone: ${fa.join(' ')}`);
      assert.ok(fa.every((s) => s === "'self'" || s === 'https://shop.example'), `frame-ancestors: only the site's origins: ${fa.join(' ')}`);
      // The demo site allows any origin.
      const demo = await http(gw1, 'GET', '/im/demo/widget');
      expectStatus(demo, 200, 'demo widget page');
      assert.ok(frameAncestors(demo).includes('*'), 'demo (origins *) may be framed anywhere');
    }
    expectError(await http(gw2, 'GET', `/im/${uid('nosite')}/widget`), 404, 'not_found', 'widget page of an unknown appid');
  }));

  test('uploads: visitor image and file (typed by content, served safely), the refusals, agent uploads for its own session only', run(async () => {
    const a = await agentOn(gw2, { label: 'A@gw2' });
    const { ident, v, sid } = await chatWith(a);

    // The visitor's PNG (on gw1) → an image message → the agent (on gw2) gets the attachment's facts.
    const png = checkUpload(await visitorUpload(gw1, ident, PNG, 'pixel.png'), { filename: 'pixel.png', bytes: PNG, mime: 'image/png' }, 'visitor PNG');
    const cid = uid();
    const amark = a.socket.mark();
    checkAck(await v.emitAck('message', { type: 'message', msgtype: 'image', message: png.filename, attachmentid: png.attachmentid, clientid: cid }), 'image message');
    const facts = { attachmentid: png.attachmentid, filename: 'pixel.png', filesize: PNG.length, url: png.url, mime: 'image/png' };
    const got = await waitMsg(a.socket, { clientid: cid }, { after: amark });
    checkChatMessage(got, { agentserviceid: sid, msgtype: 'image', calltype: 'in', message: 'pixel.png', ...facts }, 'agent gets the image:');
    checkChatMessage(await waitMsg(v, { clientid: cid }), { msgtype: 'image', ...facts }, 'visitor echo:');
    // Served as its type, from the other gateway, to whoever holds the URL.
    const f = await getFile(gw2, png.url);
    assert.equal(f.status, 200, `GET ${png.url}`);
    assert.ok(f.bytes.equals(PNG), 'the same bytes');
    assert.equal(f.headers.get('content-type'), 'image/png', 'image Content-Type');
    checkServedSafely(f, 'image');
    assert.ok(!/attachment/i.test(f.headers.get('content-disposition') || ''), 'an image is shown, not downloaded');
    // A wrong token in the URL: 404, nothing served.
    const forged = png.url.replace(/[^/]+$/, (tok) => (tok[0] === 'A' ? 'B' : 'A') + tok.slice(1));
    const wrong = await getFile(gw1, forged);
    assert.equal(wrong.status, 404, `GET with a wrong token ${forged}`);
    assert.ok(!wrong.bytes.includes(PNG), 'no file content with a wrong token');
    assert.equal((await getFile(gw1, `/files/${png.attachmentid}/`)).status, 404, 'no token');

    // A PDF: sent as `file`, downloaded as octet-stream; as `image` it is refused.
    const pdf = checkUpload(await visitorUpload(gw1, ident, PDF, 'report.pdf'), { filename: 'report.pdf', bytes: PDF, mime: 'application/pdf' }, 'visitor PDF');
    checkErrorAck(await v.emitAck('message', { type: 'message', msgtype: 'image', message: 'report.pdf', attachmentid: pdf.attachmentid, clientid: uid() }), 'bad_request', 'a PDF as an image:');
    const fcid = uid();
    checkAck(await v.emitAck('message', { type: 'message', msgtype: 'file', message: 'report.pdf', attachmentid: pdf.attachmentid, clientid: fcid }), 'file message');
    checkChatMessage(await waitMsg(a.socket, { clientid: fcid }, { after: amark }),
      { msgtype: 'file', attachmentid: pdf.attachmentid, filename: 'report.pdf', filesize: PDF.length, url: pdf.url, mime: 'application/pdf' }, 'agent gets the file:');
    const fp = await getFile(gw1, pdf.url);
    assert.equal(fp.status, 200, `GET ${pdf.url}`);
    assert.ok(fp.bytes.equals(PDF), 'the same bytes');
    assert.equal(fp.headers.get('content-type'), 'application/octet-stream', 'a non-image is served as application/octet-stream');
    assert.match(fp.headers.get('content-disposition') || '', /^attachment\b/, `Content-Disposition: ${fp.headers.get('content-disposition')}`);
    checkServedSafely(fp, 'file');

    // Refused uploads: HTML named .png (the type is read from the content), a forged sign, an unknown site.
    expectError(await visitorUpload(gw1, ident, HTML, 'cute.png'), 400, 'bad_request', 'HTML named .png');
    expectError(await visitorUpload(gw2, { ...ident, sign: 'a'.repeat(64) }, PNG, 'x.png'), 401, 'unauthorized', 'forged sign');
    expectError(await visitorUpload(gw1, { ...ident, appid: uid('nosite') }, PNG, 'x.png'), 404, 'not_found', 'unknown appid');

    // Another visitor's attachment (uploaded on gw2), or none at all: not_found; nothing stored.
    const other = await newVisitor(gw2);
    const theirs = checkUpload(await visitorUpload(gw2, other, PNG, 'theirs.png'), { filename: 'theirs.png', bytes: PNG, mime: 'image/png' }, 'other visitor PNG');
    checkErrorAck(await v.emitAck('message', { type: 'message', msgtype: 'image', message: 'theirs.png', attachmentid: theirs.attachmentid, clientid: uid() }), 'not_found', "another visitor's attachment:");
    checkErrorAck(await v.emitAck('message', { type: 'message', msgtype: 'image', message: 'x.png', attachmentid: 'nosuchattachment', clientid: uid() }), 'not_found', 'unknown attachment:');
    assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM messages WHERE agentserviceid=${q(sid)} AND calltype='in'`), [['2']], 'only the image and the file are stored');

    // The agent uploads for its session (on gw2) and sends an image: the visitor (on gw1) gets it.
    const agentPng = checkUpload(await upload(gw2, '/api/v1/uploads', { bytes: PNG, filename: 'from-agent.png', fields: { agentserviceid: sid }, token: a.token }),
      { filename: 'from-agent.png', bytes: PNG, mime: 'image/png' }, 'agent PNG');
    const vmark = v.mark();
    const acid = uid();
    checkAck(await a.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'image', message: 'from-agent.png', attachmentid: agentPng.attachmentid, clientid: acid }), 'agent image');
    checkChatMessage(await waitMsg(v, { clientid: acid }, { after: vmark }),
      { agentserviceid: sid, msgtype: 'image', calltype: 'out', message: 'from-agent.png', attachmentid: agentPng.attachmentid, filename: 'from-agent.png', filesize: PNG.length, url: agentPng.url, mime: 'image/png' },
      'visitor gets the agent image:');
    assert.ok((await getFile(gw1, agentPng.url)).bytes.equals(PNG), 'agent image bytes');
    // The agent cannot send the visitor's attachment as its own.
    checkErrorAck(await a.socket.emitAck('message', { agentserviceid: sid, type: 'message', msgtype: 'image', message: 'pixel.png', attachmentid: png.attachmentid, clientid: uid() }), 'not_found', "the visitor's attachment sent by the agent:");

    // Another agent cannot upload for A's session; nobody for an unknown one; no token, no upload.
    const b = await agentOn(gw1, { ready: false, label: 'B@gw1' });
    const notTheirs = await upload(gw1, '/api/v1/uploads', { bytes: PNG, filename: 'b.png', fields: { agentserviceid: sid }, token: b.token });
    expectStatus(notTheirs, [403, 404], "another agent's session");
    assert.ok(['forbidden', 'not_found'].includes(notTheirs.body?.error?.code), `code: ${notTheirs.text}`);
    expectError(await upload(gw2, '/api/v1/uploads', { bytes: PNG, filename: 'b.png', fields: { agentserviceid: 'nosuchsession' }, token: a.token }), 404, 'not_found', 'unknown session');
    expectError(await upload(gw2, '/api/v1/uploads', { bytes: PNG, filename: 'b.png', fields: { agentserviceid: sid } }), 401, 'unauthorized', 'no token');
  }));

  test('page trail: trace → {ok}, one row in visitor_traces; a second within a second is acknowledged, not stored; too long → too_large', run(async (t) => {
    const { ident, v } = await visitorOn(gw1, { label: 'tracer@gw1' });
    const rows = () => c.sql(`SELECT title, url, referrer FROM visitor_traces WHERE appid='demo' AND userid=${q(ident.userid)}`);
    const page = { title: 'Pricing — Shop', url: 'https://shop.example/pricing?plan=pro', referrer: 'https://search.example/?q=shop' };
    const t0 = Date.now();
    assert.deepEqual(await v.emitAck('trace', page), { ok: true }, 'first trace ack');
    assert.deepEqual(await rows(), [[page.title, page.url, page.referrer]], 'the page view is stored');
    const second = await v.emitAck('trace', { title: 'Checkout', url: 'https://shop.example/checkout', referrer: page.url });
    const elapsed = Date.now() - t0;
    assert.deepEqual(second, { ok: true }, 'second trace ack');
    if (elapsed < 1000) assert.deepEqual(await rows(), [[page.title, page.url, page.referrer]], `a second trace ${elapsed} ms later is not stored`);
    else t.diagnostic(`second trace came ${elapsed} ms after the first: the one-per-second drop is not checked`);
    checkErrorAck(await v.emitAck('trace', { title: 'x'.repeat(256), url: 'https://shop.example/', referrer: '' }), 'too_large', 'title of 256 characters:');
    checkErrorAck(await v.emitAck('trace', { title: 'ok', url: `https://shop.example/${'p'.repeat(1100)}`, referrer: '' }), 'too_large', 'url over 1024 characters:');
  }));

  test('invite: an agent on gw2 invites a visitor on gw1, who accepts and gets that agent though another is less loaded', run(async () => {
    const a = await agentOn(gw2, { maxuser: 3, label: 'inviter@gw2' });
    await chatWith(a, 'earlier visitor of A'); // A now has one chat
    // Ready with no chat: the least loaded (routing applies commands in order, so B is ready before the `new` below).
    const b = await agentOn(gw2, { maxuser: 3, label: 'idle B@gw2' });

    const { ident, v } = await visitorOn(gw1, { label: 'invitee@gw1' });
    const path = `/api/v1/visitors/demo/${encodeURIComponent(ident.userid)}/invite`;
    expectError(await http(gw2, 'POST', path, { body: { message: 'x' } }), 401, 'unauthorized', 'invite without a token');
    expectError(await http(gw2, 'POST', path, { token: a.token, body: { message: 'x'.repeat(501) } }), 400, 'bad_request', 'invite message over 500 characters');
    expectError(await http(gw2, 'POST', `/api/v1/visitors/${uid('nosite')}/${encodeURIComponent(ident.userid)}/invite`, { token: a.token, body: {} }), 404, 'not_found', 'invite on an unknown site');
    const res = await http(gw2, 'POST', path, { token: a.token, body: { message: 'Can I help you choose?' } });
    expectStatus(res, 200, 'invite');
    assert.equal(res.body.status, 'sent', `invite answer: ${brief(res.body)}`);
    const inv = await v.waitFor('invite', () => true, { what: 'invite from A' });
    assert.deepEqual({ ...inv, agentno: String(inv.agentno) }, { inviteid: res.body.inviteid, agentno: a.id, nickName: a.nickname, message: 'Can I help you choose?' }, `invite payload: ${brief(inv)}`);

    assert.deepEqual(await v.emitAck('invite', { accept: true }), { ok: true }, 'invite answer ack');
    const vmark = v.mark();
    const amark = a.socket.mark();
    const ack = await v.emitAck('new', { name: 'Invited', agent: a.id });
    assert.ok(ack?.ok === true && typeof ack.agentserviceid === 'string' && ack.agentserviceid, `new: ${brief(ack)}`);
    const sid = ack.agentserviceid;
    const st = await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.state === 'assigned', { after: vmark, what: 'assigned' });
    assert.equal(String(st.agentno), a.id, `assigned to the inviting agent, not the idle one: ${brief(st)}`);
    assert.equal(st.nickName, a.nickname, `status nickName: ${brief(st)}`);
    const summary = await a.socket.waitFor('new', (s) => s && s.agentserviceid === sid, { after: amark, what: 'A new' });
    assert.equal(summary.userid, ident.userid, `new: ${brief(summary)}`);
    assert.equal(b.socket.count('new', (s) => s && s.agentserviceid === sid), 0, 'B did not get the chat');
    assert.deepEqual(await c.sql(`SELECT status, agentno FROM sessions WHERE id=${q(sid)}`), [['inservice', a.id]], 'session row');
    assert.deepEqual(await c.sql(`SELECT status, agentserviceid, served_by FROM invite_records WHERE id=${q(res.body.inviteid)}`), [['served', sid, a.id]], 'the invitation\'s outcome');
    // Declining is acknowledged too.
    assert.deepEqual(await v.emitAck('invite', { accept: false }), { ok: true }, 'decline ack');
  }));

  test('rating: rating-request sends status rating; after the end the visitor rates once (level 1..5, own sessions only)', run(async () => {
    const a = await agentOn(gw2, { label: 'rated@gw2' });
    const { v, sid } = await chatWith(a);
    const rate = (rec, body) => rec.emitAck('satisfaction', body);
    const rateReq = (token, id = sid) => http(gw2, 'POST', `/api/v1/sessions/${encodeURIComponent(id)}/rating-request`, { token, body: {} });

    // The agent asks (REST on gw2); the visitor (gw1) is told.
    const other = await agentOn(gw1, { ready: false, label: 'other agent@gw1' });
    expectStatus(await rateReq(other.token), [403, 404], "rating-request on another agent's session");
    const vmark = v.mark();
    expectStatus(await rateReq(a.token), 200, 'rating-request');
    const asked = await v.waitFor('status', (s) => s && s.state === 'rating', { after: vmark, what: 'status rating' });
    assert.equal(asked.messageType, 'invit', `messageType: ${brief(asked)}`);
    assert.equal(asked.agentserviceid, sid, `agentserviceid: ${brief(asked)}`);
    assert.match(String(asked.createtime), TIME_RE, `createtime: ${brief(asked)}`);

    // The agent ends the chat.
    const emark = v.mark();
    expectStatus(await http(gw2, 'POST', `/api/v1/sessions/${encodeURIComponent(sid)}/end`, { token: a.token, body: {} }), 200, 'end');
    await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.state === 'ended', { after: emark, what: 'ended' });

    checkErrorAck(await rate(v, { agentserviceid: sid, level: 9 }), 'bad_request', 'level 9:');
    checkErrorAck(await rate(v, { agentserviceid: sid, level: 0 }), 'bad_request', 'level 0:');
    checkErrorAck(await rate(v, { agentserviceid: sid, level: 3, comment: 'c'.repeat(501) }), ['too_large', 'bad_request'], 'comment over 500 characters:');
    const { v: stranger } = await visitorOn(gw2, { label: 'stranger@gw2' });
    checkErrorAck(await rate(stranger, { agentserviceid: sid, level: 1, comment: 'not mine' }), 'not_found', "someone else's session:");
    checkErrorAck(await rate(v, { agentserviceid: 'nosuchsession', level: 4 }), 'not_found', 'unknown session:');
    assert.deepEqual(await c.sql(`SELECT satis_level FROM sessions WHERE id=${q(sid)}`), [['0']], 'nothing stored by the refusals');

    assert.deepEqual(await rate(v, { agentserviceid: sid, level: 4, comment: 'Quick and kind' }), { ok: true }, 'rating ack');
    const [[level, comment, at]] = await c.sql(`SELECT satis_level, satis_comment, satis_time IS NOT NULL FROM sessions WHERE id=${q(sid)}`);
    assert.deepEqual([level, comment, at], ['4', 'Quick and kind', '1'], 'the rating row');
    checkErrorAck(await rate(v, { agentserviceid: sid, level: 1, comment: 'changed my mind' }), 'conflict', 'second rating:');
    assert.deepEqual(await c.sql(`SELECT satis_level, satis_comment FROM sessions WHERE id=${q(sid)}`), [['4', 'Quick and kind']], 'the first rating stays');

    // Asked by the agent, a visitor may also rate a chat still in service.
    const { v: v2, sid: sid2 } = await chatWith(a);
    assert.deepEqual(await rate(v2, { agentserviceid: sid2, level: 5 }), { ok: true }, 'rating a chat in service');
    assert.deepEqual(await c.sql(`SELECT status, satis_level FROM sessions WHERE id=${q(sid2)}`), [['inservice', '5']], 'rated in service');
  }));

  test('leave a message: POST /im/{appid}/leavemsg → 201 and a notprocess row; invalid or forged → 400/401', run(async () => {
    const ident = await newVisitor(gw1);
    const path = '/im/demo/leavemsg';
    const good = { userid: ident.userid, sign: ident.sign, name: 'Ann Lee', phone: '+1 555 0100', email: 'ann@example.com', content: 'Please call me back about my order.' };
    const res = await http(gw2, 'POST', path, { body: good });
    const b = expectStatus(res, 201, 'leave message');
    assert.ok(b && typeof b.id === 'string' && b.id, `leavemsg id: ${res.text}`);
    assert.deepEqual(await c.sql(`SELECT appid, userid, name, phone, email, content, status FROM leave_messages WHERE id=${q(b.id)}`),
      [['demo', ident.userid, good.name, good.phone, good.email, good.content, 'notprocess']], 'the stored message');
    // An email alone is enough.
    expectStatus(await http(gw1, 'POST', path, { body: { ...good, phone: '', content: 'Email me.' } }), 201, 'email only');

    for (const [body, what] of [
      [{ ...good, phone: '', email: '' }, 'neither phone nor email'],
      [{ ...good, content: '' }, 'empty content'],
      [{ ...good, content: '   ' }, 'blank content'],
      [{ ...good, content: 'x'.repeat(2001) }, 'content of 2001 characters'],
      [{ ...good, email: 'not-an-email', phone: '' }, 'an email without @'],
    ]) expectError(await http(gw1, 'POST', path, { body }), 400, 'bad_request', what);
    expectError(await http(gw1, 'POST', path, { body: { ...good, sign: 'b'.repeat(64) } }), 401, 'unauthorized', 'forged sign');
    expectError(await http(gw1, 'POST', path, { body: { ...good, sign: undefined } }), 401, 'unauthorized', 'no sign');
    expectError(await http(gw1, 'POST', `/im/${uid('nosite')}/leavemsg`, { body: good }), 404, 'not_found', 'unknown appid');
    assert.deepEqual(await c.sql(`SELECT COUNT(*) FROM leave_messages WHERE userid=${q(ident.userid)}`), [['2']], 'only the valid ones are stored');
  }));

  test('blacklist: blocking ends the open chat, config says blocked, connect refused forbidden, identity 403; unblocking restores it', run(async () => {
    const a = await agentOn(gw2, { label: 'blocker@gw2' });
    const { ident, v, sid } = await chatWith(a);

    expectError(await http(gw2, 'POST', '/api/v1/blacklist', { token: a.token, body: { appid: 'demo', userid: ident.userid, hours: 0 } }), 400, 'bad_request', 'hours 0');
    expectError(await http(gw2, 'POST', '/api/v1/blacklist', { body: { appid: 'demo', userid: ident.userid, hours: 1 } }), 401, 'unauthorized', 'no token');
    const vmark = v.mark();
    const amark = a.socket.mark();
    const before = Date.now();
    const res = await http(gw2, 'POST', '/api/v1/blacklist', { token: a.token, body: { appid: 'demo', userid: ident.userid, hours: 1, reason: 'spam links' } });
    const entry = expectStatus(res, 201, 'block');
    assert.equal(entry.appid, 'demo', `entry: ${res.text}`);
    assert.equal(entry.userid, ident.userid, `entry: ${res.text}`);
    assert.equal(entry.reason, 'spam links', `entry: ${res.text}`);
    assert.match(String(entry.until), TIME_RE, `until: ${res.text}`);
    const until = Date.parse(entry.until);
    assert.ok(until >= before + 3600e3 - 5000 && until <= Date.now() + 3600e3 + 5000, `until is an hour from now: ${entry.until}`);

    // The open chat ends: the agent (gw2) gets end, the visitor (gw1) status ended.
    await a.socket.waitFor('end', (s) => s && s.agentserviceid === sid, { after: amark, what: 'agent end' });
    await v.waitFor('status', (s) => s && s.agentserviceid === sid && s.state === 'ended', { after: vmark, what: 'visitor ended' });
    assert.deepEqual(await c.sql(`SELECT status FROM sessions WHERE id=${q(sid)}`), [['end']], 'session row ended');
    // The socket that was open is refused and disconnected too.
    const openRefused = await v.waitFor('refused', () => true, { after: vmark, what: 'open socket refused' });
    assert.equal(openRefused?.code, 'forbidden', `refusal of the open socket: ${brief(openRefused)}`);
    await v.waitEvent('disconnect', () => true, { after: vmark, what: 'open socket disconnected' });
    const listed = expectStatus(await http(gw1, 'GET', '/api/v1/blacklist', { token: a.token }), 200, 'list blacklist');
    assert.ok(Array.isArray(listed.items) && listed.items.some((e) => e.appid === 'demo' && e.userid === ident.userid && e.active), `listed: ${brief(listed)}`);

    // Blocked: config says so, a connect is refused forbidden, the identity is not reissued.
    const cfg = expectStatus(await config(gw1, 'demo', identQuery(ident)), 200, 'config while blocked');
    assert.equal(cfg.blocked, true, `blocked: ${brief(cfg)}`);
    assert.match(String(cfg.blockeduntil), TIME_RE, `blockeduntil: ${brief(cfg)}`);
    assert.equal(expectStatus(await config(gw1, 'demo'), 200, 'config without identity').blocked, false, 'without an identity');
    const again = connectVisitor(gw2, ident, { reconnection: false, label: 'blocked visitor@gw2' });
    const refused = await again.waitFor('refused', () => true, { what: 'refused forbidden' });
    assert.equal(refused?.code, 'forbidden', `refusal: ${brief(refused)}`);
    assert.equal(again.events.find((e) => !e.local)?.name, 'refused', `nothing is sent before refused:\n${again.describe()}`);
    await again.waitEvent('disconnect', () => true, { what: 'disconnected after refused' });
    again.close();
    expectError(await http(gw1, 'POST', '/im/demo/visitor', { body: { userid: ident.userid, sign: ident.sign } }), 403, 'forbidden', 'identity of a blocked visitor');

    // Unblocked: everything works again.
    expectError(await http(gw1, 'DELETE', `/api/v1/blacklist/demo/${encodeURIComponent(ident.userid)}`), 401, 'unauthorized', 'unblock without a token');
    expectStatus(await http(gw1, 'DELETE', `/api/v1/blacklist/demo/${encodeURIComponent(ident.userid)}`, { token: a.token }), 204, 'unblock');
    expectStatus(await http(gw1, 'DELETE', `/api/v1/blacklist/demo/${encodeURIComponent(ident.userid)}`, { token: a.token }), 404, 'unblock twice');
    assert.deepEqual(expectStatus(await http(gw2, 'POST', '/im/demo/visitor', { body: { userid: ident.userid, sign: ident.sign } }), 200, 'identity after unblock'),
      { userid: ident.userid, sign: ident.sign }, 'the same identity');
    assert.equal(expectStatus(await config(gw2, 'demo', identQuery(ident)), 200, 'config after unblock').blocked, false, 'not blocked any more');
    const back = connectVisitor(gw2, ident, { query: { agent: a.id }, label: 'unblocked visitor@gw2' });
    await back.connected();
    const ack = await back.emitAck('new', { name: 'Back again' });
    assert.ok(ack?.ok === true && ack.agentserviceid && ack.agentserviceid !== sid, `new after unblock: ${brief(ack)}`);
    assert.equal(back.count('refused'), 0, `not refused:\n${back.describe()}`);
  }));

  test('cluster stayed healthy: no crash, no panic', () => {
    assert.deepEqual(c.problems(), []);
  });
});
