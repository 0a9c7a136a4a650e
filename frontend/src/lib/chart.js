// Shared charts: uPlot time series (themed from the CSS variables, resizing with their box,
// drag-to-zoom, exemplar markers) and tiny SVG sparklines. Also helpers to turn Prometheus
// API results into uPlot's aligned columns.
//
//   const chart = timeSeries(el, { unit: "s", height: 220, onZoom(startS, endS) {...},
//                                  onExemplar(ex) {...} });
//   chart.setData(fromMatrix(data.result, start, end, step, labelFn));  // see fromMatrix
//   chart.setExemplars([{t, v, traceId, label}]);
//   chart.destroy();
//   el.append(sparkline([1, 2, 3, null, 4], { err: false, label: "requests/s" }));
import uPlot from "uplot";
import { h, svg } from "../dom.js";
import { fmtTime } from "./time.js";

/** The colours of the current theme (CSS variables on <html>). */
export function themeColors() {
  const css = getComputedStyle(document.documentElement);
  const v = (name) => css.getPropertyValue(name).trim();
  return {
    text: v("--text"),
    muted: v("--muted"),
    grid: v("--grid"),
    err: v("--err"),
    warn: v("--warn"),
    series: [1, 2, 3, 4, 5, 6].map((i) => v(`--series-${i}`)),
  };
}

/** Format a value for display in `unit`: "s", "ms", "percent" (0..1), "ratio", "reqps", "bytes", "" */
export function fmtValue(v, unit = "") {
  if (v == null || Number.isNaN(v)) return "–";
  if (!isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  switch (unit) {
    case "s": {
      const a = Math.abs(v);
      if (a === 0) return "0";
      if (a < 1e-3) return `${(v * 1e6).toFixed(0)}µs`;
      if (a < 1) return `${(v * 1e3).toFixed(a < 0.01 ? 1 : 0)}ms`;
      return `${v.toFixed(a < 10 ? 2 : 1)}s`;
    }
    case "ms":
      return fmtValue(v / 1000, "s");
    case "percent":
      return `${(v * 100).toFixed(v !== 0 && Math.abs(v) < 0.01 ? 2 : 1)}%`;
    case "reqps":
      return `${fmtNumber(v)}/s`;
    case "bytes": {
      const units = ["B", "kB", "MB", "GB", "TB"];
      let i = 0;
      let x = Math.abs(v);
      while (x >= 1000 && i < units.length - 1) {
        x /= 1000;
        i++;
      }
      return `${(Math.sign(v) * x).toFixed(x < 10 && i ? 1 : 0)} ${units[i]}`;
    }
    default:
      return fmtNumber(v);
  }
}

export function fmtNumber(v) {
  const a = Math.abs(v);
  if (a === 0) return "0";
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, "");
  return v.toPrecision(2);
}

/** A Prometheus value string ("1.5", "NaN", "+Inf") as a number, or null. */
export function promNumber(s) {
  if (s === "+Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  const n = Number(s);
  return Number.isNaN(n) ? null : n;
}

/** A series' label set as "name{a="b"}" (or `labelFn(metric)` when given). */
export function seriesName(metric) {
  const { __name__: name = "", ...rest } = metric || {};
  const inner = Object.entries(rest)
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ");
  return inner ? `${name}{${inner}}` : name || "value";
}

/** Prometheus matrix result -> {xs, series: [{label, values}]} on the grid start..end by step. */
export function fromMatrix(result, start, end, step, labelFn = seriesName) {
  const first = Math.ceil(start / step) * step;
  const xs = [];
  for (let t = first; t <= end + 1e-9; t += step) xs.push(t);
  const index = new Map(xs.map((t, i) => [Math.round(t * 1000), i]));
  const series = (result || []).map((s) => {
    const values = new Array(xs.length).fill(null);
    for (const [t, v] of s.values || []) {
      let i = index.get(Math.round(Number(t) * 1000));
      if (i === undefined) {
        i = Math.round((Number(t) - first) / step);
        if (i < 0 || i >= xs.length) continue;
      }
      values[i] = promNumber(v);
    }
    return { label: labelFn(s.metric || {}), values };
  });
  return { xs, series };
}

function isolatedPoints(u, seriesIdx) {
  const ys = u.data[seriesIdx];
  const out = [];
  for (let i = 0; i < ys.length; i++) {
    if (ys[i] != null && (i === 0 || ys[i - 1] == null) && (i === ys.length - 1 || ys[i + 1] == null)) out.push(i);
  }
  return out;
}

/** A time-series chart in `el`. Options: unit, height, colors (array), onZoom, onExemplar,
 * fill (bool), stacked bars (bars: true), yMin. */
export function timeSeries(el, opts = {}) {
  const height = opts.height || 200;
  let plot = null;
  let last = { xs: [], series: [] };
  let exemplars = [];
  const box = h("div", { class: "chart" });
  el.append(box);

  function build() {
    const colors = themeColors();
    const palette = opts.colors || colors.series;
    const width = Math.max(box.clientWidth || el.clientWidth || 600, 200);
    const series = [
      { value: (u, v) => (v == null ? "–" : fmtTime(v)) },
      ...last.series.map((s, i) => ({
        label: s.label,
        stroke: s.color || palette[i % palette.length],
        width: 1.5,
        fill: opts.bars ? (s.color || palette[i % palette.length]) + "b0" : opts.fill ? (s.color || palette[i % palette.length]) + "22" : undefined,
        spanGaps: false,
        // isolated samples (null on both sides) would be invisible as a line: dot them
        points: { show: true, size: 5, filter: isolatedPoints },
        paths: opts.bars ? uPlot.paths.bars({ size: [0.8, 60], align: 1 }) : undefined,
        value: (u, v) => fmtValue(v, opts.unit),
      })),
    ];
    const axisCommon = { stroke: colors.muted, grid: { stroke: colors.grid, width: 1 }, ticks: { stroke: colors.grid } };
    const options = {
      width,
      height,
      series,
      legend: { show: opts.legend !== false && last.series.length > 0, live: true },
      cursor: { drag: { x: Boolean(opts.onZoom), y: false, setScale: false }, points: { size: 6 } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [opts.yMin ?? Math.min(0, min ?? 0), max > 0 ? max * 1.1 : 1] } },
      axes: [
        { ...axisCommon },
        { ...axisCommon, size: 60, values: (u, splits) => splits.map((v) => fmtValue(v, opts.unit)) },
      ],
      hooks: {
        setSelect: [
          (u) => {
            if (!opts.onZoom || u.select.width < 3) return;
            const a = u.posToVal(u.select.left, "x");
            const b = u.posToVal(u.select.left + u.select.width, "x");
            u.setSelect({ left: 0, width: 0, top: 0, height: 0 }, false);
            opts.onZoom(a, b);
          },
        ],
        draw: [
          (u) => {
            if (!exemplars.length) return;
            const ctx = u.ctx;
            ctx.save();
            ctx.fillStyle = colors.warn;
            ctx.strokeStyle = colors.text;
            ctx.lineWidth = 1;
            for (const ex of exemplars) {
              const x = u.valToPos(ex.t, "x", true);
              const y = u.valToPos(ex.v, "y", true);
              if (!isFinite(x) || !isFinite(y)) continue;
              const r = 5 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, y - r);
              ctx.lineTo(x + r, y);
              ctx.lineTo(x, y + r);
              ctx.lineTo(x - r, y);
              ctx.closePath();
              ctx.fill();
              ctx.stroke();
            }
            ctx.restore();
          },
        ],
      },
    };
    const data = [last.xs, ...last.series.map((s) => s.values)];
    if (plot) plot.destroy();
    box.replaceChildren();
    plot = new uPlot(options, data, box);
    if (opts.onExemplar) {
      plot.over.addEventListener("click", (ev) => {
        if (!exemplars.length) return;
        const rect = plot.over.getBoundingClientRect();
        const px = ev.clientX - rect.left;
        const py = ev.clientY - rect.top;
        let best = null;
        let bestD = 10;
        for (const ex of exemplars) {
          const d = Math.hypot(plot.valToPos(ex.t, "x") - px, plot.valToPos(ex.v, "y") - py);
          if (d < bestD) {
            best = ex;
            bestD = d;
          }
        }
        if (best) opts.onExemplar(best);
      });
    }
  }

  const onTheme = () => build();
  window.addEventListener("bm-theme", onTheme);
  let width = 0;
  const ro = new ResizeObserver(() => {
    const w = box.clientWidth;
    if (plot && w && Math.abs(w - width) > 2) {
      width = w;
      plot.setSize({ width: w, height });
    }
  });
  ro.observe(box);

  return {
    setData(data) {
      const sameShape =
        plot &&
        data.series.length === last.series.length &&
        data.series.every((s, i) => s.label === last.series[i].label);
      last = data;
      if (sameShape) plot.setData([data.xs, ...data.series.map((s) => s.values)]);
      else build();
    },
    setExemplars(list) {
      exemplars = list || [];
      if (plot) plot.redraw(false);
    },
    destroy() {
      window.removeEventListener("bm-theme", onTheme);
      ro.disconnect();
      if (plot) plot.destroy();
      plot = null;
    },
  };
}

/** An SVG sparkline of `values` (nulls are gaps). */
export function sparkline(values, { err = false, label = "", width = 120, height = 28 } = {}) {
  const finite = values.filter((v) => v != null && isFinite(v));
  const el = svg("svg", {
    class: err ? "spark err" : "spark",
    viewBox: `0 0 ${width} ${height}`,
    preserveAspectRatio: "none",
    role: "img",
    "aria-label": label || "trend",
  });
  if (finite.length < 2) return el;
  const max = Math.max(...finite, 0);
  const min = Math.min(...finite, 0);
  const span = max - min || 1;
  const dx = width / Math.max(values.length - 1, 1);
  let line = "";
  let area = "";
  let pen = false;
  let segStart = 0;
  values.forEach((v, i) => {
    const x = (i * dx).toFixed(1);
    if (v == null || !isFinite(v)) {
      if (pen) area += `L${((i - 1) * dx).toFixed(1)},${height}L${segStart},${height}Z`;
      pen = false;
      return;
    }
    const y = (height - 1 - ((v - min) / span) * (height - 2)).toFixed(1);
    if (!pen) {
      line += `M${x},${y}`;
      area += `M${x},${height}L${x},${y}`;
      segStart = x;
      pen = true;
    } else {
      line += `L${x},${y}`;
      area += `L${x},${y}`;
    }
  });
  if (pen) area += `L${((values.length - 1) * dx).toFixed(1)},${height}L${segStart},${height}Z`;
  el.append(svg("path", { class: "area", d: area }), svg("path", { class: "line", d: line }));
  return el;
}
