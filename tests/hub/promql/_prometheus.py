"""A real Prometheus server for the PromQL tests: started on a free port with a temporary
config and data directory, optionally over blocks loaded with promtool."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
from tests.support.servers import free_port, require_binary, run_server, wait_for

HINT = "apt-get install prometheus"


def scrape_config(jobs: dict[str, list[str]], interval: str = "1s") -> str:
    """A prometheus.yml scraping ``{job: [host:port, ...]}`` every ``interval``."""
    text = f"global:\n  scrape_interval: {interval}\n  evaluation_interval: {interval}\n"
    text += "scrape_configs:\n"
    for job, targets in jobs.items():
        text += f"  - job_name: {job}\n    static_configs:\n      - targets: {targets!r}\n"
    return text


@contextlib.contextmanager
def prometheus(
    config: str = "scrape_configs: []\n",
    *,
    data: Path | None = None,
    port: int | None = None,
    web_config: str | None = None,
) -> Iterator[str]:
    """A running Prometheus; its base URL. ``data``: a TSDB directory to serve (e.g.
    blocks made by :func:`load_openmetrics`)."""
    binary = require_binary("prometheus", HINT)
    work = Path(tempfile.mkdtemp(prefix="prom-promql-"))
    (work / "prometheus.yml").write_text(config)
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        binary,
        f"--config.file={work / 'prometheus.yml'}",
        f"--storage.tsdb.path={data or work / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--storage.tsdb.retention.time=100y",
        "--log.level=warn",
    ]
    if web_config is not None:  # e.g. basic auth
        (work / "web.yml").write_text(web_config)
        cmd.append(f"--web.config.file={work / 'web.yml'}")
    with run_server(cmd, ready_url=f"{url}/-/ready", timeout=60):
        wait_for(lambda: httpx.get(f"{url}/-/ready", timeout=2).status_code in (200, 401),
                 timeout=60, what="Prometheus ready")  # fmt: skip
        yield url


def load_openmetrics(text: str, into: Path) -> None:
    """Write OpenMetrics ``text`` as TSDB blocks in ``into`` with ``promtool``."""
    promtool = require_binary("promtool", HINT)
    source = into.parent / "history.om"
    source.write_text(text)
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(into)],
        check=True,
        capture_output=True,
        timeout=600,
    )
