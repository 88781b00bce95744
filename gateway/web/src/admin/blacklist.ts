// The blacklist section: blocked visitors, the latest first, found by id, nickname or reason
// (optionally those whose block has run out too); extend a block by days with a new reason, or
// lift it. A change counts on every gateway at once.

import { type Ctx, register } from "./shell";
import { button, checkbox, field, h, input, table, when } from "./ui";

interface Entry {
  appid: string;
  userid: string;
  nickname: string;
  until: string;
  reason: string;
  by: string;
  byname: string;
  active: boolean;
  createtime: string;
}

interface Page {
  items: Entry[];
  next?: string;
}

const DAY = 86400;

register({
  id: "blacklist",
  title: ["Blacklist", "黑名单"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    const q = input({ id: "bl-q", type: "search", maxlength: "100", placeholder: t("Visitor id, nickname or reason", "访客 ID、昵称或原因") });
    const expired = checkbox(t("Include blocks that ran out", "包括已到期的"), false, { id: "bl-expired" });
    const list = h("div", { id: "bl-list" });
    const more = button(t("More", "更多"), () => void load(ctx, list, more, q.value, expired.box.checked, true), "secondary", { id: "bl-more" });
    more.hidden = true;
    const form = h("form", { class: "toolbar", id: "bl-form" }, field(t("Search", "搜索"), q), expired.row,
      h("button", { type: "submit", class: "primary", id: "bl-search", text: t("Search", "搜索") }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      void load(ctx, list, more, q.value, expired.box.checked, false);
    });
    expired.box.addEventListener("change", () => void load(ctx, list, more, q.value, expired.box.checked, false));
    root.append(
      h("h2", { text: t("Blacklist", "黑名单") }),
      h("p", {
        class: "hint",
        text: t(
          "Agents block visitors from the workbench. A blocked visitor sees no chat button and cannot connect; lifting or extending counts at once.",
          "坐席在工作台拉黑访客。被拉黑的访客看不到咨询按钮，也无法连接；解除或延长立即生效。",
        ),
      }),
      form,
      list,
      more,
    );
    await load(ctx, list, more, "", false, false);
  },
});

let rows: Entry[] = [];
let next = "";

async function load(ctx: Ctx, list: HTMLElement, more: HTMLButtonElement, q: string, expired: boolean, append: boolean): Promise<void> {
  const params = new URLSearchParams({ limit: "50" });
  if (q.trim()) params.set("q", q.trim());
  if (expired) params.set("active", "false");
  if (append && next) params.set("before", next);
  try {
    const page = await ctx.api<Page>("GET", "/api/v1/blacklist?" + params.toString());
    const items = page && Array.isArray(page.items) ? page.items : [];
    rows = append ? rows.concat(items) : items;
    next = (page && page.next) || "";
  } catch (e) {
    ctx.notify(ctx.t("Could not load the blacklist: ", "无法加载黑名单：") + ctx.errText(e), "error");
    return;
  }
  more.hidden = !next;
  draw(ctx, list, () => load(ctx, list, more, q, expired, false));
}

function draw(ctx: Ctx, list: HTMLElement, reload: () => Promise<void>): void {
  const t = ctx.t;
  let editing = "";
  const key = (e: Entry) => e.appid + "/" + e.userid;
  const paint = () => {
    list.textContent = "";
    list.appendChild(
      table<Entry>(
        [
          { title: t("Visitor", "访客"), cell: (e) => h("div", null, h("strong", { text: e.nickname || "—" }), h("div", { class: "hint mono", text: e.userid })) },
          { title: t("Site", "网站"), cell: (e) => h("span", { class: "mono", text: e.appid }) },
          { title: t("Reason", "原因"), cell: (e) => (key(e) === editing ? extendForm(ctx, e, reload, () => ((editing = ""), paint())) : e.reason || "—") },
          { title: t("Blocked by", "操作人"), cell: (e) => e.byname || e.by || "—" },
          { title: t("Since", "拉黑时间"), cell: (e) => when(e.createtime) },
          {
            title: t("Until", "到期时间"),
            cell: (e) => h("div", null, h("span", { class: "bl-until", text: when(e.until) }),
              h("div", { class: e.active ? "bl-state active" : "bl-state", text: e.active ? t("in force", "生效中") : t("ran out", "已到期") })),
          },
          {
            title: "",
            cell: (e) =>
              key(e) === editing
                ? ""
                : h("div", { class: "actions" },
                    button(t("Extend…", "延长…"), () => ((editing = key(e)), paint()), "secondary", { "data-action": "extend" }),
                    button(t("Lift", "解除"), () => void lift(ctx, e, reload), "danger", { "data-action": "lift" })),
          },
        ],
        rows,
        { empty: t("Nobody is blocked.", "黑名单为空。"), key, id: "bl-table" },
      ),
    );
  };
  paint();
}

// The inline editor of one block: days to add (from its end, or from now if it ran out) and the reason.
function extendForm(ctx: Ctx, e: Entry, reload: () => Promise<void>, cancel: () => void): HTMLElement {
  const t = ctx.t;
  const days = input({ class: "bl-days", type: "number", min: "1", max: "366", required: true, "aria-label": t("Days to add", "延长天数") }, "7");
  const reason = input({ class: "bl-reason", maxlength: "255", "aria-label": t("Reason", "原因") }, e.reason);
  const save = async () => {
    const n = Math.round(Number(days.value));
    if (!(n >= 1 && n <= 366)) {
      ctx.notify(t("Give 1 to 366 days.", "请填写 1 到 366 天。"), "error");
      return;
    }
    try {
      await ctx.api("PUT", `/api/v1/blacklist/${encodeURIComponent(e.appid)}/${encodeURIComponent(e.userid)}`, { extend_seconds: n * DAY, reason: reason.value });
      ctx.notify(t("The block was extended.", "已延长拉黑时间。"));
      await reload();
    } catch (err) {
      ctx.notify(t("Could not extend the block: ", "无法延长：") + ctx.errText(err), "error");
    }
  };
  return h("div", { class: "bl-editor" },
    h("label", { class: "bl-days-label" }, days, " " + t("days more", "天")),
    reason,
    h("div", { class: "actions" },
      button(t("Save", "保存"), () => void save(), "primary", { "data-action": "save" }),
      button(t("Cancel", "取消"), cancel, "secondary", { "data-action": "cancel" })));
}

async function lift(ctx: Ctx, e: Entry, reload: () => Promise<void>): Promise<void> {
  const t = ctx.t;
  if (!(await ctx.confirm(t(`Lift the block of ${e.nickname || e.userid}?`, `解除对 ${e.nickname || e.userid} 的拉黑？`)))) return;
  try {
    await ctx.api("DELETE", `/api/v1/blacklist/${encodeURIComponent(e.appid)}/${encodeURIComponent(e.userid)}`);
    ctx.notify(t("The block was lifted.", "已解除拉黑。"));
    await reload();
  } catch (err) {
    ctx.notify(t("Could not lift the block: ", "无法解除：") + ctx.errText(err), "error");
  }
}
