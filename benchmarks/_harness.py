"""The benchmark harness: ours and the anchor timed alternately in one run, reported as ratios.

A benchmark module is ``benchmarks/bench_<component>.py`` with a function
``run(quick: bool) -> list[Comparison]``. Absolute numbers drift on a shared machine, so
every figure is taken side by side with its anchor and judged by the ratio.
"""

from __future__ import annotations

import gc
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Comparison:
    component: str
    name: str
    ours: float
    anchor_name: str | None = None
    anchor: float | None = None
    target: float | None = None  # the ratio ours/anchor must be <= (>= if higher_is_better)
    unit: str = "ns/op"
    higher_is_better: bool = False
    note: str = ""
    # The median of per-round ratios when the two sides were measured in alternating
    # rounds: steadier than the ratio of the two medians when the machine drifts.
    paired_ratio: float | None = None

    @property
    def ratio(self) -> float | None:
        if self.paired_ratio is not None:
            return self.paired_ratio
        if self.anchor in (None, 0):
            return None
        return self.ours / self.anchor  # type: ignore[operator]

    @property
    def met(self) -> bool | None:
        r = self.ratio
        if r is None or self.target is None:
            return None
        return r >= self.target if self.higher_is_better else r <= self.target

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["ratio"] = self.ratio
        d["met"] = self.met
        return d


def _per_call_ns(fn: Callable[[], Any], number: int) -> float:
    t0 = time.perf_counter_ns()
    for _ in range(number):
        fn()
    return (time.perf_counter_ns() - t0) / number


def calibrate(fn: Callable[[], Any], target_s: float = 0.05) -> int:
    """How many calls take about ``target_s`` seconds."""
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= target_s / 4 or n >= 10_000_000:
            return max(1, int(n * target_s / max(dt, 1e-9)))
        n *= 4


def compare_ns(
    ours: Callable[[], Any],
    anchor: Callable[[], Any],
    *,
    repeat: int = 9,
    target_s: float = 0.05,
) -> tuple[float, float]:
    """Median ns per call of ``ours`` and ``anchor``, timed alternately (ABAB…)."""
    n = min(calibrate(ours, target_s), calibrate(anchor, target_s))
    a: list[float] = []
    b: list[float] = []
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeat):
            a.append(_per_call_ns(ours, n))
            b.append(_per_call_ns(anchor, n))
    finally:
        if gc_was:
            gc.enable()
    return statistics.median(a), statistics.median(b)


def time_ns(fn: Callable[[], Any], *, repeat: int = 9, target_s: float = 0.05) -> float:
    """Median ns per call of ``fn`` alone."""
    n = calibrate(fn, target_s)
    return statistics.median(_per_call_ns(fn, n) for _ in range(repeat))


@contextmanager
def serve(
    cmd: Sequence[str],
    ready_url: str,
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 60.0,
    what: str = "the server",
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``cmd`` until the block ends, once ``ready_url`` answers 200; a benchmark's
    servers (the hub, Prometheus) start and stop through here."""
    import httpx

    proc = subprocess.Popen(
        list(cmd), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not start")
            time.sleep(0.1)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
