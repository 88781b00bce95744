// Quality review: a supervisor scores an ended conversation against the tenant's checklist; the
// agent sees its reviews; admins edit the checklist.

import { App } from "./ui";

/** Shows the review of conversation `sessionId` in `el` (and, for supervisors, a way to score it). */
export function mountReview(app: App, el: HTMLElement, sessionId: string, onChange?: () => void): void {
  void app;
  void el;
  void sessionId;
  void onChange;
}

/** The admins' checklist editor. */
export function checklistDialog(app: App): void {
  void app;
}
