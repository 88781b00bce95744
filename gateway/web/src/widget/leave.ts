// The leave-a-message form, offered when nobody can answer (POST /im/{appid}/leavemsg).

import { requestJSON } from "../common";
import { FieldName } from "./config";
import { h } from "./dom";
import { leave } from "./elements";
import { makeField, validateField } from "./prechat";
import { errorText } from "./send";
import { base, key, S, site, storageSet, t } from "./state";
import { setView, startView } from "./views";

export function renderLeave(): void {
  leave.textContent = "";
  const form = h("form", { class: "form", id: "kefu-leave-form", novalidate: true });
  const intro = h("p", { class: "hint", id: "kefu-leave-intro", text: site.open ? t.leaveIntro : t.offhours });
  form.append(h("h2", { id: "kefu-leave-title", text: t.leaveTitle }), intro);
  const name = makeField("lm", "name", t.name, true);
  const phone = makeField("lm", "phone", t.phone, false);
  const email = makeField("lm", "email", t.email, false);
  name.input.value = S.contact.name || "";
  phone.input.value = S.contact.phone || "";
  email.input.value = S.contact.email || "";
  const contentId = "kefu-lm-content";
  const content = h("textarea", { id: contentId, name: "content", rows: "4", maxlength: "2000", required: true, "aria-required": "true" });
  const contentWrap = h(
    "div",
    { class: "field" },
    h("label", { for: contentId }, t.leaveContent, " ", h("span", { class: "hint", "aria-hidden": "true", text: "*" })),
    content,
  );
  const err = h("p", { class: "error", id: "kefu-leave-error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "kefu-leave-submit", text: t.leaveSubmit });
  const actions = h("div", { class: "actions" });
  if (site.open) {
    const anyway = h("button", { type: "button", class: "link", id: "kefu-chat-anyway", text: t.chatAnyway });
    anyway.addEventListener("click", () => setView(startView()));
    actions.appendChild(anyway);
  }
  actions.appendChild(submit);
  form.append(name.wrap, phone.wrap, email.wrap, contentWrap, err, actions);
  const done = h("div", { class: "done", id: "kefu-leave-done", hidden: true, role: "status" });
  const back = h("button", { type: "button", class: "secondary", id: "kefu-leave-back", text: t.leaveBack });
  done.append(h("p", { text: t.leaveDone }), back);
  back.addEventListener("click", () => {
    done.hidden = true;
    form.hidden = false;
    content.value = "";
    setView(startView());
  });
  leave.append(form, done);
  form.addEventListener("input", (ev) => {
    err.hidden = true;
    (ev.target as HTMLElement).removeAttribute("aria-invalid");
  });

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const fail = (msg: string, input?: HTMLElement) => {
      err.textContent = msg;
      err.hidden = false;
      if (input) input.focus();
    };
    const v = { name: name.input.value.trim(), phone: phone.input.value.trim(), email: email.input.value.trim(), content: content.value.trim() };
    for (const [f, inp, lab, req] of [
      ["name", name.input, t.name, true],
      ["phone", phone.input, t.phone, false],
      ["email", email.input, t.email, false],
    ] as [FieldName, HTMLInputElement, string, boolean][]) {
      const msg = validateField(f, v[f as "name" | "phone" | "email"], lab, req);
      inp.setAttribute("aria-invalid", msg ? "true" : "false");
      if (msg) return fail(msg, inp);
    }
    if (!v.phone && !v.email) return fail(t.leaveNeedContact, phone.input);
    if (!v.content) return fail(t.fieldRequired(t.leaveContent), content);
    if (!S.identity) return fail(t.unavailable);
    err.hidden = true;
    submit.disabled = true;
    const payload: Record<string, string> = { userid: S.identity.userid, sign: S.identity.sign, name: v.name, content: v.content };
    if (v.phone) payload.phone = v.phone;
    if (v.email) payload.email = v.email;
    S.contact = { ...S.contact, name: v.name, phone: v.phone || S.contact.phone, email: v.email || S.contact.email };
    storageSet("local", key("contact"), JSON.stringify(S.contact));
    requestJSON<{ id: string }>("POST", base + "/leavemsg", payload)
      .then(() => {
        form.hidden = true;
        done.hidden = false;
        back.focus();
      })
      .catch((e) => fail(errorText(e)))
      .then(() => {
        submit.disabled = false;
      });
  });
}
