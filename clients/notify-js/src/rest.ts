import type { BatchProgress, Notification, Preferences, PreferencesInput, TaskProgress } from "./types.js";

export type TokenSource = string | null | undefined | (() => string | null | undefined | Promise<string | null | undefined>);

export interface RestOptions {
  /** The Api's base URL, e.g. `http://localhost:5000` (empty string = same origin). */
  baseUrl: string;
  /** A bearer token, or a function returning one (called per request). */
  token?: TokenSource;
  /** Defaults to the global `fetch`. */
  fetch?: typeof fetch;
  /** Extra headers on every request (e.g. `X-Api-Key` for service callers). */
  headers?: Record<string, string>;
  /** The Realtime service's base URL, for its statistics endpoints (`/api/ws/stats`, online count). Default: `baseUrl`. */
  realtimeUrl?: string | (() => string);
}

/** A non-2xx answer; `problem` holds the RFC 7807 body when the server sent one. */
export class NotifyHttpError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: Record<string, string[]>; [k: string]: unknown } | null,
    readonly url: string,
    /**
     * Seconds the server asked the caller to wait before sending the same request again (`Retry-After` on a
     * 429 rate limit or a 503 while Redis is unreachable); null when it did not say.
     */
    readonly retryAfterSeconds: number | null = null,
  ) {
    super(`${status} ${problem?.title ?? "request failed"}${problem?.detail ? `: ${problem.detail}` : ""}`);
    this.name = "NotifyHttpError";
  }
}

export interface ListQuery {
  status?: "unread" | "read";
  type?: string;
  limit?: number;
  before?: string;
  /** Only archived notifications (the default list has none). */
  archived?: boolean;
  /** Only snoozed notifications (the default list has none). */
  snoozed?: boolean;
  /** Only notifications not seen yet. */
  unseen?: boolean;
}

/** The answer to a create the user's preference turned off: nothing was stored. */
export interface SuppressedNotification {
  suppressed: true;
  user_id: string;
  type: string;
}

/** `POST /api/notifications/bulk`: an action on the caller's notifications matching every given filter. */
export interface BulkAction {
  action: "read" | "seen" | "archive" | "delete";
  type?: string;
  /** Only notifications created before this time (ISO 8601). */
  before?: string;
  status?: "unread" | "read";
}

/** What `POST /api/me/push-subscriptions` takes: a browser's `PushSubscription.toJSON()` (`expirationTime` is ignored). */
export interface PushSubscriptionInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  expirationTime?: number | null;
}

/** A registered push subscription (one per device). */
export interface StoredPushSubscription {
  id: string;
  endpoint: string;
  keys: { p256dh: string; auth: string };
  created_at: string;
}

export interface BulkResult {
  updated: number;
  /** More matched than one request changes (10,000): send it again. */
  more: boolean;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** `POST /api/notifications`: `user_id`, `type` and `title` are required (PROTOCOL.md §2, docs/api.md). */
export interface CreateNotification {
  user_id: string;
  type: string;
  title: string;
  content?: string;
  link?: string;
  source?: string;
  severity?: "info" | "success" | "warning" | "error";
  metadata?: Record<string, unknown>;
}

export interface Broadcast {
  type: string;
  content: string;
  title?: string;
  /** `public:*` or `admin`; omit to reach every connected user. */
  channel?: string;
  level?: "info" | "success" | "warning" | "error";
}

export interface WsStats {
  total_users: number;
  total_connections: number;
  total_user_connections: number;
  total_admin_connections: number;
  users: Record<string, number>;
  instances: { id: string; connections: number; started_at: string }[];
}

/**
 * `GET /api/tasks/{id}`: the task as the queue keeps it. Its live progress (0–100 and the rest of a
 * `progress` frame) is in `progress`, the current snapshot, null once it expired.
 */
export interface TaskSnapshot {
  task_id: string;
  user_id?: string;
  kind?: string;
  status: string;
  /** The task's input; null once the task has finished. */
  params?: unknown;
  batch_id?: string | null;
  attempts?: number;
  created_at?: string;
  started_at?: string | null;
  finished_at?: string | null;
  error?: string | null;
  result?: unknown;
  cancel_requested?: boolean;
  progress: TaskProgress | null;
  [key: string]: unknown;
}

export interface BatchSnapshot extends Partial<BatchProgress> {
  batch_id: string;
  task_ids?: string[];
  status?: string;
  [key: string]: unknown;
}

/** A small client for the Api's REST endpoints (PROTOCOL.md §1, §6). */
export class NotifyRest {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: RestOptions) {
    const f = options.fetch ?? globalThis.fetch;
    if (!f) throw new Error("NotifyRest: no fetch available; pass options.fetch");
    this.fetchImpl = f.bind(globalThis);
  }

  get baseUrl(): string {
    return this.options.baseUrl.replace(/\/+$/, "");
  }

  /** `POST /api/auth/dev-token` (only where the server enables dev tokens). */
  devToken(userId: string, roles: string[] = [], ttlSeconds?: number, signal?: AbortSignal): Promise<{ token: string; expires_at: string }> {
    return this.request("POST", "/api/auth/dev-token", { user_id: userId, roles, ...(ttlSeconds ? { ttl_seconds: ttlSeconds } : {}) }, signal, false);
  }

  list(query: ListQuery = {}, signal?: AbortSignal): Promise<Page<Notification>> {
    return this.request("GET", `/api/notifications${qs(query)}`, undefined, signal);
  }

  async unreadCount(signal?: AbortSignal): Promise<number> {
    const body = await this.request<{ count: number }>("GET", "/api/notifications/unread_count", undefined, signal);
    return body.count;
  }

  markRead(id: string, signal?: AbortSignal): Promise<void> {
    return this.request("POST", `/api/notifications/${encodeURIComponent(id)}/read`, undefined, signal);
  }

  /** The badge: unseen notifications of the default list. */
  async unseenCount(signal?: AbortSignal): Promise<number> {
    const body = await this.request<{ count: number }>("GET", "/api/notifications/unseen_count", undefined, signal);
    return body.count;
  }

  markSeen(id: string, signal?: AbortSignal): Promise<void> {
    return this.request("POST", `/api/notifications/${encodeURIComponent(id)}/seen`, undefined, signal);
  }

  archive(id: string, signal?: AbortSignal): Promise<void> {
    return this.request("POST", `/api/notifications/${encodeURIComponent(id)}/archive`, undefined, signal);
  }

  unarchive(id: string, signal?: AbortSignal): Promise<void> {
    return this.request("POST", `/api/notifications/${encodeURIComponent(id)}/unarchive`, undefined, signal);
  }

  /** Snoozes until `until` (ISO 8601): after now, at most 30 days ahead. */
  snooze(id: string, until: string, signal?: AbortSignal): Promise<void> {
    return this.request("POST", `/api/notifications/${encodeURIComponent(id)}/snooze`, { until }, signal);
  }

  unsnooze(id: string, signal?: AbortSignal): Promise<void> {
    return this.request("DELETE", `/api/notifications/${encodeURIComponent(id)}/snooze`, undefined, signal);
  }

  bulk(action: BulkAction, signal?: AbortSignal): Promise<BulkResult> {
    return this.request("POST", "/api/notifications/bulk", action, signal);
  }

  /** The caller's preferences, with the admin's defaults. */
  preferences(signal?: AbortSignal): Promise<Preferences> {
    return this.request("GET", "/api/me/preferences", undefined, signal);
  }

  /** Replaces the caller's preferences; with `ifMatch` (a `version`) a concurrent change is a 412 {@link NotifyHttpError}. */
  putPreferences(preferences: PreferencesInput, ifMatch?: number, signal?: AbortSignal): Promise<Preferences> {
    return this.request("PUT", "/api/me/preferences", preferences, signal, true, ifMatch === undefined ? undefined : { "If-Match": `"${ifMatch}"` });
  }

  /**
   * Registers this browser's push subscription (`PushSubscription.toJSON()` fits as is). Idempotent by
   * endpoint: a new device answers 201, a known endpoint 200 with its keys replaced; one more than
   * `Push:MaxSubscriptionsPerUser` is a 409 {@link NotifyHttpError}.
   */
  savePushSubscription(subscription: PushSubscriptionInput, signal?: AbortSignal): Promise<StoredPushSubscription> {
    const { endpoint, keys } = subscription;
    return this.request("POST", "/api/me/push-subscriptions", { endpoint, keys }, signal);
  }

  /** The caller's push subscriptions (devices), oldest first. */
  async pushSubscriptions(signal?: AbortSignal): Promise<StoredPushSubscription[]> {
    const body = await this.request<{ items: StoredPushSubscription[] }>("GET", "/api/me/push-subscriptions", undefined, signal);
    return body.items;
  }

  /** Removes one of the caller's push subscriptions (404 {@link NotifyHttpError} when it is not theirs or gone). */
  deletePushSubscription(id: string, signal?: AbortSignal): Promise<void> {
    return this.request("DELETE", `/api/me/push-subscriptions/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** The admin's default preferences per type (admin). */
  defaultPreferences(signal?: AbortSignal): Promise<Preferences> {
    return this.request("GET", "/api/admin/preferences/defaults", undefined, signal);
  }

  /** Replaces the admin's default preferences (admin; `quiet_hours` must be null). */
  putDefaultPreferences(preferences: PreferencesInput, ifMatch?: number, signal?: AbortSignal): Promise<Preferences> {
    return this.request("PUT", "/api/admin/preferences/defaults", preferences, signal, true, ifMatch === undefined ? undefined : { "If-Match": `"${ifMatch}"` });
  }

  async markAllRead(signal?: AbortSignal): Promise<number> {
    const body = await this.request<{ updated: number }>("POST", "/api/notifications/read_all", undefined, signal);
    return body?.updated ?? 0;
  }

  delete(id: string, signal?: AbortSignal): Promise<void> {
    return this.request("DELETE", `/api/notifications/${encodeURIComponent(id)}`, undefined, signal);
  }

  /** `POST /api/notifications` (admin or service key). `idempotencyKey` makes retries safe. */
  create(notification: CreateNotification, idempotencyKey?: string, signal?: AbortSignal): Promise<Notification | SuppressedNotification> {
    return this.request("POST", "/api/notifications", notification, signal, true, idempotencyKey ? { "Idempotency-Key": idempotencyKey } : undefined);
  }

  broadcast(message: Broadcast, signal?: AbortSignal): Promise<unknown> {
    return this.request("POST", "/api/notifications/broadcast", message, signal);
  }

  /** Users with at least one live connection, over every Realtime instance (served by the Realtime service). */
  async onlineCount(signal?: AbortSignal): Promise<number> {
    const body = await this.request<{ online_count: number }>("GET", this.realtime("/api/notifications/online-count"), undefined, signal);
    return body.online_count;
  }

  /** Connection statistics summed over every Realtime instance (admin; served by the Realtime service). */
  wsStats(signal?: AbortSignal): Promise<WsStats> {
    return this.request("GET", this.realtime("/api/ws/stats"), undefined, signal);
  }

  private realtime(path: string): string {
    const r = this.options.realtimeUrl;
    const base = typeof r === "function" ? r() : r;
    return base ? base.replace(/\/+$/, "") + path : path;
  }

  createTask(kind: string, params: unknown = {}, signal?: AbortSignal): Promise<{ task_id: string; status: string }> {
    return this.request("POST", "/api/tasks", { kind, params }, signal);
  }

  getTask(taskId: string, signal?: AbortSignal): Promise<TaskSnapshot> {
    return this.request("GET", `/api/tasks/${encodeURIComponent(taskId)}`, undefined, signal);
  }

  cancelTask(taskId: string, signal?: AbortSignal): Promise<unknown> {
    return this.request("POST", `/api/tasks/${encodeURIComponent(taskId)}/cancel`, undefined, signal);
  }

  createBatch(kind: string, items: unknown[], signal?: AbortSignal): Promise<{ batch_id: string; task_ids: string[] }> {
    return this.request("POST", "/api/batches", { kind, items }, signal);
  }

  getBatch(batchId: string, signal?: AbortSignal): Promise<BatchSnapshot> {
    return this.request("GET", `/api/batches/${encodeURIComponent(batchId)}`, undefined, signal);
  }

  queueStats(signal?: AbortSignal): Promise<Record<string, number>> {
    return this.request("GET", "/api/queue/stats", undefined, signal);
  }

  /** Any other endpoint (a path on `baseUrl`, or an absolute URL), with the same auth and error handling. */
  async request<T>(
    method: string,
    path: string,
    body?: unknown,
    signal?: AbortSignal,
    auth = true,
    extraHeaders?: Record<string, string>,
  ): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json", ...this.options.headers, ...extraHeaders };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (auth) {
      const token = await resolveToken(this.options.token);
      if (token) headers.Authorization = `Bearer ${token}`;
    }
    const url = /^https?:\/\//i.test(path) ? path : this.baseUrl + path;
    const init: RequestInit = { method, headers };
    if (body !== undefined) init.body = JSON.stringify(body);
    if (signal) init.signal = signal;
    const res = await this.fetchImpl(url, init);
    const text = await res.text();
    let parsed: unknown = null;
    if (text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    if (!res.ok) {
      throw new NotifyHttpError(res.status, (parsed as NotifyHttpError["problem"]) ?? { title: res.statusText }, url, retryAfter(res.headers.get("Retry-After")));
    }
    return parsed as T;
  }
}

export async function resolveToken(source: TokenSource): Promise<string | null> {
  if (typeof source === "function") return (await source()) ?? null;
  return source ?? null;
}

function qs(query: object): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === "") continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join("&")}` : "";
}

/** `Retry-After` as seconds: delta-seconds, or an HTTP date turned into the seconds until it; null when absent or unreadable. */
export function retryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null || value.trim() === "") return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  // An HTTP date names its weekday and month ("Mon, 07 Dec 2026 12:00:30 GMT"); anything else is not one.
  if (!/[A-Za-z]{3}/.test(trimmed)) return null;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
