"""Handlers that never raise into the code that logs: a stream and a rotating file.

A failed write (closed stream, full disk, removed file) is reported once through
``_internal`` and counted; the line is dropped, the caller carries on. The report is
itself a log record: while a handler of ours is reporting, records that reach our
handlers go straight to ``sys.__stderr__``, which ends any recursion and guarantees the
one warning is seen even when the broken handler was the only one.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.logging._deferred import DeferredLines, track

__all__ = ["SafeFileHandler", "SafeStreamHandler", "guard_handlers"]

# Threads currently reporting a failure of one of our handlers (usually empty, so the
# hot-path check is one truth test of a global).
_reporting: set[int] = set()


def _fallback(handler: logging.Handler, record: logging.LogRecord) -> None:
    # Each of our handlers on the way gets the record: it is written once.
    if record.__dict__.setdefault("_berrys_fallback", handler) is not handler:
        return
    try:
        err = sys.__stderr__
        if err is not None:
            err.write(logging.Formatter().format(record) + "\n")
            err.flush()
    except Exception:
        pass


def _report(exc: BaseException, message: str, key: str) -> None:
    me = threading.get_ident()
    _reporting.add(me)
    try:
        report_internal_error("logging", exc, message, key=key)
    finally:
        _reporting.discard(me)


# Handlers of others (a user's, a library's) guarded by guard_handlers(), and the
# root's handler list as last seen, so our handlers notice a new one in a list compare.
_GUARD = "_berrys_guarded_handle"
_root = logging.getLogger()
_root_seen: list[logging.Handler] = []


def guard_handlers() -> None:
    """Make every handler in the logging tree unable to raise into the code that logs.

    The stdlib lets an exception from a handler's ``emit`` propagate into the logging
    call, and through it into a server's start-up or a user's request. Each handler not
    of this package gets a guard on its ``handle``: a failure drops that handler's line,
    is reported once and counted (``internal_error_counts()["logging"]``), and the other
    handlers still get the record. ``configure_logging`` and ``setup_monitoring`` call it;
    our root handlers call it again whenever the root's handler list changes, before a
    handler added later can see a record.

    Example::

        >>> import logging
        >>> from berrys_monitoring.logging import guard_handlers
        >>> class Broken(logging.Handler):
        ...     def emit(self, record):
        ...         raise OSError("sink down")
        >>> logger = logging.getLogger("guard-example")
        >>> logger.propagate = False
        >>> logger.addHandler(Broken())
        >>> guard_handlers()
        >>> logger.warning("still fine")  # dropped for Broken, no exception
    """
    loggers: list[logging.Logger] = [_root]
    loggers += [
        lg
        for lg in list(logging.Logger.manager.loggerDict.values())
        if isinstance(lg, logging.Logger)
    ]
    for lg in loggers:
        for handler in list(lg.handlers):
            _guard(handler)
    _root_seen[:] = _root.handlers


def _guard(handler: logging.Handler) -> None:
    if getattr(handler, "never_raises", False) or _GUARD in vars(handler):
        return
    handle = handler.handle
    name = type(handler).__name__

    def guarded_handle(record: logging.LogRecord) -> Any:
        try:
            return handle(record)
        except Exception as exc:
            _report(exc, f"the log handler {name} raised; its line was dropped", f"handler:{name}")
            return False

    try:
        handler.handle = guarded_handle  # type: ignore[method-assign]
        setattr(handler, _GUARD, handle)
    except (AttributeError, TypeError):  # a handler class with __slots__: left as it is
        pass


def _watch_root() -> None:
    # One list compare per line: handlers compare by identity.
    if _root.handlers != _root_seen:
        guard_handlers()


class SafeStreamHandler(DeferredLines, logging.Handler):
    """Writes formatted lines to a text stream; never raises.

    Example::

        import io
        from berrys_monitoring.logging import SafeStreamHandler
        handler = SafeStreamHandler(io.StringIO())
    """

    never_raises = True  # left alone by guard_handlers()

    def __init__(self, stream: IO[str] | None = None, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.stream: IO[str] = stream if stream is not None else sys.stderr
        track(self)

    def handle(self, record: logging.LogRecord) -> Any:
        _watch_root()
        # Handler.handle without the filter call when there are no filters (hot path).
        if self.filters and not self.filter(record):
            return False
        with self.lock:  # type: ignore[union-attr]
            self.emit(record)
        return True

    def emit(self, record: logging.LogRecord) -> None:
        if _reporting and threading.get_ident() in _reporting:
            _fallback(self, record)
            return
        try:
            fmt = self.formatter
            line = fmt.format(record) if fmt is not None else self.format(record)
        except Exception as exc:
            _report(exc, "cannot format a log record", "format")
            from berrys_monitoring._internal import is_strict

            if is_strict():
                raise
            return
        self.write_line(line)

    def write_line(self, line: str) -> None:
        """Write one formatted line (the caller holds ``self.lock``); never raises."""
        if self._pending:
            self.write_pending()  # lines deferred before this one go first
        self.write_text(line + "\n")

    def write_text(self, text: str) -> None:
        """Write whole lines (the caller holds ``self.lock``); never raises."""
        try:
            stream = self.stream
            stream.write(text)
            stream.flush()
        except Exception as exc:
            _report(exc, "cannot write a log line to the stream", f"stream:{id(self.stream)}")

    def flush(self) -> None:
        self.flush_deferred()
        try:
            self.stream.flush()
        except Exception:
            pass

    def close(self) -> None:
        self.flush_deferred()
        super().close()


def _write_rest(stream: IO[bytes], raw: bytes, done: int) -> None:
    # A raw file may take less than the whole line (a pipe, a signal): finish it.
    view = memoryview(raw)[done:]
    while view:
        n = stream.write(view)
        if not n:
            raise OSError(f"short write: {len(view)} bytes of a log line not written")
        view = view[n:]


class SafeFileHandler(DeferredLines, logging.Handler):
    """Appends lines to a file with size-based rotation; reopens the file when it is
    removed or replaced (logrotate, an operator's ``rm``) and after a failed write.

    ``max_bytes=0`` disables rotation; ``backup_count`` files ``name.1`` … are kept.
    Each line is one unbuffered ``write()``: it is in the file (and visible to
    ``tail -f``, a log shipper, a crash) when the logging call returns; only the
    middleware's access lines may be deferred up to 50 ms and written together (see
    ``_deferred``). Whether the path
    still names our file is checked at most every ``check_interval`` seconds (a
    ``stat()`` per line was a large part of a line's cost); lines written in between go
    to the file we have open, as with any handler that keeps a descriptor.

    Example::

        from berrys_monitoring.logging import SafeFileHandler
        handler = SafeFileHandler("service.log", max_bytes=10_000_000, backup_count=5)
    """

    never_raises = True

    def __init__(
        self,
        filename: str | os.PathLike[str],
        max_bytes: int = 0,
        backup_count: int = 5,
        encoding: str = "utf-8",
        level: int = logging.NOTSET,
        *,
        check_interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(level)
        if max_bytes < 0 or backup_count < 0:
            raise ValueError("max_bytes and backup_count must be >= 0")
        if check_interval < 0:
            raise ValueError("check_interval must be >= 0")
        "".encode(encoding)  # an unknown encoding fails here, not on the first line
        self._clock = clock
        self._interval = check_interval
        self._next_check = 0.0
        self.filename = os.path.abspath(os.fspath(filename))
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self.encoding = encoding
        self._stream: IO[bytes] | None = None
        self._ident: tuple[int, int] | None = None
        self._size = 0
        track(self)
        # Opened at configure time so a bad path (missing directory, no permission)
        # raises there, with a clear message, rather than being dropped later.
        try:
            self._open()
        except OSError as exc:
            raise ValueError(f"cannot open log file {self.filename!r}: {exc}") from exc

    def _open(self) -> None:
        self._close_stream()
        # Unbuffered: one write() system call per line and no separate flush.
        stream = open(self.filename, "ab", buffering=0)  # noqa: SIM115
        st = os.fstat(stream.fileno())
        self._stream = stream
        self._ident = (st.st_dev, st.st_ino)
        self._size = st.st_size
        self._regular = os.path.isfile(self.filename)
        self._next_check = self._clock() + self._interval

    @property
    def check_interval(self) -> float:
        """Seconds between checks that the path still names our file (0: every line)."""
        return self._interval

    @check_interval.setter
    def check_interval(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("check_interval must be >= 0")
        self._interval = seconds
        self._next_check = self._clock() + seconds

    def _close_stream(self) -> None:
        s, self._stream = self._stream, None
        if s is not None:
            try:
                s.close()
            except Exception:
                pass

    def _still_ours(self) -> bool:
        try:
            st = os.stat(self.filename)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._ident

    def _rotate(self) -> None:
        self._close_stream()
        if self.backup_count > 0:
            for i in range(self.backup_count - 1, 0, -1):
                src, dst = f"{self.filename}.{i}", f"{self.filename}.{i + 1}"
                if os.path.exists(src):
                    os.replace(src, dst)
            os.replace(self.filename, f"{self.filename}.1")
        else:
            os.truncate(self.filename, 0)
        self._open()

    def handle(self, record: logging.LogRecord) -> Any:
        _watch_root()
        return super().handle(record)

    def emit(self, record: logging.LogRecord) -> None:
        if _reporting and threading.get_ident() in _reporting:
            _fallback(self, record)
            return
        try:
            line = self.format(record)
        except Exception as exc:
            _report(exc, "cannot format a log record", "format")
            from berrys_monitoring._internal import is_strict

            if is_strict():
                raise
            return
        self.write_line(line)

    def write_line(self, line: str) -> None:
        """Append one formatted line (the caller holds ``self.lock``); never raises."""
        if self._pending:
            self.write_pending()  # lines deferred before this one go first
        self.write_text(line + "\n")

    def write_text(self, data: str) -> None:
        """Append whole lines (the caller holds ``self.lock``); never raises."""
        try:
            if self._stream is None:
                self._open()
            elif self._clock() >= self._next_check:
                if self._still_ours():
                    self._next_check = self._clock() + self._interval
                else:
                    self._open()
            raw = data.encode(self.encoding)
            n = len(raw)
            if self.max_bytes and self._regular and self._size + n > self.max_bytes and self._size:
                self._rotate()
            stream = self._stream
            assert stream is not None
            written = stream.write(raw)
            if written != n:
                _write_rest(stream, raw, written or 0)
            self._size += n
        except Exception as exc:
            _report(exc, f"cannot write to log file {self.filename}", f"file:{self.filename}")
            # Start from a fresh descriptor next time (the disk may have been freed).
            self._close_stream()

    def flush(self) -> None:
        self.flush_deferred()
        try:
            if self._stream is not None:
                self._stream.flush()
        except Exception:
            pass

    def close(self) -> None:
        self.flush_deferred()
        self._close_stream()
        super().close()
