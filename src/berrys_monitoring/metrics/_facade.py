"""The recording functions of the seed API. Each is a loop over the active backends.

``configure_metrics`` swaps the module-level ``_backends`` tuple; with ``enabled=False`` it
is empty, so a call costs a function call and an empty loop.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Protocol, TypeVar, cast

__all__ = ["Backend", "gauge", "histogram", "increment_counter", "record_timer"]

F = TypeVar("F", bound=Callable[..., Any])


class Backend(Protocol):
    """What a metrics backend implements (pass an instance in ``configure_metrics(backend=)``).

    Methods must never raise into the caller; ``flush`` and ``close`` may block briefly.

    Example::

        class Printer:
            name = "printer"
            def increment(self, name, tags, value): print("+", name, value)
            def gauge(self, name, tags, value): print("=", name, value)
            def observe(self, name, tags, value): print("~", name, value)
            def timing(self, name, tags, seconds): print("t", name, seconds)
            def flush(self): pass
            def close(self): pass
    """

    name: str

    def increment(self, name: str, tags: Mapping[str, object] | None, value: float) -> None: ...
    def gauge(self, name: str, tags: Mapping[str, object] | None, value: float) -> None: ...
    def observe(self, name: str, tags: Mapping[str, object] | None, value: float) -> None: ...
    def timing(self, name: str, tags: Mapping[str, object] | None, seconds: float) -> None: ...
    def flush(self) -> Any: ...
    def close(self) -> None: ...


_backends: tuple[Backend, ...] = ()

# The open ``with record_timer(...)`` blocks of the current context (thread or asyncio
# task), innermost last. Start times live here rather than on the instance: a module-level
# ``timer = record_timer(...)`` entered by two threads or tasks at once would otherwise pair
# one's exit with the other's start.
_open: contextvars.ContextVar[tuple[tuple[object, float], ...]] = contextvars.ContextVar(
    "berrys_monitoring_open_timers", default=()
)


def increment_counter(
    name: str, tags: Mapping[str, object] | None = None, value: float = 1
) -> None:
    """Add ``value`` (default 1) to the counter ``name`` with ``tags`` as labels.

    Exposed by Prometheus as ``<prefix>_<name>_total``. Never raises.

    Example::

        increment_counter("api_requests_total", {"endpoint": "/users", "method": "GET"})
    """
    for b in _backends:
        b.increment(name, tags, value)


def gauge(name: str, value: float, tags: Mapping[str, object] | None = None) -> None:
    """Set the gauge ``name`` to ``value``. Never raises.

    Example::

        gauge("active_connections", 42, {"service": "api-gateway"})
    """
    for b in _backends:
        b.gauge(name, tags, value)


def histogram(name: str, value: float, tags: Mapping[str, object] | None = None) -> None:
    """Observe ``value`` in the histogram ``name``; carries the active trace id as exemplar.

    Example::

        histogram("response_size_bytes", 1024, {"endpoint": "/users", "method": "GET"})
    """
    for b in _backends:
        b.observe(name, tags, value)


def _record(name: str, tags: Mapping[str, object] | None, seconds: float) -> None:
    for b in _backends:
        b.timing(name, tags, seconds)


class record_timer:
    """Time a function (sync or async) or a block; records seconds into ``<name>_seconds``.

    The duration is recorded whether the timed code returns or raises; its exception is
    re-raised unchanged.

    Example::

        @record_timer("function_execution_time", {"function": "process_data"})
        def process_data():
            pass

        with record_timer("batch_duration", {"queue": "email"}):
            process_data()
    """

    __slots__ = ("name", "tags")

    def __init__(self, name: str, tags: Mapping[str, object] | None = None) -> None:
        self.name = name
        self.tags = dict(tags) if tags else None

    def __call__(self, fn: F) -> F:
        name, tags = self.name, self.tags
        if inspect.iscoroutinefunction(fn):
            afn = cast(Callable[..., Awaitable[Any]], fn)

            @functools.wraps(fn)
            async def awrapper(*args: Any, **kwargs: Any) -> Any:
                t0 = time.perf_counter()
                try:
                    return await afn(*args, **kwargs)
                finally:
                    _record(name, tags, time.perf_counter() - t0)

            return cast(F, awrapper)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                _record(name, tags, time.perf_counter() - t0)

        return cast(F, wrapper)

    def __enter__(self) -> record_timer:
        _open.set((*_open.get(), (self, time.perf_counter())))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        end = time.perf_counter()
        stack = _open.get()
        if stack and stack[-1][0] is self:  # the usual case: the innermost block
            _open.set(stack[:-1])
            _record(self.name, self.tags, end - stack[-1][1])
            return
        for i in range(len(stack) - 2, -1, -1):  # exited out of order: find our entry
            if stack[i][0] is self:
                _open.set(stack[:i] + stack[i + 1 :])
                _record(self.name, self.tags, end - stack[i][1])
                return

    async def __aenter__(self) -> record_timer:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, tb)
