"""The FastAPI benchmark app (run with uvicorn, 1 worker, h11); variant from BENCH_VARIANT."""

from __future__ import annotations

import os

from fastapi import FastAPI

from benchmarks.http_apps._variant import (
    PAYLOAD,
    VARIANT,
    combo_tracer_provider,
    configure_ours,
    ours_options,
)

# Diagnostic knob (not a benchmark variant): BENCH_FASTAPI_NATIVE_OTEL=0 switches off the
# native OpenTelemetry telemetry of FastAPI >= 0.16x, which turns itself on as soon as a
# global tracer provider exists and then adds its own server span and operation spans.
_NATIVE_OFF = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
if os.environ.get("BENCH_FASTAPI_NATIVE_OTEL", "1") == "0":
    app = FastAPI(telemetry=_NATIVE_OFF)  # type: ignore[call-arg]
else:
    app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, object]:
    return PAYLOAD


if VARIANT in ("ours", "ours10"):
    from berrys_monitoring.middleware.fastapi import setup_monitoring

    configure_ours("bench-fastapi")
    setup_monitoring(app, service_name="bench-fastapi", **ours_options())  # type: ignore[arg-type]
elif VARIANT == "floor":
    from benchmarks.http_apps.floor import FloorMiddleware

    app.add_middleware(FloorMiddleware)
elif VARIANT == "combo":
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from prometheus_fastapi_instrumentator import Instrumentator

    Instrumentator().instrument(app).expose(app)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=combo_tracer_provider("bench-fastapi"))
