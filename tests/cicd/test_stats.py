"""The hand-written statistics agree with scipy (a dev dependency only)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from scipy import stats

from berrys_monitoring.cicd import (
    fisher_exact_greater,
    hodges_lehmann_ratio,
    mann_whitney_u,
    percentile,
)


def _samples(seed: int, n: int, m: int, ties: bool) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    if ties:  # integer latencies: many ties, as with millisecond-rounded timings
        return [float(rng.randint(5, 15)) for _ in range(n)], [
            float(rng.randint(4, 14)) for _ in range(m)
        ]
    return [rng.lognormvariate(3, 0.4) for _ in range(n)], [
        rng.lognormvariate(2.9, 0.4) for _ in range(m)
    ]


@pytest.mark.parametrize("alternative", ["greater", "less", "two-sided"])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed,n,m", [(1, 50, 50), (2, 7, 30), (3, 200, 120)])
def test_mann_whitney_matches_scipy_asymptotic(alternative, ties, seed, n, m) -> None:
    x, y = _samples(seed, n, m, ties)
    ours = mann_whitney_u(x, y, alternative)
    ref = stats.mannwhitneyu(
        x, y, alternative=alternative, method="asymptotic", use_continuity=True
    )
    assert ours.u == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9, abs=1e-12)


def test_mann_whitney_all_tied_is_no_evidence() -> None:
    assert mann_whitney_u([5.0] * 10, [5.0] * 10).p_value == 1.0


def test_mann_whitney_rejects_empty_and_bad_alternative() -> None:
    with pytest.raises(ValueError, match="non-empty"):
        mann_whitney_u([], [1.0])
    with pytest.raises(ValueError, match="alternative"):
        mann_whitney_u([1.0], [1.0], "bigger")


@pytest.mark.parametrize(
    "a,n1,b,n2",
    [(0, 50, 0, 50), (3, 50, 0, 50), (8, 150, 1, 150), (15, 300, 3, 300), (2, 9, 5, 40)],
)
def test_fisher_exact_matches_scipy(a, n1, b, n2) -> None:
    ref = stats.fisher_exact([[a, n1 - a], [b, n2 - b]], alternative="greater").pvalue
    assert fisher_exact_greater(a, n1, b, n2) == pytest.approx(ref, rel=1e-9)


def test_hodges_lehmann_ratio_recovers_a_pure_scaling() -> None:
    rng = random.Random(4)
    base = [rng.lognormvariate(3, 0.3) for _ in range(60)]
    ratio, low, high = hodges_lehmann_ratio([1.3 * v for v in base], base)
    assert ratio == pytest.approx(1.3, rel=0.02)
    assert low <= ratio <= high


def test_hodges_lehmann_interval_covers_the_true_ratio_and_narrows_with_more_data() -> None:
    rng = random.Random(5)
    small = hodges_lehmann_ratio(
        [1.25 * rng.lognormvariate(3, 0.3) for _ in range(30)],
        [rng.lognormvariate(3, 0.3) for _ in range(30)],
    )
    large = hodges_lehmann_ratio(
        [1.25 * rng.lognormvariate(3, 0.3) for _ in range(2000)],
        [rng.lognormvariate(3, 0.3) for _ in range(2000)],
    )
    assert small[1] < 1.25 < small[2]
    assert large[1] < 1.25 < large[2]
    assert large[2] - large[1] < small[2] - small[1]


def test_hodges_lehmann_interval_uses_the_textbook_order_statistics() -> None:
    # 10 vs 10 at 95%: the exact tables (Mann-Whitney critical U = 23, two-sided 0.05) give
    # the 24th smallest and the 24th largest of the 100 pairwise differences. Values are
    # chosen so that every pairwise ratio is distinct: diffs of logs are log(2**i / 3**j).
    canary = [2.0**i for i in range(1, 11)]
    baseline = [3.0**j for j in range(1, 11)]
    ratios = sorted(c / b for c in canary for b in baseline)
    assert len(set(ratios)) == 100
    ratio, low, high = hodges_lehmann_ratio(canary, baseline, 0.95)
    assert low == pytest.approx(ratios[23]) and high == pytest.approx(ratios[100 - 24])
    assert low <= ratio <= high


def test_hodges_lehmann_interval_covers_at_its_confidence_level() -> None:
    # 2,000 simulated null comparisons (seeded): 95% intervals must cover the true ratio
    # 1.0 at least 94.5% of the time (binomial s.e. 0.5 points; the old, one-too-narrow
    # interval covered 94.4%). Discreteness makes the exact interval slightly conservative.
    rng = random.Random(11)
    covered = 0
    trials = 2000
    for _ in range(trials):
        c = [rng.lognormvariate(0, 0.5) for _ in range(10)]
        b = [rng.lognormvariate(0, 0.5) for _ in range(10)]
        _, low, high = hodges_lehmann_ratio(c, b, 0.95)
        covered += low <= 1.0 <= high
    assert covered / trials >= 0.945


@pytest.mark.parametrize("q", [0, 50, 95, 99, 100])
def test_percentile_matches_numpy_linear(q) -> None:
    values = [random.Random(i).random() for i in range(37)]
    assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
