// Opening a chat (`new`) and sending messages and files, with their acknowledgements and retries.

import { Ack, ACK_TIMEOUT_MS, ApiError, ApiErrorBody, emitAck, randomId, Upload } from "../common";
import { Item } from "./chatlog";
import { FieldName } from "./config";
import { statusBar, statusText } from "./elements";
import { log } from "./history";
import { pickAgain } from "./picker";
import { updateSubtitle } from "./look";
import { base, FILE_TYPES, IMAGE_TYPES, preset, S, site, t } from "./state";
import { showNotice } from "./status";
import { updateComposer } from "./views";

/** The open session's id, opening one (`new`) first when there is none. */
export function ensureSession(extra?: Partial<Record<FieldName, string>>): Promise<string> {
  if (S.sessionOpen && S.sid) return Promise.resolve(S.sid);
  if (S.starting) return S.starting;
  const s = S.socket;
  if (!s || S.refused) return Promise.reject(new Error(t.unavailable));
  const payload: Record<string, string> = {};
  for (const k of ["name", "phone", "email", "memo"] as FieldName[]) {
    const v = (extra && extra[k]) || (k !== "memo" ? S.contact[k] : undefined);
    if (v) payload[k] = v;
  }
  if (S.pendingAgent || preset.agent) payload.agent = S.pendingAgent || preset.agent;
  if (S.skill) payload.skill = S.skill;
  const p = emitAck<{ agentserviceid: string }>(s, "new", payload, ACK_TIMEOUT_MS).then((ack) => {
    if (!ack.ok && ack.error && ack.error.code === "bad_skill") {
      pickAgain();
      throw new Error(t.pickFirst);
    }
    if (!ack.ok) throw new AckError(ack.error);
    S.pendingAgent = "";
    if (ack.agentserviceid !== S.sid) S.hadAgent = false;
    S.sid = ack.agentserviceid;
    S.sessionOpen = true;
    if (!S.sessionState || S.sessionState === "ended" || S.sessionState === "offhours") S.sessionState = "starting";
    if (!statusText.textContent || statusBar.hidden) {
      statusText.textContent = t.queued();
      statusBar.hidden = false;
    }
    updateComposer();
    updateSubtitle();
    return S.sid;
  });
  S.starting = p;
  const clear = () => {
    if (S.starting === p) S.starting = null;
  };
  p.then(clear, clear);
  return p;
}

export class AckError extends Error {
  constructor(public body: ApiErrorBody) {
    super(ackError(body));
  }
}

export function ackError(e?: ApiErrorBody): string {
  if (!e) return t.errorGeneric;
  return e.message || e.code || t.errorGeneric;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message || t.errorGeneric;
  if (e instanceof Error) return e.message;
  return t.errorGeneric;
}

export type MsgAck = Ack<{ id: string; seq: number; createtime?: string }>;

export function emitMessage(item: Item, payload: Record<string, unknown>, retry: () => void): void {
  const s = S.socket;
  if (!s) return log.fail(item, t.unavailable, retry);
  const apply = (ack: MsgAck) => {
    if (ack.ok) log.acked(item, ack);
    else log.fail(item, ackError(ack.error), retry);
  };
  emitAck<{ id: string; seq: number; createtime?: string }>(s, "message", payload, ACK_TIMEOUT_MS, apply).then(apply, (e) =>
    log.fail(item, errorText(e), retry),
  );
}

export function sendText(text: string): void {
  const clientid = randomId();
  const item = log.addPending({ sid: S.sessionOpen ? S.sid : "", clientid, text, msgtype: "text" });
  const payload = { type: "message", msgtype: "text", message: text, clientid };
  const attempt = () => {
    log.update(item, { state: "sending", error: undefined, retry: undefined });
    ensureSession().then(
      (s) => {
        if (item.sid !== s) log.setSid(item, s);
        emitMessage(item, payload, attempt);
      },
      (e) => log.fail(item, errorText(e), attempt),
    );
  };
  attempt();
}

export function sendFile(file: File): void {
  const up = site.config.uploads;
  const isImage = IMAGE_TYPES.indexOf(file.type) >= 0;
  if (isImage ? !up.images : !up.files) return showNotice(up.images || up.files ? t.badType : t.uploadsOff);
  if (!isImage && file.type && FILE_TYPES.indexOf(file.type) < 0) return showNotice(t.badType);
  if (file.size > up.maxsize) return showNotice(t.tooBig((up.maxsize / 1024 / 1024).toFixed(up.maxsize < 1024 * 1024 ? 2 : 0)));
  const clientid = randomId();
  const item = log.addPending({
    sid: S.sessionOpen ? S.sid : "",
    clientid,
    text: file.name,
    msgtype: isImage ? "image" : "file",
    filename: file.name,
    filesize: file.size,
  });
  let stored: Upload | null = null;
  const attempt = () => {
    log.update(item, { state: "sending", error: undefined, retry: undefined, uploading: !stored });
    ensureSession()
      .then(async (s) => {
        if (item.sid !== s) log.setSid(item, s);
        if (!stored) stored = await upload(file);
        const u = stored;
        log.update(item, { uploading: false, url: u.url, filename: u.filename || file.name, filesize: u.filesize });
        const msgtype = IMAGE_TYPES.indexOf(u.mime) >= 0 ? "image" : "file";
        emitMessage(item, { type: "message", msgtype, message: u.filename || file.name, attachmentid: u.attachmentid, clientid }, attempt);
      })
      .catch((e) => log.fail(item, uploadError(e), attempt));
  };
  attempt();
}

export function uploadError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 413 || e.code === "too_large") {
      const up = site.config.uploads;
      return t.tooBig((up.maxsize / 1024 / 1024).toFixed(0));
    }
    if (e.code === "bad_request") return t.badType;
  }
  return errorText(e);
}

export async function upload(file: File): Promise<Upload> {
  if (!S.identity) throw new Error(t.unavailable);
  const fd = new FormData();
  fd.append("userid", S.identity.userid);
  fd.append("sign", S.identity.sign);
  fd.append("file", file, file.name || "file");
  let res: Response;
  try {
    res = await fetch(base + "/upload", { method: "POST", body: fd, credentials: "same-origin", cache: "no-store" });
  } catch {
    throw new ApiError(0, "unavailable", t.unavailable);
  }
  let data: any = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error;
    throw new ApiError(res.status, err && typeof err.code === "string" ? err.code : "", err && typeof err.message === "string" ? err.message : `HTTP ${res.status}`);
  }
  if (!data || typeof data.attachmentid !== "string") throw new Error(t.errorGeneric);
  return {
    attachmentid: data.attachmentid,
    url: typeof data.url === "string" ? data.url : "",
    filename: typeof data.filename === "string" ? data.filename : file.name,
    filesize: typeof data.filesize === "number" ? data.filesize : file.size,
    mime: typeof data.mime === "string" ? data.mime : file.type,
  };
}
