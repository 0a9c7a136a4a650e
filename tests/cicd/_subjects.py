"""Start real subject services on loopback for the cicd tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tests.support.servers import PYTHON, REPO, free_port, run_server


@contextlib.contextmanager
def subject(**knobs: str) -> Iterator[str]:
    """A subject service under uvicorn with the given EXAMPLE_* knobs; yields its base URL."""
    port = free_port()
    cmd = [
        PYTHON,
        "-m",
        "uvicorn",
        "tests.cicd.subject_app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {k: str(v) for k, v in knobs.items()}
    with run_server(cmd, env=env, cwd=REPO, ready_url=f"http://127.0.0.1:{port}/health"):
        yield f"http://127.0.0.1:{port}"
