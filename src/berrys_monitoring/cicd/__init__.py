"""Deployment verification and canary analysis, as CI steps and as a Python API.

``berrys-monitoring verify`` checks a fresh deployment (health, metrics exposition,
performance); ``berrys-monitoring canary`` compares a canary with production using a
Mann-Whitney U test and an effect-size ratio, as Kayenta does. Exit codes: 0 pass, 1 fail,
2 inconclusive or usage error.

Example::

    from berrys_monitoring.cicd import verify_deployment

    report = verify_deployment("http://127.0.0.1:8000", paths=["/users"])
    print(report.verdict, report.exit_code)
"""

from __future__ import annotations

from berrys_monitoring.cicd._canary import CANARY_METRICS, judge_samples, run_canary
from berrys_monitoring.cicd._checks import check_health, check_metrics, failing_components
from berrys_monitoring.cicd._judge import MetricVerdict, judge_continuous, judge_rate
from berrys_monitoring.cicd._load import LoadSummary, Sample, summarize
from berrys_monitoring.cicd._prometheus import prometheus_query
from berrys_monitoring.cicd._report import EXIT_CODES, CheckResult, Report
from berrys_monitoring.cicd._simulate import (
    SimulationResult,
    simulate_error_rate,
    simulate_latency,
)
from berrys_monitoring.cicd._stats import (
    MannWhitneyResult,
    fisher_exact_greater,
    hodges_lehmann_ratio,
    mann_whitney_u,
    percentile,
)
from berrys_monitoring.cicd._verify import DEFAULT_REQUIRED_METRICS, verify_deployment

__all__ = [
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
]
