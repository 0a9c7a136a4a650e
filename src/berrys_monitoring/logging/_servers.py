"""The web servers' own loggers (uvicorn, gunicorn, hypercorn): written through the root
configuration, and their plain-text access lines kept out where ours replace them."""

from __future__ import annotations

import logging
from typing import Any

__all__ = ["adopt_server_loggers", "silence_access_logger", "uvicorn_log_config"]

SERVER_LOGGERS = (
    "uvicorn",
    "uvicorn.error",
    "uvicorn.access",
    "gunicorn",
    "gunicorn.error",
    "gunicorn.access",
    "hypercorn.error",
    "hypercorn.access",
)


def adopt_server_loggers(*, access_log: bool | None = None) -> None:
    """Make uvicorn/gunicorn/hypercorn loggers write through the root configuration.

    Their own handlers are removed and they propagate to the root, so their lines come
    out in the same format as the application's. ``access_log=False`` silences their
    plain access lines (when the monitoring middleware writes its own), ``True`` turns
    them back on; the default leaves that choice as it is.
    Call it again if the server reconfigures its logging after your app is imported.

    Example::

        >>> from berrys_monitoring.logging import adopt_server_loggers
        >>> adopt_server_loggers()
    """
    for name in SERVER_LOGGERS:
        lg = logging.getLogger(name)
        for h in list(lg.handlers):
            lg.removeHandler(h)
        if name.endswith(".access"):
            if access_log is False:
                silence_access_logger(name)
                continue
            if access_log is True:
                _silenced.discard(name)
                lg.removeFilter(_DROP)
                lg.disabled = False
            elif name in _silenced:
                continue  # stays silent: no handlers, no propagation
        lg.propagate = True


class _DropAccess(logging.Filter):
    """Drops a server's plain-text access lines (the monitoring middleware writes its own)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return False


_DROP = _DropAccess()
# Access loggers silenced by silence_access_logger(); adopt_server_loggers() leaves them so.
_silenced: set[str] = set()


def silence_access_logger(name: str) -> None:
    """Keep a server's plain access lines out (``"uvicorn.access"``, ``"gunicorn.access"``).

    The logger loses its handlers and stops propagating, so it has no handler at all:
    uvicorn then does not even format its access line (it asks ``hasHandlers()`` once per
    connection). A filter that drops every record stays on it too, for a server that
    installs its handlers again after the app was imported (``uvicorn.run(app)`` runs
    its ``dictConfig`` later).

    Example::

        >>> import logging
        >>> silence_access_logger("uvicorn.access")
        >>> logging.getLogger("uvicorn.access").hasHandlers()
        False
    """
    lg = logging.getLogger(name)
    _silenced.add(name)
    if _DROP not in lg.filters:
        lg.addFilter(_DROP)
    for h in list(lg.handlers):
        lg.removeHandler(h)
    lg.propagate = False


def uvicorn_log_config(*, access_log: bool = True) -> dict[str, Any]:
    """A ``log_config`` for uvicorn that installs no handlers of its own.

    Example::

        import uvicorn
        from berrys_monitoring.logging import uvicorn_log_config
        # uvicorn.run("app:app", log_config=uvicorn_log_config())
    """
    loggers: dict[str, Any] = {
        name: {"handlers": [], "propagate": True}
        for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
    }
    if not access_log:
        loggers["uvicorn.access"]["level"] = "CRITICAL"
    return {"version": 1, "disable_existing_loggers": False, "loggers": loggers}
