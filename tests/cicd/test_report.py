"""Reports: verdict arithmetic, JSON, the GitHub step summary budget, the live display."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from berrys_monitoring.cicd import CheckResult, Report
from berrys_monitoring.cicd._progress import ProgressDisplay


def _report(*statuses: str) -> Report:
    r = Report("verify", "http://127.0.0.1:1")
    for i, s in enumerate(statuses):
        r.add(CheckResult(f"c{i}", s, f"summary {i}"))
    return r


def test_fail_beats_inconclusive_beats_pass_and_warn_is_a_pass() -> None:
    assert _report("pass", "warn").exit_code == 0
    assert _report("pass", "inconclusive").exit_code == 2
    assert _report("inconclusive", "fail", "pass").exit_code == 1
    assert _report().verdict == "inconclusive"  # nothing checked is not a pass
    assert _report("skipped").verdict == "inconclusive"


def test_json_report_round_trips_with_verdict_and_checks(tmp_path: Path) -> None:
    r = _report("pass", "fail")
    r.data["performance"] = {"p95_ms": 12.0}
    r.write_json(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["verdict"] == "fail" and data["exit_code"] == 1
    assert [c["status"] for c in data["checks"]] == ["pass", "fail"]
    assert data["performance"]["p95_ms"] == 12.0


def test_step_summary_is_appended_escaped_and_kept_under_one_mib(
    tmp_path: Path, monkeypatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    r = _report("pass")
    r.add(CheckResult("pipes", "fail", "a | b\nc"))
    assert r.append_step_summary()
    text = summary.read_text()
    assert "a \\| b<br>c" in text
    huge = Report("canary", "x")
    huge.add(CheckResult("big", "fail", "y" * 2_000_000))
    assert huge.append_step_summary()
    assert summary.stat().st_size < 1024 * 1024
    assert "truncated: see the --json report" in summary.read_text()
    # A file already near the limit is left alone rather than pushed over it.
    summary.write_text("z" * (1024 * 1024 - 100))
    assert not r.append_step_summary()
    assert summary.stat().st_size == 1024 * 1024 - 100


def test_no_step_summary_without_the_variable(monkeypatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    assert not _report("pass").append_step_summary()


def test_progress_is_live_on_a_terminal_and_plain_lines_otherwise() -> None:
    tty = io.StringIO()
    with ProgressDisplay(Console(file=tty, force_terminal=True, width=100)) as p:
        step = p.start("performance", total=10)
        p.advance(step, 10)
        p.finish(step, "pass", "p95 3 ms")
    assert "\x1b[" in tty.getvalue() and "performance: pass" in tty.getvalue()
    plain = io.StringIO()
    with ProgressDisplay(Console(file=plain, force_terminal=False)) as p:
        step = p.start("health")
        p.finish(step, "fail", "HTTP 503")
    assert plain.getvalue() == (
        "[berrys-monitoring] health …\n[berrys-monitoring] health: fail — HTTP 503\n"
    )
