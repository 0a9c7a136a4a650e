"""The public surface of berrys_monitoring.cicd is deliberate: pinned here."""

from __future__ import annotations

import berrys_monitoring.cicd as cicd
from berrys_monitoring.cli import COMMANDS, build_parser

EXPECTED = {
    "CANARY_METRICS",
    "DEFAULT_REQUIRED_METRICS",
    "EXIT_CODES",
    "CheckResult",
    "LoadSummary",
    "MannWhitneyResult",
    "MetricVerdict",
    "Report",
    "Sample",
    "SimulationResult",
    "check_health",
    "check_metrics",
    "failing_components",
    "fisher_exact_greater",
    "hodges_lehmann_ratio",
    "judge_continuous",
    "judge_rate",
    "judge_samples",
    "mann_whitney_u",
    "percentile",
    "prometheus_query",
    "run_canary",
    "simulate_error_rate",
    "simulate_latency",
    "summarize",
    "verify_deployment",
}


def test_all_is_pinned_and_every_name_exists_with_a_docstring() -> None:
    assert set(cicd.__all__) == EXPECTED
    for name in cicd.__all__:
        obj = getattr(cicd, name)
        if callable(obj):
            assert obj.__doc__ and "Example" in obj.__doc__, name


def test_exit_codes_are_pass_0_fail_1_inconclusive_2() -> None:
    assert cicd.EXIT_CODES == {"pass": 0, "fail": 1, "inconclusive": 2}


def test_verify_and_canary_are_registered_commands_with_the_issue_flags() -> None:
    assert {"verify", "canary"} <= set(COMMANDS)
    parser = build_parser()
    verify = parser.parse_args(
        [
            "verify",
            "--url",
            "http://x",
            "--no-health",
            "--metrics",
            "--no-performance",
            "--require-metric",
            "a",
            "--path",
            "/a",
            "--path",
            "/b",
            "--requests",
            "5",
            "--concurrency",
            "2",
            "--duration",
            "3",
            "--max-p95-ms",
            "50",
            "--max-error-rate",
            "0.02",
            "--baseline",
            "b.json",
            "--threshold",
            "1.3",
            "--metrics-source",
            "prometheus",
            "--metrics-url",
            "http://p:9090",
            "--json",
            "out.json",
        ]
    )
    assert (verify.health, verify.metrics, verify.performance) == (False, True, False)
    assert verify.path == ["/a", "/b"] and verify.threshold == 1.3
    canary = parser.parse_args(
        [
            "canary",
            "--canary-url",
            "http://c",
            "--production-url",
            "http://p",
            "--performance-threshold",
            "1.2",
            "--monitor-duration",
            "300",
            "--interval",
            "10",
            "--rate",
            "10",
            "--path",
            "/x",
            "--metric",
            "response_size",
        ]
    )
    assert canary.rate == 10 and canary.metric == ["response_size"]
    defaults = parser.parse_args(
        ["canary", "--canary-url", "http://c", "--production-url", "http://p"]
    )
    assert (defaults.performance_threshold, defaults.monitor_duration, defaults.rate) == (
        1.2,
        300,
        10,
    )
