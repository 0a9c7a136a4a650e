"""The scale-out reference configs in deploy/ are valid for the real tools, and the same
services' signals reach each of them: checked with promtool and amtool, and the hub takes
the Prometheus file's scrape section as it is."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml
from tests.support.servers import REPO, require_binary

from berrys_monitoring.hub.config import HubConfig

DEPLOY = REPO / "deploy"


def _run(*cmd: str) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=DEPLOY)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout + proc.stderr


def test_prometheus_config_and_rules_pass_promtool() -> None:
    promtool = require_binary("promtool", "apt-get install prometheus")
    assert "SUCCESS" in _run(promtool, "check", "config", "prometheus.yml")
    assert "3 rules found" in _run(promtool, "check", "rules", "rules/services.yml")


def test_alertmanager_config_passes_amtool() -> None:
    amtool = require_binary("amtool", "apt-get install prometheus-alertmanager")
    assert "SUCCESS" in _run(amtool, "check-config", "alertmanager.yml")


def test_the_hub_takes_the_prometheus_scrape_section_as_it_is(tmp_path: Path) -> None:
    prometheus = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    pasted = tmp_path / "hub.yaml"
    pasted.write_text(yaml.safe_dump({"scrape_configs": prometheus["scrape_configs"]}))
    config = HubConfig.from_sources(config_file=pasted, environ={})
    assert {t["job"] for t in config.scrape_targets} == {
        "api-gateway",
        "user-service",
        "berrys-monitoring-hub",
    }


def test_collector_pipelines_use_only_what_they_define() -> None:
    collector = yaml.safe_load((DEPLOY / "otel-collector.yaml").read_text())
    pipelines = collector["service"]["pipelines"]
    assert set(pipelines) == {"traces", "logs", "metrics"}
    for pipeline in pipelines.values():
        assert set(pipeline["receivers"]) <= set(collector["receivers"])
        assert set(pipeline["processors"]) <= set(collector["processors"])
        assert set(pipeline["exporters"]) <= set(collector["exporters"])
    # Services send to it exactly as to the hub: OTLP on the standard ports.
    assert collector["receivers"]["otlp"]["protocols"]["http"]["endpoint"].endswith(":4318")
    assert collector["receivers"]["otlp"]["protocols"]["grpc"]["endpoint"].endswith(":4317")


def test_grafana_provisions_the_three_backends() -> None:
    grafana = yaml.safe_load((DEPLOY / "grafana" / "datasources.yaml").read_text())
    assert {d["type"] for d in grafana["datasources"]} == {"prometheus", "tempo", "loki"}
