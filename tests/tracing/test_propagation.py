"""W3C Trace Context and Baggage in and out of every kind of header container; hostile
input starts a new trace and never raises."""

from __future__ import annotations

from email.message import Message

from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry import baggage
from opentelemetry.trace import SpanKind, get_current_span

from berrys_monitoring._internal import event_counts
from berrys_monitoring.tracing import (
    capture_spans,
    extract_context_from_headers,
    inject_context_into_headers,
    tracer,
)

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"
TRACEPARENT = f"00-{TRACE_ID}-{SPAN_ID}-01"


def remote(ctx: object) -> tuple[str, str]:
    sc = get_current_span(ctx).get_span_context()  # type: ignore[arg-type]
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x")


def test_inject_writes_traceparent_of_the_current_span_and_returns_the_same_dict() -> None:
    with capture_spans(), tracer.start_as_current_span("client") as span:
        headers: dict[str, str] = {"accept": "json"}
        out = inject_context_into_headers(headers)
        sc = span.get_span_context()
    assert out is headers
    version, trace_id, span_id, flags = headers["traceparent"].split("-")
    assert (version, trace_id, span_id) == ("00", f"{sc.trace_id:032x}", f"{sc.span_id:016x}")
    assert int(flags, 16) & 1  # sampled
    assert headers["accept"] == "json"


def test_roundtrip_makes_the_server_span_a_child_of_the_client_span() -> None:
    with capture_spans() as spans:
        with tracer.start_as_current_span("client", kind=SpanKind.CLIENT):
            headers = inject_context_into_headers({})
        ctx = extract_context_from_headers(headers)
        with tracer.start_as_current_span("server", context=ctx, kind=SpanKind.SERVER):
            pass
    client, server = spans.by_name("client"), spans.by_name("server")
    assert server.context.trace_id == client.context.trace_id
    assert server.parent is not None and server.parent.is_remote
    assert server.parent.span_id == client.context.span_id


def test_header_names_are_case_insensitive() -> None:
    for name in ("traceparent", "Traceparent", "TRACEPARENT", "TraceParent"):
        assert remote(extract_context_from_headers({name: TRACEPARENT})) == (TRACE_ID, SPAN_ID)


def test_framework_header_objects_are_accepted() -> None:
    from starlette.datastructures import Headers
    from werkzeug.datastructures import EnvironHeaders

    starlette = Headers(raw=[(b"traceparent", TRACEPARENT.encode())])
    werkzeug = EnvironHeaders({"HTTP_TRACEPARENT": TRACEPARENT})
    asgi_raw = [(b"host", b"x"), (b"traceparent", TRACEPARENT.encode())]
    msg = Message()
    msg["TraceParent"] = TRACEPARENT  # what http.server hands a handler
    for carrier in (starlette, werkzeug, asgi_raw, msg):
        assert remote(extract_context_from_headers(carrier)) == (TRACE_ID, SPAN_ID), carrier


def test_tracestate_and_baggage_cross_the_boundary() -> None:
    incoming = {
        "traceparent": TRACEPARENT,
        "tracestate": "vendor=abc,other=1",
        "baggage": "tenant=acme,plan=gold",
    }
    ctx = extract_context_from_headers(incoming)
    assert baggage.get_all(ctx) == {"tenant": "acme", "plan": "gold"}
    sc = get_current_span(ctx).get_span_context()
    assert sc.trace_state.to_header() == "vendor=abc,other=1"
    # Forwarded downstream unchanged from within a child span.
    with capture_spans(), tracer.start_as_current_span("handler", context=ctx):
        from opentelemetry import context as context_api

        token = context_api.attach(baggage.set_baggage("tenant", "acme", context_api.get_current()))
        try:
            out = inject_context_into_headers({})
        finally:
            context_api.detach(token)
    assert out["traceparent"].split("-")[1] == TRACE_ID
    assert out["tracestate"] == "vendor=abc,other=1"
    assert "tenant=acme" in out["baggage"]


def test_missing_headers_start_a_new_trace_even_inside_an_active_span() -> None:
    with capture_spans() as spans:
        with tracer.start_as_current_span("unrelated"):
            ctx = extract_context_from_headers({"accept": "*/*"})
            with tracer.start_as_current_span("request", context=ctx, kind=SpanKind.SERVER):
                pass
    assert spans.by_name("request").parent is None
    assert extract_context_from_headers(None) is not None


def test_malformed_traceparent_starts_a_new_trace() -> None:
    bad = [
        "garbage",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",  # invalid trace id
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  # invalid span id
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  # forbidden version
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",  # truncated
        "00-XYZ7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ]
    for value in bad:
        ctx = extract_context_from_headers({"traceparent": value})
        assert not get_current_span(ctx).get_span_context().is_valid, value
        with capture_spans() as spans, tracer.start_as_current_span("s", context=ctx):
            pass
        assert spans[0].parent is None


def test_a_carrier_that_is_not_headers_at_all_is_counted_not_raised() -> None:
    ctx = extract_context_from_headers(12345)
    assert not get_current_span(ctx).get_span_context().is_valid
    assert event_counts()[("tracing", "malformed_context")] == 1


header_names = st.sampled_from(["traceparent", "TraceParent", "tracestate", "baggage", "x"])
header_values = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=100),
    st.lists(st.text(max_size=50), max_size=3),
    st.builds(
        lambda a, b, c, d: f"{a}-{b}-{c}-{d}",
        st.text("0123456789abcdefABCDEF", max_size=3),
        st.text("0123456789abcdef", min_size=30, max_size=34),
        st.text("0123456789abcdef", min_size=14, max_size=18),
        st.text("0123456789abcdefz", max_size=3),
    ),
)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(header_names, header_values, max_size=4))
def test_arbitrary_header_values_never_raise(headers: dict[str, object]) -> None:
    ctx = extract_context_from_headers(headers)
    sc = get_current_span(ctx).get_span_context()
    if sc.is_valid:  # anything accepted must be a well-formed remote context
        assert sc.is_remote and sc.trace_id != 0 and sc.span_id != 0
    with tracer.start_as_current_span("after-hostile-input", context=ctx):
        inject_context_into_headers({})


def test_an_unsampled_caller_is_respected_even_at_full_sample_rate() -> None:
    from berrys_monitoring.tracing import configure_tracing

    configure_tracing("svc", exporter="none", sample_rate=1.0)
    ctx = extract_context_from_headers({"traceparent": f"00-{TRACE_ID}-{SPAN_ID}-00"})
    with capture_spans() as spans:
        with tracer.start_as_current_span("downstream", context=ctx) as span:
            assert not span.is_recording()
            # ...but the ids still propagate, so the next hop keeps the same trace.
            out = inject_context_into_headers({})
    assert spans == []
    assert out["traceparent"].split("-")[1] == TRACE_ID
    assert out["traceparent"].endswith("-00")
