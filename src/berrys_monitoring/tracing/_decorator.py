"""``@trace(name)``: one span per call, for sync and async functions and (async) generators."""

from __future__ import annotations

import functools
import inspect
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from typing import Any, TypeVar, overload

from opentelemetry import context as context_api
from opentelemetry import trace as trace_api
from opentelemetry.trace import SpanKind
from opentelemetry.util.types import AttributeValue

from berrys_monitoring.tracing._switch import record_error as _record_error
from berrys_monitoring.tracing._switch import tracer as _tracer

F = TypeVar("F", bound=Callable[..., Any])


@overload
def trace(name: F) -> F: ...


@overload
def trace(
    name: str | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Callable[[F], F]: ...


def trace(
    name: str | Callable[..., Any] | None = None,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, AttributeValue] | None = None,
) -> Any:
    """Decorate a function so that every call runs inside a span called ``name``.

    Works on functions, ``async def`` coroutines, generators and async generators (the
    span covers the whole iteration, and is current only while the generator's own code
    runs). An exception is recorded on the span, its status set to ERROR, and the same
    exception re-raised unchanged. Without a name the function's qualified name is used;
    ``@trace`` without parentheses works too.

    Example::

        @trace("process_request")
        def process_request(request_data):
            get_current_span().set_attribute("items", len(request_data))
    """
    if callable(name):
        return trace(None)(name)
    attrs = dict(attributes) if attributes else None

    def decorate(fn: F) -> F:
        span_name = name or getattr(fn, "__qualname__", None) or repr(fn)
        if inspect.isasyncgenfunction(fn):
            return _wrap_async_gen(fn, span_name, kind, attrs)  # type: ignore[return-value]
        if inspect.isgeneratorfunction(fn):
            return _wrap_gen(fn, span_name, kind, attrs)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(fn):

            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                span = _tracer.resolve().start_span(span_name, None, kind, attrs)
                token = context_api.attach(trace_api.set_span_in_context(span))
                try:
                    return await fn(*args, **kwargs)
                except Exception as exc:
                    _record_error(span, exc)
                    raise
                finally:
                    context_api.detach(token)
                    span.end()

            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            # Inline start/attach/detach/end rather than the SDK's start_as_current_span:
            # the same semantics without its two generator-based context managers.
            span = _tracer.resolve().start_span(span_name, None, kind, attrs)
            token = context_api.attach(trace_api.set_span_in_context(span))
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                _record_error(span, exc)
                raise
            finally:
                context_api.detach(token)
                span.end()

        return wrapper  # type: ignore[return-value]

    return decorate


def _wrap_gen(
    fn: Callable[..., Generator[Any, Any, Any]],
    span_name: str,
    kind: SpanKind,
    attrs: dict[str, AttributeValue] | None,
) -> Callable[..., Generator[Any, Any, Any]]:
    # The span must not stay attached while the *consumer* runs between two items: that
    # would make the consumer's spans children of the generator and break context
    # detach order. So it is attached around each step of the inner generator only.
    @functools.wraps(fn)
    def gen_wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        span = _tracer.resolve().start_span(span_name, kind=kind, attributes=attrs)
        ctx = trace_api.set_span_in_context(span)
        try:
            token = context_api.attach(ctx)
            try:
                gen = fn(*args, **kwargs)
            finally:
                context_api.detach(token)
            step: Callable[[Any], Any] = gen.send
            arg: Any = None
            while True:
                token = context_api.attach(ctx)
                try:
                    item = step(arg)
                except StopIteration as stop:
                    return stop.value
                except Exception as exc:
                    _record_error(span, exc)
                    raise
                finally:
                    context_api.detach(token)
                try:
                    arg = yield item
                    step = gen.send
                except GeneratorExit:
                    token = context_api.attach(ctx)
                    try:
                        gen.close()
                    finally:
                        context_api.detach(token)
                    raise
                except BaseException as exc:  # thrown in by the consumer: pass it on
                    step, arg = gen.throw, exc
        finally:
            span.end()

    return gen_wrapper


def _wrap_async_gen(
    fn: Callable[..., AsyncGenerator[Any, Any]],
    span_name: str,
    kind: SpanKind,
    attrs: dict[str, AttributeValue] | None,
) -> Callable[..., AsyncGenerator[Any, Any]]:
    @functools.wraps(fn)
    async def agen_wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        span = _tracer.resolve().start_span(span_name, kind=kind, attributes=attrs)
        ctx = trace_api.set_span_in_context(span)
        try:
            token = context_api.attach(ctx)
            try:
                agen = fn(*args, **kwargs)
            finally:
                context_api.detach(token)
            step: Callable[[Any], Any] = agen.asend
            arg: Any = None
            while True:
                token = context_api.attach(ctx)
                try:
                    item = await step(arg)
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    _record_error(span, exc)
                    raise
                finally:
                    context_api.detach(token)
                try:
                    arg = yield item
                    step = agen.asend
                except GeneratorExit:
                    token = context_api.attach(ctx)
                    try:
                        await agen.aclose()
                    finally:
                        context_api.detach(token)
                    raise
                except BaseException as exc:
                    step, arg = agen.athrow, exc
        finally:
            span.end()

    return agen_wrapper
