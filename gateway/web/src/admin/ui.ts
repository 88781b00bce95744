// Building blocks the admin sections share. Everything from the server goes in as text.

import { h } from "../widget/dom";

export { h };

export interface Column<T> {
  title: string;
  cell(row: T): Node | string;
  /** A class for the column's cells (e.g. "num"). */
  class?: string;
}

/** A table of rows; empty shows `empty` in one cell. Rows carry data-key when key is given. */
export function table<T>(cols: Column<T>[], rows: T[], opts: { empty?: string; key?: (row: T) => string; id?: string } = {}): HTMLTableElement {
  const head = h("tr", null, ...cols.map((c) => h("th", { scope: "col", class: c.class, text: c.title })));
  const body = h("tbody");
  if (rows.length === 0) {
    body.appendChild(h("tr", { class: "empty" }, h("td", { colspan: String(cols.length), text: opts.empty || "—" })));
  }
  for (const r of rows) {
    const tr = h("tr", { "data-key": opts.key ? opts.key(r) : undefined });
    for (const c of cols) {
      const v = c.cell(r);
      tr.appendChild(h("td", { class: c.class }, typeof v === "string" ? document.createTextNode(v) : v));
    }
    body.appendChild(tr);
  }
  return h("table", { class: "list", id: opts.id }, h("thead", null, head), body);
}

/** A labelled form control; the label points at the control's id (one is made up if missing). */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  if (!control.id) control.id = "f-" + Math.random().toString(36).slice(2, 10);
  const l = h("label", { for: control.id }, label);
  if (hint) l.append(" ", h("span", { class: "hint", text: hint }));
  return h("div", { class: "field" }, l, control);
}

export function button(text: string, onClick: (ev: MouseEvent) => void, kind: "primary" | "secondary" | "danger" = "secondary", attrs: Record<string, string> = {}): HTMLButtonElement {
  const b = h("button", { type: "button", class: kind, ...attrs, text });
  b.addEventListener("click", onClick);
  return b;
}

export function input(attrs: Record<string, string | boolean | undefined> = {}, value = ""): HTMLInputElement {
  const i = h("input", attrs);
  i.value = value;
  return i;
}

export function select(options: [value: string, label: string][], value: string, attrs: Record<string, string | boolean | undefined> = {}): HTMLSelectElement {
  const s = h("select", attrs, ...options.map(([v, l]) => h("option", { value: v, text: l })));
  s.value = value;
  return s;
}

export function checkbox(label: string, checked: boolean, attrs: Record<string, string | boolean | undefined> = {}): { row: HTMLLabelElement; box: HTMLInputElement } {
  const box = h("input", { type: "checkbox", ...attrs });
  box.checked = checked;
  return { row: h("label", { class: "check" }, box, label), box };
}

/** A card with a heading, for one block of a section. */
export function card(title: string, ...children: (Node | string | null | undefined | false)[]): HTMLElement {
  return h("section", { class: "card" }, h("h3", { text: title }), ...children);
}

/** Shows text in an element meant for errors (hidden when empty). */
export function setText(node: HTMLElement, text: string): void {
  node.textContent = text;
  node.hidden = text === "";
}

/**
 * Runs one save of a form: clears the error line, keeps the button disabled while it runs (a second
 * click does not send it twice), and shows a failure in the error line. The form stays open on a
 * failure so the user can correct it.
 */
export async function saving(btn: HTMLButtonElement, error: HTMLElement, errText: (e: unknown) => string, run: () => Promise<void>): Promise<void> {
  setText(error, "");
  btn.disabled = true;
  try {
    await run();
  } catch (e) {
    setText(error, errText(e));
  } finally {
    btn.disabled = false;
  }
}

export interface Editor {
  title: string;
  /** The id of a form (class team-form) to hold the content; without one it stands in the card. */
  form?: string;
  content: (Node | null)[];
  error: HTMLElement;
  save: HTMLButtonElement;
  /** The cancel button's label and id: it closes the editor. */
  cancel: [label: string, id: string];
}

/**
 * Shows an editor card in slot, in place of whatever editor it showed (one at a time): the content,
 * the error line, then save and cancel. Cancel empties the slot.
 */
export function openEditor(slot: HTMLElement, e: Editor): void {
  const cancel = button(e.cancel[0], () => (slot.textContent = ""), "secondary", { id: e.cancel[1] });
  const parts = [...e.content, e.error, h("div", { class: "actions" }, e.save, cancel)];
  slot.textContent = "";
  slot.appendChild(card(e.title, ...(e.form ? [h("form", { id: e.form, class: "team-form", novalidate: true }, ...parts)] : parts)));
}

/** A date-time in the viewer's clock, or "" for none. */
export function when(iso?: string | null): string {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d.getTime()) ? "" : d.toLocaleString();
}
