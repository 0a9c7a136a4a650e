"""A dead collector is reported once, not once per retry of every batch."""

from __future__ import annotations

import subprocess
import sys

from tests.support.servers import free_port

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
print("suppressed", event_counts().get(("tracing", "exporter_log_suppressed"), 0))
"""


def test_a_dead_collector_is_logged_once_and_further_retries_are_counted() -> None:
    port = free_port()  # nothing listens there
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(port=port)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"BERRYS_MONITORING_STRICT": "0", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("Transient error") == 1, proc.stderr
    suppressed = int(proc.stdout.split("suppressed")[1])
    assert suppressed >= 2
