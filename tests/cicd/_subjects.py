"""Start real subject services on loopback for the cicd tests.

The default subject is the project's example user service (examples/flask_users.py, Flask
with ``setup_monitoring``) under a real gunicorn. ``subject_app.py`` beside this file is a
tiny ASGI service with the same knobs but *deterministic* error injection, for the tests
that need an exact error fraction.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from tests.support.servers import PYTHON, REPO, free_port, require_binary, run_server


@contextlib.contextmanager
def subject(kind: str = "flask_users", **knobs: str) -> Iterator[str]:
    """A subject service with the given EXAMPLE_* knobs; yields its base URL."""
    port = free_port()
    env = {k: str(v) for k, v in knobs.items()}
    if kind == "flask_users":
        gunicorn = require_binary("gunicorn", "pip install 'berrys-monitoring[flask]'")
        cmd = [
            gunicorn, "-c", str(REPO / "examples" / "gunicorn_conf.py"),
            "--chdir", str(REPO / "examples"), "flask_users:app",
            "--bind", f"127.0.0.1:{port}",
        ]  # fmt: skip
        env.update(GUNICORN_WORKERS="1", GUNICORN_THREADS="8")
    else:
        cmd = [
            PYTHON, "-m", "uvicorn", "tests.cicd.subject_app:app",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
            "--no-access-log",
        ]  # fmt: skip
    with run_server(cmd, env=env, cwd=REPO, ready_url=f"http://127.0.0.1:{port}/health"):
        yield f"http://127.0.0.1:{port}"
