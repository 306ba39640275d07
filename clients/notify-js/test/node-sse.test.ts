import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { NotifyClient } from "../src/client.js";

// A real socket: the SDK's fetch-based SSE on Node 20 against a small event-stream server.
test("NotifyClient_sseOnNode_receivesAndResumesWithLastIdAfterStreamEnds", async () => {
  const requests: string[] = [];
  const streams: ServerResponse[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? "");
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    res.write("retry: 1000\n\n");
    res.write(`event: connected\ndata: ${JSON.stringify({ user_id: "alice", heartbeat_interval_s: 30, unread_count: 1 })}\n\n`);
    streams.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const client = new NotifyClient({ url: `http://127.0.0.1:${port}`, token: "tok", transports: ["sse"], backoff: { baseMs: 10, maxMs: 20 } });
  try {
    const got: string[] = [];
    const connected = new Promise((resolve) => client.once("connected", resolve));
    client.on("notification", (n) => got.push(n.id));
    client.connect();
    await withDeadline(connected, 5000);
    assert.equal(client.transport, "sse");
    streams[0]!.write(`id: 01A\nevent: notification\ndata: ${JSON.stringify({ id: "01A", content: "x" })}\n\n`);
    await waitFor(() => got.length === 1, 5000);
    const reconnected = new Promise((resolve) => client.once("connected", resolve));
    streams[0]!.end();
    await withDeadline(reconnected, 5000);
    assert.match(requests[1]!, /^\/api\/sse\/notifications\?token=tok&last_id=01A$/);
    streams[1]!.write(`id: 01A\nevent: notification\ndata: ${JSON.stringify({ id: "01A" })}\n\n`);
    streams[1]!.write(`id: 01B\nevent: notification\ndata: ${JSON.stringify({ id: "01B" })}\n\n`);
    await waitFor(() => got.length === 2, 5000);
    assert.deepEqual(got, ["01A", "01B"]);
  } finally {
    client.close();
    for (const s of streams) s.destroy();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

function withDeadline<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error("deadline")), ms)))]).finally(() => clearTimeout(timer));
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error("condition not met before the deadline");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
