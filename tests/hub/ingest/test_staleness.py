"""Stale markers and per-job intervals, with a real hub scraping real services: a series
that vanishes from a scrape, or whose target stops answering, gets Prometheus' stale NaN
(bit pattern ``0x7ff0000000000002``) at that scrape's time; each job keeps its own
``scrape_interval``."""

from __future__ import annotations

import contextlib
import itertools
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.hub.conftest import start_hub
from tests.integration._services import uvicorn_cmd
from tests.support.servers import REPO, ServerProcess, free_port, run_server, wait_for

from berrys_monitoring.hub.ingest._scrape import STALE_NAN, is_stale
from berrys_monitoring.hub.store import SQLiteStore

pytestmark = pytest.mark.slow

# A prometheus_client app whose labelled gauge children can be removed over HTTP.
SERVICE = """
from prometheus_client import CollectorRegistry, Gauge, make_asgi_app

registry = CollectorRegistry()
queue = Gauge("queue_depth", "Jobs waiting", ["queue"], registry=registry)
queue.labels("fast").set(3)
queue.labels("slow").set(7)
metrics = make_asgi_app(registry)


async def app(scope, receive, send):
    if scope["type"] == "http" and scope["path"] == "/drop":
        queue.remove("slow")
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    await metrics(scope, receive, send)
"""


@contextlib.contextmanager
def gauge_service() -> Iterator[tuple[str, int, ServerProcess]]:
    folder = Path(tempfile.mkdtemp(prefix="stale-"))
    (folder / "gauges.py").write_text(SERVICE)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = uvicorn_cmd("gauges", folder, port)
    with run_server(cmd, env={"PYTHONPATH": str(REPO)}, ready_url=f"{base}/metrics") as proc:
        yield base, port, proc


def _config(path: Path, jobs: dict[str, tuple[int, str | None]]) -> Path:
    text = "scrape_interval: 0.3s\nscrape_configs:\n"
    for name, (port, interval) in jobs.items():
        text += f"  - job_name: {name}\n"
        if interval:
            text += f"    scrape_interval: {interval}\n"
        text += f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    path.write_text(text)
    return path


def _raw(client: httpx.Client, name: str, **labels: str) -> list[list[object]]:
    params = {"name": name, "label": [f"{k}={v}" for k, v in labels.items()]}
    series = client.get("/api/v1/metrics/samples", params=params).json()["series"]
    return list(series[0]["samples"]) if series else []


def _stored(data_dir: Path, name: str, **labels: str) -> list[float]:
    """The values as stored, bit patterns intact (the JSON API shows any NaN as null)."""
    store = SQLiteStore(data_dir)
    try:
        wanted = tuple(sorted({"__name__": name, **labels}.items()))
        ((sid, _),) = store.series(wanted, None, None)
        return store.samples(sid, None, None)[1]
    finally:
        store.close()


def test_the_stale_marker_is_the_exact_prometheus_nan() -> None:
    assert struct.pack("<d", STALE_NAN) == struct.pack("<Q", 0x7FF0000000000002)
    assert is_stale(STALE_NAN) and not is_stale(float("nan"))


def test_a_series_missing_from_a_scrape_gets_one_stale_marker(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with gauge_service() as (base, port, _):
        config = _config(tmp_path / "hub.yaml", {"gauges": (port, None)})
        job = {"job": "gauges", "instance": f"127.0.0.1:{port}"}
        with start_hub(data, "--config", str(config)) as hub, hub.client() as client:
            wait_for(lambda: len(_raw(client, "queue_depth", queue="slow", **job)) >= 2,
                     what="two scrapes of the slow queue")  # fmt: skip
            assert httpx.post(f"{base}/drop").status_code == 204
            wait_for(lambda: _raw(client, "queue_depth", queue="slow", **job)[-1][1] is None,
                     what="the stale marker")  # fmt: skip
            kept = len(_raw(client, "queue_depth", queue="slow", **job))
            before = len(_raw(client, "queue_depth", queue="fast", **job))
            wait_for(lambda: len(_raw(client, "queue_depth", queue="fast", **job)) > before + 1,
                     what="more scrapes")  # fmt: skip
            # one marker, then nothing while the series stays away
            assert len(_raw(client, "queue_depth", queue="slow", **job)) == kept
    slow = _stored(data, "queue_depth", queue="slow", **job)
    assert is_stale(slow[-1]) and slow[:-1] == [7.0] * (len(slow) - 1)
    fast = _stored(data, "queue_depth", queue="fast", **job)
    assert fast == [3.0] * len(fast)  # never stale: present in every scrape


def test_a_target_that_stops_answering_gets_stale_markers_on_every_series(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with gauge_service() as (_, port, service):
        config = _config(tmp_path / "hub.yaml", {"gauges": (port, None)})
        job = {"job": "gauges", "instance": f"127.0.0.1:{port}"}
        with start_hub(data, "--config", str(config)) as hub, hub.client() as client:
            wait_for(lambda: len(_raw(client, "queue_depth", queue="fast", **job)) >= 2,
                     what="two scrapes")  # fmt: skip
            service.stop()
            wait_for(lambda: _raw(client, "up", **job)[-1][1] == 0.0, what="up to drop to 0")
            wait_for(lambda: len([v for _, v in _raw(client, "up", **job) if v == 0.0]) >= 3,
                     what="more failed scrapes")  # fmt: skip
    for queue in ("fast", "slow"):
        values = _stored(data, "queue_depth", queue=queue, **job)
        assert is_stale(values[-1]) and not any(map(is_stale, values[:-1]))
    # up itself is never stale while the target is configured: it reads 0
    up = _stored(data, "up", **job)
    assert up[-1] == 0.0 and not any(map(is_stale, up))


def test_each_job_keeps_its_own_scrape_interval(tmp_path: Path) -> None:
    with gauge_service() as (_, fast_port, _), gauge_service() as (_, slow_port, _):
        config = _config(
            tmp_path / "hub.yaml", {"fast": (fast_port, "0.25s"), "slow": (slow_port, "2s")}
        )
        with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as c:
            wait_for(lambda: len(_raw(c, "up", job="slow")) >= 3, timeout=30, what="3 slow scrapes")
            fast = [int(t) for t, _ in _raw(c, "up", job="fast")]  # type: ignore[call-overload]
            slow = [int(t) for t, _ in _raw(c, "up", job="slow")]  # type: ignore[call-overload]
    slow_gaps = [b - a for a, b in itertools.pairwise(slow)]
    assert all(1800 <= g <= 2600 for g in slow_gaps), slow_gaps
    assert len(fast) >= 3 * len(slow)


def _instant(client: httpx.Client, query: str) -> list[dict[str, object]]:
    body = client.post("/api/v1/query", data={"query": query}).json()
    assert body["status"] == "success", body
    return list(body["data"]["result"])


def test_a_removed_target_goes_stale_and_promql_stops_returning_it(tmp_path: Path) -> None:
    data = tmp_path / "data"
    config = tmp_path / "hub.yaml"
    config.write_text("scrape_interval: 0.3s\n")
    with gauge_service() as (base, port, _):
        job = {"job": "gauges", "instance": f"127.0.0.1:{port}"}
        with start_hub(data, "--config", str(config)) as hub, hub.client() as client:
            r = client.post("/api/v1/targets", json={"url": base, "job": "gauges"})
            assert r.status_code < 300, r.text
            wait_for(lambda: len(_instant(client, 'queue_depth{job="gauges"}')) == 2,
                     what="both queues in PromQL")  # fmt: skip
            assert httpx.post(f"{base}/drop").status_code == 204
            # without the marker, the slow queue would stay for the 5-minute lookback
            wait_for(lambda: len(_instant(client, 'queue_depth{job="gauges"}')) == 1,
                     what="the dropped queue to leave the query")  # fmt: skip
            assert client.delete("/api/v1/targets", params={"url": base}).status_code == 204
            wait_for(lambda: not _instant(client, '{job="gauges"}'),
                     what="every series of the removed target to go")  # fmt: skip
    for name, labels in (("up", {}), ("scrape_samples_scraped", {}), ("queue_depth",
                         {"queue": "fast"})):  # fmt: skip
        values = _stored(data, name, **job, **labels)
        assert is_stale(values[-1]) and not any(map(is_stale, values[:-1])), name


SLOW = """
import asyncio


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await asyncio.sleep(0.8)  # a slow exporter
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain; version=0.0.4")]})
    await send({"type": "http.response.body", "body": b"slow_metric 1\\n"})
"""


def test_a_jobs_scrape_timeout_applies_to_its_targets_only(tmp_path: Path) -> None:
    folder = Path(tempfile.mkdtemp(prefix="slow-"))
    (folder / "slow.py").write_text(SLOW)
    port = free_port()
    cmd = uvicorn_cmd("slow", folder, port)
    with run_server(cmd, ready_port=port):
        config = tmp_path / "hub.yaml"
        config.write_text(
            "scrape_interval: 1s\n"
            "scrape_configs:\n"
            "  - job_name: strict\n    scrape_timeout: 0.3s\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
            "  - job_name: patient\n"
            f"    static_configs: [{{targets: ['localhost:{port}']}}]\n"
        )
        with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as c:
            wait_for(lambda: len(_raw(c, "up", job="strict")) >= 2
                     and len(_raw(c, "up", job="patient")) >= 2, timeout=30,
                     what="two scrapes of each job")  # fmt: skip
            assert {v for _, v in _raw(c, "up", job="strict")} == {0.0}
            assert {v for _, v in _raw(c, "up", job="patient")} == {1.0}
            states = {t["job"]: t["scrape"] for t in c.get("/api/v1/targets").json()["targets"]}
            assert "Timeout" in states["strict"]["last_error"]
