import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyClient } from "../src/client.js";
import { CloseCodes } from "../src/transports.js";
import { FakeClock, FakeTransports, flush } from "./support/fakes.js";

async function connected(heartbeat: number) {
  const clock = new FakeClock();
  const transports = new FakeTransports();
  const client = new NotifyClient({ url: "http://rt", token: "t", clock, transportFactories: transports.all });
  client.connect();
  await flush();
  transports.last.connected({ heartbeat_interval_s: heartbeat });
  return { clock, transports, client };
}

test("NotifyClient_noFrameFor2_5Heartbeats_reconnects", async () => {
  const { clock, transports, client } = await connected(10);
  await clock.advance(24_999);
  assert.equal(client.state, "connected");
  await clock.advance(1);
  assert.equal(transports.opened[0]!.closedByClient?.code, CloseCodes.HeartbeatTimeout);
  assert.equal(client.state, "reconnecting");
});

test("NotifyClient_heartbeatsArrive_connectionStays", async () => {
  const { clock, transports, client } = await connected(10);
  for (let i = 0; i < 10; i++) {
    await clock.advance(10_000);
    transports.last.frame("heartbeat", undefined, { timestamp: "T" });
  }
  assert.equal(client.state, "connected");
  assert.equal(transports.opened.length, 1);
});

test("NotifyClient_anyFrame_resetsWatchdog", async () => {
  const { clock, transports, client } = await connected(4);
  await clock.advance(9_000);
  transports.last.frame("pong", undefined, { timestamp: "T" });
  await clock.advance(9_000);
  assert.equal(client.state, "connected");
  await clock.advance(1_000);
  assert.equal(client.state, "reconnecting");
});
