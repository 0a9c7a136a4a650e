"""Carrying the trace across process boundaries in HTTP headers (W3C Trace Context and
Baggage, or whatever ``OTEL_PROPAGATORS`` selects)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
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


def _normalise(carrier: Any) -> dict[str, list[str]]:
    """Any header container -> {lowercase name: [values]}.

    Handles dicts (any case), Starlette/Werkzeug/requests/httpx/email headers (they all
    have ``items()``), and ASGI's raw ``[(b"name", b"value"), ...]`` list.
    """
    out: dict[str, list[str]] = {}
    items: Iterable[Any] = carrier.items() if hasattr(carrier, "items") else carrier
    for pair in items:
        key, value = pair
        values = value if isinstance(value, (list, tuple)) else (value,)
        out.setdefault(_text(key).lower(), []).extend(_text(v) for v in values)
    return out


class _LowercaseGetter(Getter[Mapping[str, list[str]]]):
    def get(self, carrier: Mapping[str, list[str]], key: str) -> list[str] | None:
        return carrier.get(key.lower())

    def keys(self, carrier: Mapping[str, list[str]]) -> list[str]:
        return list(carrier)


_GETTER = _LowercaseGetter()


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
        carrier = _normalise(headers)
        # An explicit empty base: without traceparent the next span is a new root, not a
        # child of whatever span happens to be current in this process.
        return propagate.extract(carrier, context=Context(), getter=_GETTER)
    except Exception:
        # Hostile or broken input is the caller's data, not our bug: count, start afresh.
        count_event(COMPONENT, "malformed_context")
        return Context()
