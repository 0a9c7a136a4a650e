"""The demo's hub: a real ``berrys-monitoring hub`` process with a fresh data directory.

Its configuration scrapes the two example services every few seconds and, when the hub
knows how to load Prometheus rule files (``rule_files:``), loads the demo's alerting rule:
the gateway's error ratio above a threshold ``for`` a few seconds. The services send their
spans and log records to it over OTLP (``BERRYS_MONITORING_HUB_URL``).
"""

from __future__ import annotations

import dataclasses
import socket
import sys
from pathlib import Path
from typing import Any

import httpx
import yaml

from berrys_monitoring.hub.config import HubConfig

GATEWAY_JOB = "api-gateway"  # the services' own names: their self-registration agrees
USERS_JOB = "user-service"
ALERT_NAME = "GatewayHighErrorRate"


def hub_loads_rule_files() -> bool:
    """True when this hub's configuration takes Prometheus ``rule_files``.

    Example::

        >>> isinstance(hub_loads_rule_files(), bool)
        True
    """
    return "rule_files" in {f.name for f in dataclasses.fields(HubConfig)}


def error_ratio_expr(job: str = GATEWAY_JOB, window: str = "30s") -> str:
    """PromQL: the share of ``job``'s requests answered with a 5xx over ``window``.

    Example::

        >>> error_ratio_expr("api", "30s").startswith("sum(rate(http_requests_total{job=")
        True
    """
    return (
        f'sum(rate(http_requests_total{{job="{job}",status=~"5.."}}[{window}]))'
        f' / sum(rate(http_requests_total{{job="{job}"}}[{window}]))'
    )


def rule_file(threshold: float, for_s: float, interval_s: float) -> dict[str, Any]:
    """The demo's rule file, in Prometheus' format (``promtool check rules`` accepts it).

    Example::

        >>> rule = rule_file(0.02, 10, 5)["groups"][0]["rules"][0]
        >>> rule["alert"], rule["for"]
        ('GatewayHighErrorRate', '10s')
    """
    return {
        "groups": [
            {
                "name": "demo",
                "interval": f"{interval_s:g}s",
                "rules": [
                    {
                        "alert": ALERT_NAME,
                        "expr": f"{error_ratio_expr()} > {threshold:g}",
                        "for": f"{for_s:g}s",
                        "labels": {"severity": "warning", "service": GATEWAY_JOB},
                        "annotations": {
                            "summary": "The gateway answers too many requests with a 5xx",
                            "description": (
                                f"More than {threshold:.0%} of the gateway's requests failed "
                                "over the last 30 seconds (value: "
                                "{{ $value | humanizePercentage }})."
                            ),
                        },
                    }
                ],
            }
        ]
    }


def write_hub_config(
    directory: Path,
    *,
    gateway_port: int,
    users_port: int,
    scrape_interval_s: float,
    threshold: float,
    for_s: float,
) -> Path:
    """Write ``hub.yml`` and ``rules.yml`` into ``directory``; the configuration names the
    rule file when this hub loads rule files."""
    config: dict[str, Any] = {
        "scrape_interval": f"{scrape_interval_s:g}s",
        "scrape_configs": [
            {
                "job_name": GATEWAY_JOB,
                "static_configs": [{"targets": [f"127.0.0.1:{gateway_port}"]}],
            },
            {"job_name": USERS_JOB, "static_configs": [{"targets": [f"127.0.0.1:{users_port}"]}]},
        ],
    }
    rules = directory / "rules.yml"
    rules.write_text(
        yaml.safe_dump(rule_file(threshold, for_s, scrape_interval_s), sort_keys=False)
    )
    if hub_loads_rule_files():
        config["rule_files"] = [str(rules)]
    path = directory / "hub.yml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def hub_command(config: Path, port: int, data_dir: Path) -> list[str]:
    """The hub on 127.0.0.1 only; OTLP/gRPC off (the services send OTLP/HTTP)."""
    return [
        sys.executable, "-m", "berrys_monitoring", "hub",
        "--config", str(config), "--host", "127.0.0.1", "--port", str(port),
        "--grpc-port", "0", "--data-dir", str(data_dir), "--log-level", "warning",
    ]  # fmt: skip


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@dataclasses.dataclass
class HubView:
    """What the hub has received so far, for the terminal summary."""

    url: str
    services: dict[str, tuple[int, int, int]]  # name -> (spans, logs, samples)
    alerts: list[str]  # "name (state)" of the active alerts
    error: str | None = None


def alerts_of(body: Any) -> list[dict[str, Any]]:
    """The alert list of ``GET /api/v1/alerts``, in the hub's first shape (``{"alerts"}``)
    or the Prometheus envelope (``{"status", "data": {"alerts"}}``).

    Example::

        >>> alerts_of({"status": "success", "data": {"alerts": [{"labels": {}}]}})
        [{'labels': {}}]
    """
    if isinstance(body, dict):
        data = body.get("data")
        found = data.get("alerts") if isinstance(data, dict) else body.get("alerts")
        if isinstance(found, list):
            return [a for a in found if isinstance(a, dict)]
    return []


def alert_title(alert: dict[str, Any]) -> str:
    labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
    return str((labels or {}).get("alertname") or alert.get("title") or "alert")


def read_hub(client: httpx.Client, url: str) -> HubView:
    """One look at the hub's query API: services with their signal counts, active alerts."""
    try:
        services = client.get(f"{url}/api/v1/services", timeout=3.0).json().get("services", [])
        alerts = alerts_of(client.get(f"{url}/api/v1/alerts", timeout=3.0).json())
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return HubView(url, {}, [], error=type(exc).__name__)
    counts = {
        str(s["name"]): (
            int(s.get("span_count", 0)),
            int(s.get("log_count", 0)),
            int(s.get("sample_count", 0)),
        )
        for s in services
        if isinstance(s, dict) and "name" in s
    }
    active = [
        f"{alert_title(a)} ({a.get('state', '?')})"
        for a in alerts
        if a.get("state") not in ("resolved", "inactive")
    ]
    return HubView(url, counts, sorted(set(active)))
