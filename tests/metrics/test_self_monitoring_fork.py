"""Self-monitoring counters (``_internal``) keep working in a child forked while another
thread of the parent was counting."""

from __future__ import annotations

import os
import threading
import time

from berrys_monitoring import _internal


def test_a_child_forked_while_a_thread_holds_the_counter_lock_can_still_count() -> None:
    holding, release = threading.Event(), threading.Event()

    def counter_thread() -> None:
        with _internal._lock:  # a count_event() in progress at the moment of fork
            holding.set()
            release.wait(30)

    t = threading.Thread(target=counter_thread)
    t.start()
    assert holding.wait(10)
    try:
        pid = os.fork()
        if pid == 0:  # the child: the holding thread does not exist here
            try:
                _internal.count_event("test", "in_child")
                _internal.report_internal_error("test", message="in child")
                ok = _internal.event_counts()[("test", "in_child")] == 1
                os._exit(0 if ok else 1)
            finally:
                os._exit(2)
    finally:
        release.set()
        t.join(10)
    # A deadlocked child never exits: give it ample time, then kill it and fail.
    deadline = time.monotonic() + 60
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            raise AssertionError("the forked child hung on the self-monitoring lock")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
