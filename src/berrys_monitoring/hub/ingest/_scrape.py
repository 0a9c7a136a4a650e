"""Prometheus scraping and health probing of the registered targets, on one thread.

Every ``scrape_interval`` each target's ``metrics_path`` is fetched and parsed with
prometheus_client's parser; its samples are stored with ``job`` and ``instance`` labels
(and the target's own), next to ``up``, ``scrape_duration_seconds``,
``scrape_samples_scraped``, ``scrape_samples_post_metric_relabeling`` and
``scrape_series_added`` as Prometheus records them. Its ``health_path`` is probed too:
the status (``pass`` 1, ``warn`` 0.5, ``fail`` 0, unreachable absent with ``up``'s 0) is
kept as the series ``berrys_health_status`` and each component of an
``application/health+json`` answer (its worst status) as
``berrys_health_check_status{check=...}``, so "what was healthy when" is a
range query like any other. The last scrape's state and error of each target are kept in
memory for ``GET /api/v1/targets``.

Like Prometheus, a series that was in a target's previous scrape and is missing from this
one (or every series of a target whose scrape failed, or that was removed) gets a *stale
marker* at the scrape's time: the NaN with the bit pattern ``0x7ff0000000000002``, which
PromQL reads as "this series ended here" rather than carrying its last value for the
5-minute lookback. Each job can have its own ``scrape_interval`` and ``scrape_timeout``. The type, help and unit
of every family scraped are kept in :attr:`Scraper.metadata` for ``/api/v1/metadata``.
"""

from __future__ import annotations

import logging
import math
import struct
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.hub.store import Batch, Sample, SeriesLabels, Store, StoreBusyError

__all__ = ["STALE_NAN", "Scraper", "TargetState", "is_stale"]

log = logging.getLogger("berrys_monitoring.hub")
#: Prometheus' stale marker (``value.StaleNaN`` in prometheus/model).
STALE_NAN: float = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
_STALE_BITS = 0x7FF0000000000002
_SCRAPE_OWN = (
    "up",
    "scrape_duration_seconds",
    "scrape_samples_scraped",
    "scrape_samples_post_metric_relabeling",  # no relabelling here: the same number
    "scrape_series_added",
)


def is_stale(value: float) -> bool:
    """True for Prometheus' stale marker, and for no other NaN.

    Example::

        >>> is_stale(STALE_NAN), is_stale(float("nan")), is_stale(1.0)
        (True, False, False)
    """
    return bool(struct.unpack("<Q", struct.pack("<d", value))[0] == _STALE_BITS)


_HEALTH = {"pass": 1.0, "ok": 1.0, "up": 1.0, "warn": 0.5, "fail": 0.0, "error": 0.0, "down": 0.0}


class TargetState:
    """The outcome of a target's last scrape and probe."""

    __slots__ = ("error", "health", "last_duration_s", "last_scrape_ns", "samples", "up")

    def __init__(self) -> None:
        self.up = False
        self.last_scrape_ns: int | None = None
        self.last_duration_s: float | None = None
        self.samples = 0
        self.error: str | None = None
        self.health: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "up": self.up,
            "last_scrape_ns": self.last_scrape_ns,
            "last_scrape_duration_s": self.last_duration_s,
            "samples_scraped": self.samples,
            "last_error": self.error,
            "health": self.health,
        }


def _labels(base: dict[str, str], extra: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({**extra, **base}.items()))


class Scraper:
    """Scrapes and probes every target of ``store`` every ``interval_s`` seconds (or its
    job's interval in ``intervals``, job name to seconds).

    ``client`` and ``clock`` are parameters (an ``httpx.Client`` and a ``time.time``-like
    function) so that tests can drive one round with :meth:`scrape_all`.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub.store import SQLiteStore
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> Scraper(store, interval_s=15).scrape_all()  # no targets yet: nothing to do
        0
        >>> store.close()
    """

    def __init__(
        self,
        store: Store,
        *,
        interval_s: float = 15.0,
        intervals: Mapping[str, float] | None = None,
        timeouts: Mapping[str, float] | None = None,
        timeout_s: float | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        self.intervals = dict(intervals or {})
        self.timeouts = dict(timeouts or {})
        self.timeout_s = timeout_s
        self._client = client
        self._clock = clock
        self.states: dict[str, TargetState] = {}
        #: metric name -> ``{"type", "help", "unit"}`` of the families scraped, as
        #: Prometheus' ``/api/v1/metadata`` reports them.
        self.metadata: dict[str, dict[str, str]] = {}
        # per target URL: the series of its last scrape (for stale markers) and its own
        # report series (up, scrape_*), which go stale only when the target goes away
        self._last: dict[str, set[SeriesLabels]] = {}
        self._own: dict[str, list[SeriesLabels]] = {}
        self._due: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="berrys-hub-scraper", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def state(self, url: str) -> dict[str, Any] | None:
        found = self.states.get(url)
        return None if found is None else found.as_dict()

    def interval_for(self, target: Mapping[str, Any]) -> float:
        """The target's job's ``scrape_interval``, else the global one."""
        return self.intervals.get(str(target["job"]), self.interval_s)

    def timeout_for(self, target: Mapping[str, Any]) -> float:
        """The job's ``scrape_timeout``; else Prometheus' 10 s, capped by the interval."""
        found = self.timeouts.get(str(target["job"]))
        if found is not None:
            return found
        if self.timeout_s is not None:
            return self.timeout_s
        interval = self.interval_for(target)
        return min(10.0, interval) if interval > 0 else 10.0

    def _loop(self) -> None:
        while not self._stop.is_set():
            wake = time.monotonic() + self.interval_s
            try:
                wake = self._round()
            except StoreBusyError:
                pass  # the store is closing or saturated: the next round tries again
            except Exception as exc:
                report_internal_error("hub.scrape", exc, "a scrape round failed")
            self._stop.wait(max(0.0, wake - time.monotonic()))

    def _round(self) -> float:
        """Scrape the targets that are due; the monotonic time of the next due one."""
        targets = self.store.targets()
        self._forget_removed({str(t["url"]) for t in targets})
        for target in targets:
            if self._stop.is_set():
                break
            url = str(target["url"])
            now = time.monotonic()
            if self._due.get(url, now) <= now:
                self._due[url] = now + self.interval_for(target)
                self.scrape(target)
        # new targets are noticed within one global interval
        return min([time.monotonic() + self.interval_s, *self._due.values()])

    def scrape_all(self) -> int:
        """One round over every target; the samples stored."""
        targets = self.store.targets()
        total = self._forget_removed({str(t["url"]) for t in targets})
        for target in targets:
            if self._stop.is_set():
                break
            total += self.scrape(target)
        return total

    def _forget_removed(self, present: set[str]) -> int:
        """Stale markers for every series of the targets no longer registered."""
        gone = [url for url in self._last if url not in present]
        if not gone:
            return 0
        now_ms = int(self._clock() * 1000)
        samples = []
        for url in gone:
            for labels in self._last.pop(url) | set(self._own.pop(url, ())):
                samples.append(Sample(labels, now_ms, STALE_NAN))
            self._due.pop(url, None)
            self.states.pop(url, None)
        self.store.submit(Batch(samples=samples)).result(timeout=60)
        return len(samples)

    def scrape(self, target: Mapping[str, Any]) -> int:
        """Scrape and probe one target; store what it gave; the samples stored."""
        client = self._client
        if client is None:
            client = self._client = httpx.Client(timeout=10.0)
        timeout = self.timeout_for(target)
        url = str(target["url"])
        parts = urlsplit(url)
        instance = parts.netloc or url
        base = {"job": str(target["job"]), "instance": instance}
        extra = {str(k): str(v) for k, v in dict(target.get("labels") or {}).items()}
        state = self.states.setdefault(url, TargetState())
        now_ms = int(self._clock() * 1000)
        samples: list[Sample] = []
        started = time.perf_counter()
        try:
            response = client.get(url + str(target["metrics_path"]), timeout=timeout)
            response.raise_for_status()
            for family in text_string_to_metric_families(response.text):
                self._remember(family)
                for s in family.samples:
                    labels = {**s.labels, "__name__": s.name}
                    samples.append(Sample(_labels({**base}, {**extra, **labels}), now_ms, s.value))
            up, state.error = 1.0, None
        except Exception as exc:  # unreachable, an error status or an unparsable body
            up, state.error = 0.0, f"{type(exc).__name__}: {exc}"[:500]
            samples = []
        duration = time.perf_counter() - started
        scraped = len(samples)
        samples += self._probe(client, url + str(target["health_path"]), base, extra, now_ms, state)
        current = {s.labels for s in samples}
        # what the previous scrape had and this one has not ended here (Prometheus' rule)
        previous = self._last.get(url, set())
        stale = previous - current
        added = len({s.labels for s in samples[:scraped]} - previous)
        self._last[url] = current
        own = [_labels({**base, "__name__": name}, extra) for name in _SCRAPE_OWN]
        self._own[url] = own
        values = (up, duration, float(scraped), float(scraped), float(added))
        for series, value in zip(own, values, strict=True):
            samples.append(Sample(series, now_ms, value))
        samples += [Sample(series, now_ms, STALE_NAN) for series in stale]
        state.up, state.samples = up == 1.0, scraped
        state.last_scrape_ns, state.last_duration_s = now_ms * 1_000_000, duration
        self.store.submit(Batch(samples=samples)).result(timeout=60)
        return len(samples)

    def _remember(self, family: Any) -> None:
        kind = str(family.type)
        meta = {"type": kind, "help": str(family.documentation), "unit": str(family.unit or "")}
        self.metadata[str(family.name)] = meta
        if kind == "counter":  # the parser strips _total; Prometheus keys it with it
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    self.metadata[sample.name] = meta
                    break

    def _probe(
        self,
        client: httpx.Client,
        url: str,
        base: dict[str, str],
        extra: dict[str, str],
        now_ms: int,
        state: TargetState,
    ) -> list[Sample]:
        try:
            response = client.get(url, headers={"Accept": "application/health+json"})
        except Exception:
            state.health = None
            return []
        status = "pass" if response.status_code < 400 else "fail"
        checks: dict[str, Any] = {}
        try:
            document = orjson.loads(response.content)
            if isinstance(document, dict):
                status = str(document.get("status", status)).lower()
                found = document.get("checks")
                checks = found if isinstance(found, dict) else {}
        except orjson.JSONDecodeError:
            pass
        state.health = status
        out = [
            Sample(
                _labels({**base, "__name__": "berrys_health_status"}, extra),
                now_ms,
                _HEALTH.get(status, math.nan),
            )
        ]
        # health+json keys are "component:measurement"; a component's worst status counts.
        worst: dict[str, float] = {}
        for key, results in checks.items():
            for result in results if isinstance(results, list) else [results]:
                if not isinstance(result, dict):
                    continue
                value = _HEALTH.get(str(result.get("status", "")).lower())
                name = str(result.get("componentId") or str(key).split(":", 1)[0])
                if value is not None:
                    worst[name] = min(value, worst.get(name, value))
        for name, value in worst.items():
            labels = {**base, "__name__": "berrys_health_check_status", "check": name}
            out.append(Sample(_labels(labels, extra), now_ms, value))
        return out
