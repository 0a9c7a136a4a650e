"""``berrys-monitoring export <what>``: the hub's configuration in the field's formats, for
the scale-out path. Each ``<what>`` is one entry of :data:`SUBCOMMANDS`.

Example::

    $ berrys-monitoring export prometheus-rules --config hub.yaml -o rules.yml
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from berrys_monitoring.hub.dashboards import _cli as _dashboards_cli

__all__ = ["SUBCOMMANDS", "configure_parser", "run"]


def _configure_prometheus_rules(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="the hub's YAML config; its rule_files are exported")
    parser.add_argument(
        "--rules", action="append", default=[], metavar="GLOB",
        help="rule files to export (repeatable), in addition to the config's",
    )  # fmt: skip
    parser.add_argument("-o", "--output", help="write here instead of stdout")


def _run_prometheus_rules(args: argparse.Namespace) -> int:
    import yaml

    from berrys_monitoring.hub.config import ConfigError, HubConfig
    from berrys_monitoring.hub.rules import RuleFileError, load_rule_files, rule_groups_document

    try:
        patterns = list(args.rules)
        interval = 60.0
        if args.config:
            config = HubConfig.from_sources(config_file=args.config, environ={})
            patterns = list(config.rule_files) + patterns
            interval = float(config.evaluation_interval)
        if not patterns:
            raise ConfigError("nothing to export: give --config (with rule_files) or --rules")
        document = rule_groups_document(load_rule_files(patterns, default_interval_s=interval))
    except (ConfigError, RuleFileError) as exc:
        print(f"berrys-monitoring export prometheus-rules: {exc}", file=sys.stderr)
        return 2
    text = "# Exported by berrys-monitoring: check with promtool check rules\n" + yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, width=100
    )
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


#: name -> (help, configure_parser, run)
SUBCOMMANDS: dict[
    str,
    tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]],
] = {
    "prometheus-rules": (
        "the hub's alert and recording rules as one Prometheus rule file",
        _configure_prometheus_rules,
        _run_prometheus_rules,
    ),
    "grafana-dashboard": (
        "a dashboard (built-in or saved) as Grafana dashboard JSON",
        _dashboards_cli.configure_parser,
        _dashboards_cli.run,
    ),
}


def configure_parser(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="export_what", metavar="WHAT")
    for name, (help_text, configure, run_fn) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        p.set_defaults(export_run=run_fn)


def run(args: argparse.Namespace) -> int:
    """Run the chosen export; 2 (with the list) when none was chosen."""
    run_fn = getattr(args, "export_run", None)
    if run_fn is None:
        print("berrys-monitoring export: choose what to export: " + ", ".join(SUBCOMMANDS),
              file=sys.stderr)  # fmt: skip
        return 2
    return int(run_fn(args))
