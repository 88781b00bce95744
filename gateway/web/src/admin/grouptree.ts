// The team's shapes as the admin API answers them, and the skill-group tree (UCKeFu's organ tree)
// in display order, shared by the users, groups and roles sections.

export interface Group {
  id: string;
  name: string;
  maxuser: number;
  parent: string;
  disabled: boolean;
}

export interface Agent {
  id: string;
  username: string;
  nickname: string;
  maxuser: number;
  skills: string[];
  roles: string[];
  disabled: boolean;
  status?: string;
  busy?: boolean;
  users?: number;
}

export interface Role {
  name: string;
  rights: string[];
  builtin: boolean;
  fixed: boolean;
}

/** A group with its depth in the tree. */
export interface Placed {
  group: Group;
  depth: number;
}

/** The groups depth first, siblings by name; a group whose parent is missing is a root. */
export function treeOrder(groups: Group[]): Placed[] {
  const ids = new Set(groups.map((g) => g.id));
  const children = new Map<string, Group[]>();
  for (const g of groups) {
    const p = g.parent && ids.has(g.parent) ? g.parent : "";
    const list = children.get(p) || [];
    list.push(g);
    children.set(p, list);
  }
  const out: Placed[] = [];
  const seen = new Set<string>();
  const walk = (parent: string, depth: number) => {
    const list = (children.get(parent) || []).slice().sort((a, b) => a.name.localeCompare(b.name));
    for (const g of list) {
      if (seen.has(g.id)) continue; // a cycle the server refuses anyway
      seen.add(g.id);
      out.push({ group: g, depth });
      walk(g.id, depth + 1);
    }
  };
  walk("", 0);
  return out;
}

/** The ids of id and every group below it. */
export function subtree(groups: Group[], id: string): Set<string> {
  const out = new Set<string>([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const g of groups) {
      if (!out.has(g.id) && out.has(g.parent)) {
        out.add(g.id);
        grew = true;
      }
    }
  }
  return out;
}

/** A group's name with an indent that shows its depth in a plain-text control (an option). */
export function indented(p: Placed): string {
  return "\u00a0\u00a0\u00a0".repeat(p.depth) + (p.depth ? "└ " : "") + p.group.name;
}
