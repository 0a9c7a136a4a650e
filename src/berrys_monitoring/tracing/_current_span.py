"""Making a span current, in one ``ContextVar.set`` where the OpenTelemetry API allows.

``attach(set_span_in_context(span, parent))`` and ``detach(token)`` go through eight
Python-level calls of the OpenTelemetry API; with its default runtime context (a
``ContextVar``) the same effect is one dict copy and one ``ContextVar.set``/``reset``.
Any other runtime context, or an API laid out differently, takes the API's own path.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.context import Context

from berrys_monitoring._internal import report_internal_error

__all__ = ["attach_span", "detach_span"]

_COMPONENT = "tracing"


def _direct_context_var() -> Any:
    try:
        from opentelemetry import context as context_api
        from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
        from opentelemetry.trace.propagation import _SPAN_KEY

        runtime = context_api._RUNTIME_CONTEXT
        var = getattr(runtime, "_current_context", None)
        if type(runtime) is ContextVarsRuntimeContext and var is not None and _SPAN_KEY:
            return var, _SPAN_KEY
    except (ImportError, AttributeError):  # pragma: no cover - another API version
        pass
    return None


_DIRECT = _direct_context_var()
_set_item = dict.__setitem__


def attach_span(span: trace_api.Span, parent: Context | None) -> Any:
    """Make ``span`` current on top of ``parent`` (or of the current context); returns the
    token for :func:`detach_span`.

    Example::

        >>> from opentelemetry import trace
        >>> span = trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)
        >>> token = attach_span(span, None)
        >>> trace.get_current_span() is span
        True
        >>> detach_span(token)
    """
    direct = _DIRECT
    if direct is None:
        from opentelemetry import context as context_api

        return context_api.attach(trace_api.set_span_in_context(span, parent))
    var, key = direct
    ctx = Context(parent if parent is not None else var.get())
    _set_item(ctx, key, span)  # Context refuses item assignment: it is ours until set
    return var.set(ctx)


def detach_span(token: Any) -> None:
    """Restore the context :func:`attach_span` replaced; like the API's ``detach``, a
    token from another context is reported (once), not raised."""
    direct = _DIRECT
    if direct is None:
        from opentelemetry import context as context_api

        context_api.detach(token)
        return
    try:
        direct[0].reset(token)
    except (ValueError, RuntimeError) as exc:
        report_internal_error(_COMPONENT, exc, "failed to detach context", key="detach")
