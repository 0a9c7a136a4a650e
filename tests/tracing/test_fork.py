"""A plain os.fork after configure_tracing: the child exports on its own connection."""

from __future__ import annotations

import os
import sys

import pytest
from tests.support.servers import wait_for
from tests.tracing._receiver import OTLPReceiver

from berrys_monitoring.tracing import configure_tracing, force_flush, tracer


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
