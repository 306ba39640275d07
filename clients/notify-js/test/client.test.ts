import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyClient, type NotifyClientOptions } from "../src/client.js";
import type { ConnectionEvent, Notification } from "../src/types.js";
import { FakeClock, FakeTransports, fakeFetch, flush, notification } from "./support/fakes.js";

function setup(options: Partial<NotifyClientOptions> = {}) {
  const clock = new FakeClock();
  const transports = new FakeTransports();
  const client = new NotifyClient({ url: "http://rt", token: "t0", clock, transportFactories: transports.all, ...options });
  const states: ConnectionEvent[] = [];
  const notifications: Notification[] = [];
  client.on("connection", (e) => states.push(e));
  client.on("notification", (n) => notifications.push(n));
  return { clock, transports, client, states, notifications };
}

test("NotifyClient_connect_goesConnectingThenConnectedOnWebSocket", async () => {
  const { client, transports, states } = setup();
  const unread: number[] = [];
  client.on("unread_count", (u) => unread.push(u.count));
  client.connect();
  await flush();
  assert.equal(transports.last.kind, "websocket");
  assert.equal(transports.last.request.token, "t0");
  assert.equal(transports.last.request.path, "/api/ws/notifications");
  transports.last.connected({ heartbeat_interval_s: 30, unread_count: 7 });
  assert.deepEqual(states.map((s) => s.state), ["connecting", "connected"]);
  assert.equal(client.transport, "websocket");
  assert.deepEqual(unread, [7]);
});

test("NotifyClient_replayOverlapsLive_emitsEachIdOnceAndResumesFromNewest", async () => {
  const { client, transports, notifications, clock } = setup();
  client.connect();
  await flush();
  const ws = transports.last;
  ws.connected();
  ws.frame("notification", notification("01A"));
  ws.frame("notification", notification("01B"));
  ws.frame("notification", notification("01A"));
  ws.serverClose(1006);
  await clock.advance(500); // the first backoff's ceiling
  const again = transports.last;
  assert.notEqual(again, ws);
  assert.equal(again.request.lastId, "01B");
  again.connected();
  again.frame("notification", notification("01B"));
  again.frame("notification", notification("01C"));
  assert.deepEqual(notifications.map((n) => n.id), ["01A", "01B", "01C"]);
  assert.equal(client.lastId, "01C");
});

test("NotifyClient_lastIdOption_isSentOnFirstConnect", async () => {
  const { client, transports } = setup({ lastId: "01Z" });
  client.connect();
  await flush();
  assert.equal(transports.last.request.lastId, "01Z");
});

for (const code of [1000, 4003, 4008]) {
  test(`NotifyClient_close${code}_doesNotReconnect`, async () => {
    const { client, transports, clock, states } = setup();
    client.connect();
    await flush();
    transports.last.connected();
    transports.last.serverClose(code);
    await clock.advance(10 * 60_000);
    assert.equal(transports.opened.length, 1);
    assert.equal(client.state, "closed");
    assert.equal(states.at(-1)?.code, code);
  });
}

test("NotifyClient_close4001_asksForFreshTokenAndReconnectsAtOnce", async () => {
  let n = 0;
  const { client, transports, clock } = setup({ token: undefined, getToken: async () => `tok${++n}` });
  client.connect();
  await flush();
  assert.equal(transports.last.request.token, "tok1");
  transports.last.connected();
  transports.last.serverClose(4001, "expired");
  await clock.advance(0);
  assert.equal(transports.opened.length, 2);
  assert.equal(transports.last.request.token, "tok2");
});

test("NotifyClient_close4001WithoutGetToken_closes", async () => {
  const { client, transports, clock } = setup();
  client.connect();
  await flush();
  transports.last.serverClose(4001);
  await clock.advance(60_000);
  assert.equal(client.state, "closed");
  assert.equal(transports.opened.length, 1);
});

test("NotifyClient_close1001_reconnectsImmediatelyToNextReplica", async () => {
  const { client, transports, clock, states } = setup({ url: ["http://rt1", "http://rt2"] });
  client.connect();
  await flush();
  assert.equal(transports.last.request.baseUrl, "http://rt1");
  transports.last.connected();
  transports.last.serverClose(1001);
  assert.equal(states.at(-1)?.state, "reconnecting");
  assert.equal(states.at(-1)?.delayMs, 0);
  await clock.advance(0);
  assert.equal(transports.opened.length, 2);
  assert.equal(transports.last.request.baseUrl, "http://rt2");
});

test("NotifyClient_repeatedFailures_backOffWithGrowingCappedJitteredDelays", async () => {
  const { client, transports, clock, states } = setup({ backoff: { baseMs: 100, maxMs: 1000 }, transports: ["websocket"] });
  clock.randomValue = 0.999;
  client.connect();
  await flush();
  for (let i = 0; i < 6; i++) {
    transports.last.serverClose(1006);
    const delay = states.at(-1)!.delayMs!;
    await clock.advance(delay);
  }
  const delays = states.filter((s) => s.state === "reconnecting").map((s) => s.delayMs);
  assert.deepEqual(delays, [99, 199, 399, 799, 999, 999]);
  assert.equal(client.attempt, 6);
  transports.last.connected();
  assert.equal(client.attempt, 0);
});

test("NotifyClient_close4029_waitsAtLeastFourSecondsWhateverTheJitter", async () => {
  const { client, transports, clock, states } = setup({ transports: ["websocket"] });
  clock.randomValue = 0;
  client.connect();
  await flush();
  transports.last.connected();
  transports.last.serverClose(4029);
  assert.equal(states.at(-1)?.state, "reconnecting");
  assert.equal(states.at(-1)?.delayMs, 4000);
  await clock.advance(3999);
  assert.equal(transports.opened.length, 1);
  await clock.advance(1);
  assert.equal(transports.opened.length, 2);

  // Refused again before connecting: further up the curve, still never under 4 s, jitter above it.
  clock.randomValue = 0.5;
  transports.last.serverClose(4029);
  assert.equal(states.at(-1)?.delayMs, 4000 + Math.floor(0.5 * (8000 - 4000)));
});

test("NotifyClient_close_stopsReconnecting", async () => {
  const { client, transports, clock } = setup();
  client.connect();
  await flush();
  transports.last.serverClose(1006);
  client.close();
  await clock.advance(120_000);
  assert.equal(transports.opened.length, 1);
  assert.equal(client.state, "closed");
  assert.equal(clock.pending, 0);
});

test("NotifyClient_subscribe_resubscribesAfterReconnectFromLastOffset", async () => {
  const { client, transports, clock } = setup();
  const messages: string[] = [];
  client.on("message", (m) => messages.push(`${m.channel}/${m.id}`));
  client.subscribe("public:news", { since: "5" });
  client.connect();
  await flush();
  const ws = transports.last;
  ws.connected();
  assert.deepEqual(ws.sent, [{ type: "subscribe", channel: "public:news", since: "5" }]);
  ws.frame("message", { channel: "public:news", id: "6", payload: {} });
  ws.frame("message", { channel: "public:news", id: "7", payload: {} });
  ws.frame("message", { channel: "public:news", id: "7", payload: {} });
  client.subscribe("public:other");
  assert.deepEqual(ws.sent.at(-1), { type: "subscribe", channel: "public:other" });
  ws.serverClose(1006);
  await clock.advance(500); // the first backoff's ceiling
  transports.last.connected();
  assert.deepEqual(transports.last.sent, [
    { type: "subscribe", channel: "public:news", since: "7" },
    { type: "subscribe", channel: "public:other" },
  ]);
  client.unsubscribe("public:other");
  assert.deepEqual(transports.last.sent.at(-1), { type: "unsubscribe", channel: "public:other" });
  assert.deepEqual(messages, ["public:news/6", "public:news/7"]);
});

test("NotifyClient_resync_reloadsNewestPageThroughRest", async () => {
  const api = fakeFetch({
    "GET /api/notifications": () => ({ body: { items: [notification("01Y"), notification("01X")], next_cursor: null } }),
    "GET /api/notifications/unread_count": () => ({ body: { count: 2 } }),
  });
  const { client, transports } = setup({ fetch: api.fetch, apiUrl: "http://api" });
  const resyncs: string[][] = [];
  const counts: number[] = [];
  client.on("resync", (r) => resyncs.push((r.reload ?? []).map((n) => n.id)));
  client.on("unread_count", (u) => counts.push(u.count));
  const seen: string[] = [];
  client.on("notification", (n) => seen.push(n.id));
  client.connect();
  await flush();
  transports.last.connected({ unread_count: 0 });
  transports.last.frame("resync", { reason: "too_many" });
  await flush();
  assert.deepEqual(resyncs, [["01Y", "01X"]]);
  assert.deepEqual(counts, [0, 2]);
  assert.equal(client.lastId, "01Y");
  assert.equal(api.calls[0]!.headers.Authorization, "Bearer t0");
  // Already reloaded: a live duplicate of a reloaded id is not emitted again.
  transports.last.frame("notification", notification("01Y"));
  assert.deepEqual(seen, []);
});

test("NotifyClient_markRead_callsRestAndEmitsRead", async () => {
  const api = fakeFetch({ "POST /api/notifications/01A/read": () => ({ status: 204 }) });
  const { client } = setup({ fetch: api.fetch });
  const reads: unknown[] = [];
  client.on("read", (r) => reads.push(r));
  await client.markRead("01A");
  assert.deepEqual(reads, [{ id: "01A" }]);
  assert.equal(api.calls[0]!.url, "/api/notifications/01A/read");
});

test("NotifyClient_serverErrorFrame_emitsErrorAndKeepsConnection", async () => {
  const { client, transports } = setup();
  const errors: string[] = [];
  client.on("error", (e) => errors.push(e.code));
  client.connect();
  await flush();
  transports.last.connected();
  transports.last.frame("error", { code: "forbidden", message: "no" });
  assert.deepEqual(errors, ["forbidden"]);
  assert.equal(client.state, "connected");
});

test("NotifyClient_readAndDeletedFramesFromOtherConnections_emitReadAndDeleted", async () => {
  const { client, transports } = setup();
  const events: string[] = [];
  client.on("read", (r) => events.push(r.all ? "read:all" : `read:${r.id}`));
  client.on("deleted", (d) => events.push(`deleted:${d.id}`));
  client.connect();
  await flush();
  transports.last.connected();
  transports.last.frame("read", { id: "01A" });
  transports.last.frame("read_all", { updated: 3 });
  transports.last.frame("deleted", { id: "01B" });
  assert.deepEqual(events, ["read:01A", "read:all", "deleted:01B"]);
});

test("NotifyRest_wsStats_goesToTheRealtimeReplica", async () => {
  const api = fakeFetch({ "GET /api/ws/stats": () => ({ body: { total_users: 1, total_connections: 2 } }) });
  const { client } = setup({ url: ["http://rt1:1"], apiUrl: "http://api:2", fetch: api.fetch });
  const stats = await client.rest.wsStats();
  assert.equal(stats.total_connections, 2);
  assert.equal(api.calls[0]!.href, "http://rt1:1/api/ws/stats");
  assert.equal(api.calls[0]!.headers.Authorization, "Bearer t0");
});

test("NotifyClient_pathOption_opensTheAdminStream", async () => {
  const { client, transports } = setup({ path: "/api/ws/admin", transports: ["websocket"] });
  const frames: string[] = [];
  client.on("frame", (f) => frames.push(f.type));
  client.connect();
  await flush();
  assert.equal(transports.last.request.path, "/api/ws/admin");
  transports.last.connected();
  transports.last.frame("system_message", { message: "disk full", level: "warning" });
  assert.deepEqual(frames, ["connected", "system_message"]);
});

test("NotifyClient_networkBackWhileWaiting_reconnectsAtOnce", async () => {
  const network = new EventTarget();
  const { client, transports, clock, states } = setup({ onlineEvents: network, backoff: { baseMs: 20_000, maxMs: 20_000 } });
  client.connect();
  await flush();
  transports.last.connected();
  transports.last.serverClose(1006);
  assert.equal(states.at(-1)?.state, "reconnecting");
  assert.ok(states.at(-1)!.delayMs! >= 5_000);
  network.dispatchEvent(new Event("online"));
  await flush();
  assert.equal(transports.opened.length, 2);
  transports.last.connected();
  await clock.advance(30_000);
  assert.equal(transports.opened.length, 2, "the cancelled backoff timer does not open a second connection");
  client.close();
  network.dispatchEvent(new Event("online"));
  await flush();
  assert.equal(transports.opened.length, 2);
});
