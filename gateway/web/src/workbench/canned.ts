// Canned replies: the `#` search in the composer (type #word, pick with the arrow keys and
// Enter, or click) and the side panel that lists them in their category trees (the team's and
// one's own, collapsible) with create, edit, delete. Tenant-wide replies are managed by
// supervisors and admins; everyone manages their own.

import { $, errorText } from "../common";
import { h } from "../widget/dom";
import { dictStrings } from "./dict-i18n";
import { App, field, modal, str } from "./ui";

type Scope = "tenant" | "private";

interface Canned {
  id: string;
  category_id: string;
  /** The category's path, "Billing/Refunds"; "" when uncategorised. */
  category: string;
  title: string;
  content: string;
  scope: Scope;
}

interface Category {
  id: string;
  parent_id: string;
  name: string;
  path: string;
  scope: Scope;
}

export interface CannedSuggest {
  /** The composer's text changed: show or hide suggestions. */
  update(): void;
  /** A key in the composer; true when the suggestions used it. */
  onKey(ev: KeyboardEvent): boolean;
  close(): void;
  /** The language changed. */
  relabel(): void;
}

const HASH = /(^|\s)#([^\s#]*)$/;

export function createCanned(app: App, text: HTMLTextAreaElement): CannedSuggest {
  const box = $<HTMLUListElement>("canned-suggest");
  const panel = $("canned-panel");
  const t = () => app.t();
  let items: Canned[] = [];
  let active = 0;
  let query: string | null = null;
  let seq = 0;

  // ------------------------------------------------------------ the # search

  /** The #word being typed before the caret, if any. */
  function hashWord(): { start: number; word: string } | null {
    const caret = text.selectionStart ?? text.value.length;
    const m = HASH.exec(text.value.slice(0, caret));
    if (!m) return null;
    return { start: caret - m[2].length - 1, word: m[2] };
  }

  async function update(): Promise<void> {
    const hw = hashWord();
    if (!hw) return close();
    if (hw.word === query) return;
    query = hw.word;
    const mine = ++seq;
    try {
      const rs = await app.api<Canned[]>("GET", "/canned?q=" + encodeURIComponent(hw.word));
      if (mine !== seq) return; // a later keystroke asked again
      items = (Array.isArray(rs) ? rs : []).slice(0, 8);
      active = 0;
      render();
    } catch {
      close();
    }
  }

  function render(): void {
    box.textContent = "";
    if (items.length === 0) {
      box.appendChild(h("li", { class: "suggest-empty", text: t().cannedNone }));
    }
    items.forEach((r, i) => {
      const li = h("li", { role: "option", class: "suggest-item" + (i === active ? " active" : ""), "aria-selected": String(i === active), "data-id": r.id });
      li.appendChild(h("strong", { text: str(r.title) }));
      li.appendChild(h("span", { class: "muted", text: " " + str(r.content) }));
      li.addEventListener("mousedown", (ev) => {
        ev.preventDefault(); // keep the focus in the composer
        pick(r);
      });
      box.appendChild(li);
    });
    box.hidden = false;
  }

  function pick(r: Canned): void {
    const hw = hashWord();
    const caret = text.selectionStart ?? text.value.length;
    if (hw) {
      text.value = text.value.slice(0, hw.start) + r.content + text.value.slice(caret);
      const at = hw.start + r.content.length;
      text.setSelectionRange(at, at);
    } else {
      insert(r.content);
    }
    close();
    text.focus();
    text.dispatchEvent(new Event("input"));
  }

  function insert(content: string): void {
    const a = text.selectionStart ?? text.value.length;
    const b = text.selectionEnd ?? a;
    text.value = text.value.slice(0, a) + content + text.value.slice(b);
    text.setSelectionRange(a + content.length, a + content.length);
  }

  function close(): void {
    seq++;
    query = null;
    items = [];
    box.hidden = true;
    box.textContent = "";
  }

  function onKey(ev: KeyboardEvent): boolean {
    if (box.hidden || items.length === 0) {
      if (!box.hidden && ev.key === "Escape") {
        close();
        return true;
      }
      return false;
    }
    switch (ev.key) {
      case "ArrowDown":
        active = (active + 1) % items.length;
        break;
      case "ArrowUp":
        active = (active + items.length - 1) % items.length;
        break;
      case "Enter":
      case "Tab":
        pick(items[active]);
        break;
      case "Escape":
        close();
        break;
      default:
        return false;
    }
    ev.preventDefault();
    if (!box.hidden) render();
    return true;
  }

  text.addEventListener("blur", () => window.setTimeout(close, 150));

  // ------------------------------------------------------------ the side panel

  const search = h("input", { type: "search", id: "canned-search" });
  const newButton = h("button", { type: "button", id: "canned-new", class: "primary small" });
  const labelTools = () => {
    search.placeholder = t().cannedSearch;
    search.setAttribute("aria-label", t().cannedSearch);
    newButton.textContent = t().cannedNew;
  };
  labelTools();
  const listBox = h("div", { class: "canned-list", id: "canned-list" });
  panel.append(h("div", { class: "canned-tools" }, search, newButton), listBox);
  let searchTimer: number | undefined;
  search.addEventListener("input", () => {
    if (searchTimer !== undefined) clearTimeout(searchTimer);
    searchTimer = window.setTimeout(() => void load(), 200);
  });
  newButton.addEventListener("click", () => edit(null));

  let categories: Category[] = [];
  /** Tree nodes the agent folded ("scope:" + category id, "" for uncategorised), kept across reloads. */
  const folded = new Set<string>();

  async function load(): Promise<void> {
    try {
      const q = search.value.trim();
      const [rs, cats] = await Promise.all([
        app.api<Canned[]>("GET", "/canned?q=" + encodeURIComponent(q)),
        app.api<Category[]>("GET", "/canned/categories"),
      ]);
      categories = Array.isArray(cats) ? cats : [];
      draw(Array.isArray(rs) ? rs : [], q !== "");
    } catch (e) {
      listBox.textContent = "";
      listBox.appendChild(h("p", { class: "error", text: t().error(t().errLoad) + errorText(e) }));
    }
  }

  // The panel: per scope, its category tree with the replies in each category; while searching,
  // only the categories holding a match.
  function draw(rs: Canned[], searching: boolean): void {
    listBox.textContent = "";
    if (rs.length === 0) {
      listBox.appendChild(h("p", { class: "empty", text: t().cannedNone }));
      return;
    }
    const dt = dictStrings();
    for (const scope of ["tenant", "private"] as Scope[]) {
      const mine = rs.filter((r) => r.scope === scope);
      const cats = categories.filter((c) => c.scope === scope);
      if (mine.length === 0 && (searching || cats.length === 0)) continue;
      const byCat = new Map<string, Canned[]>();
      for (const r of mine) byCat.set(str(r.category_id), (byCat.get(str(r.category_id)) || []).concat(r));
      const kids = new Map<string, Category[]>();
      for (const c of cats) kids.set(str(c.parent_id), (kids.get(str(c.parent_id)) || []).concat(c));
      const childrenOf = (id: string) => (kids.get(id) || []).slice().sort((a, b) => str(a.name).localeCompare(str(b.name)));
      // How many replies a category holds, its descendants' included.
      const total = (id: string): number => (byCat.get(id) || []).length + childrenOf(id).reduce((n, k) => n + total(k.id), 0);
      // A category's node (null: the uncategorised replies), or null when a search leaves it empty.
      const node = (c: Category | null): HTMLElement | null => {
        const id = c ? c.id : "";
        const n = c ? total(id) : (byCat.get("") || []).length;
        if (n === 0 && (searching || !c)) return null;
        const key = scope + ":" + id;
        const d = h("details", { class: "canned-cat", "data-id": id, open: searching || !folded.has(key) ? true : undefined });
        d.appendChild(h("summary", {}, h("span", { class: "cat-name", text: c ? str(c.name) : t().uncategorised }), h("span", { class: "muted small", text: " · " + dt.replies(n) })));
        d.addEventListener("toggle", () => {
          if (searching) return;
          if (d.open) folded.delete(key);
          else folded.add(key);
        });
        if (c) {
          for (const k of childrenOf(id)) {
            const child = node(k);
            if (child) d.appendChild(child);
          }
        }
        for (const r of byCat.get(id) || []) d.appendChild(card(r));
        return d;
      };
      const sec = h("section", { class: "canned-group canned-scope", "data-scope": scope }, h("h3", { text: scope === "tenant" ? dt.teamReplies : dt.myReplies }));
      for (const n of [...childrenOf("").map(node), node(null)]) if (n) sec.appendChild(n);
      listBox.appendChild(sec);
    }
  }

  function card(r: Canned): HTMLElement {
    const mayEdit = r.scope === "private" || app.isStaff();
    const item = h("article", { class: "canned-item", "data-id": r.id });
    item.appendChild(h("div", { class: "canned-title" },
      h("strong", { text: str(r.title) }),
      h("span", { class: "scope " + r.scope, text: r.scope === "private" ? t().scopePrivate : t().scopeTenant })));
    item.appendChild(h("p", { class: "canned-content", text: str(r.content) }));
    const bar = h("div", { class: "canned-bar" });
    const ins = h("button", { type: "button", class: "link", text: t().cannedInsert });
    ins.addEventListener("click", () => {
      if (text.closest("form")?.hidden) return;
      insert(r.content);
      text.focus();
    });
    bar.appendChild(ins);
    if (mayEdit) {
      const ed = h("button", { type: "button", class: "link", text: t().cannedEdit });
      ed.addEventListener("click", () => edit(r));
      const del = h("button", { type: "button", class: "link danger", text: t().cannedDelete });
      del.addEventListener("click", () => remove(r));
      bar.append(ed, del);
    }
    item.appendChild(bar);
    return item;
  }

  function edit(r: Canned | null): void {
    // The category as a path: typed, or picked from the scope's paths (missing ones are made).
    const paths = h("datalist", { id: "canned-category-paths" });
    const category = h("input", { id: "canned-category", maxlength: "400", list: "canned-category-paths", value: r ? str(r.category) : "" });
    const title = h("input", { id: "canned-title", maxlength: "128", required: true, value: r ? r.title : "" });
    const content = h("textarea", { id: "canned-content", rows: "5", maxlength: "2000", required: true });
    content.value = r ? r.content : "";
    const scope = h("select", { id: "canned-scope" }, h("option", { value: "private", text: t().scopePrivate }));
    if (app.isStaff()) scope.appendChild(h("option", { value: "tenant", text: t().scopeTenant }));
    scope.value = r ? r.scope : "private";
    const fillPaths = () => {
      paths.textContent = "";
      for (const c of categories.filter((x) => x.scope === scope.value)) paths.appendChild(h("option", { value: str(c.path) }));
    };
    fillPaths();
    scope.addEventListener("change", fillPaths);
    modal({
      id: "canned-dialog",
      title: r ? t().cannedEdit : t().cannedNew,
      t: t(),
      submit: t().save,
      body: [field(t().category, category), h("p", { class: "muted small", text: dictStrings().categoryHint }), paths,
        field(t().replyTitle, title), field(t().content, content), field(t().scope, scope)],
      onSubmit: async () => {
        const body = { category: category.value, title: title.value, content: content.value, scope: scope.value };
        await app.api(r ? "PUT" : "POST", r ? "/canned/" + encodeURIComponent(r.id) : "/canned", body);
        await load();
        return true;
      },
    });
  }

  function remove(r: Canned): void {
    modal({
      id: "canned-delete-dialog",
      title: t().cannedDeleteConfirm,
      t: t(),
      submit: t().cannedDelete,
      body: [h("p", { text: str(r.title) })],
      onSubmit: async () => {
        await app.api("DELETE", "/canned/" + encodeURIComponent(r.id));
        await load();
        return true;
      },
    });
  }

  // Loaded when the panel is first shown, and again on every show.
  new MutationObserver(() => {
    if (!panel.hidden) void load();
  }).observe(panel, { attributes: true, attributeFilter: ["hidden"] });

  return {
    update: () => void update(),
    onKey,
    close,
    relabel() {
      labelTools();
      if (!panel.hidden) void load();
    },
  };
}
