import { test } from "node:test";
import assert from "node:assert/strict";
import { Backoff } from "../src/backoff.js";

test("Backoff_ceiling_doublesUntilCapped", () => {
  const b = new Backoff({ baseMs: 500, maxMs: 30_000 });
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 20, 5000].map((n) => b.ceiling(n)), [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
});

test("Backoff_delay_isFullJitterBetweenZeroAndCeiling", () => {
  let r = 0;
  const b = new Backoff({ baseMs: 100, maxMs: 1000 }, () => r);
  assert.equal(b.delay(3), 0);
  r = 0.5;
  assert.equal(b.delay(3), 400);
  r = 0.999999;
  assert.equal(b.delay(3), 799);
  assert.equal(b.delay(50), 999);
});

test("Backoff_delay_neverExceedsCapWithRealRandom", () => {
  const b = new Backoff({ baseMs: 200, maxMs: 5000 });
  for (let i = 0; i < 2000; i++) {
    const d = b.delay(i % 40);
    assert.ok(d >= 0 && d < 5000, `delay ${d}`);
  }
});

test("Backoff_constructor_rejectsInvertedBounds", () => {
  assert.throws(() => new Backoff({ baseMs: 1000, maxMs: 10 }), RangeError);
  assert.throws(() => new Backoff({ factor: 0.5 }), RangeError);
});
