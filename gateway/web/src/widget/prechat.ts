// The pre-chat form (the site's fields) and the visitor's remembered contact details.

import { FieldName } from "./config";
import { h } from "./dom";
import { prechatForm, textarea } from "./elements";
import { ensureSession, errorText } from "./send";
import { key, S, site, storageGet, storageSet, t } from "./state";
import { setView } from "./views";

export const fieldInputs: Partial<Record<FieldName, HTMLInputElement | HTMLTextAreaElement>> = {};

export function fieldLabel(name: FieldName, custom?: string): string {
  return custom || (name === "name" ? t.name : name === "phone" ? t.phone : name === "email" ? t.email : t.memo);
}

export function makeField(prefix: string, name: FieldName, label: string, required: boolean): { wrap: HTMLElement; input: HTMLInputElement | HTMLTextAreaElement } {
  const id = `kefu-${prefix}-${name}`;
  const input =
    name === "memo"
      ? h("textarea", { id, name, rows: "3", maxlength: "512" })
      : h("input", {
          id,
          name,
          type: name === "email" ? "email" : name === "phone" ? "tel" : "text",
          autocomplete: name === "name" ? "name" : name === "email" ? "email" : name === "phone" ? "tel" : "off",
          // the server's limits (sessions and leave messages): name 64, phone 32, email 128
          maxlength: name === "email" ? "128" : name === "phone" ? "32" : "64",
        });
  if (required) {
    input.required = true;
    input.setAttribute("aria-required", "true");
  }
  const lab = h("label", { for: id }, label, " ", h("span", { class: "hint", text: required ? "*" : `(${t.optional})` }));
  if (required) lab.lastElementChild!.setAttribute("aria-hidden", "true");
  return { wrap: h("div", { class: "field" }, lab, input), input };
}

export function renderPrechat(): void {
  prechatForm.textContent = "";
  const pc = site.config.prechat;
  if (!pc.enabled) return;
  prechatForm.append(h("h2", { text: t.prechatTitle }), h("p", { class: "hint", text: t.prechatIntro }));
  for (const f of pc.fields) {
    const { wrap, input } = makeField("pc", f.name, fieldLabel(f.name, f.label), f.required);
    input.value = S.contact[f.name] || "";
    fieldInputs[f.name] = input;
    prechatForm.appendChild(wrap);
  }
  const err = h("p", { class: "error", id: "kefu-prechat-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "kefu-prechat-submit", text: t.prechatSubmit });
  prechatForm.append(err, submit);
}

export function validateField(name: FieldName, v: string, label: string, required: boolean): string {
  if (v === "") return required ? t.fieldRequired(label) : "";
  if (name === "email" && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return t.badEmail;
  if (name === "phone" && !/^[+()\d\s-]{5,32}$/.test(v)) return t.badPhone;
  return "";
}

prechatForm.addEventListener("input", (ev) => {
  const err = document.getElementById("kefu-prechat-error");
  if (err) err.hidden = true;
  (ev.target as HTMLElement).removeAttribute("aria-invalid");
});

prechatForm.addEventListener("submit", (ev) => {
  ev.preventDefault();
  const err = document.getElementById("kefu-prechat-error")!;
  const data: Partial<Record<FieldName, string>> = {};
  for (const f of site.config.prechat.fields) {
    const input = fieldInputs[f.name];
    if (!input) continue;
    const v = input.value.trim();
    const msg = validateField(f.name, v, fieldLabel(f.name, f.label), f.required);
    input.setAttribute("aria-invalid", msg ? "true" : "false");
    if (msg) {
      err.textContent = msg;
      err.hidden = false;
      input.focus();
      return;
    }
    if (v) data[f.name] = v;
  }
  err.hidden = true;
  S.contact = { ...S.contact, ...data };
  storageSet("local", key("contact"), JSON.stringify(S.contact));
  S.prechatDone = true;
  const submit = document.getElementById("kefu-prechat-submit") as HTMLButtonElement;
  submit.disabled = true;
  ensureSession(data)
    .then(() => {
      setView("chat");
      textarea.focus();
    })
    .catch((e) => {
      S.prechatDone = false;
      err.textContent = t.startFailed + errorText(e);
      err.hidden = false;
    })
    .then(() => {
      submit.disabled = false;
    });
});

export function loadContact(): Partial<Record<FieldName, string>> {
  try {
    const v = JSON.parse(storageGet("local", key("contact")) || "{}");
    const out: Partial<Record<FieldName, string>> = {};
    for (const k of ["name", "phone", "email"] as FieldName[]) if (typeof v[k] === "string") out[k] = v[k];
    return out;
  } catch {
    return {};
  }
}
