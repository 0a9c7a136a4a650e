"""The stdlib ``logging`` module's private names: the level cache of a logger, the record
factory slot and the module's start time.

A log call below the logger's level must cost what the stdlib's does (~90 ns), and a log
record built without ``LogRecord.__init__`` needs the same ``relativeCreated`` origin.
Each is checked at import; another Python, or a ``logging`` laid out differently, takes
the public path (``isEnabledFor``, ``getLogRecordFactory``, the import time).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["START_TIME", "default_record_factory", "level_cache"]

#: The origin of ``LogRecord.relativeCreated`` (when ``logging`` was imported).
START_TIME: float = getattr(logging, "_startTime", None) or time.time()

_ns = vars(logging)
_LogRecord = logging.LogRecord

default_record_factory: Callable[[], bool]
if _ns.get("_logRecordFactory") is logging.getLogRecordFactory():

    def default_record_factory() -> bool:
        """True while no one has installed another record factory (one dict lookup).

        Example::

            >>> default_record_factory()
            True
        """
        return _ns["_logRecordFactory"] is _LogRecord

else:  # pragma: no cover - another logging layout

    def default_record_factory() -> bool:
        return logging.getLogRecordFactory() is _LogRecord


def level_cache(logger: logging.Logger) -> dict[int, bool]:
    """The logger's own cache of ``isEnabledFor`` answers, which the stdlib clears in
    place on every ``setLevel``/``disable``; an empty dict of our own when it has none (a
    miss then asks ``isEnabledFor``, the public path).

    Example::

        >>> lg = logging.getLogger("compat-example")
        >>> cache = level_cache(lg)
        >>> lg.isEnabledFor(logging.WARNING), cache.get(logging.WARNING)
        (True, True)
    """
    cache = getattr(logger, "_cache", None)
    return cache if isinstance(cache, dict) else {}
