import { NotifyClient, type ChannelMessage, type Frame, type WsStats } from "../../clients/notify-js/src/index.js";
import { $, h, input, timeAgo } from "./dom.js";
import type { Session } from "./session.js";
import { freshToken } from "./session.js";

const STATS_EVERY_MS = 2000;
const FEED_MAX = 50;

/** The admin page: live connection statistics, broadcasts, direct notifications and operations links. */
export class Admin {
  private timer: ReturnType<typeof setInterval> | null = null;
  private stream: NotifyClient | null = null;

  constructor(
    private readonly client: NotifyClient,
    private readonly session: Session,
    private readonly workerUrl: string | null,
    private readonly realtimeUrls: string[],
    private readonly getToken: () => Promise<string>,
  ) {
    $("bc-target").addEventListener("change", () => {
      $("bc-channel-label").hidden = ($("bc-target") as HTMLSelectElement).value !== "channel";
    });
    $("broadcast-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.broadcast();
    });
    $("notify-form").addEventListener("submit", (e) => {
      e.preventDefault();
      void this.notifyUser();
    });
    input("nf-user").value = session.userId;
  }

  activate(): void {
    this.openStream();
    if (this.timer !== null) return;
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), STATS_EVERY_MS);
    void this.links();
  }

  deactivate(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** The admin stream (`/api/ws/admin`): admin-channel publications and system messages, while the page is open. */
  private openStream(): void {
    if (this.stream) return;
    const stream = new NotifyClient({ url: this.realtimeUrls, apiUrl: location.origin, path: "/api/ws/admin", transports: ["websocket"], getToken: this.getToken });
    stream.on("message", (m: ChannelMessage) => {
      // A system message also arrives as its own `system_message` frame, shown below; show it once.
      if ((m.payload as { type?: unknown } | null)?.type === "system_message") return;
      this.feed(m.created_at, describe(m.payload));
    });
    stream.on("frame", (f: Frame) => {
      if (f.type !== "system_message") return;
      const d = (f.data ?? {}) as { message?: string; level?: string; timestamp?: string };
      this.feed(d.timestamp, `${d.level ?? "info"}: ${d.message ?? ""}`);
    });
    stream.on("connection", (e) => ($("admin-feed").dataset.state = e.state));
    stream.connect();
    this.stream = stream;
  }

  private feed(at: string | undefined, text: string): void {
    const feed = $("admin-feed");
    feed.prepend(h("li", {}, `${timeAgo(at ?? new Date().toISOString())} · ${text}`));
    while (feed.children.length > FEED_MAX) feed.lastElementChild?.remove();
  }

  private async links(): Promise<void> {
    const link = $("link-hangfire") as HTMLAnchorElement;
    if (!this.workerUrl) {
      link.removeAttribute("href");
      link.textContent = "Hangfire dashboard (worker address unknown)";
      return;
    }
    const token = await freshToken(location.origin, this.session);
    link.href = `${this.workerUrl.replace(/\/+$/, "")}/hangfire?token=${encodeURIComponent(token)}`;
  }

  private async refresh(): Promise<void> {
    try {
      const stats = await this.client.rest.wsStats();
      this.render(stats);
      $("stats-error").hidden = true;
      $("stats-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      const el = $("stats-error");
      el.textContent = `Statistics unavailable: ${err instanceof Error ? err.message : String(err)}`;
      el.hidden = false;
    }
  }

  private render(s: WsStats): void {
    $("stat-users").textContent = String(s.total_users ?? 0);
    $("stat-connections").textContent = String(s.total_connections ?? 0);
    $("stat-user-conns").textContent = String(s.total_user_connections ?? 0);
    $("stat-admin-conns").textContent = String(s.total_admin_connections ?? 0);
    $("stat-instances").replaceChildren(
      ...(s.instances ?? []).map((i) => h("tr", { "data-instance": i.id }, h("td", {}, i.id), h("td", {}, String(i.connections)), h("td", {}, timeAgo(i.started_at)))),
    );
    const users = Object.entries(s.users ?? {}).sort((a, b) => b[1] - a[1]).slice(0, 50);
    $("stat-users-table").replaceChildren(...users.map(([u, n]) => h("tr", {}, h("td", {}, u), h("td", {}, String(n)))));
  }

  private async broadcast(): Promise<void> {
    const target = ($("bc-target") as HTMLSelectElement).value;
    const channel = target === "channel" ? input("bc-channel").value.trim() : target === "admin" ? "admin" : undefined;
    const result = $("bc-result");
    const title = input("bc-title").value.trim();
    try {
      await this.client.rest.broadcast({
        type: input("bc-type").value.trim(),
        ...(title ? { title } : {}),
        content: ($("bc-content") as HTMLTextAreaElement).value,
        level: ($("bc-level") as HTMLSelectElement).value as "info",
        ...(channel ? { channel } : {}),
      });
      result.textContent = `Sent to ${channel ?? "all connected users"} at ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      result.textContent = `Failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private async notifyUser(): Promise<void> {
    const result = $("nf-result");
    try {
      const n = await this.client.rest.create({
        user_id: input("nf-user").value.trim(),
        type: "admin_message",
        title: input("nf-title").value.trim(),
        content: input("nf-content").value,
        source: "admin-page",
        severity: "info",
      });
      result.textContent = "suppressed" in n ? `Not stored: ${n.user_id} turned ${n.type} off` : `Stored as ${n.id}`;
    } catch (err) {
      result.textContent = `Failed: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}

export function describe(payload: unknown): string {
  if (payload && typeof payload === "object") {
    const p = payload as Record<string, unknown>;
    const title = p.title ?? p.type ?? "";
    const body = p.content ?? p.message ?? "";
    return [title, body].filter((x) => x !== "" && x !== undefined && x !== null).map(String).join(": ") || JSON.stringify(payload);
  }
  return String(payload ?? "");
}
