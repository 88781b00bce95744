// Enterprise IM (agent-to-agent chat over /im/entim) inside the workbench.
// The workbench mounts it once after login into its IM tab and hears the
// total unread count through onUnread.

import io from "socket.io-client";
import { ACK_TIMEOUT_MS, ackErrorText, el, emitAck, errorText, randomId } from "../common";
import type { Socket } from "../common";
import { EntimApi, keyOf, targetOf } from "./entim-api";
import type { Contact, Group, IMMessage, Target } from "./entim-api";
import { avatar, icon } from "./entim-dom";
import { openGroupDialog } from "./entim-group";
import { entimStrings, localeOf } from "./entim-i18n";
import type { EntimStrings } from "./entim-i18n";
import { ConvLog } from "./entim-log";
import type { Row } from "./entim-log";
import { Sidebar } from "./entim-sidebar";

export interface EntimOptions {
  token: string;
  me: { id: string; nickname: string };
  lang: "en" | "zh-CN";
  // Total unread entim messages (1:1 and groups) whenever it changes.
  onUnread(total: number): void;
}

export interface EntimHandle {
  // The IM tab became visible (the open conversation may be marked read) or hidden
  // (also when the browser tab is hidden: the workbench tells).
  setVisible(visible: boolean): void;
  // Logout: close the socket and clear the panel.
  close(): void;
}

export function mountEntim(root: HTMLElement, opts: EntimOptions): EntimHandle {
  const panel = new Entim(root, opts);
  return { setVisible: (v) => panel.setVisible(v), close: () => panel.close() };
}

/** Messages per history page. */
const PAGE = 30;
/** Message ids remembered for deduplication of conversations not loaded yet. */
const SEEN_MAX = 2000;
/** The server's limit on a message (protocol.MaxIMText). */
const MAX_TEXT = 2000;

class Entim {
  private t: EntimStrings;
  private locale: string;
  private api: EntimApi;
  private socket: Socket;
  private contacts = new Map<string, Contact>();
  private groups = new Map<string, Group>();
  private logs = new Map<string, ConvLog>();
  private drafts = new Map<string, string>();
  private seen = new Set<string>();
  private open: Target | null = null;
  private visible = false;
  private stopped = false;
  private everConnected = false;
  private refreshing = false;
  private refreshAgain = false;
  /** Presence heard while a contacts request is out: newer than its answer. */
  private presenceMeanwhile: Map<string, boolean> | null = null;
  private lastTotal = -1;

  private wrap: HTMLDivElement;
  private banner: HTMLParagraphElement;
  private sidebar: Sidebar;
  private conv: HTMLElement;
  private head: HTMLElement;
  private headPic: HTMLSpanElement;
  private headTitle: HTMLHeadingElement;
  private headSub: HTMLSpanElement;
  private body: HTMLDivElement;
  private empty: HTMLDivElement;
  private composer: HTMLFormElement;
  private input: HTMLTextAreaElement;
  private sendButton: HTMLButtonElement;

  constructor(private root: HTMLElement, private opts: EntimOptions) {
    this.t = entimStrings(opts.lang);
    this.locale = localeOf(opts.lang);
    this.api = new EntimApi(opts.token);
    const t = this.t;

    this.sidebar = new Sidebar(t, { pick: (target) => this.openConversation(target), newGroup: () => this.newGroup() });

    this.banner = el("p", "entim-banner", t.connecting);
    this.banner.setAttribute("role", "status");

    this.head = el("header", "entim-conv-head");
    this.headPic = el("span", "entim-avatar-wrap");
    const titles = el("div", "entim-conv-titles");
    this.headTitle = el("h2", "entim-conv-title");
    this.headSub = el("span", "entim-conv-sub");
    titles.append(this.headTitle, this.headSub);
    this.head.append(this.headPic, titles);

    this.empty = el("div", "entim-placeholder");
    const art = el("div", "entim-placeholder-art");
    art.appendChild(icon("chat"));
    this.empty.append(art, el("h2", "entim-placeholder-title", t.emptyTitle), el("p", "entim-placeholder-hint", t.emptyHint));
    this.body = el("div", "entim-conv-body");
    this.body.appendChild(this.empty);

    this.composer = el("form", "entim-composer");
    this.input = el("textarea", "entim-input entim-compose");
    this.input.rows = 1;
    this.input.maxLength = MAX_TEXT;
    this.input.setAttribute("aria-label", t.message);
    this.sendButton = el("button", "entim-send");
    this.sendButton.type = "submit";
    this.sendButton.title = t.send;
    this.sendButton.setAttribute("aria-label", t.send);
    this.sendButton.appendChild(icon("send"));
    const row = el("div", "entim-compose-row");
    row.append(this.input, this.sendButton);
    this.composer.append(row, el("p", "entim-compose-hint", t.composeHint));
    this.composer.addEventListener("submit", (e) => {
      e.preventDefault();
      this.send();
    });
    this.input.addEventListener("keydown", (e) => {
      // Enter sends; Shift+Enter is a new line; Enter that ends an IME composition is not a send.
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        this.send();
      }
    });
    this.input.addEventListener("input", () => this.autosize());

    this.conv = el("section", "entim-conv");
    this.conv.append(this.head, this.body, this.composer);
    this.showConversationChrome(false);

    const main = el("div", "entim-main");
    main.append(this.sidebar.root, this.conv);
    this.wrap = el("div", "entim");
    this.wrap.lang = this.locale;
    this.wrap.append(this.banner, main);
    root.textContent = "";
    root.appendChild(this.wrap);

    this.socket = this.connect();
    this.refresh();
    this.publishTotal();
  }

  // ------------------------------------------------------------ lifecycle

  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    if (!visible || this.stopped) return;
    // While hidden the log had no size to scroll in: put it back where the agent left it.
    const log = this.currentLog();
    if (log) log.attached();
    // Counts may have moved while hidden (a dropped `read`, a missed message): the server's are the truth.
    this.refresh();
    this.maybeRead();
  }

  close(): void {
    this.stop("");
    this.root.textContent = "";
    this.contacts.clear();
    this.groups.clear();
    this.logs.clear();
    this.publishTotal();
  }

  /** The socket ends for good (logout, disabled, refused): say why, keep what is shown. */
  private stop(why: string): void {
    this.stopped = true;
    this.socket.close();
    this.setBanner(why);
    this.input.disabled = true;
    this.sendButton.disabled = true;
  }

  private connect(): Socket {
    // A manager of its own: the workbench's /im/agent socket has its own handshake and lifetime.
    const s = io(location.origin + "/im/entim", { forceNew: true, query: { token: this.opts.token } });
    s.on("connect", () => {
      if (this.stopped) return;
      this.setBanner("");
      // Back after a drop: what happened meanwhile (presence, messages, unread) comes from REST.
      if (this.everConnected) this.resync();
      this.everConnected = true;
    });
    s.on("disconnect", (reason: string) => {
      if (this.stopped) return;
      // The server ends the IM sockets of a login that ends; the client does not come back by itself.
      if (reason === "io server disconnect") this.stop(this.t.signedOut);
      else this.setBanner(this.t.reconnecting);
    });
    s.on("error", (err: unknown) => {
      if (this.stopped) return;
      const e = err as { message?: string } | string;
      this.setBanner(this.t.refused + (typeof e === "string" ? e : (e && e.message) || ""));
    });
    s.on("leave", () => this.stop(this.t.signedOut));
    s.on("status", (p: { userid?: string; online?: boolean }) => this.presence(p));
    s.on("message", (m: IMMessage) => this.incoming(m));
    s.on("read", (r: { with?: string; group?: string }) => this.readElsewhere(r));
    return s;
  }

  private setBanner(text: string): void {
    this.banner.textContent = text;
    this.banner.hidden = text === "";
  }

  // ------------------------------------------------------------ contacts and unread

  /** (Re)loads contacts, groups and unread counts; calls made while one is out run once after it. */
  private refresh(): void {
    if (this.refreshing) {
      this.refreshAgain = true;
      return;
    }
    this.refreshing = true;
    this.presenceMeanwhile = new Map();
    this.api.contacts().then(
      (res) => {
        const meanwhile = this.presenceMeanwhile || new Map<string, boolean>();
        this.contacts = new Map((res.contacts || []).map((c) => [c.id, { ...c, online: meanwhile.get(c.id) ?? c.online }]));
        this.groups = new Map((res.groups || []).map((g) => [g.id, { ...g }]));
        for (const log of this.logs.values()) log.redrawNames();
      },
      (err) => {
        if (!this.stopped) this.setBanner(this.t.loadFailed + errorText(err));
      },
    ).then(() => {
      this.refreshing = false;
      this.presenceMeanwhile = null;
      if (this.stopped) return;
      this.renderSide();
      this.maybeRead();
      if (this.refreshAgain) {
        this.refreshAgain = false;
        this.refresh();
      }
    });
  }

  /** After a reconnect: contacts again, and every conversation held reloaded from its latest page. */
  private resync(): void {
    this.refresh();
    for (const [key, log] of this.logs) {
      log.reset();
      if (this.open && keyOf(this.open) === key) this.load(this.open, log, false);
    }
  }

  private presence(p: { userid?: string; online?: boolean }): void {
    if (!p || typeof p.userid !== "string" || typeof p.online !== "boolean") return;
    if (this.presenceMeanwhile) this.presenceMeanwhile.set(p.userid, p.online);
    const c = this.contacts.get(p.userid);
    if (c) {
      c.online = p.online;
      this.renderSide();
    } else if (p.userid !== this.opts.me.id && !this.refreshing) {
      this.refresh(); // a colleague we did not know yet
    }
  }

  private renderSide(): void {
    const coll = new Intl.Collator(this.locale);
    const contacts = Array.from(this.contacts.values()).sort(
      (a, b) => Number(b.online) - Number(a.online) || coll.compare(a.nickname, b.nickname),
    );
    const groups = Array.from(this.groups.values()).sort((a, b) => coll.compare(a.name, b.name));
    this.sidebar.render(contacts, groups, this.open ? keyOf(this.open) : null);
    this.renderHead();
    this.publishTotal();
  }

  private publishTotal(): void {
    let total = 0;
    for (const c of this.contacts.values()) total += c.unread || 0;
    for (const g of this.groups.values()) total += g.unread || 0;
    if (total === this.lastTotal) return;
    this.lastTotal = total;
    this.opts.onUnread(total);
  }

  private entry(t: Target): Contact | Group | undefined {
    return t.kind === "user" ? this.contacts.get(t.id) : this.groups.get(t.id);
  }

  private looking(): boolean {
    return this.visible && !this.stopped;
  }

  /** Marks the open conversation read when the agent can see it and it has unread messages. */
  private maybeRead(): void {
    if (!this.open || !this.looking()) return;
    const target = this.open;
    const e = this.entry(target);
    if (!e || !(e.unread > 0)) return;
    e.unread = 0;
    this.renderSide();
    this.api.read(target).catch(() => {
      // Not marked: the count comes back with the next contacts load.
    });
  }

  /** Another tab of this agent read a conversation: clear its count here too. */
  private readElsewhere(r: { with?: string; group?: string }): void {
    const target: Target | null = r && typeof r.group === "string" && r.group ? { kind: "group", id: r.group }
      : r && typeof r.with === "string" && r.with ? { kind: "user", id: r.with } : null;
    const e = target && this.entry(target);
    if (!e || !(e.unread > 0)) return;
    e.unread = 0;
    this.renderSide();
  }

  private nameOf(id: string): string {
    if (id === this.opts.me.id) return this.opts.me.nickname;
    const c = this.contacts.get(id);
    return c ? c.nickname : this.t.unknown;
  }

  // ------------------------------------------------------------ messages

  private incoming(m: IMMessage): void {
    if (!m || typeof m.id !== "string" || typeof m.from !== "string" || typeof m.message !== "string") return;
    const target = targetOf(m, this.opts.me.id);
    if (!target) return;
    const log = this.logs.get(keyOf(target));
    if (log) log.addLive(m);
    const dup = this.seen.has(m.id);
    this.remember(m.id);
    if (dup || m.from === this.opts.me.id) return;
    const e = this.entry(target);
    if (!e) {
      this.refresh(); // a group we were just added to, or a new colleague: the server counts it
      return;
    }
    e.unread = (e.unread || 0) + 1;
    if (this.open && keyOf(this.open) === keyOf(target)) this.maybeRead();
    this.renderSide();
  }

  private remember(id: string): void {
    this.seen.add(id);
    if (this.seen.size > SEEN_MAX) {
      const oldest = this.seen.values().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  private send(): void {
    const target = this.open;
    if (!target || this.stopped) return;
    const text = this.input.value;
    if (text.trim() === "") return;
    const clientid = randomId();
    const to = target.kind === "user" ? { touser: target.id } : { group: target.id };
    const row = this.logOf(target).addPending(text, { ...to, msgtype: "text", message: text, clientid });
    this.input.value = "";
    this.drafts.delete(keyOf(target));
    this.autosize();
    this.emit(this.logOf(target), row);
  }

  /** Sends (or resends, with the same clientid: the server stores it once) and applies the ack. */
  private emit(log: ConvLog, row: Row): void {
    log.setSending(row);
    type A = { id: string; createtime?: string };
    const apply = (ack: { ok: true } & A | { ok: false; error: { code: string; message: string } }) => {
      if (ack.ok) log.acked(row, ack.id, ack.createtime);
      else log.fail(row, ackErrorText(ack.error));
    };
    emitAck<A>(this.socket, "message", row.payload, ACK_TIMEOUT_MS, apply).then(apply, (err) => log.fail(row, errorText(err)));
  }

  // ------------------------------------------------------------ conversation pane

  private logOf(target: Target): ConvLog {
    const key = keyOf(target);
    let log = this.logs.get(key);
    if (!log) {
      const created: ConvLog = new ConvLog({
        me: this.opts.me.id,
        group: target.kind === "group",
        t: this.t,
        locale: this.locale,
        nameOf: (id) => this.nameOf(id),
        onRetry: (row) => {
          if (!this.stopped) this.emit(created, row);
        },
        onEarlier: () => this.load(target, created, true),
      });
      log = created;
      this.logs.set(key, log);
    }
    return log;
  }

  private currentLog(): ConvLog | undefined {
    return this.open ? this.logs.get(keyOf(this.open)) : undefined;
  }

  private load(target: Target, log: ConvLog, older: boolean): void {
    if (log.loading) return;
    const gen = log.generation;
    log.setLoading(true);
    this.api.messages(target, PAGE, older ? log.oldestPk : undefined).then(
      (page) => {
        if (gen !== log.generation) return;
        if (!Array.isArray(page)) page = [];
        for (const m of page) this.remember(m.id);
        log.addPage(page, PAGE);
      },
      (err) => {
        if (gen === log.generation) log.setLoading(false, errorText(err));
      },
    );
  }

  private openConversation(target: Target): void {
    if (this.open) {
      if (keyOf(this.open) === keyOf(target)) {
        this.input.focus();
        return;
      }
      this.drafts.set(keyOf(this.open), this.input.value);
    }
    this.open = target;
    const log = this.logOf(target);
    this.showConversationChrome(true);
    this.body.textContent = "";
    this.body.appendChild(log.box);
    log.attached();
    this.input.value = this.drafts.get(keyOf(target)) || "";
    this.autosize();
    if (!log.loaded) this.load(target, log, false);
    this.renderSide();
    this.maybeRead();
    if (!this.stopped) this.input.focus();
  }

  private showConversationChrome(on: boolean): void {
    this.head.hidden = !on;
    this.composer.hidden = !on;
    this.conv.classList.toggle("entim-conv-empty", !on);
  }

  private renderHead(): void {
    const target = this.open;
    if (!target) return;
    const e = this.entry(target);
    const name = !e ? this.t.unknown : "nickname" in e ? e.nickname : e.name;
    this.headTitle.textContent = name;
    this.headPic.textContent = "";
    this.headPic.appendChild(avatar(target.id, name, "md", target.kind === "group"));
    if (target.kind === "user") {
      const online = !!(e && "online" in e && e.online);
      const dot = el("span", "entim-dot");
      dot.dataset.online = String(online);
      this.headPic.appendChild(dot);
      this.headSub.textContent = online ? this.t.online : this.t.offline;
      this.headSub.dataset.online = String(online);
    } else {
      this.headSub.textContent = this.t.group;
      delete this.headSub.dataset.online;
    }
    this.input.placeholder = this.t.placeholder(name);
  }

  /** The composer grows with its text, up to a few lines (then it scrolls). */
  private autosize(): void {
    const box = this.input;
    box.style.height = "auto";
    // Out of view it has no height to measure: the stylesheet's then.
    box.style.height = box.scrollHeight ? Math.min(box.scrollHeight, 160) + "px" : "";
  }

  // ------------------------------------------------------------ groups

  private newGroup(): void {
    if (this.stopped) return;
    const coll = new Intl.Collator(this.locale);
    const colleagues = Array.from(this.contacts.values()).sort((a, b) => coll.compare(a.nickname, b.nickname));
    openGroupDialog(this.wrap, this.t, colleagues, (name, members) =>
      this.api.createGroup(name, members).then((g) => {
        if (!this.groups.has(g.id)) this.groups.set(g.id, { id: g.id, name: g.name, unread: 0 });
        this.openConversation({ kind: "group", id: g.id });
      }),
    );
  }
}
