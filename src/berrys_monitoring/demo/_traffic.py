"""Drive a realistic mix of fast, slow and failing requests through the gateway.

The routes come from the gateway's own OpenAPI document, so the demo keeps working as the
example grows: every ``GET`` route is a candidate, path parameters are filled with small
ids (and now and then an id that does not exist, for a 404), routes whose names say
``slow`` or ``error``/``fail`` make the slow and failing share of the mix, and a path that
does not exist at all checks that unmatched requests are counted under one label.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from berrys_monitoring._internal import report_internal_error

_PARAM = re.compile(r"\{([^}]+)\}")
_SKIP = ("/health", "/metrics", "/docs", "/redoc", "/openapi.json")


@dataclass(frozen=True)
class Route:
    """A gateway route template and the weight it gets in the mix."""

    template: str
    kind: str  # "fast" | "slow" | "failing"
    weight: float
    delay_param: str | None = None  # a query parameter that sets how slow, e.g. ``ms``


def classify(template: str) -> str:
    lower = template.lower()
    if "slow" in lower or "delay" in lower or "sleep" in lower:
        return "slow"
    if "error" in lower or "fail" in lower or "boom" in lower:
        return "failing"
    return "fast"


def routes_from_openapi(doc: dict[str, object]) -> list[Route]:
    """Weighted GET routes of an OpenAPI document (probes and docs left out).

    Example::

        >>> [r.kind for r in routes_from_openapi({"paths": {"/users/{id}": {"get": {}}}})]
        ['fast']
    """
    weights = {"fast": 6.0, "slow": 1.5, "failing": 1.0}
    paths = doc.get("paths", {})
    routes: list[Route] = []
    if isinstance(paths, dict):
        for template, ops in paths.items():
            if not isinstance(ops, dict) or "get" not in ops:
                continue
            if any(template == s or template.startswith(s + "/") for s in _SKIP):
                continue
            kind = classify(template)
            weight = weights[kind] * (2 if "{" in template else 1)  # lookups pass both services
            routes.append(Route(template, kind, weight, _delay_param(ops["get"])))
    return routes


def _delay_param(operation: object) -> str | None:
    params = operation.get("parameters", []) if isinstance(operation, dict) else []
    for p in params if isinstance(params, list) else []:
        if isinstance(p, dict) and p.get("in") == "query" and p.get("name") in ("ms", "delay_ms"):
            return str(p["name"])
    return None


def fill(template: str, rng: random.Random) -> str:
    """Fill path parameters: mostly existing small ids, sometimes one that is not there."""
    return _PARAM.sub(lambda _m: str(rng.choice([1, 2, 3, 4, 5, 1, 2, 3, 999_999])), template)


@dataclass
class TrafficStats:
    """Client-side outcome of the traffic sent so far."""

    sent: int = 0
    by_status: Counter[str] = field(default_factory=Counter)


class TrafficDriver:
    """A daemon thread that sends about ``rate`` requests per second to ``base_url``."""

    def __init__(self, base_url: str, rate: float = 5.0, seed: int | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.rate = rate
        self.stats = TrafficStats()
        self.routes: list[Route] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()  # three senders update the stats
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="demo-traffic", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=15)

    def discover(self, client: httpx.Client) -> None:
        try:
            response = client.get(self.base_url + "/openapi.json", timeout=5.0)
            response.raise_for_status()
            self.routes = routes_from_openapi(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            report_internal_error("demo", exc, "cannot read the gateway's OpenAPI document")
        # A path no route matches: shows up as a 404 under the "unmatched" route label.
        self.routes.append(Route("/no-such-page", "failing", 0.5))

    def snapshot(self) -> tuple[int, dict[str, int]]:
        """Requests sent so far and their outcomes (status code or error name)."""
        with self._lock:
            return self.stats.sent, dict(self.stats.by_status)

    def _pick(self) -> tuple[str, float]:
        with self._lock:  # random.Random is not meant to be shared between threads
            route = self._rng.choices(self.routes, weights=[r.weight for r in self.routes])[0]
            path = fill(route.template, self._rng)
            if route.delay_param:
                # Slow, but spread out: a p95 that moves is more telling than a constant.
                path += f"?{route.delay_param}={self._rng.randint(100, 800)}"
            pause = self._rng.expovariate(1.0)
        return path, pause

    def _loop(self) -> None:
        # Slow requests must not hold up the rest of the mix: a small pool of senders.
        with httpx.Client(timeout=15.0) as client:
            self.discover(client)
            senders = [
                threading.Thread(target=self._send_loop, args=(client,), daemon=True)
                for _ in range(3)
            ]
            for t in senders:
                t.start()
            for t in senders:
                t.join()

    def _send_loop(self, client: httpx.Client) -> None:
        interval = 3.0 / max(self.rate, 0.1)  # three senders share the rate
        while not self._stop.is_set():
            started = time.monotonic()
            path, pause_units = self._pick()
            try:
                status = str(client.get(self.base_url + path).status_code)
            except httpx.HTTPError as exc:
                status = type(exc).__name__
            with self._lock:
                self.stats.sent += 1
                self.stats.by_status[status] += 1
            # Poisson-ish arrivals look more like real traffic than a metronome.
            pause = pause_units * interval - (time.monotonic() - started)
            self._stop.wait(max(0.0, min(pause, 3 * interval)))
