// Small DOM pieces of the enterprise IM panel: avatars, icons, keyed lists.

import { el } from "../common";

const PALETTE = 8;

/** A stable colour slot (0..7) for an id, so someone keeps their colour everywhere. */
export function hue(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) | 0;
  return Math.abs(h) % PALETTE;
}

/** The first letter of a name (a whole character, also outside the BMP), upper-cased. */
export function initial(name: string): string {
  const first = Array.from(name.trim())[0];
  return first ? first.toUpperCase() : "?";
}

/** A round avatar with the name's initial; `group` draws the group glyph instead. */
export function avatar(id: string, name: string, size: "sm" | "md", group = false): HTMLSpanElement {
  const a = el("span", `entim-avatar entim-avatar-${size} entim-hue-${hue(id)}`);
  a.setAttribute("aria-hidden", "true");
  if (group) a.appendChild(icon("group"));
  else a.textContent = initial(name);
  return a;
}

const PATHS: Record<string, string> = {
  group: "M16 11a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm-8 0a3 3 0 1 0-3-3 3 3 0 0 0 3 3zm0 2c-2.3 0-7 1.2-7 3.5V19h14v-2.5C15 14.2 10.3 13 8 13zm8 0c-.3 0-.6 0-1 .1 1.2.8 2 2 2 3.4V19h6v-2.5c0-2.3-4.7-3.5-7-3.5z",
  send: "M3.4 20.4 21 12 3.4 3.6 3.4 10l12.6 2-12.6 2z",
  plus: "M11 5h2v6h6v2h-6v6h-2v-6H5v-2h6z",
  search: "M15.5 14h-.8l-.3-.3A6.5 6.5 0 1 0 14 15.5l.3.3v.8l5 5 1.5-1.5-5-5zm-6 0A4.5 4.5 0 1 1 14 9.5 4.5 4.5 0 0 1 9.5 14z",
  chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z",
};

/** An inline SVG icon (our own fixed paths: no user text goes into it). */
export function icon(name: keyof typeof PATHS): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "entim-icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", PATHS[name]);
  path.setAttribute("fill", "currentColor");
  svg.appendChild(path);
  return svg;
}

/**
 * Makes `parent`'s children exactly `nodes`, in that order, moving only what is out of place
 * (a focused button that stays put keeps its focus).
 */
export function syncChildren(parent: Node, nodes: Node[]): void {
  let ref: ChildNode | null = parent.firstChild;
  for (const n of nodes) {
    if (n === ref) ref = ref.nextSibling;
    else parent.insertBefore(n, ref);
  }
  while (ref) {
    const next: ChildNode | null = ref.nextSibling;
    parent.removeChild(ref);
    ref = next;
  }
}

/** A small unread pill, hidden at zero. */
export function setBadge(badge: HTMLElement, n: number, label: (n: number) => string): void {
  badge.hidden = n <= 0;
  badge.textContent = n > 99 ? "99+" : String(n);
  badge.setAttribute("aria-label", label(n));
}
