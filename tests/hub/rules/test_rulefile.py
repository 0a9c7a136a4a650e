"""Rule files: validated on load with errors naming the file, group and rule; the files
the hub takes pass ``promtool check rules``; templates render as Prometheus renders them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from tests.hub.rules.conftest import rules_file
from tests.support.servers import free_port, require_binary, run_server, wait_for

from berrys_monitoring.hub.rules import (
    AlertingRule,
    RecordingRule,
    RuleFileError,
    Template,
    TemplateError,
    load_rule_files,
    parse_rule_file,
)


def _promtool_check(path: Path) -> subprocess.CompletedProcess[str]:
    promtool = require_binary("promtool", "apt-get install prometheus")
    return subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )


def test_the_test_rule_files_pass_promtool(tmp_path: Path) -> None:
    path = rules_file(tmp_path / "rules.yml", cases="x", for_s="3s", keep="10s")
    check = _promtool_check(path)
    assert check.returncode == 0 and "3 rules found" in check.stdout, check.stdout + check.stderr
    [group] = load_rule_files([str(tmp_path / "*.yml")])
    assert [type(r) for r in group.rules] == [AlertingRule, AlertingRule, RecordingRule]
    assert group.rules[0].keep_firing_for_s == 10.0  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("groups: [{name: g, rules: [{alert: A, expr: 'rate(x[5m]'}]}]",
         'r.yml: group "g", rule 1 (alert "A"): could not parse expression'),
        ("groups: [{name: g, rules: [{alert: A}]}]", "rule 1 (alert \"A\"): field 'expr'"),
        ("groups: [{name: g, rules: [{record: 'bad name', expr: up}]}]",
         "invalid recording rule name"),
        ("groups: [{name: g, rules: [{record: r, expr: up, for: 1m}]}]",
         "invalid field 'for' in recording rule"),
        ("groups: [{name: g, rules: [{alert: A, expr: up, for: 5x}]}]",
         "not a valid duration"),
        ("groups: [{name: g, rules: [{alert: A, record: r, expr: up}]}]", "exactly one of"),
        ("groups: [{name: g, rules: [{alert: A, expr: up, annotations: {s: '{{ if 1 }}'}}]}]",
         "template of 's': unsupported template action"),
        ("groups: [{name: g, rules: [{alert: A, expr: up, annotations: {s: '{{ query \"x\" }}'}}]}]",
         "unsupported template function 'query'"),
        ("groups: [{name: g, rules: []}, {name: g, rules: []}]", 'group "g": repeated'),
        ("groups: [{name: g, rules: [{alert: A, expr: up, severity: page}]}]",
         "unknown field(s) severity"),
        ("groups: [{name: g, interval: -1m, rules: []}]", "not a valid duration"),
        ("groups: [{name: '', rules: []}]", "groupname must not be empty"),
        ("groups: [{", "not valid YAML"),
    ],
)  # fmt: skip
def test_invalid_rule_files_are_refused_naming_file_group_and_rule(
    text: str, message: str, tmp_path: Path
) -> None:
    with pytest.raises(RuleFileError) as info:
        parse_rule_file(text, "r.yml")
    assert message in str(info.value)
    path = tmp_path / "r.yml"
    path.write_text(text)
    assert _promtool_check(path).returncode != 0 or "query" in text or "if 1" in text


def test_humanize_and_friends_match_go() -> None:
    cases = {
        "{{ $value | humanize }}": [(1234567.0, "1.235M"), (0.000123, "123u"), (0, "0")],
        "{{ $value | humanize1024 }}": [(1048576, "1Mi"), (512, "512")],
        "{{ $value | humanizeDuration }}": [(93784, "1d 2h 3m 4s"), (0.25, "250ms")],
        "{{ $value | humanizePercentage }}": [(0.0734, "7.34%")],
        "{{ $value }}": [(3.0, "3"), (0.1, "0.1"), (float("nan"), "NaN")],
        '{{ printf "%.1f" $value }}': [(2.345, "2.3")],
        "{{ $labels.job | toUpper }}": [(1, "API")],
    }
    for text, expected in cases.items():
        for value, out in expected:
            assert Template(text).render({"job": "api"}, value) == out, (text, value)
    with pytest.raises(TemplateError):
        Template("{{ $labels.job")


def test_annotations_render_as_a_real_prometheus_renders_them(tmp_path: Path) -> None:
    binary = require_binary("prometheus", "apt-get install prometheus")
    values = {"big": "1234567.891", "small": "0.000321", "ratio": "0.4567", "secs": "93784.5"}
    annotations = {
        "plain": "{{ $labels.case }}={{ $value }}",
        "humanize": "{{ $value | humanize }}",
        "h1024": "{{ $value | humanize1024 }}",
        "duration": "{{ $value | humanizeDuration }}",
        "percent": "{{ $value | humanizePercentage }}",
        "printf": '{{ printf "%.2f" $value }}',
        "upper": "{{ $labels.case | toUpper }}",
    }
    rules = [
        {"alert": f"T_{case}", "expr": f'label_replace(vector({v}), "case", "{case}", "", "")',
         "annotations": annotations}
        for case, v in values.items()
    ]  # fmt: skip
    path = tmp_path / "templates.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "t", "interval": "1s", "rules": rules}]}))
    [group] = load_rule_files([str(path)])
    config = tmp_path / "prometheus.yml"
    config.write_text(
        yaml.safe_dump({"global": {"evaluation_interval": "1s"}, "rule_files": [str(path)]})
    )
    port = free_port()
    cmd = [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
           f"--web.listen-address=127.0.0.1:{port}"]  # fmt: skip
    with run_server(cmd, ready_url=f"http://127.0.0.1:{port}/-/ready", timeout=60):

        def alerts() -> list[dict[str, object]]:
            body = httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts").json()
            found: list[dict[str, object]] = body["data"]["alerts"]
            return found if len(found) == len(values) else []

        theirs = wait_for(alerts, timeout=30, what="Prometheus' alerts")
    for alert in theirs:
        labels: dict[str, str] = alert["labels"]  # type: ignore[assignment]
        rule = next(r for r in group.rules if r.name == labels["alertname"])
        value = float(values[labels["case"]])
        ours = {
            k: Template(t).render({"case": labels["case"]}, value)
            for k, t in rule.annotations.items()  # type: ignore[union-attr]
        }
        assert ours == alert["annotations"], labels["case"]
