// Site admin page (/admin/): log in as a tenant admin, list the tenant's sites, create or edit one
// (name, allowed origins, text limit, widget config through a form or as raw JSON) and copy its
// embed code. Every value from the server is shown with textContent or as a form value.

import { ApiError, requestJSON, storageGet, storageSet } from "../common";
import { PALETTE } from "../widget/config";
import { h } from "../widget/dom";

interface Site {
  appid: string;
  name: string;
  origins: string[];
  config: Record<string, unknown> | null;
  textlimit: number;
  disabled?: boolean;
  embed: string;
}

interface LoginAnswer {
  token: string;
  agent: { id: string; username: string; nickname: string; orgi: string; roles: string[] };
}

const TOKEN_KEY = "kefu:admin:token";
const USER_KEY = "kefu:admin:user";
const store = (() => {
  try {
    return window.sessionStorage;
  } catch {
    return undefined;
  }
})();

let token = storageGet(store, TOKEN_KEY) || "";
let sites: Site[] = [];
let current: Site | null = null; // null: a new site
let rawBase: Record<string, unknown> = {}; // the config being edited, keys the form does not know included

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const n = document.getElementById(id);
  if (!n) throw new Error("missing #" + id);
  return n as T;
};

// ---------------------------------------------------------------- login

const loginView = $("login");
const appView = $("app");
const loginForm = $<HTMLFormElement>("login-form");
const loginError = $("login-error");
const who = $("who");

function showError(node: HTMLElement, text: string): void {
  node.textContent = text;
  node.hidden = text === "";
}

function errText(e: unknown): string {
  if (e instanceof ApiError) return e.code ? `${e.message} (${e.code})` : e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

loginForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const username = ($<HTMLInputElement>("username").value || "").trim();
  const password = $<HTMLInputElement>("password").value;
  showError(loginError, "");
  requestJSON<LoginAnswer>("POST", "/api/v1/auth/login", { username, password })
    .then((res) => {
      const roles = (res.agent && res.agent.roles) || [];
      if (roles.indexOf("admin") < 0 && roles.indexOf("superadmin") < 0) {
        void requestJSON("POST", "/api/v1/auth/logout", undefined, res.token).catch(() => undefined);
        throw new Error("This account is not an administrator.");
      }
      token = res.token;
      storageSet(store, TOKEN_KEY, token);
      storageSet(store, USER_KEY, res.agent.nickname || res.agent.username);
      $<HTMLInputElement>("password").value = "";
      return enter();
    })
    .catch((e) => showError(loginError, errText(e)));
});

$("logout").addEventListener("click", () => {
  const t = token;
  token = "";
  storageSet(store, TOKEN_KEY, null);
  if (t) void requestJSON("POST", "/api/v1/auth/logout", undefined, t).catch(() => undefined);
  showLogin();
});

function showLogin(): void {
  appView.hidden = true;
  loginView.hidden = false;
  $<HTMLInputElement>("username").focus();
}

async function enter(): Promise<void> {
  loginView.hidden = true;
  appView.hidden = false;
  who.textContent = storageGet(store, USER_KEY) || "";
  await loadSites();
}

async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  try {
    return await requestJSON<T>(method, url, body, token);
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      token = "";
      storageSet(store, TOKEN_KEY, null);
      showLogin();
      showError(loginError, "Your login has expired; please log in again.");
    }
    throw e;
  }
}

// ---------------------------------------------------------------- site list

const list = $("sites");
const listError = $("list-error");

async function loadSites(select?: string): Promise<void> {
  showError(listError, "");
  try {
    const res = await api<Site[]>("GET", "/api/v1/admin/sites");
    sites = Array.isArray(res) ? res : [];
  } catch (e) {
    showError(listError, "Could not load the sites: " + errText(e));
    return;
  }
  renderList();
  const pick = sites.find((s) => s.appid === (select || (current && current.appid))) || sites[0];
  if (pick) edit(pick);
  else edit(null);
}

function renderList(): void {
  list.textContent = "";
  for (const s of sites) {
    const b = h("button", { type: "button", class: "site" + (current && current.appid === s.appid ? " active" : ""), "data-appid": s.appid });
    b.append(h("span", { class: "site-name", text: s.name }), h("span", { class: "site-appid", text: s.appid }));
    b.addEventListener("click", () => edit(s));
    list.appendChild(h("li", null, b));
  }
}

$("new-site").addEventListener("click", () => edit(null));

// ---------------------------------------------------------------- editor

const form = $<HTMLFormElement>("site-form");
const formTitle = $("form-title");
const formError = $("form-error");
const formOk = $("form-ok");
const raw = $<HTMLTextAreaElement>("raw");
const rawError = $("raw-error");
const embedBox = $("embed");
const embedCode = $<HTMLTextAreaElement>("embed-code");
const preview = $<HTMLAnchorElement>("preview-link");
const swatches = $("swatches");

const f = {
  name: $<HTMLInputElement>("f-name"),
  origins: $<HTMLTextAreaElement>("f-origins"),
  textlimit: $<HTMLInputElement>("f-textlimit"),
  shape: $<HTMLSelectElement>("f-shape"),
  color: $<HTMLInputElement>("f-color"),
  colorPick: $<HTMLInputElement>("f-color-pick"),
  position: $<HTMLSelectElement>("f-position"),
  text: $<HTMLInputElement>("f-text"),
  delay: $<HTMLInputElement>("f-delay"),
  themeColor: $<HTMLInputElement>("f-theme-color"),
  logo: $<HTMLInputElement>("f-logo"),
  avatar: $<HTMLInputElement>("f-avatar"),
  welcome: $<HTMLTextAreaElement>("f-welcome"),
  pName: $<HTMLInputElement>("f-panel-name"),
  pPhone: $<HTMLInputElement>("f-panel-phone"),
  pEmail: $<HTMLInputElement>("f-panel-email"),
  pIntro: $<HTMLTextAreaElement>("f-panel-intro"),
  prechat: $<HTMLInputElement>("f-prechat"),
  inviteAuto: $<HTMLInputElement>("f-invite-auto"),
  inviteMessage: $<HTMLInputElement>("f-invite-message"),
  sneakpeek: $<HTMLInputElement>("f-sneakpeek"),
  lang: $<HTMLSelectElement>("f-lang"),
  images: $<HTMLInputElement>("f-images"),
  files: $<HTMLInputElement>("f-files"),
  maxsize: $<HTMLInputElement>("f-maxsize"),
};
const FIELDS = ["name", "phone", "email", "memo"] as const;

for (let i = 0; i < PALETTE.length; i++) {
  const c = PALETTE[i];
  const b = h("button", { type: "button", class: "swatch", title: c, "aria-label": `Colour ${i + 1}: ${c}` });
  b.style.background = c;
  b.addEventListener("click", () => {
    f.color.value = c;
    syncPicker();
    formChanged();
  });
  swatches.appendChild(b);
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
function s(v: unknown): string {
  return typeof v === "string" ? v : typeof v === "number" ? String(v) : "";
}

function edit(site: Site | null): void {
  current = site;
  renderList();
  showError(formError, "");
  showError(rawError, "");
  formOk.hidden = true;
  formTitle.textContent = site ? `Edit “${site.name}”` : "New site";
  f.name.value = site ? site.name : "";
  f.origins.value = site ? (site.origins || []).join("\n") : "*";
  f.textlimit.value = site && site.textlimit ? String(site.textlimit) : "";
  rawBase = site ? JSON.parse(JSON.stringify(obj(site.config))) : {};
  configToForm(rawBase);
  raw.value = JSON.stringify(rawBase, null, 2);
  embedBox.hidden = !site;
  if (site) {
    embedCode.value = site.embed;
    preview.href = "/im/" + encodeURIComponent(site.appid) + "/widget";
  }
  $("save").textContent = site ? "Save changes" : "Create site";
}

function configToForm(c: Record<string, unknown>): void {
  const b = obj(c.button);
  const th = obj(c.theme);
  const p = obj(c.panel);
  const pc = obj(c.prechat);
  const inv = obj(c.invite);
  const up = obj(c.uploads);
  f.shape.value = b.shape === "square" || b.shape === "circle" ? b.shape : "bar";
  f.color.value = s(b.color);
  f.position.value = b.position === "left" ? "left" : "right";
  f.text.value = s(b.text);
  f.delay.value = s(b.delay);
  f.themeColor.value = s(th.color);
  f.logo.value = s(th.logo);
  f.avatar.value = s(th.avatar);
  f.welcome.value = s(c.welcome);
  f.pName.value = s(p.name);
  f.pPhone.value = s(p.phone);
  f.pEmail.value = s(p.email);
  f.pIntro.value = s(p.intro);
  f.prechat.checked = pc.enabled === true;
  const fields = Array.isArray(pc.fields) ? pc.fields.map(obj) : [];
  for (const name of FIELDS) {
    const field = fields.find((x) => x.name === name);
    $<HTMLInputElement>("f-pc-" + name).checked = !!field;
    $<HTMLInputElement>("f-pc-" + name + "-req").checked = !!field && field.required === true;
    $<HTMLInputElement>("f-pc-" + name + "-label").value = field ? s(field.label) : "";
  }
  f.inviteAuto.value = s(inv.auto);
  f.inviteMessage.value = s(inv.message);
  f.sneakpeek.checked = c.sneakpeek === true;
  f.lang.value = c.lang === "zh-CN" || c.lang === "en" ? c.lang : "";
  f.images.checked = up.images !== false;
  f.files.checked = up.files !== false;
  f.maxsize.value = typeof up.maxsize === "number" ? String(Math.round((up.maxsize / 1024 / 1024) * 100) / 100) : "";
  syncPicker();
  updatePreview();
}

/** Puts (or removes) key `k` of object `o`: empty values are left out of the config. */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  if (v === "" || v === undefined || v === null || (typeof v === "number" && isNaN(v))) delete o[k];
  else o[k] = v;
}

function sub(c: Record<string, unknown>, k: string): Record<string, unknown> {
  const o = { ...obj(c[k]) };
  c[k] = o;
  return o;
}

function prune(c: Record<string, unknown>, k: string): void {
  const o = c[k];
  if (o && typeof o === "object" && !Array.isArray(o) && Object.keys(o).length === 0) delete c[k];
}

function numOrEmpty(v: string, integer = false): number | "" {
  const t = v.trim();
  if (t === "") return "";
  const n = Number(t);
  if (!isFinite(n)) return "";
  return integer ? Math.round(n) : n;
}

/** The form's values over rawBase (unknown keys kept). */
function formToConfig(): Record<string, unknown> {
  const c: Record<string, unknown> = JSON.parse(JSON.stringify(rawBase));
  const b = sub(c, "button");
  put(b, "shape", f.shape.value);
  put(b, "color", f.color.value.trim());
  put(b, "position", f.position.value);
  put(b, "text", f.text.value.trim());
  put(b, "delay", numOrEmpty(f.delay.value, true));
  const th = sub(c, "theme");
  put(th, "color", f.themeColor.value.trim());
  put(th, "logo", f.logo.value.trim());
  put(th, "avatar", f.avatar.value.trim());
  put(c, "welcome", f.welcome.value.trim());
  const p = sub(c, "panel");
  put(p, "name", f.pName.value.trim());
  put(p, "phone", f.pPhone.value.trim());
  put(p, "email", f.pEmail.value.trim());
  put(p, "intro", f.pIntro.value.trim());
  const pc = sub(c, "prechat");
  pc.enabled = f.prechat.checked;
  const fields: Record<string, unknown>[] = [];
  for (const name of FIELDS) {
    if (!$<HTMLInputElement>("f-pc-" + name).checked) continue;
    const field: Record<string, unknown> = { name };
    put(field, "label", $<HTMLInputElement>("f-pc-" + name + "-label").value.trim());
    if ($<HTMLInputElement>("f-pc-" + name + "-req").checked) field.required = true;
    fields.push(field);
  }
  pc.fields = fields;
  if (!pc.enabled && fields.length === 0) delete c.prechat;
  const inv = sub(c, "invite");
  put(inv, "auto", numOrEmpty(f.inviteAuto.value, true));
  put(inv, "message", f.inviteMessage.value.trim());
  put(c, "sneakpeek", f.sneakpeek.checked ? true : "");
  put(c, "lang", f.lang.value);
  const up = sub(c, "uploads");
  put(up, "images", f.images.checked ? "" : false);
  put(up, "files", f.files.checked ? "" : false);
  const mb = numOrEmpty(f.maxsize.value);
  put(up, "maxsize", mb === "" ? "" : Math.round(mb * 1024 * 1024));
  for (const k of ["button", "theme", "panel", "invite", "uploads"]) prune(c, k);
  return c;
}

function formChanged(): void {
  const c = formToConfig();
  raw.value = JSON.stringify(c, null, 2);
  showError(rawError, "");
  updatePreview();
}

form.addEventListener("input", (ev) => {
  const target = ev.target as HTMLElement;
  if (target === raw || target === f.name || target === f.origins || target === f.textlimit) return;
  if (target === f.colorPick) f.color.value = f.colorPick.value;
  if (target === f.color) syncPicker();
  formChanged();
});
form.addEventListener("change", (ev) => {
  const target = ev.target as HTMLElement;
  if (target === raw || target === f.name || target === f.origins || target === f.textlimit) return;
  formChanged();
});

$("raw-apply").addEventListener("click", () => {
  try {
    const v = JSON.parse(raw.value || "{}");
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("the config must be a JSON object");
    rawBase = v;
    configToForm(rawBase);
    raw.value = JSON.stringify(formToConfig(), null, 2);
    showError(rawError, "");
  } catch (e) {
    showError(rawError, "Invalid JSON: " + errText(e));
  }
});

function syncPicker(): void {
  const v = f.color.value.trim();
  if (/^#[0-9a-fA-F]{6}$/.test(v)) f.colorPick.value = v.toLowerCase();
}

function updatePreview(): void {
  const btn = $("preview-button");
  const shape = f.shape.value || "bar";
  btn.className = "preview-button shape-" + shape + " side-" + (f.position.value || "right");
  const color = f.color.value.trim() || PALETTE[0];
  btn.style.background = CSS.supports("color", color) ? color : PALETTE[0];
  btn.textContent = shape === "circle" ? "💬" : f.text.value.trim() || (f.lang.value === "en" ? "Chat with us" : "在线客服");
}

form.addEventListener("submit", (ev) => {
  ev.preventDefault();
  showError(formError, "");
  formOk.hidden = true;
  let config: Record<string, unknown>;
  try {
    const v = JSON.parse(raw.value || "{}");
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error("the config must be a JSON object");
    config = v;
  } catch (e) {
    showError(formError, "The widget config is not valid JSON: " + errText(e));
    return;
  }
  const origins = f.origins.value
    .split(/[\s,]+/)
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  const tl = numOrEmpty(f.textlimit.value, true);
  const body = { name: f.name.value.trim(), origins, config, textlimit: tl === "" ? 0 : tl };
  const editing = current;
  const req = editing
    ? api<Site>("PUT", "/api/v1/admin/sites/" + encodeURIComponent(editing.appid), body)
    : api<Site>("POST", "/api/v1/admin/sites", body);
  const save = $<HTMLButtonElement>("save");
  save.disabled = true;
  req
    .then(async (site) => {
      await loadSites(site.appid);
      formOk.textContent = editing ? "Saved." : "Site created. Paste the embed code into your pages.";
      formOk.hidden = false;
      if (!editing) {
        // The new site's tag is what the admin came for: show it.
        window.scrollTo(0, 0);
        $("copy-embed").focus();
      }
    })
    .catch((e) => showError(formError, errText(e)))
    .then(() => {
      save.disabled = false;
    });
});

$("copy-embed").addEventListener("click", () => {
  const done = () => {
    const b = $("copy-embed");
    b.textContent = "Copied";
    window.setTimeout(() => (b.textContent = "Copy"), 1500);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(embedCode.value).then(done, () => {
      embedCode.select();
      document.execCommand("copy");
      done();
    });
  } else {
    embedCode.select();
    document.execCommand("copy");
    done();
  }
});

// ---------------------------------------------------------------- start

if (token) {
  void enter();
} else {
  showLogin();
}
