"""Grafana export: every dashboard, built-in or custom, passes the dashboard model's
checks, and its PromQL runs against a real Prometheus scraping real services."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from tests.hub.dashboards.grafana_model import problems
from tests.integration._services import gateway_service, users_service
from tests.integration.test_prometheus_scrape import prometheus
from tests.support.servers import wait_for

from berrys_monitoring.hub.dashboards import builtin_dashboards, parse_dashboard, to_grafana

CUSTOM = {
    "title": "Checkout <script>alert(1)</script>",
    "id": "checkout",
    "tags": ["shop"],
    "time": {"from": "2026-01-01T00:00:00Z", "to": "now"},
    "refresh": "10s",
    "variables": [
        {"name": "route", "query": "label_values(http_requests_total{job=\"gateway\"}, route)"},
        {"name": "env", "type": "custom", "query": "prod,staging", "current": ["prod"]},
    ],
    "panels": [
        {"id": 7, "type": "timeseries", "title": "rate", "query": {"expr": "rate(x_total[1m])"},
         "thresholds": [{"value": 5, "color": "red"}, {"value": 1, "color": "#ffaa00"}],
         "grid": {"x": 0, "y": 0, "w": 24, "h": 6}},
        {"id": 8, "type": "logs", "title": "errors",
         "query": {"kind": "logs", "expr": "service=checkout&level=warn&q=card \"declined\""}},
        {"id": 9, "type": "traces", "title": "slow",
         "query": {"kind": "traces", "expr": "service=checkout&min_duration=250ms"}},
    ],
}  # fmt: skip


@pytest.mark.parametrize("name", [*builtin_dashboards(), "custom"])
def test_exported_dashboard_has_the_grafana_models_required_fields(name: str) -> None:
    dashboard = builtin_dashboards()[name] if name != "custom" else parse_dashboard(CUSTOM)
    grafana = to_grafana(dashboard)
    assert problems(grafana) == []
    assert len(grafana["panels"]) == len(dashboard.panels)
    exprs = [t.get("expr") for p in grafana["panels"] for t in p["targets"]]
    promql = [p.query.expr for p in dashboard.panels if p.query.kind == "promql"]
    assert [e for e in exprs if e in promql] == promql  # the same PromQL, unchanged


def test_the_model_check_finds_what_grafana_would_refuse() -> None:
    grafana = to_grafana(parse_dashboard(CUSTOM))
    grafana["panels"][0]["gridPos"]["x"] = 20
    del grafana["templating"]
    grafana["panels"][1]["targets"][0]["datasource"]["uid"] = "${DS_NOWHERE}"
    found = problems(grafana)
    assert "missing templating" in found
    assert any("outside the 24-column grid" in p for p in found)
    assert any("DS_NOWHERE" in p for p in found)


def test_custom_dashboard_export_translates_thresholds_variables_logs_and_traces() -> None:
    grafana = to_grafana(parse_dashboard(CUSTOM))
    steps = grafana["panels"][0]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps == [
        {"color": "green", "value": None},
        {"color": "#ffaa00", "value": 1.0},
        {"color": "red", "value": 5.0},
    ]
    route, env = grafana["templating"]["list"]
    assert route["type"] == "query" and route["datasource"]["type"] == "prometheus"
    assert route["definition"] == 'label_values(http_requests_total{job="gateway"}, route)'
    assert env["current"] == {"text": "prod", "value": "prod"}
    logs, traces = grafana["panels"][1]["targets"][0], grafana["panels"][2]["targets"][0]
    assert logs["expr"] == (
        '{service_name="checkout"} | detected_level=~"warn|warning|error|fatal|critical"'
        ' |= "card \\"declined\\""'
    )
    assert traces["query"] == '{resource.service.name="checkout" && duration>=250ms}'
    assert grafana["title"] == CUSTOM["title"]  # text, for Grafana to escape
    absolute = to_grafana(
        parse_dashboard({"title": "t", "time": {"from": "1767225600000", "to": "now"}})
    )
    assert absolute["time"] == {"from": "2026-01-01T00:00:00.000Z", "to": "now"}
    assert {i["pluginId"] for i in grafana["__inputs"]} == {"prometheus", "loki", "tempo"}


def _substitute(expr: str, values: dict[str, str]) -> str:
    return re.sub(r"\$(\w+)", lambda m: values.get(m.group(1), m.group(0)), expr)


def _query_range(prom: str, expr: str) -> dict[str, Any]:
    end = time.time()
    r = httpx.get(
        f"{prom}/api/v1/query_range",
        params={"query": expr, "start": end - 600, "end": end, "step": 5},
        timeout=30,
    )
    body: dict[str, Any] = r.json()
    assert r.status_code == 200 and body["status"] == "success", (expr, body)
    return body


@pytest.mark.slow
def test_exported_queries_run_against_a_real_prometheus() -> None:
    with users_service() as (users_url, _), gateway_service(users_url) as (gw_url, _):
        targets = {
            "gateway": gw_url.removeprefix("http://"),
            "users": users_url.removeprefix("http://"),
        }
        with prometheus(targets) as prom:
            for uid in (1, 2, 3, 424242):
                httpx.get(f"{gw_url}/users/{uid}")
            httpx.get(f"{gw_url}/fail")

            def jobs() -> list[str] | None:
                # the Service dashboard's variable: label_values(http_requests_total, job)
                r = httpx.get(
                    f"{prom}/api/v1/label/job/values",
                    params={"match[]": "http_requests_total"},
                    timeout=5,
                )
                found = sorted(r.json()["data"])
                return found if found == ["gateway", "users"] else None

            services = wait_for(jobs, timeout=60, what="both services scraped")
            time.sleep(2)  # a second scrape, so that rate() has two samples
            ran = 0
            with_data = set()
            for dashboard in [*builtin_dashboards().values()]:
                grafana = to_grafana(dashboard)
                for panel in grafana["panels"]:
                    for target in panel["targets"]:
                        if target["datasource"]["type"] != "prometheus":
                            continue
                        expr = _substitute(target["expr"], {"service": "|".join(services)})
                        body = _query_range(prom, expr)
                        ran += 1
                        if body["data"]["result"]:
                            with_data.add(panel["title"])
            assert ran >= 25
            # the RED panels see the requests the test made
            assert {"Request rate", "Requests / s", "Request rate by service"} <= with_data
