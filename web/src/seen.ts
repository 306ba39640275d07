import type { NotifyClient } from "../../clients/notify-js/src/index.js";

/** How long shown items are collected before one batch marks them seen. */
const BATCH_MS = 400;
/** Most ids one batch marks; the rest wait for the next. */
const BATCH_MAX = 50;

/**
 * Marks the inbox items the page actually shows as seen: an unseen item that is at least half visible in
 * the list while the tab is visible is collected, and every `BATCH_MS` the collected ids go out as one
 * batch (`markSeenMany`: REST, a few at a time). The server then tells the user's other tabs (`seen`
 * frames), which lower their badges. `?seen=manual` turns this off (tests of the badge arithmetic).
 */
export class SeenTracker {
  private readonly pending = new Set<string>();
  private readonly visible = new Set<string>();
  private readonly observer: IntersectionObserver;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly enabled = new URLSearchParams(location.search).get("seen") !== "manual";

  constructor(
    private readonly client: NotifyClient,
    list: HTMLElement,
    private readonly isShown: () => boolean,
    private readonly onSeen: (ids: string[]) => void,
  ) {
    this.observer = new IntersectionObserver((entries) => {
      for (const e of entries) {
        const id = (e.target as HTMLElement).dataset.id!;
        if (e.isIntersecting) this.visible.add(id);
        else this.visible.delete(id);
      }
      this.collect();
    }, { root: list, threshold: 0.5 });
    document.addEventListener("visibilitychange", () => this.collect());
  }

  /** Watches an unseen item's row. */
  watch(li: HTMLElement): void {
    if (this.enabled) this.observer.observe(li);
  }

  /** Stops watching a row (removed, re-rendered, or seen). */
  forget(li: Element): void {
    this.observer.unobserve(li);
    const id = (li as HTMLElement).dataset.id;
    if (id) this.visible.delete(id);
  }

  /** Call when the inbox view is shown again: what is on screen now counts as seen. */
  collect(): void {
    if (!this.enabled || document.visibilityState !== "visible" || !this.isShown()) return;
    for (const id of this.visible) this.pending.add(id);
    if (this.pending.size > 0 && this.timer === null) this.timer = setTimeout(() => void this.flush(), BATCH_MS);
  }

  private async flush(): Promise<void> {
    this.timer = null;
    const batch = [...this.pending].slice(0, BATCH_MAX);
    for (const id of batch) {
      this.pending.delete(id);
      this.visible.delete(id);
    }
    if (batch.length === 0) return;
    const done = await this.client.markSeenMany(batch).catch(() => [] as string[]);
    if (done.length > 0) this.onSeen(done);
    if (this.pending.size > 0) this.timer = setTimeout(() => void this.flush(), BATCH_MS);
  }
}
