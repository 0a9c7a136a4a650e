"""The CONSOLE backend writes readable lines through stdlib logging."""

from __future__ import annotations

import logging

import pytest

from berrys_monitoring.metrics import (
    MetricsBackend,
    configure_metrics,
    gauge,
    histogram,
    increment_counter,
    record_timer,
)


def test_console_lines_name_kind_value_and_tags(caplog: pytest.LogCaptureFixture) -> None:
    configure_metrics(MetricsBackend.CONSOLE, prefix="app", default_tags={"env": "dev"})
    with caplog.at_level(logging.INFO, logger="berrys_monitoring.metrics"):
        increment_counter("api_requests_total", {"endpoint": "/users"})
        gauge("active_connections", 42)
        histogram("response_size_bytes", 1024)
        with record_timer("work"):
            pass
    messages = [r.getMessage() for r in caplog.records if r.name == "berrys_monitoring.metrics"]
    assert messages[0] == "metric counter app_api_requests_total +1 env=dev endpoint=/users"
    assert messages[1] == "metric gauge app_active_connections =42 env=dev"
    assert messages[2] == "metric histogram app_response_size_bytes observe 1024 env=dev"
    assert messages[3].startswith("metric timer app_work_seconds 0.")
    assert messages[3].endswith("s env=dev")
