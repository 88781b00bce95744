// The visitor widget: the page at /im/{appid}/widget, shown in an iframe by the loader
// (/im/{appid}.js) on the host page, or opened directly as a full-page chat.
//
// It holds the whole visitor side: identity (localStorage, never cookies), the /im/user socket
// (opened on page load: presence, page trail, invites), the entry button, the invite popup and
// the chat window. The loader only positions the iframe: this page tells it which mode it is in
// (hidden, button, invite, open) and how large it wants to be, with postMessage.
//
// Nothing the server, an agent or the visitor sends is ever inserted as HTML.
//
// The parts: state.ts (shared state), elements.ts (the DOM), look.ts (texts and theme),
// views.ts (modes and views), picker.ts (the skill picker), prechat.ts, leave.ts, rating.ts,
// invite.ts, connection.ts (identity, config, socket), status.ts, send.ts, composer.ts,
// history.ts (the log and unread), hostlink.ts (the loader). Each part wires its own elements'
// events when loaded; this file starts the widget.

import { ApiError } from "../common";
import "./composer";
import { connect, getIdentity, goHidden, refreshConfig } from "./connection";
import { h } from "./dom";
import { root } from "./elements";
import { loadHistory } from "./history";
import { hostKnown } from "./hostlink";
import { scheduleAutoInvite } from "./invite";
import { applyTexts, applyTheme } from "./look";
import { resetSkill } from "./picker";
import { loadContact } from "./prechat";
import { embedded, key, S, site, storageGet, t } from "./state";
import { hostStore } from "./store";
import { openWindow, setMode } from "./views";

async function boot(): Promise<void> {
  document.body.classList.toggle("standalone", !embedded);
  document.body.classList.toggle("embedded", embedded);
  document.body.appendChild(root);
  applyTheme();
  applyTexts();
  setMode("hidden");
  if (embedded) {
    try {
      window.parent.postMessage({ kefu: 1, type: "ready" }, "*"); // carries nothing: asks the loader for the host page's facts
    } catch {
      // no parent to talk to
    }
    await Promise.race([hostKnown, new Promise((r) => setTimeout(r, 3000))]);
  } else {
    S.host = { title: document.title, url: location.href, referrer: document.referrer };
  }

  if (!S.storeReady) {
    // The browser denies this frame its storage: keep things in the host page's, through the loader.
    if (S.hostSnapshot && S.parentOrigin) {
      const target = S.parentOrigin;
      S.store = hostStore(S.hostSnapshot, (msg) => window.parent.postMessage(msg, target));
    }
    S.storeReady = true;
  }
  S.contact = loadContact();
  for (let attempt = 0; ; attempt++) {
    try {
      S.identity = await getIdentity();
      break;
    } catch (e) {
      if (e instanceof ApiError && (e.status === 403 || e.status === 404)) {
        // blacklisted (403) or no such site (404): stay hidden
        site.blocked = e.status === 403;
        setMode("hidden");
        document.body.setAttribute("data-ready", e.status === 403 ? "blocked" : "unknown");
        if (!embedded) showStandaloneError(e.status === 404 ? "unknown site" : "");
        return;
      }
      await new Promise((r) => setTimeout(r, Math.min(30, 2 ** attempt) * 1000));
    }
  }
  await refreshConfig();
  resetSkill();
  if (site.blocked) {
    document.body.setAttribute("data-ready", "blocked");
    return goHidden();
  }
  document.body.setAttribute("data-ready", "ready");
  void loadHistory();
  connect(S.identity);
  const restore = embedded && storageGet("session", key("open")) === "1";
  if (!embedded || restore) {
    openWindow(false);
  } else {
    window.setTimeout(() => {
      if (S.mode === "hidden" && !site.blocked) setMode("button");
      scheduleAutoInvite();
    }, site.config.button.delay * 1000);
  }
}

function showStandaloneError(msg: string): void {
  document.body.appendChild(h("p", { class: "fatal", text: msg ? `${t.unavailable} (${msg})` : t.unavailable }));
}

void boot();
