"""SIGTERM, the way every deploy stops a service, loses no queued span or log record:
under uvicorn (which re-raises the signal after its graceful shutdown, so ``atexit`` never
runs), ``uvicorn --workers``, ``uvicorn.run(app)`` in a script (its logging set-up comes
after ours and closes every handler), gunicorn and Flask's development server."""

from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from tests.integration._services import gunicorn_cmd, uvicorn_cmd
from tests.support.servers import PYTHON, REPO, free_port, run_server, wait_for
from tests.tracing._receiver import otlp_receiver

pytestmark = pytest.mark.slow

REQUESTS = 101

COMMON = """
from berrys_monitoring.logging import configure_logging, get_logger
from berrys_monitoring.tracing import configure_tracing

# A minute between exports: whatever is queued when SIGTERM arrives is still queued.
configure_tracing("stopping", exporter="otlp", endpoint="{endpoint}", schedule_delay_millis=60_000)
configure_logging(service_name="stopping", otlp_endpoint="{endpoint}")
log = get_logger("stopping")
"""

FASTAPI_APP = """
from fastapi import FastAPI
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()
setup_monitoring(app, service_name="stopping")


@app.get("/work/{{n}}")
def work(n: int):
    log.info(f"work {{n}}")
    return {{"n": n}}
"""

FLASK_APP = """
from flask import Flask
from berrys_monitoring.middleware.flask import setup_monitoring

app = Flask(__name__)
setup_monitoring(app, service_name="stopping")


@app.get("/work/<int:n>")
def work(n):
    log.info(f"work {{n}}")
    return {{"n": n}}
"""


UVICORN_RUN = """
if __name__ == "__main__":
    import sys

    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]))
"""


def _command(server: str, folder: Path, port: int) -> list[str]:
    if server == "uvicorn":
        return uvicorn_cmd("stopping", folder, port)
    if server == "uvicorn-run":
        # The script's own ``uvicorn.run(app, …)``, with uvicorn's default log_config.
        return [PYTHON, str(folder / "stopping.py"), str(port)]
    if server == "uvicorn-workers":
        return uvicorn_cmd("stopping", folder, port, "--workers", "2")
    if server == "gunicorn":
        return gunicorn_cmd("stopping", folder, port, "--workers", "2")
    # Flask's development server, as `flask run` starts it.
    return [
        PYTHON, "-m", "flask", "--app", f"{folder}/stopping.py", "run",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize(
    "server", ["uvicorn", "uvicorn-workers", "uvicorn-run", "gunicorn", "flask-dev"]
)
def test_sigterm_exports_every_queued_span_and_log_record(server: str) -> None:
    with otlp_receiver() as receiver:
        framework = FASTAPI_APP if server.startswith("uvicorn") else FLASK_APP
        folder = Path(tempfile.mkdtemp(prefix="stopping-"))
        source = (COMMON + framework).format(endpoint=receiver.endpoint)
        if server == "uvicorn-run":
            source += UVICORN_RUN
        (folder / "stopping.py").write_text(source)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with run_server(
            _command(server, folder, port),
            env={"PYTHONPATH": str(REPO), "BERRYS_MONITORING_STRICT": "1"},
            ready_url=f"{base}/health/live",
        ) as proc:
            with httpx.Client(timeout=10) as client:
                for n in range(REQUESTS):
                    assert client.get(f"{base}/work/{n}").status_code == 200
            # Nothing was exported yet: the queue holds every span.
            assert not receiver.named("GET /work/{n}") and not receiver.named("GET /work/<int:n>")
            proc.proc.send_signal(signal.SIGTERM)
            proc.proc.wait(30)
            output = proc.output()

        def arrived() -> bool:
            spans = [s for s in receiver.spans if s.name.startswith("GET /work/")]
            work_lines = [b for b in receiver.log_bodies if str(b).startswith("work ")]
            return len(spans) >= REQUESTS and len(work_lines) >= REQUESTS

        wait_for(arrived, timeout=10, what="every span and log record at the collector")
        spans = [s for s in receiver.spans if s.name.startswith("GET /work/")]
        assert len(spans) == REQUESTS, output[-3000:]
        assert {str(b) for b in receiver.log_bodies if str(b).startswith("work ")} == {
            f"work {n}" for n in range(REQUESTS)
        }
