// The left-message inbox: messages to handle and handled ones, a reply note, marking handled,
// and the live `leavemsg` notice (the list refreshes, the tab shows a count, a notification when
// the page is hidden).

import { $, errorText } from "../common";
import { formatTime, h } from "../widget/dom";
import { App, row, str } from "./ui";

interface LeaveMessage {
  id: string;
  appid: string;
  userid: string;
  name: string;
  phone: string;
  email: string;
  content: string;
  status: string;
  note: string;
  createtime: string;
  handledat?: string | null;
}

export interface Inbox {
  refresh(): Promise<void>;
  reset(): void;
  relabel(): void;
  pending(): number;
  onNotice(n: { id?: string; name?: string; createtime?: string }): void;
}

type Filter = "notprocess" | "processed";

export function createInbox(app: App, hooks: { onCount(): void }): Inbox {
  const root = $("tab-inbox");
  const t = () => app.t();
  let filter: Filter = "notprocess";
  let items: LeaveMessage[] = [];
  let selectedId = "";
  let pendingCount = 0;
  let loadSeq = 0;

  const title = h("h2", {});
  const filters = h("div", { class: "segmented", role: "tablist" });
  const listBox = h("ul", { class: "inbox-list", id: "inbox-list" });
  const detail = h("section", { class: "inbox-detail", id: "inbox-detail" });
  root.append(h("aside", { class: "inbox-side" }, h("header", { class: "pane-head" }, title), filters, listBox), detail);

  function drawFrame(): void {
    title.textContent = t().inboxTitle;
    filters.textContent = "";
    for (const f of ["notprocess", "processed"] as Filter[]) {
      const b = h("button", { type: "button", role: "tab", "data-filter": f, "aria-selected": String(f === filter), text: f === "notprocess" ? t().notProcessed : t().processed });
      b.addEventListener("click", () => {
        filter = f;
        selectedId = "";
        drawFrame();
        void load();
      });
      filters.appendChild(b);
    }
  }

  async function load(): Promise<void> {
    const mine = ++loadSeq;
    try {
      const ms = await app.api<LeaveMessage[]>("GET", "/leavemsgs?status=" + filter);
      if (mine !== loadSeq) return;
      items = Array.isArray(ms) ? ms : [];
      if (filter === "notprocess") {
        pendingCount = items.length;
        hooks.onCount();
      }
      draw();
    } catch (e) {
      if (mine !== loadSeq) return;
      listBox.textContent = "";
      listBox.appendChild(h("li", { class: "error", text: t().error(t().errLoad) + errorText(e) }));
    }
  }

  function draw(): void {
    listBox.textContent = "";
    for (const m of items) {
      const b = h("button", { type: "button", class: "inbox-button" },
        h("span", { class: "conv-top" }, h("strong", { class: "conv-name", text: str(m.name) || str(m.phone) || str(m.email) }),
          h("time", { class: "conv-time", text: formatTime(str(m.createtime)) })),
        h("span", { class: "conv-preview", text: str(m.content) }));
      b.addEventListener("click", () => {
        selectedId = m.id;
        draw();
      });
      listBox.appendChild(h("li", { class: "inbox-item" + (m.id === selectedId ? " selected" : ""), "data-id": m.id }, b));
    }
    if (!items.length) listBox.appendChild(h("li", { class: "empty", text: t().inboxNone }));
    drawDetail();
  }

  function drawDetail(): void {
    detail.textContent = "";
    const m = items.find((x) => x.id === selectedId);
    if (!m) {
      detail.appendChild(h("p", { class: "empty center", text: t().inboxPick }));
      return;
    }
    const tt = t();
    detail.appendChild(h("h3", { text: str(m.name) || tt.visitor }));
    const dl = h("dl", { class: "facts" });
    row(dl, tt.phone, str(m.phone));
    row(dl, tt.email, str(m.email));
    row(dl, tt.site, str(m.appid));
    detail.appendChild(dl);
    detail.appendChild(h("time", { class: "muted small", text: formatTime(str(m.createtime)) }));
    detail.appendChild(h("p", { class: "leave-content", id: "inbox-content", text: str(m.content) }));
    const note = h("textarea", { id: "inbox-note", rows: "4", maxlength: "2000", "aria-label": tt.note, placeholder: tt.note });
    note.value = str(m.note);
    const saveNote = h("button", { type: "button", id: "inbox-save", text: tt.saveNote });
    const toggle = h("button", { type: "button", class: "primary", id: "inbox-handle", text: m.status === "processed" ? tt.reopen : tt.markProcessed });
    const save = async (body: { status?: string; note: string }) => {
      saveNote.disabled = toggle.disabled = true;
      try {
        const res = await app.api<LeaveMessage>("PUT", "/leavemsgs/" + encodeURIComponent(m.id), body);
        Object.assign(m, res);
        app.toast(tt.handledSaved);
        if (body.status) {
          selectedId = "";
          await load();
        } else drawDetail();
      } catch (e) {
        app.toast(tt.error(tt.errSave) + errorText(e), true);
      } finally {
        saveNote.disabled = toggle.disabled = false;
      }
    };
    saveNote.addEventListener("click", () => void save({ note: note.value }));
    toggle.addEventListener("click", () => void save({ status: m.status === "processed" ? "notprocess" : "processed", note: note.value }));
    detail.appendChild(h("label", { for: "inbox-note", class: "label", text: tt.note }));
    detail.appendChild(note);
    detail.appendChild(h("div", { class: "dialog-bar" }, saveNote, toggle));
  }

  drawFrame();

  return {
    refresh: load,
    reset() {
      items = [];
      selectedId = "";
      pendingCount = 0;
      listBox.textContent = "";
      detail.textContent = "";
    },
    relabel() {
      drawFrame();
      draw();
    },
    pending: () => pendingCount,
    onNotice(n) {
      const name = n && str(n.name);
      app.alert(t().newLeaveMessage(name), "", "kefu-leavemsg-" + str(n && n.id));
      if (filter === "notprocess") void load();
      else {
        pendingCount++;
        hooks.onCount();
      }
    },
  };
}
