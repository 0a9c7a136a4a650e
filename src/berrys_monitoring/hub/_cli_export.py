"""``berrys-monitoring export KIND ...``: write the hub's definitions in the formats other
tools read. Each kind is a module with ``configure_parser`` and ``run``, listed in
``EXPORTS`` (one line each)."""

from __future__ import annotations

import argparse
import importlib
import sys

__all__ = ["EXPORTS", "configure_parser", "run"]

#: kind -> (module, help)
EXPORTS: dict[str, tuple[str, str]] = {
    "grafana-dashboard": (
        "berrys_monitoring.hub.dashboards._cli",
        "a dashboard (built-in or saved) as Grafana dashboard JSON",
    ),
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kind", metavar="KIND")
    for kind, (module_name, help_text) in EXPORTS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(kind, help=help_text, description=help_text)
        module.configure_parser(p)
        p.set_defaults(_export=module.run)


def run(args: argparse.Namespace) -> int:
    export = getattr(args, "_export", None)
    if export is None:
        print(
            "berrys-monitoring export: name what to export: " + ", ".join(EXPORTS),
            file=sys.stderr,
        )
        return 2
    return int(export(args))
