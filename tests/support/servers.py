"""Start and reach the real servers the tests use.

Outside CI a test whose server is missing skips with a message naming what to install;
with ``CI=true`` a missing server is a failure, never a skip.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
VENV_BIN = Path(sys.executable).parent


def missing(what: str, hint: str) -> None:
    """Skip (locally) or fail (in CI) because ``what`` is not available."""
    msg = f"{what} is not available: {hint}"
    if IN_CI:
        pytest.fail(msg + " (CI=true: a missing server is a failure)")
    pytest.skip(msg)


def require_binary(name: str, hint: str | None = None) -> str:
    """Path of an executable, or skip/fail naming how to install it."""
    path = shutil.which(name) or (str(VENV_BIN / name) if (VENV_BIN / name).exists() else None)
    if path is None:
        missing(name, hint or f"apt-get install {name}")
    assert path is not None
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_tcp(what: str, host: str, port: int, hint: str) -> None:
    if not port_open(host, port):
        missing(f"{what} at {host}:{port}", hint)


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.05, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; return that value."""
    deadline = time.monotonic() + timeout
    last_exc: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:
            last_exc = exc
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}: {last_exc!r}")


@contextlib.contextmanager
def uvicorn_in_thread(app: Any, **config: Any) -> Iterator[int]:
    """Serve ``app`` with a real uvicorn server on a thread of this process (so the test
    can look at the app's state and the server's event loop); yields the port.
    ``config`` goes to ``uvicorn.Config`` (``http="h11"``, ``log_config=None``, …)."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, **config))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: server.started, what="uvicorn")
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(10)


def wait_for_http(url: str, timeout: float = 20.0, status: int | None = None) -> httpx.Response:
    def probe() -> httpx.Response | None:
        r = httpx.get(url, timeout=2.0)
        if status is None or r.status_code == status:
            return r
        return None

    return wait_for(probe, timeout=timeout, what=url)


class ServerProcess:
    """A real server started as a subprocess; output goes to a log file for diagnosis."""

    def __init__(self, proc: subprocess.Popen[bytes], log_path: Path) -> None:
        self.proc = proc
        self.log_path = log_path

    def output(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@contextlib.contextmanager
def run_server(
    cmd: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | os.PathLike[str] | None = None,
    ready_url: str | None = None,
    ready_port: int | None = None,
    timeout: float = 30.0,
) -> Iterator[ServerProcess]:
    """Start ``cmd``, wait until ``ready_url`` answers (or ``ready_port`` accepts), stop at exit.

    ``env`` is added to the current environment. Fails with the server's output when it
    exits or does not become ready.
    """
    full_env = dict(os.environ)
    full_env.setdefault("PYTHONUNBUFFERED", "1")
    if env:
        full_env.update(env)
    log = Path(tempfile.mkstemp(prefix="server-", suffix=".log")[1])
    fh = open(log, "wb")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(list(cmd), env=full_env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
    server = ServerProcess(proc, log)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{cmd[0]} exited with {proc.returncode}:\n{server.output()[-4000:]}"
                )
            try:
                if ready_url is not None:
                    httpx.get(ready_url, timeout=1.0)
                    break
                if ready_port is not None and port_open("127.0.0.1", ready_port):
                    break
                if ready_url is None and ready_port is None:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{cmd[0]} not ready in {timeout}s:\n{server.output()[-4000:]}")
            time.sleep(0.05)
        yield server
    finally:
        server.stop()
        fh.close()
