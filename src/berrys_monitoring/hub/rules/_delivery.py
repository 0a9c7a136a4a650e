"""The outbox worker: delivers queued notifications, retrying with exponential backoff.

A notification leaves the outbox only once its receiver took it (or refused it for good),
so a hub that stops in between sends it again after the restart: at-least-once delivery.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from berrys_monitoring.alerts._delivery import DeliveryError, PermanentDeliveryError
from berrys_monitoring.hub.rules._receivers import deliver
from berrys_monitoring.hub.rules._routing import AlertingConfig
from berrys_monitoring.hub.rules._thread import WakeableThread
from berrys_monitoring.hub.store import Store
from berrys_monitoring.hub.store._alerting import OutboxItem

__all__ = ["OutboxWorker", "backoff_s"]

log = logging.getLogger("berrys_monitoring.hub.notifications")


def backoff_s(attempts: int, *, base_s: float = 0.5, max_s: float = 60.0) -> float:
    """Seconds to wait after ``attempts`` failures: doubling from ``base_s``, capped.

    Example::

        >>> [backoff_s(n) for n in range(4)], backoff_s(20)
        ([0.5, 1.0, 2.0, 4.0], 60.0)
    """
    return float(min(base_s * 2**attempts, max_s))


class OutboxWorker(WakeableThread):
    """Delivers the outbox's due notifications on a thread of its own."""

    def __init__(
        self,
        store: Store,
        config: Callable[[], AlertingConfig | None],
        *,
        tick_s: float = 0.2,
        base_s: float = 0.5,
        max_backoff_s: float = 60.0,
        max_attempts: int = 25,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self._config = config
        self.tick_s = tick_s
        self.base_s = base_s
        self.max_backoff_s = max_backoff_s
        self.max_attempts = max_attempts
        self._clock = clock
        super().__init__("hub-delivery")
        self.delivered = 0
        self.failed = 0

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:
                log.exception("delivering notifications failed")
            self._wake.wait(self.tick_s)
            self._wake.clear()

    def run_once(self) -> int:
        """Try every due notification once; returns how many were delivered."""
        done = 0
        for item in self.store.due_notifications(int(self._clock() * 1e9)):
            if self._stop.is_set():
                break
            done += self._attempt(item)
        return done

    def _attempt(self, item: OutboxItem) -> int:
        config = self._config()
        receiver = config.receivers.get(item.receiver) if config else None
        if receiver is None or item.integration >= len(receiver.integrations):
            log.warning(
                "dropping a notification for receiver %r: no longer configured", item.receiver
            )
            self.store.finish_notification(item.id, retry_at_ns=None).result(timeout=60)
            return 0
        kind, settings = receiver.integrations[item.integration]
        try:
            deliver(kind, settings, item.payload)
        except PermanentDeliveryError as exc:
            log.error("receiver %r (%s) refused a notification: %s", item.receiver, kind, exc)
            self.failed += 1
            self.store.finish_notification(item.id, retry_at_ns=None).result(timeout=60)
            return 0
        except (DeliveryError, OSError, ValueError) as exc:
            if item.attempts + 1 >= self.max_attempts:
                log.error("giving up on a notification to %r after %d attempts: %s",
                          item.receiver, item.attempts + 1, exc)  # fmt: skip
                self.failed += 1
                self.store.finish_notification(item.id, retry_at_ns=None).result(timeout=60)
                return 0
            wait = backoff_s(item.attempts, base_s=self.base_s, max_s=self.max_backoff_s)
            log.warning(
                "receiver %r (%s) failed, retrying in %.1fs: %s", item.receiver, kind, wait, exc
            )
            retry = int((self._clock() + wait) * 1e9)
            self.store.finish_notification(item.id, retry_at_ns=retry, error=str(exc)).result(
                timeout=60
            )
            return 0
        self.delivered += 1
        self.store.finish_notification(item.id, retry_at_ns=None).result(timeout=60)
        return 1
