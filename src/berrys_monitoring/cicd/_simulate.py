"""Measure how often the canary judges get it right, on synthetic data with a known truth.

Used by ``benchmarks/bench_canary.py`` and the accuracy test: latencies are lognormal (the
usual shape of request latency), the canary is the baseline scaled by ``factor``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from berrys_monitoring.cicd._judge import judge_continuous, judge_rate

__all__ = ["SimulationResult", "simulate_error_rate", "simulate_latency"]


@dataclass(frozen=True)
class SimulationResult:
    """How many of ``trials`` simulated canaries the judge failed.

    Example::

        >>> SimulationResult(trials=100, failed=3).pass_rate
        0.97
    """

    trials: int
    failed: int

    @property
    def fail_rate(self) -> float:
        return self.failed / self.trials

    @property
    def pass_rate(self) -> float:
        return 1 - self.fail_rate


def simulate_latency(
    factor: float,
    *,
    threshold: float = 1.2,
    samples: int = 50,
    trials: int = 1000,
    sigma: float = 0.2,
    median_ms: float = 50.0,
    seed: int = 1,
) -> SimulationResult:
    """Judge ``trials`` canaries whose latency is ``factor`` x the baseline's.

    Example::

        >>> simulate_latency(1.0, trials=20).fail_rate
        0.0
    """
    rng = random.Random(seed)
    mu = math.log(median_ms)
    failed = 0
    for _ in range(trials):
        base = [rng.lognormvariate(mu, sigma) for _ in range(samples)]
        can = [factor * rng.lognormvariate(mu, sigma) for _ in range(samples)]
        if judge_continuous("latency", can, base, threshold=threshold).verdict == "fail":
            failed += 1
    return SimulationResult(trials, failed)


def simulate_error_rate(
    canary_rate: float,
    baseline_rate: float = 0.0,
    *,
    samples: int = 300,
    trials: int = 1000,
    seed: int = 2,
) -> SimulationResult:
    """Judge ``trials`` canaries whose requests fail with probability ``canary_rate``.

    Example::

        >>> simulate_error_rate(0.0, trials=20).fail_rate
        0.0
    """
    rng = random.Random(seed)
    failed = 0
    for _ in range(trials):
        c = sum(rng.random() < canary_rate for _ in range(samples))
        b = sum(rng.random() < baseline_rate for _ in range(samples))
        if judge_rate("error_rate", c, samples, b, samples).verdict == "fail":
            failed += 1
    return SimulationResult(trials, failed)
