"""The guide's two Structured Logging examples, verbatim except for the import prefix."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def test_seed_basic_usage_writes_json_lines_to_console_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the example writes "service.log" in the working directory
    ns: dict[str, object] = {"__name__": "seed_example"}
    exec(
        """
from berrys_monitoring.logging import get_logger, LogLevel, configure_logging

# Configure logging
configure_logging(
    level=LogLevel.INFO,
    json_format=True,
    log_to_console=True,
    log_file="service.log",
    service_name="api-gateway",
)

# Get a logger
logger = get_logger(__name__)

# Log messages with context
logger.info("Processing request", extra={"request_id": "123", "user_id": "456"})

# Log at different levels
logger.debug("Debug message")
logger.info("Info message")
logger.warning("Warning message")
logger.error("Error message", exc_info=True)
logger.critical("Critical message", exc_info=True)
""",
        ns,
    )
    console = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    in_file = [json.loads(x) for x in (tmp_path / "service.log").read_text().splitlines()]
    assert console == in_file
    assert [r["message"] for r in console] == [
        "Processing request",
        "Info message",
        "Warning message",
        "Error message",
        "Critical message",
    ]  # DEBUG is below the configured INFO level
    assert [r["level"] for r in console] == ["info", "info", "warning", "error", "critical"]
    first = console[0]
    assert first["request_id"] == "123" and first["user_id"] == "456"
    for r in console:
        assert r["service"] == "api-gateway"
        assert r["logger"] == "seed_example"
        assert TIMESTAMP.match(str(r["timestamp"]))
        # exc_info=True outside an except block: no exception to record, like the stdlib
        assert "exception" not in r


def test_seed_request_context_logging_puts_the_request_ids_on_the_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from berrys_monitoring.logging import configure_logging

    configure_logging(service_name="api-gateway")  # the seed block assumes logging is set up
    ns: dict[str, object] = {"__name__": "seed_example"}
    exec(
        """
from berrys_monitoring.logging import get_request_logger

# Get a logger with request context
logger = get_request_logger(
    request_id="request-123",
    user_id="user-456",
    session_id="session-789",
    ip_address="192.168.1.1",
)

# Log with request context
logger.info("Processing request")
""",
        ns,
    )
    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["message"] == "Processing request"
    assert line["level"] == "info"
    assert line["service"] == "api-gateway"
    # identifiers stay visible: no false-positive redaction
    assert line["request_id"] == "request-123"
    assert line["user_id"] == "user-456"
    assert line["session_id"] == "session-789"
    assert line["ip_address"] == "192.168.1.1"
