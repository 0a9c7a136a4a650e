"""Judge sampled requests of a canary against production, metric by metric."""

from __future__ import annotations

from collections.abc import Sequence

from berrys_monitoring.cicd._judge import MetricVerdict, judge_continuous, judge_rate
from berrys_monitoring.cicd._load import Sample

__all__ = ["CANARY_METRICS", "DEFAULT_CANARY_METRICS", "judge_samples"]

#: Metrics the canary can judge from its own samples.
CANARY_METRICS = ("latency", "error_rate", "client_error_rate", "response_size")
DEFAULT_CANARY_METRICS = ("latency", "error_rate")


def _no_answer(metric: str, canary: list[Sample], prod: list[Sample]) -> MetricVerdict | None:
    """No HTTP answer at all from a side is no data, whatever the metric; name the cause."""
    sides = []
    for name, samples in (("canary", canary), ("production", prod)):
        if not any(s.status is not None for s in samples):
            errs = sorted({s.error or "error" for s in samples})
            cause = f" ({len(samples)} attempts failed: {', '.join(errs)})" if samples else ""
            sides.append(name + cause)
    if not sides:
        return None
    return MetricVerdict(
        metric,
        "no-data",
        f"no responses from {' and '.join(sides)}",
        n_canary=sum(s.status is not None for s in canary),
        n_baseline=sum(s.status is not None for s in prod),
    )


def judge_samples(
    canary: list[Sample],
    production: list[Sample],
    *,
    metrics: Sequence[str] = DEFAULT_CANARY_METRICS,
    threshold: float = 1.2,
    alpha: float = 0.05,
    min_samples: int = 20,
    max_error_increase: float = 0.01,
) -> list[MetricVerdict]:
    """One verdict per metric for the samples collected so far.

    Example::

        >>> from berrys_monitoring.cicd import Sample
        >>> same = [Sample("x", "/", 200, 10.0 + i % 7) for i in range(40)]
        >>> [v.verdict for v in judge_samples(same, same)]
        ['pass', 'pass']
    """
    out: list[MetricVerdict] = []
    for metric in metrics:
        missing = _no_answer(metric, canary, production)
        if missing is not None:
            out.append(missing)
            continue
        if metric in ("latency", "response_size"):
            ok_c = [s for s in canary if s.status is not None and s.status < 500]
            ok_p = [s for s in production if s.status is not None and s.status < 500]
            if metric == "latency":
                xs, ys, unit = [s.latency_ms for s in ok_c], [s.latency_ms for s in ok_p], " ms"
            else:
                xs, ys, unit = [float(s.size) for s in ok_c], [float(s.size) for s in ok_p], " B"
            out.append(
                judge_continuous(
                    metric,
                    xs,
                    ys,
                    threshold=threshold,
                    alpha=alpha,
                    min_samples=min_samples,
                    unit=unit,
                )
            )
        else:

            def bad(s: Sample, metric: str = metric) -> bool:
                if metric == "error_rate":
                    return s.is_error
                return s.status is not None and 400 <= s.status < 500

            out.append(
                judge_rate(
                    metric,
                    sum(map(bad, canary)),
                    len(canary),
                    sum(map(bad, production)),
                    len(production),
                    max_increase=max_error_increase,
                    alpha=alpha,
                    min_samples=min_samples,
                )
            )
    return out
