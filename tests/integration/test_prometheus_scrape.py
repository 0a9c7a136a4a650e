"""A real Prometheus server scrapes both example services; PromQL through its HTTP API
returns exactly the request counts the test made."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.integration._services import gateway_service, users_service
from tests.support.servers import free_port, require_binary, run_server, wait_for

pytestmark = pytest.mark.slow


@contextlib.contextmanager
def prometheus(targets: dict[str, str]) -> Iterator[str]:
    """Start ``prometheus`` on a free port scraping ``{job: "host:port"}`` every second."""
    binary = require_binary("prometheus", "apt-get install prometheus")
    work = Path(tempfile.mkdtemp(prefix="prom-test-"))
    jobs = "".join(
        f"  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
        for job, target in targets.items()
    )
    config = work / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n" + jobs
    )
    port = free_port()
    cmd = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={work / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    url = f"http://127.0.0.1:{port}"
    with run_server(cmd, ready_url=f"{url}/-/ready", timeout=60):
        wait_for_http_ok(f"{url}/-/ready")
        yield url


def wait_for_http_ok(url: str) -> None:
    wait_for(lambda: httpx.get(url, timeout=2).status_code == 200, timeout=60, what=url)


def query(prom: str, promql: str) -> float | None:
    r = httpx.get(f"{prom}/api/v1/query", params={"query": promql}, timeout=5)
    r.raise_for_status()
    result = r.json()["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_scrapes_both_services_and_promql_returns_the_requests_made() -> None:
    with users_service() as (users_url, _), gateway_service(users_url) as (gw_url, _):
        targets = {
            "gateway": gw_url.removeprefix("http://"),
            "users": users_url.removeprefix("http://"),
        }
        with prometheus(targets) as prom:
            for uid in (1, 2, 3, 4, 5, 1, 2):
                assert httpx.get(f"{gw_url}/users/{uid}").status_code == 200
            assert httpx.get(f"{gw_url}/users/424242").status_code == 404
            for _ in range(2):
                assert httpx.get(f"{gw_url}/fail").status_code == 500

            def counts():  # type: ignore[no-untyped-def]
                got = (
                    query(
                        prom,
                        'sum(http_requests_total{job="gateway",route="/users/{user_id}",status="200"})',
                    ),
                    query(
                        prom,
                        'sum(http_requests_total{job="gateway",route="/users/{user_id}",status="404"})',
                    ),
                    query(
                        prom, 'sum(http_requests_total{job="gateway",route="/fail",status="500"})'
                    ),
                    query(
                        prom, 'sum(http_requests_total{job="users",route="/users/<int:user_id>"})'
                    ),
                    query(prom, 'count(up{job=~"gateway|users"} == 1)'),
                )
                return got if got == (7.0, 1.0, 2.0, 8.0, 2.0) else None

            assert wait_for(counts, timeout=30, interval=0.5, what="PromQL counts")
            # Probes and scrapes themselves are never counted.
            assert query(prom, 'sum(http_requests_total{route=~"/health.*|/metrics"})') is None
            latency = query(
                prom,
                'histogram_quantile(0.95, sum by (le) (http_request_duration_seconds_bucket{job="gateway"}))',
            )
            assert latency is not None and latency > 0
