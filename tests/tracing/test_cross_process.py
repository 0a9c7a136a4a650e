"""A trace started in this process continues, same trace id, in another process."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
from tests.support.servers import PYTHON, REPO, free_port, run_server
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring.tracing import (
    SpanKind,
    configure_tracing,
    force_flush,
    inject_context_into_headers,
    instrument_http_clients,
    tracer,
)


def test_trace_continues_in_a_subprocess_http_service(receiver: OTLPReceiver) -> None:
    port = free_port()
    cmd = [PYTHON, "-m", "tests.tracing._service", str(port), receiver.endpoint]
    with run_server(cmd, cwd=REPO, ready_url=f"http://127.0.0.1:{port}/ready"):
        configure_tracing("upstream", endpoint=receiver.endpoint)
        with tracer.start_as_current_span("checkout", kind=SpanKind.SERVER) as span:
            headers = inject_context_into_headers({})
            answer = httpx.get(f"http://127.0.0.1:{port}/work", headers=headers).json()
            ours = span.get_span_context()
        force_flush()
    assert answer["trace_id"] == f"{ours.trace_id:032x}"
    [downstream] = receiver.named("GET /work")
    [upstream] = receiver.named("checkout")
    assert downstream.trace_id == upstream.trace_id
    assert downstream.parent_span_id == upstream.span_id
    assert downstream.resource["service.name"] == "downstream"
    assert upstream.resource["service.name"] == "upstream"
    assert downstream.resource["process.pid"] != upstream.resource.get("process.pid", -1)


def test_instrumented_client_carries_the_trace_without_user_code(receiver: OTLPReceiver) -> None:
    port = free_port()
    cmd = [PYTHON, "-m", "tests.tracing._service", str(port), receiver.endpoint]
    with run_server(cmd, cwd=REPO, ready_url=f"http://127.0.0.1:{port}/ready"):
        configure_tracing("upstream", endpoint=receiver.endpoint)
        assert instrument_http_clients() == ["requests", "httpx"]
        with tracer.start_as_current_span("checkout", kind=SpanKind.SERVER):
            httpx.get(f"http://127.0.0.1:{port}/work")  # no headers passed by hand
        force_flush()
    [upstream] = receiver.named("checkout")
    [client] = [s for s in receiver.spans if s.kind == 3]  # CLIENT
    [downstream] = receiver.named("GET /work")
    assert client.parent_span_id == upstream.span_id
    assert downstream.trace_id == upstream.trace_id
    assert downstream.parent_span_id == client.span_id


def test_headers_handed_to_another_interpreter_continue_the_trace() -> None:
    # No HTTP at all: a message-queue style hand-off through a plain dict of headers.
    from berrys_monitoring.tracing import capture_spans

    with capture_spans(), tracer.start_as_current_span("producer") as span:
        headers = inject_context_into_headers({})
        ours = span.get_span_context()
    code = textwrap.dedent(
        f"""
        from berrys_monitoring.tracing import capture_spans, extract_context_from_headers, tracer
        with capture_spans() as spans:
            with tracer.start_as_current_span("consumer",
                    context=extract_context_from_headers({headers!r})):
                pass
        s = spans[0]
        print(f"{{s.context.trace_id:032x}} {{s.parent.span_id:016x}}")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == [f"{ours.trace_id:032x}", f"{ours.span_id:016x}"]
