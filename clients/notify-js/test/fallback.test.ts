import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyClient } from "../src/client.js";
import { CloseCodes } from "../src/transports.js";
import { FakeClock, FakeTransports, flush, notification } from "./support/fakes.js";

function setup(extra: object = {}) {
  const clock = new FakeClock();
  const transports = new FakeTransports();
  const client = new NotifyClient({ url: "http://rt", token: "t", clock, transportFactories: transports.all, maxWsAttempts: 3, maxSseAttempts: 2, upgradeIntervalMs: 60_000, connectTimeoutMs: 3_600_000, ...extra });
  return { clock, transports, client };
}

async function failLast(clock: FakeClock, transports: FakeTransports) {
  transports.last.serverClose(CloseCodes.Abnormal);
  await clock.advance(30_000); // the backoff cap: the next attempt has started
}

test("NotifyClient_wsFailsMaxWsAttempts_fallsBackToSseThenPolling", async () => {
  const { clock, transports, client } = setup();
  client.connect();
  await flush();
  for (let i = 0; i < 5; i++) await failLast(clock, transports);
  assert.deepEqual(transports.kinds(), ["websocket", "websocket", "websocket", "sse", "sse", "polling"]);
  transports.last.connected({ unread_count: 1 });
  assert.equal(client.transport, "polling");
  assert.equal(client.state, "connected");
});

test("NotifyClient_wsFailsAfterConnecting_doesNotCountTowardsFallback", async () => {
  const { clock, transports, client } = setup();
  client.connect();
  await flush();
  for (let i = 0; i < 5; i++) {
    transports.last.connected();
    await failLast(clock, transports);
  }
  assert.ok(transports.kinds().every((k) => k === "websocket"));
});

test("NotifyClient_connectTimeout_countsAsFailedAttempt", async () => {
  const { clock, transports, client } = setup({ connectTimeoutMs: 5000, backoff: { baseMs: 0, maxMs: 0 } });
  client.connect();
  await flush();
  for (let i = 0; i < 3; i++) await clock.advance(5000);
  assert.equal(transports.opened[0]!.closedByClient?.code, CloseCodes.ConnectTimeout);
  assert.equal(transports.last.kind, "sse");
});

test("NotifyClient_onFallback_probesPreferredTransportAndSwitchesWhenItConnects", async () => {
  const { clock, transports, client } = setup();
  const seen: string[] = [];
  client.on("notification", (n) => seen.push(n.id));
  client.subscribe("public:a");
  client.connect();
  await flush();
  for (let i = 0; i < 3; i++) await failLast(clock, transports);
  const sse = transports.last;
  assert.equal(sse.kind, "sse");
  sse.connected();
  sse.frame("notification", notification("01A"));
  const before = transports.opened.length;
  await clock.advance(59_000);
  assert.equal(transports.opened.length, before, "no probe before the interval");
  await clock.advance(1_000);
  const probe = transports.last;
  assert.equal(probe.kind, "websocket");
  assert.equal(probe.request.lastId, "01A");
  assert.equal(client.transport, "sse");
  probe.connected();
  assert.equal(client.transport, "websocket");
  assert.ok(sse.closedByClient, "the SSE stream is closed after the switch");
  assert.deepEqual(probe.sent, [{ type: "subscribe", channel: "public:a" }]);
  sse.frame("notification", notification("01B"));
  probe.frame("notification", notification("01A"));
  probe.frame("notification", notification("01B"));
  assert.deepEqual(seen, ["01A", "01B"]);
});

test("NotifyClient_failedProbe_keepsFallbackAndRetriesLater", async () => {
  const { clock, transports, client } = setup();
  client.connect();
  await flush();
  for (let i = 0; i < 3; i++) await failLast(clock, transports);
  const sse = transports.last;
  sse.connected();
  await clock.advance(60_000);
  const probe = transports.last;
  assert.equal(probe.kind, "websocket");
  probe.serverClose(CloseCodes.Abnormal);
  assert.equal(client.transport, "sse");
  assert.equal(client.state, "connected");
  assert.equal(sse.closedByClient, null);
  sse.frame("heartbeat");
  await clock.advance(60_000);
  assert.equal(transports.last.kind, "websocket");
  assert.notEqual(transports.last, probe);
});

test("NotifyClient_transportsOption_onlyWebSocket_retriesForever", async () => {
  const { clock, transports, client } = setup({ transports: ["websocket"] });
  client.connect();
  await flush();
  for (let i = 0; i < 8; i++) await failLast(clock, transports);
  assert.ok(transports.kinds().every((k) => k === "websocket"));
  assert.equal(transports.opened.length, 9);
});
