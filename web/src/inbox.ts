import type { ListQuery, Notification, NotifyClient } from "../../clients/notify-js/src/index.js";
import { $, h, input, timeAgo } from "./dom.js";
import type { Alerts } from "./alerts.js";
import { SeenTracker } from "./seen.js";

const PAGE = 20;

type SyncMessage = { type: "read"; id: string } | { type: "read_all" } | { type: "deleted"; id: string };

/**
 * The inbox: newest first, paged by `before` as the list scrolls, live inserts from the client,
 * and a live badge of **unseen** notifications (`unseen_count`; unread stays in the list's status).
 * Items the page shows are marked seen in batches ({@link SeenTracker}); the server's `seen` frames
 * lower the badge of the user's other tabs and devices. Tabs of the same browser also tell each other
 * about reads and deletes over a BroadcastChannel so every tab's badge follows at once.
 */
export class Inbox {
  private readonly items = new Map<string, Notification>();
  private readonly list = $("inbox-list") as HTMLUListElement;
  private readonly sentinel = $("inbox-sentinel");
  private cursor: string | null = null;
  private exhausted = false;
  private loading: Promise<void> | null = null;
  private generation = 0;
  private unseen = 0;
  private readonly seen: SeenTracker;
  private refreshTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped by every live change of the count, so a REST count requested before it is never applied over it. */
  private liveEpoch = 0;
  private readonly sync: BroadcastChannel | null = typeof BroadcastChannel !== "undefined" ? new BroadcastChannel("notify.inbox") : null;

  constructor(private readonly client: NotifyClient, private readonly alerts: Alerts) {
    this.seen = new SeenTracker(client, this.list, () => !$("view-inbox").hidden, (ids) => {
      for (const id of ids) this.applySeen(id);
    });
  }

  start(): void {
    this.list.append(this.sentinel);
    $("filter-status").addEventListener("change", () => void this.reload());
    $("filter-view").addEventListener("change", () => void this.reload());
    input("filter-type").addEventListener("change", () => void this.reload());
    $("mark-all").addEventListener("click", () => void this.markAllRead());
    this.list.addEventListener("click", (e) => this.onClick(e));
    new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) void this.loadMore();
    }, { root: this.list, rootMargin: "200px" }).observe(this.sentinel);

    this.client.on("notification", (n) => this.onLive(n));
    this.client.on("unread_count", ({ unseen }) => {
      if (unseen !== undefined) this.setUnseen(unseen);
      else this.scheduleRefresh(0);
    });
    this.client.on("seen", ({ id }) => this.applySeen(id));
    // Reads and deletes made elsewhere (another tab, another device) arrive as frames from the server.
    this.client.on("read", (r) => {
      if (r.all) {
        for (const id of this.items.keys()) this.applyRead(id);
        this.setUnseen(0);
      } else if (r.id) {
        this.applyRead(r.id);
      }
      this.scheduleRefresh(0);
    });
    this.client.on("deleted", (d) => this.applyDelete(d.id));
    // Archive, snooze and bulk changes made elsewhere move items between the views: reload the list.
    this.client.on("archived", () => void this.reload());
    this.client.on("snoozed", () => void this.reload());
    this.client.on("bulk", () => void this.reload());
    this.client.on("resync", () => void this.reload());
    this.sync?.addEventListener("message", (e: MessageEvent<SyncMessage>) => this.onSync(e.data));
    void this.reload();
  }

  /** What the badge shows. */
  get unseenCount(): number {
    return this.unseen;
  }

  /** The inbox view became visible again: what it shows now counts as seen. */
  shown(): void {
    this.seen.collect();
  }

  private query(): ListQuery {
    const status = ($("filter-status") as HTMLSelectElement).value;
    const type = input("filter-type").value.trim();
    const view = ($("filter-view") as HTMLSelectElement).value;
    return {
      limit: PAGE,
      ...(status ? { status: status as "read" | "unread" } : {}),
      ...(type ? { type } : {}),
      ...(view === "archived" ? { archived: true } : view === "snoozed" ? { snoozed: true } : {}),
    };
  }

  private matches(n: Notification): boolean {
    const q = this.query();
    return (!q.status || n.status === q.status) && (!q.type || n.type === q.type) && !q.archived && !q.snoozed;
  }

  async reload(): Promise<void> {
    this.generation++;
    this.items.clear();
    for (const li of [...this.list.querySelectorAll("li.item")]) {
      this.seen.forget(li);
      li.remove();
    }
    this.cursor = null;
    this.exhausted = false;
    this.loading = null;
    await this.loadMore();
    this.scheduleRefresh(0);
  }

  private loadMore(): Promise<void> {
    if (this.exhausted) return Promise.resolve();
    if (this.loading) return this.loading;
    const generation = this.generation;
    this.sentinel.textContent = "Loading…";
    this.loading = (async () => {
      try {
        const page = await this.client.rest.list({ ...this.query(), ...(this.cursor ? { before: this.cursor } : {}) });
        if (generation !== this.generation) return;
        for (const n of page.items) {
          if (this.items.has(n.id)) continue;
          this.items.set(n.id, n);
          this.list.insertBefore(this.watched(this.render(n), n), this.sentinel);
        }
        this.cursor = page.next_cursor;
        this.exhausted = !page.next_cursor;
        this.sentinel.textContent = this.exhausted ? "" : "Scroll for more";
        $("inbox-empty").hidden = this.items.size > 0;
      } catch (err) {
        if (generation === this.generation) this.sentinel.textContent = `Could not load: ${err instanceof Error ? err.message : String(err)}`;
      } finally {
        if (generation === this.generation) this.loading = null;
      }
      // Keep filling while the sentinel is still in view (a tall screen, a short page).
      if (generation === this.generation && !this.exhausted && this.sentinelVisible()) void this.loadMore();
    })();
    return this.loading;
  }

  private sentinelVisible(): boolean {
    const list = this.list.getBoundingClientRect();
    const s = this.sentinel.getBoundingClientRect();
    return s.top < list.bottom + 200;
  }

  private onLive(n: Notification): void {
    this.liveEpoch++;
    if (this.items.has(n.id)) {
      // The list already showed it (a page loaded while it was created): the count may not include it yet.
      this.scheduleRefresh(0);
      return;
    }
    if (!n.seen_at) this.setUnseen(this.unseen + 1);
    this.alerts.notify(n);
    if (this.matches(n)) {
      this.items.set(n.id, n);
      const li = this.render(n);
      li.classList.add("fresh");
      const first = this.list.querySelector("li.item");
      this.list.insertBefore(li, first ?? this.sentinel);
      this.watched(li, n);
      $("inbox-empty").hidden = true;
    }
    // The server's count is the truth (other tabs, other devices); the local +1 is for speed.
    this.scheduleRefresh(1500);
  }

  private onClick(e: Event): void {
    const button = (e.target as HTMLElement).closest("button");
    const li = button?.closest<HTMLLIElement>("li.item");
    if (!button || !li) return;
    const id = li.dataset.id!;
    if (button.classList.contains("mark-read")) void this.markRead(id);
    else if (button.classList.contains("delete")) void this.remove(id);
    else if (button.classList.contains("archive")) void this.change(id, () => this.client.archive(id), "archive");
    else if (button.classList.contains("unarchive")) void this.change(id, () => this.client.archive(id, false), "unarchive");
    else if (button.classList.contains("snooze")) void this.change(id, () => this.client.snooze(id, new Date(Date.now() + 3_600_000)), "snooze");
    else if (button.classList.contains("unsnooze")) void this.change(id, () => this.client.snooze(id, null), "unsnooze");
  }

  /** Archive, unarchive, snooze or unsnooze: the item leaves the current view (the server tells other tabs). */
  private async change(id: string, action: () => Promise<void>, what: string): Promise<void> {
    try {
      await action();
      this.applyDelete(id);
    } catch (err) {
      this.alerts.toast(`Could not ${what}`, String(err), "error");
    }
  }

  private async markRead(id: string): Promise<void> {
    try {
      await this.client.markRead(id);
      this.applyRead(id);
      this.sync?.postMessage({ type: "read", id } satisfies SyncMessage);
    } catch (err) {
      this.alerts.toast("Could not mark read", String(err), "error");
    }
  }

  private async markAllRead(): Promise<void> {
    try {
      await this.client.markAllRead();
      for (const id of this.items.keys()) this.applyRead(id);
      this.setUnseen(0);
      this.sync?.postMessage({ type: "read_all" } satisfies SyncMessage);
    } catch (err) {
      this.alerts.toast("Could not mark all read", String(err), "error");
    }
  }

  private async remove(id: string): Promise<void> {
    try {
      await this.client.rest.delete(id);
      this.applyDelete(id);
      this.sync?.postMessage({ type: "deleted", id } satisfies SyncMessage);
    } catch (err) {
      this.alerts.toast("Could not delete", String(err), "error");
    }
  }

  private onSync(msg: SyncMessage): void {
    if (msg.type === "read") this.applyRead(msg.id);
    else if (msg.type === "read_all") {
      for (const id of this.items.keys()) this.applyRead(id);
      this.setUnseen(0);
    }
    else if (msg.type === "deleted") this.applyDelete(msg.id);
    this.scheduleRefresh(0);
  }

  private applyRead(id: string): void {
    this.liveEpoch++;
    const n = this.items.get(id);
    if (!n || n.status === "read") return;
    n.status = "read";
    // Reading marks seen too.
    if (!n.seen_at) {
      n.seen_at = new Date().toISOString();
      this.setUnseen(Math.max(0, this.unseen - 1));
    }
    this.replace(n);
    this.scheduleRefresh(300);
  }

  private applySeen(id: string): void {
    this.liveEpoch++;
    const n = this.items.get(id);
    if (n && !n.seen_at) {
      n.seen_at = new Date().toISOString();
      this.setUnseen(Math.max(0, this.unseen - 1));
      this.replace(n);
    }
    // An item this tab does not hold (another view, not loaded yet): the server's count decides.
    this.scheduleRefresh(n ? 300 : 0);
  }

  /** Has the seen tracker watch a row of an unseen item. */
  private watched(li: HTMLLIElement, n: Notification): HTMLLIElement {
    if (!n.seen_at) this.seen.watch(li);
    return li;
  }

  private applyDelete(id: string): void {
    this.liveEpoch++;
    const n = this.items.get(id);
    if (!n) return;
    this.items.delete(id);
    const li = this.list.querySelector(`li[data-id="${CSS.escape(id)}"]`);
    if (li) {
      this.seen.forget(li);
      li.remove();
    }
    $("inbox-empty").hidden = this.items.size > 0;
    this.scheduleRefresh(0);
  }

  private replace(n: Notification): void {
    const old = this.list.querySelector(`li[data-id="${CSS.escape(n.id)}"]`);
    if (!old) return;
    this.seen.forget(old);
    if (!this.matches(n)) old.remove();
    else old.replaceWith(this.watched(this.render(n), n));
  }

  private scheduleRefresh(delayMs: number): void {
    if (this.refreshTimer !== null) clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(async () => {
      this.refreshTimer = null;
      try {
        const epoch = this.liveEpoch;
        const count = await this.client.rest.unseenCount();
        // A live event changed the count while the request was in flight: its answer may predate it, so ask again.
        if (epoch !== this.liveEpoch) this.scheduleRefresh(0);
        else this.setUnseen(count);
      } catch {
        /* the next event refreshes again */
      }
    }, delayMs);
  }

  private setUnseen(count: number): void {
    this.unseen = count;
    const badge = $("badge");
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.dataset.count = String(count);
    badge.hidden = count === 0;
    document.title = count > 0 ? `(${count}) Notify` : "Notify";
  }

  private render(n: Notification): HTMLLIElement {
    const meta = [n.type, n.source, timeAgo(n.created_at)].filter(Boolean).join(" · ");
    return h(
      "li",
      { class: "item", "data-id": n.id, "data-status": n.status, "data-seen": n.seen_at ? "true" : "false", "data-severity": n.severity },
      h("span", { class: "sev" }),
      h(
        "div",
        { class: "body" },
        h("div", { class: "title" }, n.title || n.type),
        h("div", { class: "content" }, n.content),
        h("div", { class: "meta" }, meta, n.link ? " · " : "", n.link ? h("a", { href: safeLink(n.link) }, "open") : null),
      ),
      h(
        "div",
        { class: "actions" },
        n.status === "unread" ? h("button", { type: "button", class: "mark-read", title: "Mark read" }, "Mark read") : null,
        n.archived_at
          ? h("button", { type: "button", class: "unarchive", title: "Back to the inbox" }, "Unarchive")
          : h("button", { type: "button", class: "archive", title: "Archive" }, "Archive"),
        n.snoozed_until
          ? h("button", { type: "button", class: "unsnooze", title: `Snoozed until ${new Date(n.snoozed_until).toLocaleString()}` }, "Unsnooze")
          : n.archived_at ? null : h("button", { type: "button", class: "snooze", title: "Back in one hour, unread" }, "Snooze 1h"),
        h("button", { type: "button", class: "delete", title: "Delete" }, "Delete"),
      ),
    );
  }
}

/** Only http(s) and relative links become clickable; anything else (javascript:, data:) is neutralised. */
function safeLink(link: string): string {
  try {
    const url = new URL(link, location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : "#";
  } catch {
    return "#";
  }
}
