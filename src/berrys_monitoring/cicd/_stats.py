"""The statistics behind the canary verdicts, in pure Python (no numpy/scipy at run time).

* :func:`mann_whitney_u` — rank test with tie correction and the normal approximation
  (what Kayenta's Mann-Whitney classifier uses), cross-checked against scipy in the tests.
* :func:`hodges_lehmann_ratio` — the effect size: the median of all pairwise ratios
  canary/baseline (a Hodges-Lehmann shift on the log scale), with a confidence bound.
* :func:`fisher_exact_greater` — one-sided Fisher exact test for "the canary fails more often".
* :func:`percentile` — linear-interpolated percentile (numpy's default method).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "MannWhitneyResult",
    "fisher_exact_greater",
    "hodges_lehmann_ratio",
    "mann_whitney_u",
    "normal_sf",
    "percentile",
]

# Pairwise effect sizes are O(n*m); above this many pairs both sides are subsampled (with a
# fixed seed so a verdict is reproducible), which keeps a 3,000-per-side canary instant.
_MAX_PAIRS = 250_000


def normal_sf(z: float) -> float:
    """P(Z > z) for a standard normal Z.

    Example::

        >>> round(normal_sf(1.6448536), 3)
        0.05
    """
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _normal_isf(p: float) -> float:
    """The z with P(Z > z) = p, by bisection (precise enough for confidence bounds)."""
    lo, hi = -40.0, 40.0
    for _ in range(200):
        mid = (lo + hi) / 2
        if normal_sf(mid) > p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@dataclass(frozen=True)
class MannWhitneyResult:
    """The U statistic of the first sample, its z score and p-value.

    Example::

        >>> r = mann_whitney_u([3, 4, 5], [1, 2, 3])
        >>> r.u
        8.5
    """

    u: float
    z: float
    p_value: float


def _ranks(values: Sequence[float]) -> tuple[list[float], float]:
    """Average ranks (1-based) and the tie term sum(t^3 - t) over groups of ties."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = 0.0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        avg = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = avg
        t = j - i + 1
        ties += t**3 - t
        i = j + 1
    return ranks, ties


def mann_whitney_u(
    x: Sequence[float], y: Sequence[float], alternative: str = "greater"
) -> MannWhitneyResult:
    """Mann-Whitney U test of ``x`` against ``y`` (normal approximation, continuity and tie
    corrected, like ``scipy.stats.mannwhitneyu(method="asymptotic")``).

    ``alternative="greater"`` asks whether ``x`` tends to be larger than ``y`` (a slower
    canary); ``"less"`` and ``"two-sided"`` are also accepted.

    Example::

        >>> r = mann_whitney_u([12, 14, 15, 18, 21], [10, 11, 12, 13, 9])
        >>> r.p_value < 0.05
        True
    """
    if alternative not in ("greater", "less", "two-sided"):
        raise ValueError(f"alternative must be greater, less or two-sided, not {alternative!r}")
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        raise ValueError("both samples must be non-empty")
    ranks, ties = _ranks([*x, *y])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    n = n1 + n2
    mu = n1 * n2 / 2
    var = n1 * n2 / 12 * ((n + 1) - ties / (n * (n - 1)))
    if var <= 0:  # every value tied: no evidence either way
        return MannWhitneyResult(u1, 0.0, 1.0)
    sd = math.sqrt(var)
    if alternative == "greater":
        z = (u1 - mu - 0.5) / sd
        p = normal_sf(z)
    elif alternative == "less":
        z = (u1 - mu + 0.5) / sd
        p = 1.0 - normal_sf(z)
    else:
        u = max(u1, n1 * n2 - u1)
        z = (u - mu - 0.5) / sd
        p = min(1.0, 2 * normal_sf(z))
    return MannWhitneyResult(u1, z, p)


def _log_positive(values: Sequence[float]) -> list[float]:
    # A 0 ms sample would be -inf on the log scale; a nanosecond floor keeps it finite and
    # still smaller than any real latency.
    return [math.log(max(v, 1e-9)) for v in values]


def hodges_lehmann_ratio(
    canary: Sequence[float], baseline: Sequence[float], confidence: float = 0.95
) -> tuple[float, float, float]:
    """Effect size ``canary / baseline`` as the median pairwise ratio, with a two-sided
    ``confidence`` interval ``(ratio, low, high)`` (distribution-free, from the U statistic).

    A ratio of 1.3 means the canary is typically 30% slower. Values must be positive.

    Example::

        >>> ratio, low, high = hodges_lehmann_ratio([13, 26, 39], [10, 20, 30])
        >>> round(ratio, 2)
        1.3
    """
    if not canary or not baseline:
        raise ValueError("both samples must be non-empty")
    c = _log_positive(canary)
    b = _log_positive(baseline)
    n1, n2 = len(c), len(b)
    if n1 * n2 > _MAX_PAIRS:
        rng = random.Random(0x5EED)
        side = int(math.sqrt(_MAX_PAIRS))
        c = rng.sample(c, min(n1, side))
        b = rng.sample(b, min(n2, side))
    diffs = sorted(ci - bj for ci in c for bj in b)
    m = len(diffs)
    mid = m // 2
    median = diffs[mid] if m % 2 else (diffs[mid - 1] + diffs[mid]) / 2
    # Distribution-free CI: the C-th smallest and largest pairwise differences (1-based),
    # C = n1*n2/2 - z*sqrt(n1*n2*(n1+n2+1)/12) rounded to the nearest integer (Hollander &
    # Wolfe; for 10 vs 10 at 95% that is the 24th, as in the exact tables). Subsampled
    # sides use their own sizes. Index C - 1: taking the C-th from 0 would be one order
    # statistic too narrow and cover less than ``confidence``.
    k1, k2 = len(c), len(b)
    z = _normal_isf((1 - confidence) / 2)
    rank = round(k1 * k2 / 2 - z * math.sqrt(k1 * k2 * (k1 + k2 + 1) / 12))
    k = max(0, min(m - 1, rank - 1))
    low, high = diffs[k], diffs[m - 1 - k]
    return math.exp(median), math.exp(low), math.exp(high)


def _log_comb(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def fisher_exact_greater(a: int, n1: int, b: int, n2: int) -> float:
    """One-sided Fisher exact p-value that ``a/n1`` (canary failures) is higher than ``b/n2``.

    Same as ``scipy.stats.fisher_exact([[a, n1 - a], [b, n2 - b]], alternative="greater")``.

    Example::

        >>> round(fisher_exact_greater(8, 100, 0, 100), 4)
        0.0034
    """
    if not (0 <= a <= n1 and 0 <= b <= n2):
        raise ValueError("counts must satisfy 0 <= failures <= total")
    k = a + b
    n = n1 + n2
    if k == 0 or n1 == 0 or n2 == 0:
        return 1.0
    denom = _log_comb(n, k)
    hi = min(k, n1)
    p = 0.0
    for x in range(a, hi + 1):
        if k - x > n2:
            continue
        p += math.exp(_log_comb(n1, x) + _log_comb(n2, k - x) - denom)
    return min(1.0, p)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0..100) with linear interpolation.

    Example::

        >>> percentile([1, 2, 3, 4], 50)
        2.5
    """
    if not values:
        raise ValueError("percentile of an empty sample")
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)
