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

import time
import traceback
from typing import TYPE_CHECKING, Any

from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, SpanContext, SpanKind, Status, StatusCode, TraceFlags

if TYPE_CHECKING:
    from berrys_monitoring.tracing._server_spans import ServerSpans

__all__ = ["ServerSpan", "UnsampledSpan"]

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
        >>> from berrys_monitoring.tracing._server_spans import server_spans
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
