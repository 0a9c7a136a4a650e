"""Which requests get a lean server span, and starting one (see ``_server_span``).

:func:`server_spans` decides per tracing configuration whether the lean path applies: only
for a provider made by ``configure_tracing`` with its one processor, the SDK's default id
generator, span limits and tracer configuration. Anything else keeps the SDK's own spans.
:class:`ServerSpans` decides sampling (the configured ``ParentBased(TraceIdRatioBased)``
in two comparisons, any other sampler by asking it), makes the span, and hands an ended
one to the processor.
"""

from __future__ import annotations

import os
import threading
from random import getrandbits
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    TraceIdRatioBased,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import DEFAULT_TRACE_STATE, SpanContext, TraceFlags

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.tracing._otlp_prepared import encode_server_span, group_tag
from berrys_monitoring.tracing._redact import redact_server_span
from berrys_monitoring.tracing._switch import STATE

__all__ = ["ServerSpans", "server_spans", "span_ids_hex"]

from berrys_monitoring.tracing._server_span import (
    _COMPONENT,
    _SAMPLED,
    _SAMPLED_ROOT,
    _SERVER,
    _UNSAMPLED,
    _UNSAMPLED_ROOT,
    RANDOM_TRACE_ID,
    ServerSpan,
    UnsampledSpan,
)

_NO_STATE = DEFAULT_TRACE_STATE


def _tuple_layout_matches() -> bool:
    """Whether a SpanContext is the tuple (trace_id, span_id, is_remote, flags, state,
    is_valid), so that a valid one can be made without its Python ``__new__``."""
    try:
        made = SpanContext(3, 5, False, _SAMPLED_ROOT, _NO_STATE)
        return tuple(made) == (3, 5, False, _SAMPLED_ROOT, _NO_STATE, True) and made.is_valid
    except Exception:  # pragma: no cover - another API layout
        return False


_CONTEXT_IS_TUPLE = _tuple_layout_matches()
if _CONTEXT_IS_TUPLE:
    _new_tuple: Any = tuple.__new__
else:  # pragma: no cover - another API layout: its constructor, whatever it keeps

    def _new_tuple(cls: Any, values: tuple[Any, ...]) -> Any:
        return cls(*values[:5])


def span_ids_hex(span: trace_api.Span) -> tuple[str, str] | None:
    """The trace id and span id of ``span`` in hex, or None when its context is invalid.

    Example::

        >>> from opentelemetry.trace import NonRecordingSpan, SpanContext
        >>> span_ids_hex(NonRecordingSpan(SpanContext(255, 1, False)))
        ('000000000000000000000000000000ff', '0000000000000001')
    """
    kind = type(span)
    if kind is UnsampledSpan:
        sc = span._context  # type: ignore[attr-defined]
    elif kind is ServerSpan:
        sc = span.context  # type: ignore[attr-defined]
    else:
        sc = span.get_span_context()
    if _CONTEXT_IS_TUPLE:
        # The tuple's fields, not its properties (three Python calls a request).
        if not sc[5]:
            return None
        trace_id, span_id = sc[0], sc[1]
    else:  # pragma: no cover - another API layout
        if not sc.is_valid:
            return None
        trace_id, span_id = sc.trace_id, sc.span_id
    # int.to_bytes().hex(): the same as f"{id:032x}" in half the time.
    return trace_id.to_bytes(16, "big").hex(), span_id.to_bytes(8, "big").hex()


class ServerSpans:
    """Starts :class:`ServerSpan` s for one tracing configuration (see :func:`server_spans`)."""

    def __init__(self, tracer: Any, processor: Any) -> None:
        self.resource = tracer.resource
        self.scope: InstrumentationScope = tracer._instrumentation_scope
        self._processor = processor
        # Our OTLP exporter queues spans pre-encoded; any other exporter gets ReadableSpans.
        self._emit = getattr(processor, "_bm_emit", None)
        # Spans pre-encoded here go to the queue under this (resource, scope) group.
        self._tag = group_tag(self.resource, self.scope) if self._emit is not None else None
        self._sampler = sampler = tracer.sampler
        # ParentBased(TraceIdRatioBased) with the default parent rules, as configure_tracing
        # makes it, is decided here in two comparisons; any other sampler is asked.
        self._bound: int | None = None
        root = getattr(sampler, "_root", None)
        if (
            type(sampler) is ParentBased
            and getattr(sampler, "_remote_parent_sampled", None) is ALWAYS_ON
            and getattr(sampler, "_remote_parent_not_sampled", None) is ALWAYS_OFF
            and getattr(sampler, "_local_parent_sampled", None) is ALWAYS_ON
            and getattr(sampler, "_local_parent_not_sampled", None) is ALWAYS_OFF
        ):
            if type(root) is TraceIdRatioBased:
                self._bound = int(root.bound)
            elif root is ALWAYS_ON:
                self._bound = 1 << 64
            elif root is ALWAYS_OFF:
                self._bound = 0

    def begin(self, parent: Context | None) -> Any:
        """Decide what a request gets, before its attributes are built: a non-recording
        span when it is not sampled (its ids still propagate), otherwise a plan for
        :meth:`start`. ``parent`` is the context extracted from the request's headers.
        """
        parent_sc: SpanContext | None = None
        if parent is not None:
            parent_sc = trace_api.get_current_span(parent).get_span_context()
            if not parent_sc.is_valid:
                parent_sc = None
        span_id = getrandbits(64) or 1
        bound = self._bound
        if parent_sc is None:
            trace_id = getrandbits(128) or 1
            if bound is None:
                return (None, None, trace_id, span_id)  # the sampler is asked in start()
            # SpanContext(trace_id, span_id, False, flags) without its Python __new__:
            # both ids are random, non-zero and in range, so the context is valid.
            if (trace_id & 0xFFFFFFFFFFFFFFFF) < bound:
                ctx = _new_tuple(
                    SpanContext, (trace_id, span_id, False, _SAMPLED_ROOT, _NO_STATE, True)
                )
                return (ctx, None)
            return UnsampledSpan(
                _new_tuple(
                    SpanContext, (trace_id, span_id, False, _UNSAMPLED_ROOT, _NO_STATE, True)
                )
            )
        if bound is None:
            return (None, parent_sc, parent_sc.trace_id, span_id)
        pflags = parent_sc.trace_flags
        random_bit = pflags & RANDOM_TRACE_ID
        if pflags.sampled:
            flags = TraceFlags(TraceFlags.SAMPLED | random_bit) if random_bit else _SAMPLED
            ctx = SpanContext(parent_sc.trace_id, span_id, False, flags, parent_sc.trace_state)
            return (ctx, parent_sc)
        flags = TraceFlags(random_bit) if random_bit else _UNSAMPLED
        ctx = SpanContext(parent_sc.trace_id, span_id, False, flags, parent_sc.trace_state)
        return UnsampledSpan(ctx)

    def start(
        self,
        name: str,
        parent: Context | None,
        attributes: dict[str, Any],
        plan: Any = None,
    ) -> trace_api.Span:
        """A new server span, child of the span in ``parent`` (an extracted context).

        ``attributes`` is kept, not copied: the caller hands over a dict it made. ``plan``
        is what :meth:`begin` returned (it is called here when not given).
        """
        if plan is None:
            plan = self.begin(parent)
        if type(plan) is not tuple:
            return plan  # type: ignore[no-any-return]
        if plan[0] is not None:
            return ServerSpan(self, name, plan[0], plan[1], attributes)
        _, parent_sc, trace_id, span_id = plan
        return self._ask(name, parent, parent_sc, trace_id, span_id, attributes)

    def _ask(
        self,
        name: str,
        parent: Context | None,
        parent_sc: SpanContext | None,
        trace_id: int,
        span_id: int,
        attributes: dict[str, Any],
    ) -> trace_api.Span:
        """The generic path: whatever sampler the provider has decides."""
        result = self._sampler.should_sample(parent, trace_id, name, _SERVER, attributes, ())
        sampled = result.decision.is_sampled()
        flags = TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT
        if parent_sc is None:
            flags |= RANDOM_TRACE_ID
        else:
            flags |= parent_sc.trace_flags & RANDOM_TRACE_ID
        ctx = SpanContext(trace_id, span_id, False, TraceFlags(flags), result.trace_state)
        if not result.decision.is_recording():
            return UnsampledSpan(ctx)
        if result.attributes:
            attributes.update(result.attributes)
        return ServerSpan(self, name, ctx, parent_sc, attributes)

    def deliver(self, span: ServerSpan) -> None:
        """Redact an ended span, then hand it to the listeners and the processor (never
        raises; a span that cannot be redacted is dropped)."""
        try:
            redact_server_span(span)
            listeners = STATE.listeners
            if listeners:
                readable = span.to_readable()
                for listener in listeners:
                    listener.on_end(readable)
            if not span.context[3] & TraceFlags.SAMPLED:
                return
            processor = self._processor
            if processor is None:
                return
            tag = self._tag
            if tag is not None:
                try:
                    item = tag + encode_server_span(span)
                except Exception as exc:
                    report_internal_error(_COMPONENT, exc, "cannot encode a span", key="prepare")
                else:
                    processor.enqueue_bytes(item)
                    return
            processor.on_end_readable(span.to_readable())
        except Exception as exc:
            report_internal_error(_COMPONENT, exc, "cannot hand a server span to its processor")


# -- which configurations take the lean path ---------------------------------------------

_cache: tuple[int, Any, ServerSpans | None] = (-1, None, None)
_cache_lock = threading.Lock()


def server_spans(scope_name: str = "berrys_monitoring.middleware") -> ServerSpans | None:
    """The lean server-span starter of the current tracing configuration, or None when
    the SDK's own spans must be used (see the module docstring).

    Example::

        >>> from berrys_monitoring.tracing import configure_tracing
        >>> configure_tracing("doc", exporter="none")
        >>> server_spans() is not None
        True
    """
    generation, provider, found = _cache
    if generation == STATE.generation and provider is STATE.provider:
        return found
    with _cache_lock:
        provider = STATE.provider
        generation = STATE.generation
        found = _make(provider, scope_name)
        globals()["_cache"] = (generation, provider, found)
        return found


def _make(provider: Any, scope_name: str) -> ServerSpans | None:
    from berrys_monitoring._version import __version__
    from berrys_monitoring.tracing._export import CountingBatchSpanProcessor
    from berrys_monitoring.tracing._switch import ListenerFanout, SwitchableTracerProvider

    if provider is None or STATE.temporary:
        return None
    if not isinstance(trace_api.get_tracer_provider(), SwitchableTracerProvider):
        return None  # someone else's provider is global: their spans, their rules
    if os.environ.get("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "").lower() == "true":
        return None  # the SDK counts its spans itself then
    try:
        processors = tuple(provider._active_span_processor._span_processors)
        if len(processors) != 1 or type(processors[0]) not in (
            CountingBatchSpanProcessor,
            ListenerFanout,
        ):
            return None
        if type(provider.id_generator) is not RandomIdGenerator:
            return None
        if provider._span_limits.max_attribute_length is not None:
            return None  # values would need truncating; the SDK does that
        tracer = provider.get_tracer(scope_name, __version__)
        config = getattr(tracer, "_tracer_config", None)
        if config is not None and not getattr(config, "is_enabled", True):
            return None
        if not isinstance(tracer._instrumentation_scope, InstrumentationScope):
            return None
        processor = processors[0]
        return ServerSpans(
            tracer, processor if type(processor) is CountingBatchSpanProcessor else None
        )
    except Exception as exc:
        report_internal_error(
            _COMPONENT, exc, "lean server spans unavailable; using the SDK's", key="server-span"
        )
        return None
