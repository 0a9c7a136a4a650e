"""`berrys-monitoring canary` against real services on loopback (short runs: 6 s, rate 25)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cicd._subjects import subject
from tests.support.servers import free_port

from berrys_monitoring.cli import main

SHORT = [
    "--monitor-duration",
    "6",
    "--interval",
    "2",
    "--rate",
    "25",
    "--path",
    "/users",
    "--quiet",
]

# Starts several real servers (gunicorn services, Prometheus).
pytestmark = pytest.mark.slow


def _canary(canary: str, production: str, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    out = tmp_path / "canary.json"
    argv = ["canary", "--canary-url", canary, "--production-url", production, *SHORT]
    code = main([*argv, "--json", str(out), *extra])
    return code, json.loads(out.read_text())


def _metric(report: dict, name: str) -> dict:
    return next(c for c in report["checks"] if c["name"] == name)


def test_an_identical_canary_passes_every_metric(tmp_path: Path) -> None:
    with (
        subject(EXAMPLE_EXTRA_LATENCY_MS="20") as prod,
        subject(EXAMPLE_EXTRA_LATENCY_MS="20") as can,
    ):
        code, report = _canary(can, prod, tmp_path, "--metric", "response_size")
    assert code == 0, json.dumps(report["checks"], indent=1)
    assert [c["status"] for c in report["checks"]] == ["pass", "pass", "pass"]
    latency = _metric(report, "latency")["details"]
    assert 0.8 < latency["ratio"] < 1.2
    sides = report["canary"]["sides"]
    # Same rate to both sides, interleaved: within one tick of each other.
    assert abs(sides["canary"]["requests"] - sides["production"]["requests"]) <= 1
    assert sides["canary"]["requests"] >= 140
    assert not report["canary"]["early_stopped"]
    assert len(report["canary"]["rounds"]) >= 2  # judged at every interval


def test_a_canary_with_50_percent_more_latency_fails_and_stops_early(tmp_path: Path) -> None:
    with (
        subject(EXAMPLE_EXTRA_LATENCY_MS="20") as prod,
        subject(EXAMPLE_EXTRA_LATENCY_MS="30") as can,
    ):
        code, report = _canary(can, prod, tmp_path)
    assert code == 1
    latency = _metric(report, "latency")
    assert latency["status"] == "fail"
    d = latency["details"]
    assert d["ratio"] > 1.2 and d["p_value"] < 0.05 and d["threshold"] == 1.2
    assert d["value"] > d["baseline"]
    assert "above the 1.2x threshold" in latency["summary"]
    assert report["canary"]["early_stopped"]
    assert report["canary"]["elapsed_s"] < 6


def test_a_canary_answering_5_percent_errors_fails_on_error_rate(tmp_path: Path) -> None:
    # The example service draws its errors at random: 8 s at 50/s (~400 per side) make a
    # missed detection a one-in-thousands event (see test_accuracy / bench_canary).
    with subject() as prod, subject(EXAMPLE_ERROR_RATE="0.05") as can:
        code, report = _canary(can, prod, tmp_path, "--rate", "50", "--monitor-duration", "8")
    assert code == 1
    errors = _metric(report, "error_rate")
    assert errors["status"] == "fail"
    assert errors["details"]["baseline"] == 0.0
    assert 0.02 <= errors["details"]["value"] <= 0.09
    assert "Fisher p=" in errors["summary"]


def test_a_canary_returning_no_data_fails_by_default(tmp_path: Path) -> None:
    nothing = f"http://127.0.0.1:{free_port()}"  # no server listens there
    with subject() as prod:
        code, report = _canary(nothing, prod, tmp_path, "--monitor-duration", "2")
    assert code == 1
    latency = _metric(report, "latency")
    assert latency["status"] == "fail"
    assert latency["details"]["verdict"] == "no-data"
    assert "no responses from canary" in latency["summary"] and "ConnectError" in latency["summary"]


def test_no_data_is_inconclusive_when_so_configured(tmp_path: Path) -> None:
    nothing = f"http://127.0.0.1:{free_port()}"
    with subject() as prod:
        code, report = _canary(
            nothing,
            prod,
            tmp_path,
            "--monitor-duration",
            "2",
            "--on-insufficient-data",
            "inconclusive",
        )
    assert code == 2
    assert report["verdict"] == "inconclusive"
    assert {c["status"] for c in report["checks"]} == {"inconclusive"}


def test_too_few_samples_is_never_a_silent_pass(tmp_path: Path) -> None:
    with subject() as prod, subject() as can:
        code, report = _canary(can, prod, tmp_path, "--rate", "2", "--monitor-duration", "3")
    assert code == 1
    latency = _metric(report, "latency")
    assert latency["details"]["verdict"] == "too-few-samples"
    assert "need 20 each" in latency["summary"]


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--performance-threshold", "0.8"], "ratio >= 1"),
        (["--metrics-source", "hub"], "not available yet"),
        (["--metrics-source", "prometheus"], "needs --metrics-url"),
    ],
)
def test_canary_configuration_errors_exit_2(extra, message, capsys) -> None:
    argv = [
        "canary",
        "--canary-url",
        "http://127.0.0.1:1",
        "--production-url",
        "http://127.0.0.1:2",
    ]
    assert main([*argv, "--quiet", *extra]) == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_prometheus_is_no_data_never_a_pass(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    code, report = _canary(
        "http://127.0.0.1:8001", "http://127.0.0.1:8002", tmp_path,
        "--metrics-source", "prometheus", "--metrics-url", nowhere,
        "--monitor-duration", "1", "--interval", "1",
    )  # fmt: skip
    assert code == 1
    latency = _metric(report, "latency")
    assert latency["details"]["verdict"] == "no-data"
    assert latency["summary"].startswith("no-data: Prometheus query failed")


def test_passwords_in_canary_and_prometheus_urls_stay_out_of_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"http://reader:prom-s3cret@127.0.0.1:{free_port()}"
    code, report = _canary(
        "http://deploy:can-s3cret@127.0.0.1:8001", "http://deploy:prod-s3cret@127.0.0.1:8002",
        tmp_path, "--metrics-source", "prometheus", "--metrics-url", nowhere,
        "--monitor-duration", "1", "--interval", "1",
    )  # fmt: skip
    assert code == 1
    out = capsys.readouterr()
    for text in (json.dumps(report), out.out, out.err):
        assert "s3cret" not in text
    assert report["canary"]["canary_url"] == "http://deploy:***@127.0.0.1:8001"
    assert report["canary"]["prometheus"].startswith("http://reader:***@127.0.0.1:")
