"""Per-metric verdicts: pass, fail with its numbers, no data, too few samples."""

from __future__ import annotations

import random

from berrys_monitoring.cicd import Sample, judge_continuous, judge_rate, judge_samples


def _lognormal(seed: int, n: int, scale: float = 1.0) -> list[float]:
    rng = random.Random(seed)
    return [scale * rng.lognormvariate(3.9, 0.2) for _ in range(n)]


def test_identical_latency_passes_with_ratio_near_one() -> None:
    v = judge_continuous("latency", _lognormal(1, 200), _lognormal(2, 200), threshold=1.2)
    assert v.verdict == "pass"
    assert 0.9 < v.ratio < 1.1
    assert "no significant regression" in v.reason


def test_large_regression_fails_and_the_reason_names_value_ratio_threshold_and_p() -> None:
    v = judge_continuous(
        "latency", _lognormal(1, 100, 1.5), _lognormal(2, 100), threshold=1.2, unit=" ms"
    )
    assert v.verdict == "fail"
    assert v.ratio > 1.2 and v.p_value < 0.05
    assert v.value > v.baseline
    for part in ("median", "ratio", "1.2x threshold", "Mann-Whitney p="):
        assert part in v.reason
    assert v.clearly_failing


def test_significant_but_small_regression_is_within_threshold() -> None:
    v = judge_continuous("latency", _lognormal(1, 2000, 1.08), _lognormal(2, 2000), threshold=1.2)
    assert v.p_value < 0.05
    assert v.verdict == "pass"
    assert "within the 1.2x threshold" in v.reason


def test_missing_side_is_no_data_and_scarce_side_is_too_few_samples() -> None:
    assert judge_continuous("latency", [], _lognormal(1, 50), threshold=1.2).verdict == "no-data"
    few = judge_continuous("latency", _lognormal(1, 5), _lognormal(2, 50), threshold=1.2)
    assert few.verdict == "too-few-samples"
    assert "canary 5" in few.reason and "need 20" in few.reason


def test_error_rate_from_zero_to_five_percent_fails() -> None:
    v = judge_rate("error_rate", 15, 300, 0, 300)
    assert v.verdict == "fail"
    assert v.value == 0.05 and v.baseline == 0.0
    assert "Fisher p=" in v.reason


def test_equal_error_rates_pass_and_a_tiny_significant_increase_is_within_margin() -> None:
    assert judge_rate("error_rate", 3, 300, 3, 300).verdict == "pass"
    v = judge_rate("error_rate", 60, 10000, 20, 10000, max_increase=0.01)
    assert v.p_value < 0.05 and v.verdict == "pass"


def test_judge_samples_reports_unreachable_side_as_no_data_with_the_error() -> None:
    prod = [Sample("production", "/", 200, 10.0) for _ in range(30)]
    down = [Sample("canary", "/", None, 1.0, error="ConnectError") for _ in range(30)]
    verdicts = judge_samples(down, prod)
    assert [v.verdict for v in verdicts] == ["no-data", "no-data"]
    assert "ConnectError" in verdicts[0].reason
