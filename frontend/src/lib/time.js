// Time ranges as Grafana writes them: `from`/`to` are "now", "now-15m", "now-7d" or epoch
// milliseconds ("1733270400000"). They live in the URL query as ?from=&to=&refresh=.

const UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
const REL = /^now(?:-(\d+)([smhdw]))?$/;

export const RANGE_PRESETS = [
  ["now-5m", "Last 5 minutes"],
  ["now-15m", "Last 15 minutes"],
  ["now-1h", "Last 1 hour"],
  ["now-3h", "Last 3 hours"],
  ["now-6h", "Last 6 hours"],
  ["now-12h", "Last 12 hours"],
  ["now-24h", "Last 24 hours"],
  ["now-2d", "Last 2 days"],
  ["now-7d", "Last 7 days"],
];

export const REFRESH_OPTIONS = ["off", "5s", "10s", "30s", "1m", "5m"];

export const DEFAULT_FROM = "now-1h";
export const DEFAULT_TO = "now";
export const DEFAULT_REFRESH = "30s";

/** Is `s` a valid from/to value? */
export function isTimeValue(s) {
  return typeof s === "string" && (REL.test(s) || /^\d{10,16}$/.test(s));
}

/** Seconds in a duration like "30s", "5m", "1h" (0 for "off" or junk). */
export function durationSeconds(s) {
  const m = /^(\d+)([smhdw])$/.exec(String(s || ""));
  return m ? Number(m[1]) * UNITS[m[2]] : 0;
}

/** A from/to value as unix seconds (float) at `nowMs`. */
export function resolveTime(value, nowMs = Date.now()) {
  const m = REL.exec(value);
  if (m) return (nowMs - (m[1] ? Number(m[1]) * UNITS[m[2]] * 1000 : 0)) / 1000;
  return Number(value) / 1000;
}

/** A step (seconds) giving about `points` points over [start, end], rounded to a nice value. */
export function stepFor(start, end, points = 240) {
  const raw = Math.max((end - start) / points, 1);
  const nice = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
  return nice.find((n) => n >= raw) || Math.ceil(raw);
}

/** "1h 5m", "3.2s", "850ms" */
export function fmtDuration(seconds) {
  if (seconds == null || !isFinite(seconds)) return "–";
  const s = Math.abs(seconds);
  if (s < 0.001) return `${(seconds * 1e6).toFixed(0)}µs`;
  if (s < 1) return `${(seconds * 1000).toFixed(s < 0.01 ? 1 : 0)}ms`;
  if (s < 60) return `${seconds.toFixed(s < 10 ? 2 : 1)}s`;
  const parts = [];
  let rest = Math.floor(s);
  for (const [u, n] of [["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    if (rest >= n) {
      parts.push(`${Math.floor(rest / n)}${u}`);
      rest %= n;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

/** Local "YYYY-MM-DD HH:MM:SS" for unix seconds. */
export function fmtTime(seconds, withMs = false) {
  const d = new Date(seconds * 1000);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  const base = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return withMs ? `${base}.${p(d.getMilliseconds(), 3)}` : base;
}

/** "5m ago" */
export function fmtAgo(seconds, nowS = Date.now() / 1000) {
  const d = Math.max(0, nowS - seconds);
  if (d < 5) return "just now";
  return `${fmtDuration(d < 60 ? Math.round(d) : d)} ago`;
}

/** Human label for a range. */
export function rangeLabel(from, to) {
  const preset = RANGE_PRESETS.find(([v]) => v === from);
  if (preset && to === "now") return preset[1];
  const f = REL.test(from) ? from : fmtTime(Number(from) / 1000);
  const t = REL.test(to) ? to : fmtTime(Number(to) / 1000);
  return `${f} → ${t}`;
}

/** Parse an RFC 3339 string, unix seconds or unix nanoseconds into unix seconds. */
export function toSeconds(value) {
  if (value == null) return NaN;
  if (typeof value === "number") return value > 1e14 ? value / 1e9 : value > 1e11 ? value / 1e3 : value;
  if (/^\d+(\.\d+)?$/.test(value)) return toSeconds(Number(value));
  return Date.parse(value) / 1000;
}
