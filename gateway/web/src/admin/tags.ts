// The tags section: the tenant's tags by kind (conversation, visitor, work order), each with a
// name and a colour; create, edit in place, delete (which takes the tag off everything it labels).

import { type Ctx, register } from "./shell";
import { button, card, field, h, input, select, table } from "./ui";

interface Tag {
  id: string;
  name: string;
  color: string;
  kind: string;
}

const KINDS: [kind: string, en: string, zh: string][] = [
  ["session", "Conversation", "会话"],
  ["visitor", "Visitor", "访客"],
  ["workorder", "Work order", "工单"],
];

const DEFAULT_COLOR = "#2f6fde";

let kind = "session"; // the kind listed, kept while the page stays open

register({
  id: "tags",
  title: ["Tags", "标签管理"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    const list = h("div", { id: "tags-list" });
    const reload = () => load(ctx, list);
    const kindOptions = (): [string, string][] => KINDS.map(([k, en, zh]) => [k, t(en, zh)]);
    const filter = select(kindOptions(), kind, { id: "tags-kind" });
    filter.addEventListener("change", () => {
      kind = filter.value;
      newKind.value = kind;
      void reload();
    });

    const name = input({ id: "tag-name", maxlength: "64", required: true, placeholder: t("e.g. VIP", "例如 VIP") });
    const color = input({ id: "tag-color", type: "color" }, DEFAULT_COLOR);
    const newKind = select(kindOptions(), kind, { id: "tag-new-kind" });
    const form = h("form", { class: "toolbar", id: "tag-form" },
      field(t("Name", "名称"), name), field(t("Colour", "颜色"), color), field(t("Kind", "类型"), newKind),
      h("button", { type: "submit", class: "primary", id: "tag-create", text: t("Add tag", "添加标签") }));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      try {
        await ctx.api("POST", "/api/v1/admin/tags", { name: name.value, color: color.value, kind: newKind.value });
        ctx.notify(t("Tag added.", "已添加标签。"));
        name.value = "";
        kind = newKind.value;
        filter.value = kind;
        await reload();
      } catch (e) {
        ctx.notify(t("Could not add the tag: ", "无法添加标签：") + ctx.errText(e), "error");
      }
    });

    root.append(
      h("h2", { text: t("Tags", "标签管理") }),
      h("p", {
        class: "hint",
        text: t(
          "Conversation tags label a chat; visitor tags stay with the visitor in every chat; work-order tags are for work orders.",
          "会话标签标记一次对话；访客标签随访客保留，每次对话都可见；工单标签用于工单。",
        ),
      }),
      card(t("New tag", "新建标签"), form),
      h("div", { class: "toolbar" }, field(t("Show", "显示"), filter)),
      list,
    );
    await reload();
  },
});

async function load(ctx: Ctx, list: HTMLElement): Promise<void> {
  const t = ctx.t;
  let tags: Tag[];
  try {
    tags = (await ctx.api<Tag[]>("GET", "/api/v1/tags?kind=" + encodeURIComponent(kind))) || [];
  } catch (e) {
    ctx.notify(t("Could not load the tags: ", "无法加载标签：") + ctx.errText(e), "error");
    return;
  }
  const reload = () => load(ctx, list);
  let editing = "";
  const draw = () => {
    list.textContent = "";
    list.appendChild(
      table<Tag>(
        [
          { title: t("Tag", "标签"), cell: (x) => (x.id === editing ? editor(ctx, x, reload, () => ((editing = ""), draw())) : chip(x)) },
          { title: t("Kind", "类型"), cell: (x) => kindName(ctx, x.kind) },
          { title: t("Colour", "颜色"), cell: (x) => h("span", { class: "mono", text: x.color || "—" }) },
          {
            title: "",
            cell: (x) =>
              x.id === editing
                ? ""
                : h("div", { class: "actions" },
                    button(t("Edit", "编辑"), () => ((editing = x.id), draw()), "secondary", { "data-action": "edit" }),
                    button(t("Delete", "删除"), () => void remove(ctx, x, reload), "danger", { "data-action": "delete" })),
          },
        ],
        tags,
        { empty: t("No tags of this kind yet.", "暂无此类标签。"), key: (x) => x.id, id: "tags-table" },
      ),
    );
  };
  draw();
}

function chip(x: Tag): HTMLElement {
  const c = h("span", { class: "tag-chip", text: x.name });
  if (/^#[0-9a-f]{6}$/i.test(x.color)) c.style.setProperty("--tag", x.color);
  return c;
}

function kindName(ctx: Ctx, k: string): string {
  const found = KINDS.find((x) => x[0] === k);
  return found ? ctx.t(found[1], found[2]) : k;
}

function editor(ctx: Ctx, x: Tag, reload: () => Promise<void>, cancel: () => void): HTMLElement {
  const t = ctx.t;
  const name = input({ class: "tag-edit-name", maxlength: "64", "aria-label": t("Name", "名称") }, x.name);
  const color = input({ class: "tag-edit-color", type: "color", "aria-label": t("Colour", "颜色") }, /^#[0-9a-f]{6}$/i.test(x.color) ? x.color : DEFAULT_COLOR);
  const kind = select(KINDS.map(([k, en, zh]) => [k, t(en, zh)]), x.kind, { class: "tag-edit-kind", "aria-label": t("Kind", "类型") });
  const save = async () => {
    if (kind.value !== x.kind && !(await ctx.confirm(t("A tag that changes kind comes off everything it labels now. Go on?", "更改类型会把该标签从已标记的对象上移除。继续吗？")))) return;
    try {
      await ctx.api("PUT", "/api/v1/admin/tags/" + encodeURIComponent(x.id), { name: name.value, color: color.value, kind: kind.value });
      ctx.notify(t("Tag saved.", "标签已保存。"));
      await reload();
    } catch (e) {
      ctx.notify(t("Could not save the tag: ", "无法保存标签：") + ctx.errText(e), "error");
    }
  };
  return h("div", { class: "tag-editor" }, name, color, kind,
    button(t("Save", "保存"), () => void save(), "primary", { "data-action": "save" }),
    button(t("Cancel", "取消"), cancel, "secondary", { "data-action": "cancel" }));
}

async function remove(ctx: Ctx, x: Tag, reload: () => Promise<void>): Promise<void> {
  const t = ctx.t;
  if (!(await ctx.confirm(t(`Delete the tag “${x.name}”? It comes off everything it labels.`, `删除标签“${x.name}”？它将从所有已标记的对象上移除。`)))) return;
  try {
    await ctx.api("DELETE", "/api/v1/admin/tags/" + encodeURIComponent(x.id));
    ctx.notify(t("Tag deleted.", "已删除标签。"));
    await reload();
  } catch (e) {
    ctx.notify(t("Could not delete the tag: ", "无法删除标签：") + ctx.errText(e), "error");
  }
}
