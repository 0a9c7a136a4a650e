"""Start the example services (and other apps) under real uvicorn and gunicorn."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.support.servers import PYTHON, REPO, ServerProcess, free_port, run_server

EXAMPLES = REPO / "examples"


def uvicorn_cmd(module: str, app_dir: Path, port: int, *extra: str) -> list[str]:
    return [
        PYTHON, "-m", "uvicorn", f"{module}:app", "--app-dir", str(app_dir),
        "--host", "127.0.0.1", "--port", str(port), *extra,
    ]  # fmt: skip


def gunicorn_cmd(module: str, chdir: Path, port: int, *extra: str) -> list[str]:
    return [
        PYTHON, "-m", "gunicorn", f"{module}:app", "--chdir", str(chdir),
        "--bind", f"127.0.0.1:{port}", *extra,
    ]  # fmt: skip


@contextlib.contextmanager
def users_service(
    env: Mapping[str, str] | None = None, workers: int = 1, *extra: str
) -> Iterator[tuple[str, ServerProcess]]:
    """The Flask example under gunicorn (gthread); yields (base URL, process)."""
    port = free_port()
    cmd = gunicorn_cmd(
        "flask_users", EXAMPLES, port,
        "-c", str(EXAMPLES / "gunicorn_conf.py"), "--workers", str(workers), *extra,
    )  # fmt: skip
    full_env = {**_base_env(), **(env or {})}
    with run_server(cmd, env=full_env, ready_url=f"http://127.0.0.1:{port}/health/live") as p:
        yield f"http://127.0.0.1:{port}", p


@contextlib.contextmanager
def gateway_service(
    users_url: str, env: Mapping[str, str] | None = None, *extra: str
) -> Iterator[tuple[str, ServerProcess]]:
    """The FastAPI example under uvicorn; yields (base URL, process)."""
    port = free_port()
    cmd = uvicorn_cmd("fastapi_gateway", EXAMPLES, port, *extra)
    full_env = {**_base_env(), "USERS_SERVICE_URL": users_url, **(env or {})}
    with run_server(cmd, env=full_env, ready_url=f"http://127.0.0.1:{port}/health/live") as p:
        yield f"http://127.0.0.1:{port}", p


def _base_env() -> dict[str, str]:
    env = {"PYTHONPATH": str(REPO)}
    # Each server run gets its own multiprocess directory (set by the library itself).
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        env["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prom-mp-")
    return env


def metric_value(exposition: str, name: str, **labels: str) -> float:
    """Sum of the samples of ``name`` whose labels include ``labels`` (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    total = 0.0
    for family in text_string_to_metric_families(exposition):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total
