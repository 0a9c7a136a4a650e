"""OTLP/gRPC ingest (port 4317): the .NET, Java and Go SDKs default to it.

The same mapping and store as OTLP/HTTP; a thread-pool gRPC server, so handlers simply
wait for the writer's commit before answering. Status codes follow the OTLP specification:
INVALID_ARGUMENT is not retried, UNAVAILABLE is.
https://opentelemetry.io/docs/specs/otlp/#otlpgrpc-response
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from concurrent import futures
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2 as logs_pb
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as metrics_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as trace_pb

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.hub._selfmetrics import HubMetrics
from berrys_monitoring.hub.ingest._prometheus import MetricMapper
from berrys_monitoring.hub.ingest._spans_logs import Mapped, map_logs, map_traces
from berrys_monitoring.hub.store import Batch, Store, StoreBusyError

__all__ = ["GrpcReceiver"]


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class GrpcReceiver:
    """Serves the three OTLP collector services on ``host:port`` until :meth:`stop`."""

    def __init__(
        self,
        store: Store,
        metrics: HubMetrics,
        mapper: MetricMapper,
        *,
        max_message_bytes: int,
        token: str | None,
        workers: int = 8,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.mapper = mapper
        self._expected = f"Bearer {token}" if token else None
        self._server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="berrys-hub-grpc"),
            options=[
                ("grpc.max_receive_message_length", max_message_bytes),
                ("grpc.max_send_message_length", 4 * 1024 * 1024),
            ],
            maximum_concurrent_rpcs=workers * 8,
        )
        handlers = [
            self._service(
                "trace", "TraceService", "traces", trace_pb.ExportTraceServiceRequest,
                map_traces, lambda r: Batch(spans=r), trace_pb.ExportTraceServiceResponse,
                "rejected_spans",
            ),
            self._service(
                "logs", "LogsService", "logs", logs_pb.ExportLogsServiceRequest,
                map_logs, lambda r: Batch(logs=r), logs_pb.ExportLogsServiceResponse,
                "rejected_log_records",
            ),
            self._service(
                "metrics", "MetricsService", "metrics", metrics_pb.ExportMetricsServiceRequest,
                mapper.map, lambda r: Batch(samples=r), metrics_pb.ExportMetricsServiceResponse,
                "rejected_data_points",
            ),
        ]  # fmt: skip
        self._server.add_generic_rpc_handlers(handlers)
        self.port = 0

    def start(self, host: str, port: int) -> int:
        """Bind and start; the bound port (``port`` may be 0). A port in use is an error."""
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        try:
            self.port = self._server.add_insecure_port(address)
        except RuntimeError as exc:
            raise OSError(f"cannot listen for OTLP/gRPC on {address}: {exc}") from None
        if self.port == 0:
            raise OSError(f"cannot listen for OTLP/gRPC on {address}")
        self._server.start()
        return self.port

    def stop(self, grace: float = 5.0) -> None:
        """Refuse new RPCs, let running ones finish (their batches are committed)."""
        self._server.stop(grace).wait(grace + 1)

    def _service(
        self,
        package: str,
        service: str,
        signal: str,
        request_type: Any,
        map_request: Callable[[Any], Mapped],
        to_batch: Callable[[list[Any]], Batch],
        response_type: Any,
        rejected_field: str,
    ) -> grpc.GenericRpcHandler:
        # Requests arrive as bytes and are parsed here, so that a malformed one is the
        # INVALID_ARGUMENT the OTLP specification asks for, not gRPC's INTERNAL.
        def export(raw: bytes, context: grpc.ServicerContext) -> Any:
            return self._export(
                signal, raw, context, request_type, map_request, to_batch, response_type,
                rejected_field,
            )  # fmt: skip

        return grpc.method_handlers_generic_handler(
            f"opentelemetry.proto.collector.{package}.v1.{service}",
            {
                "Export": grpc.unary_unary_rpc_method_handler(
                    export, response_serializer=lambda m: m.SerializeToString()
                )
            },
        )

    def _export(
        self,
        signal: str,
        raw: bytes,
        context: grpc.ServicerContext,
        request_type: Any,
        map_request: Callable[[Any], Mapped],
        to_batch: Callable[[list[Any]], Batch],
        response_type: Any,
        rejected_field: str,
    ) -> Any:
        try:
            self._check_token(context)
            try:
                request = request_type.FromString(raw)
            except (DecodeError, RecursionError, ValueError) as exc:
                raise _Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"not a valid {request_type.__name__}: {exc}",
                ) from None
            mapped = map_request(request)
            if mapped.rows:
                try:
                    future = self.store.submit(to_batch(mapped.rows))
                except StoreBusyError as exc:
                    raise _Abort(grpc.StatusCode.UNAVAILABLE, f"the hub is busy ({exc})") from None
                try:
                    future.result()
                except Exception as exc:
                    report_internal_error("hub.store", exc, "a batch could not be written")
                    raise _Abort(
                        grpc.StatusCode.UNAVAILABLE, "the store could not write the batch"
                    ) from None
            mapped.confirm()
        except _Abort as abort:
            self.metrics.requests.labels(signal, f"grpc_{abort.code.name}").inc()
            context.abort(abort.code, abort.message)
            raise AssertionError("unreachable") from None  # abort() raises
        self.metrics.requests.labels(signal, "grpc_OK").inc()
        self.metrics.items.labels(signal).inc(len(mapped.rows))
        response = response_type()
        if mapped.rejected:
            self.metrics.rejected.labels(signal).inc(mapped.rejected)
            setattr(response.partial_success, rejected_field, mapped.rejected)
            response.partial_success.error_message = mapped.error
        return response

    def _check_token(self, context: grpc.ServicerContext) -> None:
        if self._expected is None:
            return
        given = ""
        for key, value in context.invocation_metadata():
            if key == "authorization":
                given = value if isinstance(value, str) else value.decode("latin-1")
                break
        if not hmac.compare_digest(given.encode(), self._expected.encode()):
            raise _Abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")
