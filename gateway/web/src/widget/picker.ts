// The skill picker (UCKeFu's consult_skill_*): on a site bound to several skill groups the visitor
// chooses one before the chat starts, one button per group (data-skill = its id) with whether
// someone is online when the site shows it. A page's preset (the embed tag's data-skill, or
// ?skill= on the full-page chat) that is one of the site's groups skips it; any other preset is
// ignored and the picker shown. A preset agent (data-agent, ?agent=) skips it too: the server
// routes to that agent's group, and sends us back here if the agent is not one of the site's.

import { h } from "./dom";
import { picker } from "./elements";
import { needsPrechat, focusDefault, setView } from "./views";
import { preset, S, site, t } from "./state";
import { ensureSession } from "./send";
import { showNotice } from "./status";

/** Whether the visitor must choose a group before a new chat. */
export function needsPicker(): boolean {
  const c = site.consult;
  if (!c || c.skills.length < 2 || S.pendingAgent || S.agentRoutes) return false;
  return !c.skills.some((s) => s.id === S.skill);
}

/** The group a new chat starts with: the page's preset if it is one of the site's, else none. */
export function resetSkill(): void {
  const c = site.consult;
  S.skill = c && c.skills.some((s) => s.id === preset.skill) ? preset.skill : "";
}

/** The server refused the chat's group (or wants one): let the visitor choose. */
export function pickAgain(): void {
  S.skill = "";
  S.agentRoutes = false;
  renderPicker();
  setView("picker");
  showNotice(t.pickFirst);
}

export function renderPicker(): void {
  picker.textContent = "";
  const c = site.consult;
  if (!c) return;
  const list = h("ul", { class: "skills", role: "list" });
  for (const s of c.skills) {
    const b = h("button", { type: "button", class: "skill", "data-skill": s.id }, h("span", { class: "skill-name", text: s.name }));
    if (c.showagents && s.online !== undefined) {
      const state = s.online ? t.pickerOnline : t.pickerOffline;
      b.append(
        h("span", { class: "dot " + (s.online ? "online" : "offline"), "aria-hidden": "true" }),
        h("span", { class: "skill-state", text: state }),
      );
      b.setAttribute("data-online", String(s.online));
    }
    b.addEventListener("click", () => choose(s.id));
    list.appendChild(h("li", null, b));
  }
  picker.append(h("h2", { id: "kefu-picker-title", text: c.title || t.pickerTitle }), list);
}

function choose(id: string): void {
  S.skill = id;
  S.userOpened = true;
  if (needsPrechat()) {
    setView("prechat");
    focusDefault();
    return;
  }
  setView("chat");
  focusDefault();
  ensureSession().catch((e) => showNotice(t.startFailed + (e instanceof Error ? e.message : "")));
}
