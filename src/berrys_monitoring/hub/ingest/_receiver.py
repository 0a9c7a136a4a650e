"""The OTLP/HTTP endpoints: ``/v1/traces``, ``/v1/logs``, ``/v1/metrics``.

A request is read with a size limit, decoded and mapped on a worker thread, queued for the
store's writer, and answered only once the writer has committed it: a 2xx means the data
is on disk. A full queue is answered at once with 503 and ``Retry-After``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import orjson
from google.protobuf.message import Message
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_pb
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.hub._selfmetrics import HubMetrics
from berrys_monitoring.hub.ingest._alertmanager import parse_alerts
from berrys_monitoring.hub.ingest._codec import (
    JSON,
    IngestError,
    decode_request,
    encode_message,
    error_body,
    media_type,
    read_body,
)
from berrys_monitoring.hub.ingest._prometheus import MetricMapper
from berrys_monitoring.hub.ingest._spans_logs import Mapped, map_logs, map_traces
from berrys_monitoring.hub.store import Batch, Store, StoreBusyError

__all__ = ["OtlpReceiver"]

RETRY_AFTER_SECONDS = 2


class _Signal:
    def __init__(
        self,
        name: str,
        request_type: type[Message],
        response_type: type[Message],
        map_request: Callable[[Any], Mapped],
        to_batch: Callable[[list[Any]], Batch],
    ) -> None:
        self.name = name
        self.request_type = request_type
        self.response_type = response_type
        self.map_request = map_request
        self.to_batch = to_batch


class OtlpReceiver:
    def __init__(self, store: Store, metrics: HubMetrics, *, max_body_bytes: int) -> None:
        self.store = store
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.metric_mapper = MetricMapper()
        self.signals = {
            "traces": _Signal(
                "traces",
                trace_pb.ExportTraceServiceRequest,
                trace_pb.ExportTraceServiceResponse,
                map_traces,
                lambda rows: Batch(spans=rows),
            ),
            "logs": _Signal(
                "logs",
                logs_pb.ExportLogsServiceRequest,
                logs_pb.ExportLogsServiceResponse,
                map_logs,
                lambda rows: Batch(logs=rows),
            ),
            "metrics": _Signal(
                "metrics",
                metrics_pb.ExportMetricsServiceRequest,
                metrics_pb.ExportMetricsServiceResponse,
                self.metric_mapper.map,
                lambda rows: Batch(samples=rows),
            ),
        }

    async def handle(self, request: Request, signal_name: str) -> Response:
        signal = self.signals[signal_name]
        kind = JSON
        try:
            kind = media_type(request.headers.get("content-type"))
            body = await self._body(request)
            mapped = await anyio.to_thread.run_sync(self._decode_and_map, signal, body, kind)
            if mapped.rows:
                await self._store(signal.to_batch(mapped.rows))
            mapped.confirm()
        except IngestError as exc:
            return self._error(signal, exc.status, exc.message, kind)
        self.metrics.items.labels(signal.name).inc(len(mapped.rows))
        response = signal.response_type()
        if mapped.rejected:
            self.metrics.rejected.labels(signal.name).inc(mapped.rejected)
            partial = response.partial_success  # type: ignore[attr-defined]
            if signal.name == "traces":
                partial.rejected_spans = mapped.rejected
            elif signal.name == "logs":
                partial.rejected_log_records = mapped.rejected
            else:
                partial.rejected_data_points = mapped.rejected
            partial.error_message = mapped.error
        self.metrics.requests.labels(signal.name, "200").inc()
        return Response(encode_message(response, kind), 200, media_type=kind)

    async def handle_alerts(self, request: Request) -> Response:
        """``POST /api/v2/alerts``: Alertmanager v2 ``postableAlerts``; 200 once stored."""
        try:
            media = (request.headers.get("content-type") or JSON).split(";")[0].strip().lower()
            if media != JSON:
                raise IngestError(415, f"unsupported Content-Type {media!r}: use {JSON}")
            body = await self._body(request)
            rows = await anyio.to_thread.run_sync(parse_alerts, body)
            if rows:
                await self._store(Batch(alerts=rows))
        except IngestError as exc:
            self.metrics.requests.labels("alerts", str(exc.status)).inc()
            headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if exc.status == 503 else None
            return Response(
                orjson.dumps({"error": exc.message}), exc.status, headers=headers, media_type=JSON
            )
        self.metrics.requests.labels("alerts", "200").inc()
        self.metrics.items.labels("alerts").inc(len(rows))
        return Response(b"", 200)

    async def _body(self, request: Request) -> bytes:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.max_body_bytes:
            # compressed or not, a body this long is over the limit: no need to read it
            raise IngestError(413, f"the request body is larger than {self.max_body_bytes} bytes")
        try:
            return await read_body(
                request.stream(),
                encoding=request.headers.get("content-encoding"),
                limit=self.max_body_bytes,
            )
        except ClientDisconnect:
            raise IngestError(400, "the client went away before sending its body") from None

    async def _store(self, batch: Batch) -> None:
        try:
            future = self.store.submit(batch)
        except StoreBusyError as exc:
            raise IngestError(503, f"the hub is busy ({exc}); retry later") from None
        try:
            await asyncio.wrap_future(future)
        except Exception as exc:  # a full disk, an I/O error: the client may retry
            report_internal_error("hub.store", exc, "a batch could not be written")
            raise IngestError(503, "the store could not write the batch") from None

    def _decode_and_map(self, signal: _Signal, body: bytes, kind: str) -> Mapped:
        message = decode_request(signal.request_type, body, kind)
        return signal.map_request(message)

    def _error(self, signal: _Signal, status: int, message: str, kind: str) -> Response:
        self.metrics.requests.labels(signal.name, str(status)).inc()
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status in (429, 503) else None
        return Response(error_body(status, message, kind), status, headers=headers, media_type=kind)
