"""The export path: exporters built from a name, wrapped so that a failing collector is
counted instead of raised, and a batch processor that redacts every ended span (see
``_redact``) and counts what its full queue drops.

Everything here runs on the batch processor's worker thread, never on the caller's, so a
slow or dead collector costs the application nothing but the spans it drops.
"""

from __future__ import annotations

import os
import sys
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)

from berrys_monitoring._internal import (
    count_event,
    is_strict,
    quiet_otlp_exporter_logs,
    report_internal_error,
)
from berrys_monitoring.tracing._otlp_encode import encode_request
from berrys_monitoring.tracing._otlp_prepared import encode_prepared, prepare_span
from berrys_monitoring.tracing._redact import redact_span
from berrys_monitoring.tracing._switch import STATE

COMPONENT = "tracing"
DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_GRPC_ENDPOINT = "http://127.0.0.1:4317"
EXPORTER_NAMES = ("otlp", "console", "none")


def resolve_traces_endpoint(endpoint: str | None) -> str | None:
    """The full ``/v1/traces`` URL, or None to let the OTLP exporter read its env vars.

    A base URL gets the signal path appended (the OTLP spec's rule for
    ``OTEL_EXPORTER_OTLP_ENDPOINT``); a URL that already ends in ``/v1/traces`` is kept.
    """
    if endpoint is None:
        if os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT"
        ):
            return None
        endpoint = DEFAULT_ENDPOINT
    if not isinstance(endpoint, str):
        raise TypeError(f"endpoint must be a URL string, got {type(endpoint).__name__}")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"endpoint must be an http(s) URL such as {DEFAULT_ENDPOINT!r}, got {endpoint!r}"
        )
    if parts.path.rstrip("/").endswith("/v1/traces"):
        return endpoint
    return endpoint.rstrip("/") + "/v1/traces"


def otlp_exporter_factory(
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    timeout: float,
    compression: str | None = None,
) -> Callable[[], SpanExporter]:
    """A factory for the OTLP/HTTP exporter; raises a clear ImportError without the extra."""
    try:
        from opentelemetry.exporter.otlp.proto.http import Compression
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:  # pragma: no cover - the extra is installed in the test env
        raise ImportError(
            "exporter='otlp' needs the OTLP exporter: pip install 'berrys-monitoring[otlp]'"
        ) from exc
    quiet_otlp_exporter_logs("tracing")
    url = resolve_traces_endpoint(endpoint)
    hdrs = dict(headers) if headers else None
    # None lets OTEL_EXPORTER_OTLP_TRACES_COMPRESSION decide, as the exporter documents.
    comp = Compression(compression) if compression else None

    fast = _fast_exporter_class(OTLPSpanExporter)

    def make() -> SpanExporter:
        exporter: SpanExporter = fast(endpoint=url, headers=hdrs, timeout=timeout, compression=comp)
        return exporter

    return make


def grpc_exporter_factory(
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    timeout: float,
    compression: str | None = None,
) -> tuple[Callable[[], SpanExporter], str]:
    """A factory for the OTLP/gRPC exporter and where it sends; a clear ImportError without
    the ``otlp-grpc`` extra. The endpoint is ``scheme://host:port`` (no path; ``http``
    means no TLS), by default the variables' or ``http://127.0.0.1:4317``."""
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
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"a gRPC endpoint must be an http(s) URL such as {DEFAULT_GRPC_ENDPOINT!r}, got {url!r}"
        )
    comp = {"gzip": Compression.Gzip, "deflate": Compression.Deflate}.get(compression or "")
    hdrs = dict(headers) if headers else None
    insecure = parts.scheme == "http"

    def make() -> SpanExporter:
        exporter: SpanExporter = OTLPSpanExporter(
            endpoint=url, insecure=insecure, headers=hdrs, timeout=timeout, compression=comp
        )
        return exporter

    return make, url


def _fast_exporter_class(base: type[Any]) -> Any:
    """``OTLPSpanExporter`` with our direct-to-bytes encoder (see ``_otlp_encode``).

    Only ``export`` changes, and only the encoding step: the SDK's HTTP client (retries,
    compression, headers, its size limit) still sends the bytes. If the SDK's internals are
    not what this was written against, or a batch holds something our encoder does not
    expect, the official path runs instead.
    """

    class FastOTLPSpanExporter(base):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            #: Whether the processor may queue spans pre-encoded by ``prepare_span``.
            self.accepts_prepared = all(
                getattr(self, name, None) is not None
                for name in ("_client", "_metrics", "_max_request_size")
            )

        def export(self, spans: Sequence[Any]) -> SpanExportResult:
            prepared = [s for s in spans if type(s) is bytes]
            if prepared:
                if len(prepared) == len(spans):
                    return self._send_prepared(prepared)
                # A span the processor could not encode travels as it is.
                plain = [s for s in spans if type(s) is not bytes]
                first = self._send_prepared(prepared)
                second = self.export(plain)
                ok = SpanExportResult.SUCCESS
                return ok if first is ok and second is ok else SpanExportResult.FAILURE
            client = getattr(self, "_client", None)
            metrics = getattr(self, "_metrics", None)
            limit = getattr(self, "_max_request_size", None)
            if self._shutdown or client is None or metrics is None or limit is None:
                return super().export(spans)  # type: ignore[no-any-return]
            try:
                data = encode_request(spans)
            except Exception as exc:
                report_internal_error(COMPONENT, exc, "fast OTLP encoding failed", key="encode")
                if is_strict():
                    raise
                return super().export(spans)  # type: ignore[no-any-return]
            if limit > 0 and len(data) > limit:
                # The SDK drops and reports it its own way.
                return super().export(spans)  # type: ignore[no-any-return]
            return self._send(data, len(spans))

        def _send_prepared(self, items: list[bytes]) -> SpanExportResult:
            if self._shutdown:
                return SpanExportResult.FAILURE  # what the SDK answers after shutdown
            data = encode_prepared(items)
            limit = self._max_request_size
            if limit > 0 and len(data) > limit:
                if len(items) == 1:
                    report_internal_error(
                        COMPONENT,
                        message=f"a span of {len(data)} bytes exceeds the OTLP request "
                        f"size limit ({limit} bytes); it is dropped",
                        key="oversize",
                    )
                    return SpanExportResult.FAILURE
                # Too big as one request: send it in two halves rather than drop it.
                half = len(items) // 2
                first = self._send_prepared(items[:half])
                second = self._send_prepared(items[half:])
                ok = SpanExportResult.SUCCESS
                return ok if first is ok and second is ok else SpanExportResult.FAILURE
            return self._send(data, len(items))

        def _send(self, data: bytes, count: int) -> SpanExportResult:
            with self._metrics.export_operation(count) as result:
                sent = self._client.export(data)
                if not sent.success:
                    result.error = sent.error
                    if sent.status_code is not None:
                        result.error_attrs = {"http.response.status_code": sent.status_code}
                    return SpanExportResult.FAILURE
            return SpanExportResult.SUCCESS

    return FastOTLPSpanExporter


def console_exporter_factory() -> Callable[[], SpanExporter]:
    def make() -> SpanExporter:
        # Resolved at creation, not import, so pytest's capsys and redirected stdout work.
        return ConsoleSpanExporter(out=sys.stdout)

    return make


class SafeExporter(SpanExporter):
    """Wraps an exporter: failures are counted and logged once, never raised.

    The wrapped exporter is re-created in a forked child, because its HTTP connection pool
    (sockets shared with the parent) must not be used by two processes.
    """

    def __init__(self, factory: Callable[[], SpanExporter], target: str) -> None:
        self._factory = factory
        self._target = target
        self._inner = factory()
        if hasattr(os, "register_at_fork"):
            ref = weakref.WeakMethod(self._after_fork)

            def _child() -> None:
                method = ref()
                if method is not None:
                    method()

            os.register_at_fork(after_in_child=_child)

    @property
    def inner(self) -> SpanExporter:
        return self._inner

    def _after_fork(self) -> None:
        try:
            self._inner = self._factory()
        except Exception as exc:  # keep the parent's exporter rather than none at all
            report_internal_error(COMPONENT, exc, "cannot re-create the exporter after fork")

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
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


class CountingBatchSpanProcessor(BatchSpanProcessor):
    """The SDK's BatchSpanProcessor, plus a count of the spans a full queue drops, a
    shutdown that honours a timeout, and the capture_spans() listeners.

    One processor instead of a separate listener fan-out: every processor on a provider
    costs three calls per span.
    """

    def __init__(self, exporter: SpanExporter, **kwargs: Any) -> None:
        super().__init__(exporter, **kwargs)
        # The SDK drops silently (a log line) when its queue is full; peek at the bounded
        # deque so the drop shows up in berrys_monitoring_events_total instead.
        inner = getattr(self, "_batch_processor", None)
        queue = getattr(inner, "_queue", None)
        self._bm_queue = queue
        self._bm_max = getattr(queue, "maxlen", None) or 0
        # Our OTLP exporter takes spans encoded here, on the thread that ends them: a
        # queue of byte strings instead of ReadableSpans waiting for the next export
        # (see ``prepare_span``). The encoding costs the same on either thread.
        target = exporter.inner if isinstance(exporter, SafeExporter) else exporter
        emit = getattr(inner, "emit", None)
        self._bm_emit = emit if getattr(target, "accepts_prepared", False) else None
        self._bm_inner = inner
        self._bm_batch: int = getattr(inner, "_max_export_batch_size", 0) or 0
        # Another SDK layout: emit() every time.
        self._bm_direct = queue is not None and all(
            hasattr(inner, name)
            for name in ("_pid", "_shutdown", "_worker_awaken", "_max_export_batch_size")
        )

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
        if self._bm_emit is None or not self.enqueue_prepared(span):
            self._count_full()
            super().on_end(span)

    def on_end_readable(self, span: ReadableSpan) -> None:
        """Queue an ended span as it is, without telling the listeners again."""
        self._count_full()
        super().on_end(span)

    def _count_full(self) -> None:
        queue = self._bm_queue
        if queue is not None and len(queue) >= self._bm_max:
            count_event(COMPONENT, "spans_dropped_queue_full")

    def enqueue_prepared(self, span: Any) -> bool:
        """Queue a sampled, ended span encoded by ``prepare_span``; False when it cannot be
        (the caller then queues it as it is). Only when the exporter takes prepared spans.
        """
        emit = self._bm_emit
        if emit is None:
            return False
        try:
            item = prepare_span(span)
        except Exception as exc:
            report_internal_error(COMPONENT, exc, "cannot encode a span", key="prepare")
            return False
        if item is None:
            return False
        self.enqueue_bytes(item)
        return True

    def enqueue_bytes(self, item: bytes) -> None:
        """Queue a span already encoded for our exporter (``group_tag`` + span bytes).

        What the SDK's ``emit`` does, with fewer steps on the common path: the span goes
        straight onto the queue; after a fork (the process id changed: also a fork that
        ran no Python hooks, as uWSGI's), on a full queue or after shutdown ``emit`` takes
        it, with its re-initialisation, drop count and log line.
        """
        inner: Any = self._bm_inner
        queue: Any = self._bm_queue
        if (
            not self._bm_direct
            or _getpid() != inner._pid
            or len(queue) >= self._bm_max
            or inner._shutdown
        ):
            self._count_full()
            self._bm_emit(item)  # type: ignore[misc]
            return
        queue.appendleft(item)
        if len(queue) >= self._bm_batch:
            awaken = inner._worker_awaken
            if not awaken.is_set():
                awaken.set()

    def shutdown_within(self, timeout: float) -> None:
        inner = getattr(self, "_batch_processor", None)
        shutdown: Callable[..., None] | None = getattr(inner, "shutdown", None)
        if shutdown is None:  # an SDK without the timed BatchProcessor
            self.shutdown()  # type: ignore[no-untyped-call]
            return
        shutdown(timeout_millis=int(timeout * 1000))
