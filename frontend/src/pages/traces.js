// /traces: search traces (service, operation, status, duration range, attributes, the
// shell's time window) and show the results as a duration-over-time scatter plot (uPlot)
// and a list. The form lives in the URL query, so a search can be shared and reloaded.
import uPlot from "uplot";
import { h, replace, emptyState, errorState, loading, noDataHint } from "../dom.js";
import { fmtNs } from "../lib/waterfall.js";
import "./traces.css";

const FIELDS = ["service", "operation", "status", "min_duration", "max_duration", "attribute", "limit"];

function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

/** The search parameters of /api/v1/traces from the form's values. */
export function traceParams(values, range) {
  const p = { start: range.start.toFixed(3), end: range.end.toFixed(3), limit: values.limit || "100" };
  for (const k of ["service", "operation", "status", "min_duration", "max_duration"]) if (values[k]) p[k] = values[k];
  const attrs = String(values.attribute || "")
    .split(/\n|\s+(?=[^\s=]+=)/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (attrs.length) p.attribute = attrs;
  return p;
}

export function mount(el, ctx) {
  ctx.setTitle("Traces");
  const values = Object.fromEntries(FIELDS.map((k) => [k, k === "attribute" ? ctx.query.getAll("attribute").join(" ") : ctx.query.get(k) || ""]));
  const input = (name, attrs) =>
    h("input", { name, value: values[name], ...attrs, oninput: (ev) => (values[name] = ev.target.value) });

  const serviceSelect = h("select", { name: "service", onchange: (ev) => { values.service = ev.target.value; search(); } }, h("option", { value: "" }, "All services"));
  if (values.service) serviceSelect.append(h("option", { value: values.service, selected: true }, values.service));
  const statusSelect = h(
    "select",
    { name: "status", onchange: (ev) => { values.status = ev.target.value; search(); } },
    [["", "Any status"], ["error", "Error"], ["ok", "OK"]].map(([v, t]) => h("option", { value: v, selected: values.status === v }, t)),
  );
  const limitSelect = h(
    "select",
    { name: "limit", onchange: (ev) => { values.limit = ev.target.value; search(); } },
    ["20", "100", "500", "1000"].map((v) => h("option", { value: v, selected: (values.limit || "100") === v }, v)),
  );
  const form = h(
    "form",
    { class: "toolbar traces-form", role: "search", onsubmit: (ev) => { ev.preventDefault(); search(); } },
    h("label", null, "Service", serviceSelect),
    h("label", null, "Operation", input("operation", { placeholder: "GET /users/{id}", size: 18 })),
    h("label", null, "Status", statusSelect),
    h("label", null, "Min duration", input("min_duration", { placeholder: "250ms", size: 7 })),
    h("label", null, "Max duration", input("max_duration", { placeholder: "5s", size: 7 })),
    h("label", { class: "grow" }, "Attributes (key=value …)", input("attribute", { placeholder: "http.status_code=500 user.id=42" })),
    h("label", null, "Limit", limitSelect),
    h("button", { class: "btn btn-primary", type: "submit" }, "Search"),
  );
  const summary = h("div", { class: "sub traces-summary", "aria-live": "polite" });
  const plotBox = h("div", { class: "chart traces-scatter", "aria-label": "trace duration over time" });
  const list = h("div", { class: "traces-list" }, loading("traces"));
  el.append(
    h("div", { class: "page-head" }, h("h1", null, "Traces"), h("span", { class: "sub" }, "Search by service, operation, status, duration and attributes; click a trace to open its waterfall.")),
    form,
    h("div", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Duration over time"), summary), plotBox),
    h("div", { class: "card" }, list),
  );

  let plot = null;
  let found = [];
  let seq = 0;

  async function loadServices() {
    try {
      const { services } = await ctx.api.get("/api/v1/services", null, { signal: ctx.signal });
      const have = new Set([...serviceSelect.options].map((o) => o.value));
      for (const s of services) if (!have.has(s.name)) serviceSelect.append(h("option", { value: s.name }, s.name));
    } catch {
      /* the list is a convenience: the search still works */
    }
  }

  async function search() {
    const mine = ++seq;
    ctx.setQuery(Object.fromEntries(FIELDS.map((k) => [k, null])));
    const q = {};
    for (const k of FIELDS) if (values[k] && k !== "attribute") q[k] = values[k];
    ctx.setQuery(q);
    if (values.attribute) {
      const url = new URL(window.location.href);
      url.searchParams.delete("attribute");
      for (const a of traceParams(values, ctx.timeRange).attribute || []) url.searchParams.append("attribute", a);
      history.replaceState(history.state, "", url);
    }
    let answer;
    try {
      answer = await ctx.api.get("/api/v1/traces", traceParams(values, ctx.timeRange), { signal: ctx.signal });
    } catch (err) {
      if (err && err.name === "AbortError") return;
      if (mine === seq) replace(list, errorState(err, "traces"));
      return;
    }
    if (mine !== seq) return;
    found = answer.traces || [];
    draw();
  }

  function draw() {
    const range = ctx.timeRange;
    const errors = found.filter((t) => t.error_count > 0).length;
    summary.textContent = found.length ? `${found.length} trace${found.length === 1 ? "" : "s"}, ${errors} with errors · ${range.label}` : range.label;
    drawPlot(range);
    if (!found.length) {
      const filtered = FIELDS.some((k) => k !== "limit" && values[k]);
      replace(list, filtered ? emptyState("No trace matches this search.", "Widen the time range or remove a filter.") : emptyState("No traces in this time range.", ...noDataHint()));
      return;
    }
    const maxDur = Math.max(...found.map((t) => t.duration_ns), 1);
    replace(
      list,
      h(
        "table",
        { class: "traces-table" },
        h("thead", null, h("tr", null, h("th", null, "Started"), h("th", null, "Trace"), h("th", null, "Services"), h("th", { class: "num" }, "Spans"), h("th", { class: "num" }, "Errors"), h("th", { class: "num" }, "Duration"))),
        h(
          "tbody",
          null,
          found.map((t) => {
            const bar = h("span", { class: ["dur-bar", t.error_count && "err"] });
            bar.style.width = `${Math.max(2, (t.duration_ns / maxDur) * 100)}%`;
            return h(
              "tr",
              { class: t.error_count ? "has-error" : null },
              h("td", { class: "mono nowrap" }, new Date(t.start_ns / 1e6).toLocaleTimeString()),
              h("td", null, h("a", { href: `/traces/${t.trace_id}` }, h("span", { class: "sub" }, `${t.root_service}: `), t.root_operation || "(no root span)"), h("div", { class: "mono sub small" }, t.trace_id)),
              h("td", null, (t.services || []).join(", ")),
              h("td", { class: "num" }, String(t.span_count)),
              h("td", { class: "num" }, t.error_count ? h("span", { class: "badge err" }, String(t.error_count)) : "0"),
              h("td", { class: "num dur-cell" }, h("span", { class: "dur-track" }, bar), fmtNs(t.duration_ns)),
            );
          }),
        ),
      ),
    );
  }

  function drawPlot(range) {
    const pts = [...found].sort((a, b) => a.start_ns - b.start_ns);
    const xs = pts.map((t) => t.start_ns / 1e9);
    const ok = pts.map((t) => (t.error_count ? null : t.duration_ns / 1e6));
    const bad = pts.map((t) => (t.error_count ? t.duration_ns / 1e6 : null));
    const width = Math.max(300, plotBox.clientWidth || el.clientWidth - 40);
    if (plot) {
      plot.destroy();
      plot = null;
    }
    if (!pts.length) {
      replace(plotBox);
      return;
    }
    const text = cssVar("--text", "#222");
    const grid = cssVar("--grid", "rgba(0,0,0,.08)");
    const axis = { stroke: text, grid: { stroke: grid }, ticks: { stroke: grid } };
    // a log axis: grid lines and ticks at the decades only (1, 10, 100 ms), not the 9 between
    const decades = (u, splits) => splits.map((v) => (v > 0 && Math.abs(Math.log10(v) - Math.round(Math.log10(v))) < 1e-9 ? v : null));
    const points = (color) => ({ show: true, size: 7, stroke: color, fill: color, width: 1 });
    plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: true, min: range.start, max: range.end }, y: { distr: 3, log: 10 } },
        axes: [axis, { ...axis, label: "ms", grid: { stroke: grid, filter: decades }, ticks: { stroke: grid, filter: decades }, values: (u, vals) => vals.map((v) => (v == null ? "" : v >= 1000 ? `${v / 1000} s` : `${v}`)) }],
        legend: { show: true },
        cursor: { points: { size: 10 }, dataIdx: (u, seriesIdx, idx) => idx },
        series: [
          {},
          { label: "OK", stroke: cssVar("--series-1", "#1f77b4"), paths: () => null, points: points(cssVar("--series-1", "#1f77b4")), value: (u, v) => (v == null ? "–" : `${v.toFixed(1)} ms`) },
          { label: "Error", stroke: cssVar("--err", "#cf222e"), paths: () => null, points: points(cssVar("--err", "#cf222e")), value: (u, v) => (v == null ? "–" : `${v.toFixed(1)} ms`) },
        ],
      },
      [xs, ok, bad],
      plotBox,
    );
    plot.over.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx != null && pts[idx]) ctx.navigate(`/traces/${pts[idx].trace_id}`);
    });
    plot.over.classList.add("clickable");
  }

  const onResize = () => {
    if (plot) plot.setSize({ width: Math.max(300, plotBox.clientWidth), height: 220 });
  };
  window.addEventListener("resize", onResize, { signal: ctx.signal });
  window.addEventListener("bm-theme", () => draw(), { signal: ctx.signal });
  ctx.onRefresh(() => search());
  loadServices();
  search();
  return () => {
    if (plot) plot.destroy();
  };
}
