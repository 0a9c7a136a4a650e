"""Real hub processes for the hub's tests: ``python -m berrys_monitoring hub`` on a free
port with a temporary data directory."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.support.servers import ServerProcess, free_port, run_server


@dataclass
class RunningHub:
    url: str
    port: int
    data_dir: Path
    server: ServerProcess
    token: str | None = None

    def client(self, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30.0, **kwargs)  # type: ignore[arg-type]


@contextlib.contextmanager
def start_hub(
    data_dir: Path,
    *args: str,
    token: str | None = None,
    port: int | None = None,
    grpc_port: int = 0,
    env: dict[str, str] | None = None,
) -> Iterator[RunningHub]:
    """A hub process; OTLP/gRPC is off unless ``grpc_port`` is given."""
    port = port or free_port()
    cmd: Sequence[str] = [
        sys.executable, "-m", "berrys_monitoring", "hub",
        "--port", str(port), "--grpc-port", str(grpc_port), "--data-dir", str(data_dir), *args,
    ]  # fmt: skip
    if token:
        cmd = [*cmd, "--token", token]
    if "--config" not in args and "--scrape-interval" not in args:
        # Targets the tests register (fuzzed ones too) are never contacted.
        cmd = [*cmd, "--scrape-interval", "0"]
    with run_server(cmd, env=env, ready_url=f"http://127.0.0.1:{port}/health") as server:
        yield RunningHub(f"http://127.0.0.1:{port}", port, data_dir, server, token)


@pytest.fixture(scope="package")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningHub]:
    """One hub shared by the tests that only add data and query what they added."""
    with start_hub(tmp_path_factory.mktemp("hub")) as running:
        yield running


@pytest.fixture
def client(hub: RunningHub) -> Iterator[httpx.Client]:
    with hub.client() as c:
        yield c
