"""``berrys-monitoring alerts``: list, show, acknowledge and resolve alerts in a store file.

On-call needs no Python prompt: the same SQLite file the services write is read here.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import orjson

from berrys_monitoring.alerts._manager import AlertManager, AlertNotFoundError
from berrys_monitoring.alerts._model import Alert, AlertState

__all__ = ["configure_parser", "run"]

ENV_STORE = "BERRYS_MONITORING_ALERTS_DB"


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Add the ``alerts`` sub-subcommands to ``parser``."""
    parser.add_argument(
        "--store",
        default=os.environ.get(ENV_STORE),
        help=f"alert store file (default: ${ENV_STORE})",
    )
    sub = parser.add_subparsers(dest="alerts_command", metavar="ACTION", required=True)
    ls = sub.add_parser("list", help="list alerts, newest first (active ones by default)")
    ls.add_argument("--state", choices=[s.value for s in AlertState])
    ls.add_argument("--all", action="store_true", help="resolved ones too")
    ls.add_argument("--limit", type=int, default=100)
    ls.add_argument("--json", action="store_true", help="JSON lines instead of a table")
    show = sub.add_parser("show", help="one alert with its history")
    show.add_argument("alert_id")
    show.add_argument("--json", action="store_true")
    for name, text in (("ack", "acknowledge an alert"), ("resolve", "resolve an alert")):
        p = sub.add_parser(name, help=text)
        p.add_argument("alert_id")
        p.add_argument("-m", "--message", default="")


def _as_dict(alert: Alert) -> dict[str, Any]:
    return {
        "id": alert.id,
        "title": alert.title,
        "message": alert.message,
        "severity": alert.severity.value,
        "state": alert.state.value,
        "context": alert.context,
        "occurrences": alert.occurrences,
        "rule": alert.rule,
        "created_at": alert.created_at.isoformat(),
        "updated_at": alert.updated_at.isoformat(),
        "resolved_at": alert.resolved_at.isoformat() if alert.resolved_at else None,
        "history": [
            {"at": e.at.isoformat(), "kind": e.kind, "state": e.state.value, "message": e.message}
            for e in alert.history
        ],
    }


def _print_json(value: Any) -> None:
    sys.stdout.write(orjson.dumps(value).decode() + "\n")


def run(args: argparse.Namespace) -> int:
    """Execute the parsed ``alerts`` command; 0 on success, 1 for an unknown alert, 2 on usage."""
    if not args.store:
        print(f"alerts: give --store FILE or set {ENV_STORE}", file=sys.stderr)
        return 2
    if not os.path.exists(args.store):
        print(f"alerts: no alert store at {args.store}", file=sys.stderr)
        return 2
    manager = AlertManager(store=args.store)
    try:
        if args.alerts_command == "list":
            alerts = manager.list(args.state, active=None if args.all or args.state else True,
                                  limit=args.limit)  # fmt: skip
            for a in alerts:
                if args.json:
                    _print_json(_as_dict(a))
                else:
                    print(
                        f"{a.id}  {a.created_at:%Y-%m-%d %H:%M:%S}  {a.severity.value:<8} "
                        f"{a.state.value:<12} x{a.occurrences:<4} {a.title}"
                    )
            return 0
        alert: Alert | None
        if args.alerts_command == "show":
            alert = manager.get(args.alert_id)
            if alert is None:
                raise AlertNotFoundError(args.alert_id)
            if args.json:
                _print_json(_as_dict(alert))
            else:
                print(f"{alert.title}  [{alert.severity.value}, {alert.state.value}]")
                print(f"  {alert.message}")
                for k, v in alert.context.items():
                    print(f"  {k}: {v}")
                for e in alert.history:
                    print(f"  {e.at:%Y-%m-%d %H:%M:%S}  {e.kind:<12} {e.message}")
            return 0
        if args.alerts_command == "ack":
            alert = manager.acknowledge(args.alert_id, args.message)
        else:
            alert = manager.resolve(args.alert_id, args.message)
        print(f"{args.alert_id}: {alert.state.value if alert else 'store error'}")
        return 0 if alert else 1
    except AlertNotFoundError:
        print(f"alerts: no alert {args.alert_id}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"alerts: {exc}", file=sys.stderr)
        return 1
    finally:
        manager.shutdown(5)
