// Getting the agent's attention: a short chime (Web Audio, so no media file and nothing for the
// CSP to allow) and a desktop notification while the page is hidden. Several tabs of one agent
// each notify; the notification's tag lets the browser show one per conversation.

type AudioCtor = typeof AudioContext;

export class Notifier {
  private audio: AudioContext | null = null;

  /** Asks for notification permission; call it from a user gesture. */
  requestPermission(): void {
    const N = notificationApi();
    if (N && N.permission === "default") {
      try {
        void N.requestPermission();
      } catch {
        // old callback-only API or blocked: no notifications
      }
    }
  }

  permissionDenied(): boolean {
    const N = notificationApi();
    return !N || N.permission === "denied";
  }

  chime(): void {
    const Ctor: AudioCtor | undefined = (window as any).AudioContext || (window as any).webkitAudioContext;
    if (!Ctor) return;
    try {
      if (!this.audio) this.audio = new Ctor();
      const ctx = this.audio;
      if (ctx.state === "suspended") void ctx.resume();
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = "sine";
      osc.frequency.setValueAtTime(880, ctx.currentTime);
      osc.frequency.setValueAtTime(1320, ctx.currentTime + 0.12);
      gain.gain.setValueAtTime(0.0001, ctx.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.2, ctx.currentTime + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + 0.35);
      osc.connect(gain);
      gain.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch {
      // audio unavailable (autoplay policy, no device): the badge and title still tell
    }
  }

  /** Shows a notification; clicking it brings the page forward and runs onClick. */
  desktop(title: string, body: string, tag: string, onClick?: () => void): void {
    const N = notificationApi();
    if (!N || N.permission !== "granted") return;
    try {
      const n = new N(title, { body, tag });
      n.onclick = () => {
        window.focus();
        n.close();
        if (onClick) onClick();
      };
    } catch {
      // some platforms only allow notifications from a service worker
    }
  }
}

function notificationApi(): typeof Notification | undefined {
  return typeof Notification === "function" ? Notification : undefined;
}

/** Whether the agent cannot see the page now (another tab, minimised). */
export function pageHidden(): boolean {
  return document.visibilityState === "hidden";
}
