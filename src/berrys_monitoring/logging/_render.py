"""From a ``LogRecord`` to the fields of one line (shared by the JSON and console formats)."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from berrys_monitoring._compat.opentelemetry import current_span
from berrys_monitoring.logging._context import Fields, current_fields
from berrys_monitoring.logging._levels import level_name
from berrys_monitoring.logging._redact import MASK, Redactor

__all__ = ["RESERVED", "Settings", "current_trace", "render", "settings"]

# Top-level names a context or extra field may not overwrite; such a field is written
# as ``extra_<name>`` instead, so a caller can never forge the level or the service.
RESERVED = frozenset(
    {"timestamp", "level", "logger", "message", "service", "environment", "version"}
    | {"trace_id", "span_id", "exception", "caller", "stack"}
)

# Attributes every LogRecord has; anything else on a foreign record came from ``extra=``.
_RECORD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",  # uvicorn's terminal twin of the message, with ANSI escapes
}


@dataclass
class Settings:
    """The active configuration the formatters read (replaced whole on reconfigure)."""

    static: dict[str, Any] = field(default_factory=dict)
    redactor: Redactor = field(default_factory=Redactor)
    include_caller: bool = False
    generation: int = 0
    static_fragment: str = ""
    # Caches that depend on the redaction rules live here, so replacing the settings
    # replaces them atomically: no line mixes old rules with new ones.
    msg_memo: dict[str, str] = field(default_factory=dict)
    key_plans: dict[str, int | str] = field(default_factory=dict)
    # The access line's constant parts, per (logger, method, route, path, status, client,
    # untrusted field names), and bind_field's decision per key (see ``_fastline``).
    access_parts: dict[tuple[Any, ...], tuple[str, str, str]] = field(default_factory=dict)
    bind_modes: dict[str, int] = field(default_factory=dict)
    # bind_field's fragment prefix of a trusted value, per key: (outer context, generation,
    # the outer context's fragment + ',"key":"').
    bind_prefixes: dict[str, tuple[Any, int, str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        body = orjson.dumps(self.static).decode()[1:-1]
        self.static_fragment = "," + body if body else ""


_settings = Settings()


def settings() -> Settings:
    return _settings


def install(new: Settings) -> None:
    global _settings
    new.generation = _settings.generation + 1
    _settings = new


# -- timestamps -------------------------------------------------------------------------

_ts_cache: tuple[int, str] = (-1, "")
_ms_cache: tuple[int, str] = (-1, "")


def format_timestamp(created: float) -> str:
    """RFC 3339 UTC with milliseconds: ``2026-11-24T02:19:17.123Z``."""
    global _ts_cache, _ms_cache
    msk = int(created * 1000)
    last = _ms_cache
    if last[0] == msk:
        return last[1]  # busy services write many lines per millisecond
    sec = msk // 1000
    cached = _ts_cache
    if cached[0] != sec:
        # strftime is the slow part; it runs once per second, not once per line.
        cached = (sec, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)))
        _ts_cache = cached
    out = f"{cached[1]}.{msk - sec * 1000:03d}Z"
    _ms_cache = (msk, out)
    return out


# -- trace correlation --------------------------------------------------------------------


def current_trace() -> tuple[str, str, bool] | None:
    """``(trace_id, span_id, sampled)`` of the active span (ids in lowercase hex), or None."""
    # Outside a request (the common case) this is one dict lookup in an empty context.
    span: Any = current_span()
    if span is None:
        return None
    sc = span.get_span_context()
    if not sc.is_valid:
        return None
    return format(sc.trace_id, "032x"), format(sc.span_id, "016x"), sc.trace_flags.sampled


# -- the line -----------------------------------------------------------------------------


def _rendered(fields: Fields, s: Settings) -> dict[str, Any]:
    cached = fields._rendered
    if cached is not None and cached[0] == s.generation:
        return cached[1]
    out = {(f"extra_{k}" if k in RESERVED else k): v for k, v in fields.items()}
    out = s.redactor.fields(out)
    fields._rendered = (s.generation, out)
    return out


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:
        # A bad format string in a caller's log call must not lose the line.
        try:
            return f"{record.msg!s} (unformattable arguments: {record.args!r})"
        except Exception:
            return f"<unprintable log message of type {type(record.msg).__name__}>"


def exception_fields(record: logging.LogRecord, s: Settings) -> dict[str, Any] | None:
    ei = record.exc_info
    if not ei or ei[1] is None:
        return None
    exc = ei[1]
    try:
        msg = str(exc)
    except Exception:
        msg = f"<unprintable {type(exc).__name__}>"
    stack = record.exc_text or "".join(traceback.format_exception(ei[0], exc, ei[2]))
    red = s.redactor
    return {"type": type(exc).__qualname__, "message": red.text(msg), "stack": red.text(stack)}


# What to do with a field name: _PLAIN, _SECRET, or the name to write instead (for a
# reserved name). Memoised per configuration in Settings.key_plans.
_PLAIN, _SECRET = 0, 1


def _key_plan(k: str, red: Redactor, plans: dict[str, int | str]) -> int | str:
    name = f"extra_{k}" if k in RESERVED else k
    plan: int | str = _SECRET if red.enabled and red.is_secret_key(name) else _PLAIN
    if plan == _PLAIN and name != k:
        plan = name
    if len(plans) > 4096:
        plans.clear()
    plans[k] = plan
    return plan


def _extra_fields(extra: Mapping[str, Any], s: Settings) -> dict[str, Any]:
    out: dict[str, Any] = {}
    red = s.redactor
    plans = s.key_plans
    text_memo = red._text_memo
    for k, v in extra.items():
        if type(k) is not str:
            k = str(k)
        plan = plans.get(k)
        if plan is None:
            plan = _key_plan(k, red, plans)
        if plan == _SECRET:
            out[k] = MASK
            continue
        if plan != _PLAIN:
            k = plan  # type: ignore[assignment]
        t = type(v)
        if t is str:
            # Inline memo hit: constant strings are the common case.
            out[k] = text_memo.get(v) or red.text(v)
        elif t is int or t is float or t is bool or v is None:
            out[k] = v
        else:
            out[k] = red.value(v)
    return out


def render(record: logging.LogRecord) -> dict[str, Any]:
    """The fields of one line, redacted, in their output order."""
    s = _settings
    red = s.redactor
    d = record.__dict__
    event: dict[str, Any] = {
        "timestamp": format_timestamp(record.created),
        "level": level_name(record.levelno),
        "logger": record.name,
        "message": red.text(_message(record)),
    }
    if s.static:
        event.update(s.static)
    trace = d["_berrys_trace"] if "_berrys_trace" in d else current_trace()
    if trace is not None:
        event["trace_id"], event["span_id"] = trace[0], trace[1]
    ctx = d["_berrys_ctx"] if "_berrys_ctx" in d else current_fields()
    if ctx:
        event.update(_rendered(ctx, s))
    bound = d.get("_berrys_bound")
    if bound:
        event.update(_rendered(bound, s))
    extra = d.get("_berrys_extra")
    if extra is None:
        extra = {k: v for k, v in d.items() if k not in _RECORD_ATTRS and k[:8] != "_berrys_"}
    if extra:
        event.update(_extra_fields(extra, s))
    if s.include_caller:
        event["caller"] = f"{record.module}:{record.funcName}:{record.lineno}"
    if record.exc_info:
        exc = exception_fields(record, s)
        if exc is not None:
            event["exception"] = exc
    if record.stack_info:
        event["stack"] = red.text(record.stack_info)
    return event
