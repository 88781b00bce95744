// The transfer dialog: a skill group, then an agent of it with status and load (or the group
// itself), and a memo; used for one's own chats and by supervisors for their scope's.

import { SessionSummary, errorText } from "../common";
import { h } from "../widget/dom";
import { App, field, modal, sessionPath, str } from "./ui";

export interface Colleague {
  id: string;
  nickname: string;
  status: string;
  busy: boolean;
  users: number;
  maxuser: number;
  skills: string[];
}

/** Opens the dialog for chat `s`; `exclude` is the agent not offered (who has the chat now). */
export async function transferDialog(app: App, s: SessionSummary, exclude: string, onDone?: () => void): Promise<void> {
  const tt = app.t();
  const group = h("select", { id: "transfer-skill" }, h("option", { value: "", text: tt.anyGroup }));
  const agents = h("div", { class: "agent-list", id: "transfer-agents", role: "radiogroup" });
  const memo = h("textarea", { id: "transfer-memo", rows: "3", maxlength: "512" });
  const m = modal({
    id: "transfer-dialog",
    title: tt.transferTitle,
    t: tt,
    submit: tt.transfer,
    body: [field(tt.skillGroup, group), h("div", { class: "field" }, h("span", { class: "label", text: tt.agent }), agents), field(tt.transferMemo, memo)],
    onSubmit: async () => {
      const picked = agents.querySelector<HTMLInputElement>("input[name=transfer-to]:checked");
      if (!picked) throw new Error(tt.noAgents);
      const req = picked.value === "" ? { skill: group.value, memo: memo.value } : { agentno: picked.value, memo: memo.value };
      const res = await app.api<{ queued?: boolean }>("POST", sessionPath(s.agentserviceid) + "/transfer", req);
      app.toast(res && res.queued ? tt.transferQueued : tt.transferDone);
      if (onDone) onDone();
      return true;
    },
  });
  let all: Colleague[] = [];
  try {
    const [skills, list] = await Promise.all([
      app.api<{ id: string; name: string }[]>("GET", "/skills"),
      app.api<Colleague[]>("GET", "/agents"),
    ]);
    for (const s of Array.isArray(skills) ? skills : []) group.appendChild(h("option", { value: s.id, text: str(s.name) }));
    all = (Array.isArray(list) ? list : []).filter((a) => String(a.id) !== exclude);
  } catch (e) {
    m.error.textContent = tt.error(tt.errLoad) + errorText(e);
    m.error.hidden = false;
  }
  const draw = () => {
    agents.textContent = "";
    const g = group.value;
    if (g) agents.appendChild(radio("", tt.toGroup, "", true));
    const shownAgents = all.filter((a) => !g || (Array.isArray(a.skills) && a.skills.indexOf(g) >= 0));
    shownAgents.forEach((a, i) => {
      const state = a.status === "ready" ? (a.busy ? tt.busy : tt.ready) : a.status === "offline" ? tt.offline : tt.notReady;
      const free = a.status === "ready" && !a.busy && (!a.maxuser || a.users < a.maxuser);
      agents.appendChild(radio(String(a.id), str(a.nickname), `${state} · ${tt.load(a.users || 0, a.maxuser || 0)}`, !g && i === 0 && free, !free));
    });
    if (!agents.firstChild) agents.appendChild(h("p", { class: "muted", text: tt.noAgents }));
  };
  group.addEventListener("change", draw);
  draw();
}

function radio(value: string, label: string, note: string, checked: boolean, dim = false): HTMLElement {
  const input = h("input", { type: "radio", name: "transfer-to", value, "data-agent": value });
  input.checked = checked;
  return h("label", { class: "agent-choice" + (dim ? " dim" : "") }, input, h("span", { class: "agent-name", text: label }), note ? h("span", { class: "muted small", text: note }) : null);
}
