import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyClient, type NotifyClientOptions } from "../src/client.js";
import { NotifyRest, NotifyHttpError } from "../src/rest.js";
import { FakeClock, FakeTransports, fakeFetch, flush } from "./support/fakes.js";

function setup(options: Partial<NotifyClientOptions> = {}) {
  const clock = new FakeClock();
  const transports = new FakeTransports();
  const client = new NotifyClient({ url: "http://rt", token: "t0", clock, transportFactories: transports.all, ...options });
  return { clock, transports, client };
}

test("NotifyClient_inboxFrames_emitTypedEvents", async () => {
  const { client, transports } = setup();
  const events: unknown[] = [];
  client.on("seen", (e) => events.push(["seen", e]));
  client.on("archived", (e) => events.push(["archived", e]));
  client.on("snoozed", (e) => events.push(["snoozed", e]));
  client.on("bulk", (e) => events.push(["bulk", e]));
  client.on("preferences", (e) => events.push(["preferences", e]));
  client.on("unread_count", (e) => events.push(["unread_count", e]));
  client.connect();
  await flush();
  transports.last.connected({ unread_count: 2 });
  transports.last.frame("seen", { id: "01A" });
  transports.last.frame("archived", { id: "01A" });
  transports.last.frame("unarchived", { id: "01A" });
  transports.last.frame("snoozed", { id: "01B", until: "2026-12-01T09:00:00.000Z" });
  transports.last.frame("snoozed", { id: "01B", until: null });
  transports.last.frame("bulk", { action: "archive", updated: 12 });
  transports.last.frame("preferences", { version: 4 });
  transports.last.frame("unread_count", { count: 3, unread: 3, unseen: 1 });
  assert.deepEqual(events, [
    ["unread_count", { count: 2 }],
    ["seen", { id: "01A" }],
    ["archived", { id: "01A", archived: true }],
    ["archived", { id: "01A", archived: false }],
    ["snoozed", { id: "01B", until: "2026-12-01T09:00:00.000Z" }],
    ["snoozed", { id: "01B", until: null }],
    ["bulk", { action: "archive", updated: 12 }],
    ["preferences", { version: 4 }],
    ["unread_count", { count: 3, unseen: 1 }],
  ]);
});

test("NotifyClient_markSeenArchiveSnooze_callRestAndEmit", async () => {
  const api = fakeFetch({
    "POST /api/notifications/01A/seen": () => ({ status: 204 }),
    "POST /api/notifications/01A/archive": () => ({ status: 204 }),
    "POST /api/notifications/01A/unarchive": () => ({ status: 204 }),
    "POST /api/notifications/01A/snooze": () => ({ status: 204 }),
    "DELETE /api/notifications/01A/snooze": () => ({ status: 204 }),
  });
  const { client } = setup({ fetch: api.fetch });
  const events: unknown[] = [];
  client.on("seen", (e) => events.push(e));
  client.on("archived", (e) => events.push(e));
  client.on("snoozed", (e) => events.push(e));
  await client.markSeen("01A");
  await client.archive("01A");
  await client.archive("01A", false);
  await client.snooze("01A", new Date("2026-12-01T09:00:00Z"));
  await client.snooze("01A", null);
  assert.deepEqual(events, [
    { id: "01A" },
    { id: "01A", archived: true },
    { id: "01A", archived: false },
    { id: "01A", until: "2026-12-01T09:00:00.000Z" },
    { id: "01A", until: null },
  ]);
  assert.deepEqual(api.calls.map((c) => `${c.method} ${c.url}`), [
    "POST /api/notifications/01A/seen",
    "POST /api/notifications/01A/archive",
    "POST /api/notifications/01A/unarchive",
    "POST /api/notifications/01A/snooze",
    "DELETE /api/notifications/01A/snooze",
  ]);
});

test("NotifyClient_markSeenMany_marksEachOnceAtBoundedConcurrency_skipsFailures", async () => {
  let inFlight = 0;
  let peak = 0;
  const slow = async (status: number) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return { status };
  };
  const routes: Record<string, () => Promise<{ status: number }>> = {};
  const ids = ["01A", "01B", "01C", "01D", "01E", "01F"];
  for (const id of ids) routes[`POST /api/notifications/${id}/seen`] = () => slow(id === "01C" ? 404 : 204);
  const api = fakeFetch(routes);
  const { client } = setup({ fetch: api.fetch });
  const events: unknown[] = [];
  client.on("seen", (e) => events.push(e.id));

  const done = await client.markSeenMany(ids, 2);

  assert.deepEqual([...done].sort(), ["01A", "01B", "01D", "01E", "01F"]);
  assert.deepEqual([...events].sort(), ["01A", "01B", "01D", "01E", "01F"]);
  assert.equal(api.calls.length, 6);
  assert.ok(peak <= 2, `at most 2 requests at once, saw ${peak}`);
  assert.deepEqual(await client.markSeenMany([]), []);
});

test("NotifyRest_listFiltersBulkAndUnseenCount_useTheDocumentedRoutes", async () => {
  let bulkBody: unknown;
  let snoozeBody: unknown;
  const api = fakeFetch({
    "GET /api/notifications": () => ({ body: { items: [], next_cursor: null } }),
    "GET /api/notifications/unseen_count": () => ({ body: { count: 5 } }),
    "POST /api/notifications/bulk": (_u, init) => { bulkBody = JSON.parse(String(init.body)); return { body: { updated: 2, more: false } }; },
    "POST /api/notifications/01A/snooze": (_u, init) => { snoozeBody = JSON.parse(String(init.body)); return { status: 204 }; },
  });
  const rest = new NotifyRest({ baseUrl: "http://api", token: "t", fetch: api.fetch });
  await rest.list({ archived: true, unseen: true, limit: 5 });
  assert.equal(await rest.unseenCount(), 5);
  assert.deepEqual(await rest.bulk({ action: "archive", type: "billing", status: "read" }), { updated: 2, more: false });
  await rest.snooze("01A", "2026-12-01T09:00:00.000Z");
  assert.equal(api.calls[0]!.url, "/api/notifications?archived=true&unseen=true&limit=5");
  assert.deepEqual(bulkBody, { action: "archive", type: "billing", status: "read" });
  assert.deepEqual(snoozeBody, { until: "2026-12-01T09:00:00.000Z" });
});

test("NotifyRest_putPreferences_sendsIfMatch_412IsAnHttpErrorWithTheCurrentVersion", async () => {
  const api = fakeFetch({
    "GET /api/me/preferences": () => ({ body: { version: 3, updated_at: null, types: {}, quiet_hours: null, defaults: {}, channels: ["in_app"] } }),
    "PUT /api/me/preferences": (_u, init) => {
      const match = (init.headers as Record<string, string>)["If-Match"];
      return match === "\"3\""
        ? { body: { version: 4, updated_at: "2026-12-01T00:00:00.000Z", types: { billing: { in_app: "off" } }, quiet_hours: null, defaults: {}, channels: ["in_app"] } }
        : { status: 412, body: { title: "Precondition Failed", current_version: 3 } };
    },
  });
  const rest = new NotifyRest({ baseUrl: "http://api", token: "t", fetch: api.fetch });
  const current = await rest.preferences();
  const stored = await rest.putPreferences({ types: { billing: { in_app: "off" } } }, current.version);
  assert.equal(stored.version, 4);
  assert.equal(stored.types.billing?.in_app, "off");
  await assert.rejects(rest.putPreferences({ types: {} }, 2), (e: unknown) => e instanceof NotifyHttpError && e.status === 412 && e.problem?.current_version === 3);
});
