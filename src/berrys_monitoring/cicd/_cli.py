"""Shared plumbing of the ``verify`` and ``canary`` subcommands: output, exit codes."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from rich.console import Console

from berrys_monitoring._internal import is_strict, report_internal_error
from berrys_monitoring.cicd._progress import ProgressDisplay
from berrys_monitoring.cicd._report import Report

__all__ = ["add_output_flags", "execute"]


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    out = parser.add_argument_group("output")
    out.add_argument("--json", metavar="FILE", help="also write the full report as JSON to FILE")
    out.add_argument(
        "--quiet", action="store_true", help="no progress display (the final table is printed)"
    )
    out.add_argument(
        "--no-step-summary",
        action="store_true",
        help="do not append Markdown to $GITHUB_STEP_SUMMARY even when it is set",
    )


def execute(args: argparse.Namespace, build: Callable[[ProgressDisplay], Report]) -> int:
    """Run a check with a progress display; print, save and summarise its report.

    A configuration error (``ValueError``) is a usage error: message on stderr, exit 2;
    so is a crash of the tool itself (no verdict is not a failed deployment).
    """
    err = Console(stderr=True)
    try:
        with ProgressDisplay(err, enabled=not args.quiet) as display:
            report = build(display)
    except ValueError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 2
    except KeyboardInterrupt:
        err.print("interrupted", highlight=False)
        return 2
    except Exception as exc:
        # A bug of ours must not read as "the deployment failed": it is no verdict at all.
        report_internal_error("cicd", exc, "the check itself crashed")
        if is_strict():
            raise
        err.print(f"[bold red]internal error:[/] {type(exc).__name__}: {exc}", highlight=False)
        return 2
    Console(file=sys.stdout, soft_wrap=False).print(report.table())
    if args.json:
        report.write_json(args.json)
    if not args.no_step_summary:
        report.append_step_summary()
    return report.exit_code
