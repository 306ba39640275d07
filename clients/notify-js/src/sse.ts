/**
 * The part of the browser's EventSource this SDK uses. Any EventSource implementation fits
 * (the browser's, the `eventsource` npm package, or {@link FetchEventSource}).
 */
export interface EventSourceLike {
  readonly readyState: number;
  onopen: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
  addEventListener(type: string, listener: (ev: any) => void): void;
  close(): void;
}

export type EventSourceConstructor = new (url: string, init?: any) => EventSourceLike;

export interface FetchEventSourceInit {
  headers?: Record<string, string>;
  fetch?: typeof fetch;
}

/** Data of the `error` event a {@link FetchEventSource} raises when the stream fails or ends. */
export interface FetchEventSourceError {
  type: "error";
  /** The HTTP status when the server answered with something other than an event stream. */
  status?: number;
  error?: unknown;
}

/**
 * A small EventSource over `fetch` and a streamed body, for runtimes without one (Node 20).
 * Unlike the browser's, it never reconnects by itself (the client decides), it can send headers,
 * and its error event tells the HTTP status (so a 401 is told apart from a network failure).
 */
export class FetchEventSource implements EventSourceLike {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 2;

  readyState = 0;
  onopen: ((ev: any) => void) | null = null;
  onerror: ((ev: any) => void) | null = null;
  private readonly listeners = new Map<string, Set<(ev: any) => void>>();
  private readonly abort = new AbortController();

  constructor(readonly url: string, init: FetchEventSourceInit = {}) {
    const f = init.fetch ?? globalThis.fetch;
    void this.run(f, init.headers ?? {});
  }

  addEventListener(type: string, listener: (ev: any) => void): void {
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
  }

  close(): void {
    if (this.readyState === 2) return;
    this.readyState = 2;
    this.abort.abort();
  }

  private async run(f: typeof fetch, headers: Record<string, string>): Promise<void> {
    try {
      const res = await f(this.url, { headers: { Accept: "text/event-stream", ...headers }, signal: this.abort.signal, cache: "no-store" });
      if (!res.ok || !res.body || !(res.headers.get("content-type") ?? "").includes("text/event-stream")) {
        try {
          await res.body?.cancel();
        } catch {
          /* the body is not needed */
        }
        this.fail({ type: "error", status: res.status });
        return;
      }
      if (this.readyState === 2) return;
      this.readyState = 1;
      this.onopen?.({ type: "open" });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      const parser = new SseParser((type, data, id) => this.dispatch(type, { type, data, lastEventId: id }));
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.push(decoder.decode(value, { stream: true }));
        if (this.readyState === 2) return;
      }
      this.fail({ type: "error" });
    } catch (error) {
      if (this.readyState !== 2) this.fail({ type: "error", error });
    }
  }

  private fail(ev: FetchEventSourceError): void {
    if (this.readyState === 2) return;
    this.readyState = 2;
    this.onerror?.(ev);
    this.dispatch("error", ev);
  }

  private dispatch(type: string, ev: unknown): void {
    for (const l of [...(this.listeners.get(type) ?? [])]) l(ev);
  }
}

/** Incremental parser of the text/event-stream format (WHATWG HTML §9.2.6). */
export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private lastId = "";

  constructor(private readonly onEvent: (type: string, data: string, id: string) => void) {}

  push(chunk: string): void {
    this.buffer += chunk;
    let idx: number;
    while ((idx = this.buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = this.buffer.slice(0, idx);
      const eolLength = this.buffer.startsWith("\r\n", idx) ? 2 : 1;
      // A lone \r at the very end may be the first half of \r\n: wait for more.
      if (eolLength === 1 && this.buffer[idx] === "\r" && idx === this.buffer.length - 1) break;
      this.buffer = this.buffer.slice(idx + eolLength);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0) this.onEvent(this.event || "message", this.data.join("\n"), this.lastId);
      this.data = [];
      this.event = "";
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.lastId = value;
  }
}
