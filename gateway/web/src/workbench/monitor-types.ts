// The wire shapes of the monitor (pkg/protocol/supervision.go) as the workbench reads them.

import type { ChatMessage, SessionSummary } from "../common";

export interface MonitorChat extends SessionSummary {
  trans?: boolean;
  servicetime?: string;
  agentname?: string;
  readseq?: number;
  unread?: number;
  lastseq?: number;
  last?: ChatMessage;
  rating?: number;
}

export interface QueueEntry extends SessionSummary {
  agent?: string;
  num: number;
  since?: string;
}

export interface MonitorQueue {
  groups?: Record<string, number>;
  queue?: QueueEntry[];
}

export interface MonitorAgent {
  id: string;
  username?: string;
  nickname?: string;
  roles?: string[];
  status: string;
  busy?: boolean;
  users?: number;
  maxuser?: number;
  skills?: string[];
  since?: string;
  sockets?: number;
}

export interface Counters {
  agents?: number;
  busy?: number;
  users?: number;
  inquene?: number;
  createtime?: string;
}

export interface CounterSample extends Counters {
  at: string;
}

export interface SkillRef {
  id: string;
  name: string;
  parent?: string;
}

export interface Snapshot {
  rights?: string[];
  tenant?: boolean;
  skills?: SkillRef[];
  chats?: MonitorChat[];
  queue?: MonitorQueue;
  agents?: MonitorAgent[];
  counters?: Counters;
  history?: CounterSample[];
}

/** Seconds from an RFC 3339 time to now (0 if there is none). */
export function secondsSince(at: string | undefined, now: number): number {
  const t = at ? Date.parse(at) : NaN;
  return isNaN(t) ? 0 : Math.max(0, Math.round((now - t) / 1000));
}

/**
 * Keyed rows: updates `tbody` to show `items` in order, building a row for a new key, calling
 * `update` for every row, and removing rows of keys gone. Rows stay the same elements while
 * their item lives, so a click on one of their buttons is never lost to a redraw.
 */
export function syncRows<T>(tbody: HTMLElement, items: T[], key: (item: T) => string, build: (item: T) => HTMLTableRowElement, update: (tr: HTMLTableRowElement, item: T) => void): void {
  const existing = new Map<string, HTMLTableRowElement>();
  for (const tr of Array.from(tbody.children) as HTMLTableRowElement[]) {
    if (tr.dataset.key) existing.set(tr.dataset.key, tr);
  }
  let ref: ChildNode | null = tbody.firstChild;
  const keep = new Set<string>();
  for (const item of items) {
    const k = key(item);
    keep.add(k);
    let tr = existing.get(k);
    if (!tr) {
      tr = build(item);
      tr.dataset.key = k;
    }
    update(tr, item);
    if (tr === ref) ref = tr.nextSibling;
    else tbody.insertBefore(tr, ref);
  }
  for (const [k, tr] of existing) if (!keep.has(k)) tr.remove();
}
