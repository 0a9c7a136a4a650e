"""deploy/: the Alertmanager configuration routes alerts in the hub exactly as the real
Alertmanager does (asked with ``amtool config routes test``), and the rule file there is
what ``berrys-monitoring export prometheus-rules`` writes, passing ``promtool``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from tests.support.servers import REPO, require_binary

from berrys_monitoring.hub.rules import load_alerting_config, load_rule_files

DEPLOY = REPO / "deploy"

LABEL_SETS = [
    {"alertname": "HighErrorRate", "severity": "critical", "team": "payments"},
    {"alertname": "SlowRequests", "severity": "warning", "team": "payments"},
    {"alertname": "ServiceDown", "severity": "critical", "job": "api-gateway"},
    {"alertname": "SlowRequests", "severity": "warning", "job": "user-service"},
    {"alertname": "Other", "severity": "info", "job": "batch"},
    {"alertname": "Other", "severity": "critical", "team": "payments", "job": "user-service"},
]


@pytest.mark.parametrize("labels", LABEL_SETS, ids=lambda d: ",".join(d.values()))
def test_the_hub_routes_as_alertmanager_does(labels: dict[str, str]) -> None:
    amtool = require_binary("amtool", "apt-get install prometheus-alertmanager")
    config = DEPLOY / "alertmanager.yml"
    args = [f"{k}={v}" for k, v in labels.items()]
    proc = subprocess.run(
        [amtool, "config", "routes", "test", f"--config.file={config}", *args],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    theirs = proc.stdout.strip().split(",")
    ours = [r.receiver for r in load_alerting_config(config).route.match(labels)]
    assert ours == theirs


def test_the_deployed_rules_are_the_export_of_the_hubs_rules(tmp_path: Path) -> None:
    promtool = require_binary("promtool", "apt-get install prometheus")
    out = tmp_path / "exported.yml"
    subprocess.run(
        [sys.executable, "-m", "berrys_monitoring", "export", "prometheus-rules",
         "--rules", str(DEPLOY / "rules" / "services.yml"), "-o", str(out)],
        check=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    check = subprocess.run(
        [promtool, "check", "rules", str(out)], capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0 and "3 rules found" in check.stdout, check.stdout + check.stderr
    deployed = yaml.safe_load((DEPLOY / "rules" / "services.yml").read_text())
    exported = yaml.safe_load(out.read_text())
    for group in exported["groups"]:
        group.pop("interval")  # the evaluation interval made explicit
    for group in deployed["groups"]:
        for rule in group["rules"]:
            rule["expr"] = rule["expr"].strip()
    assert exported == deployed
    [group] = load_rule_files([str(out)])
    assert group.interval_s == 60.0


def test_export_without_rules_explains_itself() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "berrys_monitoring", "export", "prometheus-rules"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 2 and "--rules" in proc.stderr
    proc = subprocess.run(
        [sys.executable, "-m", "berrys_monitoring", "export"],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )  # fmt: skip
    assert proc.returncode == 2 and "prometheus-rules" in proc.stderr
