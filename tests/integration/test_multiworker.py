"""Several workers, one truth: /metrics reports exact totals across all workers, under
gunicorn (the Flask example) and under ``uvicorn --workers`` (the FastAPI example)."""

from __future__ import annotations

import glob
import os
import re
import tempfile

import httpx
import pytest
from tests.integration._services import gateway_service, metric_value, users_service

pytestmark = pytest.mark.slow

N = 60


def fresh_connections_get(url: str, n: int) -> set[str]:
    """``n`` GETs, each on a new connection so the kernel spreads them over the workers;
    returns the request ids seen (all distinct)."""
    ids = set()
    for _ in range(n):
        r = httpx.get(url, headers={"Connection": "close"})
        assert r.status_code == 200
        ids.add(r.headers["x-request-id"])
    return ids


def worker_pids(master_pid: int) -> set[str]:
    """Pids that wrote counter files in the server's shared metrics directory."""
    pattern = os.path.join(
        tempfile.gettempdir(), f"berrys-monitoring-metrics-{master_pid}-*", "counter_*.db"
    )
    return {m.group(1) for f in glob.glob(pattern) if (m := re.search(r"_(\d+)\.db$", f))}


def test_gunicorn_workers_report_exact_totals_whichever_worker_answers() -> None:
    with users_service(workers=3) as (users_url, server):
        assert len(fresh_connections_get(f"{users_url}/users/1", N)) == N
        # The requests really were spread: more than one worker counted some.
        assert len(worker_pids(server.proc.pid)) >= 2
        # Every scrape may land on another worker: all must report the same totals.
        for _ in range(6):
            text = httpx.get(f"{users_url}/metrics", headers={"Connection": "close"}).text
            assert (
                metric_value(
                    text, "http_requests_total", route="/users/<int:user_id>", status="200"
                )
                == N
            )
            assert metric_value(text, "user_lookups_total", result="found") == N
            assert metric_value(text, "http_requests_in_progress") == 0


def test_uvicorn_workers_report_exact_totals_whichever_worker_answers() -> None:
    with gateway_service("http://127.0.0.1:9", None, "--workers", "2") as (gw_url, server):
        assert len(fresh_connections_get(f"{gw_url}/", N)) == N
        assert len(worker_pids(server.proc.pid)) >= 2
        for _ in range(6):
            text = httpx.get(f"{gw_url}/metrics", headers={"Connection": "close"}).text
            assert metric_value(text, "http_requests_total", route="/", status="200") == N
