// Where the widget keeps what it remembers (the visitor identity, pre-chat details, ratings
// given, whether the window was open): never cookies.
//
// The widget page's own localStorage / sessionStorage when the browser lets a third-party frame
// use them. Browsers that block third-party storage (Chromium with third-party cookies blocked
// denies it outright) leave the widget without; then the loader keeps the values in the host
// page's own (first-party) storage, under "kefu:" keys: it sends them with its first message and
// writes what the widget posts back. Without either, values live in memory for the page's life.

export type Area = "local" | "session";

type Snapshot = Record<string, string>;

export interface StoreBackend {
  get(area: Area, key: string): string | null;
  set(area: Area, key: string, value: string | null): void;
  /** Which store is used, for diagnostics: "frame", "host" or "memory". */
  kind: string;
}

function native(name: "localStorage" | "sessionStorage"): Storage | null {
  try {
    const s = window[name];
    const probe = "kefu:probe";
    s.setItem(probe, "1");
    s.removeItem(probe);
    return s;
  } catch {
    return null;
  }
}

/** The widget's own storage, or null when the browser denies it. */
export function frameStore(): StoreBackend | null {
  const local = native("localStorage");
  const session = native("sessionStorage");
  if (!local) return null;
  const pick = (a: Area) => (a === "local" ? local : session);
  const mem: Snapshot = {};
  return {
    kind: "frame",
    get(area, key) {
      const s = pick(area);
      try {
        return s ? s.getItem(key) : area + key in mem ? mem[area + key] : null;
      } catch {
        return null;
      }
    },
    set(area, key, value) {
      const s = pick(area);
      try {
        if (!s) {
          if (value === null) delete mem[area + key];
          else mem[area + key] = value;
        } else if (value === null) s.removeItem(key);
        else s.setItem(key, value);
      } catch {
        // full or denied: forget it
      }
    },
  };
}

/** The host page's storage through the loader: `snapshot` came with the loader's first message. */
export function hostStore(snapshot: { local?: unknown; session?: unknown }, post: (msg: Record<string, unknown>) => void): StoreBackend {
  const data: Record<Area, Snapshot> = { local: clean(snapshot.local), session: clean(snapshot.session) };
  return {
    kind: "host",
    get(area, key) {
      return Object.prototype.hasOwnProperty.call(data[area], key) ? data[area][key] : null;
    },
    set(area, key, value) {
      if (value === null) delete data[area][key];
      else data[area][key] = value;
      post({ kefu: 1, type: "store", area, key, value });
    },
  };
}

export function memoryStore(): StoreBackend {
  const data: Record<Area, Snapshot> = { local: {}, session: {} };
  return {
    kind: "memory",
    get(area, key) {
      return Object.prototype.hasOwnProperty.call(data[area], key) ? data[area][key] : null;
    },
    set(area, key, value) {
      if (value === null) delete data[area][key];
      else data[area][key] = value;
    },
  };
}

function clean(v: unknown): Snapshot {
  const out: Snapshot = {};
  if (!v || typeof v !== "object") return out;
  for (const k of Object.keys(v as object)) {
    const val = (v as Record<string, unknown>)[k];
    if (k.indexOf("kefu:") === 0 && typeof val === "string") out[k] = val;
  }
  return out;
}
