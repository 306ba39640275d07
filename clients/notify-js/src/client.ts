import { Backoff, type BackoffOptions } from "./backoff.js";
import { systemClock, type Clock } from "./clock.js";
import { DedupeSet, compareIds } from "./dedupe.js";
import { Emitter } from "./emitter.js";
import { NotifyRest, resolveToken } from "./rest.js";
import type { EventSourceConstructor } from "./sse.js";
import {
  CloseCodes,
  pollingTransport,
  sseTransport,
  webSocketTransport,
  type TransportConnection,
  type TransportFactory,
  type WebSocketConstructor,
} from "./transports.js";
import type {
  ChannelMessage,
  ConnectedInfo,
  ConnectionState,
  Frame,
  Notification,
  NotifyEvents,
  TransportKind,
} from "./types.js";
import { BatchWatch, TaskWatch, type WatchOptions } from "./watch.js";

export interface NotifyClientOptions {
  /** The Realtime service's base URL (`http(s)://host:port`), or several replicas: attempts rotate through them. */
  url: string | string[];
  /** The stream to open: `/api/ws/notifications` (default), or `/api/ws/admin` for the admin stream (WebSocket only). */
  path?: string;
  /** The Api's base URL for REST calls. Default: the first `url`. */
  apiUrl?: string;
  /** A fixed token. Ignored when `getToken` is given. */
  token?: string;
  /** Returns a token; called before the first connect and again after the server rejected one (4001). */
  getToken?: () => string | null | Promise<string | null>;
  /** Transports in order of preference. Default `["websocket", "sse", "polling"]`. */
  transports?: TransportKind[];
  /** Consecutive failed WebSocket attempts before falling back to SSE. Default 3. */
  maxWsAttempts?: number;
  /** Consecutive failed SSE attempts before falling back to polling. Default 3. */
  maxSseAttempts?: number;
  /** While on a fallback transport, how often to try the preferred one again, ms. Default 60,000. */
  upgradeIntervalMs?: number;
  /** Reconnect backoff: base 500 ms, cap 30,000 ms, factor 2, full jitter. */
  backoff?: BackoffOptions;
  /** An attempt without a `connected` frame within this time fails, ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** No frame for this many heartbeat intervals → reconnect. Default 2.5. */
  heartbeatTimeoutFactor?: number;
  /** Heartbeat interval assumed until the server announces one, s. Default 30. */
  defaultHeartbeatIntervalS?: number;
  /** Polling transport: time between polls, ms. Default 5,000. */
  pollIntervalMs?: number;
  /** How many notification and message ids are remembered for de-duplication. Default 1,000. */
  dedupeCapacity?: number;
  /** Resume after this notification id on the first connect (e.g. one stored by the app). */
  lastId?: string | null;
  /** Page size of the REST reload after a `resync`. Default 50. */
  resyncPageSize?: number;
  /**
   * Where `online` events come from (browsers: `window`); when the network comes back while the
   * client waits to reconnect, it reconnects at once instead of sleeping out its backoff.
   * Default: the global object when it is an event target; `null` turns this off.
   */
  onlineEvents?: EventTarget | null;
  /** Implementations for runtimes without globals, and for tests. */
  WebSocket?: WebSocketConstructor;
  EventSource?: EventSourceConstructor;
  fetch?: typeof fetch;
  clock?: Clock;
  /** Replaces the built-in transports (tests, custom transports). */
  transportFactories?: Partial<Record<TransportKind, TransportFactory>>;
}

interface Subscription {
  since: string | null;
}

const DEFAULT_TRANSPORTS: TransportKind[] = ["websocket", "sse", "polling"];

/** Where a 4029 close puts the backoff curve: its ceiling there is the shortest wait after one (4 s by default). */
const RATE_LIMITED_ATTEMPT = 3;

/**
 * A live connection to Notify's Realtime service: WebSocket first, SSE after `maxWsAttempts`
 * failed WebSocket attempts, REST polling as the last resort, with periodic upgrade probes back to
 * the preferred transport. Reconnects with capped, fully jittered exponential backoff, resumes
 * from the last seen id on every transport, and never emits the same notification twice.
 */
export class NotifyClient extends Emitter<NotifyEvents> {
  readonly rest: NotifyRest;
  private readonly clock: Clock;
  private readonly backoff: Backoff;
  private readonly urls: string[];
  private readonly order: TransportKind[];
  private readonly factories: Record<TransportKind, TransportFactory>;
  private readonly dedupe: DedupeSet;
  private readonly messageDedupe: DedupeSet;
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly failures: Record<TransportKind, number> = { websocket: 0, sse: 0, polling: 0 };

  private _state: ConnectionState = "idle";
  private _transport: TransportKind | null = null;
  private _lastId: string | null;
  private _attempt = 0;
  private urlIndex = 0;
  private token: string | null = null;
  private tokenStale = true;
  private authRetries = 0;
  private current: TransportConnection | null = null;
  private currentConnected = false;
  private probe: TransportConnection | null = null;
  private generation = 0;
  private heartbeatMs: number;
  private reconnectTimer: unknown = null;
  private connectTimer: unknown = null;
  private watchdogTimer: unknown = null;
  private upgradeTimer: unknown = null;
  private probeTimer: unknown = null;
  private readonly onOnline = () => {
    if (this._state !== "reconnecting" || this.reconnectTimer === null) return;
    this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    void this.openAttempt();
  };

  constructor(private readonly options: NotifyClientOptions) {
    super();
    this.clock = options.clock ?? systemClock;
    this.backoff = Backoff.fromClock(options.backoff ?? {}, this.clock);
    this.urls = (Array.isArray(options.url) ? options.url : [options.url]).filter((u) => u !== undefined && u !== null);
    if (this.urls.length === 0) throw new Error("NotifyClient: options.url is required");
    this.order = options.transports?.length ? [...options.transports] : DEFAULT_TRANSPORTS;
    this._lastId = options.lastId ?? null;
    this.heartbeatMs = (options.defaultHeartbeatIntervalS ?? 30) * 1000;
    this.dedupe = new DedupeSet(options.dedupeCapacity ?? 1000);
    this.messageDedupe = new DedupeSet(options.dedupeCapacity ?? 1000);
    this.rest = new NotifyRest({
      baseUrl: options.apiUrl ?? this.urls[0]!,
      token: () => this.currentToken(),
      realtimeUrl: () => this.url,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.factories = {
      websocket: options.transportFactories?.websocket ?? webSocketTransport(options.WebSocket),
      sse:
        options.transportFactories?.sse ??
        sseTransport({ ...(options.EventSource ? { EventSource: options.EventSource } : {}), ...(options.fetch ? { fetch: options.fetch } : {}) }),
      polling:
        options.transportFactories?.polling ??
        pollingTransport({ rest: this.rest, clock: this.clock, intervalMs: options.pollIntervalMs ?? 5000 }),
    };
  }

  get state(): ConnectionState {
    return this._state;
  }

  /** The transport in use or being tried; null before the first attempt. */
  get transport(): TransportKind | null {
    return this._transport;
  }

  /** The newest notification id seen: the resume cursor. */
  get lastId(): string | null {
    return this._lastId;
  }

  /** Consecutive failed attempts since the last successful connect. */
  get attempt(): number {
    return this._attempt;
  }

  /** The Realtime base URL of the current (or next) attempt. */
  get url(): string {
    return this.urls[this.urlIndex % this.urls.length]!;
  }

  /** Starts connecting (idempotent). */
  connect(): this {
    if (this._state === "idle" || this._state === "closed") {
      this.onlineTarget()?.addEventListener("online", this.onOnline);
      this._attempt = 0;
      this.failures.websocket = this.failures.sse = this.failures.polling = 0;
      this.setState("connecting", {});
      void this.openAttempt();
    }
    return this;
  }

  /** Closes the connection for good; `connect()` starts again. */
  close(): void {
    this.onlineTarget()?.removeEventListener("online", this.onOnline);
    this.generation++;
    this.clearTimers();
    this.dropProbe();
    const conn = this.current;
    this.current = null;
    conn?.close(1000, "client closed");
    if (this._state !== "closed" && this._state !== "idle") this.setState("closed", { code: 1000, reason: "client closed" });
  }

  /** Drops the connection and reconnects now (keeps the resume id and subscriptions). */
  reconnect(): void {
    if (this._state === "idle" || this._state === "closed") return void this.connect();
    this.fail(this.current, CloseCodes.GoingAway, "reconnect requested");
  }

  /** Subscribes to a channel; kept across reconnects and resumed after the last offset seen. */
  subscribe(channel: string, options: { since?: string | null } = {}): void {
    const existing = this.subscriptions.get(channel);
    const since = options.since ?? existing?.since ?? null;
    this.subscriptions.set(channel, { since });
    if (this.currentConnected) this.current?.send({ type: "subscribe", channel, ...(since ? { since } : {}) });
  }

  unsubscribe(channel: string): void {
    if (!this.subscriptions.delete(channel)) return;
    if (this.currentConnected) this.current?.send({ type: "unsubscribe", channel });
  }

  /** Channels subscribed, with the offset a resume would start after. */
  get channels(): ReadonlyMap<string, { since: string | null }> {
    return this.subscriptions;
  }

  /** Marks a notification read through REST, then emits `read`. */
  async markRead(id: string, signal?: AbortSignal): Promise<void> {
    await this.rest.markRead(id, signal);
    this.emit("read", { id });
  }

  /** Marks a notification seen through REST, then emits `seen` (other tabs get the `seen` frame). */
  async markSeen(id: string, signal?: AbortSignal): Promise<void> {
    await this.rest.markSeen(id, signal);
    this.emit("seen", { id });
  }

  /**
   * Marks several notifications seen (what a list just showed) through REST, at most `concurrency` requests
   * at a time, emitting `seen` for each one that succeeded; returns those ids. Ids that failed (gone, 404) are
   * left out rather than thrown, so one deleted item does not stop the batch.
   */
  async markSeenMany(ids: readonly string[], concurrency = 4, signal?: AbortSignal): Promise<string[]> {
    const done: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        try {
          await this.rest.markSeen(id, signal);
          done.push(id);
          this.emit("seen", { id });
        } catch (err) {
          if (signal?.aborted) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, ids.length)) }, worker));
    return done;
  }

  /** Archives (or, with `archived` false, unarchives) a notification through REST, then emits `archived`. */
  async archive(id: string, archived = true, signal?: AbortSignal): Promise<void> {
    await (archived ? this.rest.archive(id, signal) : this.rest.unarchive(id, signal));
    this.emit("archived", { id, archived });
  }

  /** Snoozes a notification until `until` (null clears the snooze) through REST, then emits `snoozed`. */
  async snooze(id: string, until: Date | string | null, signal?: AbortSignal): Promise<void> {
    const at = until === null ? null : typeof until === "string" ? until : until.toISOString();
    await (at === null ? this.rest.unsnooze(id, signal) : this.rest.snooze(id, at, signal));
    this.emit("snoozed", { id, until: at });
  }

  /** Marks every notification read through REST; returns how many changed. */
  async markAllRead(signal?: AbortSignal): Promise<number> {
    const updated = await this.rest.markAllRead(signal);
    this.emit("read", { all: true });
    return updated;
  }

  /** Follows one task's progress (WebSocket, SSE or polling; see {@link TaskWatch}). */
  watchTask(taskId: string, options: WatchOptions = {}): TaskWatch {
    const watch = new TaskWatch(taskId, this.watchContext(), options);
    watch.on("progress", (p) => this.emit("progress", p));
    return watch;
  }

  /** Follows a batch's aggregated progress (SSE, else polling). */
  watchBatch(batchId: string, options: WatchOptions = {}): BatchWatch {
    const watch = new BatchWatch(batchId, this.watchContext(), options);
    watch.on("progress", (p) => this.emit("batch_progress", p));
    return watch;
  }

  private watchContext() {
    return {
      baseUrl: () => this.url,
      token: () => this.currentToken(),
      rest: this.rest,
      clock: this.clock,
      factories: this.factories,
      preferred: (): TransportKind => this._transport ?? this.order[0]!,
      order: this.order,
    };
  }

  private onlineTarget(): EventTarget | null {
    if (this.options.onlineEvents !== undefined) return this.options.onlineEvents;
    const g = globalThis as unknown as Partial<EventTarget>;
    return typeof g.addEventListener === "function" && typeof (globalThis as { document?: unknown }).document !== "undefined" ? (globalThis as unknown as EventTarget) : null;
  }

  private async currentToken(): Promise<string | null> {
    if (this.options.getToken) {
      if (this.tokenStale || this.token === null) {
        this.token = (await this.options.getToken()) ?? null;
        this.tokenStale = false;
      }
      return this.token;
    }
    return resolveToken(this.options.token);
  }

  /** The preferred transport that has not exhausted its attempts; the last one is never exhausted. */
  private chooseTransport(): TransportKind {
    for (let i = 0; i < this.order.length; i++) {
      const kind = this.order[i]!;
      if (i === this.order.length - 1) return kind;
      const max = kind === "websocket" ? (this.options.maxWsAttempts ?? 3) : kind === "sse" ? (this.options.maxSseAttempts ?? 3) : 3;
      if (this.failures[kind] < max) return kind;
    }
    return this.order[this.order.length - 1]!;
  }

  private async openAttempt(): Promise<void> {
    const generation = ++this.generation;
    const kind = this.chooseTransport();
    this._transport = kind;
    let token: string | null;
    try {
      token = await this.currentToken();
    } catch (err) {
      if (generation !== this.generation) return;
      this.emit("error", { code: "token", message: err instanceof Error ? err.message : String(err) });
      this.scheduleReconnect(this.backoff.delay(this._attempt++), { code: CloseCodes.Unauthorized, reason: "getToken failed" });
      return;
    }
    if (generation !== this.generation) return;
    if (this._state !== "connecting") this.setState("connecting", {});
    let conn: TransportConnection | null = null;
    try {
      conn = this.factories[kind](
        { kind, baseUrl: this.url, path: this.options.path ?? "/api/ws/notifications", token, lastId: this._lastId },
        {
          onOpen: () => {},
          onFrame: (frame) => this.onFrame(conn!, frame),
          onClose: (code, reason) => this.onClose(conn!, code, reason),
        },
      );
    } catch (err) {
      this.emit("error", { code: "transport", message: err instanceof Error ? err.message : String(err) });
      this.failures[kind]++;
      this.scheduleReconnect(this.backoff.delay(this._attempt++), { code: CloseCodes.Abnormal, reason: "transport unavailable" });
      return;
    }
    this.current = conn;
    this.currentConnected = false;
    this.connectTimer = this.clock.setTimeout(
      () => this.fail(conn, CloseCodes.ConnectTimeout, "connect timeout"),
      this.options.connectTimeoutMs ?? 10_000,
    );
  }

  /** Closes `conn` locally and handles it as if the server closed with `code`. */
  private fail(conn: TransportConnection | null, code: number, reason: string): void {
    if (!conn || conn !== this.current) return;
    conn.close(code, reason);
    this.onClose(conn, code, reason);
  }

  private onClose(conn: TransportConnection, code: number, reason: string): void {
    if (conn === this.probe) return this.onProbeFailed();
    if (conn !== this.current) return;
    const kind = conn.kind;
    const wasConnected = this.currentConnected;
    this.current = null;
    this.currentConnected = false;
    this.clearConnectionTimers();
    this.dropProbe();

    const authCode = code === CloseCodes.Unauthorized || code === CloseCodes.Forbidden || code === CloseCodes.TooManyConnections;
    if (!wasConnected && !authCode) this.failures[kind]++;
    if (this.urls.length > 1) this.urlIndex++;

    if (code === CloseCodes.Normal || code === CloseCodes.Forbidden || code === CloseCodes.TooManyConnections) {
      this.setState("closed", { code, reason });
      return;
    }
    if (code === CloseCodes.Unauthorized) {
      if (!this.options.getToken) {
        this.setState("closed", { code, reason });
        return;
      }
      this.tokenStale = true;
      // The first refresh is immediate; a token that keeps being refused backs off like any failure.
      const delay = this.authRetries++ === 0 ? 0 : this.backoff.delay(this._attempt++);
      this.scheduleReconnect(delay, { code, reason });
      return;
    }
    if (code === CloseCodes.GoingAway && wasConnected) {
      this.scheduleReconnect(0, { code, reason });
      return;
    }
    // Rate-limited clients start further up the curve and wait at least its ceiling there
    // (4 s with the default backoff), however the jitter falls.
    if (code === CloseCodes.RateLimited) {
      this._attempt = Math.max(this._attempt, RATE_LIMITED_ATTEMPT);
      this.scheduleReconnect(this.backoff.delayAtLeast(this._attempt++, this.backoff.ceiling(RATE_LIMITED_ATTEMPT)), { code, reason });
      return;
    }
    this.scheduleReconnect(this.backoff.delay(this._attempt++), { code, reason });
  }

  private scheduleReconnect(delayMs: number, cause: { code?: number; reason?: string }): void {
    this.setState("reconnecting", { ...cause, delayMs });
    const generation = this.generation;
    this.reconnectTimer = this.clock.setTimeout(() => {
      this.reconnectTimer = null;
      if (generation === this.generation) void this.openAttempt();
    }, delayMs);
  }

  private onFrame(conn: TransportConnection, frame: Frame): void {
    if (conn === this.probe) {
      if (frame.type === "connected") this.promoteProbe();
      else return;
    } else if (conn !== this.current) {
      return;
    }
    this.armWatchdog();
    const data = frame.data ?? {};
    switch (frame.type) {
      case "connected":
        this.onConnected(conn, data as ConnectedInfo);
        break;
      case "notification": {
        const n = data as Notification;
        const id = n.id ?? frame.eventId;
        if (!id || !this.dedupe.add(id)) return;
        if (!this._lastId || compareIds(id, this._lastId) > 0) this._lastId = id;
        this.emit("notification", n);
        break;
      }
      case "message": {
        const m = data as ChannelMessage;
        if (m.id !== undefined && m.id !== null) {
          if (!this.messageDedupe.add(`${m.channel ?? ""}\u0000${m.id}`)) return;
          const sub = m.channel ? this.subscriptions.get(m.channel) : undefined;
          if (sub) sub.since = String(m.id);
        }
        this.emit("message", m);
        break;
      }
      case "resync":
        void this.reload(String(data.reason ?? "resync"));
        break;
      case "unread_count":
        if (typeof data.count === "number") {
          this.emit("unread_count", typeof data.unseen === "number" ? { count: data.count, unseen: data.unseen } : { count: data.count });
        }
        break;
      case "seen":
        this.emit("seen", { id: String(data.id ?? "") });
        break;
      case "archived":
      case "unarchived":
        this.emit("archived", { id: String(data.id ?? ""), archived: frame.type === "archived" });
        break;
      case "snoozed":
        this.emit("snoozed", { id: String(data.id ?? ""), until: typeof data.until === "string" ? data.until : null });
        break;
      case "bulk":
        this.emit("bulk", { action: String(data.action ?? ""), updated: Number(data.updated ?? 0) });
        break;
      case "preferences":
        this.emit("preferences", { version: Number(data.version ?? 0) });
        break;
      case "read":
        this.emit("read", { id: data.id, all: data.all === true });
        break;
      case "read_all":
        this.emit("read", { all: true });
        break;
      case "deleted":
        this.emit("deleted", { id: String(data.id ?? "") });
        break;
      case "subscribed":
      case "unsubscribed":
        this.emit(frame.type, { channel: String(data.channel ?? frame.channel ?? "") });
        break;
      case "error":
        this.emit("error", { code: String(data.code ?? "error"), message: String(data.message ?? "") });
        break;
    }
    this.emit("frame", frame);
  }

  private onConnected(conn: TransportConnection, info: ConnectedInfo): void {
    if (this.connectTimer !== null) this.clock.clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.currentConnected = true;
    this._attempt = 0;
    this.authRetries = 0;
    this.failures[conn.kind] = 0;
    this._transport = conn.kind;
    if (typeof info.heartbeat_interval_s === "number" && info.heartbeat_interval_s > 0) {
      this.heartbeatMs = info.heartbeat_interval_s * 1000;
    }
    this.armWatchdog();
    for (const [channel, sub] of this.subscriptions) {
      conn.send({ type: "subscribe", channel, ...(sub.since ? { since: sub.since } : {}) });
    }
    this.setState("connected", {});
    this.emit("connected", { ...info, transport: conn.kind });
    if (typeof info.unread_count === "number") this.emit("unread_count", { count: info.unread_count });
    this.scheduleUpgrade();
  }

  /** Reloads the newest page through REST after the server could not replay the gap. */
  private async reload(reason: string): Promise<void> {
    try {
      const page = await this.rest.list({ limit: this.options.resyncPageSize ?? 50 });
      for (const n of page.items) this.dedupe.add(n.id);
      const newest = page.items[0]?.id;
      if (newest && (!this._lastId || compareIds(newest, this._lastId) > 0)) this._lastId = newest;
      this.emit("resync", { reason, reload: page.items });
      const count = await this.rest.unreadCount();
      this.emit("unread_count", { count });
    } catch (err) {
      this.emit("resync", { reason });
      this.emit("error", { code: "resync", message: err instanceof Error ? err.message : String(err) });
    }
  }

  private armWatchdog(): void {
    if (this.watchdogTimer !== null) this.clock.clearTimeout(this.watchdogTimer);
    this.watchdogTimer = null;
    const conn = this.current;
    if (!conn || !this.currentConnected || conn.kind === "polling") return;
    const timeout = this.heartbeatMs * (this.options.heartbeatTimeoutFactor ?? 2.5);
    this.watchdogTimer = this.clock.setTimeout(() => {
      this.watchdogTimer = null;
      this.fail(conn, CloseCodes.HeartbeatTimeout, "heartbeat timeout");
    }, timeout);
  }

  private scheduleUpgrade(): void {
    if (this.upgradeTimer !== null) this.clock.clearTimeout(this.upgradeTimer);
    this.upgradeTimer = null;
    const current = this.current;
    if (!current || current.kind === this.order[0]) return;
    this.upgradeTimer = this.clock.setTimeout(() => {
      this.upgradeTimer = null;
      void this.startProbe();
    }, this.options.upgradeIntervalMs ?? 60_000);
  }

  /** Opens the preferred transport beside the working one; it takes over once `connected` arrives. */
  private async startProbe(): Promise<void> {
    if (!this.current || !this.currentConnected || this.probe) return;
    const kind = this.order[0]!;
    const generation = this.generation;
    let token: string | null;
    try {
      token = await this.currentToken();
    } catch {
      return this.scheduleUpgrade();
    }
    if (generation !== this.generation || !this.current) return;
    let probe: TransportConnection | null = null;
    try {
      probe = this.factories[kind](
        { kind, baseUrl: this.url, path: this.options.path ?? "/api/ws/notifications", token, lastId: this._lastId },
        {
          onOpen: () => {},
          onFrame: (frame) => this.onFrame(probe!, frame),
          onClose: (code, reason) => this.onClose(probe!, code, reason),
        },
      );
    } catch {
      return this.scheduleUpgrade();
    }
    this.probe = probe;
    this.probeTimer = this.clock.setTimeout(() => {
      const p = this.probe;
      if (p) {
        p.close(CloseCodes.ConnectTimeout, "probe timeout");
        this.onProbeFailed();
      }
    }, this.options.connectTimeoutMs ?? 10_000);
  }

  private onProbeFailed(): void {
    this.dropProbe();
    this.scheduleUpgrade();
  }

  private promoteProbe(): void {
    const probe = this.probe!;
    this.probe = null;
    if (this.probeTimer !== null) this.clock.clearTimeout(this.probeTimer);
    this.probeTimer = null;
    const old = this.current;
    this.current = probe;
    this.currentConnected = false;
    old?.close(1000, "upgraded");
    this.failures[probe.kind] = 0;
  }

  private dropProbe(): void {
    if (this.probeTimer !== null) this.clock.clearTimeout(this.probeTimer);
    this.probeTimer = null;
    const p = this.probe;
    this.probe = null;
    p?.close(1000, "probe dropped");
  }

  private setState(state: ConnectionState, extra: { code?: number; reason?: string; delayMs?: number }): void {
    const previous = this._state;
    this._state = state;
    if (state === "closed") this.clearTimers();
    this.emit("connection", { state, previous, transport: this._transport, attempt: this._attempt, ...extra });
  }

  private clearConnectionTimers(): void {
    for (const t of [this.connectTimer, this.watchdogTimer, this.upgradeTimer]) if (t !== null) this.clock.clearTimeout(t);
    this.connectTimer = this.watchdogTimer = this.upgradeTimer = null;
  }

  private clearTimers(): void {
    this.clearConnectionTimers();
    if (this.reconnectTimer !== null) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }
}
