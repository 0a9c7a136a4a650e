"""A lean span type for the middleware's one server span per request.

The SDK's ``_Span`` allocates for every span, used or not, a ``BoundedAttributes`` with its
lock, bounded event and link lists with their deques and locks, and it validates every
attribute one by one; its ``Tracer.start_span`` asks the sampler and the id generator
through several layers. For a server span whose attributes the middleware produced itself
that was the largest cost of tracing a request, and the ~20 GC-tracked objects an
in-flight SDK span holds made a busy server collect garbage every event-loop round or two.

:class:`ServerSpan` implements the OpenTelemetry ``Span`` API (so user code, child spans,
propagators and log correlation see an ordinary current span) with one plain dict of
attributes and nothing else until an event or link is added. When it ends it is handed
to the configured batch processor exactly as an SDK span would be: pre-encoded to OTLP
bytes for our exporter, or as an SDK ``ReadableSpan`` for any other exporter and for
``capture_spans()``.

:func:`server_spans` decides per tracing configuration whether the lean path applies: only
for a provider made by ``configure_tracing`` with its one processor, the SDK's default id
generator, span limits and tracer configuration. Anything else (a custom sampler is fine,
it is asked as usual) keeps the SDK's own spans.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from random import getrandbits
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    TraceIdRatioBased,
)
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.tracing._otlp_encode import encode_server_span, group_tag
from berrys_monitoring.tracing._switch import STATE

__all__ = ["ServerSpan", "ServerSpans", "server_spans"]

_COMPONENT = "tracing"
_UNSET = Status(StatusCode.UNSET)
_SERVER = SpanKind.SERVER
# Root spans from the random id generator carry W3C trace-context level 2's random flag,
# as the SDK sets it.
_SAMPLED_ROOT = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)
_UNSAMPLED_ROOT = TraceFlags(TraceFlags.RANDOM_TRACE_ID)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_UNSAMPLED = TraceFlags(TraceFlags.DEFAULT)
_PRIMITIVE = (str, bool, int, float)
_MAX_ATTRIBUTES = SpanLimits().max_span_attributes or 128
_MAX_EVENTS = 128


def _clean(key: Any, value: Any) -> Any:
    """``value`` as the SDK would keep it (sequences become tuples); None to drop it."""
    if not key or not isinstance(key, str):
        return None
    try:
        from opentelemetry.attributes import _clean_attribute_value
    except ImportError:  # pragma: no cover - an API without the helper
        return value if isinstance(value, _PRIMITIVE) else None
    return _clean_attribute_value(value, None)


class ServerSpan(trace_api.Span):
    """A recording server span: the OpenTelemetry ``Span`` API over plain fields.

    Read like an SDK ``ReadableSpan`` by our OTLP encoder (the same field names).

    Example::

        >>> from berrys_monitoring.tracing import configure_tracing
        >>> configure_tracing("doc", exporter="none")
        >>> spans = server_spans()
        >>> span = spans.start("GET", None, {"url.path": "/"}) if spans else None
        >>> span is None or span.is_recording()
        True
    """

    __slots__ = (
        "_owner",
        "attributes",
        "context",
        "end_time",
        "events",
        "links",
        "name",
        "parent",
        "start_time",
        "status",
    )

    kind = _SERVER
    dropped_attributes = 0
    dropped_events = 0
    dropped_links = 0

    def __init__(
        self,
        owner: ServerSpans,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        attributes: dict[str, Any],
    ) -> None:
        self._owner = owner
        self.name = name
        self.context = context
        self.parent = parent
        self.attributes = attributes
        self.events: tuple[Event, ...] | list[Event] = ()
        self.links: tuple[Link, ...] | list[Link] = ()
        self.status = _UNSET
        self.start_time = time.time_ns()
        self.end_time: int | None = None

    # -- what the encoder and ReadableSpan readers look at --------------------------------

    @property
    def resource(self) -> Any:
        return self._owner.resource

    @property
    def instrumentation_scope(self) -> InstrumentationScope:
        return self._owner.scope

    def to_readable(self) -> ReadableSpan:
        """This span as the SDK's ``ReadableSpan`` (for exporters and span listeners)."""
        return ReadableSpan(
            name=self.name,
            context=self.context,
            parent=self.parent,
            resource=self._owner.resource,
            attributes=dict(self.attributes),
            events=tuple(self.events),
            links=tuple(self.links),
            kind=_SERVER,
            status=self.status,
            start_time=self.start_time,
            end_time=self.end_time,
            instrumentation_scope=self._owner.scope,
        )

    # -- the Span API ---------------------------------------------------------------------

    def get_span_context(self) -> SpanContext:
        return self.context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value: Any) -> None:
        if self.end_time is not None:
            return
        if type(value) not in _PRIMITIVE:
            value = _clean(key, value)
            if value is None:
                return
        attrs = self.attributes
        if len(attrs) >= _MAX_ATTRIBUTES and key not in attrs:
            return
        attrs[key] = value

    def set_attributes(self, attributes: Any) -> None:
        for key, value in attributes.items():
            self.set_attribute(key, value)

    def update_name(self, name: str) -> None:
        if self.end_time is None:
            self.name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        # The SDK's rules: OK is final, UNSET is ignored, a description only with ERROR.
        if self.end_time is not None or self.status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self.status = status
        elif status is not StatusCode.UNSET:
            self.status = Status(status, description)

    def add_event(self, name: str, attributes: Any = None, timestamp: int | None = None) -> None:
        if self.end_time is not None:
            return
        events = self.events
        if not isinstance(events, list):
            events = self.events = []
        if len(events) < _MAX_EVENTS:
            events.append(Event(name, attributes, timestamp or time.time_ns()))

    def add_link(self, context: SpanContext, attributes: Any = None) -> None:
        if self.end_time is not None or context is None or not context.is_valid:
            return
        links = self.links
        if not isinstance(links, list):
            links = self.links = []
        if len(links) < _MAX_EVENTS:
            links.append(Link(context, attributes))

    def record_exception(
        self,
        exception: BaseException,
        attributes: Any = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        attrs: dict[str, Any] = {
            "exception.type": f"{module}.{qualname}"
            if module and module != "builtins"
            else qualname,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            attrs.update(attributes)
        self.add_event("exception", attrs, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self.end_time is not None:
            return
        self.end_time = end_time if end_time is not None else time.time_ns()
        self._owner.deliver(self)


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
            if (trace_id & 0xFFFFFFFFFFFFFFFF) < bound:
                return (SpanContext(trace_id, span_id, False, _SAMPLED_ROOT), None)
            return trace_api.NonRecordingSpan(
                SpanContext(trace_id, span_id, False, _UNSAMPLED_ROOT)
            )
        if bound is None:
            return (None, parent_sc, parent_sc.trace_id, span_id)
        pflags = parent_sc.trace_flags
        random_bit = pflags & TraceFlags.RANDOM_TRACE_ID
        if pflags.sampled:
            flags = TraceFlags(TraceFlags.SAMPLED | random_bit) if random_bit else _SAMPLED
            ctx = SpanContext(parent_sc.trace_id, span_id, False, flags, parent_sc.trace_state)
            return (ctx, parent_sc)
        flags = TraceFlags(random_bit) if random_bit else _UNSAMPLED
        ctx = SpanContext(parent_sc.trace_id, span_id, False, flags, parent_sc.trace_state)
        return trace_api.NonRecordingSpan(ctx)

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
            flags |= TraceFlags.RANDOM_TRACE_ID
        else:
            flags |= parent_sc.trace_flags & TraceFlags.RANDOM_TRACE_ID
        ctx = SpanContext(trace_id, span_id, False, TraceFlags(flags), result.trace_state)
        if not result.decision.is_recording():
            return trace_api.NonRecordingSpan(ctx)
        if result.attributes:
            attributes.update(result.attributes)
        return ServerSpan(self, name, ctx, parent_sc, attributes)

    def deliver(self, span: ServerSpan) -> None:
        """Hand an ended span to the listeners and the processor (never raises)."""
        try:
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


# -- making the server span current ---------------------------------------------------------
# ``attach(set_span_in_context(span, parent))`` and ``detach(token)`` go through eight
# Python-level calls of the OpenTelemetry API; with its default runtime context (a
# ``ContextVar``) the same effect is one dict copy and one ``ContextVar.set``/``reset``.
# Any other runtime context, or an API laid out differently, takes the API's own path.


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
    base = parent if parent is not None else var.get()
    values = dict(base)
    values[key] = span
    return var.set(Context(values))


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
