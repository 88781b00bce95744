// The users section: the tenant's staff with search and filters; create and edit (nickname,
// password under the rules, roles including the tenant's own, capacity, skill groups from the
// tree) with the user's signed-in sessions, disable and enable, reset a password (a generated one
// is shown once), delete (the history keeps the name).

import { type Agent, type Group, indented, type Role, treeOrder } from "./grouptree";
import { loginsPanel } from "./logins";
import { type Ctx, register } from "./shell";
import { button, card, checkbox, field, h, input, openEditor, saving, select, setText, table } from "./ui";

interface Reset {
  password?: string;
}

interface View {
  ctx: Ctx;
  root: HTMLElement;
  groups: Group[];
  roles: Role[];
  list: HTMLElement;
  editor: HTMLElement;
  filters: { q: HTMLInputElement; skill: HTMLSelectElement; role: HTMLSelectElement; state: HTMLSelectElement };
}

register({
  id: "users",
  title: ["Users", "用户"],
  roles: ["admin"],
  async render(root, ctx) {
    const [groups, roles] = await Promise.all([ctx.api<Group[]>("GET", "/api/v1/admin/skills"), ctx.api<Role[]>("GET", "/api/v1/admin/roles")]);
    const t = ctx.t;
    const v: View = {
      ctx,
      root,
      groups: groups || [],
      roles: roles || [],
      list: h("div", { id: "users-list" }),
      editor: h("div", { id: "users-editor" }),
      filters: {
        q: input({ id: "users-q", type: "search", placeholder: t("Username or nickname", "用户名或昵称"), maxlength: "64" }),
        skill: select([["", t("All groups", "全部技能组")], ...treeOrder(groups || []).map((p): [string, string] => [p.group.id, indented(p)])], "", { id: "users-skill" }),
        role: select([["", t("All roles", "全部角色")], ...(roles || []).map((r): [string, string] => [r.name, roleLabel(ctx, r.name)])], "", { id: "users-role" }),
        state: select(
          [
            ["", t("Enabled and disabled", "启用和停用")],
            ["false", t("Enabled", "已启用")],
            ["true", t("Disabled", "已停用")],
          ],
          "",
          { id: "users-state" },
        ),
      },
    };
    let timer = 0;
    v.filters.q.addEventListener("input", () => {
      window.clearTimeout(timer);
      timer = window.setTimeout(() => void load(v), 250);
    });
    for (const s of [v.filters.skill, v.filters.role, v.filters.state]) s.addEventListener("change", () => void load(v));
    root.append(
      h("h2", { text: t("Users", "用户") }),
      h(
        "div",
        { class: "toolbar" },
        field(t("Search", "搜索"), v.filters.q),
        field(t("Skill group", "技能组"), v.filters.skill),
        field(t("Role", "角色"), v.filters.role),
        field(t("State", "状态"), v.filters.state),
        button("+ " + t("New user", "新建用户"), () => edit(v, null), "primary", { id: "users-new" }),
      ),
      v.editor,
      v.list,
    );
    await load(v);
  },
});

const BUILTIN: Record<string, [string, string]> = {
  agent: ["Agent", "坐席"],
  supervisor: ["Supervisor", "主管"],
  admin: ["Admin", "管理员"],
};

function roleLabel(ctx: Ctx, name: string): string {
  const b = BUILTIN[name];
  return b ? ctx.t(b[0], b[1]) + " (" + name + ")" : name;
}

async function load(v: View): Promise<void> {
  const { ctx } = v;
  const q = new URLSearchParams();
  const f = v.filters;
  if (f.q.value.trim()) q.set("q", f.q.value.trim());
  if (f.skill.value) q.set("skill", f.skill.value);
  if (f.role.value) q.set("role", f.role.value);
  if (f.state.value) q.set("disabled", f.state.value);
  const qs = q.toString();
  let rows: Agent[];
  try {
    rows = (await ctx.api<Agent[]>("GET", "/api/v1/admin/agents" + (qs ? "?" + qs : ""))) || [];
  } catch (e) {
    ctx.notify(ctx.t("Could not load the users: ", "无法加载用户：") + ctx.errText(e), "error");
    return;
  }
  const t = ctx.t;
  const names = new Map(v.groups.map((g) => [g.id, g.name] as [string, string]));
  v.list.textContent = "";
  v.list.appendChild(
    table<Agent>(
      [
        { title: t("Username", "用户名"), cell: (a) => h("span", { class: "mono", text: a.username }) },
        { title: t("Nickname", "昵称"), cell: (a) => a.nickname },
        { title: t("Roles", "角色"), cell: (a) => chips(a.roles.map((r) => (BUILTIN[r] ? t(BUILTIN[r][0], BUILTIN[r][1]) : r))) },
        { title: t("Skill groups", "技能组"), cell: (a) => chips(a.skills.map((id) => names.get(id) || id)) },
        { title: t("Capacity", "接待上限"), class: "num", cell: (a) => (a.maxuser > 0 ? String(a.maxuser) : t("inherit", "继承")) },
        { title: t("Now", "当前"), cell: (a) => statusText(ctx, a) },
        {
          title: t("State", "状态"),
          cell: (a) => h("span", { class: a.disabled ? "team-badge off" : "team-badge on", text: a.disabled ? t("Disabled", "已停用") : t("Enabled", "已启用") }),
        },
        { title: "", cell: (a) => actions(v, a) },
      ],
      rows,
      { id: "users-table", key: (a) => a.id, empty: t("No users match.", "没有符合条件的用户。") },
    ),
  );
}

function chips(items: string[]): HTMLElement {
  return h("span", null, ...items.map((s) => h("span", { class: "chip", text: s })));
}

function statusText(ctx: Ctx, a: Agent): string {
  const s = a.status === "ready" ? ctx.t("Ready", "就绪") : a.status === "offline" ? ctx.t("Offline", "离线") : ctx.t("Not ready", "未就绪");
  return s + (a.busy ? " · " + ctx.t("busy", "忙碌") : "") + (a.users ? " · " + a.users + " " + ctx.t("chats", "会话") : "");
}

function actions(v: View, a: Agent): HTMLElement {
  const { ctx } = v;
  const t = ctx.t;
  const self = a.id === ctx.me.id;
  const toggle = button(a.disabled ? t("Enable", "启用") : t("Disable", "停用"), () => void setDisabled(v, a, !a.disabled), "secondary", { "data-action": "toggle" });
  const del = button(t("Delete", "删除"), () => void remove(v, a), "danger", { "data-action": "delete" });
  // An admin can neither disable nor delete themselves (the server refuses as well).
  toggle.disabled = self;
  del.disabled = self;
  return h(
    "div",
    { class: "actions" },
    button(t("Edit", "编辑"), () => edit(v, a), "secondary", { "data-action": "edit" }),
    button(t("Reset password", "重置密码"), () => resetForm(v, a), "secondary", { "data-action": "reset" }),
    toggle,
    del,
  );
}

async function setDisabled(v: View, a: Agent, disabled: boolean): Promise<void> {
  const { ctx } = v;
  if (disabled && !(await ctx.confirm(ctx.t(`Disable ${a.username}? Their sign-ins end at once.`, `停用 ${a.username}？其登录将立即结束。`)))) return;
  try {
    await ctx.api("PUT", "/api/v1/admin/agents/" + encodeURIComponent(a.id), { disabled });
    ctx.notify(disabled ? ctx.t("User disabled.", "用户已停用。") : ctx.t("User enabled.", "用户已启用。"));
  } catch (e) {
    ctx.notify(ctx.errText(e), "error");
  }
  await load(v);
}

async function remove(v: View, a: Agent): Promise<void> {
  const { ctx } = v;
  const ok = await ctx.confirm(
    ctx.t(
      `Delete ${a.username}? Their open chats go back to the queue; past conversations keep the name "${a.nickname}". The username becomes free.`,
      `删除 ${a.username}？其进行中的会话将回到排队；历史会话仍显示“${a.nickname}”。该用户名可再次使用。`,
    ),
  );
  if (!ok) return;
  try {
    await ctx.api("DELETE", "/api/v1/admin/agents/" + encodeURIComponent(a.id));
    ctx.notify(ctx.t("User deleted.", "用户已删除。"));
    v.editor.textContent = "";
  } catch (e) {
    ctx.notify(ctx.errText(e), "error");
  }
  await load(v);
}

const RULES: [string, string] = [
  "At least 8 characters with a letter and a digit; not the username, not a common password.",
  "至少 8 个字符，包含字母和数字；不能是用户名或常见密码。",
];

/** Opens the editor: a new user (null) or an existing one. */
function edit(v: View, a: Agent | null): void {
  const { ctx } = v;
  const t = ctx.t;
  const username = input({ id: "user-username", maxlength: "64", autocomplete: "off", readonly: a ? true : undefined }, a ? a.username : "");
  const nickname = input({ id: "user-nickname", maxlength: "64" }, a ? a.nickname : "");
  const password = input({ id: "user-password", type: "password", autocomplete: "new-password", maxlength: "72" });
  const maxuser = input({ id: "user-maxuser", type: "number", min: "0", max: "1000", inputmode: "numeric" }, String(a ? a.maxuser : 0));
  const held = new Set(a ? a.roles : ["agent"]);
  const roleBoxes = v.roles.map((r) => ({ name: r.name, ...checkbox(roleLabel(ctx, r.name), held.has(r.name), { name: "role", value: r.name }) }));
  const mine = new Set(a ? a.skills : []);
  const skillBoxes = treeOrder(v.groups).map((p) => {
    const c = checkbox(p.group.name + (p.group.disabled ? " (" + t("disabled", "已停用") + ")" : ""), mine.has(p.group.id), { name: "skill", value: p.group.id });
    c.row.style.paddingLeft = p.depth * 1.4 + "em";
    return { id: p.group.id, ...c };
  });
  const error = h("p", { class: "error", role: "alert", id: "user-error", hidden: true });
  const save = button(a ? t("Save", "保存") : t("Create user", "创建用户"), () => void submit(), "primary", { id: "user-save" });
  const submit = async () => {
    const roles = roleBoxes.filter((r) => r.box.checked).map((r) => r.name);
    const skills = skillBoxes.filter((s) => s.box.checked).map((s) => s.id);
    if (roles.length === 0) return setText(error, t("Choose at least one role.", "请至少选择一个角色。"));
    const body: Record<string, unknown> = { nickname: nickname.value.trim(), maxuser: Number(maxuser.value) || 0, roles, skills };
    await saving(save, error, ctx.errText, async () => {
      if (a) {
        await ctx.api("PUT", "/api/v1/admin/agents/" + encodeURIComponent(a.id), body);
        ctx.notify(t("User saved.", "用户已保存。"));
      } else {
        await ctx.api("POST", "/api/v1/admin/agents", { ...body, username: username.value.trim(), password: password.value });
        ctx.notify(t("User created.", "用户已创建。"));
      }
      v.editor.textContent = "";
      await load(v);
    });
  };
  openEditor(v.editor, {
    title: a ? t("Edit user", "编辑用户") + " " + a.username : t("New user", "新建用户"),
    form: "user-form",
    content: [
      h(
        "div",
        { class: "grid" },
        field(t("Username", "用户名"), username, a ? undefined : t("A-Z a-z 0-9 _ . @ -", "字母、数字及 _ . @ -")),
        field(t("Nickname", "昵称"), nickname, t("shown to visitors", "访客看到的名字")),
        a ? null : field(t("Password", "密码"), password, t(RULES[0], RULES[1])),
        field(t("Capacity", "接待上限"), maxuser, t("chats at once; 0 = inherit from the group or tenant", "同时接待数；0 = 继承技能组或租户设置")),
      ),
      h("fieldset", { class: "boxes", id: "user-roles" }, h("legend", { text: t("Roles", "角色") }), ...roleBoxes.map((r) => r.row)),
      h(
        "fieldset",
        { class: "boxes", id: "user-skills" },
        h("legend", { text: t("Skill groups", "技能组") }),
        ...(skillBoxes.length ? skillBoxes.map((s) => s.row) : [h("p", { class: "hint", text: t("No skill groups yet.", "还没有技能组。") })]),
      ),
    ],
    error,
    save,
    cancel: [t("Cancel", "取消"), "user-cancel"],
  });
  if (a) v.editor.appendChild(loginsPanel(ctx, a.id));
  (a ? nickname : username).focus();
}

function resetForm(v: View, a: Agent): void {
  const { ctx } = v;
  const t = ctx.t;
  const password = input({ id: "reset-password", type: "password", autocomplete: "new-password", maxlength: "72", placeholder: t("empty: generate one", "留空：自动生成") });
  const result = h("p", { id: "reset-result", class: "ok", role: "status", hidden: true });
  const error = h("p", { class: "error", role: "alert", id: "reset-error", hidden: true });
  const go = button(t("Reset password", "重置密码"), () => void submit(), "primary", { id: "reset-go" });
  const submit = () => {
    setText(result, "");
    return saving(go, error, ctx.errText, async () => {
      const res = await ctx.api<Reset>("POST", "/api/v1/admin/agents/" + encodeURIComponent(a.id) + "/password", password.value ? { password: password.value } : {});
      password.value = "";
      if (res && res.password) {
        result.textContent = "";
        result.append(
          t("New password (shown only this once): ", "新密码（仅显示这一次）："),
          h("code", { id: "reset-generated", text: res.password }),
        );
        result.hidden = false;
      } else {
        setText(result, t("Password set. Their sign-ins have ended.", "密码已设置，其登录已结束。"));
      }
    });
  };
  v.editor.textContent = "";
  v.editor.appendChild(
    card(
      t("Reset the password of", "重置密码：") + " " + a.username,
      h("p", { class: "hint", text: t(RULES[0], RULES[1]) + " " + t("Every sign-in of the user ends.", "该用户的所有登录都将结束。") }),
      h("div", { class: "toolbar" }, field(t("New password", "新密码"), password), go, button(t("Close", "关闭"), () => (v.editor.textContent = ""), "secondary", { id: "reset-close" })),
      error,
      result,
    ),
  );
  password.focus();
}
