"""Making a span current, in one ``ContextVar.set`` where the OpenTelemetry API allows.

``attach(set_span_in_context(span, parent))`` and ``detach(token)`` go through eight
Python-level calls of the OpenTelemetry API; with its default runtime context (a
``ContextVar``) the same effect is one dict copy and one ``ContextVar.set``/``reset``.
Any other runtime context, or an API laid out differently, takes the API's own path.
"""

from __future__ import annotations

from typing import Any

from berrys_monitoring._compat.opentelemetry import attach_span
from berrys_monitoring._compat.opentelemetry import detach_span as _detach
from berrys_monitoring._internal import report_internal_error

__all__ = ["attach_span", "detach_span"]

_COMPONENT = "tracing"


def detach_span(token: Any) -> None:
    """Restore the context :func:`attach_span` replaced; like the API's ``detach``, a
    token from another context is reported (once), not raised.

    Example::

        >>> from opentelemetry import trace
        >>> token = attach_span(trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT), None)
        >>> detach_span(token)
        >>> trace.get_current_span() is trace.INVALID_SPAN
        True
    """
    try:
        _detach(token)
    except (ValueError, RuntimeError) as exc:
        report_internal_error(_COMPONENT, exc, "failed to detach context", key="detach")
