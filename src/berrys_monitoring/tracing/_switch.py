"""A tracer provider that can be re-pointed.

OpenTelemetry lets the global tracer provider be set only once per process, and a tracer
keeps the sampler and processors of the provider that made it. So the global provider we
install is a thin switch: its tracers resolve the *current* SDK provider (cheaply, by
generation number) on every call. ``configure_tracing`` can then be called again, tests
can reconfigure, and instrumentations that grabbed a tracer at import follow along.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.util.types import Attributes

from berrys_monitoring._version import __version__
from berrys_monitoring.tracing._redact import redact_span

_NOOP_PROVIDER = trace_api.NoOpTracerProvider()


def record_error(
    span: trace_api.Span, exc: BaseException, *, record: bool = True, set_status: bool = True
) -> None:
    """What the SDK does for an exception leaving a current span: an ``exception`` event
    and an ERROR status described as ``Type: message``."""
    if span.is_recording():
        if record:
            span.record_exception(exc)
        if set_status:
            span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))


class _State:
    """The current configuration; ``generation`` changes whenever ``provider`` does."""

    generation = 0
    provider: SDKTracerProvider | None = None
    # Processors we own on ``provider`` (flushed and shut down with it).
    processors: list[SpanProcessor] = []
    # Listeners that see every ended span of whichever provider is current (capture_spans).
    listeners: tuple[SpanProcessor, ...] = ()
    # True while capture_spans() lent a provider to an unconfigured process.
    temporary = False
    # What configure_tracing knows of ``provider`` when the middleware's lean server spans
    # fit it: (its root sampler's bound, our batch processor or None); None otherwise.
    server_spans: tuple[int, Any] | None = None


STATE = _State()


def set_provider(
    provider: SDKTracerProvider | None,
    processors: list[SpanProcessor],
    server_spans: tuple[int, Any] | None = None,
) -> None:
    STATE.provider = provider
    STATE.processors = processors
    STATE.server_spans = server_spans
    STATE.generation += 1


class ListenerFanout(SpanProcessor):
    """Forwards ended spans to the listeners in STATE (capture_spans); empty by default."""

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        listeners = STATE.listeners
        if listeners:
            span = redact_span(span)  # what the listeners of an exporting pipeline see
            for listener in listeners:
                listener.on_end(span)

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


class SwitchableTracerProvider(trace_api.TracerProvider):
    """The provider installed globally; hands out tracers that follow reconfiguration."""

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
    ) -> SwitchableTracer:
        return SwitchableTracer(
            instrumenting_module_name,
            instrumenting_library_version,
            schema_url,
            attributes,
            fallback_to_global=False,
        )


SWITCH = SwitchableTracerProvider()


class SwitchableTracer(trace_api.Tracer):
    """A tracer that delegates to a tracer of the current provider.

    Unconfigured, our public ``tracer`` follows the global provider (so it works under
    ``opentelemetry-instrument`` too); tracers handed out by the switch itself fall back to
    a no-op instead, since the global provider *is* the switch.

    Example::

        with tracer.start_as_current_span("operation_name", kind=SpanKind.SERVER) as span:
            span.set_attribute("key", "value")
    """

    __slots__ = ("_args", "_fallback_to_global", "_gen", "_real")

    def __init__(
        self,
        name: str,
        version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes | None = None,
        *,
        fallback_to_global: bool,
    ) -> None:
        self._args = (name, version, schema_url, attributes)
        self._fallback_to_global = fallback_to_global
        self._gen = -1
        self._real: trace_api.Tracer = trace_api.NoOpTracer()

    def resolve(self) -> trace_api.Tracer:
        """The tracer of the current provider (cached until the configuration changes)."""
        if self._gen != STATE.generation:
            self._real = self._make()
            self._gen = STATE.generation
        return self._real

    def _make(self) -> trace_api.Tracer:
        name, version, schema_url, attributes = self._args
        provider: trace_api.TracerProvider | None = STATE.provider
        if provider is None:
            glob = trace_api.get_tracer_provider()
            use_global = self._fallback_to_global and not isinstance(glob, SwitchableTracerProvider)
            provider = glob if use_global else _NOOP_PROVIDER
            if use_global and isinstance(glob, trace_api.ProxyTracerProvider):
                # The API's proxy tracer follows a provider set later by someone else;
                # never cache a resolved no-op in its place.
                return trace_api.ProxyTracer(name, version, schema_url, attributes)
        return provider.get_tracer(name, version, schema_url, attributes)

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        """Start a span (not made current); see :meth:`opentelemetry.trace.Tracer.start_span`."""
        return self.resolve().start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )

    def start_as_current_span(  # type: ignore[override]
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Any:
        """Start a span and make it current for a ``with`` block (or use as a decorator).

        Example::

            with tracer.start_as_current_span("operation_name", kind=SpanKind.SERVER) as span:
                span.set_attribute("key", "value")
        """
        return _CurrentSpan(
            self,
            (
                name,
                context,
                kind,
                attributes,
                links,
                start_time,
                record_exception,
                set_status_on_exception,
                end_on_exit,
            ),
        )


class _CurrentSpan:
    """What ``start_as_current_span`` returns: a context manager that resolves the tracer
    when entered, not when created, so ``@tracer.start_as_current_span("x")`` applied at
    import time follows a later configure_tracing. A small class, not a generator-based
    context manager: it costs a fraction of what a second ``@contextmanager`` layer would.
    """

    __slots__ = ("_args", "_span", "_token", "_tracer")

    def __init__(self, tracer: SwitchableTracer, args: tuple[Any, ...]) -> None:
        self._tracer = tracer
        self._args = args

    # The same steps as the SDK's start_as_current_span + use_span (start, attach, record
    # an Exception and set ERROR, detach, end), without their two generator-based
    # context manager layers: cheaper than the bare SDK call it replaces.
    def __enter__(self) -> trace_api.Span:
        span = self._tracer.resolve().start_span(*self._args[:8])
        self._span = span
        self._token = context_api.attach(trace_api.set_span_in_context(span))
        return span

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        span = self._span
        try:
            context_api.detach(self._token)
            # Only Exception: GeneratorExit, KeyboardInterrupt, CancelledError are not errors.
            if isinstance(exc, Exception):
                record_error(span, exc, record=self._args[6], set_status=self._args[7])
        finally:
            if self._args[8]:
                span.end()

    def __call__(self, func: Callable[..., Any]) -> Callable[..., Any]:
        tracer, args = self._tracer, self._args
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def async_wrapper(*a: Any, **kw: Any) -> Any:
                with _CurrentSpan(tracer, args):
                    return await func(*a, **kw)

            return async_wrapper

        @functools.wraps(func)
        def wrapper(*a: Any, **kw: Any) -> Any:
            with _CurrentSpan(tracer, args):
                return func(*a, **kw)

        return wrapper


#: The library's tracer. Works before configure_tracing (no-op, or the global provider
#: when someone else configured OpenTelemetry) and after it.
tracer = SwitchableTracer("berrys_monitoring", __version__, fallback_to_global=True)
