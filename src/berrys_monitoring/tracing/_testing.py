"""capture_spans(): assert on your own instrumentation in tests, no collector needed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SDKSpan

from berrys_monitoring.tracing._configure import configure_tracing, shutdown_tracing
from berrys_monitoring.tracing._switch import STATE

_lock = threading.Lock()


class CapturedSpans(list[ReadableSpan]):
    """The finished spans, in the order they ended, with a few lookup helpers.

    Example::

        with capture_spans() as spans:
            ...
        assert spans.names() == ["child", "parent"]
    """

    def names(self) -> list[str]:
        """Span names in end order."""
        return [s.name for s in self]

    def by_name(self, name: str) -> ReadableSpan:
        """The (first) span called ``name``; KeyError when there is none."""
        for s in self:
            if s.name == name:
                return s
        raise KeyError(f"no span named {name!r}; captured: {self.names()}")


class _Collect(SpanProcessor):
    def __init__(self, sink: CapturedSpans) -> None:
        self._sink = sink

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        self._sink.append(span)


@contextmanager
def capture_spans() -> Iterator[CapturedSpans]:
    """Collect every span that ends inside the block into a list (a test helper).

    Uses the current configuration (resource, sampler) when tracing is configured; in an
    unconfigured process it lends a recording, always-sampling pipeline for the duration
    of the block (nothing is exported) and removes it afterwards.

    Example::

        with capture_spans() as spans:
            process_request({"id": 1})
        assert spans.by_name("process_request").status.is_ok
    """
    sink = CapturedSpans()
    listener = _Collect(sink)
    lent = False
    with _lock:
        if STATE.provider is None:
            configure_tracing("test", exporter="none")
            STATE.temporary = True
            lent = True
        STATE.listeners = (*STATE.listeners, listener)
    try:
        yield sink
    finally:
        with _lock:
            STATE.listeners = tuple(x for x in STATE.listeners if x is not listener)
            if lent and STATE.temporary:
                shutdown_tracing(timeout=1.0)
