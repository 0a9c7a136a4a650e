"""The JSON line: ``render()`` serialised, with a fast path for the common line.

Static fields and bound contexts are serialised once (per bind and per configuration)
into ``,"k":v`` fragments, constant messages are redacted and encoded once, so a line
costs one timestamp, one small ``orjson.dumps`` for the extra fields, and a join.
"""

from __future__ import annotations

import logging
from typing import Any

import orjson

from berrys_monitoring.logging import _render
from berrys_monitoring.logging._context import Fields
from berrys_monitoring.logging._levels import level_name
from berrys_monitoring.logging._render import (
    RESERVED,
    Settings,
    _extra_fields,
    _message,
    _rendered,
    format_timestamp,
    render,
)

__all__ = ["dumps", "render_json"]

_OPTS = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def _default(v: Any) -> Any:
    # orjson calls this for what it cannot encode; the value is redacted like a field.
    return _render._settings.redactor.value(v)


def dumps(event: dict[str, Any]) -> str:
    """One JSON object as a str (no newline)."""
    return orjson.dumps(event, default=_default, option=_OPTS).decode()


def _fragment(fields: Fields, s: Settings) -> str:
    """``,"k":v,…`` for a bound context, serialised once per bind and configuration."""
    cached = fields._fragment
    if cached is not None and cached[0] == s.generation:
        return cached[1]
    base, added = fields._base, fields._added
    if (
        base is not None
        and added is not None
        and base.keys().isdisjoint(added)
        and RESERVED.isdisjoint(added)
    ):
        # A bind on top of an outer context (a request id per request): the outer part
        # is cached on the outer object, only the new fields are redacted and encoded.
        # Same bytes as the whole: the new keys come after the outer ones either way.
        body = dumps(_rendered_plain(added, s))[1:-1] if added else ""
        frag = _fragment(base, s) + ("," + body if body else "")
    else:
        body = dumps(_rendered(fields, s))[1:-1]
        frag = "," + body if body else ""
    fields._fragment = (s.generation, frag)
    return frag


def _rendered_plain(added: dict[str, Any], s: Settings) -> dict[str, Any]:
    out = {(f"extra_{k}" if k in RESERVED else k): v for k, v in added.items()}
    return s.redactor.fields(out)


_heads: dict[tuple[str, int], str] = {}


def _head(name: str, levelno: int) -> str:
    key = (name, levelno)
    h = _heads.get(key)
    if h is None:
        h = f',"level":"{level_name(levelno)}","logger":{orjson.dumps(name).decode()},"message":'
        if len(_heads) > 10_000:
            _heads.clear()
        _heads[key] = h
    return h


def render_json(record: logging.LogRecord) -> str:
    """The JSON line of a record: :func:`render` then ``dumps``, with a fast path.

    For the common line (no exception, no stack, no caller, no key clash) the static
    fields and the bound context are pre-serialised fragments, so only the timestamp,
    the message and the extra fields are encoded per line.
    """
    s = _render._settings
    d = record.__dict__
    extra = d.get("_berrys_extra")
    if extra is None or record.exc_info or record.stack_info or s.include_caller:
        return dumps(render(record))
    ctx = d["_berrys_ctx"]
    bound = d["_berrys_bound"]
    if (
        (extra and ctx and not ctx.keys().isdisjoint(extra))
        or (bound and extra and not bound.keys().isdisjoint(extra))
        or (bound and ctx and not bound.keys().isdisjoint(ctx))
    ):
        return dumps(render(record))  # a field given twice: render() resolves precedence
    gen = s.generation
    if ctx:
        cached = ctx._fragment
        cfrag = cached[1] if cached is not None and cached[0] == gen else _fragment(ctx, s)
    else:
        cfrag = ""
    if bound:
        cached = bound._fragment
        bfrag = cached[1] if cached is not None and cached[0] == gen else _fragment(bound, s)
    else:
        bfrag = ""
    msg = record.msg
    if type(msg) is str and not record.args:
        mjson = s.msg_memo.get(msg)
        if mjson is None:
            mjson = _msg_json(msg, s)
    else:
        mjson = orjson.dumps(s.redactor.text(_message(record))).decode()
    trace = d["_berrys_trace"]
    tfrag = "" if trace is None else f',"trace_id":"{trace[0]}","span_id":"{trace[1]}"'
    efrag = ""
    if extra:
        body = dumps(_extra_fields(extra, s))
        if len(body) > 2:
            efrag = "," + body[1:-1]
    head = _heads.get((record.name, record.levelno)) or _head(record.name, record.levelno)
    return (
        f'{{"timestamp":"{format_timestamp(record.created)}"{head}{mjson}'
        f"{s.static_fragment}{tfrag}{cfrag}{bfrag}{efrag}}}"
    )


def _msg_json(msg: str, s: Settings) -> str:
    # Constant messages (most structured log calls) are redacted and encoded once per
    # configuration; the memo is bounded so unique messages cannot grow it forever.
    out = orjson.dumps(s.redactor.text(msg)).decode()
    if len(msg) <= 512:
        memo = s.msg_memo
        if len(memo) > 8192:
            memo.clear()
        memo[msg] = out
    return out
