"""The dashboards API on a real hub: create, read, replace, delete, export, and the
definitions survive a restart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import orjson
from tests.hub.conftest import RunningHub, start_hub
from tests.hub.dashboards.grafana_model import problems

DEFINITION: dict[str, Any] = {
    "title": "Checkout <img src=x onerror=alert(1)>",
    "tags": ["shop"],
    "time": {"from": "now-6h", "to": "now"},
    "refresh": "30s",
    "variables": [{"name": "service", "query": "label_values(http_requests_total, job)"}],
    "panels": [
        {"id": 1, "type": "timeseries", "title": "rate",
         "query": {"kind": "promql", "expr": 'sum(rate(http_requests_total{job="$service"}[5m]))'},
         "legend": "{{job}}", "unit": "reqps",
         "thresholds": [{"value": 10, "color": "red"}], "grid": {"x": 0, "y": 0, "w": 12, "h": 8}},
        {"id": 2, "type": "logs", "title": "errors",
         "query": {"kind": "logs", "expr": "service=$service&level=error"},
         "grid": {"x": 12, "y": 0, "w": 12, "h": 8}},
    ],
}  # fmt: skip


def test_built_in_dashboards_are_listed_and_read_only(client: httpx.Client) -> None:
    listed = client.get("/api/v1/dashboards").json()["dashboards"]
    builtins = [d["title"] for d in listed if d["builtin"]]
    assert builtins == ["System Overview", "Service", "Request Tracing", "Log Explorer", "Alerts"]
    service = client.get("/api/v1/dashboards/service").json()
    assert service["builtin"] is True and service["variables"][0]["name"] == "service"
    assert client.put("/api/v1/dashboards/service", json=service).status_code == 403
    assert client.delete("/api/v1/dashboards/service").status_code == 403
    # a copy is an ordinary dashboard
    copy = {**service, "id": "", "title": "My service"}
    created = client.post("/api/v1/dashboards", json=copy)
    assert created.status_code == 201, created.text
    assert created.json()["id"].startswith("my-service-") and created.json()["builtin"] is False
    assert client.delete(f"/api/v1/dashboards/{created.json()['id']}").status_code == 204


def test_invalid_definitions_get_a_400_that_names_the_field(client: httpx.Client) -> None:
    cases = {
        "panels.0.grid": {"title": "t", "panels": [
            {"id": 1, "type": "stat", "query": {"expr": "up"}, "grid": {"x": 20, "w": 8}}]},
        "refresh": {"title": "t", "refresh": "7s"},
        "panels.0.type": {"title": "t", "panels": [{"id": 1, "type": "pie", "query": {"expr": "up"}}]},
        "title": {"panels": []},
        "variables.0": {"title": "t", "variables": [{"name": "x", "query": "up"}]},
        "panels.0.query": {"title": "t", "panels": [
            {"id": 1, "type": "logs", "query": {"kind": "logs", "expr": "drop=table"}}]},
        "time.from": {"title": "t", "time": {"from": "yesterday", "to": "now"}},
        "panels.0.thresholds.0.color": {"title": "t", "panels": [
            {"id": 1, "type": "stat", "query": {"expr": "up"},
             "thresholds": [{"value": 1, "color": "red;background:url(x)"}]}]},
    }  # fmt: skip
    for field, body in cases.items():
        r = client.post("/api/v1/dashboards", json=body)
        assert r.status_code == 400, (field, r.text)
        assert field in r.json()["error"], (field, r.json())
    r = client.post(
        "/api/v1/dashboards", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400 and "not JSON" in r.json()["error"]
    assert client.get("/api/v1/dashboards/NOT..valid").status_code in (400, 404)
    assert client.get("/api/v1/dashboards/nothing-here").status_code == 404


def test_crud_and_grafana_export_survive_a_restart(tmp_path: Path) -> None:
    with start_hub(tmp_path) as hub, hub.client() as client:
        created = client.post("/api/v1/dashboards", json=DEFINITION)
        assert created.status_code == 201, created.text
        dashboard_id = created.json()["id"]
        assert created.headers["location"] == f"/api/v1/dashboards/{dashboard_id}"
        assert client.post("/api/v1/dashboards", json=created.json()).status_code == 409
        changed = {**created.json(), "refresh": "1m", "title": "Checkout"}
        r = client.put(f"/api/v1/dashboards/{dashboard_id}", json=changed)
        assert r.status_code == 200 and r.json()["refresh"] == "1m"
        assert (
            client.put(
                f"/api/v1/dashboards/{dashboard_id}", json={**changed, "id": "other"}
            ).status_code
            == 400
        )
        made = client.put("/api/v1/dashboards/by-put", json={**DEFINITION, "title": "Put"})
        assert made.status_code == 201 and made.json()["id"] == "by-put"
        assert client.delete("/api/v1/dashboards/by-put").status_code == 204
        assert client.delete("/api/v1/dashboards/by-put").status_code == 404
        saved = client.get(f"/api/v1/dashboards/{dashboard_id}").json()
    with start_hub(tmp_path) as hub, hub.client() as client:
        again = client.get(f"/api/v1/dashboards/{dashboard_id}").json()
        assert again == saved
        assert again["panels"][0]["query"]["expr"] == DEFINITION["panels"][0]["query"]["expr"]
        listed = [d["id"] for d in client.get("/api/v1/dashboards").json()["dashboards"]]
        assert dashboard_id in listed and "by-put" not in listed
        grafana = client.get(f"/api/v1/dashboards/{dashboard_id}/grafana")
        assert grafana.status_code == 200 and problems(grafana.json()) == []
        assert grafana.json()["refresh"] == "1m"
        assert "attachment" in grafana.headers["content-disposition"]


def test_cli_exports_a_dashboard_from_a_hub_and_from_its_data_dir(
    hub: RunningHub, tmp_path: Path
) -> None:
    with hub.client() as client:
        client.put("/api/v1/dashboards/cli-export", json={**DEFINITION, "title": "CLI export"})
    out = tmp_path / "g.json"
    cmd = [sys.executable, "-m", "berrys_monitoring", "export", "grafana-dashboard"]
    done = subprocess.run(
        [*cmd, "cli export", "--hub", hub.url, "-o", str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    grafana = orjson.loads(out.read_bytes())
    assert grafana["uid"] == "cli-export" and problems(grafana) == []
    # a built-in by its title, from the store on disk (the hub holds it open: WAL readers)
    done = subprocess.run(
        [*cmd, "System Overview", "--data-dir", str(hub.data_dir)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert orjson.loads(done.stdout)["title"] == "System Overview"
    done = subprocess.run([*cmd, "nope", "--hub", hub.url], capture_output=True, text=True)
    assert done.returncode == 1 and "no dashboard 'nope'" in done.stderr
    assert "system-overview (System Overview)" in done.stderr
