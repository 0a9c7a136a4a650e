"""Tail each service's JSON log output: keep the last lines and the trace ids seen.

Services write one JSON object per line to stdout; the demo sends that to a file and
reads it incrementally here. Lines that are not JSON (a server banner, a traceback) are
kept as plain text so nothing the services say is hidden.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

_MAX_TRACES = 2000  # per service; old ones are forgotten first
# HTTP client chatter (one line per outgoing call and health probe) would crowd the few
# lines the summary has room for; its trace ids still count.
_QUIET_LOGGERS = frozenset({"httpx", "httpcore", "urllib3.connectionpool"})


@dataclass(frozen=True)
class LogLine:
    """One line from a service's output (``record`` is None when it was not JSON)."""

    service: str
    text: str
    record: dict[str, Any] | None


class LogTail:
    """Incremental reader of the log files of all services."""

    def __init__(self, keep: int = 4) -> None:
        self._keep = keep
        self._files: dict[str, tuple[Path, int, bytes]] = {}
        # Per service, so a chatty gateway cannot push the user service out of view.
        self._lines: dict[str, deque[tuple[int, LogLine]]] = {}
        self._seq = 0
        self._traces: dict[str, OrderedDict[str, None]] = {}
        self._lock = threading.Lock()

    def add(self, service: str, path: Path) -> None:
        self._files[service] = (path, 0, b"")
        self._traces[service] = OrderedDict()
        self._lines[service] = deque(maxlen=self._keep)

    def poll(self) -> None:
        """Read whatever the services wrote since the last call."""
        for service, (path, offset, partial) in list(self._files.items()):
            try:
                with open(path, "rb") as fh:
                    fh.seek(offset)
                    data = fh.read()
            except OSError:
                continue
            buf = partial + data
            *complete, rest = buf.split(b"\n")
            self._files[service] = (path, offset + len(data), rest)
            for raw in complete:
                if raw.strip():
                    self._ingest(service, raw)

    def _ingest(self, service: str, raw: bytes) -> None:
        record: dict[str, Any] | None = None
        try:
            parsed = orjson.loads(raw)
            if isinstance(parsed, dict):
                record = parsed
        except orjson.JSONDecodeError:
            pass
        line = LogLine(service, raw.decode("utf-8", "replace").rstrip(), record)
        with self._lock:
            if record is None or record.get("logger") not in _QUIET_LOGGERS:
                self._seq += 1
                self._lines[service].append((self._seq, line))
            trace_id = record.get("trace_id") if record else None
            if isinstance(trace_id, str) and trace_id.strip("0"):
                traces = self._traces[service]
                traces[trace_id] = None
                traces.move_to_end(trace_id)
                while len(traces) > _MAX_TRACES:
                    traces.popitem(last=False)

    def recent(self) -> list[LogLine]:
        """The last ``keep`` lines of each service, oldest first."""
        with self._lock:
            merged = sorted(item for lines in self._lines.values() for item in lines)
        return [line for _, line in merged]

    def trace_ids(self, service: str) -> list[str]:
        with self._lock:
            return list(self._traces.get(service, ()))

    def shared_trace(self, services: list[str]) -> str | None:
        """The most recent trace id that appears in the logs of every one of ``services``."""
        with self._lock:
            if not services or any(s not in self._traces for s in services):
                return None
            first, *others = services
            for trace_id in reversed(self._traces[first]):
                if all(trace_id in self._traces[s] for s in others):
                    return trace_id
        return None
