"""Log lines carry the trace_id/span_id of the active span: the JSON log file and the
spans the collector receives agree, end to end."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring.logging import capture_logs, configure_logging, get_logger
from berrys_monitoring.tracing import (
    configure_tracing,
    extract_context_from_headers,
    shutdown_tracing,
    trace,
    tracer,
)

log = get_logger("shop.orders")


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "app.log"
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging(json_format=True, log_to_console=False, log_file=path, service_name="shop")
    yield path
    for h in root.handlers:
        if h not in saved[0]:
            h.close()
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def lines(path: Path) -> list[dict[str, object]]:
    for h in logging.getLogger().handlers:
        h.flush()
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_json_log_lines_match_the_exported_spans(log_file: Path, receiver: OTLPReceiver) -> None:
    configure_tracing("shop", endpoint=receiver.endpoint)

    @trace("charge")
    def charge() -> None:
        log.info("charging card")

    with tracer.start_as_current_span("POST /orders"):
        log.info("order received")
        charge()
    log.info("outside any span")
    shutdown_tracing()

    by_msg = {line["message"]: line for line in lines(log_file)}
    [request] = receiver.named("POST /orders")
    [child] = receiver.named("charge")
    assert by_msg["order received"]["trace_id"] == request.trace_id
    assert by_msg["order received"]["span_id"] == request.span_id
    assert by_msg["charging card"]["trace_id"] == request.trace_id
    assert by_msg["charging card"]["span_id"] == child.span_id
    assert "trace_id" not in by_msg["outside any span"]
    assert "span_id" not in by_msg["outside any span"]


def test_a_continued_remote_trace_shows_the_callers_trace_id_in_logs() -> None:
    configure_tracing("svc", exporter="none")
    incoming = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    with capture_logs(level="info") as captured:
        ctx = extract_context_from_headers(incoming)
        with tracer.start_as_current_span("GET /users", context=ctx) as span:
            log.info("handling")
            own_span_id = format(span.get_span_context().span_id, "016x")
    [line] = [x for x in captured if x["message"] == "handling"]
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["span_id"] == own_span_id


async def test_concurrent_tasks_log_their_own_span_ids() -> None:
    configure_tracing("svc", exporter="none")
    seen: dict[int, str] = {}

    @trace("task")
    async def task(i: int) -> None:
        await asyncio.sleep(0.01 * (3 - i))
        from berrys_monitoring.tracing import get_current_span

        seen[i] = format(get_current_span().get_span_context().span_id, "016x")
        log.info("task step", extra={"task": i})

    with capture_logs(level="info") as captured:
        await asyncio.gather(*(task(i) for i in range(3)))
    for line in (x for x in captured if x["message"] == "task step"):
        assert line["span_id"] == seen[line["task"]]  # type: ignore[index]
    assert len({x["trace_id"] for x in captured if x["message"] == "task step"}) == 3
