"""Our direct-to-bytes OTLP encoder against the official one: the same message, decoded."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from berrys_monitoring.tracing._otlp_encode import encode_prepared, encode_request, prepare_span


class _Keep(SpanProcessor):
    def __init__(self) -> None:
        self.spans: list[ReadableSpan] = []

    def on_end(self, span: ReadableSpan) -> None:
        self.spans.append(span)


@pytest.fixture
def providers() -> Iterator[tuple[list[TracerProvider], list[ReadableSpan]]]:
    """Two providers with different resources, one list of their finished spans."""
    keep = _Keep()
    providers = [
        TracerProvider(resource=Resource.create({"service.name": "a", "process.pid": 7})),
        TracerProvider(
            resource=Resource.create({"service.name": "b", "flag": True}, "https://schema/1")
        ),
    ]
    for p in providers:
        p.add_span_processor(keep)
    yield providers, keep.spans
    for p in providers:
        p.shutdown()


def _assert_same(spans: list[ReadableSpan]) -> None:
    ours = ExportTraceServiceRequest.FromString(encode_request(spans))
    assert ours == encode_spans(spans)


def test_server_spans_like_the_middleware_makes_encode_as_the_official_encoder(
    providers: tuple[list[TracerProvider], list[ReadableSpan]],
) -> None:
    tps, spans = providers
    t = tps[0].get_tracer("berrys_monitoring.middleware", "0.1")
    attrs = {
        "http.request.method": "GET",
        "url.path": "/users/42",
        "url.scheme": "http",
        "server.port": 8000,
        "network.protocol.version": "1.1",
    }
    for status in (200, 404, 500):
        span = t.start_span("GET", kind=SpanKind.SERVER, attributes=attrs)
        span.set_attributes({"http.route": "/users/{user_id}", "http.response.status_code": status})
        span.update_name("GET /users/{user_id}")
        if status == 500:
            span.set_status(Status(StatusCode.ERROR))
        span.end()
    assert len(spans) == 3
    _assert_same(spans)
    # Encoding again (memoised attribute encodings) gives the same bytes.
    assert encode_request(spans) == encode_request(spans)


def test_every_span_feature_encodes_as_the_official_encoder(
    providers: tuple[list[TracerProvider], list[ReadableSpan]],
) -> None:
    remote_parent = SpanContext(
        trace_id=0x0AF7651916CD43DD8448EB211C80319C,
        span_id=0xB7AD6B7169203331,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "x1"), ("other", "y2")]),
    )
    tps, finished = providers
    a = tps[0].get_tracer("scope.one", "1.0", schema_url="https://schema/scope")
    b = tps[1].get_tracer("scope.two")
    parent_ctx = set_span_in_context(NonRecordingSpan(remote_parent))
    with a.start_as_current_span(
        "root",
        context=parent_ctx,
        kind=SpanKind.CONSUMER,
        attributes={
            "s": "text é ✓",
            "i": -5,
            "big": 2**62,
            "f": 1.5,
            "neg_zero": -0.0,
            "b": False,
            "strs": ["a", "b"],
            "ints": [1, 2, 3],
            "floats": [0.25],
            "bools": [True, False],
        },
        links=[Link(remote_parent, {"link.attr": 1}), Link(remote_parent)],
    ) as root:
        root.add_event("cache miss", {"key": "user:42", "n": 3})
        root.add_event("plain")
        root.set_status(Status(StatusCode.ERROR, "boom: a long description"))
        with a.start_as_current_span("child", kind=SpanKind.CLIENT) as child:
            child.set_status(Status(StatusCode.OK))
        with b.start_as_current_span("other-resource", kind=SpanKind.PRODUCER):
            pass
        try:
            with a.start_as_current_span("fails"):
                raise ValueError("bad input")
        except ValueError:
            pass
    with b.start_as_current_span("", kind=SpanKind.INTERNAL):
        pass
    assert len(finished) == 5
    _assert_same(finished)
    _assert_same_prepared(finished)


def _assert_same_prepared(spans: list[ReadableSpan]) -> None:
    items = [prepare_span(s) for s in spans]
    assert all(i is not None for i in items)
    ours = ExportTraceServiceRequest.FromString(encode_prepared([i for i in items if i]))
    assert ours == encode_spans(spans)


def test_spans_prepared_one_by_one_encode_as_the_official_encoder(
    providers: tuple[list[TracerProvider], list[ReadableSpan]],
) -> None:
    tps, finished = providers
    for i, tp in enumerate(tps * 2):
        scope = tp.get_tracer(f"scope.{i % 3}", "1.0")
        with scope.start_as_current_span(f"op{i}", attributes={"n": i}) as span:
            # The same key and value as a span attribute: a different protobuf field.
            span.add_event("e", {"n": i})
    _assert_same_prepared(finished)


def test_a_prepared_span_is_bytes_the_collector_never_tracks() -> None:
    # Queued spans waiting for export must not be promoted to the old GC generation.
    import gc

    tp = TracerProvider()
    with tp.get_tracer("t").start_as_current_span("op") as span:
        pass
    item = prepare_span(span)
    assert item is not None
    assert type(item) is bytes
    assert not gc.is_tracked(item)
    tp.shutdown()


def test_an_empty_batch_is_an_empty_request() -> None:
    assert encode_request([]) == b""
    assert encode_prepared([]) == b""
    assert ExportTraceServiceRequest.FromString(b"") == encode_spans([])
