"""Lines a handler may write a moment later, in one system call with their neighbours.

The access log writes a line per request. Written one by one, every line is a ``write``
system call, the largest single cost of an access line in a busy server. Our handlers
therefore let the access-line fast path *defer* its lines: they are kept in order in the
handler and written together when

- 128 of them are waiting,
- any other line reaches the same handler (so the order in the file or stream is
  always the order of logging),
- the handler is flushed or closed (``logging.shutdown`` at exit does both),
- or at the latest :data:`FLUSH_INTERVAL` seconds after the first of them (a
  background thread that sleeps while nothing waits).

A process killed with SIGKILL loses at most that interval of access lines; a forked
child starts with none of its parent's waiting lines.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

__all__ = ["FLUSH_INTERVAL", "MAX_PENDING", "DeferredLines"]

FLUSH_INTERVAL = 0.05
MAX_PENDING = 128


class DeferredLines:
    """Mixin for our handlers: ``defer_line`` keeps a line for a batched write.

    The handler provides ``lock`` and ``write_text(text)`` (one or more whole lines,
    newline-terminated; never raises). Example::

        import io
        from berrys_monitoring.logging import SafeStreamHandler
        h = SafeStreamHandler(io.StringIO())
        with h.lock:
            h.defer_line('{"message": "later"}')
        h.flush()
    """

    _pending: list[str] | None = None
    lock: Any

    def write_text(self, text: str) -> None:  # pragma: no cover - provided by the handler
        raise NotImplementedError

    def defer_line(self, line: str) -> None:
        """Keep ``line`` for the next batched write (the caller holds ``self.lock``).

        Lines are kept rendered: a ``str`` is never tracked by the garbage collector,
        while the fields of an unrendered line would keep objects alive past gen-0
        collections (which a busy server then runs more often)."""
        pending = self._pending
        if pending is None:
            pending = self._pending = []
        pending.append(line)
        if len(pending) == 1:
            _FLUSHER.due(self)
        elif len(pending) >= MAX_PENDING:
            self.write_pending()

    def write_pending(self) -> None:
        """Write the deferred lines now (the caller holds ``self.lock``)."""
        pending = self._pending
        if pending:
            self._pending = []
            self.write_text("\n".join(pending) + "\n")

    def flush_deferred(self) -> None:
        """Take the lock and write the deferred lines."""
        if self._pending:
            with self.lock:
                self.write_pending()


class _Flusher:
    """One daemon thread that writes deferred lines a moment after they were deferred."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._due: list[DeferredLines] = []
        self._thread: threading.Thread | None = None
        self._pid = 0

    def due(self, handler: DeferredLines) -> None:
        with self._lock:
            self._due.append(handler)
            thread = self._thread
            if thread is None or self._pid != os.getpid() or not thread.is_alive():
                self._pid = os.getpid()
                thread = self._thread = threading.Thread(
                    target=self._run, name="berrys-monitoring-log-flush", daemon=True
                )
                thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            # Let the batch build up: lines deferred in this interval go out together.
            threading.Event().wait(FLUSH_INTERVAL)
            with self._lock:
                due, self._due = self._due, []
                self._wake.clear()
            for handler in due:
                try:
                    handler.flush_deferred()
                except Exception:  # pragma: no cover - write_text never raises
                    pass

    def after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._due = []
        self._thread = None
        for handler in list(_HANDLERS):
            handler._pending = None  # the parent writes them


_FLUSHER = _Flusher()
_HANDLERS: weakref.WeakSet[Any] = weakref.WeakSet()


def track(handler: DeferredLines) -> None:
    """Register a handler so a forked child drops its parent's deferred lines."""
    _HANDLERS.add(handler)


def _before_fork() -> None:
    for handler in list(_HANDLERS):
        try:
            handler.flush_deferred()
        except Exception:  # pragma: no cover
            pass


if hasattr(os, "register_at_fork"):
    os.register_at_fork(before=_before_fork, after_in_child=_FLUSHER.after_fork_in_child)
