// The enterprise IM panel's left column: search, colleagues with presence and unread counts,
// groups with unread counts, the "new group" button. Items are kept per id and updated in
// place, so presence changes do not steal the keyboard focus.

import { el } from "../common";
import type { Contact, Group, Target } from "./entim-api";
import { keyOf } from "./entim-api";
import { avatar, icon, setBadge, syncChildren } from "./entim-dom";
import type { EntimStrings } from "./entim-i18n";

export interface SidebarHandlers {
  pick(t: Target): void;
  newGroup(): void;
}

interface Item {
  li: HTMLLIElement;
  button: HTMLButtonElement;
  name: HTMLSpanElement;
  sub: HTMLSpanElement;
  badge: HTMLSpanElement;
  dot?: HTMLSpanElement;
  label: string;
}

export class Sidebar {
  readonly root: HTMLElement;
  private search: HTMLInputElement;
  private contactList: HTMLUListElement;
  private groupList: HTMLUListElement;
  private contactCount: HTMLSpanElement;
  private contactEmpty: HTMLParagraphElement;
  private groupEmpty: HTMLParagraphElement;
  private items = new Map<string, Item>();
  private lastContacts: Contact[] = [];
  private lastGroups: Group[] = [];

  constructor(private t: EntimStrings, private handlers: SidebarHandlers) {
    this.root = el("nav", "entim-side");
    this.root.setAttribute("aria-label", t.colleagues + " / " + t.groups);

    const searchBox = el("label", "entim-search");
    searchBox.appendChild(icon("search"));
    this.search = el("input", "entim-search-input");
    this.search.type = "search";
    this.search.placeholder = t.search;
    this.search.setAttribute("aria-label", t.search);
    this.search.addEventListener("input", () => this.filter());
    searchBox.appendChild(this.search);

    const contactsHead = el("div", "entim-section-head");
    contactsHead.appendChild(el("h3", "entim-section-title", t.colleagues));
    this.contactCount = el("span", "entim-section-count");
    contactsHead.appendChild(this.contactCount);
    this.contactList = el("ul", "entim-list entim-contacts");
    this.contactEmpty = el("p", "entim-empty-line", t.noColleagues);

    const groupsHead = el("div", "entim-section-head");
    groupsHead.appendChild(el("h3", "entim-section-title", t.groups));
    const add = el("button", "entim-icon-button entim-new-group");
    add.type = "button";
    add.title = t.newGroup;
    add.setAttribute("aria-label", t.newGroup);
    add.appendChild(icon("plus"));
    add.addEventListener("click", () => handlers.newGroup());
    groupsHead.appendChild(add);
    this.groupList = el("ul", "entim-list entim-groups");
    this.groupEmpty = el("p", "entim-empty-line", t.noGroups);

    const scroll = el("div", "entim-side-scroll");
    scroll.append(contactsHead, this.contactList, this.contactEmpty, groupsHead, this.groupList, this.groupEmpty);
    this.root.append(searchBox, scroll);
    this.root.addEventListener("keydown", (e) => this.arrows(e));
  }

  /** Redraws both lists; `active` is the key of the open conversation. */
  render(contacts: Contact[], groups: Group[], active: string | null): void {
    this.lastContacts = contacts;
    this.lastGroups = groups;
    const alive = new Set<string>();
    const contactNodes = contacts.map((c) => {
      const key = keyOf({ kind: "user", id: c.id });
      alive.add(key);
      const it = this.item(key, { kind: "user", id: c.id }, c.nickname);
      it.sub.textContent = c.online ? this.t.online : this.t.offline;
      if (it.dot) it.dot.dataset.online = String(c.online);
      it.li.classList.toggle("entim-offline", !c.online);
      this.update(it, c.nickname, c.unread, key === active);
      return it.li;
    });
    const groupNodes = groups.map((g) => {
      const key = keyOf({ kind: "group", id: g.id });
      alive.add(key);
      const it = this.item(key, { kind: "group", id: g.id }, g.name);
      this.update(it, g.name, g.unread, key === active);
      return it.li;
    });
    for (const key of Array.from(this.items.keys())) if (!alive.has(key)) this.items.delete(key);
    syncChildren(this.contactList, contactNodes);
    syncChildren(this.groupList, groupNodes);
    const online = contacts.filter((c) => c.online).length;
    this.contactCount.textContent = contacts.length ? `${online}/${contacts.length} ${this.t.online}` : "";
    this.filter();
  }

  private item(key: string, target: Target, label: string): Item {
    let it = this.items.get(key);
    if (it) return it;
    const li = el("li");
    const button = el("button", "entim-item");
    button.type = "button";
    button.dataset.kind = target.kind;
    button.dataset.id = target.id;
    const pic = el("span", "entim-avatar-wrap");
    pic.appendChild(avatar(target.id, label, "md", target.kind === "group"));
    let dot: HTMLSpanElement | undefined;
    if (target.kind === "user") {
      dot = el("span", "entim-dot");
      pic.appendChild(dot);
    }
    const body = el("span", "entim-item-body");
    const name = el("span", "entim-item-name");
    const sub = el("span", "entim-item-sub", target.kind === "group" ? this.t.group : "");
    body.append(name, sub);
    const badge = el("span", "entim-badge");
    button.append(pic, body, badge);
    button.addEventListener("click", () => this.handlers.pick(target));
    li.appendChild(button);
    it = { li, button, name, sub, badge, dot, label };
    this.items.set(key, it);
    return it;
  }

  private update(it: Item, label: string, unread: number, active: boolean): void {
    it.label = label;
    it.name.textContent = label;
    setBadge(it.badge, unread, this.t.unread);
    it.li.classList.toggle("entim-has-unread", unread > 0);
    it.button.classList.toggle("entim-active", active);
    if (active) it.button.setAttribute("aria-current", "true");
    else it.button.removeAttribute("aria-current");
    it.button.setAttribute("aria-label", unread > 0 ? `${label}, ${it.sub.textContent}, ${this.t.unread(unread)}` : `${label}, ${it.sub.textContent}`);
  }

  /** Hides what the search does not match. */
  private filter(): void {
    const q = this.search.value.trim().toLocaleLowerCase();
    let shownContacts = 0;
    let shownGroups = 0;
    for (const it of this.items.values()) {
      const show = q === "" || it.label.toLocaleLowerCase().includes(q);
      it.li.hidden = !show;
      if (show && it.button.dataset.kind === "user") shownContacts++;
      if (show && it.button.dataset.kind === "group") shownGroups++;
    }
    this.contactEmpty.textContent = this.lastContacts.length ? this.t.noMatch : this.t.noColleagues;
    this.contactEmpty.hidden = shownContacts > 0;
    this.groupEmpty.textContent = this.lastGroups.length ? this.t.noMatch : this.t.noGroups;
    this.groupEmpty.hidden = shownGroups > 0;
  }

  /** Up and down arrows move between the conversations. */
  private arrows(e: KeyboardEvent): void {
    if (e.key !== "ArrowDown" && e.key !== "ArrowUp") return;
    const buttons = Array.from(this.root.querySelectorAll<HTMLButtonElement>("li:not([hidden]) > .entim-item"));
    if (buttons.length === 0) return;
    const at = buttons.indexOf(document.activeElement as HTMLButtonElement);
    const next = e.key === "ArrowDown" ? Math.min(at + 1, buttons.length - 1) : at <= 0 ? 0 : at - 1;
    buttons[next].focus();
    e.preventDefault();
  }
}
