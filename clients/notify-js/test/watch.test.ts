import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyClient } from "../src/client.js";
import { CloseCodes } from "../src/transports.js";
import { FakeClock, FakeTransports, fakeFetch, flush } from "./support/fakes.js";

function setup(fetchRoutes = {}) {
  const clock = new FakeClock();
  const transports = new FakeTransports();
  const api = fakeFetch(fetchRoutes);
  const client = new NotifyClient({ url: "http://rt", token: "t", clock, transportFactories: transports.all, fetch: api.fetch });
  return { clock, transports, client, api };
}

test("watchTask_webSocketStream_emitsProgressThenCompletes", async () => {
  const { clock, transports, client } = setup();
  const w = client.watchTask("task-1");
  const progress: number[] = [];
  const onClient: string[] = [];
  w.on("progress", (p) => progress.push(p.progress));
  client.on("progress", (p) => onClient.push(`${p.task_id}:${p.progress}`));
  await clock.advance(0);
  const ws = transports.last;
  assert.equal(ws.kind, "websocket");
  assert.equal(ws.request.path, "/api/ws/tasks/task-1");
  ws.frame("connected", {});
  ws.frame("progress", { task_id: "task-1", status: "running", progress: 10, eta_s: 9 });
  ws.frame("progress", { task_id: "task-1", status: "running", progress: 60, eta_s: 4 });
  ws.frame("completed", { task_id: "task-1", status: "completed" });
  const final = await w.done;
  assert.equal(final.progress, 100);
  assert.deepEqual(progress, [10, 60, 100]);
  assert.deepEqual(onClient, ["task-1:10", "task-1:60", "task-1:100"]);
  assert.ok(ws.closedByClient);
});

/** A `GET /api/tasks/{id}` answer as the Api sends it: the progress is the snapshot object, not a number. */
function restTask(id: string, status: string, progress: number | null) {
  return {
    task_id: id, user_id: "u", kind: "demo", status, params: null, batch_id: null, attempts: 1,
    created_at: "2026-11-25T12:00:00.000Z", started_at: "2026-11-25T12:00:00.004Z", finished_at: null,
    error: status === "failed" ? "boom" : null, result: null, cancel_requested: false,
    progress: progress === null ? null : { task_id: id, status, message: "step 2 of 5", step: 2, total_steps: 5, progress, elapsed_s: 1.8, eta_s: 6.2, timestamp: "…" },
  };
}

test("watchTask_streamsFail_fallsBackToPollingUntilTerminal", async () => {
  let progress = 0;
  const { clock, transports, client } = setup({
    "GET /api/tasks/t2": () => ({ body: restTask("t2", progress >= 100 ? "completed" : "running", progress) }),
  });
  const w = client.watchTask("t2", { maxAttemptsPerTransport: 1, pollIntervalMs: 1000 });
  const seen: number[] = [];
  w.on("progress", (p) => seen.push(p.progress));
  await clock.advance(0);
  transports.last.serverClose(CloseCodes.Abnormal);
  await clock.advance(10_000 - 2000);
  assert.equal(transports.last.kind, "sse");
  transports.last.serverClose(CloseCodes.Abnormal);
  progress = 40;
  await clock.advance(10_000);
  progress = 100;
  await clock.advance(2000);
  const final = await w.done;
  assert.equal(final.status, "completed");
  assert.ok(seen.every((p) => typeof p === "number"), `progress must be 0–100, got ${JSON.stringify(seen)}`);
  assert.equal(seen[0], 40);
  assert.equal(seen.at(-1), 100);
});

test("watchTask_polling_mapsTheRestTaskToProgressFramesIncludingFailureAndExpiredSnapshot", async () => {
  let answer = restTask("t3", "queued", null);
  const { clock, transports, client } = setup({ "GET /api/tasks/t3": () => ({ body: answer }) });
  const w = client.watchTask("t3", { maxAttemptsPerTransport: 1, pollIntervalMs: 1000 });
  const seen: { progress: unknown; status: string; step?: unknown }[] = [];
  w.on("progress", (p) => seen.push({ progress: p.progress, status: p.status, step: p.step }));
  await clock.advance(0);
  transports.last.serverClose(CloseCodes.Abnormal);
  await clock.advance(10_000);
  transports.last.serverClose(CloseCodes.Abnormal);
  await clock.advance(10_000);
  answer = restTask("t3", "running", 22.5);
  await clock.advance(1000);
  answer = restTask("t3", "failed", 22.5);
  await clock.advance(1000);

  const failed = await w.done;
  assert.deepEqual(seen[0], { progress: 0, status: "queued", step: undefined });
  assert.deepEqual(seen.at(-1), { progress: 22.5, status: "running", step: 2 });
  assert.equal(failed.status, "failed");
  assert.equal(failed.progress, 22.5);
  assert.equal(failed.error, "boom");
});

test("createNotification_type_requiresTitleAsTheServerDoes", () => {
  // @ts-expect-error title is required by POST /api/notifications (400 without it)
  const missing: import("../src/rest.js").CreateNotification = { user_id: "u", type: "t", content: "c" };
  const ok: import("../src/rest.js").CreateNotification = { user_id: "u", type: "t", title: "t" };
  assert.ok(missing && ok);
});

test("watchTask_forbidden_endsWithError", async () => {
  const { clock, transports, client } = setup();
  const w = client.watchTask("x");
  await clock.advance(0);
  transports.last.serverClose(CloseCodes.Forbidden);
  await assert.rejects(w.done);
});

test("watchBatch_sseStream_emitsProgressThenFinished", async () => {
  const { clock, transports, client } = setup();
  const w = client.watchBatch("b1");
  await clock.advance(0);
  const sse = transports.last;
  assert.equal(sse.kind, "sse");
  assert.equal(sse.request.path, "/api/sse/batches/b1");
  sse.frame("progress", { total: 3, completed: 1, failed: 0, running: 1, queued: 1, progress: 33 });
  sse.frame("finished", { total: 3, completed: 3, failed: 0, running: 0, queued: 0, progress: 100 });
  const final = await w.done;
  assert.equal(final.completed, 3);
  await flush();
});
