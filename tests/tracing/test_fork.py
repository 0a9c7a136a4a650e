"""A plain os.fork after configure_tracing: the child exports on its own connection."""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Sequence

import pytest
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from tests.support.servers import wait_for
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring.tracing import configure_tracing, force_flush, tracer
from berrys_monitoring.tracing._export import BatchProcessor


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_exports_its_spans_with_its_own_pid(receiver: OTLPReceiver) -> None:
    configure_tracing("forking", endpoint=receiver.endpoint)
    # The parent exports first, so its exporter holds a live keep-alive connection that
    # the child must not share.
    with tracer.start_as_current_span("parent-before-fork"):
        pass
    assert force_flush()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            with tracer.start_as_current_span("in-child"):
                pass
            code = 0 if force_flush(timeout=10) else 2
        finally:
            sys.stdout.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    with tracer.start_as_current_span("parent-after-fork"):
        pass
    assert force_flush()
    wait_for(lambda: receiver.named("parent-after-fork"), what="the parent's span")
    [child] = receiver.named("in-child")
    [parent] = receiver.named("parent-after-fork")
    assert child.resource["process.pid"] == pid
    assert parent.resource["process.pid"] == os.getpid()


class _Collected(SpanExporter):
    """What the processor hands its exporter (prepared spans: bytes), kept in memory."""

    accepts_prepared = True

    def __init__(self) -> None:
        self.items: list[object] = []

    def export(self, spans: Sequence[object]) -> SpanExportResult:  # type: ignore[override]
        self.items.extend(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_fork_that_runs_no_python_hooks_still_exports_the_childs_spans() -> None:
    # uWSGI's prefork calls fork() from C: no os.register_at_fork handler runs in the
    # child, so only a change of process id can tell the processor to restart its worker.
    exporter = _Collected()
    processor = BatchProcessor(exporter, schedule_delay_millis=50)
    c_fork = ctypes.PyDLL(None).fork  # PyDLL: called with the GIL held, from C
    c_fork.restype = ctypes.c_int
    read_end, write_end = os.pipe()
    pid = c_fork()
    if pid == 0:  # the child: never return into pytest
        try:
            for i in range(10):
                processor.enqueue(b"span-%d" % i)
            deadline = time.monotonic() + 10
            while len(exporter.items) < 10 and time.monotonic() < deadline:
                time.sleep(0.02)
            os.write(write_end, str(len(exporter.items)).encode())
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read_end, 100) == b"10"
    processor.shutdown()
