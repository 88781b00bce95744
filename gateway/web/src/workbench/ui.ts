// What the workbench's parts share: the App they are given by main.ts, wire types, and small
// DOM helpers (dialogs, fields). Text is only ever set with textContent or as attribute values.

import type { Socket, Upload } from "../common";
import { h } from "../widget/dom";
import type { Lang, Strings } from "./i18n";

export interface Profile {
  id: string;
  username: string;
  nickname: string;
  orgi?: string;
  roles: string[];
  /** Supervision rights ("read", "write", "transfer") and whether they cover the whole tenant. */
  rights: string[];
  tenant: boolean;
}

/** A tab of the workbench that main.ts shows, relabels and resets. */
export interface Part {
  setVisible(visible: boolean): void;
  relabel(): void;
  reset(): void;
}

export interface Prefs {
  sendKey: "enter" | "ctrl";
  sound: boolean;
  desktop: boolean;
}

/** What main.ts hands to every part of the workbench. */
export interface App {
  t(): Strings;
  lang(): Lang;
  me(): Profile;
  prefs(): Prefs;
  socket(): Socket | null;
  /** REST under /api/v1 with the login's token; a 401 signs out. */
  api<T>(method: string, path: string, body?: unknown): Promise<T>;
  /** GETs a file under /api/v1 with the login's token and saves it (the name from Content-Disposition, else `name`). */
  download(path: string, name: string): Promise<void>;
  /** POST multipart to /api/v1/uploads. */
  upload(form: FormData): Promise<Upload>;
  toast(text: string, error?: boolean): void;
  /** A desktop notification and the chime while the page is hidden; with `chime`, the chime also when it is not. */
  alert(title: string, body: string, tag: string, opts?: { chime?: boolean; onClick?: () => void }): void;
  isStaff(): boolean;
  /** Whether my roles grant a supervision right ("read", "write", "transfer"). */
  hasRight(right: string): boolean;
}

export interface Location {
  country?: string;
  region?: string;
  city?: string;
}

/** A text from the server or a visitor, or "" when it is not a string. */
export function str(v: unknown): string {
  return typeof v === "string" ? v : "";
}

export const sessionPath = (id: string) => "/sessions/" + encodeURIComponent(id);

/**
 * A modal <dialog> (Esc closes it, focus stays inside) with a title, a body and buttons.
 * `onSubmit` runs on the primary button; the dialog closes when it resolves true.
 */
export function modal(opts: {
  id: string;
  title: string;
  body: Node[];
  submit?: string;
  t: Strings;
  onSubmit?: () => Promise<boolean> | boolean;
}): { dialog: HTMLDialogElement; error: HTMLElement; close(): void } {
  document.getElementById(opts.id)?.remove();
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const form = h("form", { method: "dialog", class: "dialog-form" });
  form.appendChild(h("h2", { text: opts.title, id: opts.id + "-title" }));
  for (const n of opts.body) form.appendChild(n);
  form.appendChild(error);
  const bar = h("div", { class: "dialog-bar" });
  const cancel = h("button", { type: "button", class: "ghost", value: "cancel", text: opts.submit ? opts.t.cancel : opts.t.close });
  bar.appendChild(cancel);
  let submit: HTMLButtonElement | null = null;
  if (opts.submit) {
    submit = h("button", { type: "submit", class: "primary", id: opts.id + "-submit", text: opts.submit });
    bar.appendChild(submit);
  }
  form.appendChild(bar);
  const dialog = h("dialog", { id: opts.id, class: "dialog", "aria-labelledby": opts.id + "-title" }, form);
  const close = () => {
    if (dialog.open) dialog.close();
    dialog.remove();
  };
  cancel.addEventListener("click", close);
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!opts.onSubmit || !submit) return close();
    submit.disabled = true;
    error.hidden = true;
    try {
      if (await opts.onSubmit()) close();
    } catch (e) {
      error.textContent = e instanceof Error ? e.message : String(e);
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  return { dialog, error, close };
}

/** A labelled form field. */
export function field(label: string, input: HTMLElement): HTMLElement {
  const id = input.id || "f-" + Math.random().toString(36).slice(2);
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id, text: label }), input);
}

/** A definition-list row, omitted when value is empty. */
export function row(dl: HTMLElement, label: string, value: Node | string): void {
  if (value === "") return;
  dl.appendChild(h("dt", { text: label }));
  const dd = h("dd");
  if (typeof value === "string") dd.textContent = value;
  else dd.appendChild(value);
  dl.appendChild(dd);
}
