// Enterprise IM (agent-to-agent chat over /im/entim) inside the workbench.
// The workbench mounts it once after login into its IM tab and hears the
// total unread count through onUnread.

export interface EntimOptions {
  token: string;
  me: { id: string; nickname: string };
  lang: "en" | "zh-CN";
  // Total unread entim messages (1:1 and groups) whenever it changes.
  onUnread(total: number): void;
}

export interface EntimHandle {
  // The IM tab became visible (the open conversation may be marked read) or hidden.
  setVisible(visible: boolean): void;
  // Logout: close the socket and clear the panel.
  close(): void;
}

export function mountEntim(root: HTMLElement, opts: EntimOptions): EntimHandle {
  root.textContent = "";
  opts.onUnread(0);
  return { setVisible: () => {}, close: () => { root.textContent = ""; } };
}
