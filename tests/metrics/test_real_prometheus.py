"""Our exposition judged by the real Prometheus tools: promtool's linter and a real server
scraping start_metrics_server (with exemplar storage on)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry
from tests.support.servers import free_port, require_binary, run_server, wait_for

from berrys_monitoring.metrics import (
    configure_metrics,
    gauge,
    histogram,
    increment_counter,
    metrics_exposition,
    record_timer,
    start_metrics_server,
)


def test_promtool_finds_no_problem_in_the_exposition(registry: CollectorRegistry) -> None:
    promtool = require_binary("promtool", "apt-get install prometheus")
    configure_metrics(registry=registry, prefix="berrys_agents", default_tags={"env": "prod"})
    increment_counter("api_requests_total", {"endpoint": "/users", "method": "GET"})
    increment_counter("odd.name-with spaces")
    gauge("active_connections", 42, {"service": "api-gateway"})
    histogram("response_size_bytes", 1024, {"endpoint": "/users"})
    with record_timer("function_execution_time", {"function": "process_data"}):
        pass
    body, _ = metrics_exposition(registry=registry)
    out = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, timeout=60
    )
    assert out.returncode == 0, out.stdout.decode() + out.stderr.decode()
    assert out.stdout.strip() == b"" and out.stderr.strip() == b""


@pytest.mark.slow
def test_real_prometheus_scrapes_values_and_exemplars(
    registry: CollectorRegistry, tmp_path: Path
) -> None:
    prometheus = require_binary("prometheus", "apt-get install prometheus")
    configure_metrics(registry=registry, prefix="scrape_test")
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("GET /users") as span:
        histogram("latency_seconds", 0.2, {"route": "/users"})
    trace_id = format(span.get_span_context().trace_id, "032x")
    increment_counter("requests_total", {"route": "/users"}, 5)

    with start_metrics_server(0, registry=registry) as target:
        config = tmp_path / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n"
            "scrape_configs:\n"
            "  - job_name: app\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{target.port}']}}]\n"
        )
        port = free_port()
        api = f"http://127.0.0.1:{port}/api/v1"
        cmd = [
            prometheus,
            f"--config.file={config}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--enable-feature=exemplar-storage",
        ]
        with run_server(cmd, ready_url=f"http://127.0.0.1:{port}/-/ready", timeout=60):

            def counter_value() -> float | None:
                r = httpx.get(f"{api}/query", params={"query": "scrape_test_requests_total"})
                result = r.json()["data"]["result"]
                return float(result[0]["value"][1]) if result else None

            assert wait_for(counter_value, timeout=60, what="the scraped counter") == 5.0

            def exemplars() -> list[dict]:
                r = httpx.get(
                    f"{api}/query_exemplars",
                    params={"query": "scrape_test_latency_seconds_bucket", "start": "0"},
                )
                return [e for s in r.json()["data"] for e in s["exemplars"]]

            found = wait_for(exemplars, timeout=60, what="the scraped exemplar")
            assert found[0]["labels"]["trace_id"] == trace_id
            assert float(found[0]["value"]) == 0.2
