"""``get_logger`` / ``get_request_logger``: stdlib loggers with a fast path and bound fields.

A call on our logger still goes through the stdlib: the logger's level (cached by the
stdlib and invalidated by it on every ``setLevel``), its filters, propagation and every
handler on the way to the root. What the fast path skips is the costly part of building
the ``LogRecord``: the caller lookup (``findCaller`` walks the stack) and the generic
``LogRecord.__init__``. The record gets every standard attribute, so foreign handlers
and formatters keep working; file/line/function are filled only with
``include_caller=True`` (or ``stack_info=True``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import Any

from berrys_monitoring._compat.logging import default_record_factory, level_cache
from berrys_monitoring.logging import _render
from berrys_monitoring.logging._context import EMPTY, Fields, current_fields, merge
from berrys_monitoring.logging._record import build_record
from berrys_monitoring.logging._render import current_trace

__all__ = ["Logger", "get_logger", "get_request_logger"]

_DEBUG, _INFO, _WARNING, _ERROR, _CRITICAL = 10, 20, 30, 40, 50


class Logger:
    """A structured logger over a stdlib ``logging.Logger`` of the same name.

    Methods take ``exc_info=``, ``extra=``, ``stack_info=``, ``stacklevel=`` like the
    stdlib's, plus keyword fields (``logger.info("paid", amount=3)``). ``bind(**fields)``
    returns a logger that adds fields to every line. Any other attribute (``setLevel``,
    ``addHandler``, ``handlers``…) is the stdlib logger's.

    Example::

        >>> from berrys_monitoring.logging import get_logger
        >>> log = get_logger("billing").bind(tenant="acme")
        >>> log.info("invoice sent", extra={"invoice_id": 42})
    """

    __slots__ = ("_bound", "_cache", "_std", "name")

    def __init__(self, std: logging.Logger, bound: Fields = EMPTY) -> None:
        self._std = std
        self._bound = bound
        self.name = std.name
        # The stdlib logger's own level cache, read inline: a call below the level
        # costs what the stdlib's does (a miss asks isEnabledFor).
        self._cache: dict[int, bool] = level_cache(std)

    def __repr__(self) -> str:
        return f"<berrys_monitoring Logger {self.name!r} bound={dict(self._bound)!r}>"

    def __getattr__(self, item: str) -> Any:
        if item.startswith("__") or item in Logger.__slots__:
            raise AttributeError(item)  # unset slot (copy/unpickle): no recursion
        return getattr(self._std, item)

    def __reduce__(self) -> tuple[Any, ...]:
        # Like the stdlib's loggers: pickled by name (and bound fields).
        return (_restore, (self.name, dict(self._bound)))

    @property
    def std(self) -> logging.Logger:
        """The underlying stdlib logger."""
        return self._std

    def bind(self, **fields: Any) -> Logger:
        """A logger that adds ``fields`` to every line (this one is unchanged)."""
        return Logger(self._std, merge(self._bound, fields))

    def isEnabledFor(self, level: int) -> bool:
        return self._std.isEnabledFor(level)

    def _log(
        self,
        level: int,
        msg: object,
        args: tuple[Any, ...],
        exc_info: Any,
        extra: Mapping[str, Any] | None,
        stack_info: bool,
        stacklevel: int,
        fields: dict[str, Any],
    ) -> None:
        std = self._std
        if exc_info:
            if isinstance(exc_info, BaseException):
                exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
            elif not isinstance(exc_info, tuple):
                exc_info = sys.exc_info()
            if exc_info[0] is None:
                exc_info = None
        # ``fields`` is a fresh dict per call already (the caller's ``**fields``).
        # ``extra`` itself is kept (not copied), as the stdlib keeps its values.
        ex = ({**extra, **fields} if fields else extra) if extra else fields
        if (
            stack_info
            or _render._settings.include_caller
            # A user-installed record factory must see every record: the stdlib path.
            or not default_record_factory()
        ):
            # +2: this method and the level method sit between the caller and here.
            fn, lno, func, sinfo = std.findCaller(stack_info, stacklevel + 2)
            rec = std.makeRecord(std.name, level, fn, lno, msg, args, exc_info, func, None, sinfo)
            d = rec.__dict__
            for k, v in ex.items():
                if k not in d:
                    d[k] = v
            d["_berrys_extra"] = ex
            d["_berrys_ctx"] = current_fields()
            d["_berrys_bound"] = self._bound
            d["_berrys_trace"] = current_trace()
            std.handle(rec)
            return
        std.handle(build_record(std.name, level, msg, args, exc_info, ex, self._bound))

    def debug(
        self,
        msg: object,
        *args: Any,
        exc_info: Any = None,
        extra: Mapping[str, Any] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        **fields: Any,
    ) -> None:
        """Log at DEBUG."""
        try:
            if not self._cache[_DEBUG] or self._std.disabled:
                return
        except KeyError:
            if not self._std.isEnabledFor(_DEBUG):
                return
        self._log(_DEBUG, msg, args, exc_info, extra, stack_info, stacklevel, fields)

    def info(
        self,
        msg: object,
        *args: Any,
        exc_info: Any = None,
        extra: Mapping[str, Any] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        **fields: Any,
    ) -> None:
        """Log at INFO."""
        try:
            if not self._cache[_INFO] or self._std.disabled:
                return
        except KeyError:
            if not self._std.isEnabledFor(_INFO):
                return
        self._log(_INFO, msg, args, exc_info, extra, stack_info, stacklevel, fields)

    def warning(
        self,
        msg: object,
        *args: Any,
        exc_info: Any = None,
        extra: Mapping[str, Any] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        **fields: Any,
    ) -> None:
        """Log at WARNING."""
        try:
            if not self._cache[_WARNING] or self._std.disabled:
                return
        except KeyError:
            if not self._std.isEnabledFor(_WARNING):
                return
        self._log(_WARNING, msg, args, exc_info, extra, stack_info, stacklevel, fields)

    warn = warning

    def error(
        self,
        msg: object,
        *args: Any,
        exc_info: Any = None,
        extra: Mapping[str, Any] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        **fields: Any,
    ) -> None:
        """Log at ERROR."""
        try:
            if not self._cache[_ERROR] or self._std.disabled:
                return
        except KeyError:
            if not self._std.isEnabledFor(_ERROR):
                return
        self._log(_ERROR, msg, args, exc_info, extra, stack_info, stacklevel, fields)

    def exception(
        self,
        msg: object,
        *args: Any,
        exc_info: Any = True,
        extra: Mapping[str, Any] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        **fields: Any,
    ) -> None:
        """Log at ERROR with the exception being handled."""
        try:
            if not self._cache[_ERROR] or self._std.disabled:
                return
        except KeyError:
            if not self._std.isEnabledFor(_ERROR):
                return
        self._log(_ERROR, msg, args, exc_info, extra, stack_info, stacklevel, fields)

    def critical(
        self,
        msg: object,
        *args: Any,
        exc_info: Any = None,
        extra: Mapping[str, Any] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        **fields: Any,
    ) -> None:
        """Log at CRITICAL."""
        try:
            if not self._cache[_CRITICAL] or self._std.disabled:
                return
        except KeyError:
            if not self._std.isEnabledFor(_CRITICAL):
                return
        self._log(_CRITICAL, msg, args, exc_info, extra, stack_info, stacklevel, fields)

    fatal = critical

    def log(
        self,
        level: int,
        msg: object,
        *args: Any,
        exc_info: Any = None,
        extra: Mapping[str, Any] | None = None,
        stack_info: bool = False,
        stacklevel: int = 1,
        **fields: Any,
    ) -> None:
        """Log at any numeric level."""
        if self._std.isEnabledFor(level):
            self._log(int(level), msg, args, exc_info, extra, stack_info, stacklevel, fields)


def _restore(name: str, bound: dict[str, Any]) -> Logger:
    lg = get_logger(name or None)
    return lg.bind(**bound) if bound else lg


_loggers: dict[str, Logger] = {}


def get_logger(name: str | None = None) -> Logger:
    """The structured logger called ``name`` (the stdlib logger of that name underneath).

    Example::

        >>> from berrys_monitoring.logging import get_logger
        >>> logger = get_logger(__name__)
        >>> logger.info("Processing request", extra={"request_id": "123", "user_id": "456"})
    """
    key = name or ""
    lg = _loggers.get(key)
    if lg is None:
        lg = _loggers.setdefault(key, Logger(logging.getLogger(name)))
    return lg


def get_request_logger(
    request_id: str | None = None,
    user_id: str | None = None,
    session_id: str | None = None,
    ip_address: str | None = None,
    *,
    logger_name: str | None = None,
    **more: Any,
) -> Logger:
    """A logger bound to a request: its ids are on every line it writes.

    Fields left ``None`` are omitted. ``logger_name`` defaults to the caller's module.
    To put the ids on lines written by *other* loggers too (libraries, helpers), bind
    them to the context with :func:`bind_context` / :func:`bound_context` instead.

    Example::

        >>> from berrys_monitoring.logging import get_request_logger
        >>> logger = get_request_logger(request_id="request-123", user_id="user-456")
        >>> logger.info("Processing request")
    """
    fields = {
        "request_id": request_id,
        "user_id": user_id,
        "session_id": session_id,
        "ip_address": ip_address,
        **more,
    }
    if logger_name is None:
        logger_name = sys._getframe(1).f_globals.get("__name__", "request")
    return get_logger(logger_name).bind(**{k: v for k, v in fields.items() if v is not None})
