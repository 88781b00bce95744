// The tenants section, for platform admins (role superadmin): every tenant of the installation,
// created with its first admin, renamed, moved to another time zone, disabled and enabled again.
// A disabled tenant's staff cannot sign in and are signed out everywhere, and its widgets refuse
// visitors; its data stays. The rules (ids, names, zones) are the server's: the form only helps.

import { type Ctx, register } from "./shell";
import { button, card, field, h, input, saving, select, setText, table, when } from "./ui";

interface Tenant {
  id: string;
  name: string;
  timezone: string;
  disabled: boolean;
  createtime: string;
}

interface Created {
  tenant: Tenant;
  admin: { id: string; username: string; nickname: string; roles: string[] };
}

/** Zones offered in the picker; any other IANA name can be typed (the server checks it). */
const ZONES = [
  "UTC",
  "Asia/Shanghai",
  "Asia/Hong_Kong",
  "Asia/Taipei",
  "Asia/Singapore",
  "Asia/Tokyo",
  "Asia/Seoul",
  "Asia/Kolkata",
  "Asia/Dubai",
  "Europe/London",
  "Europe/Berlin",
  "Europe/Paris",
  "Europe/Moscow",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Sao_Paulo",
  "Australia/Sydney",
  "Pacific/Auckland",
];
const OTHER = "other";

const ID_RULE = /^[a-z0-9][a-z0-9_-]{0,31}$/;

register({
  id: "tenants",
  title: ["Tenants", "租户管理"],
  roles: ["superadmin"],
  async render(root, ctx) {
    const t = ctx.t;
    const list = h("div", { id: "tenants-list" });
    const reload = () => load(ctx, list);
    root.append(
      h("h2", { text: t("Tenants", "租户") }),
      h("p", {
        class: "hint",
        text: t(
          "Every tenant of this installation. Disabling one signs its staff out everywhere, refuses their sign-in and closes its visitors' chats; its data stays, and enabling it lets everyone in again.",
          "本系统的全部租户。停用租户会让其员工在所有设备上退出并无法登录，并关闭其访客的会话；数据保留，重新启用后即可恢复使用。",
        ),
      }),
      newTenantForm(ctx, reload),
      list,
    );
    await reload();
  },
});

async function load(ctx: Ctx, list: HTMLElement): Promise<void> {
  let tenants: Tenant[];
  try {
    tenants = (await ctx.api<Tenant[]>("GET", "/api/v1/platform/tenants")) || [];
  } catch (e) {
    ctx.notify(ctx.t("Could not load the tenants: ", "无法加载租户：") + ctx.errText(e), "error");
    return;
  }
  const t = ctx.t;
  const reload = () => load(ctx, list);
  list.textContent = "";
  list.appendChild(
    table<Tenant>(
      [
        { title: t("ID", "租户 ID"), cell: (x) => h("code", { class: "mono", text: x.id }) },
        { title: t("Name", "名称"), cell: (x) => x.name },
        { title: t("Time zone", "时区"), cell: (x) => x.timezone },
        {
          title: t("Status", "状态"),
          cell: (x) => h("span", { class: "badge " + (x.disabled ? "off" : "on"), text: x.disabled ? t("Disabled", "已停用") : t("Active", "正常") }),
        },
        { title: t("Created", "创建时间"), cell: (x) => when(x.createtime) },
        { title: "", cell: (x) => actions(ctx, x, reload) },
      ],
      tenants,
      { id: "tenants-table", key: (x) => x.id, empty: t("No tenants yet.", "还没有租户。") },
    ),
  );
}

function actions(ctx: Ctx, x: Tenant, reload: () => Promise<void>): HTMLElement {
  const t = ctx.t;
  const own = x.id === ctx.me.orgi;
  const edit = button(t("Edit", "编辑"), () => openEditor(ctx, x, edit, reload), "secondary", { "data-action": "edit" });
  const toggle = x.disabled
    ? button(t("Enable", "启用"), () => void setDisabled(ctx, x, false, reload), "secondary", { "data-action": "enable" })
    : button(t("Disable", "停用"), () => void setDisabled(ctx, x, true, reload), "danger", { "data-action": "disable" });
  if (own && !x.disabled) {
    // The server refuses it too: a platform admin would lock itself out.
    toggle.disabled = true;
    toggle.title = t("This is your own tenant", "这是你所在的租户");
  }
  return h("div", { class: "actions" }, edit, toggle);
}

async function setDisabled(ctx: Ctx, x: Tenant, disabled: boolean, reload: () => Promise<void>): Promise<void> {
  const t = ctx.t;
  const question = disabled
    ? t(
        `Disable ${x.name} (${x.id})? Its staff are signed out at once and cannot sign in, and its visitors' chats close.`,
        `停用 ${x.name}（${x.id}）？其员工会立即退出且无法登录，访客会话将被关闭。`,
      )
    : t(`Enable ${x.name} (${x.id}) again?`, `重新启用 ${x.name}（${x.id}）？`);
  if (!(await ctx.confirm(question))) return;
  try {
    await ctx.api("PUT", "/api/v1/platform/tenants/" + encodeURIComponent(x.id), { disabled });
    ctx.notify(disabled ? t(`${x.name} is disabled.`, `${x.name} 已停用。`) : t(`${x.name} is enabled.`, `${x.name} 已启用。`));
  } catch (e) {
    ctx.notify(ctx.errText(e), "error");
  }
  await reload();
}

/** Opens the edit form in a row below the tenant's. */
function openEditor(ctx: Ctx, x: Tenant, from: HTMLElement, reload: () => Promise<void>): void {
  const t = ctx.t;
  const row = from.closest("tr");
  if (!row) return;
  const next = row.nextElementSibling;
  if (next && next.classList.contains("tenant-editor")) {
    next.remove(); // a second click closes it
    return;
  }
  const name = input({ id: "tenant-edit-name", maxlength: "128", required: true }, x.name);
  const zone = zonePicker(ctx, "tenant-edit-tz", x.timezone);
  const error = h("p", { class: "error", role: "alert", id: "tenant-edit-error", hidden: true });
  const editor = h("tr", { class: "tenant-editor" });
  const save = button(t("Save", "保存"), () => void submit(), "primary", { id: "tenant-edit-save" });
  const cancel = button(t("Cancel", "取消"), () => editor.remove(), "secondary", { id: "tenant-edit-cancel" });
  const submit = async () => {
    setText(error, "");
    const n = name.value.trim();
    if (!n) return setText(error, t("A name is required.", "请输入名称。"));
    save.disabled = true;
    try {
      await ctx.api("PUT", "/api/v1/platform/tenants/" + encodeURIComponent(x.id), { name: n, timezone: zone.value() });
      ctx.notify(t(`${n} saved.`, `${n} 已保存。`));
      await reload();
    } catch (e) {
      setText(error, ctx.errText(e));
      save.disabled = false;
    }
  };
  editor.appendChild(
    h(
      "td",
      { colspan: String(row.children.length) },
      h("div", { class: "grid" }, field(t("Name", "名称"), name), zone.node),
      error,
      h("div", { class: "actions" }, save, cancel),
    ),
  );
  row.after(editor);
  name.focus();
}

/** A select of common zones with "Other…", which shows a text box for any IANA name. */
function zonePicker(ctx: Ctx, id: string, initial: string): { node: HTMLElement; value(): string; reset(): void } {
  const t = ctx.t;
  const sel = select([...ZONES.map((z): [string, string] => [z, z]), [OTHER, t("Other…", "其他…")]], OTHER, { id });
  const other = input({ id: id + "-other", placeholder: "Europe/Madrid", autocomplete: "off", "aria-label": t("Time zone (IANA name)", "时区（IANA 名称）") });
  const show = (v: string) => {
    const known = ZONES.indexOf(v) >= 0;
    sel.value = known ? v : OTHER;
    other.value = known ? "" : v;
    other.hidden = known;
  };
  show(initial);
  sel.addEventListener("change", () => {
    other.hidden = sel.value !== OTHER;
    if (!other.hidden) other.focus();
  });
  const node = field(t("Time zone", "时区"), sel);
  node.appendChild(other);
  return { node, value: () => (sel.value === OTHER ? other.value.trim() : sel.value), reset: () => show(initial) };
}

function newTenantForm(ctx: Ctx, reload: () => Promise<void>): HTMLElement {
  const t = ctx.t;
  const id = input({ id: "tenant-new-id", maxlength: "32", autocomplete: "off", placeholder: "acme" });
  const name = input({ id: "tenant-new-name", maxlength: "128", autocomplete: "off", placeholder: t("Acme Ltd", "某某有限公司") });
  const zone = zonePicker(ctx, "tenant-new-tz", ctx.lang === "zh-CN" ? "Asia/Shanghai" : "UTC");
  const admin = input({ id: "tenant-new-admin", maxlength: "64", autocomplete: "off", placeholder: "alice" });
  const nickname = input({ id: "tenant-new-nickname", maxlength: "64", autocomplete: "off" });
  const password = input({ id: "tenant-new-password", type: "password", maxlength: "72", autocomplete: "new-password" });
  const error = h("p", { class: "error", role: "alert", id: "tenant-new-error", hidden: true });
  const create = button(t("Create tenant", "创建租户"), () => void submit(), "primary", { id: "tenant-create" });
  const submit = async () => {
    setText(error, "");
    const body = {
      id: id.value.trim(),
      name: name.value.trim(),
      timezone: zone.value(),
      admin: { username: admin.value.trim(), nickname: nickname.value.trim(), password: password.value },
    };
    if (!ID_RULE.test(body.id)) {
      return setText(error, t("A tenant id is 1 to 32 of a-z 0-9 _ -, starting with a letter or digit.", "租户 ID 为 1 到 32 个 a-z 0-9 _ - 字符，以字母或数字开头。"));
    }
    if (!body.name || !body.admin.username) return setText(error, t("The name and the admin's username are required.", "请填写名称和管理员用户名。"));
    if (body.admin.password.length < 8) return setText(error, t("The admin's password needs at least 8 characters.", "管理员密码至少 8 个字符。"));
    await saving(create, error, ctx.errText, async () => {
      const res = await ctx.api<Created>("POST", "/api/v1/platform/tenants", body);
      ctx.notify(t(`Tenant ${res.tenant.name} created: its admin signs in as ${res.admin.username}.`, `租户 ${res.tenant.name} 已创建，管理员账号为 ${res.admin.username}。`));
      for (const i of [id, name, admin, nickname, password]) i.value = "";
      zone.reset();
      await reload();
    });
  };
  const form = card(
    t("New tenant", "新建租户"),
    h(
      "div",
      { class: "grid" },
      field(t("Tenant ID", "租户 ID"), id, t("a-z 0-9 _ -, cannot change later", "a-z 0-9 _ -，创建后不可修改")),
      field(t("Name", "名称"), name),
      zone.node,
    ),
    h("h4", { text: t("Its first admin", "首个管理员") }),
    h(
      "div",
      { class: "grid" },
      field(t("Username", "用户名"), admin),
      field(t("Display name", "显示名称"), nickname, t("optional", "可选")),
      field(t("Password", "密码"), password, t("8 or more, with a letter and a digit", "至少 8 位，含字母和数字")),
    ),
    error,
    h("div", { class: "actions" }, create),
  );
  form.id = "tenant-new";
  return form;
}
