"""Carrying the trace across process boundaries in HTTP headers (W3C Trace Context and
Baggage, or whatever ``OTEL_PROPAGATORS`` selects)."""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

from opentelemetry import propagate
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter

from berrys_monitoring._internal import count_event
from berrys_monitoring.tracing._export import COMPONENT


def _text(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")
    return str(value)


def _normalise(pairs: Iterable[Any]) -> dict[str, list[str]]:
    """``(name, value)`` pairs (a raw ASGI header list, a mixed-case dict's items) ->
    {lowercase name: [values]}."""
    out: dict[str, list[str]] = {}
    for key, value in pairs:
        out.setdefault(_text(key).lower(), []).extend(_values(value))
    return out


def _carrier(headers: Any) -> Any:
    if isinstance(headers, dict):
        # A plain dict is case-sensitive: copy it only if some name is not lower-case
        # (the common server-side carriers already are).
        for key in headers:
            if not (key.__class__ is str and key.islower()):
                return _normalise(headers.items())
        return headers
    if hasattr(headers, "get"):
        return headers  # framework header objects look names up case-insensitively
    return _normalise(headers)


def _values(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [_text(v) for v in value]
    return [_text(value)]


class _HeaderGetter(Getter[Any]):
    """Reads a header from any container without copying it.

    Framework header objects (Starlette, Werkzeug, requests, httpx, email.message) are
    case-insensitive already; dicts reach it with lower-case names (see ``_carrier``).
    """

    def get(self, carrier: Any, key: str) -> list[str] | None:
        value = carrier.get(key)
        return None if value is None else _values(value)

    def keys(self, carrier: Any) -> list[str]:
        return [_text(k) for k in carrier]


_GETTER = _HeaderGetter()


def inject_context_into_headers(
    headers: MutableMapping[str, str] | None = None, context: Context | None = None
) -> MutableMapping[str, str]:
    """Write the current trace context (``traceparent``, ``tracestate``, ``baggage``) into
    ``headers`` and return it, for an outgoing call to another service.

    Nothing is written when there is no active span and no baggage.

    Example::

        with tracer.start_as_current_span("call-users"):
            headers = inject_context_into_headers({})
            response = requests.get(url, headers=headers)
    """
    if headers is None:
        headers = {}
    propagate.inject(headers, context=context)
    return headers


def extract_context_from_headers(headers: Any) -> Context:
    """Read the caller's trace context from incoming request headers.

    ``headers`` may be any mapping (names case-insensitive), Starlette ``request.headers``,
    Flask/Werkzeug ``request.headers``, ``http.server`` headers or an ASGI raw header list.
    The result is an OpenTelemetry ``Context`` to pass as the parent of the next span.
    Missing or malformed headers yield an empty context, so the next span starts a new
    trace; this function never raises.

    Example::

        ctx = extract_context_from_headers(request.headers)
        with tracer.start_as_current_span("GET /users", context=ctx, kind=SpanKind.SERVER):
            ...
    """
    if headers is None:
        return Context()
    try:
        carrier = _carrier(headers)
        # An explicit empty base: without traceparent the next span is a new root, not a
        # child of whatever span happens to be current in this process.
        return propagate.extract(carrier, context=Context(), getter=_GETTER)
    except Exception:
        # Hostile or broken input is the caller's data, not our bug: count, start afresh.
        count_event(COMPONENT, "malformed_context")
        return Context()
