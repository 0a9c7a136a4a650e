"""``berrys-monitoring export grafana-dashboard NAME``: a dashboard as Grafana dashboard
JSON, from a running hub (``--hub``) or from a hub's data directory (``--data-dir``)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from berrys_monitoring._internal import HUB_TOKEN_ENV, HUB_URL_ENV

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", metavar="NAME", help="the dashboard's id or title")
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--hub", help=f"a running hub's URL (default: ${HUB_URL_ENV}, else the data dir)"
    )
    source.add_argument("--data-dir", help="read the hub's store in this directory")
    parser.add_argument("-o", "--output", help="write to this file (default: stdout)")


def _from_hub(url: str, name: str) -> dict[str, Any]:
    import httpx

    token = os.environ.get(HUB_TOKEN_ENV)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=30) as client:
        listing = client.get("/api/v1/dashboards")
        if listing.status_code != 200:
            raise LookupError(f"{url} answered {listing.status_code}: {listing.text[:200]}")
        dashboard_id = _resolve(name, listing.json()["dashboards"])
        answer = client.get(f"/api/v1/dashboards/{dashboard_id}/grafana")
        if answer.status_code != 200:
            raise LookupError(f"{url} answered {answer.status_code}: {answer.text[:200]}")
        result: dict[str, Any] = answer.json()
        return result


def _from_store(data_dir: str, name: str) -> dict[str, Any]:
    from berrys_monitoring.hub.dashboards._api import load_dashboard
    from berrys_monitoring.hub.dashboards._builtin import builtin_dashboards
    from berrys_monitoring.hub.dashboards._grafana import to_grafana
    from berrys_monitoring.hub.dashboards._model import parse_dashboard
    from berrys_monitoring.hub.store import SQLiteStore

    store = SQLiteStore(Path(data_dir))
    try:
        listing = [{"id": d.id, "title": d.title} for d in builtin_dashboards().values()]
        for definition, _, _ in store.dashboards():
            d = parse_dashboard(orjson.loads(definition))
            listing.append({"id": d.id, "title": d.title})
        found = load_dashboard(store, _resolve(name, listing))
        assert found is not None
        return to_grafana(found[0])
    finally:
        store.close()


def _resolve(name: str, listing: list[dict[str, Any]]) -> str:
    for d in listing:
        if d["id"] == name:
            return str(d["id"])
    matches = [d for d in listing if str(d["title"]).casefold() == name.casefold()]
    if len(matches) == 1:
        return str(matches[0]["id"])
    known = ", ".join(f"{d['id']} ({d['title']})" for d in listing)
    if matches:
        raise LookupError(f"{len(matches)} dashboards are titled {name!r}: give the id ({known})")
    raise LookupError(f"no dashboard {name!r}; there are: {known}")


def run(args: argparse.Namespace) -> int:
    """Print or write the Grafana JSON; 0 on success, 1 when the dashboard is unknown or the
    hub cannot be read."""
    hub = args.hub or (None if args.data_dir else os.environ.get(HUB_URL_ENV))
    try:
        if hub:
            grafana = _from_hub(hub, args.name)
        else:
            from berrys_monitoring.hub.config import HubConfig

            grafana = _from_store(args.data_dir or str(HubConfig().data_path), args.name)
    except (LookupError, OSError) as exc:
        print(f"berrys-monitoring export grafana-dashboard: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # httpx errors, a store that cannot be opened
        print(f"berrys-monitoring export grafana-dashboard: {exc}", file=sys.stderr)
        return 1
    text = orjson.dumps(grafana, option=orjson.OPT_INDENT_2).decode() + "\n"
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
