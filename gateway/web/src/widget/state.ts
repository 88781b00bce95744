// The widget's state, shared by its parts: the site and its texts, the visitor's identity and
// socket, and where the window and the chat are. Read-mostly values (the site, the language and
// its texts) are live bindings changed with setSite/setLang; the rest lives in S.

import { Identity, Socket } from "../common";
import { FieldName, normalizeSite, SiteInfo } from "./config";
import { Lang, pickLang, strings, Strings } from "./i18n";
import { Area, frameStore, memoryStore, StoreBackend } from "./store";

export type Mode = "hidden" | "button" | "invite" | "open";
export type View = "chat" | "prechat" | "leave" | "leaveDone" | "picker";

export interface InviteEvent {
  agentno?: string;
  nickName?: string;
  message?: string;
}

export interface HostInfo {
  title: string;
  url: string;
  referrer: string;
}

export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/gif", "image/webp"];
export const FILE_TYPES = ["application/pdf", "text/plain", "application/zip", "application/x-zip-compressed"];

export const appid = (() => {
  const m = /^\/im\/([^/]+)\/widget\/?$/.exec(location.pathname);
  if (m) {
    try {
      return decodeURIComponent(m[1]);
    } catch {
      return m[1];
    }
  }
  return new URLSearchParams(location.search).get("appid") || "demo";
})();
export const base = "/im/" + encodeURIComponent(appid);
export const key = (k: string) => `kefu:${appid}:${k}`;
export const embedded = window.parent !== window;

/** The page's preset routing (the loader passes the embed tag's data-skill / data-agent). */
export const preset = (() => {
  const q = new URLSearchParams(location.search);
  const clean = (v: string | null) => (v && /^[\w-]{1,32}$/.test(v) ? v : "");
  return { skill: clean(q.get("skill")), agent: clean(q.get("agent")) };
})();

export let lang: Lang = pickLang(navigator.language);
export let t: Strings = strings(lang);
export let site: SiteInfo = normalizeSite({}, appid);

export function setLang(l: Lang): void {
  lang = l;
  t = strings(l);
}

export function setSite(next: SiteInfo): void {
  site = next;
}

// What the widget remembers (see store.ts): chosen once the loader has said hello.
const ownStore = frameStore();

export const S = {
  store: (ownStore || memoryStore()) as StoreBackend,
  storeReady: !embedded || !!ownStore,
  hostSnapshot: null as { local?: unknown; session?: unknown } | null,
  identity: null as Identity | null,
  socket: null as Socket | null,
  refused: false,
  connectedOnce: false,
  host: { title: "", url: "", referrer: "" } as HostInfo,
  parentOrigin: "",
  hostResolve: null as (() => void) | null,

  mode: "hidden" as Mode,
  view: "chat" as View,
  viewChanges: 0,
  userOpened: false,
  inviteWidth: 320,
  sid: "", // the current (or last) session
  sessionOpen: false, // a session is open: messages go to it
  sessionState: "", // last status state
  agentName: "",
  hadAgent: false, // the current session was served by an agent at some point
  pendingAgent: "", // the agent whose invite was accepted: asked for in `new`
  skill: "", // the skill group picked (or preset) for the next chat
  agentRoutes: !!preset.agent, // the preset agent decides the group, until the server says no
  prechatDone: false,
  contact: {} as Partial<Record<FieldName, string>>,
  starting: null as Promise<string> | null,
  ratingSid: "",
  ratingPending: false,
  inviteData: null as { agentno?: string; name?: string; message: string } | null,
  modeBeforeInvite: "button" as Mode,
  typingTimer: undefined as number | undefined,
  autoInviteTimer: undefined as number | undefined,
  noticeTimer: undefined as number | undefined,
};

export function storageGet(area: Area, k: string): string | null {
  return S.store.get(area, k);
}

export function storageSet(area: Area, k: string, v: string | null): void {
  if (S.storeReady) S.store.set(area, k, v);
}
