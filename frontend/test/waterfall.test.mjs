// node --test frontend/test/: the waterfall model on hand-made and 10,000-span traces.
import test from "node:test";
import assert from "node:assert/strict";
import { buildTrace, visibleRows, searchTrace, reveal, collapseBelow, fmtNs } from "../src/lib/waterfall.js";

const span = (id, parent, start, end, extra = {}) => ({
  span_id: id, parent_span_id: parent, start_ns: start, end_ns: end, service: extra.service || "a",
  name: extra.name || id, status: { code: extra.error ? "ERROR" : "UNSET" }, attributes: extra.attributes || {},
}); // prettier-ignore

test("tree order, depth and visible rows with a collapsed subtree", () => {
  const m = buildTrace([
    span("r", null, 0, 100), span("a", "r", 10, 50), span("a1", "a", 20, 30),
    span("b", "r", 60, 90, { service: "b" }),
  ], [{ time_ns: 25, span_id: "a1", body: "x" }, { time_ns: 5, body: "root log" }]); // prettier-ignore
  const names = (rows) => Array.from(rows, (i) => (i >= 0 ? m.spans[i].name : `log:${m.logs[-i - 1].body}`));
  assert.deepEqual(names(visibleRows(m, new Set())), ["r", "log:root log", "a", "a1", "log:x", "b"]);
  assert.deepEqual(names(visibleRows(m, new Set([m.index.get("a")]))), ["r", "log:root log", "a", "b"]);
  assert.deepEqual(Array.from(m.depth), [0, 1, 2, 1]);
  assert.equal(m.services.size, 2);
});

test("critical path follows the last-finishing child, and the parent's own time", () => {
  // r: 0..100; a 10..50 (a1 20..30 inside), b 40..90: b finishes last, then a before b starts
  const m = buildTrace([
    span("r", null, 0, 100), span("a", "r", 10, 50), span("a1", "a", 20, 30), span("b", "r", 40, 90),
    span("late", "r", 95, 99), span("c", "r", 41, 45),
  ]); // prettier-ignore
  const on = (id) => m.critical[m.index.get(id)] === 1;
  assert.ok(on("r") && on("late") && on("b") && on("a") && on("a1"));
  assert.ok(!on("c")); // inside b's time: b is on the path there
  assert.deepEqual(m.segments.get(m.index.get("r")), [[99, 100], [90, 95], [0, 10]]);
});

test("search finds attributes and reveal expands the ancestors", () => {
  const m = buildTrace([
    span("r", null, 0, 100), span("a", "r", 10, 50), span("deep", "a", 20, 30, { attributes: { "db.statement": "SELECT Timeout" } }),
  ]); // prettier-ignore
  const hits = searchTrace(m, "timeout");
  assert.deepEqual(hits, [m.index.get("deep")]);
  const collapsed = collapseBelow(m, 0);
  assert.equal(visibleRows(m, collapsed).length, 1);
  reveal(m, collapsed, hits[0]);
  assert.equal(visibleRows(m, collapsed).length, 3);
});

test("10,000 spans: model in well under 100 ms, a toggle in well under 10 ms", () => {
  const spans = [span("s0", null, 0, 1e9)];
  for (let i = 1; i < 10000; i++) {
    const parent = i < 100 ? "s0" : `s${Math.floor(i / 100)}`;
    spans.push(span(`s${i}`, parent, i * 1000, i * 1000 + 5e5, { service: `svc${i % 7}` }));
  }
  let t = performance.now();
  const m = buildTrace(spans);
  const build = performance.now() - t;
  t = performance.now();
  const rows = visibleRows(m, new Set([m.index.get("s5")]));
  const toggle = performance.now() - t;
  assert.equal(rows.length, 10000 - 100);
  assert.ok(build < 300, `build took ${build} ms`);
  assert.ok(toggle < 20, `toggle took ${toggle} ms`);
});

test("durations read naturally", () => {
  assert.equal(fmtNs(1_234_000_000), "1.23 s");
  assert.equal(fmtNs(45_600_000), "45.6 ms");
  assert.equal(fmtNs(789_000), "789 µs");
});
