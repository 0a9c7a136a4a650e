"""What a JSON line holds, for our loggers and for third-party (stdlib) loggers."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from tests.logging.conftest import Lines

from berrys_monitoring.logging import (
    LogLevel,
    _config,
    bind_context,
    capture_logs,
    configure_logging,
    get_logger,
    get_request_logger,
)

RFC3339_MS_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_line_has_timestamp_level_logger_message_service_environment_version(
    lines: Lines,
) -> None:
    configure_logging(
        level=LogLevel.INFO,
        stream=lines,
        service_name="api",
        environment="staging",
        version="1.4.2",
        adopt_servers=False,
    )
    before = dt.datetime.now(dt.timezone.utc)
    get_logger("orders").info("order %s placed", "A-1")
    after = dt.datetime.now(dt.timezone.utc)
    (rec,) = lines.records()
    assert list(rec)[:7] == [
        "timestamp",
        "level",
        "logger",
        "message",
        "service",
        "environment",
        "version",
    ]
    assert rec["level"] == "info" and rec["logger"] == "orders"
    assert rec["message"] == "order A-1 placed"
    assert (rec["service"], rec["environment"], rec["version"]) == ("api", "staging", "1.4.2")
    ts = str(rec["timestamp"])
    assert RFC3339_MS_UTC.match(ts)
    parsed = dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    assert before - dt.timedelta(milliseconds=1) <= parsed <= after


def test_environment_and_version_are_omitted_when_not_set(json_logging: Lines) -> None:
    get_logger("x").info("hi")
    (rec,) = json_logging.records()
    assert "environment" not in rec and "version" not in rec
    assert rec["service"] == "test-svc"


def test_extra_fields_keyword_fields_and_bound_fields_are_top_level(json_logging: Lines) -> None:
    log = get_logger("shop").bind(tenant="acme")
    log.info("paid", extra={"amount": 12.5, "items": [1, 2], "meta": {"k": "v"}}, currency="EUR")
    (rec,) = json_logging.records()
    assert rec["tenant"] == "acme"
    assert rec["amount"] == 12.5 and rec["items"] == [1, 2] and rec["meta"] == {"k": "v"}
    assert rec["currency"] == "EUR"


def test_context_bound_fields_and_extra_precedence(json_logging: Lines) -> None:
    bind_context(request_id="ctx", step="ctx")
    log = get_logger("p").bind(step="bound", user_id="bound")
    log.info("m", extra={"user_id": "extra"})
    (rec,) = json_logging.records()
    # the most specific wins: extra over the bound logger over the context
    assert (rec["request_id"], rec["step"], rec["user_id"]) == ("ctx", "bound", "extra")
    assert list(rec).count("user_id") == 1


def test_fields_cannot_forge_reserved_names(json_logging: Lines) -> None:
    bind_context(level="fake")
    get_logger("p").info("real", extra={"message": "forged", "service": "other"})
    (rec,) = json_logging.records()
    assert rec["message"] == "real" and rec["service"] == "test-svc" and rec["level"] == "info"
    assert rec["extra_message"] == "forged"
    assert rec["extra_service"] == "other"
    assert rec["extra_level"] == "fake"


def test_exception_is_structured_with_type_message_and_stack(json_logging: Lines) -> None:
    log = get_logger("errs")
    try:
        raise KeyError("missing-thing")
    except KeyError:
        log.error("lookup failed", exc_info=True)
    try:
        raise ValueError("bad value")
    except ValueError as exc:
        log.exception("caught")
        log.warning("as object", exc_info=exc)
    recs = json_logging.records()
    assert [r["level"] for r in recs] == ["error", "error", "warning"]
    first = recs[0]["exception"]
    assert isinstance(first, dict)
    assert first["type"] == "KeyError" and first["message"] == "'missing-thing'"
    assert "Traceback (most recent call last)" in first["stack"]
    assert "test_exception_is_structured" in first["stack"]
    for r in recs[1:]:
        exc = r["exception"]
        assert isinstance(exc, dict)
        assert exc["type"] == "ValueError" and exc["message"] == "bad value"


def test_trace_and_span_ids_come_from_the_active_opentelemetry_span(json_logging: Lines) -> None:
    tracer = TracerProvider().get_tracer("test")
    log = get_logger("traced")
    log.info("outside")
    with tracer.start_as_current_span("work") as span:
        log.info("inside")
        logging.getLogger("thirdparty").warning("foreign inside")
        ctx = span.get_span_context()
    outside, inside, foreign = json_logging.records()
    assert "trace_id" not in outside and "span_id" not in outside
    assert inside["trace_id"] == format(ctx.trace_id, "032x")
    assert inside["span_id"] == format(ctx.span_id, "016x")
    assert re.fullmatch(r"[0-9a-f]{32}", str(inside["trace_id"]))
    assert re.fullmatch(r"[0-9a-f]{16}", str(inside["span_id"]))
    assert foreign["trace_id"] == inside["trace_id"]


def test_third_party_stdlib_records_share_the_format_with_extra_and_context(
    json_logging: Lines,
) -> None:
    bind_context(request_id="r-42")
    logging.getLogger("httpx").info("HTTP %s %s", "GET", "/x", extra={"status": 200})
    (rec,) = json_logging.records()
    assert rec["logger"] == "httpx" and rec["message"] == "HTTP GET /x"
    assert rec["status"] == 200 and rec["request_id"] == "r-42"
    assert rec["service"] == "test-svc"


def test_stdlib_mapping_argument_convention_still_formats(json_logging: Lines) -> None:
    get_logger("m").info("%(a)s-%(b)s", {"a": 1, "b": 2})
    assert json_logging.records()[0]["message"] == "1-2"


def test_a_bad_format_string_keeps_the_line(
    json_logging: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pytest's own capture handler re-raises formatting errors; only ours is under test
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if h in _config._installed])
    get_logger("m").info("needs %d", "not a number")
    (rec,) = json_logging.records()
    assert "needs %d" in str(rec["message"]) and "not a number" in str(rec["message"])


def test_values_json_cannot_encode_are_written_as_strings(json_logging: Lines) -> None:
    class Thing:
        def __str__(self) -> str:
            return "thing-1"

    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)
    get_logger("m").info("m", extra={"obj": Thing(), "when": when, "n": {1: "int key"}})
    (rec,) = json_logging.records()
    assert rec["obj"] == "thing-1"
    assert rec["when"] == "2026-01-02T03:04:05+00:00"
    assert rec["n"] == {"1": "int key"}


def test_levels_filter_and_per_logger_levels_apply(lines: Lines) -> None:
    configure_logging(
        level="warning",
        stream=lines,
        levels={"chatty": "error", "mine": "debug"},
        adopt_servers=False,
    )
    get_logger("app").info("dropped")
    get_logger("app").warning("kept")
    get_logger("chatty").warning("dropped")
    get_logger("chatty").error("kept")
    get_logger("mine").debug("kept")
    assert [r["logger"] for r in lines.records()] == ["app", "chatty", "mine"]


def test_stdlib_setlevel_after_configure_is_respected_immediately(json_logging: Lines) -> None:
    log = get_logger("lvl")
    log.debug("one")
    logging.getLogger("lvl").setLevel(logging.ERROR)
    log.debug("two")
    log.warning("three")
    logging.getLogger("lvl").setLevel(logging.NOTSET)
    log.debug("four")
    assert [r["message"] for r in json_logging.records()] == ["one", "four"]


def test_configuring_twice_does_not_duplicate_lines(lines: Lines) -> None:
    configure_logging(stream=lines, adopt_servers=False)
    configure_logging(stream=lines, adopt_servers=False)
    configure_logging(stream=lines, service_name="again", adopt_servers=False)
    get_logger("d").info("once")
    recs = lines.records()
    assert len(recs) == 1 and recs[0]["service"] == "again"


def test_reconfigure_keeps_handlers_installed_by_others(lines: Lines) -> None:
    with capture_logs() as captured:
        configure_logging(stream=lines, adopt_servers=False)
        configure_logging(stream=lines, adopt_servers=False)
        get_logger("d").info("seen by both")
    assert [r["message"] for r in captured] == ["seen by both"]
    assert len(lines.records()) == 1


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"level": "verbose"}, "invalid log level"),
        ({"level": -1}, "invalid log level"),
        ({"levels": {"x": "nope"}}, "invalid log level"),
        ({"log_file": "/nonexistent-dir/x.log"}, "cannot open log file"),
        ({"max_bytes": -1}, "max_bytes"),
        ({"stream": object()}, "writable"),
        ({"redact_patterns": ["("]}, "invalid redact pattern"),
        ({"redact_keys": "password"}, "list of names"),
    ],
)
def test_configuration_errors_raise_at_configure_time(
    kwargs: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        configure_logging(**kwargs)  # type: ignore[arg-type]


def test_a_failed_reconfigure_leaves_the_previous_configuration_working(lines: Lines) -> None:
    configure_logging(stream=lines, adopt_servers=False)
    with pytest.raises(ValueError):
        configure_logging(stream=lines, log_file="/nonexistent-dir/x.log")
    get_logger("x").info("still here")
    assert lines.records()[0]["message"] == "still here"


def test_console_format_is_readable_and_uncoloured_off_a_terminal(lines: Lines) -> None:
    configure_logging(stream=lines, json_format=False, service_name="svc", adopt_servers=False)
    log = get_logger("human")
    log.warning("disk %s", "low", extra={"free_mb": 12, "path": "/var lib"})
    try:
        raise RuntimeError("kaput")
    except RuntimeError:
        log.exception("failed")
    out = lines.getvalue()
    first = out.splitlines()[0]
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} warning +human: disk low  ", first)
    assert "service=svc" in first and "free_mb=12" in first and 'path="/var lib"' in first
    assert "\x1b[" not in out
    assert "RuntimeError: kaput" in out and "Traceback" in out


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_console_format_is_coloured_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = _Tty()
    configure_logging(stream=tty, json_format=False, adopt_servers=False)
    get_logger("c").error("red")
    assert "\x1b[31m" in tty.getvalue()


def test_console_respects_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    tty = _Tty()
    configure_logging(stream=tty, json_format=False, adopt_servers=False)
    get_logger("c").error("plain")
    assert "\x1b[" not in tty.getvalue()


def test_default_console_stream_is_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(adopt_servers=False)
    get_logger("o").info("to stdout")
    assert json.loads(capsys.readouterr().out)["message"] == "to stdout"


def test_log_to_console_false_writes_nothing_to_the_console(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging(log_to_console=False, adopt_servers=False)
    get_logger("o").warning("nowhere")
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_include_caller_names_the_calling_function(lines: Lines) -> None:
    configure_logging(stream=lines, include_caller=True, adopt_servers=False)
    get_logger("c").info("where")
    caller = str(lines.records()[0]["caller"])
    assert caller.startswith("test_json_format:test_include_caller_names_the_calling_function:")


def test_warnings_are_captured_as_log_lines(json_logging: Lines) -> None:
    import warnings

    warnings.warn("old api", DeprecationWarning, stacklevel=1)
    (rec,) = json_logging.records()
    assert rec["logger"] == "py.warnings" and "old api" in str(rec["message"])


def test_request_logger_omits_missing_ids_and_adds_more_fields(json_logging: Lines) -> None:
    get_request_logger(request_id="r1", tenant="t1").info("x")
    (rec,) = json_logging.records()
    assert rec["request_id"] == "r1" and rec["tenant"] == "t1"
    assert "user_id" not in rec and "session_id" not in rec
    assert rec["logger"] == __name__


def test_logger_exposes_the_stdlib_logger() -> None:
    log = get_logger("expose")
    assert log.std is logging.getLogger("expose")
    assert log.name == "expose"
    assert get_logger("expose") is log
    assert log.getEffectiveLevel() == logging.getLogger("expose").getEffectiveLevel()


def test_capture_logs_returns_the_json_fields(json_logging: Lines) -> None:
    with capture_logs() as captured:
        get_logger("cap").info("hello", extra={"password": "hunter2", "n": 1})
    assert captured[0]["message"] == "hello"
    assert captured[0]["password"] == "[REDACTED]" and captured[0]["n"] == 1


def test_capture_logs_level_lowers_the_root_level_for_the_block() -> None:
    root = logging.getLogger()
    old = root.level
    with capture_logs(level="debug") as captured:
        get_logger("cap").debug("seen")
    assert [r["message"] for r in captured] == ["seen"]
    assert root.level == old


def test_non_ascii_text_round_trips(json_logging: Lines) -> None:
    get_logger("u").info("héllo — ✓ 日本", extra={"name": "Zoë"})
    rec = json_logging.records()[0]
    assert rec["message"] == "héllo — ✓ 日本" and rec["name"] == "Zoë"


def test_stdout_is_untouched_when_a_stream_is_given(
    lines: Lines, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(stream=lines, adopt_servers=False)
    get_logger("s").info("only in stream")
    assert capsys.readouterr().out == ""
    assert sys.stdout is not lines


def test_a_custom_record_factory_is_used_for_our_records(
    json_logging: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = logging.getLogRecordFactory()
    made: list[str] = []

    def factory(*args: object, **kwargs: object) -> logging.LogRecord:
        record = original(*args, **kwargs)
        made.append(record.getMessage())
        return record

    logging.setLogRecordFactory(factory)
    try:
        get_logger("factory").info("through the factory")
    finally:
        logging.setLogRecordFactory(original)
    assert made == ["through the factory"]
    assert json_logging.records()[0]["message"] == "through the factory"


def test_foreign_formatters_see_standard_attributes_and_extra_fields(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        logging.Formatter(
            "%(levelname)s %(name)s %(threadName)s %(process)d %(order_id)s %(message)s"
        )
    )
    lg = logging.getLogger("foreign.fmt")
    lg.addHandler(handler)
    try:
        get_logger("foreign.fmt").warning("hello %s", "you", extra={"order_id": 7})
    finally:
        lg.removeHandler(handler)
    import os
    import threading

    assert stream.getvalue() == (
        f"WARNING foreign.fmt {threading.current_thread().name} {os.getpid()} 7 hello you\n"
    )


def test_fast_json_path_writes_exactly_what_the_general_renderer_writes(
    json_logging: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    from berrys_monitoring.logging._jsonline import dumps, render_json
    from berrys_monitoring.logging._render import render

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [Keep()])
    tracer = TracerProvider().get_tracer("t")
    log = get_logger("same").bind(tenant="acme", token="t-1")
    bind_context(request_id="r-1", password="p")
    log.info("constant", extra={"n": 1, "s": "Bearer abc", "d": {"secret": 1}})
    log.info("with %s", "args", extra={"message": "forged"})
    log.warning("no extra")
    with tracer.start_as_current_span("s"):
        log.error("in span", x=[1, "a"])
    logging.getLogger("foreign").info("foreign %d", 3, extra={"api_key": "k"})
    assert len(records) == 5
    for rec in records:
        assert render_json(rec) == dumps(render(rec))


def test_reconfigure_resets_per_logger_levels_it_set_before(lines: Lines) -> None:
    configure_logging(stream=lines, levels={"noisy": "error"}, adopt_servers=False)
    configure_logging(stream=lines, adopt_servers=False)
    get_logger("noisy").info("visible again")
    assert [r["message"] for r in lines.records()] == ["visible again"]


def test_adopting_server_loggers_keeps_a_silenced_access_log_silenced() -> None:
    from berrys_monitoring.logging import adopt_server_loggers

    access = logging.getLogger("uvicorn.access")
    try:
        adopt_server_loggers(access_log=False)
        configure_logging(adopt_servers=True)  # e.g. reconfigured after the middleware
        # No handler anywhere on its way: uvicorn does not even format its access line.
        assert not access.hasHandlers() and not access.propagate
        adopt_server_loggers(access_log=True)
        assert access.propagate and access.hasHandlers() and not access.filters
        configure_logging(adopt_servers=True)
        assert access.propagate  # turned back on, it stays on
    finally:
        adopt_server_loggers(access_log=True)


def test_records_written_after_fork_carry_the_child_pid(tmp_path: Path) -> None:
    import os

    out = tmp_path / "pids.txt"
    handler = logging.FileHandler(out)
    handler.setFormatter(logging.Formatter("%(process)d"))
    lg = logging.getLogger("forked")
    lg.addHandler(handler)
    try:
        get_logger("forked").warning("parent")
        pid = os.fork()
        if pid == 0:  # the child: log once and leave without running pytest's teardown
            try:
                get_logger("forked").warning("child")
                handler.flush()
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
    finally:
        lg.removeHandler(handler)
        handler.close()
    assert out.read_text().split() == [str(os.getpid()), str(pid)]


def test_is_configured_reports_whether_configure_logging_ran(lines: Lines) -> None:
    from berrys_monitoring.logging import is_configured

    assert not is_configured()  # pytest's own capture handler on the root does not count
    configure_logging(log_to_console=False, adopt_servers=False)
    assert is_configured()
    configure_logging(stream=lines, adopt_servers=False)
    assert is_configured()


def test_loggers_survive_pickle_and_copy_with_their_bound_fields(json_logging: Lines) -> None:
    import copy
    import pickle

    log = get_logger("pickled").bind(tenant="acme")
    for clone in (pickle.loads(pickle.dumps(log)), copy.copy(log), copy.deepcopy(log)):
        clone.info("again")
    recs = json_logging.records()
    assert [(r["logger"], r["tenant"]) for r in recs] == [("pickled", "acme")] * 3


def test_reconfiguring_while_other_threads_log_loses_no_line() -> None:
    import threading

    streams = [Lines(), Lines()]
    configure_logging(stream=streams[0], adopt_servers=False)
    done = threading.Event()
    total = 3000

    def writer() -> None:
        log = get_logger("busy")
        for i in range(total):
            log.info("tick", extra={"seq": i})
        done.set()

    t = threading.Thread(target=writer)
    t.start()
    flips = 0
    while not done.is_set():
        flips += 1
        configure_logging(stream=streams[flips % 2], adopt_servers=False)
    t.join()
    seen = {r["seq"] for s in streams for r in s.records() if r["logger"] == "busy"}
    assert seen == set(range(total))


def test_fast_path_records_have_every_standard_logrecord_attribute(
    json_logging: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [Keep()])
    get_logger("attrs").info("m", extra={"pathname": "not allowed", "custom": 1})
    (rec,) = records
    standard = set(vars(logging.LogRecord("n", 20, "", 0, "m", (), None)))
    assert standard <= set(vars(rec))
    assert rec.pathname == ""  # an extra field never replaces a standard attribute
    assert rec.custom == 1  # type: ignore[attr-defined]
    assert isinstance(rec.created, float) and rec.levelname == "INFO"


def test_objects_that_cannot_be_printed_never_break_the_line(
    json_logging: Lines, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Hostile:
        def __str__(self) -> str:
            raise RuntimeError("no str")

        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [h for h in root.handlers if h in _config._installed])
    log = get_logger("hostile")
    log.info("value %s", Hostile())
    log.info(Hostile())
    log.info("field", extra={"obj": Hostile()})
    first, second, third = json_logging.records()
    assert "unprintable" in str(first["message"])
    assert "unprintable" in str(second["message"])
    assert third["obj"] == "<unprintable Hostile>"
