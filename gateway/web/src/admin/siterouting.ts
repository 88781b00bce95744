// The site editor's routing and rating blocks: the skill groups the site's visitors are routed to
// (also the widget's skill picker, in the order shown), the picker's title and whether it shows
// who is online, and the satisfaction settings (on or off, a 3- or 5-level scale with its labels,
// the comment field, when the form shows). They are built here, in the console's language, and
// write the `consult` and `satisfaction` keys of the widget config (protocol.md, "Widget routing
// and satisfaction").

import { Group, treeOrder } from "./grouptree";
import type { Ctx } from "./shell";
import { checkbox, field, h, input, select } from "./ui";

export interface Routing {
  /** The two blocks, to place in the form. */
  node: HTMLElement;
  /** Shows a site's groups and config (skills: the site's, in its order). */
  load(skills: string[], config: Record<string, unknown>): void;
  /** The groups checked, in the site's order. */
  skills(): string[];
  /** Writes the consult and satisfaction keys into config. */
  apply(config: Record<string, unknown>): void;
  /** What keeps the blocks from being saved, or "". */
  problem(): string;
}

function obj(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

const DEFAULT_LABELS: Record<3 | 5, [string, string][]> = {
  3: [["Poor", "不满意"], ["OK", "一般"], ["Good", "满意"]],
  5: [["Very poor", "非常不满意"], ["Poor", "不满意"], ["OK", "一般"], ["Good", "满意"], ["Excellent", "非常满意"]],
};

/**
 * Builds the blocks for the tenant's groups. Their edits bubble to the site form as input and
 * change events, which refresh its JSON view.
 */
export function createRouting(ctx: Ctx, groups: Group[]): Routing {
  const t = ctx.t;
  let order: string[] = []; // the checked groups in the site's order

  const list = h("ul", { class: "site-skills", id: "site-skills" });
  const empty = h("p", { class: "hint", text: t("The tenant has no skill groups yet (Groups section).", "还没有技能组（见“技能组”）。") });
  empty.hidden = groups.length > 0;
  const title = input({ id: "f-consult-title", maxlength: "64", placeholder: t("What is your question about?", "请选择您要咨询的业务") });
  const showAgents = checkbox(t("Show whether each group has an agent online", "显示各技能组是否有坐席在线"), false, { id: "f-consult-agents" });
  const routingBlock = h(
    "fieldset",
    { class: "card", id: "site-routing" },
    h("legend", { text: t("Skill groups and the skill picker", "技能组与业务选择") }),
    h("p", {
      class: "hint",
      text: t(
        "Visitors of this site are routed only to the groups checked. With several, the widget asks the visitor to pick one, in this order (a group checked later goes last). None: the tenant's routing decides.",
        "本网站的访客只会被分配到勾选的技能组。勾选多个时，访客先在窗口中按此顺序选择业务（后勾选的排在最后）。不勾选：由租户的路由决定。",
      ),
    }),
    empty,
    list,
    field(t("Picker title", "选择框标题"), title, t("(empty: the widget's own)", "（留空：使用默认文字）")),
    showAgents.row,
  );

  const satOn = checkbox(t("Ask visitors to rate the chat", "邀请访客评价服务"), true, { id: "f-sat-enabled" });
  const scale = select(
    [
      ["5", t("5 levels", "5 级")],
      ["3", t("3 levels", "3 级")],
    ],
    "5",
    { id: "f-sat-scale" },
  );
  const when = select(
    [
      ["end", t("When a chat ends, or the agent asks", "会话结束时或坐席邀请时")],
      ["request", t("Only when the agent asks", "仅在坐席邀请时")],
    ],
    "end",
    { id: "f-sat-when" },
  );
  const comment = checkbox(t("Offer a comment field", "提供评价内容输入框"), true, { id: "f-sat-comment" });
  const labels = h("div", { class: "sat-labels", id: "f-sat-labels" });
  const satBlock = h(
    "fieldset",
    { class: "card", id: "site-satisfaction" },
    h("legend", { text: t("Satisfaction rating", "满意度评价") }),
    satOn.row,
    h("div", { class: "grid" }, field(t("Scale", "评价等级"), scale), field(t("The form shows", "评价时机"), when)),
    comment.row,
    h("p", { class: "hint", text: t("Level names, worst first (empty: the widget's own, in the visitor's language)", "各等级名称，从差到好（留空：按访客语言使用默认名称）") }),
    labels,
  );

  function renderGroups(): void {
    list.textContent = "";
    for (const p of treeOrder(groups)) {
      const g = p.group;
      const at = order.indexOf(g.id);
      const box = checkbox(g.name + (g.disabled ? " · " + t("disabled", "已停用") : ""), at >= 0, { value: g.id, "data-skill": g.id });
      box.box.disabled = g.disabled && at < 0; // a disabled group can only be unchecked
      box.box.addEventListener("change", () => {
        order = box.box.checked ? order.concat(g.id) : order.filter((id) => id !== g.id);
        renderGroups();
      });
      const place = h("span", { class: "skill-order", text: at >= 0 ? String(at + 1) : "", "aria-hidden": "true" });
      const li = h("li", null, place, box.row);
      li.style.paddingLeft = p.depth * 1.25 + "rem";
      list.appendChild(li);
    }
  }

  function renderLabels(values: string[]): void {
    labels.textContent = "";
    const n = scale.value === "3" ? 3 : 5;
    DEFAULT_LABELS[n].forEach(([en, zh], i) => {
      const inp = input({ id: "f-sat-label-" + (i + 1), maxlength: "20", placeholder: t(en, zh), "aria-label": t("Level", "等级") + " " + (i + 1) }, values[i] || "");
      labels.appendChild(h("div", { class: "sat-label" }, h("span", { class: "star", "aria-hidden": "true", text: "★".repeat(i + 1) }), inp));
    });
  }

  function labelValues(): string[] {
    return Array.from(labels.querySelectorAll("input")).map((i) => i.value.trim());
  }

  function syncSat(): void {
    for (const c of [scale, when, comment.box]) c.disabled = !satOn.box.checked;
    for (const i of Array.from(labels.querySelectorAll("input"))) i.disabled = !satOn.box.checked;
  }

  scale.addEventListener("change", () => {
    renderLabels(labelValues());
    syncSat();
  });
  satOn.box.addEventListener("change", syncSat);

  const node = h("div", { class: "site-routing" }, routingBlock, satBlock);

  return {
    node,
    load(skills, config) {
      order = skills.filter((id) => groups.some((g) => g.id === id));
      renderGroups();
      const c = obj(config.consult);
      title.value = typeof c.title === "string" ? c.title : "";
      showAgents.box.checked = c.showagents === true;
      const s = obj(config.satisfaction);
      satOn.box.checked = s.enabled !== false;
      scale.value = s.scale === 3 ? "3" : "5";
      when.value = s.when === "request" ? "request" : "end";
      comment.box.checked = s.comment !== false;
      renderLabels(Array.isArray(s.labels) ? s.labels.map((l) => (typeof l === "string" ? l : "")) : []);
      syncSat();
    },
    skills: () => order.slice(),
    problem() {
      const names = labelValues();
      const some = names.some((n) => n !== "");
      return satOn.box.checked && some && names.some((n) => n === "") ? t("Name every level, or none.", "请为每个等级命名，或全部留空。") : "";
    },
    apply(config) {
      const consult: Record<string, unknown> = {};
      if (title.value.trim()) consult.title = title.value.trim();
      if (showAgents.box.checked) consult.showagents = true;
      if (Object.keys(consult).length) config.consult = consult;
      else delete config.consult;
      const sat: Record<string, unknown> = {};
      if (!satOn.box.checked) sat.enabled = false;
      else {
        if (scale.value === "3") sat.scale = 3;
        if (when.value === "request") sat.when = "request";
        if (!comment.box.checked) sat.comment = false;
        const names = labelValues();
        if (names.some((n) => n !== "")) sat.labels = names;
      }
      if (Object.keys(sat).length) config.satisfaction = sat;
      else delete config.satisfaction;
    },
  };
}
