"""Lines whose fields the caller produced itself, written straight to our handlers.

The middleware writes one access line per request. Through the generic path that costs a
``LogRecord``, the stdlib's handler dispatch, and a redaction pass over every field,
although most of them (status, duration, sizes, route templates, ids we generated) are
numbers or strings we made ourselves. :func:`write_access` renders the same JSON line in
one go: only the fields the caller marks untrusted (paths, client-supplied ids) and the
message are redacted, and the line is handed to each handler's ``defer_line`` (written
with its neighbours in one system call, see ``_deferred``).

It only does so when the result is exactly what the generic path would write: every
handler on the way to the root is one of ours with the JSON formatter and no filters, no
record factory is installed, no field name clashes with the context or needs masking.
Otherwise it returns False and the caller logs through the generic path, so levels,
``logging.disable``, ``capture_logs()``, foreign handlers and filters behave as usual.
"""

from __future__ import annotations

import logging
from time import time as _time
from typing import Any

import orjson

from berrys_monitoring._compat.logging import default_record_factory
from berrys_monitoring.logging import _render
from berrys_monitoring.logging._context import _context as _ctx_var
from berrys_monitoring.logging._formatters import JSONFormatter
from berrys_monitoring.logging._handlers import SafeFileHandler, SafeStreamHandler, _reporting
from berrys_monitoring.logging._jsonline import _fragment, _head, _heads, _msg_json
from berrys_monitoring.logging._render import (
    _PLAIN,
    _key_plan,
    current_trace,
    format_timestamp,
)

__all__ = ["write_access", "write_usual_access"]

_OURS = frozenset((SafeFileHandler, SafeStreamHandler))
_ctx_get = _ctx_var.get
_ctx_set = _ctx_var.set
_ctx_reset = _ctx_var.reset
_dumps = orjson.dumps
_new_fields = dict.__new__


def _targets(std: logging.Logger, level: int) -> list[Any] | None:
    """The handlers a record of ``level`` from ``std`` would reach, if all are ours."""
    targets: list[Any] = []
    c: logging.Logger | None = std
    while c is not None:
        for h in c.handlers:
            if type(h) not in _OURS or h.filters or type(h.formatter) is not JSONFormatter:
                return None
            if level >= h.level:
                targets.append(h)
        if not c.propagate:
            break
        c = c.parent
    # No handler at all: the stdlib's lastResort decides, on the generic path.
    return targets or None


# The access line's own field names, checked against the key plans once per logging
# configuration rather than on every line.
ACCESS_KEYS = (
    "method", "route", "path", "status", "duration_ms", "client_ip", "response_bytes",
    "request_id",
)  # fmt: skip
_access_checked = [-1, False]  # [settings generation, all plain]


def write_access(
    std: logging.Logger,
    level: int,
    message: str,
    fields: dict[str, Any],
    untrusted: tuple[str, ...],
    trace_fragment: str | None,
) -> bool:
    """The middleware's access line, exactly as the generic path would write it, with the
    checks that depend only on the (fixed) field names done once per configuration and
    the trace fragment (``,"trace_id":…,"span_id":…``) given by the caller, who formatted
    it once per request; None reads the active span's. ``fields`` keys must be among
    ``ACCESS_KEYS``.

    Example::

        >>> import logging
        >>> from berrys_monitoring.logging._fastline import write_access
        >>> written = write_access(logging.getLogger("x"), logging.INFO, "GET / 200",
        ...                        {"status": 200, "path": "/"}, ("path",), "")
        >>> isinstance(written, bool)
        True
    """
    s = _render._settings
    targets = _fast_targets(std, level, s)
    if targets is None:
        return False
    cfrag = _context_fragment(s, fields)
    if cfrag is None:
        return False
    line = _render_access(
        _time(), std.name, level, message, s, _trace_fragment(trace_fragment), cfrag, fields,
        untrusted,
    )  # fmt: skip
    _defer(targets, line)
    return True


def _context_fragment(s: Any, keys: Any) -> str | None:
    """The logging context's JSON fragment, or None when a context field shares a name
    with one of the line's own ``keys`` (the generic path decides then)."""
    ctx = _ctx_get()
    if not ctx:
        return ""
    # The usual context is just the request id we bound (never among the line's keys).
    usual = len(ctx) == 1 and "request_id" in ctx and "request_id" not in keys
    if not usual and not ctx.keys().isdisjoint(keys):
        return None
    cached = ctx._fragment
    return cached[1] if cached is not None and cached[0] == s.generation else _fragment(ctx, s)


def _trace_fragment(given: str | None) -> str:
    """``given`` (the caller's span ids, formatted once per request), else the active
    span's."""
    if given is not None:
        return given
    trace = current_trace()
    return "" if not trace else f',"trace_id":"{trace[0]}","span_id":"{trace[1]}"'


def _defer(targets: list[Any], line: str) -> None:
    """Hand a rendered line to the handlers. Rendered now (a str is never tracked by the
    garbage collector), written a moment later with its neighbours (``_deferred``): a
    system call per request was the largest cost of an access line."""
    for h in targets:
        with h.lock:
            h.defer_line(line)


def _fast_targets(std: logging.Logger, level: int, s: Any) -> list[Any] | None:
    """The handlers an access line goes to directly, or None when it must take the
    generic path (filters, caller info, a record factory, foreign handlers, field names
    the configuration masks)."""
    if std.filters or s.include_caller or _reporting or not default_record_factory():
        return None
    checked = _access_checked
    if checked[0] != s.generation:
        plans = s.key_plans
        ok = True
        for k in ACCESS_KEYS:
            plan = plans.get(k)
            if plan is None:
                plan = _key_plan(k, s.redactor, plans)
            ok = ok and plan == _PLAIN
        checked[0], checked[1] = s.generation, ok
    if not checked[1]:
        return None
    return _targets(std, level)


def write_usual_access(
    std: logging.Logger,
    method: str,
    route: str,
    path: str,
    status: int,
    duration_ms: float,
    client_ip: str | None,
    response_bytes: int,
    untrusted: tuple[str, ...],
    trace_fragment: str | None,
) -> bool:
    """:func:`write_access` of an INFO line with the middleware's usual seven fields, in
    its order, the request id bound in the context: the same line, without building the
    fields dict or the message unless the line's constant parts are not rendered yet.

    Example::

        >>> import logging
        >>> from berrys_monitoring.logging._fastline import write_usual_access
        >>> write_usual_access(logging.getLogger("x"), "GET", "/", "/", 200, 1.5, None, 2,
        ...                    ("path",), "") in (True, False)
        True
    """
    s = _render._settings
    targets = _fast_targets(std, _INFO, s)
    if targets is None:
        return False
    ctx = _ctx_get()
    cached = ctx._fragment
    # The usual context is just the request id the middleware bound, rendered then.
    cfrag: str | None
    if cached is not None and cached[0] == s.generation and len(ctx) == 1 and "request_id" in ctx:
        cfrag = cached[1]
    else:
        cfrag = _context_fragment(s, _USUAL_KEYS)
        if cfrag is None:
            return False
    # Kept on the settings object: a configuration change replaces it with the rules.
    memo = s.access_parts
    key = (std.name, method, route, path, status, client_ip, untrusted)
    parts = memo.get(key)
    if parts is None:
        fields = {
            "method": method, "route": route, "path": path, "status": status,
            "duration_ms": duration_ms, "client_ip": client_ip, "response_bytes": response_bytes,
        }  # fmt: skip
        message = f"{method} {path} {status}"
        parts = _line_parts(std.name, _INFO, message, s, fields, untrusted)
        if len(memo) >= _LINE_MEMO_MAX:
            memo.clear()
        memo[key] = parts
    now = _time()
    last = _render._ms_cache  # busy services write many lines per millisecond
    stamp = last[1] if last[0] == int(now * 1000) else format_timestamp(now)
    tfrag = trace_fragment if trace_fragment is not None else _trace_fragment(None)
    line = (
        f'{{"timestamp":"{stamp}"{parts[0]}{tfrag}{cfrag},'
        f"{parts[1]}{duration_ms!r}{parts[2]}{response_bytes}}}"
    )
    for h in targets:
        with h.lock:
            h.defer_line(line)
    return True


_INFO = logging.INFO


def _render_access(
    when: float,
    name: str,
    level: int,
    message: str,
    s: Any,
    tfrag: str,
    cfrag: str,
    fields: dict[str, Any],
    untrusted: tuple[str, ...],
) -> str:
    """The JSON line of :func:`write_access`."""
    _redact_untrusted(fields, untrusted, s.redactor)
    mjson = s.msg_memo.get(message) or _msg_json(message, s)
    head = _heads.get((name, level)) or _head(name, level)
    return (
        f'{{"timestamp":"{format_timestamp(when)}"{head}{mjson}'
        f"{s.static_fragment}{tfrag}{cfrag},{_dumps(fields).decode()[1:]}"
    )


def _redact_untrusted(fields: dict[str, Any], untrusted: tuple[str, ...], red: Any) -> None:
    """Redact, in place, the string fields that came from the client."""
    if red.enabled:
        memo = red._text_memo
        for k in untrusted:
            v = fields.get(k)
            if type(v) is str:
                fields[k] = memo.get(v) or red.text(v)


_USUAL_KEYS = ACCESS_KEYS[:7]  # the middleware's fields, in its order, no request_id
_LINE_MEMO_MAX = 4096


def _line_parts(
    name: str,
    level: int,
    message: str,
    s: Any,
    fields: dict[str, Any],
    untrusted: tuple[str, ...],
) -> tuple[str, str, str]:
    """The constant pieces of an access line: head + message + static fields, the fields
    before ``duration_ms``'s value, and those between it and ``response_bytes``'s value."""
    head = dict(fields)
    _redact_untrusted(head, untrusted, s.redactor)
    mjson = s.msg_memo.get(message) or _msg_json(message, s)
    first = _heads.get((name, level)) or _head(name, level)
    before = {k: head[k] for k in ("method", "route", "path", "status")}
    return (
        f"{first}{mjson}{s.static_fragment}",
        _dumps(before).decode()[1:-1] + ',"duration_ms":',
        f',"client_ip":{_dumps(head["client_ip"]).decode()},"response_bytes":',
    )
