// Service dashboard (/services/{name}): RED charts (rate, errors, p50/p95/p99 with
// exemplars), top routes, health checks with history, recent error logs, slowest and failed
// recent traces. Metrics come from the PromQL API over the library's HTTP metrics
// (http_requests_total{job,method,route,status}, http_request_duration_seconds_bucket).
import { h, svg, replace, emptyState, errorState, failedState, loading, noDataHint } from "../dom.js";
import { timeSeries, fromMatrix, fmtValue, promNumber } from "../lib/chart.js";
import { fmtTime, fmtDuration, fmtAgo } from "../lib/time.js";
import { isAbort, card, rateWindow, promString } from "../lib/util.js";

const HEALTH = { 1: "pass", 0.5: "warn", 0: "fail" };

export function mount(el, ctx) {
  const name = ctx.params.name;
  ctx.setTitle(name);
  const job = `job=${promString(name)}`;
  const healthBadge = h("span");
  const head = h(
    "div",
    { class: "page-head" },
    h("h1", null, name),
    healthBadge,
    h("span", { class: "sub" }, "service"),
    h("span", { class: "spacer" }),
    h("a", { href: `/traces?service=${encodeURIComponent(name)}`, class: "btn" }, "Traces"),
    h("a", { href: `/logs?service=${encodeURIComponent(name)}`, class: "btn" }, "Logs"),
  );
  const noMetrics = h("div");
  const rateBox = h("div");
  const errBox = h("div");
  const latBox = h("div");
  const exemplarList = h("div", { class: "sub" });
  const routesBox = h("div", null, loading("routes"));
  const healthBox = h("div", null, loading("health checks"));
  const logsBox = h("div", null, loading("error logs"));
  const slowBox = h("div", null, loading("traces"));
  const failedBox = h("div", null, loading("traces"));
  el.append(
    head,
    noMetrics,
    h(
      "div",
      { class: "cols-3" },
      card("Requests / s", rateBox),
      card("Errors (5xx)", errBox),
      card("Latency", h("div", null, latBox, exemplarList)),
    ),
    h("div", { class: "section" }, card("Top routes", routesBox, h("span", { class: "sub" }, "over the selected time range"))),
    h("div", { class: "section cols-2" }, card("Health checks", healthBox), card("Recent error logs", logsBox, h("a", { href: `/logs?service=${encodeURIComponent(name)}&level=error` }, "Open in Log Explorer →"))),
    h("div", { class: "section cols-2" }, card("Slowest recent traces", slowBox), card("Failed recent traces", failedBox)),
  );

  const zoom = (a, b) => ctx.setTimeRange(String(Math.round(a * 1000)), String(Math.round(b * 1000)));
  const rateChart = timeSeries(rateBox, { unit: "reqps", height: 180, onZoom: zoom, fill: true });
  const errChart = timeSeries(errBox, { unit: "reqps", height: 180, onZoom: zoom, colors: [getVar("--err"), getVar("--warn")] });
  const latChart = timeSeries(latBox, {
    unit: "s",
    height: 180,
    onZoom: zoom,
    onExemplar: (ex) => ctx.navigate(`/traces/${encodeURIComponent(ex.traceId)}`),
  });

  let generation = 0;
  async function load() {
    const gen = ++generation;
    const range = ctx.timeRange;
    const { start, end } = range;
    const step = range.step(200);
    const w = rateWindow(step);
    const opts = { signal: ctx.signal };
    const current = () => gen === generation;

    // RED charts
    const red = Promise.all([
      ctx.api.queryRange(`sum by (status) (rate(http_requests_total{${job}}[${w}]))`, start, end, step, opts),
      ctx.api.queryRange(`sum(rate(http_requests_total{${job},status=~"5.."}[${w}]))`, start, end, step, opts),
      ctx.api.queryRange(`sum(rate(http_requests_total{${job},status=~"4.."}[${w}]))`, start, end, step, opts),
      ...[0.5, 0.95, 0.99].map((q) =>
        ctx.api.queryRange(
          `histogram_quantile(${q}, sum by (le) (rate(http_request_duration_seconds_bucket{${job}}[${w}])))`,
          start,
          end,
          step,
          opts,
        ),
      ),
    ])
      .then(([rate, e5, e4, p50, p95, p99]) => {
        if (!current()) return;
        rateChart.setData(fromMatrix(rate.result, start, end, step, (m) => `status ${m.status || "?"}`));
        const errs = fromMatrix([...e5.result, ...e4.result], start, end, step);
        errs.series.forEach((s, i) => (s.label = i < e5.result.length ? "5xx" : "4xx"));
        errChart.setData(errs);
        const lat = fromMatrix([...p50.result, ...p95.result, ...p99.result], start, end, step);
        const names = [...p50.result.map(() => "p50"), ...p95.result.map(() => "p95"), ...p99.result.map(() => "p99")];
        lat.series.forEach((s, i) => (s.label = names[i]));
        latChart.setData(lat);
        replace(
          noMetrics,
          rate.result.length
            ? null
            : emptyState(`No request metrics for ${name} in this time range`, ...noDataHint(), " The hub scrapes the service's /metrics once it has registered."),
        );
      })
      .catch((err) => {
        if (!isAbort(err) && current()) replace(noMetrics, failedState(err, "request rate, errors and latency", "/api/v1/query_range"));
      });

    // Exemplars (optional endpoint)
    const exemplars = ctx.api
      .get(
        "/api/v1/query_exemplars",
        { query: `http_request_duration_seconds_bucket{${job}}`, start, end },
        opts,
      )
      .then((body) => {
        if (!current()) return;
        const list = [];
        for (const s of (body && body.data) || []) {
          for (const ex of s.exemplars || []) {
            const labels = ex.labels || {};
            const traceId = labels.trace_id || labels.traceID || labels.traceId;
            if (traceId && /^[0-9a-fA-F]{32}$/.test(traceId)) list.push({ t: Number(ex.timestamp), v: promNumber(ex.value), traceId });
          }
        }
        return list;
      })
      .catch(() => []);

    // Top routes: averages over the whole range
    const R = `${Math.max(60, Math.round(end - start))}s`;
    const routes = Promise.all([
      ctx.api.query(`sum by (method, route) (rate(http_requests_total{${job}}[${R}]))`, end, opts),
      ctx.api.query(`sum by (method, route) (rate(http_requests_total{${job},status=~"5.."}[${R}]))`, end, opts),
      ...[0.5, 0.95, 0.99].map((q) =>
        ctx.api.query(`histogram_quantile(${q}, sum by (method, route, le) (rate(http_request_duration_seconds_bucket{${job}}[${R}])))`, end, opts),
      ),
    ])
      .then(([rate, errs, p50, p95, p99]) => {
        if (!current()) return;
        const key = (m) => `${m.method || ""} ${m.route || ""}`;
        const idx = (res) => new Map(res.result.map((s) => [key(s.metric), promNumber(s.value[1])]));
        const [e, q50, q95, q99] = [idx(errs), idx(p50), idx(p95), idx(p99)];
        const rows = rate.result
          .map((s) => ({ k: key(s.metric), m: s.metric, r: promNumber(s.value[1]) }))
          .filter((r) => r.r > 0)
          .sort((a, b) => b.r - a.r)
          .slice(0, 15);
        if (!rows.length) {
          replace(routesBox, emptyState("No requests in this time range"));
          return;
        }
        replace(
          routesBox,
          h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              null,
              h("thead", null, h("tr", null, h("th", null, "Method"), h("th", null, "Route"), ["Rate (avg)", "Error %", "p50", "p95", "p99"].map((t) => h("th", { class: "num" }, t)))),
              h(
                "tbody",
                null,
                rows.map((r) =>
                  h(
                    "tr",
                    null,
                    h("td", null, r.m.method || ""),
                    h("td", { class: "mono" }, h("a", { href: `/traces?service=${encodeURIComponent(name)}&operation=${encodeURIComponent(`${r.m.method || ""} ${r.m.route || ""}`.trim())}` }, r.m.route || "")),
                    h("td", { class: "num" }, fmtValue(r.r, "reqps")),
                    h("td", { class: "num" }, fmtValue((e.get(r.k) || 0) / r.r, "percent")),
                    h("td", { class: "num" }, fmtValue(q50.get(r.k), "s")),
                    h("td", { class: "num" }, fmtValue(q95.get(r.k), "s")),
                    h("td", { class: "num" }, fmtValue(q99.get(r.k), "s")),
                  ),
                ),
              ),
            ),
          ),
        );
      })
      .catch((err) => {
        if (!isAbort(err) && current()) replace(routesBox, failedState(err, "top routes", "/api/v1/query"));
      });

    // Health checks with history
    const hstep = range.step(120);
    const health = Promise.all([
      ctx.api.queryRange(`min by (check) (berrys_health_check_status{${job}})`, start, end, hstep, opts),
      ctx.api.queryRange(`min(berrys_health_status{${job}})`, start, end, hstep, opts),
    ])
      .then(([checks, overall]) => {
        if (!current()) return;
        const all = fromMatrix(overall.result, start, end, hstep, () => "overall");
        const per = fromMatrix(checks.result, start, end, hstep, (m) => m.check || "?");
        const series = [...all.series, ...per.series];
        const lastOf = (values) => {
          for (let i = values.length - 1; i >= 0; i--) if (values[i] != null) return values[i];
          return null;
        };
        const ov = all.series[0] ? lastOf(all.series[0].values) : null;
        replace(healthBadge, ov == null ? null : h("span", { class: `badge ${HEALTH[ov] || "unknown"}` }, HEALTH[ov] || String(ov)));
        if (!series.length) {
          replace(healthBox, emptyState("No health probes recorded", "The hub probes the service's health endpoint when the service registers (setup_monitoring with hub_url=...)."));
          return;
        }
        replace(
          healthBox,
          h(
            "table",
            null,
            h("thead", null, h("tr", null, h("th", null, "Check"), h("th", null, "Now"), h("th", null, "History"))),
            h(
              "tbody",
              null,
              series.map((s) => {
                const now = lastOf(s.values);
                return h(
                  "tr",
                  null,
                  h("td", null, s.label),
                  h("td", null, h("span", { class: `badge ${HEALTH[now] || "unknown"}` }, HEALTH[now] || "unknown")),
                  h("td", null, statusStrip(s.values, all.xs.length ? all.xs : per.xs, `${s.label} history`)),
                );
              }),
            ),
          ),
        );
      })
      .catch((err) => {
        if (!isAbort(err) && current()) replace(healthBox, failedState(err, "health history", "/api/v1/query_range"));
      });

    // Error logs
    const logs = ctx.api
      .get("/api/v1/logs", { service: name, level: "error", limit: 15, start: start.toFixed(3), end: end.toFixed(3) }, opts)
      .then((body) => {
        if (!current()) return;
        const rows = body.logs || [];
        replace(
          logsBox,
          rows.length
            ? h(
                "ul",
                { class: "history loglines" },
                rows.map((r) =>
                  h(
                    "li",
                    null,
                    h("span", { class: "mono" }, fmtTime(r.time_ns / 1e9)),
                    " ",
                    h("span", { class: `lvl ${String(r.severity_text || "").toUpperCase()}` }, r.severity_text || ""),
                    " ",
                    h("span", { class: "mono" }, typeof r.body === "string" ? r.body : JSON.stringify(r.body)),
                    r.trace_id ? [" ", h("a", { href: `/traces/${r.trace_id}` }, "trace")] : null,
                  ),
                ),
              )
            : emptyState("No error logs in this time range"),
        );
      })
      .catch((err) => {
        if (!isAbort(err) && current()) replace(logsBox, errorState(err, "error logs"));
      });

    // Traces: slowest and failed
    const tparams = { service: name, start: start.toFixed(3), end: end.toFixed(3) };
    const traces = Promise.all([
      ctx.api.get("/api/v1/traces", { ...tparams, limit: 200 }, opts),
      ctx.api.get("/api/v1/traces", { ...tparams, status: "error", limit: 10 }, opts),
      exemplars,
    ])
      .then(([all, failed, fromMetrics]) => {
        if (!current()) return;
        const slow = [...(all.traces || [])].sort((a, b) => b.duration_ns - a.duration_ns).slice(0, 10);
        // Exemplars on the latency chart: the metrics' own when the hub keeps them, else the
        // slowest and the failed recent traces at their time and duration (as Tempo links do).
        let marks = fromMetrics;
        let what = "Exemplars";
        if (!marks.length) {
          const seen = new Set();
          marks = [...slow, ...(failed.traces || [])]
            .filter((t) => !seen.has(t.trace_id) && seen.add(t.trace_id))
            .map((t) => ({ t: t.start_ns / 1e9, v: t.duration_ns / 1e9, traceId: t.trace_id }));
          what = "Slowest and failed traces";
        }
        latChart.setExemplars(marks);
        replace(
          exemplarList,
          marks.length
            ? [
                `${what} (◆ on the chart, click one to open it): `,
                marks.slice(0, 5).map((ex) => [h("a", { href: `/traces/${ex.traceId}`, class: "mono" }, `${ex.traceId.slice(0, 8)}… ${fmtValue(ex.v, "s")}`), " "]),
              ]
            : null,
        );
        replace(slowBox, traceTable(slow, "No traces in this time range"));
        replace(failedBox, traceTable(failed.traces || [], "No failed traces in this time range"));
      })
      .catch((err) => {
        if (!isAbort(err) && current()) {
          replace(slowBox, errorState(err, "traces"));
          replace(failedBox, errorState(err, "traces"));
        }
      });

    await Promise.all([red, exemplars, routes, health, logs, traces]);
  }

  load();
  ctx.onRefresh(load);
  return () => {
    rateChart.destroy();
    errChart.destroy();
    latChart.destroy();
  };
}

function getVar(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

function traceTable(list, empty) {
  if (!list.length) return emptyState(empty);
  return h(
    "table",
    null,
    h("thead", null, h("tr", null, h("th", null, "Operation"), h("th", { class: "num" }, "Duration"), h("th", { class: "num" }, "Spans"), h("th", null, "When"))),
    h(
      "tbody",
      null,
      list.map((t) =>
        h(
          "tr",
          null,
          h("td", null, h("a", { href: `/traces/${t.trace_id}` }, t.root_operation || t.trace_id), t.error_count ? [" ", h("span", { class: "badge err" }, `${t.error_count} err`)] : null),
          h("td", { class: "num" }, fmtDuration(t.duration_ns / 1e9)),
          h("td", { class: "num" }, String(t.span_count)),
          h("td", { class: "sub" }, fmtAgo(t.start_ns / 1e9)),
        ),
      ),
    ),
  );
}

/** A strip of coloured cells, one per step: pass/warn/fail/none. */
function statusStrip(values, xs, label) {
  const W = 240;
  const H = 14;
  const n = Math.max(values.length, 1);
  const root = svg("svg", { class: "strip", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none", role: "img", "aria-label": label });
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && values[j + 1] === values[i]) j++;
    const v = values[i];
    const cls = v == null ? "none" : HEALTH[v] || "unknown";
    root.append(
      svg(
        "rect",
        { class: `cell ${cls}`, x: ((i / n) * W).toFixed(2), y: 0, width: (((j - i + 1) / n) * W).toFixed(2), height: H },
        svg("title", null, `${cls} from ${xs[i] ? fmtTime(xs[i]) : "?"}${xs[j + 1] ? ` to ${fmtTime(xs[j + 1])}` : " until now"}`),
      ),
    );
    i = j + 1;
  }
  return root;
}
