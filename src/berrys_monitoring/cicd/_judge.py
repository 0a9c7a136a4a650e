"""Per-metric canary verdicts that explain themselves.

A continuous metric (latency, response size) fails only when the canary is *significantly*
larger (one-sided Mann-Whitney U, p < alpha) *and* the effect is larger than allowed
(Hodges-Lehmann ratio > threshold), as Kayenta does: noise cannot fail a good canary, and a
significant but harmless 3% change does not either. A rate (errors) fails when it is
significantly higher (one-sided Fisher exact test) by more than an absolute margin.
Missing or scarce data gets its own verdict, never a silent pass.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from berrys_monitoring.cicd._stats import (
    fisher_exact_greater,
    hodges_lehmann_ratio,
    mann_whitney_u,
)

__all__ = ["MetricVerdict", "judge_continuous", "judge_rate"]

PASS, FAIL, NO_DATA, TOO_FEW = "pass", "fail", "no-data", "too-few-samples"


@dataclass
class MetricVerdict:
    """The verdict on one metric: ``pass``, ``fail``, ``no-data`` or ``too-few-samples``,
    with the numbers that led to it and a sentence saying why.

    Example::

        >>> v = judge_continuous("latency", [10.0] * 30, [10.0] * 30, threshold=1.2)
        >>> v.verdict, v.ratio
        ('pass', 1.0)
    """

    metric: str
    verdict: str
    reason: str
    value: float | None = None
    baseline: float | None = None
    ratio: float | None = None
    threshold: float | None = None
    threshold_kind: str = "ratio"
    p_value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    n_canary: int = 0
    n_baseline: int = 0
    unit: str = ""
    clearly_failing: bool = False

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


def _scarce(metric: str, n_c: int, n_b: int, min_samples: int, unit: str) -> MetricVerdict | None:
    if n_c == 0 or n_b == 0:
        sides = [s for s, n in (("canary", n_c), ("production", n_b)) if n == 0]
        return MetricVerdict(
            metric,
            NO_DATA,
            f"no data from {' and '.join(sides)}",
            n_canary=n_c,
            n_baseline=n_b,
            unit=unit,
        )
    if n_c < min_samples or n_b < min_samples:
        return MetricVerdict(
            metric,
            TOO_FEW,
            f"too few samples: canary {n_c}, production {n_b}, need {min_samples} each",
            n_canary=n_c,
            n_baseline=n_b,
            unit=unit,
        )
    return None


def judge_continuous(
    metric: str,
    canary: Sequence[float],
    baseline: Sequence[float],
    *,
    threshold: float,
    alpha: float = 0.05,
    min_samples: int = 20,
    early_alpha: float = 0.001,
    unit: str = "",
) -> MetricVerdict:
    """Judge a "lower is better" metric sampled on both sides.

    Fails when the canary is significantly higher (one-sided Mann-Whitney p < ``alpha``)
    and its Hodges-Lehmann ratio exceeds ``threshold`` (1.2 = 20% worse allowed).
    ``clearly_failing`` is set when even the ``1 - 2*early_alpha`` confidence interval of the
    ratio lies above the threshold, which lets a monitor stop early.

    Example::

        >>> v = judge_continuous("latency", [15.0 + i % 5 for i in range(40)],
        ...                      [10.0 + i % 5 for i in range(40)], threshold=1.2)
        >>> v.verdict
        'fail'
    """
    scarce = _scarce(metric, len(canary), len(baseline), min_samples, unit)
    if scarce is not None:
        return scarce
    mw = mann_whitney_u(canary, baseline, "greater")
    ratio, low, high = hodges_lehmann_ratio(canary, baseline, 0.95)
    value = statistics.median(canary)
    base = statistics.median(baseline)
    sig = mw.p_value < alpha
    failed = sig and ratio > threshold
    clearly = False
    if failed and mw.p_value < early_alpha:
        _, strict_low, _ = hodges_lehmann_ratio(canary, baseline, 1 - 2 * early_alpha)
        clearly = strict_low > threshold
    head = (
        f"median {value:.4g}{unit} vs {base:.4g}{unit}: ratio {ratio:.3f} "
        f"(95% CI {low:.3f}-{high:.3f}), Mann-Whitney p={mw.p_value:.3g}"
    )
    if failed:
        why = f"significantly worse and above the {threshold:g}x threshold"
    elif sig:
        why = f"significantly different but within the {threshold:g}x threshold"
    else:
        why = f"no significant regression at alpha={alpha:g}"
    return MetricVerdict(
        metric,
        FAIL if failed else PASS,
        f"{why}: {head}",
        value=value,
        baseline=base,
        ratio=ratio,
        threshold=threshold,
        p_value=mw.p_value,
        ci_low=low,
        ci_high=high,
        n_canary=len(canary),
        n_baseline=len(baseline),
        unit=unit,
        clearly_failing=clearly,
    )


def judge_rate(
    metric: str,
    canary_bad: int,
    canary_total: int,
    baseline_bad: int,
    baseline_total: int,
    *,
    max_increase: float = 0.01,
    alpha: float = 0.05,
    min_samples: int = 20,
    early_alpha: float = 0.001,
) -> MetricVerdict:
    """Judge a failure rate (e.g. 5xx responses): fails when the canary's rate is
    significantly higher (one-sided Fisher exact p < ``alpha``) and exceeds production's by
    more than ``max_increase`` (absolute, 0.01 = one percentage point).

    Example::

        >>> judge_rate("error_rate", 15, 300, 0, 300).verdict
        'fail'
    """
    scarce = _scarce(metric, canary_total, baseline_total, min_samples, "")
    if scarce is not None:
        return scarce
    rc = canary_bad / canary_total
    rb = baseline_bad / baseline_total
    p = fisher_exact_greater(canary_bad, canary_total, baseline_bad, baseline_total)
    diff = rc - rb
    failed = p < alpha and diff > max_increase
    ratio = rc / rb if rb > 0 else (1.0 if rc == 0 else None)
    head = (
        f"canary {canary_bad}/{canary_total} ({rc:.2%}) vs production "
        f"{baseline_bad}/{baseline_total} ({rb:.2%}), Fisher p={p:.3g}"
    )
    if failed:
        why = f"significantly higher, by more than the allowed {max_increase:.2%}"
    elif p < alpha:
        why = f"significantly higher but within the allowed {max_increase:.2%}"
    else:
        why = f"no significant increase at alpha={alpha:g}"
    return MetricVerdict(
        metric,
        FAIL if failed else PASS,
        f"{why}: {head}",
        value=rc,
        baseline=rb,
        ratio=ratio,
        threshold=max_increase,
        threshold_kind="absolute increase",
        p_value=p,
        n_canary=canary_total,
        n_baseline=baseline_total,
        clearly_failing=failed and p < early_alpha,
    )
