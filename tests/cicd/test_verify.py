"""`berrys-monitoring verify` against real services on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest
from tests.cicd._subjects import subject
from tests.support.servers import PYTHON, free_port, run_server

from berrys_monitoring.cicd import verify_deployment
from berrys_monitoring.cli import main

FAST = ["--path", "/users", "--requests", "60", "--concurrency", "4", "--quiet"]


def _verify(url: str, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "report.json"
    code = main(["verify", "--url", url, *FAST, "--json", str(out), *extra])
    return code, json.loads(out.read_text())


def _check(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def test_a_healthy_deployment_passes_all_three_checks(tmp_path: Path) -> None:
    with subject() as url:
        code, report = _verify(url, tmp_path)
    assert code == 0, report
    assert report["verdict"] == "pass"
    assert [c["status"] for c in report["checks"]] == ["pass", "pass", "pass"]
    perf = report["performance"]
    assert perf["requests"] == 60 and perf["errors"] == 0
    assert 0 < perf["p50_ms"] <= perf["p95_ms"] <= perf["p99_ms"]
    assert perf["throughput_rps"] > 0


def test_a_failing_health_check_fails_and_names_the_component(tmp_path: Path) -> None:
    with subject(EXAMPLE_FAIL_HEALTH="1") as url:
        code, report = _verify(url, tmp_path, "--health-timeout", "1", "--no-performance")
    assert code == 1
    health = _check(report, "health")
    assert health["status"] == "fail"
    assert "config:responseTime (fail): EXAMPLE_FAIL_HEALTH is set" in health["summary"]
    assert health["details"]["attempts"] >= 2  # it retried before giving up
    assert "user-store" not in health["summary"]  # only the failing component


def test_health_is_retried_with_backoff_until_the_deployment_comes_up(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    result: dict = {}
    t = threading.Thread(
        target=lambda: result.update(
            r=verify_deployment(url, metrics=False, performance=False, health_timeout=30)
        )
    )
    t.start()
    time.sleep(1.0)  # the deployment is still starting
    cmd = [PYTHON, "-m", "uvicorn", "tests.cicd.subject_app:app", "--port", str(port)]
    # (the small ASGI subject: it starts in well under a second)
    with run_server(cmd, cwd=Path(__file__).parents[2], ready_port=port):
        t.join(60)
    report = result["r"]
    assert report.verdict == "pass"
    assert report.check("health").details["attempts"] > 1


def test_missing_metrics_endpoint_fails_naming_the_http_status(tmp_path: Path) -> None:
    with subject(EXAMPLE_PLAIN="1") as url:
        code, report = _verify(url, tmp_path, "--no-performance")
    assert code == 1
    assert _check(report, "health")["status"] == "pass"  # a plain 200 JSON health is fine
    assert _check(report, "metrics")["details"]["http_status"] == 404
    metrics = _check(report, "metrics")
    assert metrics["status"] == "fail" and "HTTP 404" in metrics["summary"]


def test_a_missing_required_metric_fails_and_is_named(tmp_path: Path) -> None:
    with subject() as url:
        code, report = _verify(
            url, tmp_path, "--no-performance", "--require-metric", "orders_placed_total"
        )
    assert code == 1
    metrics = _check(report, "metrics")
    assert metrics["summary"].startswith("missing required metrics: orders_placed_total")
    assert metrics["details"]["missing"] == ["orders_placed_total"]


def test_a_slow_deployment_fails_on_p95(tmp_path: Path) -> None:
    with subject(EXAMPLE_EXTRA_LATENCY_MS="120") as url:
        code, report = _verify(url, tmp_path, "--max-p95-ms", "100")
    assert code == 1
    perf = _check(report, "performance")
    assert perf["status"] == "fail"
    assert "p95" in perf["summary"] and "> max 100 ms" in perf["summary"]


def test_an_erroring_deployment_fails_on_error_rate(tmp_path: Path) -> None:
    # The deterministic subject: exactly every tenth request fails.
    with subject("asgi", EXAMPLE_ERROR_RATE="0.1") as url:
        code, report = _verify(url, tmp_path)
    assert code == 1
    perf = _check(report, "performance")
    assert "error rate 10.00% > max 1.00%" in perf["summary"]
    assert perf["details"]["status_counts"]["500"] == 6


def test_a_deployment_slower_than_its_baseline_fails_by_ratio(tmp_path: Path) -> None:
    base_file = tmp_path / "baseline.json"
    with subject(EXAMPLE_EXTRA_LATENCY_MS="5") as url:
        main(["verify", "--url", url, *FAST, "--json", str(base_file)])
    assert json.loads(base_file.read_text())["performance"]["p95_ms"] > 0
    # 300 ms more per request: the ratio stays above 1.5 unless a loaded machine adds
    # more than half a second to every baseline request.
    with subject(EXAMPLE_EXTRA_LATENCY_MS="300") as url:
        code, report = _verify(url, tmp_path, "--baseline", str(base_file), "--threshold", "1.5")
    assert code == 1
    perf = _check(report, "performance")
    assert perf["details"]["ratio"] > 1.5
    assert "the baseline, above the 1.5x threshold" in perf["summary"]


@pytest.mark.parametrize(
    "argv,message",
    [
        (["--url", "ftp://x"], "must be an http(s) URL"),
        (["--url", "http://127.0.0.1:1", "--metrics-source", "hub"], "not available yet"),
        (["--url", "http://127.0.0.1:1", "--metrics-source", "prometheus"], "needs --metrics-url"),
        (["--url", "http://127.0.0.1:1", "--requests", "0"], "at least 1"),
    ],
)
def test_configuration_errors_exit_2_with_a_clear_message(argv, message, capsys) -> None:
    assert main(["verify", *argv, "--quiet"]) == 2
    assert message in capsys.readouterr().err


def test_the_console_script_prints_plain_progress_a_table_and_a_step_summary(
    tmp_path: Path,
) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# earlier step\n")
    env = dict(os.environ, GITHUB_STEP_SUMMARY=str(summary), COLUMNS="200")
    exe = Path(PYTHON).parent / "berrys-monitoring"
    with subject() as url:
        proc = subprocess.run(
            [str(exe), "verify", "--url", url, "--path", "/users", "--requests", "30"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # Not a terminal: one plain line per step on stderr, no animation control codes.
    assert "[berrys-monitoring] health: pass" in proc.stderr
    assert "\x1b[" not in proc.stderr
    assert "PASS" in proc.stdout and "performance" in proc.stdout
    md = summary.read_text()
    assert md.startswith("# earlier step\n")
    assert "berrys-monitoring verify: pass" in md and "| health | ✅ pass |" in md


def test_duration_mode_spreads_load_over_every_path_and_reports_each(tmp_path: Path) -> None:
    with subject() as url:
        code, report = _verify(
            url, tmp_path, "--no-health", "--no-metrics", "--path", "/users/1",
            "--duration", "1", "--concurrency", "2",
        )  # fmt: skip
    assert code == 0, report["checks"]
    per_path = report["performance"]["per_path"]
    assert set(per_path) == {"/users", "/users/1"}
    assert abs(per_path["/users"]["requests"] - per_path["/users/1"]["requests"]) <= 2
    assert per_path["/users/1"]["status_counts"] == {"200": per_path["/users/1"]["requests"]}


def test_timing_only_404s_is_a_warning_that_names_the_fix(tmp_path: Path) -> None:
    with subject() as url:
        out = tmp_path / "r.json"
        code = main(["verify", "--url", url, "--no-health", "--no-metrics", "--quiet",
                     "--requests", "20", "--json", str(out)])  # fmt: skip
    report = json.loads(out.read_text())
    assert code == 0  # a warning does not fail the pipeline
    perf = _check(report, "performance")
    assert perf["status"] == "warn"
    assert "every response was 404: measure a real route with --path" in perf["summary"]


def test_a_password_in_the_deployment_url_stays_out_of_reports_and_summaries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # CI step summaries and logs are widely readable; basic-auth URLs are common for
    # staging deployments.
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    with subject() as url:
        secret_url = url.replace("http://", "http://deployer:s3cr3t-pw@")
        code, report = _verify(secret_url, tmp_path)
        # A failing metrics fetch names the URL too: the password must not ride along.
        code_missing, missing = _verify(
            secret_url, tmp_path, "--no-health", "--no-performance", "--metrics-path", "/nope"
        )
    assert code == 0, report
    assert code_missing == 1
    out = capsys.readouterr()
    for text in (json.dumps(report), json.dumps(missing), summary.read_text(), out.out, out.err):
        assert "s3cr3t-pw" not in text
    assert report["target"] == url.replace("http://", "http://deployer:***@")
    assert "deployer:***@" in _check(missing, "metrics")["summary"]
