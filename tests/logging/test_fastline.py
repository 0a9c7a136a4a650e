"""write_access and write_usual_access: the access-line fast paths write exactly the generic
line, or nothing.

Its lines are deferred (written with their neighbours): every read flushes first."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from tests.logging.conftest import Lines
from tests.logging.test_redaction import FILLER, _fragments, secrets_in_text
from tests.support.logging_state import only_our_handlers

from berrys_monitoring.logging import (
    _config,
    bind_context,
    capture_logs,
    clear_context,
    configure_logging,
    get_context,
    get_logger,
    reset_context,
)
from berrys_monitoring.logging._bindfield import bind_field, reset_field
from berrys_monitoring.logging._fastline import ACCESS_KEYS, write_access, write_usual_access
from berrys_monitoring.tracing import configure_tracing, shutdown_tracing, tracer

INFO = logging.INFO
STD = logging.getLogger("berrys_monitoring.access")


_alone = only_our_handlers


@pytest.fixture
def only_ours(lines: Lines) -> Iterator[Lines]:
    """Our JSON configuration on an in-memory stream (tests add ``with _alone():``)."""
    configure_logging(level="info", stream=lines, service_name="svc", adopt_servers=False)
    yield lines


def _flush() -> None:
    for h in logging.getLogger().handlers:
        h.flush()


def _fields() -> dict[str, object]:
    return {
        "method": "GET",
        "route": "/users/{user_id}",
        "path": "/users/42",
        "status": 200,
        "duration_ms": 1.25,
        "client_ip": "127.0.0.1",
        "response_bytes": 35,
    }


def _fast_and_generic() -> None:
    try:
        bind_context(request_id="r-1", tenant="acme")
        with tracer.start_as_current_span("GET /users/{user_id}"):
            assert write_access(STD, INFO, "GET /users/42 200", _fields(), ("path",), None)
            get_logger(STD.name).info("GET /users/42 200", extra=_fields())
        _flush()
    finally:
        clear_context()
        shutdown_tracing(timeout=1.0)


def test_the_fast_line_is_the_generic_line(only_ours: Lines) -> None:
    configure_tracing("svc", exporter="none")
    with _alone():
        _fast_and_generic()
    fast, generic = only_ours.records()

    assert fast.pop("timestamp") and generic.pop("timestamp")
    assert fast == generic
    assert fast["trace_id"] and fast["request_id"] == "r-1" and fast["service"] == "svc"
    # Same key order too: the lines are byte-for-byte alike apart from the timestamp.
    assert list(fast) == list(generic)
    assert set(_fields()) <= set(ACCESS_KEYS)


def test_the_callers_trace_fragment_is_written_as_given(only_ours: Lines) -> None:
    configure_tracing("svc", exporter="none")
    given = ',"trace_id":"0af7651916cd43dd8448eb211c80319c","span_id":"b7ad6b7169203331"'
    try:
        with _alone(), tracer.start_as_current_span("outer") as span:
            assert write_access(STD, INFO, "GET / 200", _fields(), (), given)
            assert write_access(STD, INFO, "GET / 200", _fields(), (), "")
            assert write_access(STD, INFO, "GET / 200", _fields(), (), None)
            active = f"{span.get_span_context().trace_id:032x}"
            _flush()
    finally:
        shutdown_tracing(timeout=1.0)
    given_rec, empty_rec, active_rec = only_ours.records()
    assert given_rec["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert "trace_id" not in empty_rec and "span_id" not in empty_rec
    assert active_rec["trace_id"] == active


def test_a_request_id_among_the_fields_is_written_like_the_generic_path(
    only_ours: Lines,
) -> None:
    # The middleware adds it when the line is written outside the request's context.
    with _alone():
        fields = {**_fields(), "request_id": "abc-123"}
        assert write_access(STD, INFO, "GET / 200", dict(fields), ("request_id",), "")
        get_logger(STD.name).info("GET / 200", extra=dict(fields))
        _flush()
    fast, generic = only_ours.records()
    assert fast.pop("timestamp") and generic.pop("timestamp")
    assert fast == generic and fast["request_id"] == "abc-123"


@pytest.mark.parametrize(
    "setup",
    [
        "capture_logs",
        "logger_filter",
        "foreign_handler",
        "context_clash",
        "masked_key",
    ],
)
def test_anything_the_fast_path_cannot_honour_sends_the_line_down_the_generic_path(
    only_ours: Lines, setup: str
) -> None:
    root = logging.getLogger()
    fields = _fields()
    if setup == "masked_key":
        configure_logging(
            level="info", stream=only_ours, redact_keys=["client_ip"], adopt_servers=False
        )
    with _alone(), capture_logs() if setup == "capture_logs" else _nothing() as captured:
        foreign = logging.StreamHandler(Lines())
        drop_none = logging.Filter()
        if setup == "foreign_handler":
            root.addHandler(foreign)
        if setup == "logger_filter":
            STD.addFilter(drop_none)
        if setup == "context_clash":
            bind_context(status="bound")
        try:
            assert write_access(STD, INFO, "GET / 200", fields, ("path",), "") is False
            _flush()
        finally:
            root.removeHandler(foreign)
            STD.removeFilter(drop_none)
            clear_context()
    assert only_ours.getvalue() == ""  # the caller writes it, through the generic path
    if captured is not None:
        assert captured == []


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def test_handler_levels_are_honoured(only_ours: Lines) -> None:
    handler = _config._installed[0]
    handler.setLevel(logging.ERROR)
    try:
        with _alone():
            assert write_access(STD, INFO, "GET / 200", _fields(), (), "") is False
            assert write_access(STD, logging.ERROR, "GET / 500", _fields(), (), "") is True
            _flush()
    finally:
        handler.setLevel(logging.NOTSET)
    assert [r["message"] for r in only_ours.records()] == ["GET / 500"]


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(item=secrets_in_text(), before=FILLER, after=FILLER, field=st.sampled_from(["path", "msg"]))
# Found by this test once: the scheme word twice ("BEARER Bearer 0000") hid the second.
@example(item=("0000", "Bearer {}"), before="BEARER", after="", field="path")
def test_property_secrets_in_untrusted_fields_and_the_message_never_leak(
    item: tuple[str, str], before: str, after: str, field: str
) -> None:
    secret, template = item

    def emit(s: str) -> str:
        out = Lines()
        configure_logging(level="info", stream=out, service_name="prop", adopt_servers=False)
        with _alone():
            text = f"{before} {template.format(s)} {after}"
            fields = _fields()
            message = "GET /x 200"
            if field == "path":
                fields["path"] = text
            else:
                message = text
            assert write_access(STD, INFO, message, fields, ("path",), "")
            _flush()
        recs = out.records()
        for r in recs:
            r.pop("timestamp")
        return json.dumps(recs, ensure_ascii=False)

    out = emit(secret)
    baseline = emit("\x01" * len(secret))
    leaked = {f for f in _fragments(secret) if f in out and f not in baseline}
    assert not leaked, f"fragments {leaked} of the secret leaked into:\n{out}"


def _usual(fields: dict[str, object], untrusted: tuple[str, ...], tfrag: str | None) -> bool:
    """write_usual_access with the values of ``fields`` (the middleware's seven)."""
    return write_usual_access(
        STD, fields["method"], fields["route"], fields["path"], fields["status"],
        fields["duration_ms"], fields["client_ip"], fields["response_bytes"], untrusted, tfrag,
    )  # type: ignore[arg-type]  # fmt: skip


@pytest.mark.parametrize(
    "context",
    [{"request_id": "r-1"}, {"request_id": "r-1", "tenant": "acme"}, {}],
    ids=["request-id", "request-id-and-more", "empty"],
)
@pytest.mark.parametrize(
    ("path", "client"),
    [("/users/42", "127.0.0.1"), ('/ü/ß?x="y"', None), ("/t/token=abcdefghijklmnop1234", "::1")],
    ids=["plain", "non-ascii-and-quotes", "secret-in-path"],
)
def test_the_usual_line_is_the_generic_line(
    only_ours: Lines, context: dict[str, str], path: str, client: str | None
) -> None:
    configure_tracing("svc", exporter="none")
    fields = {**_fields(), "path": path, "client_ip": client}
    untrusted = ("path", "client_ip", "request_id")
    try:
        with _alone():
            if context:
                bind_context(**context)
            with tracer.start_as_current_span("GET /users/{user_id}"):
                for _ in range(2):  # the second line comes from the kept constant parts
                    assert _usual(dict(fields), untrusted, None)
                get_logger(STD.name).info(
                    f"GET {path} 200", extra={k: v for k, v in fields.items()}
                )
            _flush()
    finally:
        clear_context()
        shutdown_tracing(timeout=1.0)
    first, second, generic = only_ours.records()
    for rec in (first, second, generic):
        assert rec.pop("timestamp")
    assert first == second == generic
    assert list(first) == list(generic)  # the same key order: byte for byte alike
    assert "abcdefghijklmnop1234" not in json.dumps(first)


def test_a_configuration_change_renders_the_usual_line_anew(lines: Lines) -> None:
    fields = _fields()
    configure_logging(level="info", stream=lines, service_name="one", adopt_servers=False)
    with _alone():
        assert _usual(dict(fields), ("path",), "")
        configure_logging(level="info", stream=lines, service_name="two", adopt_servers=False)
        assert _usual(dict(fields), ("path",), "")
        _flush()
    assert [r["service"] for r in lines.records()] == ["one", "two"]


@pytest.mark.parametrize(
    "setup", ["capture_logs", "foreign_handler", "context_clash", "masked_key"]
)
def test_the_usual_line_falls_back_to_the_generic_path(only_ours: Lines, setup: str) -> None:
    root = logging.getLogger()
    if setup == "masked_key":
        configure_logging(
            level="info", stream=only_ours, redact_keys=["client_ip"], adopt_servers=False
        )
    with _alone(), capture_logs() if setup == "capture_logs" else _nothing() as captured:
        foreign = logging.StreamHandler(Lines())
        if setup == "foreign_handler":
            root.addHandler(foreign)
        if setup == "context_clash":
            bind_context(status="bound")
        try:
            assert _usual(_fields(), ("path",), "") is False
            _flush()
        finally:
            root.removeHandler(foreign)
            clear_context()
    assert only_ours.getvalue() == ""
    if captured is not None:
        assert captured == []


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(item=secrets_in_text(), before=FILLER, after=FILLER)
def test_property_secrets_in_the_path_of_a_usual_line_never_leak(
    item: tuple[str, str], before: str, after: str
) -> None:
    secret, template = item

    def emit(s: str) -> str:
        out = Lines()
        configure_logging(level="info", stream=out, service_name="prop", adopt_servers=False)
        with _alone():
            fields = {**_fields(), "path": f"{before} {template.format(s)} {after}"}
            assert _usual(fields, ("path",), "")
            _flush()
        recs = out.records()
        for r in recs:
            r.pop("timestamp")
        return json.dumps(recs, ensure_ascii=False)

    out = emit(secret)
    baseline = emit("\x01" * len(secret))
    leaked = {f for f in _fragments(secret) if f in out and f not in baseline}
    assert not leaked, f"fragments {leaked} of the secret leaked into:\n{out}"


def test_a_client_request_id_follows_a_redaction_switch_between_configurations(
    lines: Lines,
) -> None:
    # bind_field's per-key decision and the usual line's kept parts belong to one
    # configuration: switching redaction on must not reuse what was decided without it.
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
    rendered = []
    for redact in (False, True, False):
        configure_logging(
            level="info", stream=lines, service_name="sw", adopt_servers=False, redact=redact
        )
        token = bind_field("request_id", jwt, trusted=False)
        try:
            with _alone():
                assert _usual(_fields(), ("path", "request_id"), "")
                _flush()
        finally:
            reset_field(token)
        rendered.append(lines.records()[-1]["request_id"])
    assert rendered[0] == rendered[2] == jwt
    assert jwt not in rendered[1] and "eyJ" not in rendered[1]


def test_reset_context_refuses_a_token_of_another_context_variable() -> None:
    import contextvars

    other: contextvars.ContextVar[str] = contextvars.ContextVar("other")
    token = other.set("x")
    with pytest.raises(TypeError, match="logging context"):
        reset_context(token)  # type: ignore[arg-type]
    other.reset(token)
    assert get_context() == {}


def test_bind_field_of_a_trusted_id_renders_the_generic_fragment(lines: Lines) -> None:
    # The prefix remembered for a trusted id is only reused on top of the same outer
    # context and settings; each case must equal what the generic renderer makes.
    from berrys_monitoring.logging import _render
    from berrys_monitoring.logging._context import current_fields
    from berrys_monitoring.logging._jsonline import _fragment

    def check(value: str) -> None:
        token = bind_field("request_id", value, trusted=True)
        try:
            ctx = current_fields()
            got = ctx._fragment[1]
            ctx._fragment = None
            assert got == _fragment(ctx, _render._settings)
        finally:
            reset_field(token)

    configure_logging(level="info", stream=lines, service_name="one", adopt_servers=False)
    check("a" * 32)
    check("0123456789abcdef0123456789abcdef")
    outer = bind_context(user="u-1")
    try:
        check("b" * 32)  # another outer context: rendered anew
    finally:
        reset_context(outer)
    check("c" * 32)
    configure_logging(
        level="info", stream=lines, service_name="two", redact=False, adopt_servers=False
    )
    check("d" * 32)  # another configuration: rendered anew
