"""The ``berrys-monitoring`` command (also ``python -m berrys_monitoring``).

Each subcommand lives in its own module exposing ``configure_parser(parser)`` and
``run(args) -> int``; this file only dispatches.

Example::

    $ berrys-monitoring --version
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from berrys_monitoring._version import __version__

__all__ = ["main"]

# name -> (module, one-line help). Modules are imported when the parser is built; they
# must not import a web framework at import time.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": (
        "berrys_monitoring.demo",
        "start the example services, drive traffic, show a live summary",
    ),
    "verify": (
        "berrys_monitoring.cicd._cli_verify",
        "verify a deployment: health, metrics exposition, performance (exit 0/1/2)",
    ),
    "canary": (
        "berrys_monitoring.cicd._cli_canary",
        "compare a canary with production, metric by metric (exit 0/1/2)",
    ),
    "alerts": (
        "berrys_monitoring.alerts._cli",
        "list, show, acknowledge and resolve alerts in a store file",
    ),
    "hub": (
        "berrys_monitoring.hub._cli",
        "run the telemetry hub: OTLP ingest, an embedded store, a query API",
    ),
    "export": (
        "berrys_monitoring.hub._cli_export",
        "export for the scale-out path: prometheus-rules, grafana-dashboard",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="berrys-monitoring",
        description="Monitoring and observability for Python web services.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.configure_parser(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    Example::

        >>> from berrys_monitoring.cli import main
        >>> main(["--help"])  # doctest: +SKIP
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    run = getattr(args, "_run", None)
    if run is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        code = int(run(args))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as the docs' recipe says
        # (https://docs.python.org/3/library/signal.html#note-on-sigpipe); stdout goes
        # to devnull so the interpreter's own final flush does not fail again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a killed pipeline member
    return code
