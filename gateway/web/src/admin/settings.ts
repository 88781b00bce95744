// The routing and session settings section: the tenant (name, time zone and its clock), then the
// settings of the tenant or of one skill group ("#/settings?skill=<id>"): distribution, capacity,
// last agent first, the timers, the working hours with weekdays and holidays, and the prompts.
// Next to every field is what takes effect and where it comes from (the server resolves it, as
// routing does); the panel on top says whether the service is open now by the tenant's clock.

import { type Group, indented, treeOrder } from "./grouptree";
import { type Ctx, register } from "./shell";
import { dayName, hoursEditor, type HoursEditor, type Schedule, WEEK } from "./settingshours";
import { button, card, field, h, input, saving, select, setText } from "./ui";

interface Row {
  skill: string;
  distribution: string;
  lastagent: boolean | null;
  maxuser: number;
  initmaxuser: number;
  timeout: number;
  retimeout: number;
  agenttimeout: number;
  quenetimeout: number;
  visitorleftgrace: number;
  workinghours: string;
  schedule: Schedule;
  lang: string;
  prompts: Record<string, string>;
}

interface Sourced<T> {
  value: T;
  source: "default" | "tenant" | "group";
}

interface Effective {
  skill: string;
  effective: Record<string, Sourced<unknown>> & { schedule: Sourced<Schedule>; workinghours: Sourced<string> };
  defaults: { distribution: string; maxuser: number; initmaxuser: number; lang: string };
  prompts: { key: string; default_zh: string; default_en: string; placeholders: string[]; value: string }[];
  timezone: string;
  now: string;
  weekday: string;
  open_now: boolean;
  next_change?: string;
}

interface Tenant {
  id: string;
  name: string;
  timezone: string;
  now: string;
  weekday: string;
}

const TIMERS: [key: string, en: string, zh: string, hintEN: string, hintZH: string][] = [
  ["timeout", "Visitor quiet: warn after", "访客无响应提醒", "seconds without a visitor message before the warning", "访客多少秒未发言后提醒"],
  ["retimeout", "… then close after", "提醒后自动结束", "seconds more after the warning before the chat ends", "提醒后再过多少秒结束对话"],
  ["agenttimeout", "Agent has not replied", "坐席未回复提醒", "seconds a visitor waits for a reply before a notice", "访客等待回复多少秒后提示"],
  ["quenetimeout", "Queue timeout", "排队超时", "seconds in the queue before the wait ends", "排队多少秒后结束等待"],
  ["visitorleftgrace", "Visitor left: end after", "访客离开后结束", "seconds after the visitor's last window closed; 0: the service default (60)", "访客关闭窗口多少秒后结束；0：服务默认（60）"],
];

const PROMPT_NAMES: Record<string, [string, string]> = {
  successmsg: ["Agent assigned", "分配坐席成功"],
  agentbusymsg: ["Waiting in the queue", "排队等待"],
  noagentmsg: ["No agent available", "无坐席可服务"],
  finessmsg: ["Chat ended", "对话结束"],
  notinwhmsg: ["Outside working hours", "非工作时间"],
  timeoutmsg: ["Visitor quiet: warning", "访客超时提醒"],
  retimeoutmsg: ["Visitor quiet: closed", "访客超时结束"],
  agenttimeoutmsg: ["Agent has not replied", "坐席超时提醒"],
  quenetimeoutmsg: ["Queue timeout", "排队超时"],
  transfermsg: ["Transferred", "转接成功"],
};

register({
  id: "settings",
  title: ["Routing settings", "路由与会话设置"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    const skill = ctx.params.get("skill") || "";
    const [tenant, groups, rows, eff] = await Promise.all([
      ctx.api<Tenant>("GET", "/api/v1/admin/tenant"),
      ctx.api<Group[]>("GET", "/api/v1/admin/skills"),
      ctx.api<Row[]>("GET", "/api/v1/admin/sessionconfig"),
      ctx.api<Effective>("GET", "/api/v1/admin/sessionconfig/effective?skill=" + encodeURIComponent(skill)),
    ]);
    const row = (rows || []).find((r) => r.skill === skill) || emptyRow(skill);
    const panel = h("div", { id: "set-effective", class: "effective" });
    showEffective(ctx, panel, eff);
    root.append(
      h("h2", { text: t("Routing and session settings", "路由与会话设置") }),
      h("p", { class: "hint", text: t("The tenant's settings apply to every skill group; a group may override any of them. Empty or 0 inherits.", "租户设置适用于所有技能组；技能组可以覆盖其中任何一项。留空或 0 表示继承。") }),
      tenantCard(ctx, tenant, () => refresh(ctx, panel, skill)),
      scopePicker(ctx, groups || [], skill),
      panel,
      editor(ctx, row, eff, (fresh) => showEffective(ctx, panel, fresh)),
    );
  },
});

function emptyRow(skill: string): Row {
  return { skill, distribution: "", lastagent: null, maxuser: 0, initmaxuser: 0, timeout: 0, retimeout: 0, agenttimeout: 0, quenetimeout: 0, visitorleftgrace: 0, workinghours: "", schedule: {}, lang: "", prompts: {} };
}

async function refresh(ctx: Ctx, panel: HTMLElement, skill: string): Promise<Effective> {
  const eff = await ctx.api<Effective>("GET", "/api/v1/admin/sessionconfig/effective?skill=" + encodeURIComponent(skill));
  showEffective(ctx, panel, eff);
  return eff;
}

/** "2026-12-07T14:05:00+08:00" → "2026-12-07 14:05": the wall clock the server wrote, not the viewer's. */
function wall(iso: string): string {
  return iso.slice(0, 10) + " " + iso.slice(11, 16);
}

function zones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (k: string) => string[] };
  const list = intl.supportedValuesOf ? intl.supportedValuesOf("timeZone") : [];
  return list.indexOf("UTC") < 0 ? ["UTC", ...list] : list;
}

function tenantCard(ctx: Ctx, tenant: Tenant, changed: () => Promise<unknown>): HTMLElement {
  const t = ctx.t;
  const name = input({ id: "set-tenant-name", maxlength: "128" }, tenant.name);
  const zone = input({ id: "set-timezone", list: "set-timezones", autocomplete: "off", spellcheck: "false", placeholder: "Asia/Shanghai" }, tenant.timezone);
  const list = h("datalist", { id: "set-timezones" }, ...zones().map((z) => h("option", { value: z })));
  const clock = h("p", { id: "set-clock", class: "hint" });
  const showClock = (x: Tenant) => (clock.textContent = t("Local time there: ", "当地时间：") + wall(x.now) + ", " + dayName(ctx, x.weekday) + " (" + x.timezone + ")");
  showClock(tenant);
  const error = h("p", { id: "set-tenant-error", class: "error", role: "alert", hidden: true });
  const save = button(
    t("Save tenant", "保存租户"),
    () =>
      void saving(save, error, ctx.errText, async () => {
        const got = await ctx.api<Tenant>("PUT", "/api/v1/admin/tenant", { name: name.value.trim(), timezone: zone.value.trim() });
        showClock(got);
        ctx.notify(t("Tenant saved.", "租户已保存。"));
        await changed();
      }),
    "primary",
    { id: "set-tenant-save" },
  );
  return card(
    t("Tenant", "租户"),
    h("div", { class: "grid" }, field(t("Name", "名称"), name), field(t("Time zone", "时区"), zone, t("type to search; working hours are read on this clock", "输入以搜索；工作时间按此时区计算"))),
    list,
    clock,
    error,
    save,
  );
}

function scopePicker(ctx: Ctx, groups: Group[], skill: string): HTMLElement {
  const t = ctx.t;
  const options: [string, string][] = [["", t("Tenant (every group)", "租户（所有技能组）")]];
  for (const p of treeOrder(groups)) options.push([p.group.id, indented(p) + (p.group.disabled ? " " + t("(disabled)", "（已停用）") : "")]);
  const sel = select(options, skill, { id: "set-scope" });
  sel.addEventListener("change", () => (location.hash = "#/settings" + (sel.value ? "?skill=" + encodeURIComponent(sel.value) : "")));
  return h("div", { class: "toolbar" }, field(t("Settings of", "设置范围"), sel));
}

function sourceText(ctx: Ctx, s: string): string {
  return s === "group" ? ctx.t("this group", "本组") : s === "tenant" ? ctx.t("the tenant", "租户") : ctx.t("the default", "默认");
}

function valueText(ctx: Ctx, key: string, v: unknown): string {
  if (typeof v === "boolean") return v ? ctx.t("on", "开启") : ctx.t("off", "关闭");
  if (TIMERS.some((x) => x[0] === key)) return v ? v + " s" : key === "visitorleftgrace" ? ctx.t("service default", "服务默认") : ctx.t("off", "关闭");
  return String(v);
}

/** "inherits 300 s from the tenant" / "in effect: 5 (the default)". */
function effectText(ctx: Ctx, eff: Effective, key: string, scope: string): string {
  const e = eff.effective[key];
  if (!e) return "";
  const mine = (scope === "" && e.source === "tenant") || (scope !== "" && e.source === "group");
  const v = valueText(ctx, key, e.value);
  return mine ? ctx.t("in effect: " + v, "生效：" + v) : ctx.t(`inherits ${v} from ${sourceText(ctx, e.source)}`, `继承${sourceText(ctx, e.source)}：${v}`);
}

function showEffective(ctx: Ctx, panel: HTMLElement, eff: Effective): void {
  const t = ctx.t;
  panel.textContent = "";
  const at = eff.timezone + " " + eff.now.slice(11, 16) + ", " + dayName(ctx, eff.weekday);
  const state = eff.open_now ? t(`Open now (${at})`, `当前营业中（${at}）`) : t(`Closed now (${at})`, `当前非工作时间（${at}）`);
  const next = eff.next_change ? (eff.open_now ? t("closes ", "将于 ") : t("opens ", "将于 ")) + wall(eff.next_change) + (eff.open_now ? t("", " 结束") : t("", " 开始")) : t("no change in the next three weeks", "三周内无变化");
  const e = eff.effective;
  const items: [string, string][] = [
    [t("Distribution", "分配策略"), String(e.distribution.value)],
    [t("Capacity", "接待上限"), String(e.maxuser.value)],
    [t("Per pull", "单次分配"), String(e.initmaxuser.value)],
    [t("Last agent first", "优先上次坐席"), valueText(ctx, "lastagent", e.lastagent.value)],
    ...TIMERS.map(([k, en, zh]) => [t(en, zh), valueText(ctx, k, e[k].value)] as [string, string]),
    [t("Working hours from", "工作时间来自"), sourceText(ctx, e.workinghours.source)],
  ];
  panel.append(
    h("p", { id: "set-open-now", class: "open-state " + (eff.open_now ? "open" : "closed"), "data-open": String(eff.open_now) }, h("strong", { text: state }), " · ", h("span", { id: "set-next-change", text: next })),
    h("dl", { class: "effective-list" }, ...items.map(([k, v]) => h("div", null, h("dt", { text: k }), h("dd", { text: v })))),
  );
}

function editor(ctx: Ctx, row: Row, eff: Effective, saved: (eff: Effective) => void): HTMLElement {
  const t = ctx.t;
  const group = row.skill !== "";
  const slots = new Map<string, HTMLElement>();
  const effects: [key: string, node: HTMLElement][] = [];
  const withEffect = (key: string, control: HTMLElement, label: string, hint: string) => {
    const eNode = h("span", { class: "eff", id: "set-eff-" + key });
    const err = h("p", { class: "error field-error", role: "alert", hidden: true, "data-field": key });
    slots.set(key, err);
    effects.push([key, eNode]);
    const f = field(label, control, hint);
    f.append(eNode, err);
    return f;
  };
  const inherit = group ? t("Inherit", "继承") : t("Default", "默认");
  const distribution = select(
    [
      ["", `${inherit} (${eff.defaults.distribution})`],
      ["least", t("least: fewest chats first", "least：当前对话最少者优先")],
      ["idle", t("idle: longest without a new chat", "idle：空闲最久者优先")],
      ["round", t("round: in turn", "round：轮流分配")],
    ],
    row.distribution,
    { id: "set-distribution" },
  );
  const num = (key: string, v: number, min: number, max: number) => input({ id: "set-" + key, type: "number", min: String(min), max: String(max), inputmode: "numeric" }, String(v || 0));
  const maxuser = num("maxuser", row.maxuser, 0, 1000);
  const initmaxuser = num("initmaxuser", row.initmaxuser, 0, 1000);
  const lastagent = select([["", inherit + " (" + t("off", "关闭") + ")"], ["on", t("On", "开启")], ["off", t("Off", "关闭")]], row.lastagent === null ? "" : row.lastagent ? "on" : "off", { id: "set-lastagent" });
  const timers = TIMERS.map(([k]) => num(k, (row as unknown as Record<string, number>)[k], group ? -1 : 0, 86400));
  const timerHint = group ? t("0 inherits; -1 turns it off for this group", "0 表示继承；-1 表示本组关闭") : t("0 is off", "0 表示关闭");
  const hours: HoursEditor = hoursEditor(ctx, row.workinghours, row.schedule || {});
  const hoursEffect = h("p", { class: "eff", id: "set-eff-hours" });
  hours.errorSlots.forEach((n, k) => slots.set(k, n));

  const blocks: HTMLElement[] = [
    card(
      t("Distribution", "分配"),
      h(
        "div",
        { class: "grid" },
        withEffect("distribution", distribution, t("Policy", "分配策略"), ""),
        withEffect("maxuser", maxuser, t("Capacity (maxuser)", "接待上限 (maxuser)"), t("chats per agent; an agent's own or its group's comes first; 0 inherits", "每位坐席同时接待数；坐席或技能组自己的设置优先；0 表示继承")),
        withEffect("initmaxuser", initmaxuser, t("Per pull (initmaxuser)", "单次分配上限 (initmaxuser)"), t(`visitors one agent takes from the queue at once; 0 inherits (default ${eff.defaults.initmaxuser})`, `坐席一次从队列领取的访客数；0 表示继承（默认 ${eff.defaults.initmaxuser}）`)),
        withEffect("lastagent", lastagent, t("Last agent first", "优先分配上次坐席"), t("a returning visitor goes to the agent who served them last", "回访访客优先分配给上次服务的坐席")),
      ),
    ),
    card(t("Timers", "超时"), h("p", { class: "hint", text: timerHint }), h("div", { class: "grid" }, ...TIMERS.map(([k, en, zh, hen, hzh], i) => withEffect(k, timers[i], t(en, zh), t(hen, hzh))))),
    card(
      t("Working hours", "工作时间"),
      h("p", { class: "hint", text: group ? t("Hours set here replace the tenant's hours whole (every day, weekdays and holidays); leave all empty to inherit them.", "在此设置的时间会整体替换租户的工作时间（每日、星期与节假日）；全部留空则继承租户。") : t("Outside these hours visitors are told the off-hours prompt and may leave a message.", "非工作时间访客会收到非工作时间提示，并可留言。") }),
      hoursEffect,
      hours.node,
    ),
  ];
  let promptsOf: () => Record<string, string> = () => ({});
  let lang: HTMLSelectElement | null = null;
  if (!group) {
    lang = select([["", t("Default (中文)", "默认（中文）")], ["zh-CN", "中文"], ["en", "English"]], row.lang, { id: "set-lang" });
    const areas = eff.prompts.map((p) => {
      const area = h("textarea", { id: "set-prompt-" + p.key, rows: "2", maxlength: "500" });
      area.value = row.prompts[p.key] || "";
      return { p, area };
    });
    const placeholders = () => {
      for (const { p, area } of areas) area.placeholder = lang!.value === "en" ? p.default_en : p.default_zh;
    };
    lang.addEventListener("change", placeholders);
    placeholders();
    promptsOf = () => {
      const out: Record<string, string> = {};
      for (const { p, area } of areas) if (area.value.trim()) out[p.key] = area.value.trim();
      return out;
    };
    const err = h("p", { class: "error field-error", role: "alert", hidden: true });
    slots.set("prompts", err);
    blocks.push(
      card(
        t("Language and prompts", "语言与提示语"),
        withEffect("lang", lang, t("Language of the prompts", "提示语语言"), ""),
        h("p", { class: "hint", text: t("Empty uses the default text shown in grey. Placeholders are filled in when sent.", "留空则使用灰色显示的默认文字。占位符会在发送时替换。") }),
        ...areas.map(({ p, area }) => {
          const names = PROMPT_NAMES[p.key] || [p.key, p.key];
          const f = field(t(names[0], names[1]) + " (" + p.key + ")", area);
          if (p.placeholders.length) f.querySelector("label")!.append(" ", ...p.placeholders.map((x) => h("span", { class: "chip", text: x })));
          return f;
        }),
        err,
      ),
    );
  }
  const error = h("p", { id: "set-error", class: "error", role: "alert", hidden: true });
  const showEffects = (e: Effective) => {
    for (const [k, n] of effects) n.textContent = effectText(ctx, e, k, row.skill);
    const src = e.effective.workinghours.source;
    const summary = hoursSummary(ctx, e.effective.workinghours.value, e.effective.schedule.value || {});
    hoursEffect.textContent = (group ? src === "group" : src === "tenant") ? t("In effect: ", "生效：") + summary : t(`Inherits from ${sourceText(ctx, src)}: `, `继承${sourceText(ctx, src)}：`) + summary;
  };
  showEffects(eff);
  const save = button(
    t("Save settings", "保存设置"),
    async () => {
      setText(error, "");
      slots.forEach((n) => setText(n, ""));
      const val = (x: HTMLInputElement) => Number(x.value) || 0;
      const pair = hours.value();
      const body: Record<string, unknown> = {
        skill: row.skill,
        distribution: distribution.value,
        lastagent: lastagent.value === "" ? null : lastagent.value === "on",
        maxuser: val(maxuser),
        initmaxuser: val(initmaxuser),
        ...Object.fromEntries(TIMERS.map(([k], i) => [k, val(timers[i])])),
        workinghours: pair.workinghours,
        schedule: pair.schedule,
      };
      if (lang) Object.assign(body, { lang: lang.value, prompts: promptsOf() });
      save.disabled = true;
      try {
        await ctx.api<Row>("PUT", "/api/v1/admin/sessionconfig", body);
        const fresh = await ctx.api<Effective>("GET", "/api/v1/admin/sessionconfig/effective?skill=" + encodeURIComponent(row.skill));
        saved(fresh);
        showEffects(fresh);
        ctx.notify(t("Settings saved: they take effect now.", "设置已保存，立即生效。"));
      } catch (e) {
        const msg = ctx.errText(e);
        setText(error, msg);
        const slot = slotFor(slots, msg);
        if (slot) setText(slot, msg);
      } finally {
        save.disabled = false;
      }
    },
    "primary",
    { id: "set-save" },
  );
  const actions = h("div", { class: "bar" }, save);
  if (group) {
    actions.append(
      " ",
      button(
        t("Remove this group's overrides", "清除本组覆盖设置"),
        async () => {
          if (!(await ctx.confirm(t("Remove every override of this group? It then inherits the tenant's settings.", "清除本组所有覆盖设置？之后将继承租户设置。")))) return;
          try {
            await ctx.api("DELETE", "/api/v1/admin/sessionconfig/" + encodeURIComponent(row.skill));
            ctx.notify(t("The group inherits the tenant's settings.", "本组已继承租户设置。"));
            window.dispatchEvent(new HashChangeEvent("hashchange")); // render again from the server
          } catch (e) {
            ctx.notify(ctx.errText(e), "error");
          }
        },
        "danger",
        { id: "set-reset" },
      ),
    );
  }
  return h("div", { id: "set-form", class: "settings-form" }, ...blocks, error, actions);
}

/** "every day 09:00~18:00; Saturday closed; 2 dates" */
function hoursSummary(ctx: Ctx, spec: string, sched: Schedule): string {
  const t = ctx.t;
  const parts = [spec ? t("every day ", "每日 ") + spec : t("always open", "全天开放")];
  for (const d of WEEK) {
    const v = sched.days && sched.days[d];
    if (v !== undefined) parts.push(dayName(ctx, d) + " " + (v === "" ? t("closed", "休息") : v));
  }
  const n = (sched.holidays || []).length;
  if (n) parts.push(t(`${n} special date${n > 1 ? "s" : ""}`, `${n} 个特殊日期`));
  return parts.join(t("; ", "；"));
}

/** The error line of the field a server message names ("schedule.days.sat: …"), or of its nearest parent. */
function slotFor(slots: Map<string, HTMLElement>, msg: string): HTMLElement | undefined {
  const m = /^([a-z_]+(?:\.[a-z_]+|\[\d+\])*):/.exec(msg);
  let path = m ? m[1] : "";
  while (path) {
    const n = slots.get(path);
    if (n) return n;
    const cut = Math.max(path.lastIndexOf("."), path.lastIndexOf("["));
    path = cut > 0 ? path.slice(0, cut) : "";
  }
  return undefined;
}
