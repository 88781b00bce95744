// Quality review: a supervisor scores an ended conversation against the tenant's checklist; the
// agent sees its reviews; admins edit the checklist. Reviewers' comments and item names are
// text from colleagues: shown with textContent only.

import { ApiError, errorText } from "../common";
import { h } from "../widget/dom";
import { archiveStrings, dateTime } from "./archive-i18n";
import { App, modal, sessionPath, str } from "./ui";

export interface ChecklistItem {
  id: string;
  name: string;
  weight: number;
}

export interface ReviewLine {
  item: string;
  name: string;
  weight: number;
  score: number;
}

export interface Review {
  agentserviceid: string;
  agentno: string;
  reviewer: string;
  reviewername: string;
  score: number;
  items: ReviewLine[];
  comment: string;
  createtime: string;
  updatetime: string;
}

/** What mountReview knows of the conversation, to offer scoring only where it is allowed. */
export interface ReviewTarget {
  agentno: string;
  ended: boolean;
}

/** The score as the server computes it: 100 × Σ(weight × score) / (5 × Σ weight), one decimal. */
export function totalScore(lines: { weight: number; score: number }[]): number {
  let sum = 0;
  let most = 0;
  for (const l of lines) {
    sum += l.weight * l.score;
    most += 5 * l.weight;
  }
  return most ? Math.round((1000 * sum) / most) / 10 : 0;
}

const scoreText = (n: number) => (Math.round(n * 10) / 10).toFixed(1);

/**
 * Shows the review of conversation `sessionId` in `el` to whoever may read it, and, to a
 * supervisor with the write right on a chat served by someone else (`target`), a form to score
 * it or score it again. `onChange` runs after a save.
 */
export function mountReview(app: App, el: HTMLElement, sessionId: string, onChange?: () => void, target?: ReviewTarget): void {
  const tt = archiveStrings();
  const path = sessionPath(sessionId) + "/review";
  const canScore = app.hasRight("write") && (!target || (target.ended && target.agentno !== "" && target.agentno !== app.me().id));
  el.textContent = "";
  el.classList.add("review-block");
  const body = h("div", { class: "review-body" });
  el.append(h("h4", { text: tt.review }), body);

  const show = (r: Review | null) => {
    body.textContent = "";
    if (r) {
      body.appendChild(h("p", { class: "review-total" }, h("strong", { class: "review-score", text: scoreText(r.score) }), h("span", { class: "muted", text: " / 100 " }),
        h("span", { class: "muted small", text: tt.reviewBy(str(r.reviewername), dateTime(r.updatetime || r.createtime)) })));
      const list = h("ul", { class: "review-items" });
      for (const l of Array.isArray(r.items) ? r.items : []) {
        list.appendChild(h("li", {}, h("span", { class: "review-item-name", text: str(l.name) }), h("span", { class: "muted small", text: " " + tt.weight(l.weight) }),
          h("span", { class: "review-dots", title: `${l.score}/5`, text: "●".repeat(l.score) + "○".repeat(Math.max(0, 5 - l.score)) + ` ${l.score}/5` })));
      }
      body.appendChild(list);
      if (str(r.comment)) body.appendChild(h("p", { class: "review-comment", text: str(r.comment) }));
    } else {
      body.appendChild(h("p", { class: "muted", text: tt.notReviewed }));
    }
    if (canScore) {
      const b = h("button", { type: "button", class: "small", id: "review-open", text: r ? tt.rescore : tt.scoreIt });
      b.addEventListener("click", () => void openForm(r));
      body.appendChild(b);
    }
  };

  const openForm = async (current: Review | null) => {
    let items: ChecklistItem[];
    try {
      items = await app.api<ChecklistItem[]>("GET", "/quality/items");
    } catch (e) {
      app.toast(tt.loadFailed + errorText(e), true);
      return;
    }
    body.textContent = "";
    if (!Array.isArray(items) || items.length === 0) {
      body.appendChild(h("p", { class: "muted", text: tt.noChecklist }));
      return;
    }
    const given = new Map((current ? current.items : []).map((l) => [l.item, l.score]));
    const form = h("form", { class: "review-form", id: "review-form" });
    const total = h("p", { class: "review-total", id: "review-total" });
    const selects: HTMLSelectElement[] = [];
    const update = () => (total.textContent = tt.total(scoreText(totalScore(items.map((it, i) => ({ weight: it.weight, score: Number(selects[i].value) }))))));
    items.forEach((it) => {
      const sel = h("select", { "data-item": it.id, class: "review-select" });
      for (let s = 5; s >= 0; s--) sel.appendChild(h("option", { value: String(s), text: String(s) }));
      sel.value = String(given.has(it.id) ? given.get(it.id) : 5);
      sel.addEventListener("change", update);
      selects.push(sel);
      form.appendChild(h("label", { class: "review-line" }, h("span", { class: "review-item-name", text: str(it.name) }), h("span", { class: "muted small", text: tt.weight(it.weight) }), sel));
    });
    const comment = h("textarea", { id: "review-comment", rows: "3", maxlength: "2000", "aria-label": tt.comment, placeholder: tt.comment });
    comment.value = current ? str(current.comment) : "";
    const save = h("button", { type: "submit", class: "primary small", id: "review-save", text: tt.saveReview });
    const cancel = h("button", { type: "button", class: "ghost small", text: tt.cancel });
    const error = h("p", { class: "error", role: "alert", hidden: true });
    cancel.addEventListener("click", () => show(current));
    form.append(comment, total, error, h("div", { class: "dialog-bar" }, cancel, save));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      save.disabled = true;
      error.hidden = true;
      try {
        const saved = await app.api<Review>("PUT", path, {
          scores: items.map((it, i) => ({ item: it.id, score: Number(selects[i].value) })),
          comment: comment.value,
        });
        app.toast(tt.reviewSaved);
        show(saved);
        if (onChange) onChange();
      } catch (e) {
        error.textContent = tt.saveFailed + errorText(e);
        error.hidden = false;
      } finally {
        save.disabled = false;
      }
    });
    update();
    body.appendChild(form);
  };

  body.appendChild(h("p", { class: "muted", text: tt.loading }));
  app.api<Review>("GET", path).then(
    (r) => el.isConnected && show(r),
    (e) => {
      if (!el.isConnected) return;
      if (e instanceof ApiError && e.status === 404) show(null);
      else body.replaceChildren(h("p", { class: "error", text: tt.loadFailed + errorText(e) }));
    },
  );
}

/** The admins' checklist editor: items in order, each with a name and a weight. */
export function checklistDialog(app: App): void {
  const tt = archiveStrings();
  const rows = h("ol", { class: "checklist-rows", id: "checklist-rows" });
  const add = h("button", { type: "button", class: "small", id: "checklist-add", text: tt.addItem });
  const rowOf = (it: Partial<ChecklistItem>) => {
    const name = h("input", { class: "checklist-name", maxlength: "128", "aria-label": tt.itemName, placeholder: tt.itemName });
    name.value = str(it.name);
    const weight = h("input", { class: "checklist-weight", type: "number", min: "1", max: "100", "aria-label": tt.itemWeight });
    weight.value = String(it.weight || 1);
    const li = h("li", { class: "checklist-row", "data-id": it.id || "" });
    const btn = (text: string, label: string, fn: () => void) => {
      const b = h("button", { type: "button", class: "ghost small", title: label, "aria-label": label, text });
      b.addEventListener("click", fn);
      return b;
    };
    li.append(name, weight,
      btn("↑", tt.moveUp, () => li.previousElementSibling && rows.insertBefore(li, li.previousElementSibling)),
      btn("↓", tt.moveDown, () => li.nextElementSibling && rows.insertBefore(li.nextElementSibling, li)),
      btn("✕", tt.remove, () => li.remove()));
    rows.appendChild(li);
    return name;
  };
  add.addEventListener("click", () => rowOf({}).focus());
  const m = modal({
    id: "checklist-dialog",
    title: tt.checklistTitle,
    t: app.t(),
    submit: tt.save,
    body: [h("p", { class: "muted small", text: tt.checklistHint }), h("div", { class: "checklist-head" }, h("span", { text: tt.itemName }), h("span", { text: tt.itemWeight })), rows, add],
    onSubmit: async () => {
      const items = Array.from(rows.querySelectorAll<HTMLLIElement>("li.checklist-row")).map((li, i) => {
        const name = li.querySelector<HTMLInputElement>(".checklist-name")!.value.trim();
        if (!name) throw new Error(tt.needName(i + 1));
        const item: Partial<ChecklistItem> = { name, weight: Math.round(Number(li.querySelector<HTMLInputElement>(".checklist-weight")!.value)) || 1 };
        if (li.dataset.id) item.id = li.dataset.id;
        return item;
      });
      await app.api("PUT", "/admin/quality/items", { items });
      app.toast(tt.checklistSaved);
      return true;
    },
  });
  app.api<ChecklistItem[]>("GET", "/quality/items").then(
    (items) => (Array.isArray(items) ? items : []).forEach((it) => rowOf(it)),
    (e) => {
      m.error.textContent = tt.loadFailed + errorText(e);
      m.error.hidden = false;
    },
  );
}

interface ListedReview extends Review {
  agentname: string;
  endtime: string;
  session: { agentserviceid: string; nickname?: string; name?: string; userid?: string };
}

/**
 * The reviews the caller may see — an agent its own ("My reviews"), a supervisor its scope's —
 * newest first, in `el`; choosing one calls `onOpen` with its conversation.
 */
export function createReviewList(app: App, el: HTMLElement, onOpen: (sessionId: string) => void): { load(): void; reset(): void } {
  let next = "";
  let loadSeq = 0;
  const tbody = h("tbody", { id: "reviews-body" });
  const more = h("button", { type: "button", class: "small", id: "reviews-more", hidden: true });
  const empty = h("p", { class: "empty", hidden: true });
  const head = h("tr");
  el.textContent = "";
  el.append(h("div", { class: "archive-scroll" }, h("table", { class: "archive-table", id: "reviews-table" }, h("thead", {}, head), tbody)), empty, h("div", { class: "archive-pager" }, more));

  const fetchPage = async (append: boolean) => {
    const mine = ++loadSeq;
    const tt = archiveStrings();
    try {
      const page = await app.api<{ items: ListedReview[]; next: string }>("GET", "/quality/reviews?limit=50" + (append && next ? "&before=" + encodeURIComponent(next) : ""));
      if (mine !== loadSeq) return;
      if (!append) tbody.textContent = "";
      for (const r of Array.isArray(page.items) ? page.items : []) {
        const s = r.session || { agentserviceid: r.agentserviceid };
        const open = h("button", { type: "button", class: "link", text: str(s.nickname) || str(s.name) || tt.unknownVisitor });
        open.addEventListener("click", () => onOpen(r.agentserviceid));
        tbody.appendChild(h("tr", { "data-id": r.agentserviceid },
          h("td", { text: dateTime(r.createtime) }), h("td", {}, open), h("td", { text: str(r.agentname) }),
          h("td", { class: "num", text: scoreText(r.score) }), h("td", { text: str(r.reviewername) }), h("td", { text: dateTime(r.endtime) })));
      }
      next = str(page.next);
      more.hidden = !next;
      empty.hidden = tbody.childElementCount > 0;
    } catch (e) {
      if (mine !== loadSeq) return;
      empty.hidden = false;
      empty.textContent = tt.loadFailed + errorText(e);
    }
  };
  more.addEventListener("click", () => void fetchPage(true));

  return {
    load() {
      const tt = archiveStrings();
      head.replaceChildren(...[tt.colReviewed, tt.colVisitor, tt.colAgent, tt.colScore, tt.colReviewer, tt.colEnded].map((c) => h("th", { text: c })));
      more.textContent = tt.more;
      empty.textContent = tt.noReviews;
      next = "";
      void fetchPage(false);
    },
    reset() {
      loadSeq++;
      tbody.textContent = "";
      next = "";
    },
  };
}
