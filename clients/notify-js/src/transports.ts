import type { Clock } from "./clock.js";
import { compareIds } from "./dedupe.js";
import { NotifyHttpError, type NotifyRest } from "./rest.js";
import { FetchEventSource, type EventSourceConstructor, type EventSourceLike } from "./sse.js";
import type { Frame, Notification, TransportKind } from "./types.js";

/** Close codes (PROTOCOL.md §3) and the client's own local ones (4000-range, never sent by the server). */
export const CloseCodes = {
  Normal: 1000,
  GoingAway: 1001,
  Abnormal: 1006,
  TooBig: 1009,
  Unauthorized: 4001,
  Forbidden: 4003,
  TooManyConnections: 4008,
  SlowConsumer: 4009,
  RateLimited: 4029,
  /** Local: no `connected` frame within `connectTimeoutMs`. */
  ConnectTimeout: 4900,
  /** Local: no frame for 2.5× the announced heartbeat interval. */
  HeartbeatTimeout: 4901,
  /** Local: the client switched to a better transport. */
  Upgraded: 4902,
} as const;

/** What a transport needs to open one stream. */
export interface TransportRequest {
  kind: TransportKind;
  /** The Realtime base URL (http or https) for this attempt. */
  baseUrl: string;
  /** The stream's path, e.g. `/api/ws/notifications`; the transport picks the SSE/WS variant. */
  path: string;
  token: string | null;
  lastId: string | null;
}

/** Callbacks from a transport. `onClose` is called at most once, and never after `close()` was called. */
export interface TransportHandlers {
  onOpen(): void;
  onFrame(frame: Frame): void;
  onClose(code: number, reason: string): void;
}

export interface TransportConnection {
  readonly kind: TransportKind;
  /** Sends a client frame; false when the transport has no upstream (SSE, polling) or is not open. */
  send(frame: object): boolean;
  close(code?: number, reason?: string): void;
}

export type TransportFactory = (request: TransportRequest, handlers: TransportHandlers) => TransportConnection;

export type WebSocketConstructor = new (url: string) => WebSocket;

export function wsUrl(baseUrl: string, path: string, params: Record<string, string | null | undefined>): string {
  const base = baseUrl.replace(/\/+$/, "").replace(/^http(s?):\/\//i, "ws$1://");
  return base + path + query(params);
}

export function httpUrl(baseUrl: string, path: string, params: Record<string, string | null | undefined>): string {
  return baseUrl.replace(/\/+$/, "") + path + query(params);
}

function query(params: Record<string, string | null | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== null && v !== "")
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v as string)}`);
  return parts.length ? `?${parts.join("&")}` : "";
}

/** Parses one text frame; the bare text `pong`/`ping` of seed 004 becomes a typed frame. */
export function parseFrame(text: string): Frame | null {
  const trimmed = text.trim();
  if (trimmed === "pong" || trimmed === "ping") return { type: trimmed };
  try {
    const value = JSON.parse(trimmed) as Frame;
    return value && typeof value === "object" && typeof value.type === "string" ? value : null;
  } catch {
    return null;
  }
}

/** WebSocket transport: `GET {path}?token=&last_id=` on ws(s)://. */
export function webSocketTransport(WebSocketImpl?: WebSocketConstructor): TransportFactory {
  return (request, handlers) => {
    const Impl = WebSocketImpl ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!Impl) throw new Error("no WebSocket implementation: pass options.WebSocket");
    const url = wsUrl(request.baseUrl, request.path.replace("/api/sse/", "/api/ws/"), { token: request.token, last_id: request.lastId });
    let closed = false;
    const ws = new Impl(url);
    ws.onopen = () => !closed && handlers.onOpen();
    ws.onmessage = (ev: MessageEvent) => {
      if (closed || typeof ev.data !== "string") return;
      const frame = parseFrame(ev.data);
      if (frame) handlers.onFrame(frame);
    };
    ws.onclose = (ev: CloseEvent) => {
      if (closed) return;
      closed = true;
      handlers.onClose(ev.code || CloseCodes.Abnormal, ev.reason ?? "");
    };
    ws.onerror = () => {
      /* a close event always follows */
    };
    return {
      kind: "websocket",
      send(frame) {
        if (closed || ws.readyState !== 1) return false;
        ws.send(JSON.stringify(frame));
        return true;
      },
      close(code = 1000, reason = "") {
        if (closed) return;
        closed = true;
        try {
          ws.close(code >= 4000 && code < 5000 ? code : 1000, reason);
        } catch {
          ws.close();
        }
      },
    };
  };
}

/** Server-sent event names a stream can carry; each becomes a frame of that type. */
const SSE_EVENTS = [
  "connected", "notification", "message", "heartbeat", "resync", "unread_count", "read", "read_all", "deleted",
  "seen", "archived", "unarchived", "snoozed", "bulk", "preferences",
  "progress", "completed", "finished", "system_message", "subscribed", "unsubscribed",
];

export interface SseTransportOptions {
  /** An EventSource constructor; defaults to the global one, else {@link FetchEventSource}. */
  EventSource?: EventSourceConstructor;
  fetch?: typeof fetch;
}

/** SSE transport: `GET {path}?token=&last_id=` as text/event-stream. */
export function sseTransport(options: SseTransportOptions = {}): TransportFactory {
  return (request, handlers) => {
    const url = httpUrl(request.baseUrl, request.path.replace("/api/ws/", "/api/sse/"), { token: request.token, last_id: request.lastId });
    const global = (globalThis as { EventSource?: EventSourceConstructor }).EventSource;
    let es: EventSourceLike;
    if (options.EventSource) es = new options.EventSource(url);
    else if (global) es = new global(url);
    else es = new FetchEventSource(url, options.fetch ? { fetch: options.fetch } : {});
    let closed = false;
    let opened = false;
    const finish = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      es.close();
      handlers.onClose(code, reason);
    };
    es.onopen = () => {
      if (closed) return;
      opened = true;
      handlers.onOpen();
    };
    const onEvent = (type: string) => (ev: { data?: unknown; lastEventId?: string; status?: number }) => {
      if (closed) return;
      if (type === "error" && typeof ev.data !== "string") {
        // A transport failure, not a server `error` event. The browser's EventSource would retry by
        // itself; the client owns retries (backoff, resume id, fallback), so stop it here.
        const status = ev.status;
        if (status === 401) finish(CloseCodes.Unauthorized, "unauthorized");
        else if (status === 403) finish(CloseCodes.Forbidden, "forbidden");
        else if (status === 404) finish(CloseCodes.Forbidden, "not found");
        else if (status === 429) finish(CloseCodes.RateLimited, "rate limited");
        else finish(CloseCodes.Abnormal, opened ? "stream ended" : "stream failed");
        return;
      }
      const frame = sseFrame(type, typeof ev.data === "string" ? ev.data : "", ev.lastEventId);
      if (frame) handlers.onFrame(frame);
    };
    for (const name of [...SSE_EVENTS, "error"]) es.addEventListener(name, onEvent(name));
    return {
      kind: "sse",
      send: () => false,
      close() {
        if (closed) return;
        closed = true;
        es.close();
      },
    };
  };
}

/** SSE data is either the frame's `data` object or a whole `{type, data}` frame; both are accepted. */
export function sseFrame(type: string, data: string, eventId?: string): Frame | null {
  let parsed: unknown = undefined;
  if (data !== "") {
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = data;
    }
  }
  let frame: Frame;
  if (parsed && typeof parsed === "object" && (parsed as Frame).type === type && "data" in (parsed as object)) {
    frame = { ...(parsed as Frame) };
  } else {
    frame = { type, data: parsed };
    if (type === "heartbeat" && parsed && typeof parsed === "object" && "timestamp" in parsed) {
      frame.timestamp = String((parsed as { timestamp: unknown }).timestamp);
    }
  }
  if (eventId) frame.eventId = eventId;
  return frame;
}

export interface PollingTransportOptions {
  rest: NotifyRest;
  clock: Clock;
  /** Between polls, ms. */
  intervalMs: number;
  /** Page size of each list call. */
  pageSize?: number;
  /** Pages fetched per poll before giving up and asking for a resync. */
  maxPages?: number;
}

/**
 * The last resort (seed 004): poll `GET /api/notifications` newest first, back to the last seen id,
 * and emit what is new oldest first. Sends `connected` after the first successful poll, with the
 * unread count. More than `maxPages` pages of news → `resync`.
 */
export function pollingTransport(options: PollingTransportOptions): TransportFactory {
  const pageSize = options.pageSize ?? 50;
  const maxPages = options.maxPages ?? 4;
  return (request, handlers) => {
    let closed = false;
    let timer: unknown = null;
    let lastId = request.lastId;
    let first = true;
    const abort = typeof AbortController !== "undefined" ? new AbortController() : null;

    const poll = async () => {
      timer = null;
      try {
        const fresh: Notification[] = [];
        let before: string | undefined;
        let overflow = false;
        for (let page = 0; ; page++) {
          const result = await options.rest.list({ limit: pageSize, ...(before ? { before } : {}) }, abort?.signal);
          if (closed) return;
          let reached = false;
          for (const item of result.items) {
            if (lastId && compareIds(item.id, lastId) <= 0) {
              reached = true;
              break;
            }
            fresh.push(item);
          }
          // Without a resume id there is nothing to catch up on: the newest id becomes the cursor.
          if (reached || !lastId || !result.next_cursor) break;
          if (page + 1 >= maxPages) {
            overflow = true;
            break;
          }
          before = result.next_cursor;
        }
        const count = await options.rest.unreadCount(abort?.signal);
        if (closed) return;
        if (first) {
          first = false;
          handlers.onOpen();
          handlers.onFrame({ type: "connected", data: { unread_count: count } });
        }
        if (overflow) {
          handlers.onFrame({ type: "resync", data: { reason: "too many notifications since the last poll" } });
          lastId = fresh[0]?.id ?? lastId;
        } else if (!lastId) {
          lastId = fresh[0]?.id ?? null;
        } else if (fresh.length > 0) {
          lastId = fresh[0]!.id;
          for (const item of fresh.reverse()) {
            if (closed) return;
            handlers.onFrame({ type: "notification", data: item });
          }
        }
        if (!first) handlers.onFrame({ type: "unread_count", data: { count } });
        if (!closed) timer = options.clock.setTimeout(() => void poll(), options.intervalMs);
      } catch (err) {
        if (closed) return;
        closed = true;
        const status = err instanceof NotifyHttpError ? err.status : 0;
        const code = status === 401 ? CloseCodes.Unauthorized : status === 403 ? CloseCodes.Forbidden : status === 429 ? CloseCodes.RateLimited : CloseCodes.Abnormal;
        handlers.onClose(code, err instanceof Error ? err.message : "poll failed");
      }
    };
    timer = options.clock.setTimeout(() => void poll(), 0);
    return {
      kind: "polling",
      send: () => false,
      close() {
        if (closed) return;
        closed = true;
        if (timer !== null) options.clock.clearTimeout(timer);
        abort?.abort();
      },
    };
  };
}
