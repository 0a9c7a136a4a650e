import test from "node:test";
import assert from "node:assert/strict";
import { substitute, legendOf, fmtValue, thresholdColor, bucketsToCounts, parseVariableQuery, varsFromQuery } from "../src/pages/dashboards-model.js";

test("variables are substituted, multi-values as a regex alternation", () => {
  assert.equal(substitute('rate(x{job=~"$service"}[$__rate_interval])', { service: ["a"] }, { step: 30 }), 'rate(x{job=~"a"}[120s])');
  assert.equal(substitute('x{job=~"${service}"}', { service: ["a.b", "c"] }), 'x{job=~"(a\\\\.b|c)"}');
  assert.equal(substitute("service=$service&level=error", { service: ["gw", "u"] }, { kind: "logs" }), "service=gw&level=error");
  assert.equal(substitute("x{a=\"$unknown\"}", {}), 'x{a="$unknown"}');
  assert.equal(substitute('x{a="$v"}', { v: ['say "hi"'] }), 'x{a="say \\"hi\\""}');
});

test("legends, units and thresholds", () => {
  assert.equal(legendOf("{{job}} {{route}}", { job: "gw", route: "/u" }), "gw /u");
  assert.equal(legendOf("", { __name__: "up", job: "gw" }), 'up{job="gw"}');
  assert.equal(fmtValue(0.0123, "s"), "12.3 ms");
  assert.equal(fmtValue(0.25, "percentunit"), "25.0%");
  assert.equal(fmtValue(1536, "bytes"), "1.50 KiB");
  assert.equal(fmtValue(12500, "reqps"), "12.5k req/s");
  assert.equal(thresholdColor(7, [{ value: null, color: "green" }, { value: 5, color: "red" }]), "red");
  assert.equal(thresholdColor(2, [{ value: null, color: "green" }, { value: 5, color: "red" }]), "green");
});

test("histogram buckets become per-bucket counts", () => {
  const out = bucketsToCounts([
    { le: "+Inf", values: [10] }, { le: "0.1", values: [4] }, { le: "0.5", values: [9] },
  ]); // prettier-ignore
  assert.deepEqual(out.map((r) => [r.label, r.values[0]]), [["0.1", 4], ["0.5", 5], ["+Inf", 1]]);
});

test("variable queries and URL selections", () => {
  assert.deepEqual(parseVariableQuery({ query: "label_values(http_requests_total, job)" }), { match: "http_requests_total", label: "job" });
  assert.deepEqual(parseVariableQuery({ query: "label_values(job)" }), { match: null, label: "job" });
  assert.deepEqual(parseVariableQuery({ type: "custom", query: "a, b" }), { values: ["a", "b"] });
  const q = new URLSearchParams("var-service=a&var-service=b");
  assert.deepEqual(varsFromQuery(q, [{ name: "service" }, { name: "env", current: ["prod"] }]), { service: ["a", "b"], env: ["prod"] });
});
