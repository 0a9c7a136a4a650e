"""The guide's two tracing examples, verbatim (import prefix changed), and their effect."""

from __future__ import annotations

import types

from opentelemetry.trace import SpanKind, StatusCode, get_current_span
from tests.tracing._http import recording_server
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring.tracing import capture_spans, configure_tracing, tracer

SEED_BASIC = """
from berrys_monitoring.tracing import trace, tracer, SpanKind

# Trace a function
@trace("process_request")
def process_request(request_data):
    # Function implementation
    pass

# Manually create and manage spans
with tracer.start_as_current_span("operation_name", kind=SpanKind.SERVER) as span:
    span.set_attribute("key", "value")
    # Operation implementation
"""

# The seed calls "https://other-service/endpoint", which cannot exist here: the test
# points that URL at a real local HTTP server (substituted below), and supplies the
# `requests` module and the called service's `request` object the seed never imports.
SEED_CROSS_SERVICE = """
from berrys_monitoring.tracing import inject_context_into_headers, extract_context_from_headers

# In the calling service
headers = {}
inject_context_into_headers(headers)
response = requests.get("https://other-service/endpoint", headers=headers)

# In the called service
trace_context = extract_context_from_headers(request.headers)
"""


def test_seed_basic_usage_records_the_decorated_call_and_the_manual_server_span(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing("seed-service", endpoint=receiver.endpoint)
    ns: dict[str, object] = {}
    exec(SEED_BASIC, ns)
    process_request = ns["process_request"]
    assert process_request({"id": 1}) is None  # type: ignore[operator]
    from berrys_monitoring.tracing import shutdown_tracing

    shutdown_tracing()
    [manual] = receiver.named("operation_name")
    assert manual.kind == 2  # SERVER
    assert manual.attributes == {"key": "value"}
    [decorated] = receiver.named("process_request")
    assert decorated.status_code == 0  # unset: no error
    assert manual.resource["service.name"] == "seed-service"


def test_seed_cross_service_example_continues_the_trace_in_the_called_service() -> None:
    import requests

    with recording_server() as other_service, capture_spans() as spans:
        code = SEED_CROSS_SERVICE.replace("https://other-service", other_service.url)
        ns: dict[str, object] = {"requests": requests}
        # The calling service makes the call from inside its own request's span.
        with tracer.start_as_current_span("caller", kind=SpanKind.SERVER) as caller:
            exec(code.split("# In the called service")[0], ns)
            caller_ctx = caller.get_span_context()
        response = ns["response"]
        assert response.status_code == 200  # type: ignore[attr-defined]
        # The called service: `request.headers` are the headers its HTTP server received.
        [received] = other_service.received
        ns["request"] = types.SimpleNamespace(headers=received)
        exec(code.split("# In the called service")[1], ns)
        trace_context = ns["trace_context"]
        with tracer.start_as_current_span(
            "GET /endpoint", context=trace_context, kind=SpanKind.SERVER
        ):
            remote = get_current_span().get_span_context()
    assert remote.trace_id == caller_ctx.trace_id
    handled = spans.by_name("GET /endpoint")
    assert handled.parent is not None and handled.parent.span_id == caller_ctx.span_id
    assert handled.status.status_code is StatusCode.UNSET
