// The canned replies section: the tenant's category tree (collapsible; add, rename, move,
// delete, moving what a category holds elsewhere first) and the replies of the category picked
// (add, edit, delete); CSV import with the result per line, and CSV export. Agents' own replies
// are theirs, in the workbench.

import { type Ctx, register } from "./shell";
import { button, card, field, h, input, select, setText, table } from "./ui";

interface Category {
  id: string;
  parent_id: string;
  name: string;
  path: string;
  replies: number;
}

interface Reply {
  id: string;
  category_id: string;
  category: string;
  title: string;
  content: string;
  scope: string;
}

interface ImportResult {
  created: number;
  updated: number;
  skipped: number;
  categories: number;
  errors: { line: number; message: string }[];
}

const ALL = "*"; // the pick that lists every reply; "" lists the uncategorised ones

let cats: Category[] = [];
let replies: Reply[] = [];
let picked = ALL;
let editing: Reply | null = null;
const folded = new Set<string>();

register({
  id: "canned",
  title: ["Canned replies", "快捷回复"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    editing = null;
    const view = h("div", { class: "canned-admin" });
    root.append(
      h("h2", { text: t("Canned replies", "快捷回复") }),
      h("p", {
        class: "hint",
        text: t(
          "The team's replies, by category, for every agent (agents keep replies of their own in the workbench). CSV columns: category path (e.g. Billing/Refunds), title, content.",
          "团队公共回复按分类管理，所有坐席可用（坐席的个人回复在工作台维护）。CSV 列：分类路径（如 售后/退款）、标题、内容。",
        ),
      }),
      csvBar(ctx, () => reload(ctx, view)),
      view,
    );
    await reload(ctx, view);
  },
});

async function reload(ctx: Ctx, view: HTMLElement): Promise<void> {
  try {
    const [c, r] = await Promise.all([
      ctx.api<Category[]>("GET", "/api/v1/canned/categories?scope=tenant"),
      ctx.api<Reply[]>("GET", "/api/v1/canned"),
    ]);
    cats = Array.isArray(c) ? c : [];
    replies = (Array.isArray(r) ? r : []).filter((x) => x.scope === "tenant");
  } catch (e) {
    ctx.notify(ctx.t("Could not load the canned replies: ", "无法加载快捷回复：") + ctx.errText(e), "error");
    return;
  }
  if (picked !== ALL && picked !== "" && !cats.some((c) => c.id === picked)) picked = ALL;
  draw(ctx, view);
}

function draw(ctx: Ctx, view: HTMLElement): void {
  const redraw = () => draw(ctx, view);
  const again = () => reload(ctx, view);
  view.textContent = "";
  view.append(
    h("div", { class: "canned-side" }, card(ctx.t("Categories", "分类"), tree(ctx, redraw), categoryTools(ctx, again))),
    h("div", { class: "canned-main" }, replyList(ctx, again, redraw), replyEditor(ctx, again)),
  );
}

// ---------------------------------------------------------------- the tree

function childrenOf(parent: string): Category[] {
  return cats.filter((c) => c.parent_id === parent).sort((a, b) => a.name.localeCompare(b.name));
}

/** The replies in a category and every category below it. */
function total(id: string): number {
  const c = cats.find((x) => x.id === id);
  return (c ? c.replies : 0) + childrenOf(id).reduce((n, k) => n + total(k.id), 0);
}

function within(id: string, ancestor: string): boolean {
  for (let c = cats.find((x) => x.id === id); c; c = cats.find((x) => x.id === c!.parent_id)) {
    if (c.id === ancestor) return true;
  }
  return false;
}

function tree(ctx: Ctx, redraw: () => void): HTMLElement {
  const t = ctx.t;
  const pick = (id: string) => {
    picked = id;
    editing = null;
    redraw();
  };
  const nodeButton = (id: string, label: string, count: number | null) =>
    h("button", { type: "button", class: "tree-node" + (picked === id ? " picked" : ""), "data-id": id, "aria-current": picked === id ? "true" : undefined },
      h("span", { class: "tree-name", text: label }), count === null ? null : h("span", { class: "tree-count", text: String(count) }));
  const branch = (parent: string): HTMLElement | null => {
    const kids = childrenOf(parent);
    if (kids.length === 0) return null;
    const ul = h("ul", { class: "tree", role: parent ? "group" : "tree" });
    for (const c of kids) {
      const sub = folded.has(c.id) ? null : branch(c.id);
      const has = childrenOf(c.id).length > 0;
      const toggle = has
        ? h("button", { type: "button", class: "tree-toggle", "aria-expanded": String(!folded.has(c.id)), "aria-label": t("Show or hide ", "展开或收起 ") + c.name, text: folded.has(c.id) ? "▸" : "▾" })
        : h("span", { class: "tree-toggle none" });
      toggle.addEventListener("click", () => {
        if (folded.has(c.id)) folded.delete(c.id);
        else folded.add(c.id);
        redraw();
      });
      const b = nodeButton(c.id, c.name, total(c.id));
      b.addEventListener("click", () => pick(c.id));
      ul.appendChild(h("li", { role: "treeitem", "data-path": c.path }, h("div", { class: "tree-row" }, toggle, b), sub));
    }
    return ul;
  };
  const all = nodeButton(ALL, t("All replies", "全部回复"), replies.length);
  all.addEventListener("click", () => pick(ALL));
  const loose = nodeButton("", t("Uncategorised", "未分类"), replies.filter((r) => !r.category_id).length);
  loose.addEventListener("click", () => pick(""));
  return h("div", { id: "canned-tree", class: "tree-box" }, all, branch(""), loose);
}

function pickedCategory(): Category | undefined {
  return cats.find((c) => c.id === picked);
}

// Add under the picked category (or at the top); rename, move or delete the picked one.
function categoryTools(ctx: Ctx, again: () => Promise<void>): HTMLElement {
  const t = ctx.t;
  const cat = pickedCategory();
  const box = h("div", { class: "cat-tools" });
  const run = async (what: () => Promise<unknown>, ok: string, fail: string) => {
    try {
      await what();
      ctx.notify(ok);
      await again();
    } catch (e) {
      ctx.notify(fail + ctx.errText(e), "error");
    }
  };

  const name = input({ id: "cat-name", maxlength: "64", placeholder: t("Category name", "分类名称") });
  const add = button(cat ? t("Add below", "添加子分类") : t("Add category", "添加分类"), () =>
    void run(() => ctx.api("POST", "/api/v1/canned/categories", { name: name.value, parent_id: cat ? cat.id : "", scope: "tenant" }),
      t("Category added.", "已添加分类。"), t("Could not add the category: ", "无法添加分类：")), "primary", { id: "cat-add" });
  box.append(field(cat ? t("New category in ", "新分类，位于 ") + cat.path : t("New category", "新分类"), name), add);
  if (!cat) return box;

  const rename = input({ id: "cat-rename-name", maxlength: "64" }, cat.name);
  box.append(
    field(t("Name", "名称"), rename),
    button(t("Rename", "重命名"), () =>
      void run(() => ctx.api("PUT", "/api/v1/canned/categories/" + encodeURIComponent(cat.id), { name: rename.value }),
        t("Category renamed.", "已重命名。"), t("Could not rename: ", "无法重命名：")), "secondary", { id: "cat-rename" }),
  );

  const targets: [string, string][] = [["", t("(top level)", "（顶层）")]];
  for (const c of cats) if (!within(c.id, cat.id)) targets.push([c.id, c.path]);
  const parent = select(targets, cat.parent_id, { id: "cat-parent" });
  box.append(
    field(t("Move to", "移动到"), parent),
    button(t("Move", "移动"), () =>
      void run(() => ctx.api("PUT", "/api/v1/canned/categories/" + encodeURIComponent(cat.id), { parent_id: parent.value }),
        t("Category moved.", "已移动分类。"), t("Could not move: ", "无法移动：")), "secondary", { id: "cat-move" }),
  );

  const full = cat.replies > 0 || childrenOf(cat.id).length > 0;
  const others = cats.filter((c) => !within(c.id, cat.id)).map((c): [string, string] => [c.id, c.path]);
  const moveTo = select(others, others.length ? others[0][0] : "", { id: "cat-move-to" });
  const del = async () => {
    const q = full
      ? t(`Delete “${cat.path}” and move what it holds to “${moveTo.selectedOptions[0]?.textContent || ""}”?`, `删除“${cat.path}”，并把其中内容移到“${moveTo.selectedOptions[0]?.textContent || ""}”？`)
      : t(`Delete the category “${cat.path}”?`, `删除分类“${cat.path}”？`);
    if (!(await ctx.confirm(q))) return;
    const url = "/api/v1/canned/categories/" + encodeURIComponent(cat.id) + (full ? "?move_to=" + encodeURIComponent(moveTo.value) : "");
    picked = ALL;
    await run(() => ctx.api("DELETE", url), t("Category deleted.", "已删除分类。"), t("Could not delete: ", "无法删除："));
  };
  if (full && others.length === 0) {
    box.append(h("p", { class: "hint", text: t("Not empty: delete its replies and categories first.", "分类不为空：请先删除其中的回复和子分类。") }));
  } else {
    if (full) box.append(field(t("Its replies and categories go to", "其中的回复和子分类移到"), moveTo));
    box.append(button(t("Delete category", "删除分类"), () => void del(), "danger", { id: "cat-delete" }));
  }
  return box;
}

// ---------------------------------------------------------------- replies

function replyList(ctx: Ctx, again: () => Promise<void>, redraw: () => void): HTMLElement {
  const t = ctx.t;
  const shown = picked === ALL ? replies : replies.filter((r) => (r.category_id || "") === picked);
  const title = picked === ALL ? t("All replies", "全部回复") : picked === "" ? t("Uncategorised", "未分类") : pickedCategory()?.path || "";
  return card(title,
    table<Reply>(
      [
        { title: t("Title", "标题"), cell: (r) => h("strong", { text: r.title }) },
        { title: t("Content", "内容"), cell: (r) => h("div", { class: "reply-content", text: r.content }) },
        { title: t("Category", "分类"), cell: (r) => r.category || t("Uncategorised", "未分类") },
        {
          title: "",
          cell: (r) => h("div", { class: "actions" },
            button(t("Edit", "编辑"), () => ((editing = r), redraw()), "secondary", { "data-action": "edit" }),
            button(t("Delete", "删除"), () => void removeReply(ctx, r, again), "danger", { "data-action": "delete" })),
        },
      ],
      shown,
      { empty: t("No replies here.", "这里没有回复。"), key: (r) => r.id, id: "canned-table" },
    ));
}

function replyEditor(ctx: Ctx, again: () => Promise<void>): HTMLElement {
  const t = ctx.t;
  const r = editing;
  const title = input({ id: "reply-title", maxlength: "128", required: true }, r ? r.title : "");
  const content = h("textarea", { id: "reply-content", rows: "4", maxlength: "2000", required: true });
  content.value = r ? r.content : "";
  const options: [string, string][] = [["", t("Uncategorised", "未分类")], ...cats.map((c): [string, string] => [c.id, c.path])];
  const here = r ? r.category_id : picked === ALL ? "" : picked;
  const category = select(options, here, { id: "reply-category" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { id: "reply-form" }, field(t("Title", "标题"), title), field(t("Content", "内容"), content), field(t("Category", "分类"), category), error);
  const bar = h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "reply-save", text: r ? t("Save", "保存") : t("Add reply", "添加回复") }));
  if (r) {
    bar.appendChild(button(t("Cancel", "取消"), () => {
      editing = null;
      void again();
    }, "secondary", { id: "reply-cancel" }));
  }
  form.appendChild(bar);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    setText(error, "");
    try {
      const body = { category_id: category.value, title: title.value, content: content.value, scope: "tenant" };
      await ctx.api(r ? "PUT" : "POST", r ? "/api/v1/canned/" + encodeURIComponent(r.id) : "/api/v1/canned", body);
      ctx.notify(r ? t("Reply saved.", "已保存回复。") : t("Reply added.", "已添加回复。"));
      editing = null;
      await again();
    } catch (e) {
      setText(error, ctx.errText(e));
    }
  });
  return card(r ? t("Edit reply", "编辑回复") : t("New reply", "新建回复"), form);
}

async function removeReply(ctx: Ctx, r: Reply, again: () => Promise<void>): Promise<void> {
  const t = ctx.t;
  if (!(await ctx.confirm(t(`Delete the reply “${r.title}”?`, `删除回复“${r.title}”？`)))) return;
  try {
    await ctx.api("DELETE", "/api/v1/canned/" + encodeURIComponent(r.id));
    ctx.notify(t("Reply deleted.", "已删除回复。"));
    if (editing && editing.id === r.id) editing = null;
    await again();
  } catch (e) {
    ctx.notify(t("Could not delete the reply: ", "无法删除回复：") + ctx.errText(e), "error");
  }
}

// ---------------------------------------------------------------- CSV

function csvBar(ctx: Ctx, again: () => Promise<void>): HTMLElement {
  const t = ctx.t;
  const file = input({ id: "canned-import-file", type: "file", accept: ".csv,text/csv" });
  const result = h("div", { id: "canned-import-result", class: "import-result", hidden: true });
  const importButton = button(t("Import CSV", "导入 CSV"), async () => {
    const f = file.files && file.files[0];
    if (!f) {
      ctx.notify(t("Pick a CSV file first.", "请先选择 CSV 文件。"), "error");
      return;
    }
    importButton.disabled = true;
    try {
      const res = await ctx.send<ImportResult>("POST", "/api/v1/canned/import?scope=tenant", f, "text/csv");
      showResult(ctx, result, res);
      file.value = "";
      await again();
    } catch (e) {
      result.hidden = true;
      ctx.notify(t("The file was not imported: ", "文件未导入：") + ctx.errText(e), "error");
    } finally {
      importButton.disabled = false;
    }
  }, "primary", { id: "canned-import" });
  const exportButton = button(t("Export CSV", "导出 CSV"), () =>
    void ctx.download("/api/v1/canned/export.csv?scope=tenant", "kefu-canned-tenant.csv")
      .catch((e) => ctx.notify(t("Could not export: ", "无法导出：") + ctx.errText(e), "error")), "secondary", { id: "canned-export" });
  return h("div", { class: "canned-csv" }, h("div", { class: "toolbar" }, field(t("CSV file (UTF-8)", "CSV 文件（UTF-8）"), file), importButton, exportButton), result);
}

function showResult(ctx: Ctx, box: HTMLElement, r: ImportResult): void {
  const t = ctx.t;
  box.textContent = "";
  box.hidden = false;
  const errors = Array.isArray(r.errors) ? r.errors : [];
  box.appendChild(h("p", {
    class: errors.length ? "import-summary warn" : "import-summary ok",
    text: t(
      `Imported: ${r.created} new, ${r.updated} updated, ${r.skipped} unchanged, ${r.categories} new categories; ${errors.length} rows refused.`,
      `导入完成：新增 ${r.created} 条，更新 ${r.updated} 条，未变 ${r.skipped} 条，新建分类 ${r.categories} 个；${errors.length} 行未导入。`,
    ),
  }));
  if (errors.length) {
    const ul = h("ul", { class: "import-errors" });
    for (const e of errors) ul.appendChild(h("li", { "data-line": String(e.line), text: t(`Line ${e.line}: `, `第 ${e.line} 行：`) + e.message }));
    box.appendChild(ul);
  }
}
