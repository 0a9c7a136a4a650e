"""The module-level default :class:`AlertManager` the seed functions use."""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Iterable
from typing import Any

from berrys_monitoring._shutdown import on_flush
from berrys_monitoring.alerts._manager import AlertManager
from berrys_monitoring.alerts._store import SQLiteAlertStore

__all__ = ["configure_alerts", "get_alert_manager"]

_lock = threading.Lock()
_default: AlertManager | None = None


def get_alert_manager() -> AlertManager:
    """The default manager (in memory, no notifiers, until :func:`configure_alerts`).

    Example::

        >>> from berrys_monitoring.alerts import get_alert_manager
        >>> get_alert_manager().list(active=True) is not None
        True
    """
    global _default
    with _lock:
        if _default is None:
            _default = AlertManager()
        return _default


def configure_alerts(
    store_path: str | os.PathLike[str] | SQLiteAlertStore | None = None,
    notifiers: Iterable[Any] = (),
    *,
    rules: Iterable[Any] = (),
    evaluation_interval: float = 15.0,
    **options: Any,
) -> AlertManager:
    """Replace the default manager used by ``trigger_alert`` & co. and return it.

    ``store_path`` is an SQLite file (state survives restarts; None keeps it in memory);
    ``options`` go to :class:`AlertManager` (``max_attempts``, ``backoff_initial``,
    ``queue_size``, ``clock``). ``rules`` are evaluated every ``evaluation_interval``
    seconds against the metrics registry (see :meth:`AlertManager.start_rules`). The
    previous default manager is flushed and shut down (its evaluator stopped).
    Errors in the configuration (a missing directory, a non-notifier) raise here.

    Example::

        >>> from berrys_monitoring.alerts import configure_alerts, LogNotifier
        >>> manager = configure_alerts(store_path=None, notifiers=[LogNotifier()])
        >>> manager.notifiers[0].__class__.__name__
        'LogNotifier'
    """
    global _default
    manager = AlertManager(store_path, notifiers, **options)
    rules = list(rules)
    with _lock:
        old, _default = _default, manager
    if old is not None:
        old.shutdown(timeout=5.0)
    if rules:
        manager.start_rules(rules, interval=evaluation_interval)
    return manager


@on_flush
@atexit.register
def _flush_at_exit() -> None:
    # Give queued notifications a short, bounded chance to leave before the process ends.
    manager = _default
    if manager is not None:
        manager.flush(timeout=3.0)
