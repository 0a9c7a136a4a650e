"""Logging benchmarks: one JSON line with 3 extra fields and a bound request context,
ours vs structlog + orjson and vs stdlib + python-json-logger; a call below the level
vs the stdlib. Every contender writes to its own handle on /dev/null, flushing per line.
"""

from __future__ import annotations

import contextvars
import logging
import os

import orjson
import structlog
from pythonjsonlogger import jsonlogger

from benchmarks._harness import Comparison, compare_ns
from berrys_monitoring.logging import bind_context, clear_context, configure_logging, get_logger

COMPONENT = "logging"


def _ours() -> tuple[object, object]:
    devnull = open(os.devnull, "w")  # noqa: SIM115
    configure_logging(level="info", stream=devnull, service_name="bench", adopt_servers=False)
    bind_context(request_id="req-123", user_id="user-456")
    log = get_logger("bench.ours")

    def line() -> None:
        log.info("order placed", extra={"order_id": 42, "amount": 12.5, "currency": "EUR"})

    def below() -> None:
        log.debug("not written", extra={"order_id": 42})

    return line, below


def _structlog() -> object:
    devnull = open(os.devnull, "wb")  # noqa: SIM115
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.JSONRenderer(serializer=orjson.dumps),
        ],
        logger_factory=structlog.BytesLoggerFactory(file=devnull),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(request_id="req-123", user_id="user-456")
    log = structlog.get_logger("bench.structlog").bind(service="bench")

    def line() -> None:
        log.info("order placed", order_id=42, amount=12.5, currency="EUR")

    return line


_req: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "bench_req", default=None
)


class _ContextFilter(logging.Filter):
    """How a stdlib user binds request context: a filter copying a contextvar."""

    def filter(self, record: logging.LogRecord) -> bool:
        for k, v in (_req.get() or {}).items():
            setattr(record, k, v)
        return True


def _stdlib_json() -> tuple[object, object]:
    devnull = open(os.devnull, "w")  # noqa: SIM115
    handler = logging.StreamHandler(devnull)
    handler.setFormatter(jsonlogger.JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(_ContextFilter())
    log = logging.getLogger("bench.stdlib")
    log.propagate = False
    log.handlers[:] = [handler]
    log.setLevel(logging.INFO)
    _req.set({"request_id": "req-123", "user_id": "user-456"})

    def line() -> None:
        log.info("order placed", extra={"order_id": 42, "amount": 12.5, "currency": "EUR"})

    def below() -> None:
        log.debug("not written", extra={"order_id": 42})

    return line, below


def run(quick: bool) -> list[Comparison]:
    repeat = 3 if quick else 9
    target_s = 0.02 if quick else 0.05
    ours_line, ours_below = _ours()
    sl_line = _structlog()
    std_line, std_below = _stdlib_json()
    rows = []
    a, b = compare_ns(ours_line, sl_line, repeat=repeat, target_s=target_s)  # type: ignore[arg-type]
    rows.append(
        Comparison(COMPONENT, "JSON line, 3 fields + context", a, "structlog+orjson", b, 1.3)
    )
    a, b = compare_ns(ours_line, std_line, repeat=repeat, target_s=target_s)  # type: ignore[arg-type]
    rows.append(
        Comparison(
            COMPONENT, "JSON line, 3 fields + context", a, "stdlib+python-json-logger", b, 0.6
        )
    )
    a, b = compare_ns(ours_below, std_below, repeat=repeat, target_s=target_s)  # type: ignore[arg-type]
    rows.append(Comparison(COMPONENT, "call below the level", a, "stdlib logging", b, 1.5))
    clear_context()
    return rows
