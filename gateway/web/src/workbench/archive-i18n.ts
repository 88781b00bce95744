// The archive's and quality review's own texts (the workbench's i18n file is the workbench's).
// Names, messages and comments are user text: the functions here only build strings, which
// the parts put into the page with textContent.

const en = {
  search: "Search",
  reviews: "Reviews",
  myReviews: "My reviews",
  checklist: "Checklist",
  from: "Ended from",
  to: "to",
  text: "Words in the messages",
  textPlaceholder: "e.g. refund, 退货",
  visitor: "Visitor",
  visitorPlaceholder: "Name, e-mail, phone or id",
  site: "Site",
  sitePlaceholder: "appid",
  group: "Skill group",
  agent: "Agent",
  tag: "Tag",
  rating: "Rating",
  endBy: "Ended by",
  reviewed: "Reviewed",
  any: "Any",
  none: "None",
  yes: "Yes",
  no: "No",
  go: "Search",
  clear: "Clear",
  exportCSV: "Export CSV",
  exporting: "Exporting…",
  exported: "The CSV file is downloading.",
  // table
  colEnded: "Ended",
  colVisitor: "Visitor",
  colSite: "Site",
  colAgent: "Agent",
  colGroup: "Group",
  colEndBy: "Ended by",
  colRating: "Rating",
  colTags: "Tags",
  colScore: "Score",
  colMessages: "Msgs",
  noResults: "No conversation matches.",
  newer: "← Newer",
  older: "Older →",
  page: (n: number) => `Page ${n}`,
  loading: "Loading…",
  loadFailed: "Could not load: ",
  saveFailed: "Could not save: ",
  unknownVisitor: "Visitor",
  endReason: {
    agent: "Agent",
    supervisor: "Supervisor",
    user: "Visitor left",
    timeout: "Timed out",
    queue: "Queue timeout",
    system: "System",
  } as Record<string, string>,
  // transcript
  closeDetail: "Close",
  started: "Started",
  served: "Served from",
  ended: "Ended",
  truncated: (n: number) => `Only the first ${n} messages are shown.`,
  whisper: (name: string) => `Whisper from ${name}`,
  event: (kind: string, actor: string, target: string, detail: string): string => {
    switch (kind) {
      case "queued":
        return target ? `Waiting for ${target}` : "Waiting in the queue";
      case "assigned":
        return `Assigned to ${target || "an agent"}`;
      case "transferred":
        return `${actor || "Someone"} transferred it to ${target}` + (detail ? `: “${detail}”` : "");
      case "requeued":
        return "Back in the queue";
      case "takeover":
        return `${actor} took it over`;
      case "moved":
        return `${actor} moved it to ${target}`;
      case "rerouted":
        return `${actor} opened it to every agent`;
      case "joined":
        return `${actor} joined the chat`;
      case "ended":
        return "Ended" + (actor ? ` by ${actor}` : "") + (detail ? ` (${en.endReason[detail] || detail})` : "");
      case "rated":
        return `The visitor rated it: ${detail}`;
      case "reviewed":
        return `${actor} reviewed it: ${detail}`;
    }
    return [kind, actor, target, detail].filter(Boolean).join(" · ");
  },
  // review
  review: "Quality review",
  notReviewed: "Not reviewed yet.",
  reviewBy: (name: string, when: string) => `by ${name}, ${when}`,
  scoreIt: "Score this conversation",
  rescore: "Score again",
  comment: "Comment",
  saveReview: "Save review",
  cancel: "Cancel",
  reviewSaved: "Review saved.",
  total: (score: string) => `Total ${score} / 100`,
  weight: (w: number) => `weight ${w}`,
  noChecklist: "The checklist is empty: an admin sets it up under Archive → Checklist.",
  // checklist
  checklistTitle: "Quality checklist",
  checklistHint: "Each item is scored 0–5; the total is the weighted share of the best score, out of 100.",
  itemName: "Item",
  itemWeight: "Weight",
  addItem: "Add item",
  moveUp: "Move up",
  moveDown: "Move down",
  remove: "Remove",
  save: "Save",
  checklistSaved: "Checklist saved.",
  needName: (i: number) => `Item ${i} needs a name.`,
  // reviews list
  colReviewed: "Reviewed",
  colReviewer: "Reviewer",
  noReviews: "No reviews yet.",
  more: "More",
};

export type ArchiveStrings = typeof en;

const zh: ArchiveStrings = {
  search: "查询",
  reviews: "质检记录",
  myReviews: "我的质检",
  checklist: "质检项",
  from: "结束时间从",
  to: "至",
  text: "消息内容",
  textPlaceholder: "例如：退货、refund",
  visitor: "访客",
  visitorPlaceholder: "姓名、邮箱、电话或编号",
  site: "站点",
  sitePlaceholder: "appid",
  group: "技能组",
  agent: "坐席",
  tag: "标签",
  rating: "满意度",
  endBy: "结束方式",
  reviewed: "已质检",
  any: "全部",
  none: "未评价",
  yes: "是",
  no: "否",
  go: "查询",
  clear: "清空",
  exportCSV: "导出 CSV",
  exporting: "正在导出…",
  exported: "CSV 文件开始下载。",
  colEnded: "结束时间",
  colVisitor: "访客",
  colSite: "站点",
  colAgent: "坐席",
  colGroup: "技能组",
  colEndBy: "结束方式",
  colRating: "满意度",
  colTags: "标签",
  colScore: "质检分",
  colMessages: "消息数",
  noResults: "没有符合条件的会话。",
  newer: "← 较新",
  older: "较早 →",
  page: (n) => `第 ${n} 页`,
  loading: "加载中…",
  loadFailed: "无法加载：",
  saveFailed: "无法保存：",
  unknownVisitor: "访客",
  endReason: {
    agent: "坐席结束",
    supervisor: "主管结束",
    user: "访客离开",
    timeout: "超时结束",
    queue: "排队超时",
    system: "系统结束",
  },
  closeDetail: "关闭",
  started: "开始",
  served: "接入",
  ended: "结束",
  truncated: (n) => `只显示前 ${n} 条消息。`,
  whisper: (name) => `${name} 的内部提示`,
  event: (kind, actor, target, detail) => {
    switch (kind) {
      case "queued":
        return target ? `等待 ${target}` : "排队等待";
      case "assigned":
        return `分配给 ${target || "坐席"}`;
      case "transferred":
        return `${actor || "有人"} 转接给 ${target}` + (detail ? `：“${detail}”` : "");
      case "requeued":
        return "重新排队";
      case "takeover":
        return `${actor} 接管了会话`;
      case "moved":
        return `${actor} 将会话移至 ${target}`;
      case "rerouted":
        return `${actor} 将会话改为任意坐席接待`;
      case "joined":
        return `${actor} 加入了会话`;
      case "ended":
        return "会话结束" + (actor ? `（${actor}）` : "") + (detail ? ` · ${zh.endReason[detail] || detail}` : "");
      case "rated":
        return `访客评价：${detail}`;
      case "reviewed":
        return `${actor} 质检评分：${detail}`;
    }
    return [kind, actor, target, detail].filter(Boolean).join(" · ");
  },
  review: "质检",
  notReviewed: "尚未质检。",
  reviewBy: (name, when) => `${name} · ${when}`,
  scoreIt: "质检评分",
  rescore: "重新评分",
  comment: "评语",
  saveReview: "保存质检",
  cancel: "取消",
  reviewSaved: "质检已保存。",
  total: (score) => `总分 ${score} / 100`,
  weight: (w) => `权重 ${w}`,
  noChecklist: "质检项为空：请管理员在“历史会话 → 质检项”中设置。",
  checklistTitle: "质检项",
  checklistHint: "每项 0–5 分；总分为加权得分占满分的比例（百分制）。",
  itemName: "质检项",
  itemWeight: "权重",
  addItem: "添加质检项",
  moveUp: "上移",
  moveDown: "下移",
  remove: "删除",
  save: "保存",
  checklistSaved: "质检项已保存。",
  needName: (i) => `第 ${i} 项需要名称。`,
  colReviewed: "质检时间",
  colReviewer: "质检人",
  noReviews: "暂无质检记录。",
  more: "更多",
};

/** The texts in the workbench's current language (main.ts sets it on <html lang>). */
export function archiveStrings(): ArchiveStrings {
  return document.documentElement.lang === "zh-CN" ? zh : en;
}

/** A date and time as the archive shows them, in the browser's zone. */
export function dateTime(iso?: string): string {
  if (!iso) return "";
  const d = new Date(iso);
  if (isNaN(d.getTime())) return "";
  return d.toLocaleString(document.documentElement.lang || undefined, { year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
}

/** A visitor's rating as stars, or "" when not rated. */
export function stars(level: number): string {
  return level > 0 ? "★".repeat(Math.min(level, 5)) + "☆".repeat(Math.max(0, 5 - level)) : "";
}
