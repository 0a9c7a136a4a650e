"""``berrys-monitoring verify``: check a fresh deployment (health, metrics, performance).

Example::

    $ berrys-monitoring verify --url https://dev-api.example.com --path /users --max-p95-ms 300
"""

from __future__ import annotations

import argparse

from berrys_monitoring.cicd._cli import add_output_flags, execute
from berrys_monitoring.cicd._verify import DEFAULT_REQUIRED_METRICS, verify_deployment

__all__ = ["configure_parser", "run"]

EPILOG = "exit codes: 0 pass, 1 fail, 2 inconclusive or usage error"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``verify`` flags to ``parser``."""
    parser.epilog = EPILOG
    parser.add_argument("--url", required=True, help="base URL of the deployment")
    bool_flag = argparse.BooleanOptionalAction
    parser.add_argument("--health", action=bool_flag, default=True, help="check GET {url}/health")
    parser.add_argument("--metrics", action=bool_flag, default=True, help="check GET {url}/metrics")
    parser.add_argument(
        "--performance", action=bool_flag, default=True, help="measure latency and errors"
    )
    h = parser.add_argument_group("health")
    h.add_argument("--health-path", default="/health")
    h.add_argument(
        "--health-timeout",
        type=float,
        default=60.0,
        help="seconds to keep retrying (with backoff) until healthy (default 60)",
    )
    m = parser.add_argument_group("metrics")
    m.add_argument("--metrics-path", default="/metrics")
    m.add_argument(
        "--require-metric",
        action="append",
        default=[],
        metavar="NAME",
        help=f"a metric that must be exposed (repeatable); always: {', '.join(DEFAULT_REQUIRED_METRICS)}",
    )
    m.add_argument(
        "--no-default-metrics",
        dest="default_metrics",
        action="store_false",
        help="do not require the default request metrics",
    )
    p = parser.add_argument_group("performance")
    p.add_argument(
        "--path", action="append", default=[], help="path to load (repeatable; default /)"
    )
    p.add_argument("--requests", type=int, default=100, help="number of requests (default 100)")
    p.add_argument("--concurrency", type=int, default=10, help="concurrent clients (default 10)")
    p.add_argument("--duration", type=float, help="run for SECONDS instead of --requests")
    p.add_argument("--warmup", type=int, default=5, help="unrecorded warm-up requests (default 5)")
    p.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds")
    p.add_argument(
        "--max-p95-ms", type=float, default=1000.0, help="p95 latency limit (default 1000)"
    )
    p.add_argument(
        "--max-error-rate",
        type=float,
        default=0.01,
        help="5xx/transport error limit (default 0.01)",
    )
    p.add_argument("--baseline", metavar="FILE", help="a --json report of an earlier verify run")
    p.add_argument(
        "--threshold",
        type=float,
        default=1.2,
        help="allowed p95 ratio to the baseline (1.2 = 20%% slower allowed)",
    )
    p.add_argument(
        "--metrics-source",
        choices=["load", "prometheus", "hub"],
        default="load",
        help="drive load (default) or read real traffic from Prometheus",
    )
    p.add_argument("--metrics-url", help="the Prometheus server for --metrics-source prometheus")
    p.add_argument(
        "--selector",
        help='PromQL label matchers for the deployment (default instance="host:port" of --url)',
    )
    p.add_argument("--window", default="5m", help="PromQL range window (default 5m)")
    add_output_flags(parser)


def run(args: argparse.Namespace) -> int:
    """Run ``verify``; returns the exit code."""
    return execute(
        args,
        lambda display: verify_deployment(
            args.url,
            health=args.health,
            metrics=args.metrics,
            performance=args.performance,
            health_path=args.health_path,
            health_timeout=args.health_timeout,
            metrics_path=args.metrics_path,
            require_metrics=args.require_metric,
            default_metrics=args.default_metrics,
            paths=args.path or ["/"],
            requests=args.requests,
            concurrency=args.concurrency,
            duration=args.duration,
            warmup=args.warmup,
            timeout=args.timeout,
            max_p95_ms=args.max_p95_ms,
            max_error_rate=args.max_error_rate,
            baseline=args.baseline,
            threshold=args.threshold,
            metrics_source=args.metrics_source,
            metrics_url=args.metrics_url,
            selector=args.selector,
            window=args.window,
            progress=display,
        ),
    )
