"""Live conformance: a real Prometheus and the hub scrape the same real services (a FastAPI
app with ``setup_monitoring`` and a prometheus_client app with a counter that resets, a
gauge and a histogram) every second; once the traffic has stopped and both have scraped
its result, queries whose answers do not depend on the exact scrape instants (counts,
label sets, settled counters and buckets, ``up``, a reset) must agree, instant and range.

The big corpus runs on loaded data (``test_conformance.py``); this one covers the ingest
path: what the scraper stores is what Prometheus stores.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hub.conftest import start_hub
from tests.hub.promql._compare import differences
from tests.hub.promql._prometheus import prometheus, scrape_config
from tests.integration._services import uvicorn_cmd
from tests.support.servers import REPO, free_port, run_server, wait_for

pytestmark = pytest.mark.slow

WEB = """
from fastapi import FastAPI
from berrys_monitoring.middleware.fastapi import setup_monitoring

app = FastAPI()
setup_monitoring(app, service_name="shop")


@app.get("/items/{item_id}")
def item(item_id: int):
    return {"id": item_id}


@app.get("/fail")
def fail():
    raise RuntimeError("boom")
"""

WORKER = """
from prometheus_client import CollectorRegistry, Gauge, Histogram, make_asgi_app
from prometheus_client.core import CounterMetricFamily

registry = CollectorRegistry()
done = {"email": 0.0, "sms": 0.0}


class Jobs:
    def collect(self):
        family = CounterMetricFamily("jobs_processed", "Jobs processed", labels=["kind"])
        for kind, value in done.items():
            family.add_metric([kind], value)
        yield family


registry.register(Jobs())
backlog = Gauge("jobs_backlog", "Jobs waiting", ["kind"], registry=registry)
latency = Histogram("job_duration_seconds", "Job time", ["kind"], registry=registry,
                    buckets=(0.01, 0.05, 0.1, 0.5, 1.0))
metrics = make_asgi_app(registry)
LATENCIES = (0.003, 0.02, 0.07, 0.2, 0.7, 3.0)


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] in ("/work", "/reset"):
        if scope["path"] == "/reset":  # a restart, as the counter sees it
            for kind in done:
                done[kind] = 0.0
        else:
            for i, kind in enumerate(("email", "sms", "email")):
                done[kind] += 1
                backlog.labels(kind).set(10 - i)
                latency.labels(kind).observe(LATENCIES[int(done[kind]) % len(LATENCIES)])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await metrics(scope, receive, send)
"""

INSTANT = [
    "up",
    "count by (job) (up)",
    'sum by (job, route, status) (http_requests_total{route=~"/items.*|/fail"})',
    'http_requests_total{route=~"/items.*|/fail"}',
    'count(http_requests_total{route=~"/items.*|/fail"})',
    "jobs_processed_total",
    "sum(jobs_processed_total)",
    "jobs_backlog",
    "max by (job) (jobs_backlog)",
    "job_duration_seconds_bucket",
    "sum by (le) (job_duration_seconds_bucket)",
    "histogram_quantile(0.5, sum by (le) (job_duration_seconds_bucket))",
    "histogram_quantile(0.9, job_duration_seconds_bucket)",
    'job_duration_seconds_count / ignoring(le) job_duration_seconds_bucket{le="+Inf"}',
    "resets(jobs_processed_total[40s])",
    'group by (job, instance) ({__name__=~"jobs_processed_total|http_requests_total"})',
    "topk(1, jobs_backlog)",
    "jobs_backlog > 8",
    'label_replace(up, "port", "$1", "instance", ".*:(.*)")',
    "absent(nonexistent_metric)",
    # the scrape's own series, by name (their values depend on the scrape)
    'group by (__name__, job) ({__name__=~"up|scrape_.+"})',
    "scrape_series_added == 0",
]
RANGE = [
    "sum(jobs_processed_total)",
    "jobs_backlog",
    'sum by (route) (http_requests_total{route=~"/items.*|/fail"})',
    "count(up)",
    "sum by (le) (job_duration_seconds_bucket)",
]


@contextlib.contextmanager
def services() -> Iterator[tuple[str, str]]:
    folder = Path(tempfile.mkdtemp(prefix="live-conf-"))
    (folder / "web.py").write_text(WEB)
    (folder / "worker.py").write_text(WORKER)
    web, worker = free_port(), free_port()
    env = {"PYTHONPATH": str(REPO)}
    with (
        run_server(uvicorn_cmd("web", folder, web), env=env,
                   ready_url=f"http://127.0.0.1:{web}/metrics"),
        run_server(uvicorn_cmd("worker", folder, worker), env=env,
                   ready_url=f"http://127.0.0.1:{worker}/metrics"),
    ):  # fmt: skip
        yield f"127.0.0.1:{web}", f"127.0.0.1:{worker}"


def _query(base: str, query: str, **params: Any) -> dict[str, Any]:
    r = httpx.post(f"{base}/api/v1/query", data={"query": query, **params}, timeout=30)
    body: dict[str, Any] = r.json()
    assert body["status"] == "success", (base, query, body)
    return body


def _scalar(base: str, query: str) -> float | None:
    result = _query(base, query)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


def test_prometheus_and_the_hub_scraping_the_same_services_agree(tmp_path: Path) -> None:
    with services() as (web, worker):
        jobs = {"web": [web], "worker": [worker]}
        config = tmp_path / "hub.yaml"
        config.write_text("scrape_interval: 1s\n" + scrape_config(jobs).split("\n", 3)[3])
        with (
            prometheus(scrape_config(jobs)) as prom,
            start_hub(tmp_path / "data", "--config", str(config)) as hub,
        ):
            both = (prom, hub.url)

            def settled(query: str, value: float) -> None:
                for base in both:
                    wait_for(lambda b=base: _scalar(b, query) == value, timeout=30,  # type: ignore[misc]
                             what=f"{query} == {value} in {base}")  # fmt: skip

            for i in range(7):
                httpx.get(f"http://{web}/items/{i}")
            for _ in range(2):
                httpx.get(f"http://{web}/fail")
            for _ in range(4):
                httpx.post(f"http://{worker}/work")
            settled("sum(jobs_processed_total)", 12)
            httpx.post(f"http://{worker}/reset")
            settled("sum(jobs_processed_total)", 0)
            for _ in range(2):
                httpx.post(f"http://{worker}/work")
            settled("sum(jobs_processed_total)", 6)
            settled('sum(http_requests_total{route=~"/items.*|/fail"})', 9)
            start = time.time() + 0.5
            time.sleep(6)
            end = time.time()
            for query in INSTANT:
                theirs = _query(prom, query, time=repr(end))
                ours = _query(hub.url, query, time=repr(end))
                assert theirs["data"]["result"] or query.startswith("absent"), query
                problems = differences(ours["data"], theirs["data"])
                assert not problems, (query, problems[:5])
            for query in RANGE:
                params = {"start": repr(start), "end": repr(end), "step": "1"}
                theirs = httpx.post(f"{prom}/api/v1/query_range",
                                    data={"query": query, **params}).json()  # fmt: skip
                ours = httpx.post(f"{hub.url}/api/v1/query_range",
                                  data={"query": query, **params}).json()  # fmt: skip
                assert theirs["status"] == ours["status"] == "success", (query, ours)
                problems = differences(ours["data"], theirs["data"])
                assert not problems, (query, problems[:5])
            # what each scraped family is, as both report it
            theirs_meta = httpx.get(f"{prom}/api/v1/metadata").json()["data"]
            ours_meta = httpx.get(f"{hub.url}/api/v1/metadata").json()["data"]
            for name in ("jobs_backlog", "job_duration_seconds"):
                assert ours_meta[name] == theirs_meta[name], name
            assert ours_meta["jobs_processed_total"][0]["type"] == "counter"
