// The conversation log, earlier messages and gaps (GET /im/{appid}/messages), and the unread
// badge on the entry button.

import { ChatMessage, requestJSON } from "../common";
import { ChatLog } from "./chatlog";
import { badge, earlier, launcher, logList, scroll } from "./elements";
import { base, key, S, site, storageGet, storageSet, t } from "./state";
import { hideTyping } from "./status";

// The conversation: messages and notes of the visitor's sessions, in seq order.
export const log = new ChatLog(logList, {
  t: () => t,
  avatar: () => site.config.theme.avatar,
  agentName: (m) => m.nickName || m.username || S.agentName || t.agent,
  onGap: (s, after) => void fillGap(s, after),
  onAdded: (item, live) => {
    if (item.side === "agent" && live) hideTyping();
    updateUnread();
  },
});

export const PAGE = 50;

export async function loadHistory(before?: string): Promise<void> {
  if (!S.identity) return;
  const q = new URLSearchParams({ userid: S.identity.userid, sign: S.identity.sign, limit: String(PAGE) });
  if (before) q.set("before", before);
  const box = scroll;
  const fromBottom = box.scrollHeight - box.scrollTop;
  try {
    const list = await requestJSON<ChatMessage[]>("GET", `${base}/messages?${q}`);
    if (!Array.isArray(list)) return;
    for (const m of list) log.addIncoming(m, false);
    earlier.hidden = list.length < PAGE;
    if (before) box.scrollTop = box.scrollHeight - fromBottom; // keep the view where it was
  } catch {
    // history is a convenience: the chat works without it
  }
}

earlier.addEventListener("click", () => {
  const oldest = log.oldestId();
  earlier.hidden = true;
  void loadHistory(oldest);
});

export async function fillGap(s: string, after: number): Promise<void> {
  if (!S.identity) return;
  const q = new URLSearchParams({ userid: S.identity.userid, sign: S.identity.sign, after: String(after), session: s });
  try {
    const list = await requestJSON<ChatMessage[]>("GET", `${base}/messages?${q}`);
    if (Array.isArray(list)) for (const m of list) log.addIncoming(m, false);
  } catch {
    // the next live message checks again
  }
}

export function readMark(): { sid: string; seq: number } {
  try {
    const v = JSON.parse(storageGet("local", key("read")) || "null");
    if (v && typeof v.sid === "string" && typeof v.seq === "number") return v;
  } catch {
    // none
  }
  return { sid: "", seq: 0 };
}

export function markRead(): void {
  updateUnread();
}

export function updateUnread(): void {
  let n = 0;
  if (S.sid) {
    if (S.mode === "open" && document.visibilityState !== "hidden") {
      storageSet("local", key("read"), JSON.stringify({ sid: S.sid, seq: log.maxSeq(S.sid) }));
    } else {
      const r = readMark();
      n = log.agentAfter(S.sid, r.sid === S.sid ? r.seq : 0);
    }
  }
  if (S.ratingPending) n = Math.max(n, 1);
  badge.textContent = n > 9 ? "9+" : String(n);
  badge.hidden = n === 0;
  const label = (site.config.button.text || t.button) + (n ? " – " + t.unread(n) : "");
  launcher.setAttribute("aria-label", label);
}

document.addEventListener("visibilitychange", () => {
  if (S.mode === "open") markRead();
});
