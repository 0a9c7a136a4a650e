"""The middleware's lean server span: its OTLP bytes against the official encoder, its
sampling against the SDK's sampler, the Span API rules, and delivery to SDK exporters."""

from __future__ import annotations

import contextvars
import subprocess
import sys
import textwrap
import warnings

import pytest
from fastapi import FastAPI
from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased
from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags
from prometheus_client import CollectorRegistry
from tests.support.servers import REPO

from berrys_monitoring import internal_error_counts
from berrys_monitoring.middleware.fastapi import setup_monitoring
from berrys_monitoring.tracing import (
    capture_spans,
    configure_tracing,
    extract_context_from_headers,
    force_flush,
)
from berrys_monitoring.tracing._current_span import attach_span, detach_span
from berrys_monitoring.tracing._otlp_encode import encode_prepared, encode_server_span, group_tag
from berrys_monitoring.tracing._server_span import (
    ServerSpan,
    ServerSpans,
    UnsampledSpan,
    server_spans,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
PARENT_ID = 0xB7AD6B7169203331
SAMPLED_PARENT = f"00-{TRACE_ID:032x}-{PARENT_ID:016x}-01"
UNSAMPLED_PARENT = f"00-{TRACE_ID:032x}-{PARENT_ID:016x}-00"
ATTRS = {"http.request.method": "GET", "url.path": "/users/42", "server.port": 8000}


def _lean(rate: float = 1.0) -> ServerSpans:
    configure_tracing("svc", exporter="none", sample_rate=rate)
    spans = server_spans()
    assert spans is not None
    return spans


def _ours(span: ServerSpan) -> ExportTraceServiceRequest:
    tag = group_tag(span.resource, span.instrumentation_scope)
    assert tag is not None
    return ExportTraceServiceRequest.FromString(encode_prepared([tag + encode_server_span(span)]))


def _assert_encodes_as_official(span: ServerSpan) -> None:
    ours, official = _ours(span), encode_spans([span.to_readable()])
    [ours_span] = ours.resource_spans[0].scope_spans[0].spans
    [official_span] = official.resource_spans[0].scope_spans[0].spans
    assert official_span.kind == official_span.SPAN_KIND_SERVER
    assert ours_span.kind == official_span.kind
    assert ours == official  # every field, resource and scope included


def _span(spans: ServerSpans, case: str) -> ServerSpan:
    parent = None
    if case in ("remote-parent-tracestate", "exception-and-link"):
        headers = {"traceparent": SAMPLED_PARENT, "tracestate": "vendor=x1,other=y2"}
        parent = extract_context_from_headers(headers)
    span = spans.start("GET", parent, dict(ATTRS))
    assert type(span) is ServerSpan
    if case == "error-status":
        span.set_status(Status(StatusCode.ERROR, "upstream timed out"))
    if case == "exception-and-link":  # encoded by the generic _span
        try:
            raise ValueError("bad input")
        except ValueError as exc:
            span.record_exception(exc, {"extra": 1})
        span.add_link(SpanContext(TRACE_ID, 0x1234, True, TraceFlags(1)), {"link.n": 2})
    return span


@pytest.mark.parametrize(
    "case",
    [
        "root",
        "remote-parent-tracestate",
        "error-status",
        "exception-and-link",
    ],
)
def test_lean_span_bytes_decode_to_the_official_encoders_message(case: str) -> None:
    span = _span(_lean(), case)
    span.set_attributes({"http.route": "/users/{id}", "http.response.status_code": 200})
    span.update_name("GET /users/{id}")
    span.end()
    _assert_encodes_as_official(span)
    assert encode_server_span(span) == encode_server_span(span)  # memoised: same bytes


def test_the_attribute_set_memo_never_confuses_true_one_and_one_point_zero() -> None:
    spans = _lean()
    # True == 1 == 1.0 (and they hash alike): a memo keyed on values alone would mix them.
    cases = [(True, "bool_value"), (1, "int_value"), (1.0, "double_value")]
    for order in (cases, cases[::-1], [cases[1], cases[0], cases[2]]):
        for value, kind in order * 2:  # the second round is served from the memo
            span = spans.start("GET", None, {"flag": value, "other": value, "s": "x"})
            span.end()
            assert isinstance(span, ServerSpan)
            [ours] = _ours(span).resource_spans[0].scope_spans[0].spans
            [official] = encode_spans([span.to_readable()]).resource_spans[0].scope_spans[0].spans
            assert ours.attributes == official.attributes
            got = {kv.key: kv.value.WhichOneof("value") for kv in ours.attributes}
            assert got == {"flag": kind, "other": kind, "s": "string_value"}


def test_full_sampling_records_every_request_and_none_records_no_request() -> None:
    spans = _lean(1.0)
    for _ in range(200):
        span = spans.start("GET", None, {})
        assert type(span) is ServerSpan and span.is_recording()
        assert span.get_span_context().trace_flags.sampled
    spans = _lean(0.0)
    for _ in range(200):
        span = spans.start("GET", None, {})
        ctx = span.get_span_context()
        assert type(span) is UnsampledSpan and not span.is_recording()
        assert ctx.is_valid and not ctx.trace_flags.sampled  # ids still propagate


@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_a_remote_parents_decision_is_kept(rate: float) -> None:
    spans = _lean(rate)
    sampled = spans.start("GET", extract_context_from_headers({"traceparent": SAMPLED_PARENT}), {})
    assert type(sampled) is ServerSpan
    ctx = sampled.get_span_context()
    assert ctx.trace_id == TRACE_ID and ctx.trace_flags.sampled and ctx.span_id != PARENT_ID
    assert sampled.parent is not None
    assert sampled.parent.span_id == PARENT_ID and sampled.parent.is_remote
    headers = {"traceparent": UNSAMPLED_PARENT}
    unsampled = spans.start("GET", extract_context_from_headers(headers), {})
    assert type(unsampled) is UnsampledSpan
    assert unsampled.get_span_context().trace_id == TRACE_ID
    assert not unsampled.get_span_context().trace_flags.sampled


def test_half_sampling_decides_like_the_sdks_trace_id_ratio_sampler() -> None:
    spans = _lean(0.5)
    sdk = TraceIdRatioBased(0.5)
    kept = 0
    for _ in range(2000):
        span = spans.start("GET", None, {})
        ctx = span.get_span_context()
        decision = sdk.should_sample(None, ctx.trace_id, "GET").decision.is_sampled()
        assert (type(span) is ServerSpan) is decision is ctx.trace_flags.sampled
        kept += decision
    assert 800 < kept < 1200


def test_the_lean_path_is_off_when_a_foreign_provider_owns_tracing() -> None:
    _lean()  # on right after configure_tracing in this process
    code = """
        from opentelemetry import trace
        from opentelemetry.sdk.trace import TracerProvider
        trace.set_tracer_provider(TracerProvider())
        from berrys_monitoring.tracing import configure_tracing
        from berrys_monitoring.tracing._server_span import server_spans
        configure_tracing("mine", exporter="none")
        print("lean:", server_spans() is not None)
    """
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "lean: False"


def test_set_attribute_keeps_what_the_sdk_keeps_and_at_most_128() -> None:
    span = _lean().start("GET", None, {})
    span.set_attribute("tags", ["a", "b"])
    span.set_attribute("ports", [80, 443])
    span.set_attribute("gone", None)
    span.set_attributes({"n": 3, "ok": True})
    assert span.attributes == {"tags": ("a", "b"), "ports": (80, 443), "n": 3, "ok": True}
    for i in range(200):
        span.set_attribute(f"k{i}", i)
    assert len(span.attributes) == 128 and "k199" not in span.attributes
    span.set_attribute("n", 4)  # an existing key still changes at the limit
    assert span.attributes["n"] == 4 and len(span.attributes) == 128


def test_set_attribute_drops_invalid_keys() -> None:
    span = _lean().start("GET", None, {})
    span.set_attribute("", "empty key")
    span.set_attribute(5, "int key")  # type: ignore[arg-type]
    span.set_attribute("", ["a"])
    assert span.attributes == {}


def test_set_status_ok_is_final_and_unset_is_ignored() -> None:
    spans = _lean()
    span = spans.start("GET", None, {})
    span.set_status(StatusCode.ERROR, "first")
    span.set_status(Status(StatusCode.UNSET))
    span.set_status(StatusCode.UNSET)
    assert span.status.status_code is StatusCode.ERROR and span.status.description == "first"
    span.set_status(Status(StatusCode.OK))
    span.set_status(Status(StatusCode.ERROR, "too late"))
    assert span.status.status_code is StatusCode.OK and span.status.description is None


def test_an_ended_span_does_not_change_and_is_delivered_once() -> None:
    spans = _lean()
    with capture_spans() as captured:
        span = spans.start("GET", None, {"a": 1})
        span.end()
        end_time = span.end_time
        span.set_attribute("b", 2)
        span.set_status(Status(StatusCode.ERROR, "late"))
        span.update_name("renamed")
        span.add_event("late")
        span.record_exception(ValueError("late"))
        span.end()
    assert not span.is_recording() and span.end_time == end_time
    assert span.attributes == {"a": 1} and span.name == "GET" and span.events == ()
    assert span.status.status_code is StatusCode.UNSET
    assert len(captured) == 1 and captured[0].name == "GET"


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    setup_monitoring(
        app, service_name="svc", registry=CollectorRegistry(), configure_defaults=False
    )
    return app


def test_a_request_reaches_an_sdk_exporter_and_capture_spans_as_readable_spans() -> None:
    exporter = InMemorySpanExporter()
    configure_tracing("svc", exporter=exporter)
    assert server_spans("berrys_monitoring.middleware") is not None  # the lean path
    client = TestClient(_app())
    with capture_spans() as captured:
        assert client.get("/users/7").status_code == 200
    assert force_flush(timeout=5.0)
    [exported] = [s for s in exporter.get_finished_spans() if s.kind is SpanKind.SERVER]
    [seen] = [s for s in captured if s.kind is SpanKind.SERVER]
    for span in (exported, seen):
        assert type(span) is ReadableSpan  # not our ServerSpan
        assert span.name == "GET /users/{user_id}"
        assert span.attributes["http.route"] == "/users/{user_id}"
        assert span.attributes["http.response.status_code"] == 200
        assert span.resource.attributes["service.name"] == "svc"
    assert exported.context.span_id == seen.context.span_id


def test_attach_span_makes_it_current_and_detach_restores_the_context() -> None:
    span = trace_api.NonRecordingSpan(SpanContext(TRACE_ID, PARENT_ID, False, TraceFlags(1)))
    before = context_api.get_current()
    token = attach_span(span, context_api.set_value("tenant", "acme"))
    try:
        assert trace_api.get_current_span() is span
        assert context_api.get_value("tenant") == "acme"  # on top of the given parent
        # A token detached in another context is reported, not raised; nothing changes here.
        contextvars.copy_context().run(detach_span, token)
        assert internal_error_counts().get("tracing", 0) == 1
        assert trace_api.get_current_span() is span
    finally:
        detach_span(token)
    assert context_api.get_current() is before
    assert trace_api.get_current_span() is not span


def test_attributes_over_the_limit_are_counted_as_dropped_like_the_sdk() -> None:
    span = _lean().start("GET", None, {})
    assert isinstance(span, ServerSpan)
    for i in range(200):
        span.set_attribute(f"k{i}", i)
    span.end()
    assert span.dropped_attributes == 72
    assert span.to_readable().dropped_attributes == 72
    [ours] = _ours(span).resource_spans[0].scope_spans[0].spans
    assert ours.dropped_attributes_count == 72
    _assert_encodes_as_official(span)


def test_a_processor_added_after_configure_tracing_sees_every_server_span() -> None:
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    from berrys_monitoring.tracing._switch import STATE

    configure_tracing("svc", exporter="none")
    assert server_spans() is not None
    extra = InMemorySpanExporter()
    # Someone adds a processor of their own: it must see spans start and end, which only
    # the SDK's spans tell it, so the lean path gives way.
    STATE.provider.add_span_processor(SimpleSpanProcessor(extra))  # type: ignore[union-attr]
    assert server_spans() is None
    client = TestClient(_app())
    assert client.get("/users/3").status_code == 200
    [span] = [s for s in extra.get_finished_spans() if s.kind is SpanKind.SERVER]
    assert span.name == "GET /users/{user_id}"
    assert span.attributes["http.route"] == "/users/{user_id}"
