// Small helpers shared by the pages.
import { h } from "../dom.js";

/** An aborted fetch (the page was left): not an error to show. */
export function isAbort(err) {
  return Boolean(err && (err.name === "AbortError" || (err.cause && err.cause.name === "AbortError")));
}

/** Run `fn` and return [value, null] or [null, error]; aborts rethrow as null/abort marker. */
export async function settle(promise) {
  try {
    return [await promise, null];
  } catch (err) {
    return [null, err];
  }
}

/** A card: <div class=card><div class=card-head><h2>title</h2>...extra</div>body</div> */
export function card(title, body, ...extra) {
  return h("div", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, title), ...extra), body);
}

/** `fn` runs at most once per animation frame, with the last arguments. */
export function rafThrottle(fn) {
  let pending = null;
  let lastArgs = [];
  return (...args) => {
    lastArgs = args;
    if (pending === null) {
      pending = requestAnimationFrame(() => {
        pending = null;
        fn(...lastArgs);
      });
    }
  };
}

/** A rate window for PromQL over a range with `step`: Grafana's $__rate_interval idea. */
export function rateWindow(step) {
  const s = Math.max(60, Math.ceil(step * 4));
  return s % 60 === 0 ? `${s / 60}m` : `${s}s`;
}

/** Escape a string for a PromQL double-quoted label value. */
export function promString(s) {
  return `"${String(s).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
}

/** The alert list in either the Prometheus envelope or the hub's older bare shape. */
export function alertsOf(body) {
  if (body && body.data && Array.isArray(body.data.alerts)) return body.data.alerts;
  if (body && Array.isArray(body.alerts)) return body.alerts;
  return [];
}

/** Severity of an alert: its `severity` label, lower-cased ("none" when absent). */
export function severityOf(alert) {
  return String((alert.labels && alert.labels.severity) || "none").toLowerCase();
}

/** An alert's title: its summary annotation, else alertname. */
export function alertTitle(alert) {
  const a = alert.annotations || {};
  const l = alert.labels || {};
  return String(a.summary || a.title || l.alertname || a.description || "alert");
}

/** The start of an alert in unix seconds (contract fields or the hub's older ns field). */
export function alertStart(alert) {
  const v = alert.activeAt || alert.startsAt;
  if (v) return Date.parse(v) / 1000;
  if (alert.starts_ns) return alert.starts_ns / 1e9;
  return NaN;
}
export function alertEnd(alert) {
  if (alert.endsAt && !String(alert.endsAt).startsWith("0001")) return Date.parse(alert.endsAt) / 1000;
  if (alert.ends_ns) return alert.ends_ns / 1e9;
  return NaN;
}
