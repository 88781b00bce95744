// The visitor panel (location, system, pages, earlier chats with transcripts, tags, service
// summary, contact) and the conversation's actions: transfer, end, rating request, block, and
// inviting an online visitor. Visitor-supplied text (titles, URLs, names) is text only; links
// are http(s) for pages and checked mailto:/tel: for contacts.

import { $, ApiError, ChatMessage, SessionSummary, errorText } from "../common";
import { formatTime, h, safeURL } from "../widget/dom";
import type { Conv } from "./chats";
import { dictStrings } from "./dict-i18n";
import { messageLog } from "./messages";
import { transferDialog } from "./transfer";
import { App, Location, field, modal, row, sessionPath, str } from "./ui";

interface PanelData {
  appid: string;
  userid: string;
  nickname: string;
  ip: string;
  location?: Location | null;
  osname: string;
  browser: string;
  url: string;
  referrer: string;
  title: string;
  trail: { title: string; url: string; referrer: string; createtime: string }[];
  sessions: SessionSummary[];
  tags: string[];
  visitortags?: string[];
  summary: string;
  contact: { name: string; phone: string; email: string };
}

interface Tag {
  id: string;
  name: string;
  color?: string;
  kind?: string;
}


export interface VisitorPanel {
  show(c: Conv | null): void;
  relabel(): void;
}

const EMAIL = /^[^\s@<>"'()\\,;:]+@[^\s@<>"'()\\,;:]+\.[^\s@<>"'()\\,;:]+$/;
const PHONE = /^\+?[0-9][0-9 ()\-.]{2,30}$/;

/** "Country, Region, City" from whatever parts are present, or "" when none is. */
export function locationText(l?: Location | null): string {
  if (!l || typeof l !== "object") return "";
  return [l.country, l.region, l.city].map(str).filter((p) => p.trim() !== "").join(", ");
}

export function createVisitorPanel(app: App, hooks: { current(): Conv | null; ended(sid: string): void }): VisitorPanel {
  const body = $("visitor-panel");
  const cannedPanel = $("canned-panel");
  const t = () => app.t();
  let shown: Conv | null = null;
  let data: PanelData | null = null;
  let tags: Tag[] | null = null;
  let loadSeq = 0;

  // ------------------------------------------------------------ side tabs

  document.querySelectorAll<HTMLButtonElement>("button[data-side]").forEach((b) =>
    b.addEventListener("click", () => {
      const which = b.dataset.side;
      document.querySelectorAll<HTMLButtonElement>("button[data-side]").forEach((x) => x.setAttribute("aria-selected", String(x === b)));
      body.hidden = which !== "visitor";
      cannedPanel.hidden = which !== "canned";
    }),
  );

  // ------------------------------------------------------------ the panel

  async function load(c: Conv): Promise<void> {
    const mine = ++loadSeq;
    try {
      const [d, all] = await Promise.all([
        app.api<PanelData>("GET", sessionPath(c.s.agentserviceid) + "/visitor"),
        tags ? Promise.resolve(tags) : app.api<Tag[]>("GET", "/tags").catch(() => [] as Tag[]),
      ]);
      tags = Array.isArray(all) ? all : [];
      if (mine !== loadSeq) return;
      data = d;
      render();
    } catch (e) {
      if (mine !== loadSeq) return;
      body.textContent = "";
      body.appendChild(h("p", { class: "error", text: t().error(t().errLoad) + errorText(e) }));
    }
  }

  function render(): void {
    body.textContent = "";
    const d = data;
    const c = shown;
    if (!d || !c) return;
    const tt = t();
    body.appendChild(h("h3", { class: "visitor-name", text: str(d.nickname) || str(d.contact && d.contact.name) || tt.visitor }));
    const dl = h("dl", { class: "facts" });
    row(dl, tt.location, h("span", { id: "visitor-location", text: locationText(d.location) || tt.unknown }));
    row(dl, tt.system, [str(d.osname), str(d.browser)].filter(Boolean).join(" · ") || tt.unknown);
    row(dl, tt.ip, str(d.ip));
    if (str(d.title) || str(d.url)) row(dl, tt.sourcePage, pageLink(str(d.title), str(d.url)));
    if (str(d.referrer)) row(dl, tt.referrer, pageLink("", str(d.referrer)));
    const contact = contactNode(d.contact);
    if (contact) row(dl, tt.contact, contact);
    body.appendChild(dl);

    body.appendChild(h("h4", { text: dictStrings().conversationTags }));
    body.appendChild(tagsNode(c, d));
    body.appendChild(h("h4", { text: dictStrings().visitorTags, title: dictStrings().visitorTagsHint }));
    body.appendChild(visitorTagsNode(c, d));

    body.appendChild(h("h4", { text: tt.summary }));
    const summary = h("textarea", { id: "visitor-summary", rows: "3", maxlength: "2000", "aria-label": tt.summary });
    summary.value = str(d.summary);
    const save = h("button", { type: "button", class: "small", id: "summary-save", text: tt.save });
    save.addEventListener("click", async () => {
      save.disabled = true;
      try {
        await app.api("PUT", sessionPath(c.s.agentserviceid) + "/summary", { summary: summary.value });
        d.summary = summary.value;
        app.toast(tt.summarySaved);
      } catch (e) {
        app.toast(tt.error(tt.errSave) + errorText(e), true);
      } finally {
        save.disabled = false;
      }
    });
    body.appendChild(h("div", { class: "summary" }, summary, save));

    body.appendChild(h("h4", { text: tt.trail }));
    const trail = h("ol", { class: "trail", id: "visitor-trail" });
    for (const p of Array.isArray(d.trail) ? d.trail : []) {
      const li = h("li");
      li.appendChild(pageLink(str(p.title), str(p.url)));
      li.appendChild(h("time", { class: "muted small", text: " " + formatTime(str(p.createtime)) }));
      trail.appendChild(li);
    }
    if (!trail.firstChild) trail.appendChild(h("li", { class: "muted none", text: tt.noPrevious }));
    body.appendChild(trail);

    body.appendChild(h("h4", { text: tt.previous }));
    const prev = h("ul", { class: "previous", id: "visitor-previous" });
    for (const s of Array.isArray(d.sessions) ? d.sessions : []) {
      const b = h("button", { type: "button", class: "link", text: `${formatTime(str(s.createtime))} · ${tt.transcript}` });
      b.addEventListener("click", () => void transcript(s));
      prev.appendChild(h("li", {}, b));
    }
    if (!prev.firstChild) prev.appendChild(h("li", { class: "muted none", text: tt.noPrevious }));
    body.appendChild(prev);
  }

  function pageLink(title: string, url: string): HTMLElement {
    const href = safeURL(url);
    const label = title || url;
    if (!href) return h("span", { class: "page", text: label, title: url });
    return h("a", { class: "page", href, target: "_blank", rel: "noopener noreferrer nofollow", text: label, title: url });
  }

  function contactNode(ct: PanelData["contact"]): HTMLElement | null {
    if (!ct) return null;
    const box = h("span", { class: "contact" });
    if (str(ct.name)) box.appendChild(h("span", { text: str(ct.name) }));
    const phone = str(ct.phone).trim();
    if (phone) box.appendChild(PHONE.test(phone) ? h("a", { href: "tel:" + phone.replace(/[^0-9+]/g, ""), text: phone }) : h("span", { text: phone }));
    const email = str(ct.email).trim();
    if (email) box.appendChild(EMAIL.test(email) ? h("a", { href: "mailto:" + encodeURIComponent(email).replace("%40", "@"), text: email }) : h("span", { text: email }));
    return box.firstChild ? box : null;
  }

  /** The tenant's tags of one kind (tags from before kinds are conversation tags). */
  function tagsOf(kind: string): Tag[] {
    return (tags || []).filter((x) => (x.kind || "session") === kind);
  }

  function chipColor(b: HTMLElement, tag: Tag): void {
    if (tag.color && /^#[0-9a-f]{3,8}$/i.test(tag.color)) b.style.setProperty("--chip", tag.color);
  }

  // The conversation's tags: every conversation tag as a toggle (#visitor-tags, its id from before
  // visitors had tags of their own).
  function tagsNode(c: Conv, d: PanelData): HTMLElement {
    const wrap = h("div", { class: "tags", id: "visitor-tags" });
    const all = tagsOf("session");
    if (all.length === 0) {
      wrap.appendChild(h("span", { class: "muted", text: t().noTags }));
      return wrap;
    }
    const on = new Set(Array.isArray(d.tags) ? d.tags : []);
    for (const tag of all) {
      const b = h("button", { type: "button", class: "chip", "aria-pressed": String(on.has(tag.id)), text: str(tag.name), "data-id": tag.id });
      chipColor(b, tag);
      b.addEventListener("click", async () => {
        const next = new Set(on);
        if (next.has(tag.id)) next.delete(tag.id);
        else next.add(tag.id);
        try {
          const res = await app.api<{ tags: string[] }>("PUT", sessionPath(c.s.agentserviceid) + "/tags", { tags: Array.from(next) });
          d.tags = res.tags;
          if (shown === c) render();
        } catch (e) {
          app.toast(t().error(t().errSave) + errorText(e), true);
        }
      });
      wrap.appendChild(b);
    }
    return wrap;
  }

  // The visitor's own tags (UCKeFu tags the visitor): chips that remove, a picker that adds.
  function visitorTagsNode(c: Conv, d: PanelData): HTMLElement {
    const dt = dictStrings();
    const wrap = h("div", { class: "tags visitor-own-tags", id: "visitor-profile-tags" });
    const all = tagsOf("visitor");
    if (all.length === 0) {
      wrap.appendChild(h("span", { class: "muted", text: dt.noVisitorTags }));
      return wrap;
    }
    const on = new Set(Array.isArray(d.visitortags) ? d.visitortags : []);
    const save = async (next: Set<string>) => {
      try {
        const path = `/visitors/${encodeURIComponent(str(d.appid))}/${encodeURIComponent(str(d.userid))}/tags`;
        const res = await app.api<{ tags: string[] }>("PUT", path, { tags: Array.from(next) });
        d.visitortags = res.tags;
        if (shown === c) render();
      } catch (e) {
        app.toast(t().error(t().errSave) + errorText(e), true);
      }
    };
    for (const tag of all.filter((x) => on.has(x.id))) {
      const chip = h("span", { class: "chip on", "data-id": tag.id, text: str(tag.name) });
      chipColor(chip, tag);
      const x = h("button", { type: "button", class: "chip-remove", "aria-label": dt.removeTag(str(tag.name)), title: dt.removeTag(str(tag.name)), text: "×" });
      x.addEventListener("click", () => {
        const next = new Set(on);
        next.delete(tag.id);
        void save(next);
      });
      chip.appendChild(x);
      wrap.appendChild(chip);
    }
    const free = all.filter((x) => !on.has(x.id));
    if (free.length > 0) {
      const pick = h("select", { id: "visitor-tag-pick", class: "tag-pick", "aria-label": dt.addTag }, h("option", { value: "", text: dt.addTag }));
      for (const tag of free) pick.appendChild(h("option", { value: tag.id, text: str(tag.name) }));
      pick.addEventListener("change", () => {
        if (!pick.value) return;
        const next = new Set(on);
        next.add(pick.value);
        void save(next);
      });
      wrap.appendChild(pick);
    } else if (on.size === 0) {
      wrap.appendChild(h("span", { class: "muted", text: dt.noneYet }));
    }
    return wrap;
  }

  async function transcript(s: SessionSummary): Promise<void> {
    const tt = t();
    const list = h("ol", { class: "log transcript", id: "transcript-log" });
    modal({ id: "transcript-dialog", title: `${tt.transcript} · ${formatTime(str(s.createtime))}`, t: tt, body: [list] });
    try {
      const ms = await app.api<ChatMessage[]>("GET", sessionPath(s.agentserviceid) + "/messages?limit=200");
      const log = messageLog(list, { t, visitorName: () => str(s.nickname) || tt.visitor });
      for (const m of Array.isArray(ms) ? ms : []) log.addIncoming(m);
    } catch (e) {
      list.appendChild(h("li", { class: "error", text: tt.error(tt.errLoad) + errorText(e) }));
    }
  }

  // ------------------------------------------------------------ actions

  $("act-transfer").addEventListener("click", () => {
    const c = hooks.current();
    if (c && !c.ended) void transferDialog(app, c.s, app.me().id);
  });

  $("act-rating").addEventListener("click", async () => {
    const c = hooks.current();
    if (!c || c.ended) return;
    try {
      await app.api("POST", sessionPath(c.s.agentserviceid) + "/rating-request");
      app.toast(t().ratingSent);
    } catch (e) {
      // 409: the site's satisfaction settings are off.
      app.toast(e instanceof ApiError && e.status === 409 ? t().ratingOff : t().error(t().errSend) + errorText(e), true);
    }
  });

  $("act-end").addEventListener("click", () => {
    const c = hooks.current();
    if (!c || c.ended) return;
    modal({
      id: "end-dialog",
      title: t().endConfirm,
      t: t(),
      submit: t().end,
      body: [],
      onSubmit: async () => {
        await app.api("POST", sessionPath(c.s.agentserviceid) + "/end");
        hooks.ended(c.s.agentserviceid);
        return true;
      },
    });
  });

  $("act-block").addEventListener("click", () => {
    const c = hooks.current();
    if (!c || c.ended) return;
    const hours = h("input", { type: "number", id: "block-hours", min: "1", max: "8760", value: "24", required: true });
    const reason = h("input", { id: "block-reason", maxlength: "255" });
    modal({
      id: "block-dialog",
      title: t().blockTitle,
      t: t(),
      submit: t().blacklist,
      body: [field(t().blockHours, hours), field(t().blockReason, reason)],
      onSubmit: async () => {
        await app.api("POST", "/blacklist", { appid: c.s.appid, userid: c.s.userid, hours: Math.round(Number(hours.value)), reason: reason.value });
        hooks.ended(c.s.agentserviceid);
        app.toast(t().blocked);
        return true;
      },
    });
  });

  $("online-button").addEventListener("click", async () => {
    const tt = t();
    const list = h("ul", { class: "online-list", id: "online-list" });
    const message = h("input", { id: "invite-message", maxlength: "500" });
    modal({ id: "online-dialog", title: tt.onlineVisitors, t: tt, body: [field(tt.inviteMessage, message), list] });
    try {
      const vs = await app.api<{ appid: string; userid: string; nickname: string; url: string; title: string; since: string; chatting: boolean }[]>("GET", "/visitors/online");
      for (const v of Array.isArray(vs) ? vs : []) {
        const b = h("button", { type: "button", class: "small", text: tt.invite, disabled: !!v.chatting });
        b.addEventListener("click", async () => {
          b.disabled = true;
          try {
            await app.api("POST", `/visitors/${encodeURIComponent(v.appid)}/${encodeURIComponent(v.userid)}/invite`, { message: message.value });
            app.toast(tt.invited);
          } catch (e) {
            b.disabled = false;
            app.toast(tt.error(tt.errSend) + errorText(e), true);
          }
        });
        list.appendChild(h("li", { class: "online-item" },
          h("span", { class: "online-who" }, h("strong", { text: str(v.nickname) || tt.visitor + " " + str(v.userid).slice(0, 6) }),
            h("span", { class: "muted small", text: " " + (v.chatting ? tt.chatting + " · " : "") + formatTime(str(v.since)) })),
          pageLink(str(v.title), str(v.url)), b));
      }
      if (!list.firstChild) list.appendChild(h("li", { class: "muted", text: tt.noOnline }));
    } catch (e) {
      list.appendChild(h("li", { class: "error", text: tt.error(tt.errLoad) + errorText(e) }));
    }
  });

  return {
    show(c) {
      if (c && c === shown) return;
      shown = c;
      data = null;
      body.textContent = "";
      if (c) void load(c);
      else body.appendChild(h("p", { class: "empty", text: t().pickConversation }));
    },
    relabel() {
      render();
    },
  };
}
