import type { BulkAction, NotifyClient } from "../../clients/notify-js/src/index.js";
import { $, input } from "./dom.js";
import type { Alerts } from "./alerts.js";

/**
 * The inbox's bulk bar: one action (mark read, archive, delete) on every notification matching the
 * filters given (type, created before a time, read or unread). A request changes at most 10,000; when
 * the server says more matched, the bar sends the same request again. The server's `bulk` frame makes
 * every tab (this one too) reload its list.
 */
export class BulkBar {
  constructor(private readonly client: NotifyClient, private readonly alerts: Alerts) {}

  start(): void {
    $("bulk-apply").addEventListener("click", () => void this.apply());
  }

  private request(): BulkAction {
    const action = ($("bulk-action") as HTMLSelectElement).value as BulkAction["action"];
    const type = input("bulk-type").value.trim();
    const status = ($("bulk-status") as HTMLSelectElement).value;
    const before = input("bulk-before").value;
    return {
      action,
      ...(type ? { type } : {}),
      ...(status ? { status: status as "read" | "unread" } : {}),
      // datetime-local is the browser's local time; the API wants an instant.
      ...(before ? { before: new Date(before).toISOString() } : {}),
    };
  }

  private async apply(): Promise<void> {
    const request = this.request();
    const result = $("bulk-result");
    const button = $("bulk-apply") as HTMLButtonElement;
    button.disabled = true;
    try {
      let updated = 0;
      for (let round = 0; round < 100; round++) {
        const answer = await this.client.rest.bulk(request);
        updated += answer.updated;
        if (!answer.more) break;
      }
      result.textContent = `${updated} ${updated === 1 ? "notification" : "notifications"} changed`;
      result.dataset.updated = String(updated);
    } catch (err) {
      result.textContent = "";
      this.alerts.toast("Bulk action failed", err instanceof Error ? err.message : String(err), "error");
    } finally {
      button.disabled = false;
    }
  }
}
