"""The FastAPI benchmark app (run with uvicorn, 1 worker, h11); variant from BENCH_VARIANT."""

from __future__ import annotations

from fastapi import FastAPI

from benchmarks.http_apps._variant import PAYLOAD, VARIANT, combo_tracer_provider, configure_ours
from benchmarks.http_apps._variant import sample_rate as _sample_rate

app = FastAPI()


@app.get("/hello")
async def hello() -> dict[str, object]:
    return PAYLOAD


if VARIANT in ("ours", "ours10"):
    from berrys_monitoring.middleware.fastapi import setup_monitoring

    configure_ours("bench-fastapi")
    setup_monitoring(app, service_name="bench-fastapi", sample_rate=_sample_rate())
elif VARIANT == "combo":
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from prometheus_fastapi_instrumentator import Instrumentator

    Instrumentator().instrument(app).expose(app)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=combo_tracer_provider("bench-fastapi"))
