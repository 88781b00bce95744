// The skill groups section: the tree (UCKeFu's organ tree: a supervisor of a group also sees the
// groups below it); create, rename, move, capacity, disable, delete; members; and a link to each
// group's own routing settings.

import { type Agent, type Group, indented, subtree, treeOrder } from "./grouptree";
import { type Ctx, register } from "./shell";
import { button, checkbox, field, h, input, openEditor, saving, select } from "./ui";

interface View {
  ctx: Ctx;
  groups: Group[];
  agents: Agent[];
  tree: HTMLElement;
  editor: HTMLElement;
}

register({
  id: "groups",
  title: ["Skill groups", "技能组"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    const v: View = { ctx, groups: [], agents: [], tree: h("div", { id: "groups-tree", class: "group-tree" }), editor: h("div", { id: "groups-editor" }) };
    root.append(
      h("h2", { text: t("Skill groups", "技能组") }),
      h("p", {
        class: "hint",
        text: t(
          "Visitors are routed to a group's members. Groups form a tree: a supervisor of a group also supervises every group below it.",
          "访客会被分配给技能组的成员。技能组是树形结构：上级组的主管也能看到下级组。",
        ),
      }),
      h("div", { class: "toolbar" }, button("+ " + t("New group", "新建技能组"), () => edit(v, null), "primary", { id: "groups-new" })),
      v.editor,
      v.tree,
    );
    await load(v);
  },
});

async function load(v: View): Promise<void> {
  const { ctx } = v;
  try {
    const [groups, agents] = await Promise.all([ctx.api<Group[]>("GET", "/api/v1/admin/skills"), ctx.api<Agent[]>("GET", "/api/v1/admin/agents")]);
    v.groups = groups || [];
    v.agents = agents || [];
  } catch (e) {
    ctx.notify(ctx.t("Could not load the groups: ", "无法加载技能组：") + ctx.errText(e), "error");
    return;
  }
  renderTree(v);
}

function renderTree(v: View): void {
  const { ctx } = v;
  const t = ctx.t;
  v.tree.textContent = "";
  const placed = treeOrder(v.groups);
  if (placed.length === 0) {
    v.tree.appendChild(h("p", { class: "hint", text: t("No skill groups yet.", "还没有技能组。") }));
    return;
  }
  const ul = h("ul", { class: "group-list" });
  for (const p of placed) {
    const g = p.group;
    const members = v.agents.filter((a) => a.skills.indexOf(g.id) >= 0);
    const li = h(
      "li",
      { class: "group-row" + (g.disabled ? " off" : ""), "data-key": g.id, "data-depth": String(p.depth) },
      h(
        "div",
        { class: "group-info" },
        h("strong", { class: "group-name", text: g.name }),
        g.disabled ? h("span", { class: "team-badge off", text: t("Disabled", "已停用") }) : null,
        h("span", { class: "hint", text: t("capacity", "接待上限") + " " + (g.maxuser > 0 ? String(g.maxuser) : t("inherit", "继承")) }),
        h("span", { class: "hint", "data-members": String(members.length), text: members.length + " " + t("members", "名成员") }),
      ),
      h(
        "div",
        { class: "actions" },
        button(t("Edit", "编辑"), () => edit(v, g), "secondary", { "data-action": "edit" }),
        button(t("Members", "成员"), () => editMembers(v, g), "secondary", { "data-action": "members" }),
        button("+ " + t("Sub-group", "子组"), () => edit(v, null, g.id), "secondary", { "data-action": "child" }),
        h("a", { class: "button-link", href: "#/settings?skill=" + encodeURIComponent(g.id), "data-action": "settings", text: t("Routing settings", "路由设置") }),
        button(t("Delete", "删除"), () => void remove(v, g), "danger", { "data-action": "delete" }),
      ),
    );
    li.style.paddingLeft = 0.8 + p.depth * 1.6 + "em";
    ul.appendChild(li);
  }
  v.tree.appendChild(ul);
}

/** Opens the group editor: a new group (under parent) or an existing one. */
function edit(v: View, g: Group | null, parent = ""): void {
  const { ctx } = v;
  const t = ctx.t;
  // A group cannot move below itself: its own subtree is not offered.
  const excluded = g ? subtree(v.groups, g.id) : new Set<string>();
  const options: [string, string][] = [["", t("(top level)", "（顶级）")]];
  for (const p of treeOrder(v.groups)) if (!excluded.has(p.group.id)) options.push([p.group.id, indented(p)]);
  const name = input({ id: "group-name", maxlength: "64", required: true }, g ? g.name : "");
  const parentSel = select(options, g ? g.parent : parent, { id: "group-parent" });
  const maxuser = input({ id: "group-maxuser", type: "number", min: "0", max: "1000", inputmode: "numeric" }, String(g ? g.maxuser : 0));
  const disabled = checkbox(t("Disabled: routes no visitors", "停用：不分配访客"), g ? g.disabled : false, { id: "group-disabled" });
  const error = h("p", { class: "error", role: "alert", id: "group-error", hidden: true });
  const save = button(g ? t("Save", "保存") : t("Create group", "创建技能组"), () => void submit(), "primary", { id: "group-save" });
  const submit = () =>
    saving(save, error, ctx.errText, async () => {
      const body = { name: name.value.trim(), parent: parentSel.value, maxuser: Number(maxuser.value) || 0 };
      if (g) {
        await ctx.api("PUT", "/api/v1/admin/skills/" + encodeURIComponent(g.id), { ...body, disabled: disabled.box.checked });
      } else {
        // Creation takes no state: a group born disabled is switched off right after.
        const made = await ctx.api<Group>("POST", "/api/v1/admin/skills", body);
        if (disabled.box.checked) await ctx.api("PUT", "/api/v1/admin/skills/" + encodeURIComponent(made.id), { disabled: true });
      }
      ctx.notify(g ? t("Group saved.", "技能组已保存。") : t("Group created.", "技能组已创建。"));
      v.editor.textContent = "";
      await load(v);
    });
  openEditor(v.editor, {
    title: g ? t("Edit group", "编辑技能组") + " " + g.name : t("New group", "新建技能组"),
    form: "group-form",
    content: [
      h(
        "div",
        { class: "grid" },
        field(t("Name", "名称"), name),
        field(t("Parent group", "上级组"), parentSel),
        field(t("Capacity", "接待上限"), maxuser, t("chats per agent; 0 = inherit from the tenant", "每名坐席的接待数；0 = 继承租户设置")),
      ),
      disabled.row,
    ],
    error,
    save,
    cancel: [t("Cancel", "取消"), "group-cancel"],
  });
  name.focus();
}

function editMembers(v: View, g: Group): void {
  const { ctx } = v;
  const t = ctx.t;
  const boxes = v.agents.map((a) => ({
    id: a.id,
    ...checkbox(a.nickname + " (" + a.username + ")" + (a.disabled ? " · " + t("disabled", "已停用") : ""), a.skills.indexOf(g.id) >= 0, { name: "member", value: a.id }),
  }));
  const error = h("p", { class: "error", role: "alert", id: "members-error", hidden: true });
  const save = button(t("Save members", "保存成员"), () => void submit(), "primary", { id: "members-save" });
  const submit = () =>
    saving(save, error, ctx.errText, async () => {
      await ctx.api("PUT", "/api/v1/admin/skills/" + encodeURIComponent(g.id) + "/members", { agents: boxes.filter((b) => b.box.checked).map((b) => b.id) });
      ctx.notify(t("Members saved.", "成员已保存。"));
      v.editor.textContent = "";
      await load(v);
    });
  openEditor(v.editor, {
    title: t("Members of", "成员：") + " " + g.name,
    content: [h("fieldset", { class: "boxes columns-3", id: "members-boxes" }, h("legend", { text: t("Agents who serve this group's visitors", "接待该组访客的坐席") }), ...boxes.map((b) => b.row))],
    error,
    save,
    cancel: [t("Cancel", "取消"), "members-cancel"],
  });
}

async function remove(v: View, g: Group): Promise<void> {
  const { ctx } = v;
  if (!(await ctx.confirm(ctx.t(`Delete the group ${g.name} and its routing settings?`, `删除技能组 ${g.name} 及其路由设置？`)))) return;
  try {
    await ctx.api("DELETE", "/api/v1/admin/skills/" + encodeURIComponent(g.id));
    ctx.notify(ctx.t("Group deleted.", "技能组已删除。"));
    v.editor.textContent = "";
  } catch (e) {
    ctx.notify(ctx.errText(e), "error");
  }
  await load(v);
}
