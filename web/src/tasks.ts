import type { BatchProgress, NotifyClient, TaskProgress } from "../../clients/notify-js/src/index.js";
import { $, duration, h } from "./dom.js";

const MAX_CARDS = 8;

/** Starts demo tasks and batches and shows their live progress with an ETA. */
export class Tasks {
  private readonly list = $("tasks") as HTMLUListElement;

  constructor(private readonly client: NotifyClient) {}

  start(): void {
    $("start-task").addEventListener("click", () => void this.startTask());
    $("start-batch").addEventListener("click", () => void this.startBatch());
  }

  private async startTask(): Promise<void> {
    const button = $("start-task") as HTMLButtonElement;
    button.disabled = true;
    try {
      const { task_id } = await this.client.rest.createTask("demo", {});
      const card = this.card(`Task ${task_id.slice(-6)}`, "task", task_id);
      const watch = this.client.watchTask(task_id);
      watch.on("progress", (p) => this.update(card, p.progress, p.status, p.eta_s, p.message ?? stepText(p)));
      watch.on("failed", (p) => this.update(card, p.progress ?? 0, "failed", null, String(p.message ?? "failed")));
      watch.on("transport", (t) => (card.dataset.transport = t.kind));
    } catch (err) {
      this.error(err);
    } finally {
      button.disabled = false;
    }
  }

  private async startBatch(): Promise<void> {
    const button = $("start-batch") as HTMLButtonElement;
    button.disabled = true;
    try {
      const { batch_id, task_ids } = await this.client.rest.createBatch("demo", Array.from({ length: 5 }, () => ({})));
      const card = this.card(`Batch ${batch_id.slice(-6)} (${task_ids.length} tasks)`, "batch", batch_id);
      const watch = this.client.watchBatch(batch_id);
      const started = Date.now();
      watch.on("progress", (p) => this.update(card, p.progress, batchStatus(p), batchEta(p, started), batchText(p)));
      watch.on("finished", (p) => this.update(card, 100, p.failed ? "failed" : "completed", 0, batchText(p)));
    } catch (err) {
      this.error(err);
    } finally {
      button.disabled = false;
    }
  }

  private card(title: string, kind: string, id: string): HTMLLIElement {
    const li = h(
      "li",
      { class: "task", "data-kind": kind, "data-id": id, "data-status": "queued", "data-progress": "0" },
      h("div", { class: "label" }, h("span", { class: "name" }, title), h("span", { class: "state muted" }, "queued")),
      h("div", { class: "bar" }, h("div", {})),
      h("div", { class: "msg muted small" }, ""),
    );
    this.list.prepend(li);
    while (this.list.children.length > MAX_CARDS) this.list.lastElementChild?.remove();
    return li;
  }

  private update(card: HTMLElement, progress: number, status: string, eta: number | null | undefined, message: string): void {
    const pct = Math.max(0, Math.min(100, Math.round(progress ?? 0)));
    card.dataset.progress = String(pct);
    card.dataset.status = status;
    (card.querySelector(".bar > div") as HTMLElement).style.width = `${pct}%`;
    const etaText = status === "completed" || status === "failed" || !eta ? "" : ` · ETA ${duration(eta)}`;
    card.querySelector(".state")!.textContent = `${pct}% · ${status}${etaText}`;
    card.querySelector(".msg")!.textContent = message;
  }

  private error(err: unknown): void {
    const li = h("li", { class: "error small" }, `Could not start: ${err instanceof Error ? err.message : String(err)}`);
    this.list.prepend(li);
  }
}

function stepText(p: TaskProgress): string {
  return p.total_steps ? `step ${p.step ?? 0} of ${p.total_steps}` : "";
}

function batchStatus(p: BatchProgress): string {
  if (p.total > 0 && p.completed + p.failed >= p.total) return p.failed ? "failed" : "completed";
  return p.running > 0 || p.completed > 0 ? "running" : "queued";
}

function batchText(p: BatchProgress): string {
  return `${p.completed ?? 0} done · ${p.running ?? 0} running · ${p.queued ?? 0} queued · ${p.failed ?? 0} failed`;
}

/** A batch's ETA from its own pace: elapsed time scaled by what is left. */
function batchEta(p: BatchProgress, started: number): number | null {
  if (typeof p.eta_s === "number") return p.eta_s;
  if (!p.progress || p.progress >= 100) return null;
  const elapsed = (Date.now() - started) / 1000;
  return (elapsed * (100 - p.progress)) / p.progress;
}
