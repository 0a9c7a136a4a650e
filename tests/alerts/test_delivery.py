"""Delivery: off the caller's thread, retried with backoff, bounded, never breaking the app."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from berrys_monitoring import internal_error_counts
from berrys_monitoring._internal import event_counts
from berrys_monitoring.alerts import (
    AlertManager,
    InMemoryNotifier,
    Notification,
    PermanentDeliveryError,
)


class Flaky:
    """Fails ``failures`` times, then records."""

    name = "flaky"

    def __init__(self, failures: int, exc: Exception | None = None) -> None:
        self.failures = failures
        self.exc = exc or ConnectionError("receiver down")
        self.calls = 0
        self.received: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.exc
        self.received.append(notification)


class Blocking:
    """Blocks every send until released: a hung receiver."""

    name = "blocking"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()
        self.thread: threading.Thread | None = None

    def send(self, notification: Notification) -> None:
        self.thread = threading.current_thread()
        self.entered.set()
        self.release.wait(30)


def test_failing_sends_are_retried_with_backoff_until_delivered() -> None:
    flaky = Flaky(failures=2)
    m = AlertManager(notifiers=[flaky], backoff_initial=0.01, max_attempts=5)
    m.trigger("T", "m", "error", {})
    assert m.flush(10)
    assert flaky.calls == 3 and len(flaky.received) == 1
    assert event_counts()[("alerts", "notification_retried")] == 2
    assert event_counts()[("alerts", "notification_sent")] == 1
    assert internal_error_counts() == {}
    m.shutdown(1)


def test_receiver_that_never_recovers_is_given_up_logged_once_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    flaky = Flaky(failures=10**6)
    m = AlertManager(notifiers=[flaky], backoff_initial=0.001, max_attempts=3)
    for i in range(3):
        m.trigger(f"T{i}", "m", "error", {})  # must not raise
    assert m.flush(10)
    assert flaky.calls == 9
    assert internal_error_counts()["alerts"] == 3
    assert event_counts()[("alerts", "notification_failed")] == 3
    logged = [r for r in caplog.records if r.name == "berrys_monitoring.internal"]
    assert len(logged) == 1 and "flaky failed after 3 attempt(s)" in logged[0].getMessage()
    m.shutdown(1)


def test_permanent_errors_are_not_retried() -> None:
    flaky = Flaky(failures=10, exc=PermanentDeliveryError("400 bad payload"))
    m = AlertManager(notifiers=[flaky], backoff_initial=0.001, max_attempts=5)
    m.trigger("T", "m", "error", {})
    assert m.flush(10)
    assert flaky.calls == 1
    m.shutdown(1)


def test_a_hung_receiver_blocks_neither_the_caller_nor_other_notifiers() -> None:
    hung, inbox = Blocking(), InMemoryNotifier()
    m = AlertManager(notifiers=[hung, inbox])
    alert_id = m.trigger("T", "m", "error", {})  # returns although `hung` never answers
    m.resolve(alert_id, "ok")
    assert hung.entered.wait(10)
    assert hung.thread is not threading.current_thread()
    assert m._deliveries[1].flush(10)
    assert inbox.kinds() == ["triggered", "resolved"]
    assert m.flush(0.05) is False  # the hung receiver still holds its notification
    hung.release.set()
    assert m.flush(10)
    m.shutdown(1)


def test_full_queue_drops_and_counts_instead_of_growing() -> None:
    hung = Blocking()
    m = AlertManager(notifiers=[hung], queue_size=2)
    m.trigger("first", "m", "error", {})
    assert hung.entered.wait(10)  # first one is in flight, the queue is empty again
    for i in range(5):
        m.trigger(f"more{i}", "m", "error", {})
    assert event_counts()[("alerts", "notification_dropped_queue_full")] == 3
    hung.release.set()
    assert m.flush(10)
    m.shutdown(1)


def test_shutdown_gives_up_on_a_hung_receiver_within_its_timeout() -> None:
    hung = Blocking()
    m = AlertManager(notifiers=[hung], queue_size=10)
    m.trigger("a", "m", "error", {})
    m.trigger("b", "m", "error", {})
    assert hung.entered.wait(10)
    assert m.shutdown(0.05) is False
    assert event_counts()[("alerts", "notification_abandoned_at_shutdown")] == 1
    hung.release.set()


class FileNotifier:
    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, notification: Notification) -> None:
        with open(self.path, "a") as fh:
            fh.write(f"{os.getpid()} {notification.kind} {notification.alert.title}\n")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_delivery_works_in_a_forked_child(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    m = AlertManager(notifiers=[FileNotifier(out)])
    m.trigger("parent", "m", "info", {})
    assert m.flush(10)
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker thread does not exist here
        code = 1
        try:
            m.trigger("child", "m", "info", {})
            code = 0 if m.flush(10) else 2
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    lines = out.read_text().splitlines()
    assert lines[0].endswith("triggered parent")
    assert lines[1] == f"{pid} triggered child"
    m.shutdown(1)
