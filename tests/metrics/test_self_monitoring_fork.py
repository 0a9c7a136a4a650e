"""Self-monitoring counters (``_internal``) and metric creation keep working in a child
forked while another thread of the parent held their locks."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

from berrys_monitoring import _internal
from berrys_monitoring.metrics import _config, _store, current_value, increment_counter


def _counter_lock() -> AbstractContextManager[object]:
    return _internal._lock  # a count_event() in progress at the moment of fork


def _families_lock() -> AbstractContextManager[object]:
    return _store.families_lock  # a first use of a metric creating it


def _backend_lock() -> AbstractContextManager[object]:
    backend = _config.prometheus_backend()
    assert backend is not None
    return backend._lock  # a first use of a label set resolving it


def _count_in_child() -> bool:
    _internal.count_event("test", "in_child")
    _internal.report_internal_error("test", message="in child")
    return _internal.event_counts()[("test", "in_child")] == 1


def _new_metric_in_child() -> bool:
    increment_counter("made_in_child_total", {"k": "v"})
    return current_value("made_in_child_total", {"k": "v"}) == 1


@pytest.mark.parametrize(
    ("held", "in_child"),
    [
        (_counter_lock, _count_in_child),
        (_families_lock, _new_metric_in_child),
        (_backend_lock, _new_metric_in_child),
    ],
    ids=["self-monitoring counters", "metric families", "prometheus backend"],
)
def test_a_child_forked_while_a_thread_holds_a_lock_does_not_hang(
    held: Callable[[], AbstractContextManager[object]], in_child: Callable[[], bool]
) -> None:
    holding, release = threading.Event(), threading.Event()
    lock = held()

    def counter_thread() -> None:
        with lock:
            holding.set()
            release.wait(30)

    t = threading.Thread(target=counter_thread)
    t.start()
    assert holding.wait(10)
    try:
        pid = os.fork()
        if pid == 0:  # the child: the holding thread does not exist here
            try:
                os._exit(0 if in_child() else 1)
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
            raise AssertionError("the forked child hung on a lock copied from the parent")
        time.sleep(0.05)
    assert os.waitstatus_to_exitcode(status) == 0
