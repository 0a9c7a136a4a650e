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
from typing import IO, Any

from berrys_monitoring._internal import report_internal_error

__all__ = ["SafeFileHandler", "SafeStreamHandler"]

# Threads currently reporting a failure of one of our handlers (usually empty, so the
# hot-path check is one truth test of a global).
_reporting: set[int] = set()


def _fallback(handler: logging.Handler, record: logging.LogRecord) -> None:
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


class SafeStreamHandler(logging.Handler):
    """Writes formatted lines to a text stream; never raises.

    Example::

        import io
        from berrys_monitoring.logging import SafeStreamHandler
        handler = SafeStreamHandler(io.StringIO())
    """

    def __init__(self, stream: IO[str] | None = None, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.stream: IO[str] = stream if stream is not None else sys.stderr

    def handle(self, record: logging.LogRecord) -> Any:
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
        try:
            stream = self.stream
            stream.write(line + "\n")
            stream.flush()
        except Exception as exc:
            _report(exc, "cannot write a log line to the stream", f"stream:{id(self.stream)}")

    def flush(self) -> None:
        try:
            self.stream.flush()
        except Exception:
            pass


class SafeFileHandler(logging.Handler):
    """Appends lines to a file with size-based rotation; reopens the file when it is
    removed or replaced (logrotate, an operator's ``rm``) and after a failed write.

    ``max_bytes=0`` disables rotation; ``backup_count`` files ``name.1`` … are kept.

    Example::

        from berrys_monitoring.logging import SafeFileHandler
        handler = SafeFileHandler("service.log", max_bytes=10_000_000, backup_count=5)
    """

    def __init__(
        self,
        filename: str | os.PathLike[str],
        max_bytes: int = 0,
        backup_count: int = 5,
        encoding: str = "utf-8",
        level: int = logging.NOTSET,
    ) -> None:
        super().__init__(level)
        if max_bytes < 0 or backup_count < 0:
            raise ValueError("max_bytes and backup_count must be >= 0")
        self.filename = os.path.abspath(os.fspath(filename))
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self.encoding = encoding
        self._stream: IO[str] | None = None
        self._ident: tuple[int, int] | None = None
        self._size = 0
        # Opened at configure time so a bad path (missing directory, no permission)
        # raises there, with a clear message, rather than being dropped later.
        try:
            self._open()
        except OSError as exc:
            raise ValueError(f"cannot open log file {self.filename!r}: {exc}") from exc

    def _open(self) -> None:
        self._close_stream()
        stream = open(self.filename, "a", encoding=self.encoding)  # noqa: SIM115
        st = os.fstat(stream.fileno())
        self._stream = stream
        self._ident = (st.st_dev, st.st_ino)
        self._size = st.st_size
        self._regular = os.path.isfile(self.filename)

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

    def emit(self, record: logging.LogRecord) -> None:
        if _reporting and threading.get_ident() in _reporting:
            _fallback(self, record)
            return
        try:
            data = self.format(record) + "\n"
        except Exception as exc:
            _report(exc, "cannot format a log record", "format")
            from berrys_monitoring._internal import is_strict

            if is_strict():
                raise
            return
        try:
            if self._stream is None or not self._still_ours():
                self._open()
            n = len(data.encode(self.encoding)) if not data.isascii() else len(data)
            if self.max_bytes and self._regular and self._size + n > self.max_bytes and self._size:
                self._rotate()
            assert self._stream is not None
            self._stream.write(data)
            self._stream.flush()
            self._size += n
        except Exception as exc:
            _report(exc, f"cannot write to log file {self.filename}", f"file:{self.filename}")
            # Start from a fresh descriptor next time (the disk may have been freed).
            self._close_stream()

    def flush(self) -> None:
        try:
            if self._stream is not None:
                self._stream.flush()
        except Exception:
            pass

    def close(self) -> None:
        self._close_stream()
        super().close()
