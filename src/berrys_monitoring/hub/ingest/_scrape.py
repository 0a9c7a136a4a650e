"""Prometheus scraping and health probing of the registered targets, on one thread.

Every ``scrape_interval`` each target's ``metrics_path`` is fetched and parsed with
prometheus_client's parser; its samples are stored with ``job`` and ``instance`` labels
(and the target's own), next to ``up``, ``scrape_duration_seconds`` and
``scrape_samples_scraped`` as Prometheus records them. Its ``health_path`` is probed too:
the status (``pass`` 1, ``warn`` 0.5, ``fail`` 0, unreachable absent with ``up``'s 0) is
kept as the series ``berrys_health_status`` and each component of an
``application/health+json`` answer (its worst status) as
``berrys_health_check_status{check=...}``, so "what was healthy when" is a
range query like any other. The last scrape's state and error of each target are kept in
memory for ``GET /api/v1/targets``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from prometheus_client.parser import text_string_to_metric_families

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring.hub.store import Batch, Sample, Store, StoreBusyError

__all__ = ["Scraper", "TargetState"]

log = logging.getLogger("berrys_monitoring.hub")
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
    """Scrapes and probes every target of ``store`` every ``interval_s`` seconds.

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
        timeout_s: float | None = None,
        client: httpx.Client | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        self.timeout_s = timeout_s if timeout_s is not None else min(10.0, interval_s)
        self._client = client
        self._clock = clock
        self.states: dict[str, TargetState] = {}
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

    def _loop(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.scrape_all()
            except StoreBusyError:
                pass  # the store is closing or saturated: the next round tries again
            except Exception as exc:
                report_internal_error("hub.scrape", exc, "a scrape round failed")
            self._stop.wait(max(0.0, self.interval_s - (time.monotonic() - started)))

    def scrape_all(self) -> int:
        """One round over every target; the samples stored."""
        total = 0
        for target in self.store.targets():
            if self._stop.is_set():
                break
            total += self.scrape(target)
        return total

    def scrape(self, target: dict[str, Any]) -> int:
        """Scrape and probe one target; store what it gave; the samples stored."""
        client = self._client
        if client is None:
            client = self._client = httpx.Client(timeout=self.timeout_s)
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
            response = client.get(url + str(target["metrics_path"]))
            response.raise_for_status()
            for family in text_string_to_metric_families(response.text):
                for s in family.samples:
                    labels = {**s.labels, "__name__": s.name}
                    samples.append(Sample(_labels({**base}, {**extra, **labels}), now_ms, s.value))
            up, state.error = 1.0, None
        except Exception as exc:  # unreachable, an error status or an unparsable body
            up, state.error = 0.0, f"{type(exc).__name__}: {exc}"[:500]
            samples = []
        duration = time.perf_counter() - started
        scraped = len(samples)
        for name, value in (
            ("up", up),
            ("scrape_duration_seconds", duration),
            ("scrape_samples_scraped", float(scraped)),
        ):
            samples.append(Sample(_labels({**base, "__name__": name}, extra), now_ms, value))
        samples += self._probe(client, url + str(target["health_path"]), base, extra, now_ms, state)
        state.up, state.samples = up == 1.0, scraped
        state.last_scrape_ns, state.last_duration_s = now_ms * 1_000_000, duration
        self.store.submit(Batch(samples=samples)).result(timeout=60)
        return len(samples)

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
