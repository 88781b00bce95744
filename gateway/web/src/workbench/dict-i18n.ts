// The workbench's texts about tags and canned reply categories (the workbench's i18n file has
// the rest). Tag, category and reply names are user text: put into the page as text only.

const en = {
  conversationTags: "Conversation tags",
  visitorTags: "Visitor tags",
  visitorTagsHint: "Stay with the visitor in every chat.",
  addTag: "Add a tag…",
  removeTag: (name: string) => `Remove the tag ${name}`,
  noVisitorTags: "No visitor tags defined.",
  noneYet: "None yet.",
  teamReplies: "Team replies",
  myReplies: "My replies",
  categoryHint: "A path such as Billing/Refunds; missing categories are made.",
  replies: (n: number) => (n === 1 ? "1 reply" : `${n} replies`),
};

export type DictStrings = typeof en;

const zh: DictStrings = {
  conversationTags: "会话标签",
  visitorTags: "访客标签",
  visitorTagsHint: "随访客保留，每次对话都可见。",
  addTag: "添加标签…",
  removeTag: (name) => `移除标签 ${name}`,
  noVisitorTags: "尚未定义访客标签。",
  noneYet: "暂无。",
  teamReplies: "公共回复",
  myReplies: "我的回复",
  categoryHint: "例如 售后/退款；不存在的分类会自动创建。",
  replies: (n) => `${n} 条回复`,
};

/** The texts in the workbench's current language (main.ts sets it on <html lang>). */
export function dictStrings(): DictStrings {
  return document.documentElement.lang === "zh-CN" ? zh : en;
}
