// Pure helpers of the custom dashboards: variable substitution, legends, units, thresholds,
// and the share URL's variable keys. No DOM here (tested with node --test).

export const PANEL_TYPES = [
  ["timeseries", "Time series"],
  ["stat", "Stat"],
  ["gauge", "Gauge"],
  ["bar", "Bar"],
  ["table", "Table"],
  ["heatmap", "Heatmap (histogram buckets)"],
  ["logs", "Logs list"],
  ["traces", "Trace list"],
];
export const UNITS = [
  ["short", "Number"], ["none", "None"], ["percent", "Percent (0-100)"], ["percentunit", "Percent (0.0-1.0)"],
  ["s", "Seconds"], ["ms", "Milliseconds"], ["us", "Microseconds"], ["ns", "Nanoseconds"],
  ["bytes", "Bytes (IEC)"], ["decbytes", "Bytes (SI)"], ["bps", "Bits/s"], ["reqps", "Requests/s"],
  ["ops", "Operations/s"], ["rps", "Reads/s"],
]; // prettier-ignore

/** The kind of query a panel type takes. */
export function queryKind(type) {
  return type === "logs" ? "logs" : type === "traces" ? "traces" : "promql";
}

const escapeRegex = (s) => String(s).replace(/[\\^$.*+?()[\]{}|]/g, "\\$&");

/**
 * Replace $name, ${name} and [[name]] with the variable's value. `values`: name -> array of
 * selected values. In PromQL a multi-value becomes a regex alternation `(a|b)` (use it
 * with =~), as Grafana does; in a log or trace query the first value is used.
 * Built-ins: $__interval and $__rate_interval (from the step), $__range.
 */
export function substitute(expr, values, { kind = "promql", step = 15, range = 3600 } = {}) {
  const builtins = {
    __interval: `${Math.max(1, Math.round(step))}s`,
    __rate_interval: `${Math.max(60, Math.round(step * 4))}s`,
    __range: `${Math.max(1, Math.round(range))}s`,
  };
  return String(expr).replace(/\$\{(\w+)\}|\$(\w+)|\[\[(\w+)\]\]/g, (m, a, b, c) => {
    const name = a || b || c;
    if (name in builtins) return builtins[name];
    const v = values[name];
    if (!v) return m;
    if (kind !== "promql") return v.length ? String(v[0]) : "";
    if (v.length === 1) return kind === "promql" ? v[0].replace(/["\\]/g, "\\$&") : v[0];
    return `(${v.map(escapeRegex).join("|")})`.replace(/["\\]/g, "\\$&");
  });
}

/** "{{route}} {{status}}" with a series' labels; without a template, the labels as {a="b"}. */
export function legendOf(template, metric) {
  if (template) return template.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k) => (metric[k] != null ? metric[k] : ""));
  const name = metric.__name__ || "";
  const rest = Object.entries(metric)
    .filter(([k]) => k !== "__name__")
    .map(([k, v]) => `${k}="${v}"`)
    .join(", ");
  return rest ? `${name}{${rest}}` : name || "value";
}

const SI = ["", "k", "M", "G", "T", "P"];
const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

function scaled(v, base, units, decimals) {
  let i = 0;
  let x = Math.abs(v);
  while (x >= base && i < units.length - 1) {
    x /= base;
    i++;
  }
  const d = decimals ?? (x >= 100 ? 0 : x >= 10 ? 1 : 2);
  return `${v < 0 ? "-" : ""}${x.toFixed(d)}${units[i] ? (units === SI ? units[i] : ` ${units[i]}`) : ""}`;
}

function seconds(v, decimals) {
  const a = Math.abs(v);
  const d = (x) => x.toFixed(decimals ?? (Math.abs(x) >= 100 ? 0 : Math.abs(x) >= 10 ? 1 : 2));
  if (a === 0) return "0 s";
  if (a < 1e-6) return `${d(v * 1e9)} ns`;
  if (a < 1e-3) return `${d(v * 1e6)} µs`;
  if (a < 1) return `${d(v * 1e3)} ms`;
  if (a < 60) return `${d(v)} s`;
  if (a < 3600) return `${d(v / 60)} min`;
  if (a < 86400) return `${d(v / 3600)} h`;
  return `${d(v / 86400)} d`;
}

/** A value in a unit, for people. */
export function fmtValue(v, unit = "short", decimals = null) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  switch (unit) {
    case "none":
      return decimals != null ? v.toFixed(decimals) : String(+v.toPrecision(6));
    case "percent":
      return `${v.toFixed(decimals ?? 1)}%`;
    case "percentunit":
      return `${(v * 100).toFixed(decimals ?? 1)}%`;
    case "s":
      return seconds(v, decimals);
    case "ms":
      return seconds(v / 1e3, decimals);
    case "us":
      return seconds(v / 1e6, decimals);
    case "ns":
      return seconds(v / 1e9, decimals);
    case "bytes":
      return scaled(v, 1024, IEC, decimals);
    case "decbytes":
      return scaled(v, 1000, ["B", "kB", "MB", "GB", "TB", "PB"], decimals);
    case "bps":
      return `${scaled(v, 1000, SI, decimals)}b/s`;
    case "reqps":
      return `${scaled(v, 1000, SI, decimals)} req/s`;
    case "ops":
      return `${scaled(v, 1000, SI, decimals)} ops/s`;
    case "rps":
      return `${scaled(v, 1000, SI, decimals)} rd/s`;
    default:
      return scaled(v, 1000, SI, decimals);
  }
}

/** The colour of a value by the panel's thresholds (the highest step it reaches), or null. */
export function thresholdColor(v, thresholds) {
  if (!thresholds || !thresholds.length || v == null || Number.isNaN(v)) return null;
  let color = null;
  const sorted = [...thresholds].sort((a, b) => (a.value ?? -Infinity) - (b.value ?? -Infinity));
  for (const t of sorted) if (t.value == null || v >= t.value) color = t.color;
  return color;
}

/** The CSS colour of a threshold name: Grafana's names map to the theme's variables. */
export function cssColor(color) {
  const named = { green: "var(--ok)", red: "var(--err)", orange: "var(--warn)", yellow: "var(--warn)", blue: "var(--info)", purple: "var(--crit)" };
  return named[color] || color;
}

/** Variables' selections from the URL (var-NAME, repeatable), as Grafana writes them. */
export function varsFromQuery(query, variables) {
  const out = {};
  for (const v of variables) {
    const got = query.getAll(`var-${v.name}`);
    if (got.length) out[v.name] = got;
    else if (v.current && v.current.length) out[v.name] = [...v.current];
  }
  return out;
}

/** Options of a variable: `label_values(metric, label)` -> {match, label}; custom -> list. */
export function parseVariableQuery(v) {
  if (v.type === "custom") return { values: v.query.split(",").map((s) => s.trim()).filter(Boolean) };
  const m = /^label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_]\w*)\s*\)$/.exec(v.query.trim());
  if (!m) return { error: `not label_values(...): ${v.query}` };
  return { match: m[1] || null, label: m[2] };
}

/** Cumulative histogram buckets ({le, values[]}) -> per-bucket counts, lowest first. */
export function bucketsToCounts(series) {
  const rows = series
    .map((s) => ({ le: s.le === "+Inf" ? Infinity : Number(s.le), label: s.le, values: s.values }))
    .filter((r) => !Number.isNaN(r.le))
    .sort((a, b) => a.le - b.le);
  return rows.map((r, i) => ({
    le: r.le,
    label: r.label,
    values: r.values.map((v, j) => {
      const below = i ? rows[i - 1].values[j] : 0;
      return v == null ? null : Math.max(0, v - (below || 0));
    }),
  }));
}
