"""Spans reach a real OTLP/HTTP receiver with their resource, attributes and parent ids;
a dead collector never breaks the application and its drops are counted."""

from __future__ import annotations

import socket

import pytest
from opentelemetry.trace import SpanKind
from tests.support.servers import free_port
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring._internal import event_counts, internal_error_counts
from berrys_monitoring.tracing import (
    configure_tracing,
    force_flush,
    shutdown_tracing,
    trace,
    tracer,
)

OTLP_SERVER = 2  # opentelemetry.proto Span.SpanKind values
OTLP_INTERNAL = 1
OTLP_ERROR = 2


def test_spans_are_exported_with_resource_attributes_and_parent_ids(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing(
        "checkout",
        endpoint=receiver.endpoint,
        environment="staging",
        version="1.4.2",
        resource_attributes={"team": "payments"},
    )

    @trace("charge_card")
    def charge_card() -> None:
        pass

    with tracer.start_as_current_span("POST /orders", kind=SpanKind.SERVER) as span:
        span.set_attribute("http.route", "/orders")
        span.set_attribute("order.items", 3)
        charge_card()
    assert force_flush(timeout=10)

    [server] = receiver.named("POST /orders")
    [child] = receiver.named("charge_card")
    assert server.kind == OTLP_SERVER and child.kind == OTLP_INTERNAL
    assert server.attributes == {"http.route": "/orders", "order.items": 3}
    assert child.trace_id == server.trace_id
    assert child.parent_span_id == server.span_id
    assert server.parent_span_id == ""
    assert len(server.trace_id) == 32 and len(server.span_id) == 16
    res = server.resource
    assert res["service.name"] == "checkout"
    assert res["service.version"] == "1.4.2"
    assert res["deployment.environment"] == "staging"
    assert res["team"] == "payments"
    assert res["telemetry.sdk.name"] == "opentelemetry"
    assert receiver.content_types == ["application/x-protobuf"]
    assert event_counts()[("tracing", "spans_exported")] == 2


def test_errors_reach_the_collector_with_status_and_exception_event(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing("svc", endpoint=receiver.endpoint + "/v1/traces")

    @trace("explode")
    def explode() -> None:
        raise ValueError("bad input")

    with pytest.raises(ValueError):
        explode()
    assert force_flush()
    [span] = receiver.named("explode")
    assert span.status_code == OTLP_ERROR
    assert span.status_message == "ValueError: bad input"
    assert span.events[0]["name"] == "exception"
    assert span.events[0]["exception.type"] == "ValueError"


def test_shutdown_exports_what_is_still_queued(receiver: OTLPReceiver) -> None:
    # A long schedule delay: without the shutdown flush these would sit in the queue.
    configure_tracing("svc", endpoint=receiver.endpoint, schedule_delay_millis=60_000)
    for i in range(50):
        with tracer.start_as_current_span(f"work-{i}"):
            pass
    shutdown_tracing(timeout=10)
    assert len(receiver.spans) == 50


def test_sample_rate_zero_drops_new_traces_but_keeps_sampled_parents(
    receiver: OTLPReceiver,
) -> None:
    from berrys_monitoring.tracing import extract_context_from_headers

    configure_tracing("svc", endpoint=receiver.endpoint, sample_rate=0.0)
    with tracer.start_as_current_span("unsampled") as span:
        assert not span.get_span_context().trace_flags.sampled
    sampled_parent = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    ctx = extract_context_from_headers(sampled_parent)
    with tracer.start_as_current_span("continued", context=ctx, kind=SpanKind.SERVER):
        pass
    assert force_flush()
    assert receiver.named("unsampled") == []
    [kept] = receiver.named("continued")
    assert kept.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert kept.parent_span_id == "b7ad6b7169203331"


def test_ratio_sampling_keeps_roughly_the_requested_fraction(receiver: OTLPReceiver) -> None:
    configure_tracing("svc", endpoint=receiver.endpoint, sample_rate=0.25)
    for _ in range(2000):
        with tracer.start_as_current_span("maybe"):
            pass
    assert force_flush()
    kept = len(receiver.named("maybe"))
    # Binomial(2000, 0.25): mean 500, sd ~19; +-6 sd never flakes.
    assert 385 < kept < 615


def test_dead_collector_never_raises_and_counts_the_dropped_spans() -> None:
    # A port that refuses connections: the collector is down.
    port = free_port()
    configure_tracing("svc", endpoint=f"http://127.0.0.1:{port}", timeout=0.5)

    @trace("still works")
    def handler() -> str:
        return "ok"

    for _ in range(5):
        assert handler() == "ok"
    assert force_flush(timeout=10) is True  # the export ran (and failed) within the bound
    assert event_counts().get(("tracing", "spans_dropped_export_failed")) == 5
    assert internal_error_counts()["tracing"] >= 1


def test_collector_that_never_answers_does_not_block_force_flush_beyond_its_timeout() -> None:
    # Accepts TCP connections but never replies: the worst kind of dead collector.
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)
        port = hung.getsockname()[1]
        configure_tracing("svc", endpoint=f"http://127.0.0.1:{port}", timeout=30)
        with tracer.start_as_current_span("queued"):
            pass
        assert force_flush(timeout=0.3) is False
        shutdown_tracing(timeout=0.3)


def test_full_queue_drops_and_counts_instead_of_blocking(receiver: OTLPReceiver) -> None:
    configure_tracing(
        "svc",
        endpoint=receiver.endpoint,
        max_queue_size=10,
        max_export_batch_size=10,
        schedule_delay_millis=60_000,
    )
    # The worker wakes when the queue reaches a batch, but cannot keep up with a
    # tight loop of 5,000 spans into a 10-slot queue.
    for _ in range(5000):
        with tracer.start_as_current_span("burst"):
            pass
    assert force_flush()
    dropped = event_counts().get(("tracing", "spans_dropped_queue_full"), 0)
    assert dropped > 0
    # Every span is either delivered or counted. The count is taken just before the SDK's
    # own check, so a batch the worker pops in between can make it over-count a little.
    assert 0 <= len(receiver.named("burst")) + dropped - 5000 <= 100


def test_a_batch_over_the_request_size_limit_is_sent_in_parts_not_dropped(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing("svc", endpoint=receiver.endpoint, schedule_delay_millis=60_000)
    from berrys_monitoring.tracing._switch import STATE

    # A small limit on the real sender, so a batch of 12 spans exceeds it.
    exporter = STATE.processors[0].exporter.inner  # type: ignore[attr-defined]
    exporter.max_request_bytes = 3000  # a few spans of ~1 kB per request
    for i in range(12):
        with tracer.start_as_current_span(f"big-{i}", attributes={"pad": "x" * 900}):
            pass
    assert force_flush()
    assert sorted(s.name for s in receiver.spans if s.name.startswith("big-")) == sorted(
        f"big-{i}" for i in range(12)
    )
    assert receiver.requests >= 4


def test_a_custom_exporter_instance_is_accepted() -> None:
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    configure_tracing("svc", exporter=exporter)
    with tracer.start_as_current_span("mem"):
        pass
    assert force_flush()
    assert [s.name for s in exporter.get_finished_spans()] == ["mem"]


def test_console_exporter_prints_spans(capsys: pytest.CaptureFixture[str]) -> None:
    configure_tracing("svc", exporter="console")
    with tracer.start_as_current_span("printed"):
        pass
    assert force_flush()
    assert '"name": "printed"' in capsys.readouterr().out


def test_auth_headers_and_gzip_compression_reach_the_collector(receiver: OTLPReceiver) -> None:
    configure_tracing(
        "svc",
        endpoint=receiver.endpoint,
        headers={"Authorization": "Bearer s3cret"},
        compression="gzip",
    )
    with tracer.start_as_current_span("compressed"):
        pass
    assert force_flush()
    [request_headers] = receiver.headers
    assert request_headers["authorization"] == "Bearer s3cret"
    assert request_headers["content-encoding"] == "gzip"
    assert [s.name for s in receiver.spans] == ["compressed"]  # decoded after gunzip


def test_unknown_compression_is_rejected_at_configure_time() -> None:
    with pytest.raises(ValueError, match="compression"):
        configure_tracing("svc", compression="brotli")
