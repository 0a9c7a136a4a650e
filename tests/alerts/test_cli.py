"""The ``alerts`` command on a real store file, run as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from berrys_monitoring.alerts import AlertManager, AlertState

# Until the command is registered in cli.COMMANDS, drive the module's own parser.
RUNNER = (
    "import argparse, sys; from berrys_monitoring.alerts import _cli; "
    "p = argparse.ArgumentParser(prog='alerts'); _cli.configure_parser(p); "
    "sys.exit(_cli.run(p.parse_args(sys.argv[1:])))"
)


def alerts_cmd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUNNER, *args], capture_output=True, text=True, timeout=60, env=env
    )


def test_list_show_ack_resolve_on_a_store_written_by_a_service(tmp_path: Path) -> None:
    db = tmp_path / "alerts.db"
    m = AlertManager(store=db)
    cpu = m.trigger("High CPU Usage", "95%", "warning", {"service": "api"})
    old = m.trigger("Old one", "x", "info", {})
    m.resolve(old, "gone")
    m.shutdown(1)

    out = alerts_cmd("--store", str(db), "list")
    assert out.returncode == 0, out.stderr
    assert cpu in out.stdout and "High CPU Usage" in out.stdout and old not in out.stdout

    out = alerts_cmd("--store", str(db), "list", "--all", "--json")
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert {r["id"] for r in rows} == {cpu, old}

    assert alerts_cmd("--store", str(db), "ack", cpu, "-m", "on it").returncode == 0
    out = alerts_cmd("--store", str(db), "show", cpu, "--json")
    shown = json.loads(out.stdout)
    assert shown["state"] == "acknowledged"
    assert shown["history"][-1]["message"] == "on it"

    out = alerts_cmd("--store", str(db), "resolve", cpu, "-m", "scaled out")
    assert out.returncode == 0 and "resolved" in out.stdout
    reread = AlertManager(store=db)
    alert = reread.get(cpu)
    assert alert is not None and alert.state is AlertState.RESOLVED
    reread.shutdown(1)

    out = alerts_cmd("--store", str(db), "show", "nope")
    assert out.returncode == 1 and "no alert nope" in out.stderr


def test_missing_store_is_a_usage_error(tmp_path: Path) -> None:
    out = alerts_cmd("--store", str(tmp_path / "missing.db"), "list")
    assert out.returncode == 2 and "no alert store" in out.stderr


def test_alerts_command_is_reachable_through_the_installed_entry_point(tmp_path) -> None:
    import subprocess
    import sys

    from berrys_monitoring.alerts import AlertManager, AlertSeverity

    store = tmp_path / "alerts.db"
    manager = AlertManager(store=store)
    alert_id = manager.trigger("Disk almost full", "92% used", AlertSeverity.WARNING, {})
    manager.shutdown()
    out = subprocess.run(
        [sys.executable, "-m", "berrys_monitoring", "alerts", "--store", str(store), "list"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Disk almost full" in out
    assert alert_id[:8] in out


def test_a_reader_that_goes_away_gets_no_traceback(tmp_path: Path) -> None:
    # `berrys-monitoring alerts list | head -1`: the pipe closes after the first line.
    db = tmp_path / "alerts.db"
    m = AlertManager(store=db)
    for n in range(3000):
        m.trigger(f"alert {n}", "x" * 40, "warning", {"n": str(n)})
    m.shutdown(5)
    # Far more than a pipe holds (64 KiB), so the command is still writing when the
    # reader goes away.
    cmd = [
        sys.executable, "-m", "berrys_monitoring", "alerts", "--store", str(db),
        "list", "--limit", "3000", "--json",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert first.strip()
    assert "Traceback" not in err and "BrokenPipeError" not in err, err
    assert proc.returncode == 141
