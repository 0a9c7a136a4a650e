"""Spans are redacted before export, with the logging redactor's rules: exception events and
status descriptions, attributes such as ``url.path``, for every exporter, end to end."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from functools import partial

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode
from prometheus_client import CollectorRegistry
from tests.logging.test_redaction import (
    FILLER,
    _token_text,
    _under_key,
    secrets_under_keys,
    well_known_tokens,
)
from tests.support.logging_state import unconfigure_logging
from tests.support.servers import uvicorn_in_thread
from tests.tracing._receiver import OTLPReceiver, ReceivedSpan

from berrys_monitoring.logging import configure_logging
from berrys_monitoring.middleware.fastapi import setup_monitoring
from berrys_monitoring.tracing import (
    capture_spans,
    configure_tracing,
    force_flush,
    trace,
    tracer,
)
from berrys_monitoring.tracing._redact import redact_span
from berrys_monitoring.tracing._server_span import server_spans

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
CARD = "4111111111111111"
PASSWORD = "hunter2-s3cr3t"


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    # The span redactor is the logging configuration's: start from the defaults.
    unconfigure_logging()
    yield
    unconfigure_logging()


def _everything(span: ReceivedSpan) -> str:
    return json.dumps(
        {
            "name": span.name,
            "attributes": span.attributes,
            "events": span.events,
            "status": span.status_message,
        }
    )


def test_an_exception_recorded_by_the_decorator_is_redacted_before_export(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing("svc", endpoint=receiver.endpoint)

    @trace("login")
    def login() -> None:
        raise ConnectionError(f"login failed for password={PASSWORD} card {CARD}")

    with pytest.raises(ConnectionError, match=PASSWORD):  # the exception itself is unchanged
        login()
    assert force_flush(timeout=10)
    [span] = receiver.named("login")
    assert PASSWORD not in _everything(span) and CARD not in _everything(span)
    assert span.status_message == (
        "ConnectionError: login failed for password=[REDACTED] card [REDACTED]"
    )
    [event] = span.events
    assert event["exception.message"] == "login failed for password=[REDACTED] card [REDACTED]"
    assert "password=[REDACTED]" in event["exception.stacktrace"]
    assert event["exception.type"] == "ConnectionError"


def test_secrets_in_url_attributes_of_a_span_are_redacted_before_export(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing("svc", endpoint=receiver.endpoint)
    with tracer.start_as_current_span("GET /reset", kind=SpanKind.CLIENT) as span:
        span.set_attribute("url.path", f"/reset/{JWT}")
        span.set_attribute("url.query", f"card={CARD}&page=2")
        span.set_attribute("http.target", f"/pay?access_token=tok-{PASSWORD}&n={CARD}")
        span.set_attribute("http.request.header.authorization", ("Basic dXNlcjpwYXNz",))
        span.set_attribute("tags", ["ok", f"password={PASSWORD}"])
        span.set_attribute("http.response.status_code", 200)
    assert force_flush(timeout=10)
    [got] = receiver.named("GET /reset")
    text = _everything(got)
    for secret in (JWT, CARD, PASSWORD, "dXNlcjpwYXNz"):
        assert secret not in text
    assert got.attributes == {
        "url.path": "/reset/[REDACTED]",
        "url.query": "card=[REDACTED]&page=2",
        "http.target": "/pay?access_token=[REDACTED]&n=[REDACTED]",
        "http.request.header.authorization": "[REDACTED]",
        "tags": ["ok", "password=[REDACTED]"],
        "http.response.status_code": 200,
    }


def _app() -> FastAPI:
    app = FastAPI()

    @app.get("/reset/{token}")
    async def reset(token: str) -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError(f"db connect failed: postgres://app:{PASSWORD}@db/main")

    setup_monitoring(
        app, service_name="svc", registry=CollectorRegistry(), configure_defaults=False
    )
    return app


def test_the_server_span_of_a_real_request_is_redacted_before_export(
    receiver: OTLPReceiver,
) -> None:
    configure_tracing("svc", endpoint=receiver.endpoint)
    assert server_spans("berrys_monitoring.middleware") is not None  # the lean span
    with uvicorn_in_thread(_app(), log_config=None) as port:
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/reset/{JWT}?card={CARD}") as resp:
            assert resp.status == 200
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(f"{base}/boom")
        assert err.value.code == 500
    assert force_flush(timeout=10)
    [ok] = receiver.named("GET /reset/{token}")
    [failed] = receiver.named("GET /boom")
    for span in (ok, failed):
        assert span.kind == 2  # SERVER
        for secret in (JWT, CARD, PASSWORD):
            assert secret not in _everything(span)
    assert ok.attributes["url.path"] == "/reset/[REDACTED]"
    assert "postgres://app:[REDACTED]@db/main" in failed.status_message
    [event] = failed.events
    assert event["exception.message"] == "db connect failed: postgres://app:[REDACTED]@db/main"


def test_every_exporter_and_capture_spans_see_redacted_spans() -> None:
    exporter = InMemorySpanExporter()
    configure_tracing("svc", exporter=exporter)
    with capture_spans() as captured:
        with tracer.start_as_current_span("op") as span:
            span.set_attribute("db.statement", f"ALTER USER app PASSWORD '{PASSWORD}'")
            span.set_attribute("api_key", PASSWORD)
    assert force_flush(timeout=5)
    [exported] = exporter.get_finished_spans()
    [seen] = captured
    for got in (exported, seen):
        assert got.attributes is not None
        assert got.attributes["api_key"] == "[REDACTED]"
        assert PASSWORD not in str(dict(got.attributes))


def test_the_logging_configurations_rules_apply_to_spans() -> None:
    exporter = InMemorySpanExporter()
    configure_tracing("svc", exporter=exporter)
    configure_logging(stream=open("/dev/null", "w"), redact_keys=["ssn"], adopt_servers=False)  # noqa: SIM115
    with tracer.start_as_current_span("kyc") as span:
        span.set_attribute("customer.ssn", "078-05-1120")
    configure_logging(stream=open("/dev/null", "w"), redact=False, adopt_servers=False)  # noqa: SIM115
    with tracer.start_as_current_span("debug") as span:
        span.set_attribute("note", f"password={PASSWORD}")
    assert force_flush(timeout=5)
    kyc, debug = exporter.get_finished_spans()
    assert kyc.attributes == {"customer.ssn": "[REDACTED]"}
    assert debug.attributes == {"note": f"password={PASSWORD}"}  # redact=False: as it is


def test_a_span_with_nothing_to_redact_is_exported_as_it_is() -> None:
    span = ReadableSpan(
        "GET /users/{id}",
        attributes={"url.path": "/users/42", "http.response.status_code": 200, "ok": True},
    )
    assert redact_span(span) is span
    secret = ReadableSpan("op", attributes={"url.path": f"/reset/{JWT}", "n": 1})
    redacted = redact_span(secret)
    assert redacted is not secret
    assert redacted.attributes == {"url.path": "/reset/[REDACTED]", "n": 1}
    assert redacted.context == secret.context and redacted.name == "op"


def _exported_text(text: str) -> str:
    span = ReadableSpan(
        "op",
        attributes={"url.query": text, "tags": ("a", text)},
        events=[Event("exception", {"exception.message": text})],
        status=Status(StatusCode.ERROR, text),
    )
    got = redact_span(span)
    assert got.attributes is not None and got.status.description is not None
    events = [dict(e.attributes or {}) for e in got.events]
    return json.dumps([dict(got.attributes), events]) + got.status.description


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    item=st.one_of(
        secrets_under_keys().map(lambda i: (i[2], partial(_under_key, i[0], i[1]))),
        well_known_tokens().map(lambda i: (i[1], partial(_token_text, i[0]))),
    ),
    before=FILLER,
    after=FILLER,
)
def test_property_secrets_in_span_text_never_reach_the_exported_span(
    item: tuple[str, Callable[[str], str]], before: str, after: str
) -> None:
    """The forms of the logging property tests, in an attribute, an exception event and the
    status description of a span: no 4-character piece of the secret is exported."""
    secret, build = item
    out = _exported_text(f"{before} {build(secret)} {after}")
    baseline = _exported_text(f"{before} {build(chr(1) * len(secret))} {after}")
    leaked = {
        f
        for f in (secret[i : i + 4] for i in range(len(secret) - 3))
        if f in out and f not in baseline and f not in "[REDACTED]"
    }
    assert not leaked, out
