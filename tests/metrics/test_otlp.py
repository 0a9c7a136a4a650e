"""The OTLP backend: the real OTLP/HTTP exporter against a real local HTTP receiver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from tests.support.servers import free_port

from berrys_monitoring import internal_error_counts
from berrys_monitoring.metrics import (
    MetricsBackend,
    configure_metrics,
    flush_metrics,
    gauge,
    histogram,
    increment_counter,
    record_timer,
    reset_metrics,
)


class Receiver:
    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], ExportMetricsServiceRequest]] = []
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                req = ExportMetricsServiceRequest()
                req.ParseFromString(body)
                received.append((self.path, dict(self.headers), req))
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def metrics(self) -> dict[str, Any]:
        out = {}
        for _, _, req in self.requests:
            for rm in req.resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        out[m.name] = m
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    reset_metrics()  # shut the exporter down while the receiver still answers
    r.close()


def attrs(point: Any) -> dict[str, str]:
    return {a.key: a.value.string_value for a in point.attributes}


def test_metrics_arrive_over_otlp_http_with_tags_as_attributes(receiver: Receiver) -> None:
    configure_metrics(
        MetricsBackend.OTLP,
        prefix="berrys_agents",
        default_tags={"service": "api-gateway"},
        otlp_endpoint=receiver.url,
        otlp_headers={"x-team": "core"},
    )
    increment_counter("api_requests_total", {"endpoint": "/users"}, 2)
    gauge("active_connections", 42)
    histogram("response_size_bytes", 1024)
    with record_timer("work"):
        pass
    flush_metrics()
    path, headers, req = receiver.requests[-1]
    assert path == "/v1/metrics"
    assert headers["x-team"] == "core"
    resource = {a.key: a.value.string_value for a in req.resource_metrics[0].resource.attributes}
    assert resource["service.name"] == "api-gateway"
    m = receiver.metrics()
    counter = m["berrys_agents_api_requests"]
    assert counter.sum.is_monotonic
    assert counter.sum.data_points[0].as_double == 2 or counter.sum.data_points[0].as_int == 2
    assert attrs(counter.sum.data_points[0]) == {"service": "api-gateway", "endpoint": "/users"}
    assert m["berrys_agents_active_connections"].gauge.data_points[0].as_int == 42
    assert m["berrys_agents_response_size_bytes"].histogram.data_points[0].sum == 1024
    timer = m["berrys_agents_work_seconds"]
    assert timer.unit == "s"
    assert timer.histogram.data_points[0].count == 1


def test_otlp_endpoint_down_never_raises_and_counts_the_failure() -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens here
    configure_metrics(MetricsBackend.OTLP, otlp_endpoint=url, otlp_timeout=1.0)
    increment_counter("lost_total")
    histogram("lost_h", 1.0)
    flush_metrics(timeout=2.0)
    assert internal_error_counts()["metrics"] >= 1


def _run_and_exit(endpoint: str, timeout: float) -> Any:
    import subprocess
    import sys

    script = (
        "from berrys_monitoring.metrics import configure_metrics, increment_counter\n"
        f"configure_metrics('otlp', otlp_endpoint={endpoint!r}, otlp_timeout={timeout},\n"
        "                  otlp_export_interval=3600)\n"
        "increment_counter('last_words_total', {'k': 'v'})\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=20
    )


def test_metrics_recorded_just_before_exit_are_exported_at_exit(receiver: Receiver) -> None:
    done = _run_and_exit(receiver.url, 10.0)
    assert done.returncode == 0, done.stderr
    point = receiver.metrics()["last_words"].sum.data_points[0]
    assert point.as_int == 1 and attrs(point) == {"k": "v"}


def test_a_collector_that_is_down_does_not_hold_up_interpreter_exit() -> None:
    # With a 60 s export timeout the SDK's own exit hook keeps retrying until its 30 s cap;
    # ours gives the last export 2 s. The 20 s limit of _run_and_exit only catches the
    # long wait, it is not a speed requirement.
    done = _run_and_exit(f"http://127.0.0.1:{free_port()}", 60.0)
    assert done.returncode == 0, done.stderr


def test_missing_otlp_extra_names_the_pip_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "opentelemetry.exporter.otlp.proto.http.metric_exporter", None)
    with pytest.raises(ImportError, match=r"pip install 'berrys-monitoring\[otlp\]'"):
        configure_metrics(MetricsBackend.OTLP)


def test_last_value_gauge_for_sdks_without_synchronous_gauges() -> None:
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    from berrys_monitoring.metrics._otlp import _LastValueGauge

    reader = InMemoryMetricReader()
    gauge_ = _LastValueGauge(MeterProvider(metric_readers=[reader]).get_meter("t"), "depth")
    gauge_.set(3, {"queue": "a"})
    gauge_.set(4, {"queue": "a"})
    gauge_.set(1, {"queue": "b"})
    data = reader.get_metrics_data()
    points = {
        p.attributes["queue"]: p.value
        for rm in data.resource_metrics
        for sm in rm.scope_metrics
        for m in sm.metrics
        for p in m.data.data_points
    }
    assert points == {"a": 4, "b": 1}


def test_endpoint_comes_from_the_opentelemetry_environment_variable(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    configure_metrics(MetricsBackend.OTLP)
    increment_counter("from_env_total")
    flush_metrics()
    assert "from_env" in receiver.metrics()
