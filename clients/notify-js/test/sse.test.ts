import { test } from "node:test";
import assert from "node:assert/strict";
import { FetchEventSource, SseParser } from "../src/sse.js";
import { sseFrame } from "../src/transports.js";

test("SseParser_chunkedInput_emitsEventsWithTypeDataAndId", () => {
  const events: [string, string, string][] = [];
  const p = new SseParser((t, d, i) => events.push([t, d, i]));
  p.push("retry: 3000\n\nevent: connected\nda");
  p.push("ta: {\"a\":1}\n\n: comment\nid: 01A\nevent: notification\ndata: line1\r\ndata: line2\r\n\r");
  p.push("\ndata: plain\n\n");
  assert.deepEqual(events, [
    ["connected", '{"a":1}', ""],
    ["notification", "line1\nline2", "01A"],
    ["message", "plain", "01A"],
  ]);
});

test("sseFrame_bareDataOrWholeFrame_bothBecomeFrames", () => {
  assert.deepEqual(sseFrame("notification", '{"id":"1"}', "1"), { type: "notification", data: { id: "1" }, eventId: "1" });
  assert.deepEqual(sseFrame("progress", '{"type":"progress","data":{"progress":5}}'), { type: "progress", data: { progress: 5 } });
  assert.deepEqual(sseFrame("heartbeat", '{"timestamp":"T"}'), { type: "heartbeat", data: { timestamp: "T" }, timestamp: "T" });
});

test("FetchEventSource_unauthorized_reportsStatusWithoutOpening", async () => {
  const f = (async () => new Response("{}", { status: 401 })) as typeof fetch;
  const es = new FetchEventSource("http://x/api/sse/notifications", { fetch: f });
  const err = await new Promise<{ status?: number }>((resolve) => es.addEventListener("error", resolve));
  assert.equal(err.status, 401);
  assert.equal(es.readyState, 2);
});

test("FetchEventSource_stream_dispatchesEventsThenErrorAtEnd", async () => {
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      const enc = new TextEncoder();
      c.enqueue(enc.encode("event: connected\ndata: {\"heartbeat_interval_s\":30}\n\n"));
      c.enqueue(enc.encode("id: 01B\nevent: notification\ndata: {\"id\":\"01B\"}\n\n"));
      c.close();
    },
  });
  const f = (async () => new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } })) as typeof fetch;
  const es = new FetchEventSource("http://x/s", { fetch: f });
  const seen: string[] = [];
  let opened = false;
  es.onopen = () => (opened = true);
  es.addEventListener("connected", (e) => seen.push(`connected ${e.data}`));
  es.addEventListener("notification", (e) => seen.push(`notification ${e.lastEventId}`));
  await new Promise((resolve) => es.addEventListener("error", resolve));
  assert.equal(opened, true);
  assert.deepEqual(seen, ['connected {"heartbeat_interval_s":30}', "notification 01B"]);
});
