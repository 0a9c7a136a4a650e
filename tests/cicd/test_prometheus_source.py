"""`verify` and `canary` with `--metrics-source prometheus`: performance read with PromQL
from a real Prometheus server scraping real services, instead of driving load."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.cicd._subjects import subject
from tests.support.servers import free_port, require_binary, run_server, wait_for

from berrys_monitoring.cicd import prometheus_query
from berrys_monitoring.cli import main

# Starts several real servers (gunicorn services, Prometheus).
pytestmark = pytest.mark.slow


def _traffic(urls: list[str], stop: threading.Event) -> None:
    with httpx.Client(timeout=5) as client:
        while not stop.is_set():
            for url in urls:
                client.get(url + "/users")
            time.sleep(0.02)


def test_prometheus_source_passes_a_fast_service_and_fails_a_slow_one(tmp_path: Path) -> None:
    with (
        subject() as fast,
        subject(EXAMPLE_EXTRA_LATENCY_MS="150") as slow,
        _prometheus_with_traffic([fast, slow], tmp_path) as prom_url,
    ):
        results = {}
        for name, url in (("fast", fast), ("slow", slow)):
            out = tmp_path / f"{name}.json"
            code = main(
                ["verify", "--url", url, "--metrics-source", "prometheus",
                 "--metrics-url", prom_url, "--window", "30s", "--max-p95-ms", "100",
                 "--quiet", "--json", str(out)]
            )  # fmt: skip
            results[name] = (code, json.loads(out.read_text()))
    code, report = results["fast"]
    perf = report["performance"]
    assert code == 0, report["checks"]
    assert perf["source"] == "prometheus" and perf["throughput_rps"] > 0
    assert perf["p95_ms"] < 100
    assert "histogram_quantile(0.95" in perf["queries"]["p95"]
    code, report = results["slow"]
    assert code == 1
    assert report["performance"]["p95_ms"] > 100
    slow_check = next(c for c in report["checks"] if c["name"] == "performance")
    assert "> max 100 ms" in slow_check["summary"]


@contextlib.contextmanager
def _prometheus_with_traffic(urls: list[str], tmp_path: Path) -> Iterator[str]:
    """A real Prometheus scraping ``urls`` every second while they get steady traffic;
    yields its URL once it has request data for every target."""
    prometheus = require_binary("prometheus", "apt-get install prometheus")
    targets = [u.removeprefix("http://") for u in urls]
    config = tmp_path / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        "scrape_configs:\n  - job_name: subjects\n"
        f"    static_configs:\n      - targets: {json.dumps(targets)}\n"
    )
    port = free_port()
    prom_url = f"http://127.0.0.1:{port}"
    cmd = [
        prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    stop = threading.Event()
    driver = threading.Thread(target=_traffic, args=(urls, stop), daemon=True)
    with run_server(cmd, ready_url=f"{prom_url}/-/ready", timeout=60):
        driver.start()
        try:
            for target in targets:
                wait_for(
                    lambda t=target: prometheus_query(
                        prom_url,
                        f'sum(rate(http_request_duration_seconds_count{{instance="{t}"}}[5s]))',
                    ),
                    timeout=60,
                    what=f"Prometheus data for {target}",
                )
            yield prom_url
        finally:
            stop.set()
            driver.join(10)


def test_canary_from_prometheus_passes_a_twin_and_fails_a_slow_canary(tmp_path: Path) -> None:
    with (
        subject() as prod,
        subject() as twin,
        subject(EXAMPLE_EXTRA_LATENCY_MS="60") as slow,
        _prometheus_with_traffic([prod, twin, slow], tmp_path) as prom_url,
    ):
        results = {}
        for name, canary in (("twin", twin), ("slow", slow)):
            out = tmp_path / f"canary-{name}.json"
            code = main(
                ["canary", "--canary-url", canary, "--production-url", prod,
                 "--metrics-source", "prometheus", "--metrics-url", prom_url,
                 "--window", "5s", "--monitor-duration", "8", "--interval", "1",
                 "--min-samples", "5", "--no-early-stop", "--quiet", "--json", str(out)]
            )  # fmt: skip
            results[name] = (code, json.loads(out.read_text()))
    code, report = results["slow"]
    latency = next(c for c in report["checks"] if c["name"] == "latency")
    assert code == 1, report["checks"]
    assert latency["status"] == "fail" and latency["details"]["ratio"] > 1.2
    assert latency["summary"].startswith("p95 per 1s point over 5s windows")
    assert report["canary"]["selectors"]["canary"] == f'instance="{slow[len("http://") :]}"'
    code, report = results["twin"]
    assert code == 0, report["checks"]
    errors = next(c for c in report["checks"] if c["name"] == "error_rate")
    assert errors["details"]["n_canary"] > 20  # request counts came from Prometheus
