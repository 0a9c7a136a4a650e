// The panels of a custom dashboard: each type fetches through the documented API (PromQL
// endpoints, /api/v1/logs, /api/v1/traces) and draws itself; a failed query shows an
// error state in its panel, never breaks the page.
import uPlot from "uplot";
import { h, svg, replace, emptyState, errorState } from "../dom.js";
import { fmtNs } from "../lib/waterfall.js";
import { bucketsToCounts, cssColor, fmtValue, legendOf, substitute, thresholdColor } from "./dashboards-model.js";

const SERIES = 6;

function cssVar(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function colorOf(v, panel) {
  const c = thresholdColor(v, panel.thresholds);
  return c ? cssColor(c) : null;
}

function setColor(el, color, prop = "color") {
  if (color) el.style.setProperty(prop, color);
  return el;
}

function num(v) {
  return v === "NaN" ? NaN : v === "+Inf" ? Infinity : v === "-Inf" ? -Infinity : Number(v);
}

/** Vector or scalar data as [{metric, value}]. */
function instantRows(data) {
  if (data.resultType === "scalar") return [{ metric: {}, value: num(data.result[1]) }];
  if (data.resultType === "vector") return data.result.map((r) => ({ metric: r.metric, value: num(r.value[1]) }));
  if (data.resultType === "matrix") return data.result.map((r) => ({ metric: r.metric, value: num(r.values[r.values.length - 1][1]) }));
  return [];
}

/** Thrown when a newer refresh of the same panel started: this answer must not be drawn. */
export const STALE = new Error("stale");

/** Draw `panel` into `body`; returns {destroy, resize} or null. `env.current()` false means
 * a newer refresh started while this one waited for its data. */
export async function renderPanel(body, panel, env) {
  const { api, range, values, signal } = env;
  const fresh = (data) => {
    if (env.current && !env.current()) throw STALE;
    return data;
  };
  const kind = panel.query.kind;
  const step = range.step(Math.max(60, Math.min(480, Math.floor((body.clientWidth || 600) / 3))));
  const expr = substitute(panel.query.expr, values, { kind, step, range: range.end - range.start });
  try {
    if (kind === "logs") return logsPanel(body, fresh(await api.get(`/api/v1/logs?${expr}`, { start: range.start.toFixed(3), end: range.end.toFixed(3), ...(expr.includes("limit=") ? {} : { limit: 50 }) }, { signal })), panel);
    if (kind === "traces") return tracesPanel(body, fresh(await api.get(`/api/v1/traces?${expr}`, { start: range.start.toFixed(3), end: range.end.toFixed(3), ...(expr.includes("limit=") ? {} : { limit: 20 }) }, { signal })), panel);
    if (panel.type === "timeseries" || panel.type === "heatmap") {
      const xs = xAxis(range, step); // ends at `end`: the newest samples are always drawn
      const data = fresh(await api.queryRange(expr, xs[0].toFixed(3), xs[xs.length - 1].toFixed(3), step, { signal }));
      return panel.type === "heatmap" ? heatmapPanel(body, data, panel, range, step) : timeseriesPanel(body, data, panel, range, step);
    }
    const data = fresh(await api.query(expr, range.end.toFixed(3), { signal }));
    const rows = instantRows(data);
    if (panel.type === "stat") return statPanel(body, rows, panel);
    if (panel.type === "gauge") return gaugePanel(body, rows, panel);
    if (panel.type === "bar") return barPanel(body, rows, panel);
    return tablePanel(body, rows, panel);
  } catch (err) {
    if (err === STALE || (err && err.name === "AbortError")) throw err;
    replace(body, errorState(err, "this panel's query"));
    body.lastChild.append(h("p", { class: "mono small" }, expr));
    return null;
  }
}

function xAxis(range, step) {
  const n = Math.max(1, Math.floor((range.end - range.start) / step));
  const end = Math.round(range.end * 1000) / 1000;
  const xs = [];
  for (let k = n; k >= 0; k--) xs.push(Math.round((end - k * step) * 1000) / 1000);
  return xs;
}

function noData(body) {
  replace(body, emptyState("No data", "Nothing matches this query in the time range."));
  return null;
}

function timeseriesPanel(body, data, panel, range, step) {
  const series = data.result || [];
  if (!series.length) return noData(body);
  const xs = xAxis(range, step);
  const xi = new Map(xs.map((t, i) => [Math.round(t * 1000), i]));
  const ys = series.slice(0, 40).map((s) => {
    const arr = new Array(xs.length).fill(null);
    for (const [t, v] of s.values) {
      const i = xi.get(Math.round(t * 1000));
      if (i !== undefined) arr[i] = num(v);
    }
    return arr;
  });
  const text = cssVar("--text", "#222");
  const grid = cssVar("--grid", "rgba(0,0,0,.08)");
  const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, font: "11px system-ui" };
  const fmt = (u, v) => fmtValue(v, panel.unit, panel.decimals);
  const lines = [...(panel.thresholds || [])].filter((t) => t.value != null);
  const drawThresholds = (u) => {
    const c = u.ctx;
    c.save();
    for (const t of lines) {
      const y = u.valToPos(t.value, "y", true);
      if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) continue;
      const css = cssColor(t.color);
      c.strokeStyle = css.startsWith("var(") ? cssVar(css.slice(4, -1), t.color) : css;
      c.setLineDash([4, 4]);
      c.lineWidth = 1;
      c.beginPath();
      c.moveTo(u.bbox.left, y);
      c.lineTo(u.bbox.left + u.bbox.width, y);
      c.stroke();
    }
    c.restore();
  };
  replace(body);
  const opts = {
    width: Math.max(100, body.clientWidth),
    height: Math.max(60, body.clientHeight - 28),
    scales: { x: { time: true, min: xs[0], max: xs[xs.length - 1] }, y: { range: (u, min, max) => [panel.min ?? Math.min(0, min ?? 0), panel.max ?? (max > 0 ? max * 1.05 : 1)] } },
    axes: [axis, { ...axis, size: 76, values: (u, vals) => vals.map((v) => (v == null ? "" : fmt(u, v))) }],
    legend: { show: true, live: true },
    cursor: { points: { size: 6 } },
    hooks: lines.length ? { draw: [drawThresholds] } : {},
    series: [
      {},
      ...series.slice(0, 40).map((s, i) => {
        const color = cssVar(`--series-${(i % SERIES) + 1}`, "#1f77b4");
        const sparse = ys[i].filter((v) => v != null).length < 3; // a lone point has no line
        return { label: legendOf(panel.legend, s.metric), stroke: color, width: 1.5, fill: series.length === 1 ? `${color}22` : undefined, value: fmt, spanGaps: false, points: sparse ? { show: true, size: 6, fill: color } : {} };
      }),
    ],
  };
  const plot = new uPlot(opts, [xs, ...ys], body);
  // the legend wraps onto as many lines as it needs: the plot takes the rest of the panel
  const fit = () => {
    const legend = plot.root.querySelector(".u-legend");
    const room = body.clientHeight - (legend ? legend.getBoundingClientRect().height : 0) - 6;
    plot.setSize({ width: Math.max(100, body.clientWidth), height: Math.max(60, room) });
  };
  fit();
  requestAnimationFrame(fit); // once more, with the legend laid out at its final width
  return { destroy: () => plot.destroy(), resize: fit };
}

function statPanel(body, rows, panel) {
  if (!rows.length) return noData(body);
  replace(
    body,
    h(
      "div",
      { class: "dash-stats" },
      rows.slice(0, 12).map((r) => {
        const value = setColor(h("div", { class: "dash-stat-value" }, fmtValue(r.value, panel.unit, panel.decimals)), colorOf(r.value, panel));
        return h("div", { class: "dash-stat" }, value, rows.length > 1 || panel.legend ? h("div", { class: "dash-stat-label" }, legendOf(panel.legend, r.metric)) : null);
      }),
    ),
  );
  return null;
}

function gaugePanel(body, rows, panel) {
  if (!rows.length) return noData(body);
  const lo = panel.min ?? 0;
  const hi = panel.max ?? (panel.unit === "percentunit" ? 1 : panel.unit === "percent" ? 100 : Math.max(...rows.map((r) => r.value), 1));
  replace(
    body,
    h(
      "div",
      { class: "dash-stats" },
      rows.slice(0, 6).map((r) => {
        const frac = Math.max(0, Math.min(1, (r.value - lo) / (hi - lo || 1)));
        const a = Math.PI * (1 - frac);
        const x = 50 + 40 * Math.cos(a);
        const y = 50 - 40 * Math.sin(a);
        const arc = svg("path", { d: `M 10 50 A 40 40 0 0 1 ${x.toFixed(2)} ${y.toFixed(2)}`, class: "gauge-value" });
        setColor(arc, colorOf(r.value, panel) || "var(--series-1)", "stroke");
        return h(
          "div",
          { class: "dash-gauge" },
          svg("svg", { viewBox: "0 0 100 56", class: "gauge", role: "img", "aria-label": `${legendOf(panel.legend, r.metric)} ${fmtValue(r.value, panel.unit, panel.decimals)}` }, svg("path", { d: "M 10 50 A 40 40 0 0 1 90 50", class: "gauge-track" }), arc),
          setColor(h("div", { class: "dash-stat-value gauge-text" }, fmtValue(r.value, panel.unit, panel.decimals)), colorOf(r.value, panel)),
          rows.length > 1 || panel.legend ? h("div", { class: "dash-stat-label" }, legendOf(panel.legend, r.metric)) : null,
        );
      }),
    ),
  );
  return null;
}

function barPanel(body, rows, panel) {
  if (!rows.length) return noData(body);
  const sorted = [...rows].sort((a, b) => b.value - a.value).slice(0, 30);
  const max = Math.max(...sorted.map((r) => Math.abs(r.value)), Number.MIN_VALUE);
  replace(
    body,
    h(
      "div",
      { class: "dash-bars" },
      sorted.map((r, i) => {
        const bar = h("span", { class: "dash-bar" });
        bar.style.width = `${(Math.abs(r.value) / max) * 100}%`;
        setColor(bar, colorOf(r.value, panel) || `var(--series-${(i % SERIES) + 1})`, "background");
        return h("div", { class: "dash-bar-row" }, h("span", { class: "dash-bar-label", title: legendOf(panel.legend, r.metric) }, legendOf(panel.legend, r.metric)), h("span", { class: "dash-bar-track" }, bar), h("span", { class: "dash-bar-value" }, fmtValue(r.value, panel.unit, panel.decimals)));
      }),
    ),
  );
  return null;
}

function tablePanel(body, rows, panel) {
  if (!rows.length) return noData(body);
  // labels the legend already shows get no column of their own
  const inLegend = new Set([...(panel.legend || "").matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]));
  const labels = [...new Set(rows.flatMap((r) => Object.keys(r.metric)))].filter((k) => k !== "__name__" && !inLegend.has(k)).sort();
  const named = rows.some((r) => r.metric.__name__);
  replace(
    body,
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "dash-table" },
        h("thead", null, h("tr", null, panel.legend ? h("th", null, "Series") : null, named ? h("th", null, "metric") : null, labels.map((l) => h("th", null, l)), h("th", { class: "num" }, "Value"))),
        h(
          "tbody",
          null,
          [...rows].sort((a, b) => b.value - a.value).slice(0, 500).map((r) =>
            h(
              "tr",
              null,
              panel.legend ? h("td", null, legendOf(panel.legend, r.metric)) : null,
              named ? h("td", null, r.metric.__name__ || "") : null,
              labels.map((l) => h("td", null, r.metric[l] ?? "")),
              setColor(h("td", { class: "num" }, fmtValue(r.value, panel.unit, panel.decimals)), colorOf(r.value, panel)),
            ),
          ),
        ),
      ),
    ),
  );
  return null;
}

function heatmapPanel(body, data, panel, range, step) {
  const series = (data.result || []).filter((s) => s.metric.le != null);
  if (!series.length) return noData(body);
  const xs = xAxis(range, step);
  const xi = new Map(xs.map((t, i) => [Math.round(t * 1000), i]));
  const cumulative = series.map((s) => {
    const values = new Array(xs.length).fill(null);
    for (const [t, v] of s.values) {
      const i = xi.get(Math.round(t * 1000));
      if (i !== undefined) values[i] = num(v);
    }
    return { le: s.metric.le, values };
  });
  const rows = bucketsToCounts(cumulative);
  const canvas = h("canvas", { class: "dash-heatmap", role: "img", "aria-label": `heatmap of ${rows.length} buckets` });
  const axis = h("div", { class: "dash-heat-axis" }, rows.slice().reverse().map((r) => h("span", null, r.le === Infinity ? "+Inf" : fmtValue(r.le, panel.unit))));
  const tip = h("div", { class: "dash-heat-tip sub" }, "Hover a cell for its count");
  replace(body, h("div", { class: "dash-heat" }, axis, canvas), tip);
  let max = 0;
  for (const r of rows) for (const v of r.values) if (v != null && v > max) max = v;
  const draw = () => {
    const w = Math.max(50, body.clientWidth - 70);
    const hgt = Math.max(40, body.clientHeight - 26);
    const dpr = window.devicePixelRatio || 1;
    canvas.width = w * dpr;
    canvas.height = hgt * dpr;
    canvas.style.width = `${w}px`;
    canvas.style.height = `${hgt}px`;
    const c = canvas.getContext("2d");
    c.scale(dpr, dpr);
    const cw = w / xs.length;
    const ch = hgt / rows.length;
    const base = cssVar("--series-1", "#1f77b4");
    c.fillStyle = cssVar("--panel-2", "#eee");
    c.fillRect(0, 0, w, hgt);
    c.fillStyle = base;
    rows.forEach((r, yi) => {
      r.values.forEach((v, x) => {
        if (!v) return;
        c.globalAlpha = 0.12 + 0.88 * Math.sqrt(v / (max || 1));
        c.fillRect(x * cw, hgt - (yi + 1) * ch, Math.ceil(cw), Math.ceil(ch) - 1);
      });
    });
    c.globalAlpha = 1;
    canvas.onmousemove = (ev) => {
      const x = Math.floor(ev.offsetX / cw);
      const yi = rows.length - 1 - Math.floor(ev.offsetY / ch);
      const r = rows[yi];
      if (!r || x < 0 || x >= xs.length) return;
      const prev = yi ? rows[yi - 1].label : "0";
      tip.textContent = `${new Date(xs[x] * 1000).toLocaleTimeString()} · ${prev}–${r.label}: ${fmtValue(r.values[x] ?? 0, "short")}/s`;
    };
  };
  draw();
  return { destroy() {}, resize: draw };
}

function logsPanel(body, answer, panel) {
  const logs = answer.logs || [];
  if (!logs.length) return noData(body);
  const level = (n) => (n >= 17 ? "err" : n >= 13 ? "warn" : n >= 9 ? "info" : "");
  replace(
    body,
    h(
      "div",
      { class: "dash-list" },
      logs.map((r) =>
        h(
          "div",
          { class: "dash-log" },
          h("span", { class: "mono sub" }, new Date(r.time_ns / 1e6).toLocaleTimeString()),
          h("span", { class: ["badge", level(r.severity_number)] }, r.severity_text || "LOG"),
          h("span", { class: "sub" }, r.service),
          h("span", { class: "mono dash-log-body" }, r.body),
          r.trace_id ? h("a", { href: `/traces/${r.trace_id}`, class: "small" }, "trace") : null,
        ),
      ),
    ),
  );
  return null;
}

function tracesPanel(body, answer, panel) {
  const traces = answer.traces || [];
  if (!traces.length) return noData(body);
  replace(
    body,
    h(
      "div",
      { class: "dash-list" },
      traces.map((t) =>
        h(
          "div",
          { class: "dash-trace" },
          h("span", { class: "mono sub" }, new Date(t.start_ns / 1e6).toLocaleTimeString()),
          h("a", { href: `/traces/${t.trace_id}` }, h("span", { class: "sub" }, `${t.root_service}: `), t.root_operation || "(no root span)"),
          h("span", { class: "sub" }, `${t.span_count} spans`),
          t.error_count ? h("span", { class: "badge err" }, `${t.error_count} err`) : null,
          h("span", { class: "dash-trace-dur" }, fmtNs(t.duration_ns)),
        ),
      ),
    ),
  );
  return null;
}
