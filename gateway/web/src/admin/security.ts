// The security section: the lockout policy in words and the caller's own signed-in sessions,
// each of which can be ended (ending this page's own signs it out).

import { type LoginList, loginsTable, policyText } from "./logins";
import { type Ctx, register } from "./shell";
import { card, h } from "./ui";

register({
  id: "security",
  title: ["Sign-in security", "登录安全"],
  roles: ["admin"],
  async render(root, ctx) {
    const t = ctx.t;
    const policy = h("p", { id: "lockout-policy" });
    const list = h("div", { id: "my-logins" });
    root.append(
      h("h2", { text: t("Sign-in security", "登录安全") }),
      card(t("Lockout", "登录锁定"), policy),
      card(t("Your signed-in sessions", "您的登录会话"), list),
    );
    await load(ctx, policy, list);
  },
});

async function load(ctx: Ctx, policy: HTMLElement, list: HTMLElement): Promise<void> {
  const res = await ctx.api<LoginList>("GET", "/api/v1/auth/logins");
  policy.textContent = policyText(ctx, res.policy);
  list.textContent = "";
  list.append(
    loginsTable(ctx, res.logins || [], async (l) => {
      if (l.current && !(await ctx.confirm(ctx.t("This signs this page out. Continue?", "这将使本页面退出登录。继续？")))) return;
      try {
        await ctx.api("DELETE", "/api/v1/auth/logins/" + encodeURIComponent(l.id));
        ctx.notify(ctx.t("Signed out.", "已下线。"));
      } catch (e) {
        ctx.notify(ctx.errText(e), "error");
        return;
      }
      if (!l.current) await load(ctx, policy, list);
      else await ctx.api("GET", "/api/v1/auth/logins").catch(() => undefined); // answered 401: back to sign-in
    }),
  );
}
