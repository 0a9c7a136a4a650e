"""The web dashboard in real headless Chromium, against a hub serving prepared data.

The store is filled directly (no HTTP), then a real hub process serves it and Playwright
drives Chromium (``/usr/bin/chromium``, or ``$BENCH_CHROMIUM``) at 1280x800:

* **overview, 20 services**: navigation start to the frame where every service's name
  is painted (first meaningful paint). Target ≤ 500 ms.
* **trace of 10,000 spans**: navigation start to the frame where the waterfall shows its
  root and first rows (target ≤ 1 s, with the scroll below); then the scroll to the end
  (the last span painted); then collapsing and expanding a 100-span subtree (click to
  the frame that shows the change; target ≤ 100 ms each).
* **log search over 1,000,000 lines**: from typing a rare term in the Log Explorer's
  search box (and Enter) to the frame that shows matching lines. Target ≤ 300 ms.
* **dashboard of 12 time-series panels over 24 h**: navigation start to the frame where
  12 charts are drawn and nothing is loading (``aria-busy``). Target ≤ 1 s.

Readiness is read from what the user sees, through a ``MutationObserver`` installed
before the page's own scripts: names of the prepared services and spans appearing as text,
chart elements (uPlot's ``.uplot``, else ``canvas``/``svg``), ``aria-expanded`` on the
waterfall's row toggles, and ``aria-busy`` while a page loads. Each figure is the median
of several runs in fresh pages (the assets cached, as for a dashboard kept open).

Run alone: ``python -m benchmarks.bench_web [--quick]`` or ``python -m benchmarks --only
web``. ``BENCH_WEB_LOGS`` sets the number of log lines (1,000,000; 100,000 with ``--quick``).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks._harness import Comparison
from benchmarks.bench_hub import hub_process

SERVICES = [f"bench-svc-{i:02d}" for i in range(1, 21)]
ROOT_NAME = "bench-root"
CHILDREN, GRANDCHILDREN = 100, 99  # 1 + 100 + 100 * 99 = 10,001 spans
NEEDLE = "needle7f3a"
WORDS = ["order", "payment", "user", "cart", "checkout", "inventory", "shipping", "login"]
CHROMIUM = os.environ.get("BENCH_CHROMIUM", "/usr/bin/chromium")
TIMEOUT_MS = 30_000


def child_name(i: int) -> str:
    return f"bench-op-{i:03d}"


def grandchild_name(i: int, j: int) -> str:
    return f"bench-op-{i:03d}.{j:03d}"


def _j(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


# --- the prepared store -------------------------------------------------------------------


def _big_trace(now_ns: int) -> tuple[bytes, list[Any]]:
    """A 10,001-span trace over five services: a root, 100 children, 99 grandchildren each."""
    from berrys_monitoring.hub.store import SpanRow

    rng = random.Random(7)
    tid = rng.randbytes(16)
    start = now_ns - 600 * 10**9
    root = rng.randbytes(8)
    scope = _j({"name": "bench"})

    def row(sid: bytes, parent: bytes | None, name: str, svc: str, t0: int, dur: int) -> SpanRow:
        return SpanRow(
            trace_id=tid, span_id=sid, parent_span_id=parent, name=name, kind=2 if parent
            is None else 1, service=svc, start_ns=t0, end_ns=t0 + dur, status_code=0,
            status_message="", attributes=_j({"bench.depth": 0 if parent is None else 1}),
            events=None, links=None, resource=_j({"service.name": svc}), scope=scope,
        )  # fmt: skip

    rows = [row(root, None, ROOT_NAME, SERVICES[0], start, 20 * 10**9)]
    for i in range(CHILDREN):
        sid = rng.randbytes(8)
        t_child = start + i * 190_000_000
        svc = SERVICES[1 + i % 4]
        rows.append(row(sid, root, child_name(i), svc, t_child, 180_000_000))
        for j in range(GRANDCHILDREN):
            rows.append(
                row(rng.randbytes(8), sid, grandchild_name(i, j), svc, t_child + j * 1_800_000,
                    1_500_000)
            )  # fmt: skip
    return tid, rows


def _small_traces(now_ns: int, rng: random.Random) -> list[Any]:
    """Per service, 50 three-span traces over the last hour, each calling the next service
    (a dependency graph), 3% errors."""
    from berrys_monitoring.hub.store import SpanRow

    rows = []
    scope = _j({"name": "bench"})
    for k, svc in enumerate(SERVICES):
        callee = SERVICES[(k + 1) % len(SERVICES)]
        for _ in range(50):
            tid = rng.randbytes(16)
            t0 = now_ns - rng.randrange(3600 * 10**9)
            ids = [rng.randbytes(8) for _ in range(3)]
            err = 2 if rng.random() < 0.03 else 0
            for n, (sid, parent, name, service, kind) in enumerate(
                [
                    (ids[0], None, "GET /orders/{id}", svc, 2),
                    (ids[1], ids[0], "GET", svc, 3),
                    (ids[2], ids[1], "GET /items", callee, 2),
                ]
            ):
                rows.append(
                    SpanRow(tid, sid, parent, name, kind, service, t0 + n * 1000,
                            t0 + 30_000_000 - n * 5_000_000, err, "", _j({}), None, None,
                            _j({"service.name": service}), scope)
                )  # fmt: skip
    return rows


def _logs(now_ns: int, count: int, rng: random.Random) -> Iterator[list[Any]]:
    """``count`` log lines over the last hour in batches; one line in 1,000 carries the
    needle, and only lines older than 20 minutes (so no first page shows it unasked)."""
    from berrys_monitoring.hub.ingest._spans_logs import severity_text
    from berrys_monitoring.hub.store import LogRow

    scope = _j({"name": "bench"})
    resources = {s: _j({"service.name": s}) for s in SERVICES}
    batch: list[LogRow] = []
    for n in range(count):
        age = rng.randrange(3600 * 10**9)
        words = " ".join(rng.choice(WORDS) for _ in range(6))
        needle = n % 1000 == 0 and age > 1200 * 10**9
        body = f"bench-log {words} id={n}" + (f" {NEEDLE}" if needle else "")
        sev = rng.choice((9, 9, 9, 9, 13, 17))
        svc = SERVICES[n % len(SERVICES)]
        t = now_ns - age
        batch.append(
            LogRow(t, t, sev, severity_text(sev), body, svc, None, None, _j({"logger.name": "app"}),
                   resources[svc], scope, 0)
        )  # fmt: skip
        if len(batch) >= 5000:
            yield batch
            batch = []
    if batch:
        yield batch


def _samples(now_ns: int, hours: float, rng: random.Random) -> Iterator[list[Any]]:
    """For each service, over ``hours`` at a 60 s interval: ``up``, ``http_requests_total``
    (200 and 500) and ``http_request_duration_seconds`` buckets, as a scraper stores them."""
    from berrys_monitoring.hub.store import Sample

    les = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "+Inf"]
    end_ms = now_ns // 10**6
    points = int(hours * 60)
    for svc in SERVICES:
        base = {"job": svc, "instance": f"127.0.0.1:{9000 + SERVICES.index(svc)}"}

        def labels(name: str, **extra: str) -> tuple[tuple[str, str], ...]:
            return tuple(sorted({"__name__": name, **base, **extra}.items()))  # noqa: B023

        series: dict[tuple[tuple[str, str], ...], float] = {}
        batch: list[Sample] = []
        rate = rng.uniform(5, 50)
        for p in range(points):
            ts = end_ms - (points - 1 - p) * 60_000
            batch.append(Sample(labels("up"), ts, 1.0))
            for status, share in (("200", 0.97), ("500", 0.03)):
                key = labels(
                    "http_requests_total", route="/orders/{id}", status=status, method="GET"
                )
                series[key] = series.get(key, 0.0) + rate * 60 * share * rng.uniform(0.8, 1.2)
                batch.append(Sample(key, ts, series[key]))
            total = 0.0
            for k, le in enumerate(les):
                key = labels("http_request_duration_seconds_bucket", le=le, route="/orders/{id}",
                             method="GET")  # fmt: skip
                total = min(rate * 60, total + rate * 60 * (0.1 + 0.12 * k))
                if le == "+Inf":
                    total = rate * 60
                series[key] = series.get(key, 0.0) + total
                batch.append(Sample(key, ts, series[key]))
        yield batch


def prepare_store(data_dir: Path, log_lines: int, hours: float) -> dict[str, Any]:
    """Fill a hub store for the pages: 20 services, a 10,001-span trace, ``log_lines`` log
    lines, ``hours`` of metrics. Returns facts about it (the big trace's id, timings)."""
    from berrys_monitoring.hub.store import Batch, SQLiteStore

    rng = random.Random(42)
    now = time.time_ns()
    t0 = time.monotonic()
    store = SQLiteStore(data_dir, queue_size=8)
    try:
        tid, big = _big_trace(now)
        pending = [
            store.submit(Batch(spans=big)),
            store.submit(Batch(spans=_small_traces(now, rng))),
        ]
        for rows in _logs(now, log_lines, rng):
            pending.append(store.submit(Batch(logs=rows)))
            if len(pending) > 6:
                pending.pop(0).result()
        for samples in _samples(now, hours, rng):
            pending.append(store.submit(Batch(samples=samples)))
            if len(pending) > 6:
                pending.pop(0).result()
        for f in pending:
            f.result()
    finally:
        store.close()
    return {"trace_id": tid.hex(), "fill_s": time.monotonic() - t0}


def dashboard_definition() -> dict[str, Any]:
    """Twelve time-series panels over 24 h, in the hub's dashboard format (contract 4)."""
    exprs = [
        "sum by (job) (rate(http_requests_total[5m]))",
        'sum by (job) (rate(http_requests_total{status=~"5.."}[5m]))',
        'sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))',
        "histogram_quantile(0.5, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        "histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))",
        "sum(rate(http_requests_total[5m]))",
        "sum by (status) (rate(http_requests_total[5m]))",
        "sum by (job) (up)",
        "topk(5, sum by (job) (rate(http_requests_total[5m])))",
        'histogram_quantile(0.95, sum by (le, job) (rate(http_request_duration_seconds_bucket{job=~"bench-svc-0.*"}[5m])))',
        "avg_over_time(sum(rate(http_requests_total[5m]))[30m:5m])",
    ]
    panels = [
        {
            "id": i + 1,
            "type": "timeseries",
            "title": f"bench panel {i + 1}",
            "query": {"kind": "promql", "expr": expr},
            "legend": "",
            "unit": "short",
            "thresholds": [],
            "grid": {"x": (i % 3) * 8, "y": (i // 3) * 6, "w": 8, "h": 6},
        }
        for i, expr in enumerate(exprs)
    ]
    return {
        "title": "bench: 12 time series over 24 h",
        "tags": ["bench"],
        "time": {"from": "now-24h", "to": "now"},
        "refresh": None,
        "variables": [],
        "panels": panels,
    }


# --- the browser --------------------------------------------------------------------------

# Installed before the page's own scripts: records when ``cond`` first holds, then when the
# frame that shows it has been painted (a requestAnimationFrame, then a task).
_WATCH = """
(() => {
  window.__bench = {dom: null, paint: null};
  const cond = () => { try { return !!(%s); } catch (e) { return false; } };
  const check = () => {
    if (window.__bench.dom !== null || !cond()) return;
    window.__bench.dom = performance.now();
    obs.disconnect();
    requestAnimationFrame(() => setTimeout(() => { window.__bench.paint = performance.now(); }, 0));
  };
  const obs = new MutationObserver(check);
  obs.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
})();
"""

# Helpers in the page for the measurements after load.
_HELPERS = """
(() => {
  const main = () => document.querySelector('main') || document.body;
  window.__benchText = (t) => main().textContent.includes(t);
  window.__benchUntil = (cond, t0) => new Promise((resolve, reject) => {
    const limit = setTimeout(() => { obs.disconnect(); reject(new Error('timed out')); }, 15000);
    const done = () => requestAnimationFrame(() => setTimeout(() => {
      clearTimeout(limit); resolve(performance.now() - t0); }, 0));
    const obs = new MutationObserver(() => { if (cond()) { obs.disconnect(); done(); } });
    if (cond()) { done(); return; }
    obs.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
  });
  window.__benchToggle = (name) => {
    // The row showing `name` exactly, then its aria-expanded control.
    const walker = document.createTreeWalker(main(), NodeFilter.SHOW_TEXT);
    let leaf = null;
    while (walker.nextNode()) {
      if (walker.currentNode.textContent.trim() === name) { leaf = walker.currentNode.parentElement; break; }
    }
    let el = leaf;
    while (el && el !== main()) {
      if (el.hasAttribute('aria-expanded')) return el;
      const inner = el.querySelector('[aria-expanded]');
      if (inner) return inner;
      el = el.parentElement;
    }
    return null;
  };
  window.__benchScroller = () => {
    let best = null;
    for (const el of main().querySelectorAll('*')) {
      const s = getComputedStyle(el).overflowY;
      if ((s === 'auto' || s === 'scroll') && el.scrollHeight > el.clientHeight + 10 &&
          (!best || el.scrollHeight > best.scrollHeight)) best = el;
    }
    return best || document.scrollingElement;
  };
})();
"""


class PageMissing(Exception):
    """The page did not become ready: not built yet, or its readiness never came."""


@contextmanager
def _browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()


def _load(context: Any, url: str, cond: str) -> tuple[Any, float]:
    """Open ``url`` in a fresh page; ms from navigation start to the frame where ``cond``
    (a JS expression) holds."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(_WATCH % cond)
    page.add_init_script(_HELPERS)
    page.goto(url, wait_until="commit")
    try:
        page.wait_for_function(
            # A function, not an expression: the hub's CSP forbids eval.
            "() => window.__bench && window.__bench.paint !== null",
            timeout=TIMEOUT_MS,
        )
    except Exception as exc:
        page.close()
        why = str(exc).splitlines()[0][:200]
        raise PageMissing(f"{url}: not ready ({why}) {errors[:1]}") from exc
    return page, float(page.evaluate("window.__bench.paint"))


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _text_js(text: str) -> str:
    return f"(document.querySelector('main') || document.body).textContent.includes({orjson.dumps(text).decode()})"


def measure_overview(context: Any, url: str, runs: int) -> list[float]:
    cond = " && ".join(_text_js(s) for s in SERVICES)
    times = []
    for _ in range(runs):
        page, ms = _load(context, f"{url}/", cond)
        times.append(ms)
        page.close()
    return times


def measure_trace(context: Any, url: str, trace_id: str, runs: int) -> dict[str, list[float]]:
    cond = f"{_text_js(ROOT_NAME)} && {_text_js(child_name(0))}"
    out: dict[str, list[float]] = {"render": [], "scroll": [], "collapse": [], "expand": []}
    last = grandchild_name(CHILDREN - 1, GRANDCHILDREN - 1)
    for _ in range(runs):
        page, ms = _load(context, f"{url}/traces/{trace_id}", cond)
        out["render"].append(ms)
        out["scroll"].append(
            float(
                page.evaluate(
                    """(last) => { const t0 = performance.now(); const s = window.__benchScroller();
                    s.scrollTop = s.scrollHeight;
                    return window.__benchUntil(() => window.__benchText(last), t0); }""",
                    last,
                )
            )
        )
        for _ in range(3):
            for what, want in (("collapse", False), ("expand", True)):
                ms_toggle = page.evaluate(
                    """([name, inner, want]) => {
                      const s = window.__benchScroller(); s.scrollTop = 0;
                      return new Promise(r => requestAnimationFrame(() => setTimeout(r, 50))).then(() => {
                        const toggle = window.__benchToggle(name);
                        if (!toggle) throw new Error('no aria-expanded control on the row ' + name);
                        if ((toggle.getAttribute('aria-expanded') === 'true') === want) {
                          toggle.click();  // into the opposite state first
                        }
                        return new Promise(r => requestAnimationFrame(() => setTimeout(r, 50)));
                      }).then(() => {
                        const toggle = window.__benchToggle(name);
                        const t0 = performance.now();
                        toggle.click();
                        return window.__benchUntil(() => window.__benchText(inner) === want, t0);
                      });
                    }""",
                    [child_name(0), grandchild_name(0, 0), want],
                )
                out[what].append(float(ms_toggle))
        page.close()
    return out


def measure_log_search(context: Any, url: str, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        page, _ms = _load(context, f"{url}/logs", _text_js("bench-log"))
        box = page.locator(
            "main input[type=search], main input[name=q], main input[type=text]"
        ).first
        box.wait_for(timeout=TIMEOUT_MS)
        page.evaluate(
            """() => {
              window.__benchT0 = null;
              const mark = () => { if (window.__benchT0 === null) window.__benchT0 = performance.now(); };
              document.addEventListener('input', mark, {capture: true});
              document.addEventListener('keydown', (e) => { if (e.key === 'Enter') mark(); }, {capture: true});
            }"""
        )
        box.fill(NEEDLE)
        box.press("Enter")
        ms = page.evaluate(
            """(needle) => window.__benchUntil(() => window.__benchText(needle), 0)
                .then((t) => t - window.__benchT0)""",
            NEEDLE,
        )
        times.append(float(ms))
        page.close()
    return times


def measure_dashboard(context: Any, url: str, dashboard_id: str, runs: int) -> list[float]:
    cond = (
        "(() => { const m = document.querySelector('main') || document.body;"
        " const n = Math.max(m.querySelectorAll('.uplot').length,"
        " m.querySelectorAll('canvas').length, m.querySelectorAll('svg').length);"
        " return n >= 12 && !m.querySelector('[aria-busy=\"true\"]'); })()"
    )
    times = []
    for _ in range(runs):
        page, ms = _load(context, f"{url}/dashboards/{dashboard_id}?from=now-24h&to=now", cond)
        times.append(ms)
        page.close()
    return times


def _row(name: str, values: list[float], target_ms: float, note: str) -> Comparison:
    spread = f"; runs {min(values):.0f} to {max(values):.0f} ms" if values else ""
    return Comparison(
        "web",
        name,
        _median(values),
        f"target {target_ms:g} ms",
        target_ms,
        unit="ms",
        target=1.0,
        note=note + spread,
    )


def _missing(name: str, target_ms: float, why: str) -> Comparison:
    return Comparison(
        "web", name, float("nan"), f"target {target_ms:g} ms", target_ms, unit="ms",
        target=1.0, note=f"not measured: {why}",
    )  # fmt: skip


def _attempt(
    rows: list[Comparison], names: list[tuple[str, float]], fn: Callable[[], None]
) -> None:
    try:
        fn()
    except Exception as exc:  # a page not built yet, or a readiness that never came
        why = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        rows.extend(_missing(n, t, why) for n, t in names)


_ALL = [
    ("overview, 20 services, first meaningful paint", 500.0),
    ("trace of 10,001 spans: waterfall rendered", 1000.0),
    ("log search over 1M lines, page updated", 300.0),
    ("dashboard, 12 time series over 24 h, first render", 1000.0),
]


def run(quick: bool) -> list[Comparison]:
    log_lines = int(os.environ.get("BENCH_WEB_LOGS", "100000" if quick else "1000000"))
    runs = 3 if quick else 7
    rows: list[Comparison] = []
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return [_missing(n, t, "pip install playwright") for n, t in _ALL]
    if not Path(CHROMIUM).exists():
        return [
            _missing(n, t, f"no Chromium at {CHROMIUM} (apt-get install chromium)") for n, t in _ALL
        ]
    with tempfile.TemporaryDirectory(prefix="bench-web-") as tmp:
        data = Path(tmp) / "hub"
        facts = prepare_store(data, log_lines, hours=24.0)
        note = f"store: 20 services, {log_lines:,} log lines, 24 h of metrics, filled in {facts['fill_s']:.0f} s; median of {runs} runs"
        with hub_process(data) as (url, _proc), _browser() as browser:
            page_html = httpx.get(f"{url}/", timeout=10)
            if page_html.status_code != 200 or "<html" not in page_html.text.lower():
                why = f"GET / answered {page_html.status_code} (are the assets built? make assets)"
                return [_missing(n, t, why) for n, t in _ALL]
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            # Warm the HTTP cache with one load of the shell (a dashboard kept open).
            warm = context.new_page()
            warm.goto(f"{url}/", wait_until="load")
            warm.close()

            def overview() -> None:
                rows.append(_row("overview, 20 services, first meaningful paint",
                                 measure_overview(context, url, runs), 500, note))  # fmt: skip

            def trace() -> None:
                t = measure_trace(context, url, facts["trace_id"], max(1, runs // 2))
                rows.append(
                    _row("trace of 10,001 spans: waterfall rendered", t["render"], 1000, note)
                )
                rows.append(
                    _row(
                        "trace of 10,001 spans: scrolled to the last span", t["scroll"], 1000, note
                    )
                )
                rows.append(_row("trace: collapse a 100-span subtree", t["collapse"], 100, note))
                rows.append(_row("trace: expand a 100-span subtree", t["expand"], 100, note))

            def logs() -> None:
                rows.append(_row(f"log search over {log_lines:,} lines, page updated",
                                 measure_log_search(context, url, runs), 300, note))  # fmt: skip

            def dashboard() -> None:
                r = httpx.post(f"{url}/api/v1/dashboards", json=dashboard_definition(), timeout=30)
                if r.status_code >= 300:
                    raise PageMissing(f"POST /api/v1/dashboards answered {r.status_code}")
                did = str(r.json()["id"])
                rows.append(_row("dashboard, 12 time series over 24 h, first render",
                                 measure_dashboard(context, url, did, runs), 1000, note))  # fmt: skip

            _attempt(rows, [("overview, 20 services, first meaningful paint", 500)], overview)
            _attempt(rows, [("trace of 10,001 spans: waterfall rendered", 1000),
                            ("trace: collapse/expand a 100-span subtree", 100)], trace)  # fmt: skip
            _attempt(rows, [(f"log search over {log_lines:,} lines, page updated", 300)], logs)
            _attempt(rows, [("dashboard, 12 time series over 24 h, first render", 1000)], dashboard)
            context.close()
    return rows


if __name__ == "__main__":
    from benchmarks.__main__ import main

    sys.exit(main(["--only", "web", *sys.argv[1:]]))
