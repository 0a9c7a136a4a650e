// The context every page gets: `mount(el, ctx)` returns `unmount()` (or nothing).
//
// ctx = {
//   params    {name: string}   the route's decoded path parameters, e.g. {name: "checkout"} for
//                              /services/checkout, {id: "4bf9..."} for /traces/:id and
//                              /dashboards/:id. Plain strings: render them as text only.
//   query     URLSearchParams  a live view of the URL query (read it when you need it; it
//                              reflects setQuery/time-range changes without a remount).
//   api       see api.js       get/post/put/patch/del, query, queryRange, stream; throws
//                              ApiError (`.status`, `.missing` for 404/405/501).
//   navigate(path, {replace})  go to another page (pushState; keeps from/to/refresh unless
//                              the path carries its own query). Use real <a href> links for
//                              navigation the user clicks: the shell intercepts same-origin
//                              clicks, so links stay keyboard- and middle-click-friendly.
//   timeRange                  getter: the current range, resolved now:
//                              {from: "now-1h", to: "now", start: unixSeconds, end: unixSeconds,
//                               step(points=240): seconds, label: "Last 1 hour"}
//   setTimeRange(from, to)     change the shell's range (e.g. after a drag-to-zoom); the
//                              URL and the picker follow; onRefresh handlers run.
//   refresh                    getter: the refresh interval in seconds (0 = off)
//   onRefresh(fn)              fn(reason) runs on every refresh tick, on the refresh button and
//                              after the time range changes (reason: "tick"|"manual"|"range").
//                              Returns an unsubscribe function; all handlers are dropped on
//                              unmount. mount() does its first load itself.
//   setQuery(obj, {push})      merge page-specific keys into the URL query (null deletes, an
//                              array sets a repeated key),
//                              with replaceState (or pushState with push: true); no remount.
//   signal                     AbortSignal, aborted on unmount: pass it to api calls
//                              ({signal: ctx.signal}) and to addEventListener.
//   setTitle(text)             the document title ("text · berrys-monitoring").
// }
//
// A page module: `export function mount(el, ctx) { ...; return () => { cleanup } }`.
// Pages own `el` (a <section> in <main>) and nothing else.

import { resolveTime, rangeLabel, stepFor, durationSeconds } from "./lib/time.js";

/** Builds a ctx for one mounted page; `shell` provides the shared state. Internal to main.js. */
export function createCtx(shell, params) {
  const controller = new AbortController();
  const handlers = new Set();
  const ctx = {
    params: Object.freeze({ ...params }),
    api: shell.api,
    navigate: shell.navigate,
    setTimeRange: shell.setTimeRange,
    signal: controller.signal,
    onRefresh(fn) {
      handlers.add(fn);
      return () => handlers.delete(fn);
    },
    setQuery(obj, { push = false } = {}) {
      shell.setQuery(obj, { push });
    },
    setTitle(text) {
      document.title = text ? `${text} · berrys-monitoring` : "berrys-monitoring";
    },
  };
  Object.defineProperty(ctx, "query", { get: () => new URLSearchParams(window.location.search), enumerable: true });
  Object.defineProperty(ctx, "refresh", { get: () => durationSeconds(shell.state.refresh), enumerable: true });
  Object.defineProperty(ctx, "timeRange", {
    enumerable: true,
    get() {
      const { from, to } = shell.state;
      const now = Date.now();
      const start = resolveTime(from, now);
      const end = resolveTime(to, now);
      return { from, to, start, end, step: (points = 240) => stepFor(start, end, points), label: rangeLabel(from, to) };
    },
  });
  return {
    ctx,
    fire(reason) {
      for (const fn of [...handlers]) {
        try {
          fn(reason);
        } catch (err) {
          console.error(err);
        }
      }
    },
    dispose() {
      handlers.clear();
      controller.abort();
    },
  };
}
