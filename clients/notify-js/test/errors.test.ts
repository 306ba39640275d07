import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyRest, NotifyHttpError } from "../src/index.js";
import { retryAfter } from "../src/rest.js";
import { fakeFetch } from "./support/fakes.js";

test("NotifyRest_503WithRetryAfter_ThrowsHttpErrorCarryingTheSeconds", async () => {
  const api = fakeFetch({
    "POST /api/tasks": () => ({ status: 503, body: { title: "Service Unavailable", detail: "The task queue is unreachable" }, headers: { "Retry-After": "1" } }),
  });
  const rest = new NotifyRest({ baseUrl: "http://api", token: "t", fetch: api.fetch });

  await assert.rejects(rest.createTask("demo", {}), (err: unknown) =>
    err instanceof NotifyHttpError && err.status === 503 && err.retryAfterSeconds === 1 && err.problem?.detail === "The task queue is unreachable");
});

test("NotifyRest_ErrorWithoutRetryAfter_HasNullSeconds", async () => {
  const api = fakeFetch({ "POST /api/tasks": () => ({ status: 400, body: { title: "Bad Request" } }) });
  const rest = new NotifyRest({ baseUrl: "http://api", token: "t", fetch: api.fetch });

  await assert.rejects(rest.createTask("demo", {}), (err: unknown) => err instanceof NotifyHttpError && err.retryAfterSeconds === null);
});

test("retryAfter_SecondsDateAndGarbage", () => {
  const now = Date.parse("2026-12-07T12:00:00Z");
  assert.equal(retryAfter("5", now), 5);
  assert.equal(retryAfter(" 0 ", now), 0);
  assert.equal(retryAfter("Mon, 07 Dec 2026 12:00:30 GMT", now), 30);
  assert.equal(retryAfter("Mon, 07 Dec 2026 11:59:00 GMT", now), 0);
  assert.equal(retryAfter("soon", now), null);
  assert.equal(retryAfter("-3", now), null);
  assert.equal(retryAfter(null, now), null);
});
