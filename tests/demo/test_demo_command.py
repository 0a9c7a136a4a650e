"""``berrys-monitoring demo`` as a real subprocess: real example services on real ports.

The services are ``examples/fastapi_gateway.py`` and ``examples/flask_users.py``; setting
``BERRYS_MONITORING_EXAMPLES`` points the demo at another folder holding the same two files.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.servers import REPO, VENV_BIN

_EXAMPLES = Path(os.environ.get("BERRYS_MONITORING_EXAMPLES", REPO / "examples"))
pytestmark = [
    pytest.mark.slow,
    # The example services are part of this repository, not an external server.
    pytest.mark.skipif(
        not (_EXAMPLES / "fastapi_gateway.py").is_file()
        or not (_EXAMPLES / "flask_users.py").is_file(),
        reason="examples/fastapi_gateway.py and examples/flask_users.py are not written yet",
    ),
]

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def _demo_cmd(*args: str) -> list[str]:
    exe = VENV_BIN / "berrys-monitoring"
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "berrys_monitoring"]
    # The hub on any free port: 4318, the default, may be taken by a hub already running.
    port = [] if "--port" in args or "--no-hub" in args else ["--port", "0"]
    return [*base, "demo", *port, *args]


def _env(marker: str) -> dict[str, str]:
    env = dict(os.environ)
    # Every process the demo starts inherits this; afterwards none may still carry it.
    env["BERRYS_DEMO_TEST_MARKER"] = marker
    env.pop("COLUMNS", None)
    return env


@contextlib.contextmanager
def _ctrl_c_reaches_children() -> Iterator[None]:
    """Children started inside get Ctrl-C's default action, whatever this process has.

    A shell without job control (a CI script's ``cmd &``, ``make test &``) starts
    background commands with SIGINT ignored; children inherit that, and Python then
    installs no KeyboardInterrupt handler, so the demo could never see a Ctrl-C. A handled
    signal is reset to its default in the child at exec, an ignored one is not.
    """
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _start_demo(marker: str) -> subprocess.Popen[str]:
    """``berrys-monitoring demo`` with no duration, output piped, reachable by Ctrl-C."""
    with _ctrl_c_reaches_children():
        return subprocess.Popen(
            _demo_cmd(),
            cwd=REPO,
            env=_env(marker),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def _processes_with_marker(marker: str) -> list[int]:
    needle = f"BERRYS_DEMO_TEST_MARKER={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def _final_summary(output: str) -> dict[str, str]:
    assert "final summary:" in output, output
    final = output.split("final summary:", 1)[1]
    facts: dict[str, str] = {}
    for service in ("gateway", "users"):
        m = re.search(rf"\] {service}\s+requests=(\d+) .* health=(\w+)", final)
        assert m, f"no summary line for {service}:\n{output}"
        facts[f"{service}_requests"], facts[f"{service}_health"] = m.group(1), m.group(2)
    trace = re.search(r"trace_id_in_both=(\S+)", final)
    assert trace, output
    facts["trace"] = trace.group(1)
    return facts


def test_demo_runs_both_services_shows_their_traffic_and_leaves_no_process_behind(tmp_path):
    marker = uuid.uuid4().hex
    logs = tmp_path / "logs"
    proc = subprocess.run(
        _demo_cmd("--duration", "8", "--log-dir", str(logs)),
        cwd=REPO,
        env=_env(marker),
        capture_output=True,
        text=True,
        timeout=90,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output
    facts = _final_summary(proc.stdout)
    assert int(facts["gateway_requests"]) > 0
    assert int(facts["users_requests"]) > 0
    assert facts["gateway_health"] in ("pass", "warn")
    assert facts["users_health"] in ("pass", "warn")
    # The trace id shown really is in both services' own JSON log output.
    assert HEX32.match(facts["trace"]), output
    assert facts["trace"] in (logs / "gateway.log").read_text()
    assert facts["trace"] in (logs / "users.log").read_text()
    # The probe URLs are printed for both services.
    assert len(re.findall(r"http://127\.0\.0\.1:\d+/health", proc.stdout)) >= 2
    assert len(re.findall(r"http://127\.0\.0\.1:\d+/metrics", proc.stdout)) >= 2
    assert _processes_with_marker(marker) == []


@pytest.mark.parametrize(
    "sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=["ctrl-c", "sigterm", "sighup"]
)
def test_demo_without_duration_stops_everything_on_interrupt(sig):
    marker = uuid.uuid4().hex
    proc = _start_demo(marker)
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "requests=" in line:  # a first summary: services up, traffic flowing
                break
        assert any("services up" in line for line in seen), "".join(seen)
        assert len(_processes_with_marker(marker)) >= 3  # demo + gateway + users (+ worker)
        proc.send_signal(sig)
        rest, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    output = "".join(seen) + rest
    assert proc.returncode == 0, output
    assert "demo: stopped gateway" in output
    deadline = time.monotonic() + 5  # a killed worker may take a moment to be reaped
    while _processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with_marker(marker) == []


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux")
def test_services_stop_even_when_the_demo_is_killed_outright():
    marker = uuid.uuid4().hex
    proc = _start_demo(marker)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if "services up" in line:
                break
        assert len(_processes_with_marker(marker)) >= 3
        proc.kill()  # SIGKILL: no cleanup code of the demo runs
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 20
    while _processes_with_marker(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_with_marker(marker) == []


def test_demo_on_a_terminal_draws_the_live_view():
    import pty

    marker = uuid.uuid4().hex
    env = _env(marker)
    env.update(TERM="xterm-256color", COLUMNS="160", LINES="50")
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(
        _demo_cmd("--duration", "6"),
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=secondary,
        stderr=secondary,
    )
    os.close(secondary)
    chunks = []
    try:
        while True:
            try:
                data = os.read(primary, 65536)
            except OSError:  # EIO: the demo exited and closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        proc.wait(timeout=60)
    finally:
        os.close(primary)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    screen = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode("utf-8", "replace"))
    assert proc.returncode == 0, screen
    assert "berrys-monitoring demo" in screen  # the live table's title
    assert "trace seen in both services:" in screen
    assert "recent log lines" in screen
    assert "final summary:" in screen
    assert _processes_with_marker(marker) == []
