"""The demo's whole system, as a real subprocess: the hub it starts receives the spans,
logs and metrics of both example services, the alerting rule fires, and Ctrl-C stops
every process (the hub included).

Timers are shrunk with the demo's own flags: the hub scrapes every second, the error ratio
threshold is low, the services fail often and the alert's ``for`` is two seconds.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time
import uuid
from typing import Any

import httpx
import pytest
from tests.demo.test_demo_command import (
    _ctrl_c_reaches_children,
    _demo_cmd,
    _env,
    _processes_with_marker,
)
from tests.support.servers import REPO, port_open, wait_for

from berrys_monitoring.demo._hub import ALERT_NAME, alerts_of

pytestmark = pytest.mark.slow

DASHBOARD = re.compile(r"dashboard: (http://127\.0\.0\.1:(\d+))/")
SHARED_TRACE = re.compile(r"trace_id_in_both=([0-9a-f]{32})")


class _Output:
    """The demo's output, read on a thread so that a full pipe never blocks it."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._proc = proc
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self.lines.append(line)

    def text(self) -> str:
        return "".join(self.lines)

    def join(self) -> None:
        self._thread.join(timeout=30)


def _services(client: httpx.Client) -> dict[str, dict[str, Any]]:
    body = client.get("/api/v1/services").json()
    return {s["name"]: s for s in body["services"]}


def test_the_demo_hub_receives_everything_fires_the_alert_and_stops_everything(tmp_path):
    marker = uuid.uuid4().hex
    # --open hands the dashboard's URL to the browser $BROWSER names: here, a recorder.
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "browser.sh"
    browser.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    browser.chmod(0o755)
    env = {**_env(marker), "BROWSER": f"{browser} %s"}
    cmd = _demo_cmd(
        "--port", "0", "--plain", "--duration", "240", "--open",
        "--scrape-interval", "1", "--alert-for", "2", "--alert-threshold", "0.05",
        "--error-rate", "0.3", "--rate", "8",
    )  # fmt: skip
    with _ctrl_c_reaches_children():
        proc = subprocess.Popen(
            cmd,
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    out = _Output(proc)
    try:
        found = wait_for(
            lambda: DASHBOARD.search(out.text()) or proc.poll() is not None,
            timeout=90,
            what="the dashboard URL",
        )
        assert proc.poll() is None, out.text()
        assert isinstance(found, re.Match)
        hub_url, hub_port = found.group(1), int(found.group(2))
        wait_for(opened.exists, timeout=10, what="the browser opened")
        # At the last 15 minutes, so a young demo's charts are full.
        assert opened.read_text().strip() == hub_url + "/?from=now-15m"
        # demo + hub + gateway + users (+ gunicorn workers): all carry the marker.
        assert len(_processes_with_marker(marker)) >= 4

        with httpx.Client(base_url=hub_url, timeout=10.0) as client:
            # The page the URL names is served by the hub itself.
            assert client.get("/health").json()["status"] == "pass"

            def everything_received() -> bool:
                services = _services(client)
                return all(
                    services.get(name, {}).get(kind, 0) > 0
                    for name in ("api-gateway", "user-service")
                    for kind in ("span_count", "log_count", "sample_count")
                )

            wait_for(everything_received, timeout=90, interval=0.5, what="both services' data")

            # A request that crossed both services is one trace in the hub.
            trace_id = wait_for(
                lambda: (m := SHARED_TRACE.findall(out.text())) and m[-1],
                timeout=30,
                what="a trace seen in both services",
            )

            def trace_in_both() -> bool:
                r = client.get(f"/api/v1/traces/{trace_id}")
                if r.status_code != 200:
                    return False
                names = {s.get("service") or s.get("service_name") for s in r.json()["spans"]}
                return {"api-gateway", "user-service"} <= names

            wait_for(trace_in_both, timeout=30, interval=0.5, what=f"trace {trace_id} in the hub")

            # The scraped series carry the job the rule selects.
            r = client.get(
                "/api/v1/metrics/samples",
                params={"name": "http_requests_total", "label": "job=api-gateway"},
            )
            assert r.status_code == 200 and r.json()["series"], r.text

            def alert_seen() -> list[dict[str, Any]]:
                alerts = alerts_of(client.get("/api/v1/alerts").json())
                return [a for a in alerts if a.get("labels", {}).get("alertname") == ALERT_NAME]

            alerts = wait_for(alert_seen, timeout=90, interval=0.5, what="the demo's alert")
            assert alerts[0]["labels"].get("severity") == "warning"
        wait_for(lambda: "alerts: " + ALERT_NAME in out.text(), timeout=30, what="alert shown")

        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        out.join()
    output = out.text()
    assert proc.returncode == 0, output
    assert re.search(r"demo: stopped gateway .*, hub \(pid \d+\)", output), output
    deadline = time.monotonic() + 10
    while _processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with_marker(marker) == []
    assert not port_open("127.0.0.1", hub_port)


def test_a_taken_port_is_refused_with_a_clear_message(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            _demo_cmd("--port", str(port), "--duration", "5"),
            cwd=REPO,
            env=_env(uuid.uuid4().hex),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 1
    assert f"port {port} is in use" in proc.stdout
    assert "--port" in proc.stdout


def test_no_hub_runs_the_services_and_the_summary_only():
    marker = uuid.uuid4().hex
    proc = subprocess.run(
        _demo_cmd("--no-hub", "--plain", "--duration", "4"),
        cwd=REPO,
        env=_env(marker),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "final summary:" in proc.stdout
    assert "dashboard:" not in proc.stdout and "hub" not in proc.stdout.split("final summary:")[0]
    assert re.search(r"demo: stopped gateway \(pid \d+\), users \(pid \d+\)\n", proc.stdout)
    assert _processes_with_marker(marker) == []
