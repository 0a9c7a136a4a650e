"""A real gunicorn with several sync workers: exact totals, no lingering dead-worker gauges."""

from __future__ import annotations

import http.client
import os
import signal
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.support.servers import free_port, require_binary, run_server, wait_for

HERE = Path(__file__).parent
N = 300


@pytest.fixture(autouse=True)
def _no_leftover_directories() -> Iterator[None]:
    # The servers these tests start and stop get automatic directories in the temp dir.
    from berrys_monitoring.metrics._multiprocess import remove_stale_dirs

    yield
    remove_stale_dirs()


def scrape(base: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    text = httpx.get(f"{base}/metrics", timeout=10).text
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out.setdefault(s.name, {})[tuple(sorted(s.labels.items()))] = s.value
    return out


def fire(base: str, n: int) -> None:
    host, port = base.removeprefix("http://").split(":")

    def one(_: int) -> int:
        # A new connection each time, so requests spread over the workers.
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request("GET", "/work")
            return conn.getresponse().status
        finally:
            conn.close()

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(n))) == {200}


def worker_pids(base: str) -> set[str]:
    return {dict(k)["pid"] for k in scrape(base).get("worker_up", {})}


def gunicorn_cmd(port: int, *extra: str) -> list[str]:
    return [
        require_binary("gunicorn", "pip install gunicorn"),
        "--workers",
        "3",
        "--bind",
        f"127.0.0.1:{port}",
        "--chdir",
        str(HERE),
        *extra,
        "mp_app:app",
    ]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() != "prometheus_multiproc_dir"}
    env.update(extra)
    return env


def check_totals_and_dead_worker(
    base: str, kill_signal: signal.Signals, mp_dir: str | None = None
) -> None:
    assert httpx.get(f"{base}/info").text.split()[1] == "1"  # multiprocess mode is on
    wait_for(lambda: len(worker_pids(base)) == 3, what="three workers' gauges")
    fire(base, N)
    for _ in range(5):  # whichever worker answers the scrape reports the same totals
        per_worker = scrape(base)["mp_requests_total"]
        assert sum(per_worker.values()) == N
    assert len(per_worker) >= 2, "requests should have spread over several workers"
    for _ in range(5):  # the library's own counts too, whichever worker answers
        families = scrape(base)
        events = families["berrys_monitoring_events_total"]
        assert events[(("component", "mp_app"), ("event", "work"))] == N
        errors = families["berrys_monitoring_internal_errors_total"]
        assert errors[(("component", "mp_app"),)] == N

    victim = sorted(worker_pids(base))[0]
    os.kill(int(victim), kill_signal)
    if mp_dir is not None:
        # Before any scrape: only gunicorn's child_exit hook can have removed the file.
        live_file = Path(mp_dir) / f"gauge_liveall_{victim}.db"
        wait_for(lambda: not live_file.exists(), what="child_exit to remove the live gauge")
    wait_for(lambda: victim not in worker_pids(base), what="the dead worker's gauge to go")
    wait_for(lambda: len(worker_pids(base)) == 3, what="gunicorn's replacement worker")
    # The dead worker's requests still count in the total.
    assert sum(scrape(base)["mp_requests_total"].values()) == N


@pytest.mark.slow
def test_gunicorn_workers_are_set_up_automatically() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with run_server(gunicorn_cmd(port), env=clean_env(), ready_url=f"{base}/info"):
        # SIGKILL: no hook runs; the scrape itself notices the pid is gone.
        check_totals_and_dead_worker(base, signal.SIGKILL)


@pytest.mark.slow
def test_gunicorn_with_explicit_dir_and_child_exit_hook() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as mp_dir:
        env = clean_env(PROMETHEUS_MULTIPROC_DIR=mp_dir)
        cmd = gunicorn_cmd(port, "--config", str(HERE / "gunicorn_conf.py"))
        with run_server(cmd, env=env, ready_url=f"{base}/info"):
            check_totals_and_dead_worker(base, signal.SIGTERM, mp_dir)
            assert any(f.startswith("counter_") for f in os.listdir(mp_dir))


@pytest.mark.slow
def test_uvicorn_workers_are_set_up_automatically() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        require_binary("uvicorn", "pip install uvicorn"),
        "--workers",
        "3",
        "--port",
        str(port),
        "--app-dir",
        str(HERE),
        "--log-level",
        "warning",
        "mp_asgi:app",
    ]
    with run_server(cmd, env=clean_env(), ready_url=f"{base}/info"):
        check_totals_and_dead_worker(base, signal.SIGKILL)


@pytest.mark.slow
def test_gunicorn_preload_shares_one_directory_between_master_and_workers() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = gunicorn_cmd(port, "--preload")
    with run_server(cmd, env=clean_env(), ready_url=f"{base}/info"):
        assert httpx.get(f"{base}/info").text.split()[1] == "1"
        fire(base, N)
        for _ in range(5):
            per_worker = scrape(base)["mp_requests_total"]
            assert sum(per_worker.values()) == N
        assert len(per_worker) >= 2


def test_setup_multiprocess_sums_forked_children(tmp_path: Path) -> None:
    import subprocess
    import sys

    # A fresh interpreter: multiprocess mode must be chosen before any metric exists.
    script = f"""
import os
import prometheus_client  # imported first on purpose: setup_multiprocess still switches it
from berrys_monitoring.metrics import (
    setup_multiprocess, increment_counter, gauge, metrics_exposition, mark_process_dead,
)
setup_multiprocess({str(tmp_path)!r})
pids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        increment_counter("forked_jobs_total", value=i + 1)
        gauge("busy", 1)
        os._exit(0)
    pids.append(pid)
for pid in pids:
    os.waitpid(pid, 0)
mark_process_dead(pids[0])
print(metrics_exposition()[0].decode())
"""
    out = subprocess.run(
        [sys.executable, "-c", script], env=clean_env(), capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert "forked_jobs_total 6.0" in out.stdout
    assert "busy" not in out.stdout  # every child is dead: no live gauge lingers


def test_directories_of_servers_that_are_gone_are_removed(tmp_path: Path) -> None:
    import subprocess
    import sys

    from berrys_monitoring.metrics._multiprocess import _start_time, remove_stale_dirs

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = _start_time(alive.pid)
        keep = tmp_path / f"berrys-monitoring-metrics-{alive.pid}-{started}"
        gone = tmp_path / f"berrys-monitoring-metrics-{dead.pid}-{_start_time(os.getpid())}"
        # The pid is in use again, by a process that started at another time.
        reused = tmp_path / f"berrys-monitoring-metrics-{alive.pid}-{int(started) + 1}"
        manual = tmp_path / f"berrys-monitoring-metrics-{dead.pid}"  # setup_multiprocess()
        other = tmp_path / "something-else-1-2"
        for d in (keep, gone, reused, manual, other):
            d.mkdir()
            (d / "counter_1.db").write_bytes(b"x")
        assert remove_stale_dirs(str(tmp_path)) == 2
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            [keep.name, manual.name, other.name]
        )
    finally:
        alive.kill()
        alive.wait()


@pytest.mark.slow
def test_the_on_exit_hook_removes_the_run_s_directory_when_gunicorn_stops() -> None:
    import glob

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    conf = HERE.parent.parent / "examples" / "gunicorn_conf.py"
    cmd = gunicorn_cmd(port, "--config", str(conf))
    pattern = os.path.join(tempfile.gettempdir(), "berrys-monitoring-metrics-*")
    with run_server(cmd, env=clean_env(), ready_url=f"{base}/info") as server:
        fire(base, 10)
        master = server.proc.pid
        ours = [d for d in glob.glob(pattern) if os.path.basename(d).split("-")[3] == str(master)]
        assert len(ours) == 1 and os.listdir(ours[0])
        server.stop()
    assert not os.path.exists(ours[0])
