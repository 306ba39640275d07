import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyRest } from "../src/rest.js";
import { pollingTransport } from "../src/transports.js";
import type { Frame } from "../src/types.js";
import { FakeClock, fakeFetch, notification } from "./support/fakes.js";

function inbox(ids: string[]) {
  // Newest first, paged by `before`, as the Api lists.
  return (url: URL) => {
    const limit = Number(url.searchParams.get("limit") ?? 20);
    const before = url.searchParams.get("before");
    const sorted = [...ids].sort().reverse().filter((id) => !before || id < before);
    const items = sorted.slice(0, limit).map((id) => notification(id));
    return { body: { items, next_cursor: sorted.length > limit ? items.at(-1)!.id : null } };
  };
}

function run(ids: string[], lastId: string | null, pageSize = 2) {
  const api = fakeFetch({ "GET /api/notifications": inbox(ids), "GET /api/notifications/unread_count": () => ({ body: { count: ids.length } }) });
  const clock = new FakeClock();
  const frames: Frame[] = [];
  const closes: number[] = [];
  const conn = pollingTransport({ rest: new NotifyRest({ baseUrl: "http://api", fetch: api.fetch }), clock, intervalMs: 5000, pageSize, maxPages: 3 })(
    { kind: "polling", baseUrl: "http://rt", path: "/api/ws/notifications", token: "t", lastId },
    { onOpen() {}, onFrame: (f) => frames.push(f), onClose: (c) => closes.push(c) },
  );
  return { clock, frames, closes, conn, api };
}

test("pollingTransport_sinceLastId_emitsNewItemsOldestFirstAcrossPages", async () => {
  const ids = ["01", "02", "03", "04", "05", "06"];
  const { clock, frames, conn } = run(ids, "02");
  await clock.advance(0);
  assert.deepEqual(frames.map((f) => f.type === "notification" ? f.data.id : f.type), ["connected", "03", "04", "05", "06", "unread_count"]);
  conn.close();
});

test("pollingTransport_withoutLastId_startsFromNewestWithoutEmitting", async () => {
  const ids = ["01", "02"];
  const { clock, frames, conn } = run(ids, null);
  await clock.advance(0);
  assert.deepEqual(frames.map((f) => f.type), ["connected", "unread_count"]);
  ids.push("03");
  await clock.advance(5000);
  assert.deepEqual(frames.filter((f) => f.type === "notification").map((f) => f.data.id), ["03"]);
  conn.close();
});

test("pollingTransport_tooManyPagesOfNews_sendsResync", async () => {
  const ids = Array.from({ length: 20 }, (_, i) => String(10 + i));
  const { clock, frames, conn } = run(ids, "10");
  await clock.advance(0);
  assert.deepEqual(frames.map((f) => f.type), ["connected", "resync", "unread_count"]);
  conn.close();
});

test("pollingTransport_unauthorized_closesWith4001", async () => {
  const api = fakeFetch({ "GET /api/notifications": () => ({ status: 401, body: { title: "Unauthorized" } }) });
  const clock = new FakeClock();
  const closes: number[] = [];
  pollingTransport({ rest: new NotifyRest({ baseUrl: "http://api", fetch: api.fetch }), clock, intervalMs: 5000 })(
    { kind: "polling", baseUrl: "http://rt", path: "/api/ws/notifications", token: "t", lastId: null },
    { onOpen() {}, onFrame() {}, onClose: (c) => closes.push(c) },
  );
  await clock.advance(0);
  assert.deepEqual(closes, [4001]);
});
