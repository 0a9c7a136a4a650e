"""``berrys-monitoring canary``: compare a canary deployment with production.

Example::

    $ berrys-monitoring canary --canary-url https://canary-api.example.com \
        --production-url https://api.example.com --performance-threshold 1.2 --monitor-duration 300
"""

from __future__ import annotations

import argparse

from berrys_monitoring.cicd._canary import CANARY_METRICS, run_canary
from berrys_monitoring.cicd._cli import add_output_flags, execute
from berrys_monitoring.cicd._progress import ProgressDisplay
from berrys_monitoring.cicd._report import Report

__all__ = ["configure_parser", "run"]

EPILOG = "exit codes: 0 pass, 1 fail, 2 inconclusive or usage error"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``canary`` flags to ``parser``."""
    parser.epilog = EPILOG
    parser.add_argument("--canary-url", required=True)
    parser.add_argument("--production-url", required=True)
    parser.add_argument(
        "--performance-threshold",
        type=float,
        default=1.2,
        help="allowed canary/production ratio (1.2 = 20%% worse allowed)",
    )
    parser.add_argument(
        "--monitor-duration", type=float, default=300.0, help="seconds (default 300)"
    )
    parser.add_argument(
        "--interval", type=float, default=10.0, help="judge every SECONDS (default 10)"
    )
    parser.add_argument(
        "--rate", type=float, default=10.0, help="requests per second to each side (default 10)"
    )
    parser.add_argument(
        "--path", action="append", default=[], help="path to sample (repeatable; default /)"
    )
    parser.add_argument(
        "--metric",
        action="append",
        default=[],
        choices=CANARY_METRICS,
        help="a metric to judge besides latency and error_rate (repeatable)",
    )
    parser.add_argument(
        "--alpha", type=float, default=0.05, help="significance level (default 0.05)"
    )
    parser.add_argument(
        "--min-samples", type=int, default=20, help="samples per side needed for a verdict"
    )
    parser.add_argument(
        "--max-error-increase",
        type=float,
        default=0.01,
        help="allowed absolute error-rate increase (default 0.01 = 1 point)",
    )
    parser.add_argument(
        "--on-insufficient-data",
        choices=["fail", "inconclusive"],
        default="fail",
        help="verdict for no data / too few samples (default fail; never a pass)",
    )
    parser.add_argument(
        "--no-early-stop",
        dest="early_stop",
        action="store_false",
        help="always run the full duration",
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="per-request timeout in seconds"
    )
    source = parser.add_argument_group("reading real traffic instead of sampling")
    source.add_argument(
        "--metrics-source",
        choices=["load", "prometheus", "hub"],
        default="load",
        help="sample both deployments (load, default) or read their traffic from Prometheus",
    )
    source.add_argument("--metrics-url", help="the Prometheus server, e.g. http://prometheus:9090")
    source.add_argument(
        "--canary-selector", help='PromQL matchers of the canary (default instance="host:port")'
    )
    source.add_argument("--production-selector", help="PromQL matchers of production")
    source.add_argument("--window", default="30s", help="rate window of each point (default 30s)")
    add_output_flags(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``canary``; returns the exit code."""

    def build(display: ProgressDisplay) -> Report:
        return run_canary(
            args.canary_url,
            args.production_url,
            performance_threshold=args.performance_threshold,
            monitor_duration=args.monitor_duration,
            interval=args.interval,
            rate=args.rate,
            paths=args.path or ["/"],
            metrics=["latency", "error_rate", *args.metric],
            alpha=args.alpha,
            min_samples=args.min_samples,
            max_error_increase=args.max_error_increase,
            on_insufficient_data=args.on_insufficient_data,
            early_stop=args.early_stop,
            timeout=args.timeout,
            metrics_source=args.metrics_source,
            metrics_url=args.metrics_url,
            canary_selector=args.canary_selector,
            production_selector=args.production_selector,
            window=args.window,
            progress=display,
        )

    return execute(args, build)
