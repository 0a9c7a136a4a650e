"""instrument_http_clients(): outgoing requests/httpx calls get a CLIENT span and carry
traceparent, with no change to the calling code."""

from __future__ import annotations

import httpx
import requests
from opentelemetry.trace import SpanKind
from tests.tracing._http import recording_server

from berrys_monitoring.tracing import (
    capture_spans,
    instrument_http_clients,
    tracer,
    uninstrument_http_clients,
)


def _ids(traceparent: str) -> tuple[int, int]:
    _, trace_id, span_id, _ = traceparent.split("-")
    return int(trace_id, 16), int(span_id, 16)


def test_requests_calls_get_a_client_span_and_inject_traceparent() -> None:
    with recording_server() as server, capture_spans() as spans:
        instrument_http_clients()
        with tracer.start_as_current_span("handler"):
            assert requests.get(server.url + "/users/1", timeout=5).status_code == 200
    [client] = [s for s in spans if s.kind is SpanKind.CLIENT]
    handler = spans.by_name("handler")
    assert client.parent is not None and client.parent.span_id == handler.context.span_id
    assert client.attributes is not None
    assert (
        client.attributes.get(
            "http.response.status_code", client.attributes.get("http.status_code")
        )
        == 200
    )
    sent = server.received[0]["traceparent"]
    assert _ids(sent) == (client.context.trace_id, client.context.span_id)


async def test_async_httpx_calls_are_traced_too() -> None:
    with recording_server() as server, capture_spans() as spans:
        instrument_http_clients()
        with tracer.start_as_current_span("handler"):
            async with httpx.AsyncClient() as client:
                assert (await client.get(server.url + "/a")).status_code == 200
    [client_span] = [s for s in spans if s.kind is SpanKind.CLIENT]
    sent = server.received[0]["traceparent"]
    assert _ids(sent) == (client_span.context.trace_id, client_span.context.span_id)


def test_instrumenting_twice_is_harmless_and_uninstrument_stops_injection() -> None:
    with recording_server() as server, capture_spans() as spans:
        assert instrument_http_clients() == ["requests", "httpx"]
        assert instrument_http_clients() == ["requests", "httpx"]
        httpx.get(server.url)
        uninstrument_http_clients()
        httpx.get(server.url)
    assert len([s for s in spans if s.kind is SpanKind.CLIENT]) == 1
    assert server.received[0]["traceparent"] is not None
    assert server.received[1]["traceparent"] is None


def test_choosing_one_library_leaves_the_other_alone() -> None:
    with recording_server() as server, capture_spans():
        assert instrument_http_clients(httpx=False) == ["requests"]
        httpx.get(server.url)
        requests.get(server.url, timeout=5)
    assert server.received[0]["traceparent"] is None
    assert server.received[1]["traceparent"] is not None
