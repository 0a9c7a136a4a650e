"""Apps measured by ``benchmarks/bench_http.py``: one FastAPI and one Flask hello-world app,
each in four variants chosen by the ``BENCH_VARIANT`` environment variable at import time:

* ``bare``   — no instrumentation, no access log;
* ``ours``   — ``setup_monitoring`` with every request traced and exported over OTLP/HTTP;
* ``ours10`` — the same at ``sample_rate=0.1``;
* ``combo``  — the usual combination: prometheus-fastapi-instrumentator (Flask: prometheus_client
  request hooks) plus OpenTelemetry's FastAPIInstrumentor / FlaskInstrumentor, exporting
  through a BatchSpanProcessor to the same OTLP endpoint.

``BENCH_OTLP_ENDPOINT`` is the base URL of the OTLP sink (``otlp_sink.py``) and
``BENCH_ACCESS_LOG`` the file our structured access log goes to.
"""
