// The sites section: the tenant's sites (web channels), each with its allowed origins, text limit
// and widget config (through the form or as raw JSON), and its embed code. The markup is the
// static #sites-view of admin.html, moved into the section's root when it opens.

import { PALETTE } from "../widget/config";
import { h } from "../widget/dom";
import type { Group } from "./grouptree";
import { type Ctx, errText, register } from "./shell";
import { Routing, createRouting } from "./siterouting";

interface Site {
  appid: string;
  name: string;
  origins: string[];
  config: Record<string, unknown> | null;
  textlimit: number;
  disabled?: boolean;
  skills: string[];
  embed: string;
}

let ctx: Ctx;
let sites: Site[] = [];
let current: Site | null = null; // null: a new site
let rawBase: Record<string, unknown> = {}; // the config being edited, keys the form does not know included
let routing: Routing | null = null; // the skill groups and rating blocks, rebuilt when the section opens

const $ = <T extends HTMLElement = HTMLElement>(id: string) => {
  const n = document.getElementById(id);
  if (!n) throw new Error("missing #" + id);
  return n as T;
};

function showError(node: HTMLElement, text: string): void {
  node.textContent = text;
  node.hidden = text === "";
}

function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  return ctx.api<T>(method, url, body);
}

register({
  id: "sites",
  title: ["Sites", "网站渠道"],
  roles: ["admin"],
  async render(root, c) {
    ctx = c;
    root.appendChild($("sites-view"));
    $("sites-view").hidden = false;
    if (routing) routing.node.remove();
    routing = null;
    try {
      const groups = await api<Group[]>("GET", "/api/v1/admin/skills");
      routing = createRouting(c, Array.isArray(groups) ? groups : []);
      const json = raw.closest("fieldset");
      if (json && json.parentNode) json.parentNode.insertBefore(routing.node, json);
    } catch (e) {
      // Without the groups the blocks are left out, and saving leaves the site's groups alone.
      c.notify(c.t("Could not load the skill groups: ", "无法加载技能组：") + errText(e), "error");
    }
    await loadSites();
  },
});

// ---------------------------------------------------------------- site list

const list = $("sites");
const listError = $("list-error");

async function loadSites(select?: string): Promise<void> {
  showError(listError, "");
  try {
    const res = await api<Site[]>("GET", "/api/v1/admin/sites");
    sites = Array.isArray(res) ? res : [];
  } catch (e) {
    showError(listError, ctx.t("Could not load the sites: ", "无法加载网站：") + errText(e));
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
  formTitle.textContent = site ? ctx.t(`Edit “${site.name}”`, `编辑“${site.name}”`) : ctx.t("New site", "新建网站");
  f.name.value = site ? site.name : "";
  f.origins.value = site ? (site.origins || []).join("\n") : "*";
  f.textlimit.value = site && site.textlimit ? String(site.textlimit) : "";
  rawBase = site ? JSON.parse(JSON.stringify(obj(site.config))) : {};
  configToForm(rawBase);
  if (routing) routing.load(site ? site.skills || [] : [], rawBase);
  raw.value = JSON.stringify(rawBase, null, 2);
  embedBox.hidden = !site;
  if (site) {
    embedCode.value = site.embed;
    preview.href = "/im/" + encodeURIComponent(site.appid) + "/widget";
  }
  $("save").textContent = site ? ctx.t("Save changes", "保存修改") : ctx.t("Create site", "创建网站");
  $("copy-embed").textContent = ctx.t("Copy", "复制");
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
  if (routing) routing.apply(c);
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
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error(ctx.t("the config must be a JSON object", "配置必须是 JSON 对象"));
    rawBase = v;
    configToForm(rawBase);
    if (routing) routing.load(routing.skills(), rawBase);
    raw.value = JSON.stringify(formToConfig(), null, 2);
    showError(rawError, "");
  } catch (e) {
    showError(rawError, ctx.t("Invalid JSON: ", "JSON 无效：") + errText(e));
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
    if (!v || typeof v !== "object" || Array.isArray(v)) throw new Error(ctx.t("the config must be a JSON object", "配置必须是 JSON 对象"));
    config = v;
  } catch (e) {
    showError(formError, ctx.t("The widget config is not valid JSON: ", "插件配置不是有效的 JSON：") + errText(e));
    return;
  }
  const origins = f.origins.value
    .split(/[\s,]+/)
    .map((o) => o.trim().replace(/\/+$/, ""))
    .filter(Boolean);
  const tl = numOrEmpty(f.textlimit.value, true);
  const problem = routing ? routing.problem() : "";
  if (problem) {
    showError(formError, problem);
    return;
  }
  const body = { name: f.name.value.trim(), origins, config, textlimit: tl === "" ? 0 : tl, skills: routing ? routing.skills() : undefined };
  const editing = current;
  const req = editing
    ? api<Site>("PUT", "/api/v1/admin/sites/" + encodeURIComponent(editing.appid), body)
    : api<Site>("POST", "/api/v1/admin/sites", body);
  const save = $<HTMLButtonElement>("save");
  save.disabled = true;
  req
    .then(async (site) => {
      await loadSites(site.appid);
      formOk.textContent = editing ? ctx.t("Saved.", "已保存。") : ctx.t("Site created. Paste the embed code into your pages.", "网站已创建。请把嵌入代码粘贴到您的页面中。");
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
    b.textContent = ctx.t("Copied", "已复制");
    window.setTimeout(() => (b.textContent = ctx.t("Copy", "复制")), 1500);
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

