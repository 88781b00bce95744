// The archive: ended conversations searched by filters and full text, their transcripts with
// events (archive-transcript.ts), the CSV export of a result list, and the quality reviews
// (quality.ts): the list of one's own or one's scope's, and the checklist for admins.

import { errorText } from "../common";
import { h } from "../widget/dom";
import type { ArchiveItem, ArchivePage } from "./archive-api";
import { ArchiveStrings, archiveStrings, dateTime, stars } from "./archive-i18n";
import { showTranscript, visitorName } from "./archive-transcript";
import { checklistDialog, createReviewList } from "./quality";
import { App, Part, str } from "./ui";

interface Named {
  id: string;
  name?: string;
  nickname?: string;
}

type View = "search" | "reviews";

const END_REASONS = ["agent", "supervisor", "user", "timeout", "queue", "system"];

export function createArchive(app: App, root: HTMLElement): Part {
  let tt: ArchiveStrings = archiveStrings();
  let started = false;
  let view: View = "search";
  let cursors = [""]; // the before of each page seen; the last one shown is cursors[pageIndex]
  let pageIndex = 0;
  let next = "";
  let items: ArchiveItem[] = [];
  let selected = "";
  let loadSeq = 0;
  let skills: Named[] = [];
  let agents: Named[] = [];
  let tags: Named[] = [];

  // ------------------------------------------------------------ frame

  const viewTabs = h("div", { class: "segmented", role: "tablist", id: "archive-views" });
  const checklistButton = h("button", { type: "button", class: "small", id: "archive-checklist" });
  checklistButton.addEventListener("click", () => checklistDialog(app));
  const input = (id: string, type = "text") => h("input", { id, type, autocomplete: "off" });
  const from = input("archive-from", "date");
  const to = input("archive-to", "date");
  const q = input("archive-q", "search");
  q.maxLength = 200;
  const visitor = input("archive-visitor");
  const site = input("archive-site");
  const group = h("select", { id: "archive-skill" });
  const agent = h("select", { id: "archive-agent" });
  const tag = h("select", { id: "archive-tag" });
  const rating = h("select", { id: "archive-rating" });
  const endby = h("select", { id: "archive-endby" });
  const reviewed = h("select", { id: "archive-reviewed" });
  const go = h("button", { type: "submit", class: "primary", id: "archive-search" });
  const clear = h("button", { type: "button", id: "archive-clear" });
  const exportButton = h("button", { type: "button", id: "archive-export" });
  const form = h("form", { class: "archive-filters", id: "archive-filters" });
  const labels = new Map<HTMLElement, HTMLElement>();
  const cell = (control: HTMLElement, wide = false) => {
    const label = h("label", { for: control.id });
    labels.set(control, label);
    return h("div", { class: "archive-field" + (wide ? " wide" : "") }, label, control);
  };
  const agentCell = cell(agent);
  form.append(
    cell(q, true), cell(from), cell(to), cell(visitor), cell(site), cell(group), agentCell, cell(tag), cell(rating), cell(endby), cell(reviewed),
    h("div", { class: "archive-actions" }, go, clear, exportButton),
  );
  const head = h("tr");
  const tbody = h("tbody", { id: "archive-body" });
  const empty = h("p", { class: "empty", id: "archive-empty", hidden: true });
  const newer = h("button", { type: "button", class: "small", id: "archive-newer" });
  const older = h("button", { type: "button", class: "small", id: "archive-older" });
  const pageLabel = h("span", { class: "muted small", id: "archive-page" });
  const searchView = h("div", { class: "archive-view", id: "archive-search-view" }, form,
    h("div", { class: "archive-scroll" }, h("table", { class: "archive-table", id: "archive-table" }, h("thead", {}, head), tbody)), empty,
    h("div", { class: "archive-pager" }, newer, pageLabel, older));
  const reviewsView = h("div", { class: "archive-view", id: "archive-reviews-view", hidden: true });
  const reviewList = createReviewList(app, reviewsView, (id) => select(id));
  const detail = h("aside", { class: "archive-detail", id: "archive-detail" });
  root.append(h("div", { class: "archive-main" }, h("header", { class: "pane-head archive-head" }, viewTabs, h("span", { class: "spacer" }), checklistButton), searchView, reviewsView), detail);

  function drawFrame(): void {
    tt = archiveStrings();
    viewTabs.textContent = "";
    for (const v of ["search", "reviews"] as View[]) {
      const b = h("button", { type: "button", role: "tab", "data-view": v, "aria-selected": String(v === view),
        text: v === "search" ? tt.search : app.hasRight("read") ? tt.reviews : tt.myReviews });
      b.addEventListener("click", () => showView(v));
      viewTabs.appendChild(b);
    }
    checklistButton.textContent = tt.checklist;
    checklistButton.hidden = !app.me().roles.includes("admin");
    const text: [HTMLElement, string][] = [[q, tt.text], [from, tt.from], [to, tt.to], [visitor, tt.visitor], [site, tt.site], [group, tt.group],
      [agent, tt.agent], [tag, tt.tag], [rating, tt.rating], [endby, tt.endBy], [reviewed, tt.reviewed]];
    for (const [control, label] of text) labels.get(control)!.textContent = label;
    q.placeholder = tt.textPlaceholder;
    visitor.placeholder = tt.visitorPlaceholder;
    site.placeholder = tt.sitePlaceholder;
    options(group, skills.map((g) => [g.id, str(g.name)]));
    options(agent, agents.map((a) => [a.id, str(a.nickname)]));
    options(tag, tags.map((t) => [t.id, str(t.name)]));
    options(rating, [["5", stars(5)], ["4", stars(4)], ["3", stars(3)], ["2", stars(2)], ["1", stars(1)], ["none", tt.none]]);
    options(endby, END_REASONS.map((r) => [r, tt.endReason[r]]));
    options(reviewed, [["yes", tt.yes], ["no", tt.no]]);
    agentCell.hidden = !app.hasRight("read"); // an agent's archive is its own chats
    go.textContent = tt.go;
    clear.textContent = tt.clear;
    exportButton.textContent = tt.exportCSV;
    newer.textContent = tt.newer;
    older.textContent = tt.older;
    empty.textContent = tt.noResults;
    head.replaceChildren(h("th", { text: tt.colEnded }), h("th", { text: tt.colVisitor }), h("th", { class: "col-site", text: tt.colSite }), h("th", { text: tt.colAgent }),
      h("th", { class: "col-group", text: tt.colGroup }), h("th", { class: "col-endby", text: tt.colEndBy }), h("th", { text: tt.colRating }), h("th", { text: tt.colTags }),
      h("th", { class: "num", text: tt.colScore }), h("th", { class: "num", text: tt.colMessages }));
  }

  /** Refills a select, "any" first, keeping its value. */
  function options(sel: HTMLSelectElement, list: [string, string][]): void {
    const keep = sel.value;
    sel.replaceChildren(h("option", { value: "", text: tt.any }), ...list.map(([v, label]) => h("option", { value: v, text: label })));
    sel.value = list.some(([v]) => v === keep) ? keep : "";
  }

  function showView(v: View): void {
    view = v;
    searchView.hidden = v !== "search";
    reviewsView.hidden = v !== "reviews";
    viewTabs.querySelectorAll("button").forEach((b) => b.setAttribute("aria-selected", String(b.dataset.view === v)));
    if (v === "reviews") reviewList.load();
  }

  // ------------------------------------------------------------ search

  /** A date input's day in the browser's zone, plus `days`, as an instant. */
  const day = (value: string, days = 0) => {
    const [y, m, d] = value.split("-").map(Number);
    return new Date(y, m - 1, d + days).toISOString();
  };

  function params(): URLSearchParams {
    const p = new URLSearchParams();
    if (from.value) p.set("from", day(from.value));
    if (to.value) p.set("to", day(to.value, 1));
    const fields: [string, HTMLInputElement | HTMLSelectElement][] = [["q", q], ["visitor", visitor], ["appid", site], ["skill", group], ["agent", agent],
      ["tag", tag], ["rating", rating], ["endby", endby], ["reviewed", reviewed]];
    for (const [name, control] of fields) if (control.value.trim()) p.set(name, control.value.trim());
    return p;
  }

  async function load(): Promise<void> {
    const mine = ++loadSeq;
    const p = params();
    if (cursors[pageIndex]) p.set("before", cursors[pageIndex]);
    p.set("limit", "50");
    root.setAttribute("aria-busy", "true");
    try {
      const page = await app.api<ArchivePage>("GET", "/archive?" + p.toString());
      if (mine !== loadSeq) return;
      items = Array.isArray(page.items) ? page.items : [];
      next = str(page.next);
      drawRows();
    } catch (e) {
      if (mine !== loadSeq) return;
      items = [];
      next = "";
      drawRows();
      empty.textContent = tt.loadFailed + errorText(e);
    } finally {
      if (mine === loadSeq) root.removeAttribute("aria-busy");
    }
  }

  function drawRows(): void {
    tbody.textContent = "";
    const tagName = (id: string) => str(tags.find((x) => x.id === id)?.name);
    for (const it of items) {
      const open = h("button", { type: "button", class: "link", text: dateTime(it.endtime) });
      const tr = h("tr", { "data-id": it.agentserviceid, class: it.agentserviceid === selected ? "selected" : undefined },
        h("td", {}, open), h("td", { class: "archive-visitor", text: visitorName(it) }), h("td", { class: "col-site", text: str(it.appid) }), h("td", { text: str(it.agentname) }),
        h("td", { class: "col-group", text: str(it.skillname) }), h("td", { class: "col-endby", text: tt.endReason[str(it.endby)] || str(it.endby) }),
        h("td", { class: "stars", text: stars(it.rating || 0) }), h("td", { text: (Array.isArray(it.tags) ? it.tags : []).map(tagName).sort().join(", ") }),
        h("td", { class: "num", text: typeof it.score === "number" ? it.score.toFixed(1) : "" }), h("td", { class: "num", text: String(it.messages || 0) }));
      tr.addEventListener("click", () => select(it.agentserviceid));
      tbody.appendChild(tr);
    }
    empty.hidden = items.length > 0;
    empty.textContent = tt.noResults;
    newer.disabled = pageIndex === 0;
    older.disabled = !next;
    pageLabel.textContent = tt.page(pageIndex + 1);
  }

  function search(): void {
    cursors = [""];
    pageIndex = 0;
    void load();
  }

  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    search();
  });
  clear.addEventListener("click", () => {
    form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select").forEach((c) => (c.value = ""));
    defaultRange();
    search();
  });
  older.addEventListener("click", () => {
    if (!next) return;
    cursors = cursors.slice(0, pageIndex + 1).concat(next);
    pageIndex++;
    void load();
  });
  newer.addEventListener("click", () => {
    if (pageIndex === 0) return;
    pageIndex--;
    void load();
  });

  function defaultRange(): void {
    const iso = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
    const today = new Date();
    to.value = iso(today);
    from.value = iso(new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6));
  }

  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    exportButton.textContent = tt.exporting;
    try {
      await app.download("/archive/export.csv?" + params().toString(), "kefu-archive.csv");
      app.toast(tt.exported);
    } catch (e) {
      app.toast(tt.loadFailed + errorText(e), true);
    } finally {
      exportButton.disabled = false;
      exportButton.textContent = tt.exportCSV;
    }
  });

  // ------------------------------------------------------------ detail

  function select(id: string): void {
    selected = id;
    tbody.querySelectorAll("tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === id));
    detail.dataset.id = id;
    root.classList.add("has-detail");
    void showTranscript(app, detail, id, {
      tagName: (t) => str(tags.find((x) => x.id === t)?.name),
      onReviewed: () => (view === "search" ? void load() : reviewList.load()),
      onClose: closeDetail,
    });
  }

  function closeDetail(): void {
    selected = "";
    delete detail.dataset.id;
    root.classList.remove("has-detail");
    detail.textContent = "";
    tbody.querySelectorAll("tr.selected").forEach((tr) => tr.classList.remove("selected"));
  }

  async function start(): Promise<void> {
    started = true;
    defaultRange();
    const list = <T>(path: string) => app.api<T[]>("GET", path).then((v) => (Array.isArray(v) ? v : []), () => [] as T[]);
    [skills, agents, tags] = await Promise.all([list<Named>("/skills"), app.hasRight("read") ? list<Named>("/agents") : Promise.resolve([]), list<Named>("/tags")]);
    if (!started) return; // signed out meanwhile
    drawFrame();
    search();
  }

  drawFrame();
  closeDetail();

  return {
    setVisible(visible) {
      if (visible && !started) void start();
    },
    relabel() {
      drawFrame();
      drawRows();
      if (selected) select(selected);
      else closeDetail();
      if (view === "reviews") reviewList.load();
    },
    reset() {
      started = false;
      loadSeq++;
      items = [];
      next = "";
      cursors = [""];
      pageIndex = 0;
      skills = agents = tags = [];
      form.querySelectorAll<HTMLInputElement | HTMLSelectElement>("input, select").forEach((c) => (c.value = ""));
      tbody.textContent = "";
      reviewList.reset();
      showView("search");
      closeDetail();
      drawFrame();
    },
  };
}
