"""The middleware's one server span per request: a lean span type, and starting one.

The SDK's span allocates for every span, used or not, a ``BoundedAttributes`` with its
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

:func:`server_spans` says whether the lean path applies, from what ``configure_tracing``
itself installed (``STATE.server_spans``: its own sampler, its one processor, the default
span limits), never by looking inside the provider: a provider someone else configured,
or one given another processor later, keeps the SDK's own spans.
:meth:`ServerSpans.begin` decides sampling (``ParentBased(TraceIdRatioBased)``, in two
comparisons) and returns the request's span: recording or not, one type per decision.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from random import getrandbits
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    DEFAULT_TRACE_STATE,
    Link,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.tracing._otlp_encode import encode_server_span, group_tag
from berrys_monitoring.tracing._redact import redact_server_span
from berrys_monitoring.tracing._switch import STATE

__all__ = [
    "MAX_ATTRIBUTES",
    "ServerSpan",
    "ServerSpans",
    "UnsampledSpan",
    "server_spans",
    "span_ids_hex",
]

_COMPONENT = "tracing"
_UNSET = Status(StatusCode.UNSET)
_SERVER = SpanKind.SERVER
# Root spans from the random id generator carry W3C trace-context level 2's random flag,
# as the SDK sets it.
# W3C Trace Context level 2's "random trace id" flag (OpenTelemetry API >= 1.42); 0 before.
RANDOM_TRACE_ID = int(getattr(TraceFlags, "RANDOM_TRACE_ID", 0))
_SAMPLED_ROOT = TraceFlags(TraceFlags.SAMPLED | RANDOM_TRACE_ID)
_UNSAMPLED_ROOT = TraceFlags(RANDOM_TRACE_ID)
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_UNSAMPLED = TraceFlags(TraceFlags.DEFAULT)
_PRIMITIVE = (str, bool, int, float)
#: How many attributes a server span keeps (the SDK's limit, read once).
MAX_ATTRIBUTES = SpanLimits().max_span_attributes or 128
_MAX_ATTRIBUTES = MAX_ATTRIBUTES
_MAX_EVENTS = 128


def _clean(key: str, value: Any) -> Any:
    """``value`` as the installed SDK keeps it (sequences become tuples), None to drop it:
    through the API's own ``BoundedAttributes``, which applies its rules on assignment."""
    return BoundedAttributes(maxlen=None, attributes={key: value}, immutable=False).get(key)


class ServerSpan(trace_api.Span):
    """A recording server span: the OpenTelemetry ``Span`` API over plain fields.

    Read like an SDK ``ReadableSpan`` by our OTLP encoder (the same field names).

    Example::

        >>> from berrys_monitoring.tracing import configure_tracing
        >>> configure_tracing("doc", exporter="none")
        >>> span = server_spans().begin(None)
        >>> span.is_recording()
        True
    """

    __slots__ = (
        "_owner",
        "attributes",
        "context",
        "dropped_attributes",
        "end_time",
        "events",
        "links",
        "name",
        "parent",
        "start_time",
        "status",
    )

    kind = _SERVER
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
        self.dropped_attributes = 0
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
            attributes=self._readable_attributes(),
            events=tuple(self.events),
            links=tuple(self.links),
            kind=_SERVER,
            status=self.status,
            start_time=self.start_time,
            end_time=self.end_time,
            instrumentation_scope=self._owner.scope,
        )

    def _readable_attributes(self) -> Any:
        if not self.dropped_attributes:
            return dict(self.attributes)
        from opentelemetry.attributes import BoundedAttributes

        bounded = BoundedAttributes(maxlen=None, attributes=self.attributes, immutable=False)
        bounded.dropped = self.dropped_attributes
        return bounded

    # -- the Span API ---------------------------------------------------------------------

    def get_span_context(self) -> SpanContext:
        return self.context

    def is_recording(self) -> bool:
        return self.end_time is None

    def set_attribute(self, key: str, value: Any) -> None:
        if self.end_time is not None:
            return
        if not key or type(key) is not str:
            return  # the SDK drops an invalid key too
        if type(value) not in _PRIMITIVE:
            value = _clean(key, value)
            if value is None:
                return
        attrs = self.attributes
        if len(attrs) >= _MAX_ATTRIBUTES and key not in attrs:
            self.dropped_attributes += 1
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


class UnsampledSpan(trace_api.Span):
    """What an unsampled request gets: the API's ``NonRecordingSpan`` with ``__slots__``
    (one object, not two, held by every request in flight; fewer live objects mean fewer
    garbage collections in a busy server).

    Example::

        >>> from opentelemetry.trace import INVALID_SPAN_CONTEXT
        >>> UnsampledSpan(INVALID_SPAN_CONTEXT).is_recording()
        False
    """

    __slots__ = ("_context",)

    def __init__(self, context: SpanContext) -> None:
        self._context = context

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return False

    def end(self, end_time: int | None = None) -> None:
        pass

    def set_attributes(self, attributes: Any) -> None:
        pass

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def add_event(self, name: str, attributes: Any = None, timestamp: int | None = None) -> None:
        pass

    def add_link(self, context: SpanContext, attributes: Any = None) -> None:
        pass

    def update_name(self, name: str) -> None:
        pass

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        pass

    def record_exception(
        self,
        exception: BaseException,
        attributes: Any = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        pass

    def __repr__(self) -> str:
        return f"NonRecordingSpan({self._context!r})"


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
    """Starts :class:`ServerSpan` s for one tracing configuration (see :func:`server_spans`).

    ``bound`` is the root sampler's: a new trace is sampled when the low 64 bits of its
    id are below it (``TraceIdRatioBased``'s rule); a request with a parent keeps the
    parent's decision (``ParentBased``'s default rules). ``processor`` is our batch
    processor, or None when nothing is exported.
    """

    def __init__(
        self, resource: Any, scope: InstrumentationScope, bound: int, processor: Any
    ) -> None:
        self.resource = resource
        self.scope = scope
        self._bound = bound
        self._processor = processor
        # Our OTLP sender takes spans pre-encoded under this (resource, scope) group tag;
        # any other exporter gets ReadableSpans.
        prepared = processor is not None and processor.prepared
        self._tag = group_tag(resource, scope) if prepared else None

    def begin(self, parent: Context | None) -> ServerSpan | UnsampledSpan:
        """The request's span, before its attributes are built: a :class:`ServerSpan`
        when it is sampled (the caller then sets its ``name`` and ``attributes``), else a
        non-recording :class:`UnsampledSpan` whose ids still propagate. ``parent`` is the
        context extracted from the request's headers.
        """
        parent_sc: SpanContext | None = None
        if parent is not None:
            parent_sc = trace_api.get_current_span(parent).get_span_context()
            if not parent_sc.is_valid:
                parent_sc = None
        span_id = getrandbits(64) or 1
        if parent_sc is None:
            trace_id = getrandbits(128) or 1
            # SpanContext(trace_id, span_id, False, flags) without its Python __new__:
            # both ids are random, non-zero and in range, so the context is valid.
            if (trace_id & 0xFFFFFFFFFFFFFFFF) < self._bound:
                ctx = _new_tuple(
                    SpanContext, (trace_id, span_id, False, _SAMPLED_ROOT, _NO_STATE, True)
                )
                return ServerSpan(self, "", ctx, None, {})
            return UnsampledSpan(
                _new_tuple(
                    SpanContext, (trace_id, span_id, False, _UNSAMPLED_ROOT, _NO_STATE, True)
                )
            )
        pflags = parent_sc.trace_flags
        random_bit = pflags & RANDOM_TRACE_ID
        if pflags.sampled:
            flags = TraceFlags(TraceFlags.SAMPLED | random_bit) if random_bit else _SAMPLED
            ctx = SpanContext(parent_sc.trace_id, span_id, False, flags, parent_sc.trace_state)
            return ServerSpan(self, "", ctx, parent_sc, {})
        flags = TraceFlags(random_bit) if random_bit else _UNSAMPLED
        ctx = SpanContext(parent_sc.trace_id, span_id, False, flags, parent_sc.trace_state)
        return UnsampledSpan(ctx)

    def start(
        self, name: str, parent: Context | None, attributes: dict[str, Any]
    ) -> ServerSpan | UnsampledSpan:
        """:meth:`begin`, then the sampled span gets ``name`` and ``attributes`` (kept, not
        copied: the caller hands over a dict it made).

        Example::

            >>> from berrys_monitoring.tracing import configure_tracing
            >>> configure_tracing("doc", exporter="none")
            >>> server_spans().start("GET", None, {"url.path": "/"}).attributes
            {'url.path': '/'}
        """
        span = self.begin(parent)
        if type(span) is ServerSpan:
            span.name = name
            span.attributes = attributes
        return span

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
                    processor.enqueue(item)
                    return
            processor.enqueue(span.to_readable())
        except Exception as exc:
            report_internal_error(_COMPONENT, exc, "cannot hand a server span to its processor")


# -- which configurations take the lean path ---------------------------------------------

_cache: tuple[int, ServerSpans | None] = (-1, None)
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
    generation, found = _cache
    if generation == STATE.generation:
        return found
    with _cache_lock:
        generation = STATE.generation
        found = _make(scope_name)
        globals()["_cache"] = (generation, found)
        return found


def _make(scope_name: str) -> ServerSpans | None:
    from berrys_monitoring._version import __version__
    from berrys_monitoring.tracing._switch import SwitchableTracerProvider

    provider = STATE.provider
    plan = STATE.server_spans
    if provider is None or plan is None or STATE.temporary:
        return None
    if not isinstance(trace_api.get_tracer_provider(), SwitchableTracerProvider):
        return None  # someone else's provider is global: their spans, their rules
    if os.environ.get("OTEL_PYTHON_SDK_INTERNAL_METRICS_ENABLED", "").lower() == "true":
        return None  # the SDK counts its spans itself then
    if type(provider.id_generator) is not RandomIdGenerator:
        return None  # OTEL_PYTHON_ID_GENERATOR chose other ids
    bound, processor = plan
    return ServerSpans(
        provider.resource, InstrumentationScope(scope_name, __version__), bound, processor
    )
