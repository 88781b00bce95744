// The enterprise IM's wire types and REST calls (docs/protocol.md, "The
// workbench (issue 5)", /im/entim).

import { requestJSON } from "../common";

export interface Contact {
  id: string;
  nickname: string;
  online: boolean;
  unread: number;
}

export interface Group {
  id: string;
  name: string;
  unread: number;
}

/** A message as the socket delivers it and the history returns it (history adds pk). */
export interface IMMessage {
  id: string;
  pk?: string;
  from: string;
  touser?: string;
  group?: string;
  message: string;
  clientid?: string;
  createtime?: string;
}

/** A conversation: with one colleague or in a group. */
export interface Target {
  kind: "user" | "group";
  id: string;
}

export function keyOf(t: Target): string {
  return (t.kind === "user" ? "u:" : "g:") + t.id;
}

/** The conversation a message belongs to, seen by `me`; null when it is not addressed sensibly. */
export function targetOf(m: IMMessage, me: string): Target | null {
  if (m.group) return { kind: "group", id: m.group };
  const peer = m.from === me ? m.touser : m.from;
  return peer ? { kind: "user", id: peer } : null;
}

/** The query (or body) naming the conversation: {with} or {group}. */
function address(t: Target): Record<string, string> {
  return t.kind === "user" ? { with: t.id } : { group: t.id };
}

const BASE = "/api/v1/entim";

export class EntimApi {
  constructor(private token: string) {}

  contacts(): Promise<{ contacts: Contact[]; groups: Group[] }> {
    return requestJSON("GET", BASE + "/contacts", undefined, this.token);
  }

  /** Up to `limit` messages older than `before` (the latest without it), oldest first. */
  messages(t: Target, limit: number, before?: string): Promise<IMMessage[]> {
    const q = new URLSearchParams(address(t));
    q.set("limit", String(limit));
    if (before) q.set("before", before);
    return requestJSON("GET", BASE + "/messages?" + q.toString(), undefined, this.token);
  }

  createGroup(name: string, members: string[]): Promise<{ id: string; name: string; members: string[] }> {
    return requestJSON("POST", BASE + "/groups", { name, members }, this.token);
  }

  read(t: Target): Promise<void> {
    return requestJSON("POST", BASE + "/read", address(t), this.token);
  }
}
