// The working-hours editor of the settings section: the plain hours for every day, a weekly grid
// (a day's own ranges, closed, "same as Monday") and the holidays (a date closed or with other
// hours). It reads and writes the API's {workinghours, schedule} pair.

import type { Ctx } from "./shell";
import { button, h, input } from "./ui";

export interface Holiday {
  date: string;
  hours: string;
  name?: string;
}

export interface Schedule {
  days?: Record<string, string>;
  holidays?: Holiday[];
}

export const WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

export function dayName(ctx: Ctx, d: string): string {
  const i = WEEK.indexOf(d);
  const en = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
  const zh = ["星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"];
  return i < 0 ? d : ctx.t(en[i], zh[i]);
}

export interface HoursEditor {
  node: HTMLElement;
  /** The pair to save. */
  value(): { workinghours: string; schedule: Schedule };
  /** Where a server error about field ("workinghours", "schedule.days.sat", "schedule.holidays[1].date") goes. */
  errorSlots: Map<string, HTMLElement>;
}


export function hoursEditor(ctx: Ctx, spec: string, schedule: Schedule): HoursEditor {
  const t = ctx.t;
  const slots = new Map<string, HTMLElement>();
  const slot = (field: string) => {
    const n = h("p", { class: "error field-error", role: "alert", hidden: true, "data-field": field });
    slots.set(field, n);
    return n;
  };
  const every = input({ id: "set-workinghours", maxlength: "255", placeholder: t("e.g. 09:00~12:00,13:00~18:00", "如 09:00~12:00,13:00~18:00"), spellcheck: "false" }, spec);
  const days = schedule.days || {};
  const rows = WEEK.map((d) => {
    const own = Object.prototype.hasOwnProperty.call(days, d);
    const ranges = input({ id: "set-day-" + d, maxlength: "255", placeholder: t("as every day", "同每日"), spellcheck: "false", "aria-label": dayName(ctx, d) }, own ? days[d] : "");
    const closed = h("input", { type: "checkbox", id: "set-day-" + d + "-closed" });
    closed.checked = own && days[d] === "";
    const sync = () => (ranges.disabled = closed.checked);
    closed.addEventListener("change", sync);
    sync();
    return { d, ranges, closed };
  });
  const grid = h(
    "table",
    { class: "list week", id: "set-week" },
    h("thead", null, h("tr", null, h("th", { scope: "col", text: t("Day", "日期") }), h("th", { scope: "col", text: t("Hours", "时段") }), h("th", { scope: "col", text: t("Closed", "休息") }), h("th", { scope: "col" }))),
    h(
      "tbody",
      null,
      ...rows.map((r, i) =>
        h(
          "tr",
          { "data-day": r.d },
          h("th", { scope: "row", text: dayName(ctx, r.d) }),
          h("td", null, r.ranges, slot("schedule.days." + r.d)),
          h("td", null, r.closed),
          h(
            "td",
            null,
            i === 0
              ? null
              : button(
                  t("Same as Monday", "同星期一"),
                  () => {
                    r.ranges.value = rows[0].ranges.value;
                    r.closed.checked = rows[0].closed.checked;
                    r.ranges.disabled = r.closed.checked;
                  },
                  "secondary",
                  { id: "set-day-" + r.d + "-copy" },
                ),
          ),
        ),
      ),
    ),
  );

  const holidayBody = h("tbody");
  const holidayRows: { date: HTMLInputElement; closed: HTMLInputElement; hours: HTMLInputElement; name: HTMLInputElement; tr: HTMLElement; error: HTMLElement }[] = [];
  let made = 0; // ids stay unique when rows are removed and added
  const addHoliday = (hd: Holiday) => {
    const i = made++;
    const date = input({ type: "date", id: `set-hol-${i}-date`, "aria-label": t("Date", "日期") }, hd.date);
    const closed = h("input", { type: "checkbox", id: `set-hol-${i}-closed`, "aria-label": t("Closed all day", "全天休息") });
    closed.checked = hd.hours === "";
    const hours = input({ id: `set-hol-${i}-hours`, maxlength: "255", placeholder: "10:00~16:00", spellcheck: "false", "aria-label": t("Hours", "时段") }, hd.hours);
    const name = input({ id: `set-hol-${i}-name`, maxlength: "64", placeholder: t("e.g. National Day", "如：国庆节"), "aria-label": t("Name", "名称") }, hd.name || "");
    const sync = () => (hours.disabled = closed.checked);
    closed.addEventListener("change", sync);
    sync();
    const error = h("p", { class: "error field-error", role: "alert", hidden: true });
    const row = { date, closed, hours, name, tr: h("tr", { "data-holiday": String(i) }), error };
    const remove = button(t("Remove", "删除"), () => {
      row.tr.remove();
      holidayRows.splice(holidayRows.indexOf(row), 1);
    }, "danger", { id: `set-hol-${i}-remove` });
    row.tr.append(h("td", null, date, error), h("td", null, h("label", { class: "check" }, closed, t("closed", "休息"))), h("td", null, hours), h("td", null, name), h("td", null, remove));
    holidayRows.push(row);
    holidayBody.appendChild(row.tr);
  };
  for (const hd of schedule.holidays || []) addHoliday(hd);
  const holidays = h(
    "table",
    { class: "list holidays", id: "set-holidays" },
    h("thead", null, h("tr", null, ...[t("Date", "日期"), t("Closed", "休息"), t("Other hours", "特别时段"), t("Name", "名称"), ""].map((c) => h("th", { scope: "col", text: c })))),
    holidayBody,
  );
  const node = h(
    "div",
    { class: "hours-editor" },
    h("div", { class: "field" }, h("label", { for: every.id, text: t("Every day", "每日时段") + " " }, h("span", { class: "hint", text: t("ranges HH:MM~HH:MM, comma-separated; empty: always open", "格式 HH:MM~HH:MM，多个用逗号分隔；留空：全天开放") })), every, slot("workinghours")),
    h("p", { class: "hint", text: t("A range past midnight (22:00~02:00) belongs to the day it starts on; 24:00 may end a range. A weekday left empty has the every-day hours.", "跨午夜的时段（如 22:00~02:00）属于开始的那一天；结束时间可写 24:00。星期留空则使用每日时段。") }),
    grid,
    h("h4", { text: t("Holidays and special dates", "节假日与特殊日期") }),
    h("p", { class: "hint", text: t("A date listed here replaces its weekday's hours: closed all day, or other hours.", "这里的日期会替换当天的星期时段：全天休息，或使用特别时段。") }),
    holidays,
    slot("schedule.holidays"),
    button("+ " + t("Add a date", "添加日期"), () => addHoliday({ date: "", hours: "" }), "secondary", { id: "set-hol-add" }),
  );
  return {
    node,
    errorSlots: slots,
    value() {
      const out: Schedule = { days: {}, holidays: [] };
      for (const r of rows) {
        if (r.closed.checked) out.days![r.d] = "";
        else if (r.ranges.value.trim()) out.days![r.d] = r.ranges.value.trim();
      }
      // The server names a holiday by its place in the list sent.
      for (const k of Array.from(slots.keys())) if (/^schedule\.holidays\[/.test(k)) slots.delete(k);
      holidayRows.forEach((r, i) => slots.set(`schedule.holidays[${i}]`, r.error));
      for (const r of holidayRows) {
        out.holidays!.push({ date: r.date.value, hours: r.closed.checked ? "" : r.hours.value.trim(), name: r.name.value.trim() || undefined });
      }
      return { workinghours: every.value.trim(), schedule: out };
    },
  };
}
