"""What a stopping process still owes its collectors: one list of flush hooks, run when
the server shuts down and when SIGTERM ends the process without running ``atexit``.

Exporters queue spans, log records and metrics for up to a few seconds. ``atexit`` drains
them when Python exits normally, which is what gunicorn's workers do. Other servers end
with the signal's default action instead: uvicorn re-raises SIGTERM after its graceful
shutdown, its ``--workers`` children leave through ``os._exit``, Flask's development
server never handles SIGTERM at all. Two seams cover them:

* the ASGI lifespan: the monitoring middleware runs :func:`flush_telemetry` when the
  server says the application has shut down (every lifespan server, any worker model);
* :func:`flush_on_sigterm`: a SIGTERM handler, installed only where SIGTERM still has its
  default action, that flushes and then lets the signal end the process as it would have
  (same exit status), so a supervisor sees no difference except the telemetry arriving.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from berrys_monitoring._internal import report_internal_error

__all__ = ["flush_on_sigterm", "flush_telemetry", "on_flush"]

_hooks: list[Callable[[], object]] = []
_lock = threading.Lock()


def on_flush(hook: Callable[[], object]) -> Callable[[], object]:
    """Register a bounded flush of one pipeline (usable as a decorator).

    A hook sends what is queued and returns; the pipeline keeps working afterwards (the
    process may go on, as an ASGI app in a test does after a lifespan shutdown). It must
    be bounded in time: a dead collector must not hold up a deploy.

    Example::

        >>> from berrys_monitoring._shutdown import on_flush
        >>> @on_flush
        ... def drain():
        ...     pass
    """
    with _lock:
        if hook not in _hooks:
            _hooks.append(hook)
    return hook


def flush_telemetry() -> None:
    """Run every flush hook, in registration order; a failing hook is counted, not raised.

    Example::

        >>> from berrys_monitoring._shutdown import flush_telemetry
        >>> flush_telemetry()
    """
    with _lock:
        hooks = list(_hooks)
    for hook in hooks:
        try:
            hook()
        except Exception as exc:
            report_internal_error("shutdown", exc, f"flush hook {hook.__qualname__} failed")


def flush_on_sigterm() -> bool:
    """Make SIGTERM drain the telemetry queues before it ends the process.

    Only from the main thread, and only while SIGTERM has its default action: a server
    that handles SIGTERM itself (gunicorn's workers, an application's own handler) keeps
    its handler, and its normal exit drains the queues through ``atexit``. A server that
    installs its handler later and restores ours before re-raising the signal (uvicorn)
    ends up here too. Returns whether the handler is in place.

    Example::

        >>> from berrys_monitoring._shutdown import flush_on_sigterm
        >>> isinstance(flush_on_sigterm(), bool)
        True
    """
    if threading.current_thread() is not threading.main_thread():
        return False
    try:
        current = signal.getsignal(signal.SIGTERM)
        if current is _on_sigterm:
            return True
        if current not in (signal.SIG_DFL, None):
            return False
        signal.signal(signal.SIGTERM, _on_sigterm)
    except (ValueError, OSError, AttributeError):  # no SIGTERM here, or not allowed
        return False
    return True


def _on_sigterm(signum: int, frame: object) -> None:
    flush_telemetry()
    # Then what SIGTERM would have done: end the process, reported as killed by it.
    signal.signal(signum, signal.SIG_DFL)
    signal.raise_signal(signum)
