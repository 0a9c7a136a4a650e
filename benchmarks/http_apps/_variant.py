"""Shared set-up of the benchmark variants (read once, at app import time)."""

from __future__ import annotations

import os

VARIANTS = ("bare", "ours", "ours10", "combo", "floor")

VARIANT = os.environ.get("BENCH_VARIANT", "bare")
if VARIANT not in VARIANTS:
    raise SystemExit(f"BENCH_VARIANT must be one of {VARIANTS}, not {VARIANT!r}")

OTLP_ENDPOINT = os.environ.get("BENCH_OTLP_ENDPOINT", "http://127.0.0.1:4318")
ACCESS_LOG = os.environ.get("BENCH_ACCESS_LOG", os.devnull)
PAYLOAD = {"message": "hello", "items": [1, 2, 3]}


def ours_options() -> dict[str, object]:
    """``setup_monitoring`` keyword arguments of the variant (diagnostic variants of
    bench_http.py pass extra ones as JSON in ``BENCH_OURS_OPTIONS``)."""
    import json

    options: dict[str, object] = {"sample_rate": sample_rate()}
    options.update(json.loads(os.environ.get("BENCH_OURS_OPTIONS", "{}")))
    return options


def sample_rate() -> float:
    return 0.1 if VARIANT == "ours10" else 1.0


def configure_ours(service_name: str) -> None:
    """Our library configured as a production service would be: JSON access log to a file,
    every (or 10% of) request traced and exported over OTLP/HTTP by the batch processor."""
    from berrys_monitoring.logging import configure_logging
    from berrys_monitoring.tracing import configure_tracing

    configure_logging(
        level="INFO",
        json_format=True,
        log_to_console=False,
        log_file=ACCESS_LOG,
        service_name=service_name,
    )
    configure_tracing(
        service_name=service_name,
        exporter="otlp",
        endpoint=OTLP_ENDPOINT,
        sample_rate=sample_rate(),
    )


def combo_tracer_provider(service_name: str) -> object:
    """The anchor's tracing: the OpenTelemetry SDK with a BatchSpanProcessor and the official
    OTLP/HTTP exporter, pointed at the same sink as ours."""
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    exporter = OTLPSpanExporter(endpoint=OTLP_ENDPOINT.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider
