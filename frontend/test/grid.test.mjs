import test from "node:test";
import assert from "node:assert/strict";
import { compact, place, firstFree, collides } from "../src/lib/grid.js";

const at = (id, x, y, w, h) => ({ id, x, y, w, h });
const noOverlap = (items) => items.every((a) => items.every((b) => !collides(a, b)));

test("compact moves items up into free rows", () => {
  const out = compact([at("a", 0, 5, 12, 4), at("b", 12, 9, 12, 4)]);
  assert.deepEqual(out.map((i) => [i.x, i.y]), [[0, 0], [12, 0]]);
});

test("placing an item over another pushes that one down, nothing overlaps", () => {
  const items = [at("a", 0, 0, 12, 4), at("b", 12, 0, 12, 4), at("c", 0, 4, 24, 4)];
  const out = place(items, "c", { x: 0, y: 0, w: 24, h: 4 });
  assert.ok(noOverlap(out));
  assert.deepEqual(out.find((i) => i.id === "c"), at("c", 0, 0, 24, 4));
  assert.equal(out.find((i) => i.id === "a").y, 4);
});

test("resizing is clamped to the grid", () => {
  const out = place([at("a", 20, 0, 4, 4)], "a", { x: 20, y: 0, w: 10, h: 2 });
  assert.deepEqual(out[0], at("a", 14, 0, 10, 2));
});

test("a new item goes into the first gap", () => {
  assert.deepEqual(firstFree([at("a", 0, 0, 12, 4)], 12, 4), { x: 12, y: 0 });
  assert.deepEqual(firstFree([at("a", 0, 0, 24, 4)], 6, 3), { x: 0, y: 4 });
});

test("moving an item up onto another takes its place; the other goes below", () => {
  const out = place([at("a", 0, 0, 8, 6), at("b", 0, 6, 8, 6)], "b", { x: 2, y: 5, w: 8, h: 6 });
  assert.deepEqual(out.find((i) => i.id === "b"), at("b", 2, 0, 8, 6));
  assert.deepEqual(out.find((i) => i.id === "a"), at("a", 0, 6, 8, 6));
});
