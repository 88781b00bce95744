// The "new group" dialog: a name and the colleagues to add (the creator is always a member).

import { el, errorText, randomId } from "../common";
import type { Contact } from "./entim-api";
import { avatar } from "./entim-dom";
import type { EntimStrings } from "./entim-i18n";

/** Group names are 1 to 64 characters (the server's limit). */
const MAX_NAME = 64;

/**
 * Opens the dialog inside `host`; `create` makes the group (its rejection is shown in the
 * dialog, which stays open). The dialog removes itself when closed.
 */
export function openGroupDialog(
  host: HTMLElement,
  t: EntimStrings,
  contacts: Contact[],
  create: (name: string, members: string[]) => Promise<void>,
): HTMLDialogElement {
  const dialog = el("dialog", "entim-dialog");
  const uid = randomId().slice(0, 8);
  dialog.setAttribute("aria-labelledby", "entim-dlg-title-" + uid);
  const form = el("form", "entim-dialog-form");
  form.method = "dialog";
  const title = el("h3", "entim-dialog-title", t.newGroup);
  title.id = "entim-dlg-title-" + uid;

  const nameLabel = el("label", "entim-field-label", t.groupName);
  const name = el("input", "entim-input entim-group-name");
  name.id = "entim-group-name-" + uid;
  nameLabel.htmlFor = name.id;
  name.maxLength = MAX_NAME;
  name.placeholder = t.groupNamePlaceholder;
  name.autocomplete = "off";

  const members = el("fieldset", "entim-members");
  members.appendChild(el("legend", "entim-field-label", t.members));
  const list = el("ul", "entim-member-list");
  for (const c of contacts) {
    const li = el("li");
    const label = el("label", "entim-member");
    const box = el("input");
    box.type = "checkbox";
    box.value = c.id;
    box.className = "entim-member-check";
    const who = el("span", "entim-member-name", c.nickname);
    const state = el("span", "entim-member-state", c.online ? t.online : t.offline);
    state.dataset.online = String(c.online);
    label.append(box, avatar(c.id, c.nickname, "sm"), who, state);
    li.appendChild(label);
    list.appendChild(li);
  }
  if (contacts.length === 0) list.appendChild(el("li", "entim-empty-line", t.noColleagues));
  members.appendChild(list);

  const error = el("p", "entim-error entim-dialog-error");
  error.setAttribute("role", "alert");
  error.hidden = true;
  const actions = el("div", "entim-dialog-actions");
  const cancel = el("button", "entim-button", t.cancel);
  cancel.type = "button";
  const submit = el("button", "entim-button entim-primary entim-group-create", t.create);
  submit.type = "submit";
  actions.append(cancel, submit);

  form.append(title, nameLabel, name, members, error, actions);
  dialog.appendChild(form);
  host.appendChild(dialog);

  const showError = (text: string) => {
    error.textContent = text;
    error.hidden = text === "";
  };
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => dialog.remove());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const groupName = name.value.trim();
    const picked = Array.from(list.querySelectorAll<HTMLInputElement>("input:checked")).map((b) => b.value);
    if (groupName === "") {
      showError(t.needName);
      name.focus();
      return;
    }
    if (picked.length === 0) {
      showError(t.needMembers);
      return;
    }
    showError("");
    submit.disabled = true;
    create(groupName, picked).then(
      () => dialog.close(),
      (err) => {
        submit.disabled = false;
        showError(errorText(err));
      },
    );
  });
  dialog.showModal();
  name.focus();
  return dialog;
}
