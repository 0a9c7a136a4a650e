"""Never break the host application: one place that turns internal failures into a log
line (once per kind) and a count, instead of an exception in user code.

Two kinds of failure go through here:

* *operational* ones (a dead collector, a full disk, a refused connection) are expected in
  production. Call :func:`report_internal_error` with ``expected=True``: always swallowed.
* *bugs* (a ``TypeError`` in our own code). :func:`guard` swallows them in production, but
  when ``BERRYS_MONITORING_STRICT=1`` (the test suite sets it) they are re-raised so that
  they surface in tests instead of hiding behind a log line.
"""

from __future__ import annotations

import functools
import logging
import os
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = [
    "count_event",
    "event_counts",
    "guard",
    "guarded",
    "internal_error_counts",
    "is_strict",
    "quiet_otlp_exporter_logs",
    "report_internal_error",
    "reset_internal_errors",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Where the telemetry hub is: logging and tracing send to it when nothing else is set, and
#: ``setup_monitoring`` registers the service with it (``middleware/_hub.py``).
HUB_URL_ENV = "BERRYS_MONITORING_HUB_URL"
HUB_TOKEN_ENV = "BERRYS_MONITORING_TOKEN"


def hub_auth_headers() -> dict[str, str] | None:
    """``Authorization: Bearer <$BERRYS_MONITORING_TOKEN>`` for calls to the hub, or None.

    Example::

        >>> hub_auth_headers() is None or "Authorization" in hub_auth_headers()
        True
    """
    token = os.environ.get(HUB_TOKEN_ENV)
    return {"Authorization": f"Bearer {token}"} if token else None


# Internal errors are logged through a plain stdlib logger that the package never
# configures with its own handlers, so a failing handler of ours cannot recurse here.
_log = logging.getLogger("berrys_monitoring.internal")

_lock = threading.Lock()
_seen: set[tuple[str, str]] = set()
_errors: dict[str, int] = {}
_events: dict[tuple[str, str], int] = {}
# Called with (component, event or None for an internal error, n) after every count.
_sinks: list[Callable[[str, str | None, int], object]] = []


def _reinit_after_fork() -> None:
    # A thread of the parent may have held the lock at the moment of fork(); it does not
    # exist in the child, so the copied lock would stay locked and the child's first
    # count_event() would hang forever (gunicorn --preload, multiprocessing).
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_reinit_after_fork)


def after_fork_in_child(method: Callable[[], object]) -> None:
    """Call the bound ``method`` in every forked child for as long as its object lives.

    A weak reference: registering does not keep the object (an exporter, a processor)
    alive, since ``os.register_at_fork`` hooks cannot be removed. No-op off POSIX.

    Example::

        >>> class Pool:
        ...     def reconnect(self) -> None:
        ...         self.connections = []  # the parent's sockets are not the child's
        >>> pool = Pool()
        >>> after_fork_in_child(pool.reconnect)
    """
    if not hasattr(os, "register_at_fork"):
        return
    ref = weakref.WeakMethod(method)  # type: ignore[arg-type]

    def child() -> None:
        live = ref()
        if live is not None:
            live()

    os.register_at_fork(after_in_child=child)


def is_strict() -> bool:
    """True when internal bugs should be re-raised (the test suite sets this)."""
    return os.environ.get("BERRYS_MONITORING_STRICT", "") not in ("", "0", "false")


def report_internal_error(
    component: str,
    exc: BaseException | None = None,
    message: str | None = None,
    *,
    key: str | None = None,
) -> None:
    """Count an internal failure of ``component`` and log it the first time it is seen.

    ``key`` names the kind of failure for de-duplication (default: the exception type), so
    a collector that stays down for an hour logs one line, not one per export.

    Example::

        try:
            sock.sendto(payload, addr)
        except OSError as exc:
            report_internal_error("statsd", exc, "cannot send to the StatsD host")
    """
    kind = key or (type(exc).__name__ if exc is not None else (message or "error"))
    with _lock:
        _errors[component] = _errors.get(component, 0) + 1
        first = (component, kind) not in _seen
        if first:
            _seen.add((component, kind))
    if _sinks:
        _to_sinks(component, None, 1)
    if first:
        text = message or "internal error"
        try:
            if exc is not None:
                _log.warning(
                    "berrys_monitoring %s: %s: %s: %s (logged once; further ones are counted)",
                    component,
                    text,
                    type(exc).__name__,
                    exc,
                )
            else:
                _log.warning(
                    "berrys_monitoring %s: %s (logged once; further ones are counted)",
                    component,
                    text,
                )
        except Exception:
            pass


def count_event(component: str, event: str, n: int = 1) -> None:
    """Count a self-monitoring event such as a dropped span or a folded label set.

    Example::

        count_event("statsd", "dropped_queue_full")
    """
    with _lock:
        k = (component, event)
        _events[k] = _events.get(k, 0) + n
    if _sinks:
        _to_sinks(component, event, n)


def _to_sinks(component: str, event: str | None, n: int) -> None:
    for sink in _sinks:
        try:
            sink(component, event, n)
        except Exception:
            pass  # counting must never raise into the caller


def add_count_sink(sink: Callable[[str, str | None, int], object]) -> None:
    """Also hand every count to ``sink(component, event, n)`` (``event`` is None for an
    internal error), starting with the counts so far. Multi-worker servers use it to put
    the counts where every worker's scrape sees them (``metrics/_selfmetrics``).

    Example::

        >>> seen = []
        >>> def sink(component, event, n):
        ...     seen.append((component, event, n))
        >>> add_count_sink(sink)
        >>> count_event("doc", "example")
        >>> ("doc", "example", 1) in seen
        True
        >>> remove_count_sink(sink)
    """
    with _lock:
        if sink in _sinks:
            return
        errors, events = dict(_errors), dict(_events)
        _sinks.append(sink)
    for component, n in errors.items():
        sink(component, None, n)
    for (component, event), n in events.items():
        sink(component, event, n)


def remove_count_sink(sink: Callable[[str, str | None, int], object]) -> None:
    """Stop handing counts to ``sink`` (no-op if it was not added)."""
    with _lock:
        if sink in _sinks:
            _sinks.remove(sink)


def internal_error_counts() -> dict[str, int]:
    """A copy of the internal error counts per component.

    Example::

        >>> from berrys_monitoring import internal_error_counts
        >>> isinstance(internal_error_counts(), dict)
        True
    """
    with _lock:
        return dict(_errors)


def event_counts() -> dict[tuple[str, str], int]:
    """A copy of the self-monitoring event counts, keyed ``(component, event)``."""
    with _lock:
        return dict(_events)


def reset_internal_errors() -> None:
    """Forget counts and the de-duplication memory (for tests).

    Example::

        >>> from berrys_monitoring import reset_internal_errors
        >>> reset_internal_errors()
    """
    with _lock:
        _seen.clear()
        _errors.clear()
        _events.clear()


@contextmanager
def guard(component: str, message: str | None = None) -> Iterator[None]:
    """Swallow (log once and count) any exception raised in the block; re-raise in strict mode.

    Example::

        with guard("metrics", "cannot record histogram"):
            child.observe(value)
    """
    try:
        yield
    except Exception as exc:
        report_internal_error(component, exc, message)
        if is_strict():
            raise


def guarded(component: str, default: Any = None) -> Callable[[F], F]:
    """Decorator form of :func:`guard`; the wrapped function returns ``default`` on failure.

    Example::

        @guarded("logging")
        def emit(record): ...
    """

    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                report_internal_error(component, exc, f"{fn.__qualname__} failed")
                if is_strict():
                    raise
                return default

        return wrapper  # type: ignore[return-value]

    return deco


# The official OTLP/HTTP exporters log every retry of every batch ("Transient error …
# retrying in 1.7s"): with a collector down for an hour that is thousands of lines. Our rule
# is once per kind, then count.
_OTLP_EXPORTER_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http._common",
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",
    "opentelemetry.exporter.otlp.proto.http.metric_exporter",
    "opentelemetry.exporter.otlp.proto.http._log_exporter",
)


class _OncePerKindFilter(logging.Filter):
    """Lets the first record of each message template through; counts the rest."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self.component = component
        self._seen: set[tuple[str, str]] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        key = (
            record.name,
            record.msg if isinstance(record.msg, str) else type(record.msg).__name__,
        )
        with _lock:
            if key not in self._seen:
                self._seen.add(key)
                return True
        count_event(self.component, "exporter_log_suppressed")
        return False


def quiet_otlp_exporter_logs(component: str = "otlp") -> None:
    """Make the OTLP exporters' own loggers say each kind of message once, then count it.

    Idempotent; called when an OTLP exporter is configured.

    Example::

        >>> from berrys_monitoring._internal import quiet_otlp_exporter_logs
        >>> quiet_otlp_exporter_logs()
    """
    for name in _OTLP_EXPORTER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _OncePerKindFilter) for f in logger.filters):
            logger.addFilter(_OncePerKindFilter(component))
