// Signed-in sessions: a user's logins (when and where from, which browser) with revoke buttons,
// and an account's sign-in lockout with the admin's unlock. loginsPanel is embedded in the user
// editor (users.ts); the security section (security.ts) lists the caller's own logins with it.

import { type Ctx } from "./shell";
import { button, card, h, setText, table, when } from "./ui";

export interface Login {
  id: string;
  created: string;
  expires: string;
  ip: string;
  useragent: string;
  current: boolean;
}

export interface Policy {
  accountfailures: number;
  addressfailures: number;
  windowminutes: number;
  lockoutminutes: number;
}

export interface LoginList {
  logins: Login[];
  policy: Policy;
  lock?: { failures: number; until: string; locked: boolean };
}

/** The browser and system a User-Agent names, in short ("Chrome · Windows"); the full text is the title. */
export function browserOf(ua: string): string {
  const browser =
    [
      [/Edg\//, "Edge"],
      [/OPR\/|Opera/, "Opera"],
      [/Firefox\//, "Firefox"],
      [/MicroMessenger/, "WeChat"],
      [/Chrome\/|CriOS/, "Chrome"],
      [/Safari\//, "Safari"],
    ].find(([re]) => (re as RegExp).test(ua))?.[1] || "";
  const os =
    [
      [/Windows/, "Windows"],
      [/Android/, "Android"],
      [/iPhone|iPad/, "iOS"],
      [/Mac OS X|Macintosh/, "macOS"],
      [/Linux/, "Linux"],
    ].find(([re]) => (re as RegExp).test(ua))?.[1] || "";
  return [browser, os].filter(Boolean).join(" · ") || ua || "—";
}

/** The lockout policy in words. */
export function policyText(ctx: Ctx, p: Policy): string {
  return ctx.t(
    `After ${p.accountfailures} failed sign-ins to one account, or ${p.addressfailures} from one network address, within ${p.windowminutes} minutes, sign-ins are refused for ${p.lockoutminutes} minutes, even with the right password. A successful sign-in clears the account's count; an admin can unlock an account at once.`,
    `同一账号 ${p.windowminutes} 分钟内登录失败 ${p.accountfailures} 次，或同一网络地址失败 ${p.addressfailures} 次，将在 ${p.lockoutminutes} 分钟内拒绝登录（即使密码正确）。登录成功会清零该账号的失败次数；管理员可立即解锁账号。`,
  );
}

/**
 * The table of logins; revoke(id) ends one. The login of this page is marked and, when revoked,
 * signs this page out too (its next request is refused).
 */
export function loginsTable(ctx: Ctx, logins: Login[], revoke: (l: Login) => Promise<void>): HTMLTableElement {
  const t = ctx.t;
  return table<Login>(
    [
      { title: t("Signed in", "登录时间"), cell: (l) => when(l.created) },
      { title: t("Ends if unused", "闲置失效时间"), cell: (l) => when(l.expires) },
      { title: t("Address", "地址"), cell: (l) => l.ip || "—" },
      { title: t("Browser", "浏览器"), cell: (l) => h("span", { title: l.useragent, text: browserOf(l.useragent) }) },
      {
        title: "",
        cell: (l) =>
          h(
            "span",
            { class: "actions" },
            l.current ? h("span", { class: "chip current", text: t("this page", "当前页面") }) : null,
            button(t("Sign out", "下线"), () => void revoke(l), "danger", { "data-login": l.id }),
          ),
      },
    ],
    logins,
    { empty: t("Not signed in anywhere.", "没有登录中的会话。"), key: (l) => l.id, id: "logins-table" },
  );
}

/** An admin's panel of one user's sign-in: lockout (with unlock) and logins (with revoke). */
export function loginsPanel(ctx: Ctx, agentId: string): HTMLElement {
  const t = ctx.t;
  const base = "/api/v1/admin/agents/" + encodeURIComponent(agentId);
  const lock = h("div", { id: "login-lock" });
  const list = h("div", { id: "login-list" });
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const panel = card(t("Sign-in and sessions", "登录与会话"), lock, list, error);
  panel.id = "logins-panel";

  const act = async (method: string, url: string, done: string, ask?: string) => {
    if (ask && !(await ctx.confirm(ask))) return;
    try {
      await ctx.api(method, url);
      ctx.notify(done);
    } catch (e) {
      setText(error, ctx.errText(e));
    }
    await load();
  };
  const load = async () => {
    setText(error, "");
    let res: LoginList;
    try {
      res = await ctx.api<LoginList>("GET", base + "/logins");
    } catch (e) {
      setText(error, ctx.errText(e));
      return;
    }
    lock.textContent = "";
    const l = res.lock;
    if (l && l.locked) {
      lock.append(
        h("p", { class: "locked", id: "lock-state", text: t(`Locked out after ${l.failures} failed sign-ins, until ${when(l.until)}.`, `连续登录失败 ${l.failures} 次，已锁定至 ${when(l.until)}。`) }),
        button(t("Unlock", "解锁"), () => void act("DELETE", base + "/lock", t("Unlocked.", "已解锁。")), "primary", { id: "unlock" }),
      );
    } else {
      lock.append(
        h("p", {
          class: "hint",
          id: "lock-state",
          text: l && l.failures ? t(`Not locked; ${l.failures} recent failed sign-ins.`, `未锁定；最近登录失败 ${l.failures} 次。`) : t("Not locked.", "未锁定。"),
        }),
      );
    }
    list.textContent = "";
    list.append(
      loginsTable(ctx, res.logins || [], (x) => act("DELETE", base + "/logins/" + encodeURIComponent(x.id), t("Signed out.", "已下线。"))),
    );
    if ((res.logins || []).length > 0) {
      list.append(
        h(
          "div",
          { class: "actions" },
          button(
            t("Sign out everywhere", "全部下线"),
            () => void act("DELETE", base + "/logins", t("Signed out everywhere.", "已全部下线。"), t("End every session of this user?", "结束该用户的所有会话？")),
            "danger",
            { id: "revoke-all" },
          ),
        ),
      );
    }
  };
  void load();
  return panel;
}
