"""OpenTelemetry's private names: the current context's ``ContextVar``, the key of the
current span in a context, and the logs API (still in ``_logs`` modules).

Reading the current span through ``trace.get_current_span()`` costs a few Python calls;
with the API's default runtime context (a ``ContextVar`` wrapper) the same answer is one
``ContextVar.get`` and one dict lookup. That is worth it on every log line and every
request, so it lives here, checked at import; any other runtime context (or an API that
moved these names) takes the public path.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.context import Context

__all__ = [
    "SPAN_CONTEXT_VAR",
    "attach_span",
    "current_context",
    "current_span",
    "detach_span",
    "logs_sdk",
    "update_resource",
]


def _span_context_var() -> tuple[ContextVar[Context], str] | None:
    """``(the runtime context's ContextVar, the current span's key)``, or None when the
    API is laid out differently or another runtime context is configured."""
    try:
        from opentelemetry.context.contextvars_context import ContextVarsRuntimeContext
        from opentelemetry.trace.propagation import _SPAN_KEY

        runtime = getattr(context_api, "_RUNTIME_CONTEXT", None)
        var = getattr(runtime, "_current_context", None)
        if (
            type(runtime) is ContextVarsRuntimeContext
            and isinstance(var, ContextVar)
            and isinstance(_SPAN_KEY, str)
        ):
            return var, _SPAN_KEY
    except ImportError:  # pragma: no cover - another API version
        pass
    return None


#: The default runtime context's variable and the span key, or None (public path).
SPAN_CONTEXT_VAR = _span_context_var()

current_context: Callable[[], Context]
current_span: Callable[[], Any]

if SPAN_CONTEXT_VAR is not None:
    _var, _key = SPAN_CONTEXT_VAR
    current_context = _var.get

    def current_span() -> Any:
        """The current span, or None when there is none (no ``INVALID_SPAN`` stand-in)."""
        return _var.get().get(_key)

else:  # pragma: no cover - another runtime context or API layout
    current_context = context_api.get_current

    def current_span() -> Any:
        span = trace_api.get_current_span()
        return None if span is trace_api.INVALID_SPAN else span


_set_item = dict.__setitem__


def attach_span(span: trace_api.Span, parent: Context | None) -> Any:
    """Make ``span`` current on top of ``parent`` (or of the current context); returns the
    token for :func:`detach_span`. One dict copy and one ``ContextVar.set`` where the API
    goes through eight Python calls for ``attach(set_span_in_context(...))``.

    Example::

        >>> from opentelemetry import trace
        >>> span = trace.NonRecordingSpan(trace.INVALID_SPAN_CONTEXT)
        >>> token = attach_span(span, None)
        >>> trace.get_current_span() is span
        True
        >>> detach_span(token)
    """
    direct = SPAN_CONTEXT_VAR
    if direct is None:  # pragma: no cover - another runtime context
        return context_api.attach(trace_api.set_span_in_context(span, parent))
    var, key = direct
    ctx = Context(parent if parent is not None else var.get())
    _set_item(ctx, key, span)  # Context refuses item assignment: it is ours until set
    return var.set(ctx)


def detach_span(token: Token[Context] | object) -> None:
    """Restore the context :func:`attach_span` replaced; raises ``ValueError`` or
    ``RuntimeError`` for a token from another context, as ``ContextVar.reset`` does."""
    direct = SPAN_CONTEXT_VAR
    if direct is None:  # pragma: no cover - another runtime context
        context_api.detach(token)  # type: ignore[arg-type]
        return
    direct[0].reset(token)  # type: ignore[arg-type]


def update_resource(provider: Any, attributes: dict[str, Any]) -> bool:
    """Merge ``attributes`` into an SDK tracer provider's resource (after ``fork``, for
    ``process.pid``); the SDK's own at-fork path, where it has one. Returns whether it did.
    """
    update = getattr(provider, "_update_resource", None)
    if update is None:
        return False
    from opentelemetry.sdk.resources import Resource

    update(Resource(attributes))
    return True


@functools.cache
def logs_sdk() -> types.SimpleNamespace:
    """The logs API and SDK names (public in other languages, under ``_logs`` in Python's):
    ``LogRecord``, ``SeverityNumber``, ``LoggerProvider``, ``BatchLogRecordProcessor``,
    ``LogRecordExportResult`` and ``OTLPLogExporter`` (ImportError without the ``otlp``
    extra). Imported on first use: only a process that exports logs pays for them.

    Example::

        >>> logs_sdk().SeverityNumber(9).name
        'INFO'
    """
    try:
        from opentelemetry._logs import LogRecord, SeverityNumber
        from opentelemetry.sdk._logs import LoggerProvider
        from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExportResult
    except ImportError:  # pragma: no cover - a release that made them public
        from opentelemetry.logs import LogRecord, SeverityNumber  # type: ignore[no-redef, import-not-found, unused-ignore]
        from opentelemetry.sdk.logs import LoggerProvider  # type: ignore[no-redef, import-not-found, unused-ignore]
        from opentelemetry.sdk.logs.export import (  # type: ignore[no-redef, import-not-found, unused-ignore]
            BatchLogRecordProcessor,
            LogRecordExportResult,
        )
    names = types.SimpleNamespace(
        LogRecord=LogRecord,
        SeverityNumber=SeverityNumber,
        LoggerProvider=LoggerProvider,
        BatchLogRecordProcessor=BatchLogRecordProcessor,
        LogRecordExportResult=LogRecordExportResult,
        OTLPLogExporter=None,
    )
    try:
        from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter

        names.OTLPLogExporter = OTLPLogExporter
    except ImportError:
        pass
    return names
