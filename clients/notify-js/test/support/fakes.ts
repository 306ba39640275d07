import type { Clock } from "../../src/clock.js";
import type { TransportConnection, TransportFactory, TransportHandlers, TransportRequest } from "../../src/transports.js";
import type { Frame, TransportKind } from "../../src/types.js";

/** A clock whose time only moves when the test says so. */
export class FakeClock implements Clock {
  private time = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void; seq: number }>();
  randomValue = 0.5;

  now(): number {
    return this.time;
  }
  random(): number {
    return this.randomValue;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), fn, seq: id });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Runs every timer due within `ms`, in time order, letting promises settle between them. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await flush();
      let next: { id: number; at: number; fn: () => void; seq: number } | null = null;
      for (const [id, t] of this.timers) {
        if (t.at <= target && (!next || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = { id, ...t };
      }
      if (!next) break;
      this.timers.delete(next.id);
      this.time = next.at;
      next.fn();
    }
    this.time = target;
    await flush();
  }
}

/** Lets pending promise callbacks run (no time passes). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class FakeConnection implements TransportConnection {
  closedByClient: { code?: number; reason?: string } | null = null;
  sent: object[] = [];
  constructor(readonly kind: TransportKind, readonly request: TransportRequest, private readonly handlers: TransportHandlers, private readonly canSend: boolean) {}

  send(frame: object): boolean {
    if (!this.canSend || this.closedByClient) return false;
    this.sent.push(frame);
    return true;
  }
  close(code?: number, reason?: string): void {
    this.closedByClient = { code, reason };
  }
  /** Server side: deliver a frame. */
  frame(type: string, data?: unknown, extra: Partial<Frame> = {}): void {
    this.handlers.onFrame({ type, data, ...extra });
  }
  connected(data: object = { heartbeat_interval_s: 30, unread_count: 0 }): void {
    this.handlers.onOpen();
    this.frame("connected", data);
  }
  /** Server side: close with a code. */
  serverClose(code: number, reason = ""): void {
    this.handlers.onClose(code, reason);
  }
}

/** Transport factories that record every connection for the test to drive. */
export class FakeTransports {
  readonly opened: FakeConnection[] = [];

  factory(kind: TransportKind): TransportFactory {
    return (request, handlers) => {
      const conn = new FakeConnection(kind, request, handlers, kind === "websocket");
      this.opened.push(conn);
      return conn;
    };
  }
  get all(): Record<TransportKind, TransportFactory> {
    return { websocket: this.factory("websocket"), sse: this.factory("sse"), polling: this.factory("polling") };
  }
  get last(): FakeConnection {
    const c = this.opened[this.opened.length - 1];
    if (!c) throw new Error("no connection opened");
    return c;
  }
  kinds(): TransportKind[] {
    return this.opened.map((c) => c.kind);
  }
}

/** A fetch that answers from a route table and records the calls. */
type FakeAnswer = { status?: number; body?: unknown; headers?: Record<string, string> };

export function fakeFetch(routes: Record<string, (url: URL, init: RequestInit) => FakeAnswer | Promise<FakeAnswer>>) {
  const calls: { method: string; url: string; href: string; headers: Record<string, string> }[] = [];
  const f = (async (input: string | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const method = init.method ?? "GET";
    calls.push({ method, url: url.pathname + url.search, href: url.href, headers: (init.headers ?? {}) as Record<string, string> });
    const key = `${method} ${url.pathname}`;
    const route = routes[key];
    if (!route) return new Response(JSON.stringify({ title: "Not Found" }), { status: 404, headers: { "content-type": "application/problem+json" } });
    const { status = 200, body, headers = {} } = await route(url, init);
    return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });
  }) as typeof fetch;
  return { fetch: f, calls };
}

export function notification(id: string, extra: object = {}) {
  return { id, user_id: "alice", type: "t", content: `c ${id}`, severity: "info", status: "unread", created_at: "2026-01-01T00:00:00Z", ...extra };
}
