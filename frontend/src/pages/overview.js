// System Overview (/): every service with health (and since when), request rate, error
// rate, p95 and sparklines; active alerts by severity; the dependency graph from traces.
import { h, svg, replace, emptyState, errorState, loading, noDataHint } from "../dom.js";
import { sparkline, fmtValue, promNumber, fromMatrix } from "../lib/chart.js";
import { fmtAgo, fmtDuration } from "../lib/time.js";
import { isAbort, card, rateWindow, alertsOf, severityOf, alertTitle, alertStart } from "../lib/util.js";

const SEVERITIES = ["critical", "warning", "info"];
const HEALTH_NAMES = { 1: "pass", 0.5: "warn", 0: "fail" };

export function mount(el, ctx) {
  ctx.setTitle("Overview");
  const sub = h("span", { class: "sub" });
  const alertsBox = h("div", null, loading("alerts"));
  const servicesBox = h("div", null, loading("services"));
  const graphBox = h("div", null, loading("the dependency graph"));
  el.append(
    h("div", { class: "page-head" }, h("h1", null, "System overview"), sub),
    card("Active alerts", alertsBox, h("a", { href: "/alerts" }, "All alerts →")),
    h("div", { class: "section" }, card("Services", servicesBox)),
    h("div", { class: "section" }, card("Service dependencies", graphBox, h("span", { class: "sub" }, "from traces: calls/s and error % per edge"))),
  );

  let generation = 0;
  async function load() {
    const gen = ++generation;
    const range = ctx.timeRange;
    sub.textContent = range.label;
    const opts = { signal: ctx.signal };
    await Promise.all([
      loadAlerts(gen, opts),
      loadServices(gen, range, opts),
      loadGraph(gen, range, opts),
    ]);
  }

  async function loadAlerts(gen, opts) {
    try {
      const body = await ctx.api.get("/api/v1/alerts", { state: "firing", limit: 200 }, opts);
      if (gen !== generation) return;
      const firing = alertsOf(body).filter((a) => a.state !== "resolved");
      const counts = { critical: 0, warning: 0, info: 0, other: 0 };
      for (const a of firing) {
        const s = severityOf(a);
        counts[SEVERITIES.includes(s) ? s : s === "page" ? "critical" : "other"] += 1;
      }
      const summary = h(
        "div",
        { class: "counts" },
        [...SEVERITIES, "other"].map((s) =>
          h("a", { class: `count ${s}`, href: `/alerts?severity=${s}` }, h("span", { class: "n" }, String(counts[s])), s),
        ),
      );
      const list = firing.length
        ? h(
            "ul",
            { class: "history" },
            firing
              .slice(0, 6)
              .map((a) =>
                h(
                  "li",
                  null,
                  h("span", { class: `badge ${severityOf(a)}` }, severityOf(a)),
                  " ",
                  h("a", { href: `/alerts?alert=${encodeURIComponent(a.id || a.fingerprint || "")}` }, alertTitle(a)),
                  " · for ",
                  fmtDuration(Date.now() / 1000 - alertStart(a)),
                ),
              ),
          )
        : h("p", { class: "sub" }, "No alert is firing.");
      replace(alertsBox, summary, list);
    } catch (err) {
      if (!isAbort(err) && gen === generation) replace(alertsBox, errorState(err, "alerts"));
    }
  }

  async function promVector(expr, time, opts) {
    const data = await ctx.api.query(expr, time, opts);
    const out = new Map();
    for (const s of data.result || []) out.set((s.metric || {}).job || "", promNumber(s.value[1]));
    return out;
  }

  async function loadServices(gen, range, opts) {
    let services;
    try {
      services = (await ctx.api.get("/api/v1/services", null, opts)).services || [];
    } catch (err) {
      if (!isAbort(err) && gen === generation) replace(servicesBox, errorState(err, "services"));
      return;
    }
    const step = Math.max(ctx.timeRange.step(60), 15);
    const win = rateWindow(step);
    const end = range.end;
    const start = range.start;
    const targets = await ctx.api.get("/api/v1/targets", null, opts).catch(() => ({ targets: [] }));
    // PromQL (may be missing on an older hub: the table still lists the services).
    let prom = null;
    let promErr = null;
    try {
      const [rate, errs, p95, rateSeries, errSeries, health] = await Promise.all([
        promVector(`sum by (job) (rate(http_requests_total[5m]))`, end, opts),
        promVector(`sum by (job) (rate(http_requests_total{status=~"5.."}[5m]))`, end, opts),
        promVector(`histogram_quantile(0.95, sum by (job, le) (rate(http_request_duration_seconds_bucket[5m])))`, end, opts),
        ctx.api.queryRange(`sum by (job) (rate(http_requests_total[${win}]))`, start, end, step, opts),
        ctx.api.queryRange(`sum by (job) (rate(http_requests_total{status=~"5.."}[${win}]))`, start, end, step, opts),
        ctx.api.queryRange(`min by (job) (berrys_health_status)`, start, end, step, opts),
      ]);
      const byJob = (res) => {
        const m = new Map();
        const { series, xs } = fromMatrix(res.result, start, end, step, (metric) => metric.job || "");
        for (const s of series) m.set(s.label, s.values);
        return { m, xs };
      };
      prom = { rate, errs, p95, rateSeries: byJob(rateSeries).m, errSeries: byJob(errSeries).m, health: byJob(health) };
    } catch (err) {
      if (isAbort(err)) return;
      promErr = err;
    }
    if (gen !== generation) return;
    const names = new Set(services.map((s) => s.name));
    for (const t of targets.targets || []) if (t.job) names.add(t.job);
    if (prom) for (const k of prom.rate.keys()) if (k) names.add(k);
    if (names.size === 0) {
      replace(servicesBox, emptyState("No services yet", ...noDataHint()));
      return;
    }
    const lastSeen = new Map(services.map((s) => [s.name, s.last_seen_ns / 1e9]));
    const targetHealth = new Map();
    for (const t of targets.targets || []) {
      if (t.job && t.scrape) targetHealth.set(t.job, t.scrape.health || (t.scrape.up ? "pass" : "unknown"));
    }
    const rows = [...names].sort().map((name) => {
      let health = targetHealth.get(name) || null;
      let since = null;
      if (prom) {
        const values = prom.health.m.get(name);
        if (values) {
          const xs = prom.health.xs;
          let i = values.length - 1;
          while (i >= 0 && values[i] == null) i--;
          if (i >= 0) {
            const current = values[i];
            health = health || HEALTH_NAMES[current] || "unknown";
            let j = i;
            while (j > 0 && values[j - 1] === current) j--;
            since = j > 0 ? xs[j] : null; // null: held for the whole range
          }
        }
      }
      const rate = prom ? prom.rate.get(name) : null;
      const errors = prom ? prom.errs.get(name) : null;
      const errRatio = rate ? (errors || 0) / rate : null;
      const p95 = prom ? prom.p95.get(name) : null;
      const seen = lastSeen.get(name);
      return h(
        "tr",
        null,
        h("td", null, h("a", { href: `/services/${encodeURIComponent(name)}`, class: "svc-link" }, name)),
        h(
          "td",
          null,
          health ? h("span", { class: `badge ${health}` }, health) : h("span", { class: "sub" }, "not probed"),
          health && prom && prom.health.m.has(name)
            ? h("span", { class: "sub" }, since ? ` for ${fmtDuration(Math.round(Date.now() / 1000 - since))}` : ` for ≥ ${fmtDuration(range.end - range.start)}`)
            : null,
        ),
        h("td", { class: "num" }, rate == null ? "–" : fmtValue(rate, "reqps")),
        h("td", { class: ["num", errRatio > 0.05 && "err"] }, errRatio == null ? "–" : fmtValue(errRatio, "percent")),
        h("td", { class: "num" }, p95 == null ? "–" : fmtValue(p95, "s")),
        h("td", null, prom ? sparkline(prom.rateSeries.get(name) || [], { label: `${name} requests per second` }) : null),
        h("td", null, prom ? sparkline(prom.errSeries.get(name) || [], { err: true, label: `${name} errors per second` }) : null),
        h("td", { class: "sub" }, seen ? fmtAgo(seen) : "–"),
      );
    });
    replace(
      servicesBox,
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "services" },
          h(
            "thead",
            null,
            h(
              "tr",
              null,
              h("th", null, "Service"),
              h("th", null, "Health"),
              h("th", { class: "num" }, "Requests"),
              h("th", { class: "num" }, "Errors"),
              h("th", { class: "num" }, "p95"),
              h("th", null, "Rate"),
              h("th", null, "Errors"),
              h("th", null, "Last seen"),
            ),
          ),
          h("tbody", null, rows),
        ),
      ),
      promErr
        ? h(
            "p",
            { class: "sub" },
            promErr.missing
              ? "Request rate, errors, latency and health history need the hub's PromQL API (/api/v1/query), which this hub does not serve yet."
              : `Request metrics unavailable: ${promErr.message}`,
          )
        : null,
    );
  }

  async function loadGraph(gen, range, opts) {
    try {
      const body = await ctx.api.get("/api/v1/dependencies", { start: range.start.toFixed(3), end: range.end.toFixed(3) }, opts);
      if (gen !== generation) return;
      const edges = body.edges || [];
      if (!edges.length) {
        replace(
          graphBox,
          emptyState(
            "No calls between services in this time range",
            "The graph is drawn from traces: when one service calls another with trace context propagated (setup_monitoring does it for FastAPI/Flask, requests and httpx), the call shows up here.",
          ),
        );
        return;
      }
      replace(graphBox, dependencyGraph(edges, Math.max(range.end - range.start, 1)));
    } catch (err) {
      if (!isAbort(err) && gen === generation) replace(graphBox, errorState(err, "the dependency graph"));
    }
  }

  load();
  ctx.onRefresh(load);
}

/** A layered SVG drawing of caller -> callee edges. */
export function dependencyGraph(edges, seconds) {
  const nodes = new Map();
  const node = (name) => {
    if (!nodes.has(name)) nodes.set(name, { name, layer: 0, out: [], in: [], errors: 0 });
    return nodes.get(name);
  };
  for (const e of edges) {
    node(e.caller).out.push(e);
    node(e.callee).in.push(e);
    node(e.callee).errors += e.errors || 0;
  }
  // Longest-path layering, bounded (cycles just stop growing).
  for (let pass = 0; pass < nodes.size; pass++) {
    let changed = false;
    for (const e of edges) {
      const a = nodes.get(e.caller);
      const b = nodes.get(e.callee);
      if (b.layer < a.layer + 1 && a.layer + 1 < nodes.size) {
        b.layer = a.layer + 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  const layers = [];
  for (const n of nodes.values()) (layers[n.layer] ||= []).push(n);
  const W = 320;
  const NW = 150;
  const NH = 34;
  const GAPY = 56;
  const maxRows = Math.max(...layers.map((l) => (l ? l.length : 0)));
  const width = (layers.length - 1) * W + NW + 40;
  const height = maxRows * (NH + GAPY) + 20;
  layers.forEach((layer, li) => {
    (layer || []).sort((a, b) => a.name.localeCompare(b.name));
    const offset = (height - layer.length * (NH + GAPY) + GAPY) / 2;
    layer.forEach((n, i) => {
      n.x = 20 + li * W;
      n.y = offset + i * (NH + GAPY);
    });
  });
  const root = svg("svg", {
    class: "depgraph",
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-label": `Service dependency graph: ${edges.length} edges`,
  });
  root.append(
    svg("defs", null, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: "10", refY: "5", markerWidth: "7", markerHeight: "7", orient: "auto-start-reverse" }, svg("path", { d: "M0,0 L10,5 L0,10 z" }))),
  );
  for (const e of edges) {
    const a = nodes.get(e.caller);
    const b = nodes.get(e.callee);
    const x1 = a.x + NW;
    const y1 = a.y + NH / 2;
    let x2 = b.x;
    const y2 = b.y + NH / 2;
    let d;
    if (b.layer > a.layer) {
      const mx = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`;
    } else {
      x2 = b.x + NW / 2;
      d = `M${a.x + NW / 2},${a.y} C${a.x + NW / 2},${a.y - 40} ${x2},${b.y - 40} ${x2},${b.y}`;
    }
    const rate = e.calls / seconds;
    const errPct = e.calls ? e.errors / e.calls : 0;
    const label = `${fmtValue(rate, "reqps")} · ${fmtValue(errPct, "percent")} err`;
    const lx = (x1 + x2) / 2;
    const ly = (y1 + y2) / 2 - 6;
    root.append(
      svg(
        "g",
        { class: errPct > 0 ? "edge err" : "edge" },
        svg("title", null, `${e.caller} → ${e.callee}: ${e.calls} calls, ${e.errors} errors`),
        svg("path", { d, "marker-end": "url(#arrow)" }),
        svg("text", { x: lx, y: ly, "text-anchor": "middle" }, label),
      ),
    );
  }
  for (const n of nodes.values()) {
    const label = n.name.length > 20 ? `${n.name.slice(0, 19)}…` : n.name;
    root.append(
      svg(
        "g",
        { class: n.errors ? "node err" : "node" },
        svg(
          "a",
          { href: `/services/${encodeURIComponent(n.name)}`, "aria-label": `service ${n.name}` },
          svg("title", null, n.name),
          svg("rect", { x: n.x, y: n.y, width: NW, height: NH, rx: 6 }),
          svg("text", { x: n.x + NW / 2, y: n.y + NH / 2 + 4, "text-anchor": "middle" }, label),
        ),
      ),
    );
  }
  return root;
}
