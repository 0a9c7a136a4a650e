"""What setup_monitoring configures when the service configured nothing itself (run in
fresh interpreters: it changes process-wide logging and tracing)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.support.servers import REPO


def run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    import os

    full = {**os.environ, "PYTHONPATH": str(REPO), **env}
    full.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    full.pop("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", None)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        env=full,
    )


PRELUDE = """
import warnings
warnings.simplefilter("ignore")
from fastapi import FastAPI
from fastapi.testclient import TestClient
from berrys_monitoring.middleware.fastapi import setup_monitoring
from berrys_monitoring.tracing import capture_spans
app = FastAPI()
app.get("/ping")(lambda: {"ok": True})
"""


def test_defaults_configure_json_logging_and_tracing_without_export() -> None:
    proc = run(
        PRELUDE
        + """
setup_monitoring(app, service_name="defaults-svc", version="9.9.9")
with capture_spans() as spans:
    r = TestClient(app).get("/ping")
assert [s.name for s in spans if s.kind.name == "SERVER"] == ["GET /ping"]
print("TRACE", r.headers["x-trace-id"])
"""
    )
    assert proc.returncode == 0, proc.stderr
    trace_id = next(x.split()[1] for x in proc.stdout.splitlines() if x.startswith("TRACE"))
    lines = [json.loads(x) for x in proc.stdout.splitlines() if x.startswith("{")]
    access = next(x for x in lines if x.get("logger") == "berrys_monitoring.access")
    assert access["service"] == "defaults-svc" and access["version"] == "9.9.9"
    assert access["trace_id"] == trace_id


def test_sample_rate_applies_when_setup_monitoring_configures_tracing() -> None:
    proc = run(
        PRELUDE
        + """
setup_monitoring(app, service_name="sampled", sample_rate=0.0)
with capture_spans() as spans:
    r = TestClient(app).get("/ping")
# Not sampled: nothing recorded, but the request still has a trace id to log and return.
assert [s for s in spans if s.kind.name == "SERVER"] == []
assert len(r.headers["x-trace-id"]) == 32
"""
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_users_own_configuration_is_kept() -> None:
    proc = run(
        PRELUDE
        + """
import io
from berrys_monitoring.logging import configure_logging
from berrys_monitoring.tracing import configure_tracing
stream = io.StringIO()
configure_logging(service_name="mine", stream=stream)
configure_tracing("mine", exporter="none", sample_rate=1.0)
setup_monitoring(app, service_name="other", sample_rate=0.0)
with capture_spans() as spans:
    TestClient(app).get("/ping")
assert [s.name for s in spans if s.kind.name == "SERVER"] == ["GET /ping"]  # my sampler
assert '"service":"mine"' in stream.getvalue()  # my logging
"""
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
