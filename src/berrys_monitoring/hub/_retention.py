"""Retention by age (``--retention``) and size (``--max-size``), on a background thread.

The thread only schedules: the deletions run on the store's writer in bounded
transactions between ingest batches, so ingest never waits for a long delete.
"""

from __future__ import annotations

import logging
import threading

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.hub.store import Store, StoreBusyError

__all__ = ["RetentionWorker"]

log = logging.getLogger("berrys_monitoring.hub")
_MAX_ROUNDS = 50  # per check: then ingest gets the writer back until the next check


class RetentionWorker:
    def __init__(
        self, store: Store, *, max_age_s: float | None, max_bytes: int | None, interval_s: float
    ) -> None:
        self.store = store
        self.max_age_ns = int(max_age_s * 1e9) if max_age_s else None
        self.max_bytes = max_bytes or None
        self.interval_s = interval_s
        self.deleted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="berrys-hub-retention", daemon=True)

    def start(self) -> None:
        if self.max_age_ns is not None or self.max_bytes is not None:
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def run_once(self) -> int:
        """Delete what is past the limits, in bounded rounds; the rows deleted."""
        total = 0
        for _ in range(_MAX_ROUNDS):
            if self._stop.is_set():
                break
            n = self.store.enforce_retention(
                max_age_ns=self.max_age_ns, max_bytes=self.max_bytes
            ).result()
            total += n
            if n == 0:
                break
        self.deleted += total
        return total

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                n = self.run_once()
                if n:
                    log.info("retention: deleted %d rows", n)
            except StoreBusyError:
                return  # closing
            except Exception as exc:
                report_internal_error("hub.retention", exc, "retention failed")
