import { test } from "node:test";
import assert from "node:assert/strict";
import { NotifyRest, NotifyHttpError, type PushSubscriptionInput, type StoredPushSubscription } from "../src/index.js";
import { fakeFetch } from "./support/fakes.js";

const browserJson: PushSubscriptionInput = {
  endpoint: "https://push.example/send/abc",
  expirationTime: null,
  keys: { p256dh: "BP256dh", auth: "auth16" },
};
const stored: StoredPushSubscription = { id: "ps1", endpoint: browserJson.endpoint, keys: browserJson.keys, created_at: "2026-11-30T20:00:00.000Z" };

test("NotifyRest_savePushSubscription_postsEndpointAndKeysOnly_returnsTheStoredOne", async () => {
  let sent: unknown;
  const api = fakeFetch({
    "POST /api/me/push-subscriptions": (_url, init) => {
      sent = JSON.parse(String(init.body));
      return { status: 201, body: stored };
    },
  });
  const rest = new NotifyRest({ baseUrl: "http://api", token: "t", fetch: api.fetch });

  const answer = await rest.savePushSubscription(browserJson);

  assert.deepEqual(sent, { endpoint: browserJson.endpoint, keys: browserJson.keys });
  assert.deepEqual(answer, stored);
  assert.equal(api.calls[0]!.headers["Authorization"] ?? api.calls[0]!.headers["authorization"], "Bearer t");
});

test("NotifyRest_pushSubscriptionsAndDelete_useTheDocumentedRoutes_409IsAnHttpError", async () => {
  const api = fakeFetch({
    "GET /api/me/push-subscriptions": () => ({ body: { items: [stored] } }),
    "DELETE /api/me/push-subscriptions/ps%2F1": () => ({ status: 204 }),
    "POST /api/me/push-subscriptions": () => ({ status: 409, body: { title: "Conflict", detail: "at most 10 push subscriptions" } }),
  });
  const rest = new NotifyRest({ baseUrl: "http://api", token: "t", fetch: api.fetch });

  assert.deepEqual(await rest.pushSubscriptions(), [stored]);
  await rest.deletePushSubscription("ps/1");
  await assert.rejects(rest.savePushSubscription(browserJson), (err: unknown) => err instanceof NotifyHttpError && err.status === 409);
  assert.deepEqual(api.calls.map((c) => `${c.method} ${c.url}`), [
    "GET /api/me/push-subscriptions",
    "DELETE /api/me/push-subscriptions/ps%2F1",
    "POST /api/me/push-subscriptions",
  ]);
});
