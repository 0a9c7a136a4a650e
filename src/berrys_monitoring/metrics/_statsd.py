"""The STATSD backend: DogStatsD lines, buffered into UDP packets, never blocking the caller.

The caller only formats a line (its constant parts are cached per name and tags) and
appends it to a buffer. A packet leaves when the next line would push it past
``max_packet_size`` (default 1432 bytes: an Ethernet MTU minus IP/UDP headers), when the
background flusher wakes (every ``flush_interval`` seconds) and at interpreter exit. The
socket is non-blocking and the host is resolved by the flusher thread, so a slow DNS, an
unresolvable name or an unreachable host costs the caller nothing: packets that cannot
leave are dropped and counted (``berrys_monitoring_events_total{component="metrics"}``).
"""

from __future__ import annotations

import atexit
import os
import random
import socket
import threading
import weakref
from collections import deque
from collections.abc import Mapping
from typing import Any

from berrys_monitoring._internal import count_event, is_strict, report_internal_error
from berrys_monitoring._shutdown import on_flush
from berrys_monitoring.metrics._fastpath import hashable_tags
from berrys_monitoring.metrics._names import statsd_name, statsd_tag

__all__ = ["StatsDBackend"]

_live: weakref.WeakSet[StatsDBackend] = weakref.WeakSet()


class StatsDBackend:
    """DogStatsD over UDP: ``name:1|c|#k:v``, gauges ``g``, histograms ``h``, timers ``ms``."""

    name = "statsd"

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 8125,
        prefix: str = "",
        default_tags: Mapping[str, object] | None = None,
        *,
        max_packet_size: int = 1432,
        flush_interval: float = 0.5,
        sample_rate: float = 1.0,
    ) -> None:
        self.host = host
        self.port = int(port)
        self.prefix = prefix
        self.default_tags = dict(default_tags or {})
        self.max_packet_size = int(max_packet_size)
        self.flush_interval = float(flush_interval)
        self.sample_rate = float(sample_rate)
        self._rate = "" if self.sample_rate >= 1.0 else f"|@{self.sample_rate:g}"
        self._cache: dict[object, tuple[str, str, int]] = {}
        self._addr: Any = None
        self._sock: socket.socket | None = None
        self._closed = False
        self._init_state()
        _live.add(self)

    def _resolve_numeric(self) -> None:
        # An IP literal needs no DNS, so it is usable at once, even from the caller's thread.
        try:
            info = socket.getaddrinfo(
                self.host, self.port, 0, socket.SOCK_DGRAM, 0, socket.AI_NUMERICHOST
            )
        except OSError:
            return  # a host name: the flusher thread resolves it
        self._open(info[0][0], info[0][4])

    def _open(self, family: int, addr: Any) -> None:
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setblocking(False)
        self._sock, self._addr = sock, addr

    def _init_state(self) -> None:
        # Also run in a forked child: a copied lock may be held and the thread is gone.
        self._lock = threading.Lock()
        self._buf: list[str] = []
        self._size = 0
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        # Packets that filled up before the host was resolved; bounded, then dropped.
        self._pending: deque[str] = deque()
        self._pid = os.getpid()
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
            self._addr = None
        self._resolve_numeric()

    # -- hot path ---------------------------------------------------------------------
    def increment(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        if self._rate and random.random() >= self.sample_rate:
            return
        self._emit("c", name, tags, value)

    def gauge(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        self._emit("g", name, tags, value)  # gauges are never sampled: the last value counts

    def observe(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        if self._rate and random.random() >= self.sample_rate:
            return
        self._emit("h", name, tags, value)

    def timing(self, name: str, tags: Mapping[str, object] | None, seconds: float) -> None:
        if self._rate and random.random() >= self.sample_rate:
            return
        self._emit("ms", name, tags, round(seconds * 1000.0, 3))

    def _emit(self, kind: str, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        try:
            key = (kind, name, tuple(tags.items())) if tags else (kind, name)
            parts = self._cache.get(key)
            if parts is None:
                parts = self._parts(kind, name, tags, key)
            line = parts[0] + str(value) + parts[1]
            size = len(line) + parts[2] + 1
            packet = None
            with self._lock:
                if self._size + size > self.max_packet_size and self._buf:
                    packet = "\n".join(self._buf)
                    self._buf = [line]
                    self._size = size
                else:
                    self._buf.append(line)
                    self._size += size
                    if self._thread is None:
                        self._start_flusher()
            if packet is not None:
                self._send(packet)
        except Exception as exc:
            fixed = hashable_tags(tags) if isinstance(exc, TypeError) else None
            if fixed is not None:
                return self._emit(kind, name, fixed, value)
            report_internal_error("metrics", exc, "cannot record a StatsD metric")
            if is_strict():
                raise

    def _parts(
        self, kind: str, name: str, tags: Mapping[str, object] | None, key: object
    ) -> tuple[str, str, int]:
        merged = {**self.default_tags, **tags} if tags else self.default_tags
        tagtext = ",".join(
            f"{statsd_tag(k)}:{statsd_tag(v)}" if v not in (None, "") else statsd_tag(k)
            for k, v in merged.items()
        )
        head = statsd_name(self.prefix, name) + ":"
        rate = "" if kind == "g" else self._rate
        tail = f"|{kind}{rate}" + (f"|#{tagtext}" if tagtext else "")
        extra = len((head + tail).encode()) - len(head + tail)  # non-ASCII bytes
        parts = (head, tail, extra)
        if len(self._cache) >= 50_000:
            self._cache.clear()
        self._cache[key] = parts
        return parts

    # -- sending ----------------------------------------------------------------------
    def _start_flusher(self) -> None:
        if self._pid != os.getpid():
            return
        t = threading.Thread(target=self._run, name="berrys-statsd-flush", daemon=True)
        self._thread = t
        t.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            if self._addr is None:
                self._resolve()
            self.flush()

    def _resolve(self) -> None:
        try:
            family, _, _, _, addr = socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_DGRAM)[
                0
            ]
            sock = socket.socket(family, socket.SOCK_DGRAM)
            sock.setblocking(False)
            self._sock, self._addr = sock, addr
        except OSError as exc:
            report_internal_error(
                "metrics", exc, f"cannot resolve StatsD host {self.host!r}", key="statsd_resolve"
            )

    def _resolve_within(self, timeout: float | None) -> None:
        if timeout is None:
            self._resolve()
            return
        t = threading.Thread(target=self._resolve, name="berrys-statsd-resolve", daemon=True)
        t.start()
        t.join(timeout)  # still resolving after that: the packet is dropped and counted

    def _send(self, packet: str) -> None:
        sock, addr = self._sock, self._addr
        if sock is None or addr is None:
            if len(self._pending) < 64:
                self._pending.append(packet)
            else:
                count_event("metrics", "statsd_packets_dropped")
            self._wake.set()  # let the flusher (re)try resolving
            return
        while self._pending:
            try:
                old = self._pending.popleft()
            except IndexError:
                break
            self._sendto(sock, old, addr)
        self._sendto(sock, packet, addr)

    def _sendto(self, sock: socket.socket, packet: str, addr: Any) -> None:
        try:
            sock.sendto(packet.encode(), addr)
        except OSError as exc:
            count_event("metrics", "statsd_packets_dropped")
            report_internal_error("metrics", exc, "cannot send a StatsD packet", key="statsd_send")

    def flush(self, resolve_timeout: float | None = None) -> None:
        """Send what is buffered now (the flusher and ``flush_metrics()`` call this).

        ``resolve_timeout`` bounds how long an unresolved host may be looked up for (the
        exit hook passes one: a dead DNS server must not hold up interpreter shutdown).
        """
        with self._lock:
            packet = "\n".join(self._buf) if self._buf else None
            self._buf = []
            self._size = 0
        if packet is None and not self._pending:
            return
        if self._addr is None and threading.current_thread() is not self._thread:
            # An explicit flush may wait for DNS; the hot path never does.
            self._resolve_within(resolve_timeout)
        if self._addr is None:
            dropped = len(self._pending) + (packet is not None)
            self._pending.clear()
            count_event("metrics", "statsd_packets_dropped", dropped)
            return
        if packet is not None:
            self._send(packet)
        else:
            self._send_pending()

    def _send_pending(self) -> None:
        sock, addr = self._sock, self._addr
        while self._pending and sock is not None:
            try:
                old = self._pending.popleft()
            except IndexError:
                break
            self._sendto(sock, old, addr)

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._wake.set()
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass


def _after_fork() -> None:
    for backend in list(_live):
        backend._init_state()


#: How long the exit hook may spend resolving a StatsD host that never got resolved.
EXIT_RESOLVE_TIMEOUT = 1.0


def _at_exit() -> None:
    for backend in list(_live):
        try:
            backend.flush(resolve_timeout=EXIT_RESOLVE_TIMEOUT)
        except Exception:
            pass


if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_after_fork)
atexit.register(_at_exit)
on_flush(_at_exit)  # a flush: the backends keep working afterwards
