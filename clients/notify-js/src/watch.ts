import { Backoff } from "./backoff.js";
import type { Clock } from "./clock.js";
import { Emitter } from "./emitter.js";
import { NotifyHttpError, type NotifyRest, type TaskSnapshot } from "./rest.js";
import { CloseCodes, type TransportConnection, type TransportFactory } from "./transports.js";
import type { BatchProgress, Frame, TaskProgress, TransportKind } from "./types.js";

export interface WatchOptions {
  /** Polling fallback: time between GETs, ms. Default 1,000. */
  pollIntervalMs?: number;
  /** Attempts per streaming transport before moving to the next one. Default 2. */
  maxAttemptsPerTransport?: number;
}

export interface WatchContext {
  baseUrl(): string;
  token(): Promise<string | null>;
  rest: NotifyRest;
  clock: Clock;
  factories: Record<TransportKind, TransportFactory>;
  preferred(): TransportKind;
  order: TransportKind[];
}

export interface TaskWatchEvents {
  /** Each progress snapshot, in order, starting with the current one. */
  progress: TaskProgress;
  /** The task finished successfully. */
  completed: TaskProgress;
  /** The task failed or was cancelled. */
  failed: TaskProgress;
  /** The watch ended (after `completed`/`failed`, `close()`, or a fatal error). */
  end: { reason: "completed" | "failed" | "closed" | "error" };
  error: { code: string; message: string };
  /** The transport the watch is using now. */
  transport: { kind: TransportKind };
}

export interface BatchWatchEvents {
  progress: BatchProgress;
  finished: BatchProgress;
  end: { reason: "finished" | "closed" | "error" };
  error: { code: string; message: string };
  transport: { kind: TransportKind };
}

const TERMINAL_OK = new Set(["completed", "succeeded", "success", "done"]);
const TERMINAL_FAIL = new Set(["failed", "error", "cancelled", "canceled", "expired"]);

/**
 * Shared machinery of a watch: a stream over the preferred transport, the next one after repeated
 * failures, and REST polling last; ends on the terminal event.
 */
abstract class Watch<E extends { end: unknown; error: unknown; transport: unknown }> extends Emitter<E> {
  private conn: TransportConnection | null = null;
  private timer: unknown = null;
  private ended = false;
  private kinds: TransportKind[];
  private kindIndex = 0;
  private attempts = 0;
  private readonly backoff: Backoff;
  /** Resolves with the terminal snapshot; rejects when the watch fails or is closed first. */
  readonly done: Promise<unknown>;
  private resolveDone!: (value: unknown) => void;
  private rejectDone!: (err: Error) => void;

  protected constructor(
    protected readonly ctx: WatchContext,
    protected readonly options: WatchOptions,
    streamKinds: TransportKind[],
  ) {
    super();
    this.backoff = new Backoff({ baseMs: 250, maxMs: 5_000 }, () => ctx.clock.random());
    const preferred = ctx.preferred();
    // Start with the transport the main connection uses: if WebSockets are blocked there, they are here too.
    const ordered = ctx.order.filter((k) => streamKinds.includes(k) || k === "polling");
    const start = Math.max(0, ordered.indexOf(preferred));
    this.kinds = ordered.slice(start);
    if (!this.kinds.includes("polling")) this.kinds.push("polling");
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {});
  }

  protected abstract streamPath(): string;
  protected abstract poll(signal?: AbortSignal): Promise<void>;
  protected abstract handle(frame: Frame): void;

  /** Stops watching; `done` rejects if the task had not finished. */
  close(): void {
    this.finish("closed", null, new Error("watch closed"));
  }

  protected start(): void {
    this.ctx.clock.setTimeout(() => void this.open(), 0);
  }

  private get kind(): TransportKind {
    return this.kinds[Math.min(this.kindIndex, this.kinds.length - 1)]!;
  }

  private async open(): Promise<void> {
    if (this.ended) return;
    const kind = this.kind;
    this.emit("transport", { kind } as E["transport"]);
    if (kind === "polling") return this.pollLoop();
    let token: string | null;
    try {
      token = await this.ctx.token();
    } catch (err) {
      return this.fatal("token", err);
    }
    if (this.ended) return;
    let conn: TransportConnection | null = null;
    let sawFrame = false;
    try {
      conn = this.ctx.factories[kind](
        { kind, baseUrl: this.ctx.baseUrl(), path: this.streamPath(), token, lastId: null },
        {
          onOpen: () => {},
          onFrame: (frame) => {
            if (conn !== this.conn || this.ended) return;
            sawFrame = true;
            this.attempts = 0;
            this.handle(frame);
          },
          onClose: (code, reason) => {
            if (conn !== this.conn || this.ended) return;
            this.conn = null;
            this.onStreamClosed(code, reason, sawFrame);
          },
        },
      );
    } catch {
      return this.next();
    }
    this.conn = conn;
  }

  private onStreamClosed(code: number, reason: string, sawFrame: boolean): void {
    if (code === CloseCodes.Forbidden) return this.fatal("forbidden", new Error(reason || "forbidden"));
    // A stream that ended without a terminal event (e.g. idle limit): ask REST for the truth.
    if (code === CloseCodes.Normal || sawFrame) {
      this.timer = this.ctx.clock.setTimeout(() => void this.open(), this.backoff.delay(this.attempts++));
      return;
    }
    this.next();
  }

  private next(): void {
    this.attempts++;
    if (this.attempts >= (this.options.maxAttemptsPerTransport ?? 2) && this.kindIndex < this.kinds.length - 1) {
      this.kindIndex++;
      this.attempts = 0;
    }
    this.timer = this.ctx.clock.setTimeout(() => void this.open(), this.backoff.delay(this.attempts));
  }

  private async pollLoop(): Promise<void> {
    if (this.ended) return;
    try {
      await this.poll();
    } catch (err) {
      if (err instanceof NotifyHttpError && (err.status === 403 || err.status === 404)) return this.fatal("not_found", err);
      this.emit("error", { code: "poll", message: err instanceof Error ? err.message : String(err) } as E["error"]);
    }
    if (!this.ended) this.timer = this.ctx.clock.setTimeout(() => void this.pollLoop(), this.options.pollIntervalMs ?? 1000);
  }

  private fatal(code: string, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    this.emit("error", { code, message } as E["error"]);
    this.finish("error", null, new Error(message));
  }

  protected finish(reason: string, value: unknown, error?: Error): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== null) this.ctx.clock.clearTimeout(this.timer);
    this.conn?.close(1000, "watch ended");
    this.conn = null;
    this.emit("end", { reason } as E["end"]);
    if (error) this.rejectDone(error);
    else this.resolveDone(value);
  }
}

/** Follows one task: `progress` events until `completed` or `failed`. */
export class TaskWatch extends Watch<TaskWatchEvents> {
  declare readonly done: Promise<TaskProgress>;
  /** The newest snapshot. */
  last: TaskProgress | null = null;

  constructor(readonly taskId: string, ctx: WatchContext, options: WatchOptions) {
    super(ctx, options, ["websocket", "sse"]);
    this.start();
  }

  protected streamPath(): string {
    return `/api/ws/tasks/${encodeURIComponent(this.taskId)}`;
  }

  protected handle(frame: Frame): void {
    const data = { task_id: this.taskId, ...(frame.data ?? {}) } as TaskProgress;
    if (frame.type === "progress") return this.progress(data);
    if (frame.type === "completed") return this.terminal("completed", { ...this.last, ...data, progress: 100 });
    if (frame.type === "error") return this.terminal("failed", { ...this.last, ...data, status: data.status ?? "failed" });
  }

  protected async poll(): Promise<void> {
    const snapshot = progressOf(await this.ctx.rest.getTask(this.taskId));
    const status = String(snapshot.status ?? "").toLowerCase();
    if (TERMINAL_OK.has(status)) return this.terminal("completed", { ...snapshot, progress: 100 });
    if (TERMINAL_FAIL.has(status)) return this.terminal("failed", snapshot);
    this.progress(snapshot);
  }

  private progress(p: TaskProgress): void {
    this.last = p;
    this.emit("progress", p);
    const status = String(p.status ?? "").toLowerCase();
    if (TERMINAL_OK.has(status)) this.terminal("completed", { ...p, progress: 100 });
    else if (TERMINAL_FAIL.has(status)) this.terminal("failed", p);
  }

  private terminal(kind: "completed" | "failed", p: TaskProgress): void {
    this.last = p;
    if (kind === "completed") this.emit("progress", p);
    this.emit(kind, p);
    this.finish(kind, p);
  }
}

/**
 * The `progress` data a stream would have sent, from a REST task: the task's progress snapshot, with the
 * task's own status (authoritative) and its error; `progress` stays a number 0–100 whatever is missing.
 */
export function progressOf(task: TaskSnapshot): TaskProgress {
  const snapshot = task.progress && typeof task.progress === "object" ? task.progress : null;
  const progress = typeof snapshot?.progress === "number" ? snapshot.progress : 0;
  return {
    ...(snapshot ?? {}),
    task_id: task.task_id,
    status: task.status,
    progress,
    ...(task.error ? { error: task.error } : {}),
  };
}

/** Follows a batch: aggregated `progress` until `finished`. */
export class BatchWatch extends Watch<BatchWatchEvents> {
  declare readonly done: Promise<BatchProgress>;
  last: BatchProgress | null = null;

  constructor(readonly batchId: string, ctx: WatchContext, options: WatchOptions) {
    super(ctx, options, ["sse"]);
    this.start();
  }

  protected streamPath(): string {
    return `/api/sse/batches/${encodeURIComponent(this.batchId)}`;
  }

  protected handle(frame: Frame): void {
    const data = { batch_id: this.batchId, ...(frame.data ?? {}) } as BatchProgress;
    if (frame.type === "progress") return this.progress(data);
    if (frame.type === "finished" || frame.type === "completed") return this.terminal(data);
  }

  protected async poll(): Promise<void> {
    const snapshot = (await this.ctx.rest.getBatch(this.batchId)) as BatchProgress;
    this.progress(snapshot);
  }

  private progress(p: BatchProgress): void {
    this.last = p;
    this.emit("progress", p);
    const ended = (p.completed ?? 0) + (p.failed ?? 0) + (typeof p.cancelled === "number" ? p.cancelled : 0);
    const done = typeof p.total === "number" && p.total > 0 && ended >= p.total;
    const status = String((p as { status?: unknown }).status ?? "").toLowerCase();
    if (done || TERMINAL_OK.has(status) || status === "finished") this.terminal(p);
  }

  private terminal(p: BatchProgress): void {
    this.last = p;
    this.emit("finished", p);
    this.finish("finished", p);
  }
}
