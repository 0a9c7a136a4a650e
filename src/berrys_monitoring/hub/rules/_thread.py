"""The background thread the rule evaluator, the dispatcher and the outbox each run: it
starts once, sleeps until its next timer or until woken, and stops promptly."""

from __future__ import annotations

import threading

__all__ = ["WakeableThread"]


class WakeableThread:
    """A daemon thread running ``self._run`` that ``wake()`` interrupts mid-sleep.

    Subclasses loop ``while not self._stop.is_set()`` and sleep with
    ``self._wake.wait(seconds)`` followed by ``self._wake.clear()``.

    Example::

        >>> class Ticker(WakeableThread):
        ...     ticks = 0
        ...     def _run(self) -> None:
        ...         while not self._stop.is_set():
        ...             self.ticks += 1
        ...             self._wake.wait(60)
        ...             self._wake.clear()
        >>> t = Ticker("ticker")
        >>> t.start(); t.stop()
        >>> t.ticks >= 1
        True
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:  # pragma: no cover - every subclass has its own
        raise NotImplementedError
