import { test } from "node:test";
import assert from "node:assert/strict";
import { DedupeSet, compareIds } from "../src/dedupe.js";

test("DedupeSet_add_returnsFalseForRepeatedId", () => {
  const d = new DedupeSet(10);
  assert.equal(d.add("a"), true);
  assert.equal(d.add("b"), true);
  assert.equal(d.add("a"), false);
  assert.equal(d.size, 2);
});

test("DedupeSet_add_forgetsOldestBeyondCapacity", () => {
  const d = new DedupeSet(3);
  for (const id of ["1", "2", "3", "4"]) d.add(id);
  assert.equal(d.size, 3);
  assert.equal(d.has("1"), false);
  assert.equal(d.has("4"), true);
  assert.equal(d.add("1"), true);
  assert.equal(d.has("2"), false);
});

test("compareIds_ulidsAndLengths_orderByCreation", () => {
  assert.ok(compareIds("01JD3Z0000000000000000000A", "01JD3Z0000000000000000000B") < 0);
  assert.ok(compareIds("01JD40000000000000000000AA", "01JD3Z0000000000000000000B") > 0);
  assert.equal(compareIds("x", "x"), 0);
  assert.ok(compareIds("9", "10") < 0);
});
