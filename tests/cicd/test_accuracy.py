"""How often the canary judge is right, on seeded synthetic data (deterministic).

Lognormal latencies with sigma 0.2 (a coefficient of variation of about 20%), 50 samples
per side, threshold 1.2, 1,000 trials per case. benchmarks/bench_canary.py prints the same
figures, plus wider spreads.
"""

from __future__ import annotations

from berrys_monitoring.cicd import simulate_error_rate, simulate_latency


def test_a_30_percent_latency_regression_fails_in_at_least_95_percent_of_trials() -> None:
    assert simulate_latency(1.3, samples=50, trials=1000, seed=11).fail_rate >= 0.95


def test_an_identical_canary_passes_in_at_least_98_percent_of_trials() -> None:
    assert simulate_latency(1.0, samples=50, trials=1000, seed=12).pass_rate >= 0.98


def test_a_10_percent_regression_under_threshold_1_2_passes_in_at_least_95_percent() -> None:
    assert simulate_latency(1.1, samples=50, trials=1000, seed=13).pass_rate >= 0.95


def test_an_error_rate_going_from_0_to_5_percent_fails() -> None:
    # 300 requests per side (rate 10/s for 30 s); at 50 per side 5% is 2.5 errors, which no
    # test can tell from chance: the benchmark reports that power too.
    assert simulate_error_rate(0.05, 0.0, samples=300, trials=500, seed=14).fail_rate >= 0.95
    assert simulate_error_rate(0.01, 0.01, samples=300, trials=500, seed=15).pass_rate >= 0.95
