"""Checks keep working in a forked child (gunicorn --preload): worker threads and the
background loop are recreated after fork."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from berrys_monitoring.health import HealthRegistry


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_checks_run_in_a_forked_child_after_running_in_the_parent() -> None:
    reg = HealthRegistry()
    reg.register("sync", lambda: (True, "sync"))

    @reg.register("async")
    async def async_check() -> bool:
        await asyncio.sleep(0)
        return True

    assert reg.check_health().is_healthy  # starts the parent's worker thread and loop
    # A run hung in the parent at fork time must not be joined (forever) by the child.
    release = threading.Event()
    parent = os.getpid()
    reg.register("hung-in-parent", lambda: os.getpid() != parent or release.wait(30), timeout=0.2)
    assert reg.check_health("hung-in-parent").timed_out
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report through the pipe, never return into pytest
        try:
            ok = reg.check_health().is_healthy
            os.write(write, b"pass" if ok else b"fail")
        finally:
            os._exit(0)
    os.close(write)
    try:
        got = os.read(read, 16)
    finally:
        os.close(read)
        os.waitpid(pid, 0)
    release.set()
    assert got == b"pass"
