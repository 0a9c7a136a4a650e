"""configure_tracing: fail fast on bad arguments, reconfigurable, a no-op tracer before it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from opentelemetry import trace as trace_api
from tests.support.servers import REPO, wait_for
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring.tracing import (
    capture_spans,
    configure_tracing,
    shutdown_tracing,
    tracer,
)


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"service_name": ""}, ValueError, "service_name"),
        ({"service_name": "s", "exporter": "jaeger"}, ValueError, "unknown exporter 'jaeger'"),
        ({"service_name": "s", "endpoint": "127.0.0.1:4318"}, ValueError, "http(s) URL"),
        ({"service_name": "s", "endpoint": "ftp://x"}, ValueError, "http(s) URL"),
        ({"service_name": "s", "exporter": "none", "endpoint": "nope"}, ValueError, "URL"),
        ({"service_name": "s", "sample_rate": 1.5}, ValueError, "between 0 and 1"),
        ({"service_name": "s", "sample_rate": -0.1}, ValueError, "between 0 and 1"),
        ({"service_name": "s", "sample_rate": "all"}, TypeError, "sample_rate"),
        ({"service_name": "s", "timeout": 0}, ValueError, "timeout"),
        (
            {"service_name": "s", "max_queue_size": 10, "max_export_batch_size": 20},
            ValueError,
            "batch",
        ),
    ],
)
def test_bad_configuration_raises_a_clear_error_at_configure_time(
    kwargs: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        configure_tracing(**kwargs)  # type: ignore[arg-type]
    assert message in str(info.value)


def test_a_failed_configure_keeps_the_previous_pipeline() -> None:
    configure_tracing("first", exporter="none")
    with pytest.raises(ValueError):
        configure_tracing("second", exporter="zipkin")
    with capture_spans() as spans, tracer.start_as_current_span("x"):
        pass
    assert spans[0].resource.attributes["service.name"] == "first"


def test_configure_can_be_called_again_and_the_new_settings_apply(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing("old-name", exporter="none")
    configure_tracing("new-name", endpoint=receiver.endpoint, version="2.0")
    # The global provider is set once, to a switch that follows reconfiguration: a tracer
    # obtained through the plain OpenTelemetry API follows too.
    api_tracer = trace_api.get_tracer("some.library")
    with api_tracer.start_as_current_span("from-api"):
        pass
    shutdown_tracing()
    [span] = receiver.named("from-api")
    assert span.resource["service.name"] == "new-name"
    assert span.resource["service.version"] == "2.0"
    assert span.scope == "some.library"


def test_after_shutdown_the_tracer_is_a_no_op_until_reconfigured() -> None:
    configure_tracing("svc", exporter="none")
    shutdown_tracing()
    with tracer.start_as_current_span("ignored") as span:
        assert not span.is_recording()
    configure_tracing("svc", exporter="none")
    with tracer.start_as_current_span("recorded") as span:
        assert span.is_recording()


def test_tracer_is_a_harmless_no_op_before_any_configuration() -> None:
    proc = run_python(
        """
        from berrys_monitoring.tracing import trace, tracer, SpanKind, inject_context_into_headers

        @trace("f")
        def f():
            return 42

        assert f() == 42
        with tracer.start_as_current_span("op", kind=SpanKind.SERVER) as span:
            span.set_attribute("key", "value")
            assert not span.is_recording()
            assert inject_context_into_headers({}) == {}
        print("ok")
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "ok"


def test_tracer_follows_a_provider_someone_else_installed_globally() -> None:
    # e.g. `opentelemetry-instrument` configured the SDK before our code ran.
    proc = run_python(
        """
        from opentelemetry import trace as api
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        from berrys_monitoring.tracing import trace

        @trace("early")          # decorated before the provider exists
        def early():
            pass

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        api.set_tracer_provider(provider)
        early()
        print([s.name for s in exporter.get_finished_spans()])
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['early']"


def test_configure_with_a_foreign_global_provider_warns_once_and_still_traces() -> None:
    proc = run_python(
        """
        import logging
        logging.basicConfig()
        from opentelemetry import trace as api
        from opentelemetry.sdk.trace import TracerProvider
        api.set_tracer_provider(TracerProvider())
        from berrys_monitoring.tracing import configure_tracing, capture_spans, tracer
        configure_tracing("mine", exporter="none")
        with capture_spans() as spans, tracer.start_as_current_span("x"):
            pass
        print(spans[0].resource.attributes["service.name"])
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "mine"
    assert "a global tracer provider (TracerProvider) is already set" in proc.stderr


def test_missing_otlp_extra_names_the_pip_install() -> None:
    proc = run_python(
        """
        import sys
        sys.modules["opentelemetry.proto.collector.trace.v1.trace_service_pb2"] = None
        from berrys_monitoring.tracing import configure_tracing
        try:
            configure_tracing("svc")
        except ImportError as exc:
            print(exc)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'berrys-monitoring[otlp]'" in proc.stdout


def test_standard_otlp_environment_variables_choose_the_endpoint(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.endpoint + "/v1/traces")
    configure_tracing("env-configured")
    with tracer.start_as_current_span("via-env"):
        pass
    shutdown_tracing()
    assert [s.name for s in receiver.spans] == ["via-env"]


def test_capture_spans_in_an_unconfigured_process_lends_a_pipeline_and_removes_it() -> None:
    proc = run_python(
        """
        from berrys_monitoring.tracing import capture_spans, tracer
        with capture_spans() as spans:
            with tracer.start_as_current_span("inside"):
                pass
        with tracer.start_as_current_span("after") as span:
            print(spans.names(), span.is_recording())
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "['inside'] False"


def test_tracer_used_as_a_decorator_follows_later_configuration() -> None:
    import asyncio

    shutdown_tracing()

    @tracer.start_as_current_span("decorated-early")
    def work() -> int:
        return 1

    @tracer.start_as_current_span("async-decorated-early")
    async def async_work() -> int:
        return 2

    assert work() == 1  # unconfigured: a no-op, but the function still runs
    for name in ("first", "second"):
        configure_tracing(name, exporter="none")
        with capture_spans() as spans:
            assert work() == 1
            assert asyncio.run(async_work()) == 2
        assert spans.names() == ["decorated-early", "async-decorated-early"]
        assert spans[0].resource.attributes["service.name"] == name


def test_is_configured_follows_configure_shutdown_and_capture_spans() -> None:
    from berrys_monitoring.tracing import is_configured

    shutdown_tracing(timeout=1.0)
    assert is_configured() is False
    with capture_spans():  # lends a provider for the test; not a configuration
        assert is_configured() is False
    configure_tracing("svc", exporter="none")
    assert is_configured() is True
    shutdown_tracing(timeout=1.0)
    assert is_configured() is False


def test_is_configured_sees_a_foreign_sdk_provider_our_tracer_follows() -> None:
    result = run_python(
        """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        from berrys_monitoring.tracing import is_configured, tracer
        assert is_configured() is False
        trace.set_tracer_provider(TracerProvider())
        assert is_configured() is True
        with tracer.start_as_current_span("x") as span:
            assert span.is_recording()
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"}, "OTEL_EXPORTER_OTLP_ENDPOINT"),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://collector"}, "http(s) URL"),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "nope"}, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER='zipkin'"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "no http/json"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "carrier-pigeon"}, "not supported"),
        ({"OTEL_BSP_SCHEDULE_DELAY": "soon"}, "OTEL_BSP_SCHEDULE_DELAY='soon' is not a number"),
        ({"OTEL_BSP_MAX_QUEUE_SIZE": "0"}, "OTEL_BSP_MAX_QUEUE_SIZE must be a positive whole"),
        ({"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "4096"}, "must not exceed max_queue_size (2048)"),
    ],
)
def test_the_standard_environment_is_checked_at_configure_time_as_strictly_as_arguments(
    env: dict[str, str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValueError) as info:
        configure_tracing("svc")
    assert message in str(info.value)


def test_the_standard_batching_variables_shape_the_batches(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Batches of two as soon as two are queued; the timer (an hour) never fires here.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "2")
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "3600000")
    configure_tracing("batched")
    for name in ("a", "b", "c", "d", "e"):
        with tracer.start_as_current_span(name):
            pass
    wait_for(lambda: len(receiver.spans) == 4, what="two full batches")
    assert receiver.requests == 2
    shutdown_tracing()
    assert sorted(s.name for s in receiver.spans) == ["a", "b", "c", "d", "e"]
    # The timer: a lone span goes out after OTEL_BSP_SCHEDULE_DELAY milliseconds.
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    configure_tracing("timed")
    with tracer.start_as_current_span("lone"):
        pass
    wait_for(lambda: receiver.named("lone"), timeout=5, what="the timer's export")
    shutdown_tracing()


def test_otel_traces_exporter_none_exports_nothing(
    receiver: OTLPReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.endpoint)
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    configure_tracing("quiet")
    with tracer.start_as_current_span("kept-home") as span:
        assert span.get_span_context().is_valid  # ids still propagate and reach the logs
    shutdown_tracing()
    assert receiver.requests == 0
    # An explicit argument still wins over the variable.
    configure_tracing("loud", exporter="otlp")
    with tracer.start_as_current_span("sent"):
        pass
    shutdown_tracing()
    assert [s.name for s in receiver.spans] == ["sent"]


def test_otlp_over_grpc_reaches_a_real_grpc_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent import futures

    grpc = pytest.importorskip("grpc")
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    received: list[str] = []

    class Collector(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
        def Export(self, request, context):  # type: ignore[no-untyped-def]
            for rs in request.resource_spans:
                for ss in rs.scope_spans:
                    received.extend(s.name for s in ss.spans)
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Collector(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", f"http://127.0.0.1:{port}")
        configure_tracing("grpc-client")
        with tracer.start_as_current_span("over-grpc"):
            pass
        shutdown_tracing()
    finally:
        server.stop(grace=None)
    assert received == ["over-grpc"]


def test_grpc_without_its_exporter_names_the_pip_install() -> None:
    proc = run_python(
        """
        import os, sys
        sys.modules["opentelemetry.exporter.otlp.proto.grpc.trace_exporter"] = None
        os.environ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "grpc"
        from berrys_monitoring.tracing import configure_tracing
        try:
            configure_tracing("svc")
        except ImportError as exc:
            print(exc)
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert "pip install 'berrys-monitoring[otlp-grpc]'" in proc.stdout


def test_otel_sdk_disabled_serves_requests_without_counting_an_error() -> None:
    proc = run_python(
        """
        import os
        os.environ["OTEL_SDK_DISABLED"] = "true"
        os.environ["BERRYS_MONITORING_STRICT"] = "1"
        from fastapi import FastAPI
        from starlette.testclient import TestClient
        from berrys_monitoring import internal_error_counts
        from berrys_monitoring.logging import configure_logging
        from berrys_monitoring.middleware.fastapi import setup_monitoring
        from berrys_monitoring.tracing import configure_tracing, tracer

        configure_logging(log_to_console=False)
        configure_tracing("off", exporter="console")
        app = FastAPI()
        setup_monitoring(app, service_name="off")

        @app.get("/x")
        def x():
            return {"ok": True}

        with TestClient(app) as client:
            statuses = [client.get("/x").status_code for _ in range(3)]
        with tracer.start_as_current_span("nothing") as span:
            recording = span.is_recording()
        print(statuses, recording, internal_error_counts())
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[200, 200, 200] False {}"
