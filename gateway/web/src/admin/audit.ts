// The audit log section: who changed what, when and from where, newest first, with filters
// (dates, person, kind of change, text) and the CSV export of what the filters select.

import { type Ctx, register } from "./shell";
import { button, field, h, input, select, table, when } from "./ui";

interface Entry {
  id: number;
  time: string;
  actor: string;
  actorname: string;
  action: string;
  target: string;
  detail: string;
  ip: string;
}

interface Page {
  entries: Entry[];
  next: string;
}

interface Person {
  id: string;
  username: string;
  nickname: string;
}

/** What the first word of an action names. */
const THINGS: Record<string, [string, string]> = {
  agents: ["user", "用户"],
  skills: ["skill group", "技能组"],
  roles: ["role", "角色"],
  sites: ["site", "网站"],
  sessionconfig: ["routing settings", "路由设置"],
  settings: ["settings", "设置"],
  tags: ["tag", "标签"],
  canned: ["canned reply", "快捷回复"],
  blacklist: ["blacklist", "黑名单"],
  platform: ["platform", "平台"],
  auth: ["sign-in", "登录"],
};

const VERBS: Record<string, [string, string]> = {
  create: ["created", "新建"],
  update: ["changed", "修改"],
  delete: ["removed", "删除"],
};

/** An action in words where it is a known kind ("skills.update" → "skill group changed"). */
function describe(ctx: Ctx, action: string): string {
  if (action === "auth.lockout") return ctx.t("account locked out after failed sign-ins", "登录失败次数过多，账号已锁定");
  const words = action.split(".");
  const thing = THINGS[words[0]];
  const verb = VERBS[words[words.length - 1]];
  if (!thing || !verb) return "";
  const sub: Record<string, [string, string]> = { logins: ["session", "会话"], lock: ["lockout", "锁定"], password: ["password", "密码"], members: ["members", "成员"] };
  const part = words.length > 2 ? sub[words[1]] : undefined;
  const what = part ? ctx.t(`${thing[0]} ${part[0]}`, `${thing[1]}${part[1]}`) : ctx.t(thing[0], thing[1]);
  return ctx.t(`${what} ${verb[0]}`, `${verb[1]}${what}`);
}

register({
  id: "audit",
  title: ["Audit log", "操作日志"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    // Names for the filter and the targets; without them the log still loads, with ids.
    const [people, groups] = await Promise.all([
      ctx.api<Person[]>("GET", "/api/v1/admin/agents").catch((): Person[] => []),
      ctx.api<{ id: string; name: string }[]>("GET", "/api/v1/admin/skills").catch(() => []),
    ]);
    const names = new Map<string, string>();
    for (const p of people || []) names.set(p.id, p.nickname || p.username);
    for (const g of groups || []) names.set(g.id, g.name);
    const from = input({ id: "audit-from", type: "date" });
    const to = input({ id: "audit-to", type: "date" });
    const actor = select([["", t("Anyone", "任何人")], ...(people || []).map((p): [string, string] => [p.id, `${p.nickname || p.username} (${p.username})`])], "", { id: "audit-actor" });
    const action = select(
      [["", t("Any change", "任何操作")], ...Object.entries(THINGS).map(([k, v]): [string, string] => [k, t(v[0], v[1])])],
      "",
      { id: "audit-action" },
    );
    const q = input({ id: "audit-q", type: "search", maxlength: "200", placeholder: t("target, name or detail", "对象、姓名或详情") });
    const list = h("div", { id: "audit-list" });
    const more = button(t("Older entries", "更早的记录"), () => void page(true), "secondary", { id: "audit-more", hidden: "" });
    let next = "";

    const params = (): URLSearchParams => {
      const p = new URLSearchParams();
      if (from.value) p.set("from", new Date(from.value + "T00:00:00").toISOString());
      if (to.value) {
        const end = new Date(to.value + "T00:00:00");
        end.setDate(end.getDate() + 1); // the whole day, in the viewer's clock
        p.set("to", end.toISOString());
      }
      if (actor.value) p.set("actor", actor.value);
      if (action.value) p.set("action", action.value);
      if (q.value.trim()) p.set("q", q.value.trim());
      return p;
    };
    const rows = h("div");
    const page = async (older: boolean) => {
      const p = params();
      p.set("limit", "50");
      if (older && next) p.set("before", next);
      let res: Page;
      try {
        res = await ctx.api<Page>("GET", "/api/v1/admin/audit?" + p.toString());
      } catch (e) {
        ctx.notify(ctx.errText(e), "error");
        return;
      }
      next = res.next || "";
      more.hidden = !next;
      if (!older) rows.textContent = "";
      rows.append(entries(ctx, res.entries || [], names, older));
    };
    const search = h(
      "form",
      { class: "toolbar", id: "audit-filters" },
      field(t("From", "开始日期"), from),
      field(t("To", "结束日期"), to),
      field(t("Who", "操作人"), actor),
      field(t("What", "操作对象"), action),
      field(t("Text", "文字"), q),
      button(t("Search", "查询"), () => undefined, "primary", { id: "audit-search", type: "submit" }), // the form's submit runs it
      button(
        t("Export CSV", "导出 CSV"),
        () => void ctx.download("/api/v1/admin/audit/export.csv?" + params().toString(), "kefu-audit.csv").catch((e) => ctx.notify(ctx.errText(e), "error")),
        "secondary",
        { id: "audit-export" },
      ),
    );
    search.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void page(false);
    });
    list.append(rows, more);
    root.append(
      h("h2", { text: t("Audit log", "操作日志") }),
      h("p", {
        class: "hint",
        text: t(
          "Every change made in the admin console, and every account locked out by failed sign-ins. Passwords and secrets are never kept.",
          "管理后台中的每一项修改，以及因登录失败被锁定的账号。不会记录密码和密钥。",
        ),
      }),
      search,
      list,
    );
    await page(false);
  },
});

/** The audit table; targets that are a user or group of the tenant show its name (the id as the title). */
function entries(ctx: Ctx, es: Entry[], names: Map<string, string>, older: boolean): HTMLElement {
  const t = ctx.t;
  const tbl = table<Entry>(
    [
      { title: t("Time", "时间"), cell: (e) => when(e.time), class: "audit-time" },
      { title: t("Who", "操作人"), cell: (e) => e.actorname || e.actor || "—" },
      {
        title: t("Change", "操作"),
        cell: (e) => h("span", null, h("code", { class: "audit-action", text: e.action }), h("span", { class: "hint", text: " " + describe(ctx, e.action) })),
      },
      {
        title: t("Target", "对象"),
        cell: (e) => (names.has(e.target) ? h("span", { title: e.target, class: "audit-target", text: names.get(e.target) || "" }) : e.target || "—"),
      },
      { title: t("Address", "地址"), cell: (e) => e.ip || "—" },
      { title: t("Detail", "详情"), cell: (e) => (e.detail ? h("code", { class: "audit-detail", title: e.detail, text: e.detail }) : "—") },
    ],
    es,
    { empty: older ? "" : t("Nothing recorded yet.", "暂无记录。"), key: (e) => String(e.id), id: older ? undefined : "audit-table" },
  );
  tbl.classList.add("audit");
  return tbl;
}
