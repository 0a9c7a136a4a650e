"""Start the example services as real servers and stop every process they started.

Each service runs in its own session (process group), so stopping it also stops what the
server forked (gunicorn's workers): ``SIGTERM`` to the group, then ``SIGKILL`` to whatever
is still there after a grace period. Output goes to a file that the demo tails.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def find_examples_dir(explicit: str | None = None) -> Path:
    """Where ``fastapi_gateway.py`` and ``flask_users.py`` live.

    Looked up in order: ``--examples-dir``, ``$BERRYS_MONITORING_EXAMPLES``, ``./examples``,
    and the ``examples/`` folder of the source checkout this package was installed from.
    """
    candidates = [explicit, os.environ.get("BERRYS_MONITORING_EXAMPLES")]
    candidates += [
        str(Path.cwd() / "examples"),
        str(Path(__file__).resolve().parents[3] / "examples"),
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "fastapi_gateway.py").is_file():
            return Path(candidate).resolve()
    raise FileNotFoundError(
        "cannot find the example services (examples/fastapi_gateway.py): run the demo from "
        "the berrys-monitoring source checkout or pass --examples-dir"
    )


@dataclass
class Service:
    """One running example service."""

    name: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def health_url(self) -> str:
        return self.base_url + "/health"

    @property
    def metrics_url(self) -> str:
        return self.base_url + "/metrics"

    def output_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return ""


def _die_with_parent() -> None:
    """In the child, before exec: on Linux, get SIGTERM when the demo dies, even by SIGKILL,
    so a killed demo leaves no servers behind (gunicorn's master then stops its workers)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # best effort: the normal stop path still cleans up


def start_service(
    name: str, cmd: list[str], port: int, env: dict[str, str], log_path: Path, cwd: Path
) -> Service:
    """Start ``cmd`` in a new session with its output (stdout and stderr) in ``log_path``."""
    full_env = dict(os.environ)
    full_env.update(env)
    full_env["PYTHONUNBUFFERED"] = "1"
    with open(log_path, "wb") as fh:
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_die_with_parent,  # runs before exec; the demo starts no threads before
        )
    return Service(name, port, proc, log_path)


def wait_ready(service: Service, timeout: float = 30.0) -> None:
    """Wait until the service answers HTTP at all (any status: a failing health is news)."""
    deadline = time.monotonic() + timeout
    while True:
        if service.proc.poll() is not None:
            raise RuntimeError(
                f"{service.name} exited with code {service.proc.returncode}:\n"
                + service.output_tail()
            )
        try:
            httpx.get(service.health_url, timeout=1.0)
            return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{service.name} did not answer on {service.base_url} within {timeout:.0f}s:\n"
                + service.output_tail()
            )
        time.sleep(0.1)


def stop_service(service: Service, grace: float = 5.0) -> None:
    """Terminate the service's whole process group; kill what outlives ``grace`` seconds."""
    pgid = service.proc.pid
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        service.proc.wait(grace)
    except subprocess.TimeoutExpired:
        pass
    # The leader may be gone while a forked worker lingers: SIGKILL the group regardless.
    deadline = time.monotonic() + grace
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        service.proc.wait(2)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def gateway_command(examples: Path, port: int) -> list[str]:
    # uvicorn's own access log is off: the service writes a structured one instead.
    return [
        sys.executable, "-m", "uvicorn", "fastapi_gateway:app",
        "--app-dir", str(examples), "--host", "127.0.0.1", "--port", str(port),
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def users_command(examples: Path, port: int) -> list[str]:
    # Two gthread workers: the summary then shows that /metrics totals span both workers.
    conf = examples / "gunicorn_conf.py"
    config = ["--config", str(conf)] if conf.is_file() else []
    return [
        sys.executable, "-m", "gunicorn", *config, "flask_users:app",
        "--chdir", str(examples), "--bind", f"127.0.0.1:{port}",
        "--workers", "2", "--worker-class", "gthread", "--threads", "4",
        "--log-level", "warning",
    ]  # fmt: skip
