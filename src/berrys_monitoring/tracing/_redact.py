"""Span redaction: the logging redactor applied to what an ended span carries.

An exception message (``password=…``) recorded as an event and in the status, or a JWT
in ``url.path``, must not reach a collector when the same text is hidden from the logs.
The batch processor calls :func:`redact_span` once per ended span, before the capture
listeners and the exporter see it, and the lean server span is redacted in place by
:func:`redact_server_span`. The rules are the logging configuration's
(``configure_logging(redact=..., redact_keys=..., redact_patterns=...)``), the defaults
until it is called.

A span with nothing to hide is returned as it is: per attribute a memoised key decision
and, for strings, the redactor's memo or its cheap pre-checks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Status

from berrys_monitoring.logging import _render
from berrys_monitoring.logging._redact import MASK, Redactor

__all__ = ["redact_server_span", "redact_span"]


def _redactor() -> Redactor | None:
    red = _render._settings.redactor
    return red if red.enabled else None


def _text(red: Redactor, v: str) -> str:
    out = red._text_memo.get(v)
    if out is not None:
        return out
    if len(v) < 13 and v.isascii() and v.isalnum() and not red._patterns:
        return v  # a short word or number: nothing any rule hides (and not memoised)
    return red.text(v)


def _value(red: Redactor, v: Any) -> Any:
    if type(v) is str:
        return _text(red, v)
    if (type(v) is tuple or type(v) is list) and any(type(x) is str for x in v):
        out = tuple(_text(red, x) if type(x) is str else x for x in v)
        return v if out == tuple(v) else out
    return v


def _attributes(red: Redactor, attrs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A redacted copy of ``attrs``, or None when nothing in them changes."""
    if not attrs:
        return None
    # The SDK's attributes (a read-only view of BoundedAttributes) copy to a plain dict in
    # C; iterating the view itself goes through the Python Mapping protocol per item.
    try:
        plain: dict[str, Any] = attrs.copy()  # type: ignore[attr-defined]
    except AttributeError:
        plain = dict(attrs)
    if type(plain) is not dict:
        plain = dict(plain)
    changed = False
    key_memo = red._key_memo
    for k, v in plain.items():
        kind = key_memo.get(k)
        if kind is None:
            kind = 1 if red.is_secret_key(k) else 0
        if kind:
            new: Any = MASK if v is not None else v
        elif type(v) is str:
            new = _text(red, v)
        elif type(v) is tuple or type(v) is list:
            new = _value(red, v)
        else:
            continue
        if new is not v and new != v:
            plain[k] = new
            changed = True
    return plain if changed else None


def _events(red: Redactor, events: Sequence[Event]) -> list[Event] | None:
    out: list[Event] | None = None
    for i, event in enumerate(events):
        attrs = _attributes(red, event.attributes)
        if attrs is not None:
            if out is None:
                out = list(events)
            out[i] = Event(event.name, attrs, event.timestamp)
    return out


def _status(red: Redactor, status: Status | None) -> Status | None:
    if status is None or not status.description:
        return None
    text = red.text(status.description)
    return None if text == status.description else Status(status.status_code, text)


class _RedactedSpan(ReadableSpan):
    """A redacted copy that reports the original's dropped counts."""

    def __init__(self, original: ReadableSpan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._bm_dropped = (
            original.dropped_attributes,
            original.dropped_events,
            original.dropped_links,
        )

    @property
    def dropped_attributes(self) -> int:
        return self._bm_dropped[0]

    @property
    def dropped_events(self) -> int:
        return self._bm_dropped[1]

    @property
    def dropped_links(self) -> int:
        return self._bm_dropped[2]


def redact_span(span: ReadableSpan) -> ReadableSpan:
    """``span``, or a redacted copy of it when its name, attributes, event attributes
    (``exception.message``, ``exception.stacktrace``…) or status description hold a secret.

    Example::

        >>> from opentelemetry.sdk.trace import ReadableSpan
        >>> span = ReadableSpan("login", attributes={"url.query": "password=hunter2"})
        >>> redact_span(span).attributes["url.query"]
        'password=[REDACTED]'
        >>> plain = ReadableSpan("login", attributes={"url.path": "/login"})
        >>> redact_span(plain) is plain
        True
    """
    red = _redactor()
    if red is None:
        return span
    name = span.name
    new_name = _text(red, name) if name else name
    attrs = _attributes(red, span.attributes)
    old_events = span.events
    events = _events(red, old_events) if old_events else None
    old_status = span.status
    status = _status(red, old_status) if old_status is not None and old_status.description else None
    if new_name == name and attrs is None and events is None and status is None:
        return span
    return _RedactedSpan(
        span,
        name=new_name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attrs if attrs is not None else span.attributes,
        events=events if events is not None else old_events,
        links=span.links,
        kind=span.kind,
        status=status if status is not None else old_status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def redact_server_span(span: Any) -> None:
    """Redact the middleware's ended lean ``ServerSpan`` in place (it is ours alone)."""
    red = _redactor()
    if red is None:
        return
    attrs = _attributes(red, span.attributes)
    if attrs is not None:
        span.attributes = attrs
    if span.events:
        events = _events(red, span.events)
        if events is not None:
            span.events = events
    status = _status(red, span.status)
    if status is not None:
        span.status = status
    name = span.name
    if name:
        span.name = _text(red, name)
