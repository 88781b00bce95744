// The site's widget configuration (GET /im/{appid}/config), read defensively: every key is
// optional and anything of the wrong type falls back to the default.

/** UCKeFu's palette (consult_vsitorbtn_color 1–6). */
export const PALETTE = ["#377FED", "#67CAFF", "#8E8E8E", "#32C24D", "#E45DB3", "#FF626F"];
export const DEFAULT_COLOR = PALETTE[0];
export const MAX_UPLOAD = 10 * 1024 * 1024;

export type Shape = "bar" | "square" | "circle";
export type FieldName = "name" | "phone" | "email" | "memo";

export interface PrechatField {
  name: FieldName;
  label?: string;
  required: boolean;
}

export interface WidgetConfig {
  button: { shape: Shape; color: string; position: "right" | "left"; text?: string; delay: number };
  theme: { color: string; logo?: string; avatar?: string };
  welcome?: string;
  panel?: { name?: string; phone?: string; email?: string; intro?: string };
  prechat: { enabled: boolean; fields: PrechatField[] };
  invite: { auto: number; message?: string };
  sneakpeek: boolean;
  lang?: string;
  uploads: { images: boolean; files: boolean; maxsize: number };
  satisfaction: Satisfaction;
}

/** The site's rating settings (`satisfaction`): levels 1..scale, the best last. */
export interface Satisfaction {
  enabled: boolean;
  scale: 3 | 5;
  labels?: string[]; // one per level, worst first; none: the widget's own
  comment: boolean;
  when: "end" | "request";
}

/** One group of the skill picker (`consult.skills`). */
export interface ConsultSkill {
  id: string;
  name: string;
  online?: boolean; // only when the site shows it
}

/** The site's skill groups, in its order, and how the picker shows them. */
export interface Consult {
  title?: string;
  showagents: boolean;
  skills: ConsultSkill[];
}

/** The answer of GET /im/{appid}/config. */
export interface SiteInfo {
  appid: string;
  name: string;
  lang?: string;
  open: boolean;
  agents: boolean;
  blocked: boolean;
  blockeduntil?: string;
  config: WidgetConfig;
  consult?: Consult; // the site is bound to skill groups
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function str(v: unknown, max = 2000): string | undefined {
  if (typeof v !== "string") return undefined;
  const s = v.trim();
  return s === "" ? undefined : s.slice(0, max);
}

function num(v: unknown, def: number, min: number, max: number): number {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  if (!isFinite(n)) return def;
  return Math.min(max, Math.max(min, n));
}

function bool(v: unknown, def: boolean): boolean {
  return typeof v === "boolean" ? v : def;
}

/** A CSS colour the browser accepts, or a palette index 1–6, else the default. */
export function color(v: unknown, def = DEFAULT_COLOR): string {
  if (typeof v === "number" && v >= 1 && v <= PALETTE.length) return PALETTE[Math.floor(v) - 1];
  if (typeof v !== "string") return def;
  const s = v.trim();
  if (/^[1-6]$/.test(s)) return PALETTE[Number(s) - 1];
  if (s === "" || s.length > 64) return def;
  try {
    if (typeof CSS !== "undefined" && CSS.supports && CSS.supports("color", s)) return s;
  } catch {
    // fall through
  }
  return def;
}

/** Only http(s) (or same-origin relative) image URLs are used for the logo and the avatar. */
export function imageURL(v: unknown): string | undefined {
  const s = str(v, 2048);
  if (!s) return undefined;
  try {
    const u = new URL(s, location.href);
    return u.protocol === "https:" || u.protocol === "http:" ? u.href : undefined;
  } catch {
    return undefined;
  }
}

const FIELD_NAMES: FieldName[] = ["name", "phone", "email", "memo"];

function normalizeSatisfaction(raw: unknown): Satisfaction {
  const r = obj(raw);
  const scale = r.scale === 3 ? 3 : 5;
  const labels = Array.isArray(r.labels) ? r.labels.map((l) => str(l, 20)).filter((l): l is string => !!l) : [];
  return {
    enabled: bool(r.enabled, true),
    scale,
    labels: labels.length === scale ? labels : undefined,
    comment: bool(r.comment, true),
    when: r.when === "request" ? "request" : "end",
  };
}

function normalizeConsult(raw: unknown): Consult | undefined {
  if (raw === undefined || raw === null) return undefined;
  const r = obj(raw);
  const skills: ConsultSkill[] = [];
  if (Array.isArray(r.skills)) {
    for (const s of r.skills) {
      const o = obj(s);
      const id = str(o.id, 32);
      if (!id || skills.some((x) => x.id === id)) continue;
      skills.push({ id, name: str(o.name, 64) || id, online: typeof o.online === "boolean" ? o.online : undefined });
    }
  }
  return skills.length ? { title: str(r.title, 64), showagents: r.showagents === true, skills } : undefined;
}

export function normalizeConfig(raw: unknown): WidgetConfig {
  const c = obj(raw);
  const b = obj(c.button);
  const th = obj(c.theme);
  const shape: Shape = b.shape === "square" || b.shape === "circle" ? b.shape : "bar";
  const buttonColor = color(b.color);
  const pc = obj(c.prechat);
  const fields: PrechatField[] = [];
  if (Array.isArray(pc.fields)) {
    for (const f of pc.fields) {
      const o = obj(f);
      const name = o.name as FieldName;
      if (FIELD_NAMES.indexOf(name) < 0 || fields.some((x) => x.name === name)) continue;
      fields.push({ name, label: str(o.label, 100), required: o.required === true });
    }
  }
  const prechatEnabled = bool(pc.enabled, false);
  if (prechatEnabled && fields.length === 0) fields.push({ name: "name", required: false });
  const inv = obj(c.invite);
  const up = obj(c.uploads);
  const panel = obj(c.panel);
  const p = {
    name: str(panel.name, 200),
    phone: str(panel.phone, 100),
    email: str(panel.email, 200),
    intro: str(panel.intro, 4000),
  };
  return {
    button: {
      shape,
      color: buttonColor,
      position: b.position === "left" ? "left" : "right",
      text: str(b.text, 40),
      delay: num(b.delay, 0, 0, 3600),
    },
    theme: { color: color(th.color, buttonColor), logo: imageURL(th.logo), avatar: imageURL(th.avatar) },
    welcome: str(c.welcome, 2000),
    panel: p.name || p.phone || p.email || p.intro ? p : undefined,
    prechat: { enabled: prechatEnabled, fields },
    invite: { auto: num(inv.auto, 0, 0, 86400), message: str(inv.message, 500) },
    sneakpeek: c.sneakpeek === true,
    lang: str(c.lang, 16),
    uploads: {
      images: bool(up.images, true),
      files: bool(up.files, true),
      maxsize: num(up.maxsize, MAX_UPLOAD, 1, MAX_UPLOAD),
    },
    satisfaction: normalizeSatisfaction(c.satisfaction),
  };
}

export function normalizeSite(raw: unknown, appid: string): SiteInfo {
  const r = obj(raw);
  return {
    appid: typeof r.appid === "string" ? r.appid : appid,
    name: str(r.name, 200) || "",
    lang: str(r.lang, 16),
    open: r.open !== false,
    agents: r.agents !== false,
    blocked: r.blocked === true,
    blockeduntil: str(r.blockeduntil, 64),
    config: normalizeConfig(r.config),
    consult: normalizeConsult(r.consult),
  };
}

/** Picks black or white text for a background colour (any CSS colour), by its luminance. */
export function textOn(bg: string): string {
  const probe = document.createElement("span");
  probe.style.color = bg;
  probe.style.display = "none";
  document.body.appendChild(probe);
  const rgb = getComputedStyle(probe).color;
  probe.remove();
  const m = /rgba?\((\d+)[, ]+(\d+)[, ]+(\d+)/.exec(rgb);
  if (!m) return "#fff";
  const lin = (c: number) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  };
  const L = 0.2126 * lin(+m[1]) + 0.7152 * lin(+m[2]) + 0.0722 * lin(+m[3]);
  // White when it reaches 3:1 (the header and button texts are large or bold), else near-black.
  return 1.05 / (L + 0.05) >= 3 ? "#fff" : "#1f2328";
}
