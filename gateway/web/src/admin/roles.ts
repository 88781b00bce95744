// The roles section: the built-in roles (agent, supervisor, admin: admin's rights are fixed) and
// the tenant's own, each with the supervision rights it grants (cskefu's audit permissions):
// read (watch), write (join and whisper), transfer (take over, move, end, act on the queue and
// agents).

import { type Role } from "./grouptree";
import { type Ctx, register } from "./shell";
import { button, card, checkbox, field, h, input, saving, setText, table } from "./ui";

const RIGHTS: [right: string, en: string, zh: string][] = [
  ["read", "Read: watch chats, the queue and agents", "查看：监看会话、排队和坐席"],
  ["write", "Write: join a chat, whisper to the agent", "发言：加入会话、对坐席私语"],
  ["transfer", "Transfer: take over, move, end; act on the queue and agents", "转接：强接、转移、结束；操作排队和坐席"],
];

const BUILTIN: Record<string, [string, string]> = {
  agent: ["Agent: serves visitors", "坐席：接待访客"],
  supervisor: ["Supervisor: leads the groups it belongs to and those below", "主管：管理所属技能组及其下级组"],
  admin: ["Admin: runs the tenant, every right everywhere", "管理员：管理租户，拥有全部权限"],
};

register({
  id: "roles",
  title: ["Roles", "角色权限"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    const list = h("div", { id: "roles-list" });
    root.append(
      h("h2", { text: t("Roles and rights", "角色与权限") }),
      h("p", {
        class: "hint",
        text: t(
          "Rights apply to supervision, within the skill groups a person belongs to and the groups below them (admins: the whole tenant).",
          "权限用于质检监控，范围是所属技能组及其下级组（管理员：整个租户）。",
        ),
      }),
      newRoleForm(ctx, () => load(ctx, list)),
      list,
    );
    await load(ctx, list);
  },
});

async function load(ctx: Ctx, list: HTMLElement): Promise<void> {
  let roles: Role[];
  try {
    roles = (await ctx.api<Role[]>("GET", "/api/v1/admin/roles")) || [];
  } catch (e) {
    ctx.notify(ctx.t("Could not load the roles: ", "无法加载角色：") + ctx.errText(e), "error");
    return;
  }
  const t = ctx.t;
  const reload = () => load(ctx, list);
  list.textContent = "";
  list.appendChild(
    table<Role>(
      [
        {
          title: t("Role", "角色"),
          cell: (r) => {
            const b = BUILTIN[r.name];
            return h("div", null, h("strong", { class: "mono", text: r.name }), h("div", { class: "hint", text: b ? t(b[0], b[1]) : t("The tenant's own role", "租户自定义角色") }));
          },
        },
        ...RIGHTS.map(([right, en, zh]) => ({
          title: t(en.split(":")[0], zh.split("：")[0]),
          cell: (r: Role) => {
            const c = checkbox("", r.rights.indexOf(right) >= 0, { "data-right": right, "aria-label": r.name + ": " + t(en, zh), disabled: r.fixed ? true : undefined });
            c.box.addEventListener("change", () => void saveRights(ctx, r, rowRights(c.box), reload));
            return c.row;
          },
        })),
        {
          title: "",
          cell: (r) => {
            if (r.fixed) return h("span", { class: "hint", text: t("fixed", "固定") });
            const label = r.builtin ? t("Reset to default", "恢复默认") : t("Delete", "删除");
            return button(label, () => void remove(ctx, r, reload), r.builtin ? "secondary" : "danger", { "data-action": r.builtin ? "reset" : "delete" });
          },
        },
      ],
      roles,
      { id: "roles-table", key: (r) => r.name },
    ),
  );
}

/** The rights ticked in the row of box. */
function rowRights(box: HTMLInputElement): string[] {
  const row = box.closest("tr");
  if (!row) return [];
  return Array.from(row.querySelectorAll<HTMLInputElement>("input[data-right]"))
    .filter((b) => b.checked)
    .map((b) => b.dataset.right || "");
}

async function saveRights(ctx: Ctx, r: Role, rights: string[], reload: () => Promise<void>): Promise<void> {
  try {
    await ctx.api("PUT", "/api/v1/admin/roles/" + encodeURIComponent(r.name), { rights });
    ctx.notify(ctx.t(`Rights of ${r.name} saved.`, `${r.name} 的权限已保存。`));
  } catch (e) {
    ctx.notify(ctx.errText(e), "error");
  }
  await reload();
}

async function remove(ctx: Ctx, r: Role, reload: () => Promise<void>): Promise<void> {
  const text = r.builtin
    ? ctx.t(`Give ${r.name} its default rights again?`, `将 ${r.name} 恢复为默认权限？`)
    : ctx.t(`Delete the role ${r.name}? Nobody may still hold it.`, `删除角色 ${r.name}？须先从所有用户移除该角色。`);
  if (!(await ctx.confirm(text))) return;
  try {
    await ctx.api("DELETE", "/api/v1/admin/roles/" + encodeURIComponent(r.name));
    ctx.notify(r.builtin ? ctx.t("Defaults restored.", "已恢复默认。") : ctx.t("Role deleted.", "角色已删除。"));
  } catch (e) {
    ctx.notify(ctx.errText(e), "error");
  }
  await reload();
}

function newRoleForm(ctx: Ctx, reload: () => Promise<void>): HTMLElement {
  const t = ctx.t;
  const name = input({ id: "role-name", maxlength: "32", pattern: "[a-z][a-z0-9_-]*", autocomplete: "off", placeholder: "auditor" });
  const boxes = RIGHTS.map(([right, en, zh]) => ({ right, ...checkbox(t(en, zh), false, { "data-new-right": right }) }));
  const error = h("p", { class: "error", role: "alert", id: "role-error", hidden: true });
  const create = button(t("Create role", "创建角色"), () => void submit(), "primary", { id: "role-create" });
  const submit = async () => {
    setText(error, "");
    const n = name.value.trim();
    if (!/^[a-z][a-z0-9_-]{0,31}$/.test(n)) return setText(error, t("A role name is 1 to 32 of a-z 0-9 _ -, starting with a letter.", "角色名为 1 到 32 个 a-z 0-9 _ - 字符，以字母开头。"));
    await saving(create, error, ctx.errText, async () => {
      await ctx.api("PUT", "/api/v1/admin/roles/" + encodeURIComponent(n), { rights: boxes.filter((b) => b.box.checked).map((b) => b.right) });
      ctx.notify(t(`Role ${n} saved.`, `角色 ${n} 已保存。`));
      name.value = "";
      for (const b of boxes) b.box.checked = false;
      await reload();
    });
  };
  return card(
    t("New role", "新建角色"),
    h("div", { class: "grid" }, field(t("Name", "名称"), name, t("a-z 0-9 _ -", "a-z 0-9 _ -"))),
    h("fieldset", { class: "boxes", id: "role-rights" }, h("legend", { text: t("Rights", "权限") }), ...boxes.map((b) => b.row)),
    error,
    h("div", { class: "actions" }, create),
  );
}
