// The enterprise IM panel's own texts (the workbench's i18n file is the
// workbench's). Names and messages are user text: the functions here only
// build strings, which the panel puts into the page with textContent.

export type EntimLang = "en" | "zh-CN";

const en = {
  search: "Search",
  colleagues: "Colleagues",
  groups: "Groups",
  noColleagues: "No colleagues yet.",
  noGroups: "No groups yet. Start one with +.",
  noMatch: "Nothing matches.",
  online: "Online",
  offline: "Offline",
  group: "Group chat",
  unread: (n: number) => `${n} unread`,
  newGroup: "New group",
  groupName: "Group name",
  groupNamePlaceholder: "e.g. Night shift",
  members: "Members",
  create: "Create group",
  cancel: "Cancel",
  needName: "Give the group a name.",
  needMembers: "Pick at least one colleague.",
  emptyTitle: "Your team, one click away",
  emptyHint: "Pick a colleague or a group on the left to start chatting.",
  placeholder: (name: string) => `Message ${name}`,
  composeHint: "Enter to send · Shift+Enter for a new line",
  send: "Send",
  message: "Message",
  sending: "Sending…",
  sent: "Sent",
  failed: "Not sent",
  retry: "Retry",
  earlier: "Load earlier messages",
  loading: "Loading…",
  start: "This is the start of the conversation.",
  noMessages: "No messages yet. Say hello!",
  loadFailed: "Could not load: ",
  you: "You",
  today: "Today",
  yesterday: "Yesterday",
  connecting: "Connecting…",
  reconnecting: "Connection lost — reconnecting…",
  signedOut: "Signed out of team chat.",
  refused: "Team chat is unavailable: ",
  unknown: "Unknown colleague",
};

export type EntimStrings = typeof en;

const zh: EntimStrings = {
  search: "搜索",
  colleagues: "同事",
  groups: "群组",
  noColleagues: "暂无同事。",
  noGroups: "暂无群组，点 + 创建。",
  noMatch: "没有匹配的结果。",
  online: "在线",
  offline: "离线",
  group: "群聊",
  unread: (n: number) => `${n} 条未读`,
  newGroup: "新建群组",
  groupName: "群组名称",
  groupNamePlaceholder: "例如：夜班",
  members: "成员",
  create: "创建群组",
  cancel: "取消",
  needName: "请填写群组名称。",
  needMembers: "请至少选择一位同事。",
  emptyTitle: "与同事随时沟通",
  emptyHint: "在左侧选择一位同事或一个群组开始聊天。",
  placeholder: (name: string) => `发消息给 ${name}`,
  composeHint: "Enter 发送 · Shift+Enter 换行",
  send: "发送",
  message: "消息",
  sending: "发送中…",
  sent: "已发送",
  failed: "未发送",
  retry: "重试",
  earlier: "加载更早的消息",
  loading: "加载中…",
  start: "以上是全部消息。",
  noMessages: "还没有消息，打个招呼吧！",
  loadFailed: "加载失败：",
  you: "我",
  today: "今天",
  yesterday: "昨天",
  connecting: "连接中…",
  reconnecting: "连接已断开，正在重连…",
  signedOut: "已退出内部通讯。",
  refused: "内部通讯不可用：",
  unknown: "未知同事",
};

export function entimStrings(lang: EntimLang): EntimStrings {
  return lang === "zh-CN" ? zh : en;
}

export function localeOf(lang: EntimLang): string {
  return lang === "zh-CN" ? "zh-CN" : "en";
}
