"""A dead collector is reported once, not once per retry of every batch: later retries
and failed batches are counted."""

from __future__ import annotations

import subprocess
import sys

from tests.support.servers import REPO, free_port

SCRIPT = """
import logging, sys
logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
from berrys_monitoring._internal import event_counts
from berrys_monitoring.tracing import configure_tracing, force_flush, tracer
configure_tracing("noisy", exporter="otlp", endpoint="http://127.0.0.1:{port}")
for _ in range(3):
    with tracer.start_as_current_span("work"):
        pass
    force_flush(timeout=1.5)
print("retries", event_counts().get(("tracing", "export_retries"), 0))
"""


def test_a_dead_collector_is_logged_once_and_further_retries_are_counted() -> None:
    port = free_port()  # nothing listens there
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(port=port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            "BERRYS_MONITORING_STRICT": "0",
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(REPO / "src"),  # this checkout's code, not an installed one
        },
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("cannot send spans to") == 1, proc.stderr
    retries = int(proc.stdout.split("retries")[1])
    assert retries >= 2
