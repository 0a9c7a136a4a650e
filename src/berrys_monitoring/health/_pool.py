"""Where checks run: daemon worker threads for sync checks, a daemon event loop for async
checks called from sync code.

Why not ``concurrent.futures.ThreadPoolExecutor``: its workers are joined at interpreter
exit, so one hung database driver would keep the process from ever exiting. Ours are
daemon threads; a hung check costs one parked thread (never a hung caller), and the
registry never starts a second run of a check whose previous run is still in flight.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["background_loop", "submit"]

T = TypeVar("T")

_MAX_WORKERS = 64
_IDLE_EXIT_S = 60.0


class _DaemonPool:
    def __init__(self, max_workers: int = _MAX_WORKERS) -> None:
        self._max = max_workers
        self._q: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0
        self._pending = 0

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        fut: Future[T] = Future()
        with self._lock:
            self._pending += 1
            spawn = self._pending > self._idle and self._threads < self._max
            if spawn:
                self._threads += 1
        self._q.put((fut, fn))
        if spawn:
            try:
                t = threading.Thread(target=self._work, name="berrys-health", daemon=True)
                t.start()
            except RuntimeError:
                with self._lock:
                    self._threads -= 1
                raise
        return fut

    def _work(self) -> None:
        while True:
            with self._lock:
                self._idle += 1
            try:
                fut, fn = self._q.get(timeout=_IDLE_EXIT_S)
            except queue.Empty:
                with self._lock:
                    self._idle -= 1
                    # Stay if work arrived while we were timing out.
                    if self._pending <= self._idle:
                        self._threads -= 1
                        return
                continue
            with self._lock:
                self._idle -= 1
                self._pending -= 1
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)
            del fut, fn  # drop references while parked


class _BackgroundLoop:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None

    def get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                t = threading.Thread(
                    target=loop.run_forever, name="berrys-health-loop", daemon=True
                )
                t.start()
                self._loop = loop
            return self._loop

    def run(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.get())


_pool = _DaemonPool()
_bg = _BackgroundLoop()


def submit(fn: Callable[[], T]) -> Future[T]:
    """Run ``fn`` on a daemon worker thread."""
    return _pool.submit(fn)


def background_loop() -> _BackgroundLoop:
    """The shared daemon event loop for async checks called from sync code."""
    return _bg


def _after_fork_in_child() -> None:
    # Threads do not survive fork: start from empty structures in the child.
    global _pool, _bg
    _pool = _DaemonPool()
    _bg = _BackgroundLoop()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
