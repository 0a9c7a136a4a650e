"""The export path: our batch processor, and the exporters it drives.

:class:`BatchProcessor` is an SDK ``SpanProcessor`` of our own, built on the public
interface only: a bounded deque, one worker thread, ``force_flush`` and ``shutdown`` that
honour their timeouts, and every span it cannot keep counted. It redacts each ended span
(see ``_redact``) before the ``capture_spans()`` listeners or an exporter see it, and for
our OTLP/HTTP sender (``_otlp_http``) it queues sampled spans already encoded, as one
``bytes`` object each (see ``_otlp_encode``).

Exporters run on the worker thread, never on the caller's, so a slow or dead collector
costs the application nothing but the spans it drops. :class:`SafeExporter` makes an
exporter's failure a count and a single log line, never an exception.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.sdk.trace import Span as SDKSpan
from opentelemetry.sdk.trace.export import (
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)

from berrys_monitoring._internal import (
    after_fork_in_child,
    count_event,
    is_strict,
    quiet_otlp_exporter_logs,
    report_internal_error,
)
from berrys_monitoring.tracing._otlp_encode import prepare_span
from berrys_monitoring.tracing._otlp_http import (
    DEFAULT_ENDPOINT,
    OTLPHTTPSender,
    sender_settings,
    traces_url,
)
from berrys_monitoring.tracing._redact import redact_span
from berrys_monitoring.tracing._switch import STATE

__all__ = [
    "COMPONENT",
    "DEFAULT_ENDPOINT",
    "EXPORTER_NAMES",
    "BatchProcessor",
    "SafeExporter",
    "console_exporter_factory",
    "grpc_exporter_factory",
    "otlp_exporter_factory",
    "resolve_traces_endpoint",
]

COMPONENT = "tracing"
DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317"
EXPORTER_NAMES = ("otlp", "console", "none")


def resolve_traces_endpoint(endpoint: str | None) -> str:
    """The full ``/v1/traces`` URL of ``endpoint``, else of the standard variables, else
    the default; ``ValueError`` naming the argument or variable when it is malformed.

    Example::

        >>> resolve_traces_endpoint("https://collector.example:4318/")
        'https://collector.example:4318/v1/traces'
    """
    return sender_settings(endpoint).url


def otlp_exporter_factory(
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    compression: str | None = None,
) -> tuple[Callable[[], SpanExporter], str]:
    """A factory for our OTLP/HTTP sender and where it sends; the settings are resolved
    and checked now. A clear ImportError without the ``otlp`` extra."""
    try:
        import opentelemetry.proto.collector.trace.v1.trace_service_pb2  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "exporter='otlp' needs the OTLP protobuf messages: "
            "pip install 'berrys-monitoring[otlp]'"
        ) from exc
    settings = sender_settings(endpoint, headers, timeout, compression)

    def make() -> SpanExporter:
        return OTLPHTTPSender(settings)

    return make, settings.url


def grpc_exporter_factory(
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    compression: str | None = None,
) -> tuple[Callable[[], SpanExporter], str]:
    """A factory for the official OTLP/gRPC exporter and where it sends; a clear
    ImportError without the ``otlp-grpc`` extra. The endpoint is ``scheme://host:port``
    (no path; ``http`` means no TLS), by default the variables' or
    ``http://127.0.0.1:4317``."""
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise ImportError(
            "OTLP over gRPC needs the gRPC exporter: pip install 'berrys-monitoring[otlp-grpc]'"
        ) from exc
    from grpc import Compression

    quiet_otlp_exporter_logs("tracing")
    url = endpoint or (
        os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or DEFAULT_GRPC_ENDPOINT
    )
    traces_url(url, "a gRPC endpoint", append=False)
    comp = {"gzip": Compression.Gzip, "deflate": Compression.Deflate}.get(compression or "")
    hdrs = dict(headers) if headers else None
    insecure = url.startswith("http:")

    def make() -> SpanExporter:
        exporter: SpanExporter = OTLPSpanExporter(
            endpoint=url, insecure=insecure, headers=hdrs, timeout=timeout, compression=comp
        )
        return exporter

    return make, url


def console_exporter_factory() -> Callable[[], SpanExporter]:
    def make() -> SpanExporter:
        # Resolved at creation, not import, so pytest's capsys and redirected stdout work.
        return ConsoleSpanExporter(out=sys.stdout)

    return make


class SafeExporter(SpanExporter):
    """Wraps an exporter: failures are counted and logged once, never raised.

    :meth:`recreate` makes a new one from the factory; the processor calls it in a forked
    child, whose copy of the parent's HTTP connections must not be used by two processes.
    """

    def __init__(self, factory: Callable[[], SpanExporter], target: str) -> None:
        self._factory = factory
        self._target = target
        self._inner = factory()

    @property
    def inner(self) -> SpanExporter:
        return self._inner

    def recreate(self) -> None:
        try:
            self._inner = self._factory()
        except Exception as exc:  # keep the parent's exporter rather than none at all
            report_internal_error(COMPONENT, exc, "cannot re-create the exporter after fork")

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        try:
            result = self._inner.export(spans)
        except Exception as exc:
            report_internal_error(COMPONENT, exc, f"span exporter to {self._target} raised")
            result = SpanExportResult.FAILURE
        if result is SpanExportResult.SUCCESS:
            count_event(COMPONENT, "spans_exported", len(spans))
        else:
            count_event(COMPONENT, "spans_dropped_export_failed", len(spans))
            report_internal_error(
                COMPONENT,
                message=f"cannot export spans to {self._target}; they are dropped",
                key="export_failed",
            )
        return result

    def shutdown(self) -> None:
        try:
            self._inner.shutdown()
        except Exception as exc:
            report_internal_error(COMPONENT, exc, "span exporter shutdown failed")

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        try:
            return bool(self._inner.force_flush(timeout_millis))
        except Exception as exc:
            report_internal_error(COMPONENT, exc, "span exporter flush failed")
            return False


_getpid = os.getpid


class BatchProcessor(SpanProcessor):
    """Ended spans into a bounded queue; a worker thread exports them in batches.

    * A span arriving at a full queue is dropped and counted
      (``spans_dropped_queue_full``); the caller never waits.
    * The worker wakes as soon as a full batch is queued and sends full batches; every
      ``schedule_delay_millis`` it sends whatever is queued. Spans that arrive while it
      sends wait for the next round (under load: a few large requests, not a stream of
      small ones).
    * :meth:`force_flush` and :meth:`shutdown` wait at most their timeout.
    * After a fork (also one that ran no Python hooks, as uWSGI's: the process id tells)
      the child drops the parent's queue, makes its own exporter and starts its own
      worker.

    Exactly one processor per provider: it also hands every ended span to the
    ``capture_spans()`` listeners (each processor costs three calls per span).

    Example::

        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
        ...     InMemorySpanExporter)
        >>> exporter = InMemorySpanExporter()
        >>> provider = TracerProvider()
        >>> provider.add_span_processor(BatchProcessor(exporter))
        >>> provider.get_tracer("doc").start_span("op").end()
        >>> provider.force_flush()
        True
        >>> [s.name for s in exporter.get_finished_spans()]
        ['op']
    """

    def __init__(
        self,
        exporter: SpanExporter,
        *,
        max_queue_size: int = 2048,
        max_export_batch_size: int = 512,
        schedule_delay_millis: float = 5000,
    ) -> None:
        if max_queue_size < 1 or not 1 <= max_export_batch_size <= max_queue_size:
            raise ValueError("need 1 <= max_export_batch_size <= max_queue_size")
        self.exporter = exporter
        target = exporter.inner if isinstance(exporter, SafeExporter) else exporter
        #: Whether sampled spans are queued encoded (``bytes``) for our OTLP sender.
        self.prepared = bool(getattr(target, "accepts_prepared", False))
        self.max_queue_size = max_queue_size
        self.max_export_batch_size = max_export_batch_size
        self.schedule_delay_s = schedule_delay_millis / 1000
        self._start()
        self._stopped = False
        after_fork_in_child(self._after_fork)

    def _start(self) -> None:
        """A fresh queue, wake-up event and worker for this process."""
        self.queue: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._flushes: list[threading.Event] = []
        self._flushes_lock = threading.Lock()
        self._fork_lock = threading.Lock()
        self._done = threading.Event()
        self._pid = _getpid()
        self._worker = threading.Thread(target=self._run, name="berrys-span-export", daemon=True)
        self._worker.start()

    def _after_fork(self) -> None:
        # The parent's queued spans are the parent's to send; its worker does not exist
        # here, and its exporter's connections belong to the parent.
        if self._stopped:
            self.queue = collections.deque()
            return
        if isinstance(self.exporter, SafeExporter):
            self.exporter.recreate()
        self._start()

    # -- the SpanProcessor interface ------------------------------------------------------

    def on_start(self, span: SDKSpan, parent_context: Context | None = None) -> None:
        pass

    def on_end(self, span: ReadableSpan) -> None:
        try:
            span = redact_span(span)
        except Exception as exc:
            # Never export what could not be redacted.
            report_internal_error(COMPONENT, exc, "cannot redact a span; it is dropped")
            if is_strict():
                raise
            return
        for listener in STATE.listeners:
            listener.on_end(span)
        ctx = span.context
        if ctx is None or not ctx.trace_flags.sampled:
            return
        item: Any = span
        if self.prepared:
            try:
                item = prepare_span(span) or span
            except Exception as exc:  # the sender encodes it again, or falls back
                report_internal_error(COMPONENT, exc, "cannot encode a span", key="prepare")
        self.enqueue(item)

    def enqueue(self, item: Any) -> None:
        """Queue an ended, sampled, redacted span: ``bytes`` from ``prepare_span`` when
        :attr:`prepared`, else a ``ReadableSpan``. Never blocks."""
        queue = self.queue
        if len(queue) >= self.max_queue_size or self._pid != _getpid() or self._stopped:
            self._enqueue_slowly(item)
            return
        queue.append(item)
        if len(queue) >= self.max_export_batch_size and not self._wake.is_set():
            self._wake.set()

    def _enqueue_slowly(self, item: Any) -> None:
        if self._stopped:
            count_event(COMPONENT, "spans_dropped_after_shutdown")
            return
        if self._pid != _getpid():
            with self._fork_lock:  # request threads of the child race here
                if self._pid != _getpid():
                    self._after_fork()
        if len(self.queue) >= self.max_queue_size:
            count_event(COMPONENT, "spans_dropped_queue_full")
            return
        self.queue.append(item)
        if len(self.queue) >= self.max_export_batch_size:
            self._wake.set()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Export everything queued so far; False when that did not finish in time."""
        if self._stopped:
            return True
        if self._pid != _getpid():
            with self._fork_lock:
                if self._pid != _getpid():
                    self._after_fork()
        done = threading.Event()
        with self._flushes_lock:
            self._flushes.append(done)
        self._wake.set()
        return done.wait(max(0.0, timeout_millis / 1000))

    def shutdown(self, timeout_millis: float = 30000) -> None:
        """Export what is queued (waiting at most ``timeout_millis``), then stop the worker
        and the exporter. Spans ending later are dropped and counted."""
        if self._stopped:
            return
        self._stopped = True
        self._wake.set()
        if self._pid == _getpid():
            self._done.wait(max(0.0, timeout_millis / 1000))
        try:
            self.exporter.shutdown()
        except Exception as exc:
            report_internal_error(COMPONENT, exc, "span exporter shutdown failed")

    # -- the worker -----------------------------------------------------------------------

    def _run(self) -> None:
        wake, done = self._wake, self._done
        size = self.max_export_batch_size
        try:
            while True:
                woken = wake.wait(self.schedule_delay_s)
                wake.clear()
                stopping = self._stopped
                with self._flushes_lock:
                    flushes, self._flushes = self._flushes, []
                queued = len(self.queue)
                if woken and not flushes and not stopping:
                    # Woken by a full batch: send full batches only. What arrives while
                    # they are sent waits for the next full batch or the timer, so a busy
                    # service sends a few large requests, not a stream of small ones.
                    queued -= queued % size
                self._drain(queued)
                for flushed in flushes:
                    flushed.set()
                if stopping:
                    return
        finally:
            done.set()

    def _drain(self, count: int) -> None:
        """Export the ``count`` oldest queued spans, in batches of at most
        ``max_export_batch_size``; spans queued meanwhile stay for the next round."""
        queue = self.queue
        popleft = queue.popleft
        # Only this worker takes from the queue, so the count queued is there to take.
        while (n := min(self.max_export_batch_size, count, len(queue))) > 0:
            count -= n
            self._export([popleft() for _ in range(n)])

    def _export(self, batch: list[Any]) -> None:
        try:
            self.exporter.export(batch)
        except Exception as exc:  # an exporter that is not wrapped in SafeExporter
            count_event(COMPONENT, "spans_dropped_export_failed", len(batch))
            report_internal_error(COMPONENT, exc, "span exporter raised", key="export_raised")
