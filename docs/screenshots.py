"""Take the dashboard's screenshots for the docs: ``python docs/screenshots.py``.

It runs the demo's setup (``berrys-monitoring demo`` on a free port: the hub, the two
example services reporting to it, traffic, the alerting rule), waits until the hub has
their spans, logs, metrics and the alert, adds a custom dashboard through the API, then
opens every page in headless Chromium (``/usr/bin/chromium`` or ``$CHROMIUM``) at 1280x800
and saves ``docs/images/<page>.png``, plus ``overview-dark.png`` in the dark theme
(``--dark``: every page's ``<page>-dark.png``). The demo and
everything it started are stopped at the end. Needs the built assets (``make assets``).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def custom_dashboard() -> dict[str, Any]:
    """The custom dashboard the screenshots show: the demo's services, in the hub's format."""
    rate = 'sum by (job) (rate(http_requests_total{job=~"$service"}[1m]))'
    errors = (
        'sum by (job) (rate(http_requests_total{job=~"$service",status=~"5.."}[1m]))'
        ' / sum by (job) (rate(http_requests_total{job=~"$service"}[1m]))'
    )
    p95 = (
        "histogram_quantile(0.95, sum by (le, job) "
        '(rate(http_request_duration_seconds_bucket{job=~"$service"}[1m])))'
    )
    return {
        "title": "Demo: gateway and users",
        "tags": ["demo"],
        "time": {"from": "now-15m", "to": "now"},
        "refresh": "10s",
        "variables": [
            {"name": "service", "query": "label_values(http_requests_total, job)", "multi": True}
        ],
        "panels": [
            {"id": 1, "type": "timeseries", "title": "Requests per second",
             "query": {"kind": "promql", "expr": rate}, "legend": "{{job}}", "unit": "reqps",
             "thresholds": [], "grid": {"x": 0, "y": 0, "w": 12, "h": 8}},
            {"id": 2, "type": "timeseries", "title": "Error ratio",
             "query": {"kind": "promql", "expr": errors}, "legend": "{{job}}",
             "unit": "percentunit", "thresholds": [{"value": 0.02, "color": "red"}],
             "grid": {"x": 12, "y": 0, "w": 12, "h": 8}},
            {"id": 3, "type": "timeseries", "title": "p95 latency",
             "query": {"kind": "promql", "expr": p95}, "legend": "{{job}}", "unit": "s",
             "thresholds": [], "grid": {"x": 0, "y": 8, "w": 12, "h": 8}},
            {"id": 4, "type": "logs", "title": "Errors in the logs",
             "query": {"kind": "logs", "expr": "level=error"}, "legend": "", "unit": "none",
             "thresholds": [], "grid": {"x": 12, "y": 8, "w": 12, "h": 8}},
        ],
    }  # fmt: skip


class Demo:
    """``berrys-monitoring demo`` as a subprocess, its output read on a thread."""

    def __init__(self) -> None:
        cmd = [
            sys.executable, "-m", "berrys_monitoring", "demo", "--port", "0", "--plain",
            "--duration", "900", "--scrape-interval", "2", "--alert-for", "4",
            "--error-rate", "0.08",
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        self.proc = subprocess.Popen(
            cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line)

    def find(self, pattern: str, timeout: float) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = list(re.finditer(pattern, "".join(self.lines)))
            if found:
                return found[-1]  # the latest one
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"the demo did not print {pattern!r}:\n{''.join(self.lines)[-3000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(what: str, predicate: Callable[[], Any], timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(1.0)
    raise RuntimeError(f"timed out waiting for {what}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(REPO / "docs" / "images"))
    ap.add_argument("--dark", action="store_true", help="every page in the dark theme too")
    ap.add_argument("--settle", type=float, default=90.0, help="seconds of traffic first")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    from berrys_monitoring.demo._hub import ALERT_NAME, alerts_of

    demo = Demo()
    try:
        url = demo.find(r"dashboard: (http://127\.0\.0\.1:\d+)/", 120).group(1)
        up = time.monotonic()
        print(f"demo up, hub at {url}; {args.settle:g} s of traffic", flush=True)
        client = httpx.Client(base_url=url, timeout=10.0)
        if client.get("/").status_code != 200:
            raise SystemExit(f"{url}/ does not serve the dashboard: build it with make assets")
        wait_for(
            "the alert",
            lambda: any(
                a["labels"].get("alertname") == ALERT_NAME
                for a in alerts_of(client.get("/api/v1/alerts").json())
            ),
        )
        time.sleep(max(0.0, args.settle - (time.monotonic() - up)))
        trace_id = demo.find(r"trace_id_in_both=([0-9a-f]{32})", 30).group(1)
        # The last few minutes: the demo's data fills the charts rather than their corner.
        window = "from=now-5m&to=now"
        pages = [
            ("overview", f"/?{window}"),
            ("service", f"/services/api-gateway?{window}"),
            ("traces", f"/traces?{window}"),
            ("trace", f"/traces/{trace_id}?{window}"),
            ("logs", f"/logs?{window}"),
            ("alerts", f"/alerts?{window}"),
            ("dashboards", "/dashboards"),
        ]
        r = client.post("/api/v1/dashboards", json=custom_dashboard())
        if r.status_code < 300:
            pages.append(("dashboard", f"/dashboards/{r.json()['id']}?{window}"))
        else:
            print(f"no custom dashboard: POST /api/v1/dashboards answered {r.status_code}")
        schemes = ["light", "dark"]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            for scheme in schemes:
                context = browser.new_context(
                    viewport={"width": 1280, "height": 800}, color_scheme=scheme
                )
                for name, path in pages:
                    if scheme == "dark" and not args.dark and name != "overview":
                        continue
                    page = context.new_page()
                    errors: list[str] = []
                    page.on(
                        "console",
                        lambda m, e=errors: e.append(m.text) if m.type == "error" else None,
                    )  # type: ignore[misc]
                    page.goto(url + path, wait_until="load")
                    page.wait_for_function(
                        # A function, not an expression: the hub's CSP forbids eval.
                        "() => { const m = document.querySelector('main');"
                        " return m && m.textContent.trim().length > 0"
                        " && !m.querySelector('[aria-busy=\"true\"]'); }",
                        timeout=30_000,
                    )
                    page.wait_for_timeout(1500)  # charts draw, the last requests settle
                    suffix = "" if scheme == "light" else "-dark"
                    target = out / f"{name}{suffix}.png"
                    page.screenshot(path=str(target))
                    note = f" — console errors: {errors}" if errors else ""
                    print(f"{target}  {url}{path}{note}", flush=True)
                    page.close()
                context.close()
            browser.close()
    finally:
        demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
