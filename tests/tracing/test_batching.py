"""The batch processor's batching: full batches under load, the rest on the timer, all of
it on flush and shutdown."""

from __future__ import annotations

import time
from collections.abc import Sequence

from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from tests.support.servers import wait_for

from berrys_monitoring.tracing._export import BatchProcessor


class _SlowExporter(SpanExporter):
    """Takes ``delay`` seconds per export, as a request to a collector does; records the
    size of each batch it was handed."""

    accepts_prepared = True

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.batches: list[int] = []

    def export(self, spans: Sequence[object]) -> SpanExportResult:  # type: ignore[override]
        time.sleep(self.delay)
        self.batches.append(len(spans))
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


def test_a_busy_service_sends_full_batches_not_a_stream_of_small_ones() -> None:
    # Spans keep arriving (about one a millisecond) while a batch is sent (20 ms). Only
    # full batches may go out before the timer fires (an hour away here): small batches
    # would mean one request to the collector for every few spans.
    exporter = _SlowExporter(delay=0.02)
    processor = BatchProcessor(exporter, max_export_batch_size=64, schedule_delay_millis=3_600_000)
    for i in range(1_000):
        processor.enqueue(b"span-%d" % i)
        time.sleep(0.001)
    wait_for(lambda: sum(exporter.batches) >= 1_000 - 63, what="the full batches")
    assert set(exporter.batches) == {64}, exporter.batches
    processor.shutdown()
    assert sum(exporter.batches) == 1_000  # the remainder on shutdown


def test_the_timer_sends_a_partial_batch_and_flush_sends_everything() -> None:
    exporter = _SlowExporter(delay=0.0)
    processor = BatchProcessor(exporter, max_export_batch_size=64, schedule_delay_millis=50)
    for i in range(10):
        processor.enqueue(b"span-%d" % i)
    wait_for(lambda: exporter.batches == [10], what="the timer's partial batch")
    for i in range(70):
        processor.enqueue(b"more-%d" % i)
    assert processor.force_flush(5_000)
    assert sum(exporter.batches) == 80
    processor.shutdown()
