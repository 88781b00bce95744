// The rating form, as the site's satisfaction settings say: the scale and its labels, the
// optional comment, after a served chat ends or only when the agent asks.

import { emitAck } from "../common";
import { h, icon } from "./dom";
import { rating } from "./elements";
import { log, updateUnread } from "./history";
import { ackError, errorText } from "./send";
import { key, S, site, storageGet, storageSet, t } from "./state";
import { focusDefault } from "./views";

export function renderRating(): void {
  rating.textContent = "";
  const form = h("form", { class: "card form", id: "kefu-rating-form" });
  const group = h("fieldset", { class: "stars", id: "kefu-stars" });
  group.appendChild(h("legend", { class: "sr-only", text: t.rateTitle }));
  const levelText = h("p", { class: "level-text", id: "kefu-level-text", "aria-hidden": "true" });
  const sat = site.config.satisfaction;
  const labels = levelLabels();
  group.setAttribute("data-scale", String(sat.scale));
  for (let i = 1; i <= sat.scale; i++) {
    const id = "kefu-star-" + i;
    const name = labels[i - 1];
    const input = h("input", { type: "radio", name: "level", value: String(i), id, class: "sr-only" });
    const label = h("label", { for: id, title: name }, icon("star", 30), h("span", { class: "sr-only", text: `${i} – ${name}` }));
    input.addEventListener("change", () => {
      levelText.textContent = name;
      group.setAttribute("data-level", String(i));
    });
    group.append(input, label);
  }
  const comment = h("textarea", { id: "kefu-rating-comment", rows: "3", maxlength: "500" });
  const commentField = h("div", { class: "field" }, h("label", { for: "kefu-rating-comment", text: t.rateComment }), comment);
  commentField.hidden = !sat.comment;
  const err = h("p", { class: "error", role: "alert", hidden: true });
  const submit = h("button", { type: "submit", class: "primary", id: "kefu-rating-submit", text: t.rateSubmit });
  const skip = h("button", { type: "button", class: "secondary", id: "kefu-rating-skip", text: t.rateSkip });
  form.append(
    h("h2", { id: "kefu-rating-title", text: t.rateTitle }),
    group,
    levelText,
    commentField,
    err,
    h("div", { class: "actions" }, skip, submit),
  );
  rating.appendChild(form);
  skip.addEventListener("click", () => closeRating(true));
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const checked = form.querySelector<HTMLInputElement>('input[name="level"]:checked');
    if (!checked) {
      err.textContent = t.ratePick;
      err.hidden = false;
      return;
    }
    if (!S.socket || !S.ratingSid) return;
    err.hidden = true;
    submit.disabled = true;
    const target = S.ratingSid;
    emitAck<{}>(S.socket, "satisfaction", { agentserviceid: target, level: Number(checked.value), comment: sat.comment ? comment.value.trim() : "" })
      .then((ack) => {
        if (ack.ok) {
          markRated(target);
          closeRating(false);
          log.addNote(target, t.rateThanks);
        } else {
          err.textContent = ackError(ack.error);
          err.hidden = false;
        }
      })
      .catch((e) => {
        err.textContent = errorText(e);
        err.hidden = false;
      })
      .then(() => {
        submit.disabled = false;
      });
  });
}

export function rated(s: string): boolean {
  return (storageGet("local", key("rated")) || "").split(",").indexOf(s) >= 0;
}

export function markRated(s: string): void {
  const list = (storageGet("local", key("rated")) || "").split(",").filter(Boolean);
  list.push(s);
  storageSet("local", key("rated"), list.slice(-20).join(","));
}

/** The site's names of its levels, worst first, else ours for its scale. */
function levelLabels(): string[] {
  const sat = site.config.satisfaction;
  return sat.labels || (sat.scale === 3 ? t.rateLevels3 : t.rateLevels);
}

/**
 * Offers the rating form for session s: when the agent asks (byAgent), or at the end of a served
 * chat unless the site rates only on request; never when the site takes no ratings.
 */
export function askRating(s: string, byAgent: boolean): void {
  const sat = site.config.satisfaction;
  if (!s || rated(s) || !sat.enabled || (!byAgent && sat.when === "request")) return;
  S.ratingSid = s;
  if (S.mode === "open") openRating();
  else {
    S.ratingPending = true;
    updateUnread();
  }
}

export function openRating(): void {
  S.ratingPending = false;
  renderRating();
  rating.hidden = false;
  const first = rating.querySelector<HTMLInputElement>('input[name="level"]');
  if (first && S.userOpened) first.focus();
}

export function closeRating(skipped: boolean): void {
  if (skipped && S.ratingSid) markRated(S.ratingSid); // asked once: a skip is an answer
  rating.hidden = true;
  S.ratingSid = "";
  focusDefault();
}
