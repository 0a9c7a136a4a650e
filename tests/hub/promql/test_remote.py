"""Remote metrics: ``berrys-monitoring hub --prometheus-url`` answers the Prometheus query
API from a real Prometheus, which does the scraping; the hub's own scraper stays off."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hub.conftest import start_hub
from tests.hub.promql._prometheus import prometheus, scrape_config
from tests.support.servers import free_port, wait_for

from berrys_monitoring.hub.promql._remote import RemoteBackend, RemoteQueryError

pytestmark = pytest.mark.slow


def _api(base: str, path: str, params: list[tuple[str, str]], post: bool = False) -> Any:
    url = f"{base}/api/v1/{path}"
    if post:
        r = httpx.post(url, data=dict_of_lists(params), timeout=30)
    else:
        r = httpx.get(url, params=params, timeout=30)
    return r.status_code, r.json()


def dict_of_lists(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def test_the_hub_answers_the_query_api_from_a_real_prometheus(tmp_path: Path) -> None:
    port = free_port()
    hub_config = tmp_path / "hub.yaml"
    # a target in the hub's own config: with a remote Prometheus it is never scraped
    hub_config.write_text(
        "scrape_interval: 0.2s\n"
        "scrape_configs:\n"
        f"  - job_name: ignored\n    static_configs: [{{targets: ['127.0.0.1:{port}']}}]\n"
    )
    with prometheus(scrape_config({"prometheus": [f"127.0.0.1:{port}"]}), port=port) as prom:
        wait_for(
            lambda: _api(prom, "query", [("query", "count_over_time(up[1m]) >= 3")])[1]["data"][
                "result"
            ],
            timeout=60,
            what="three scrapes in Prometheus",
        )
        args = ("--config", str(hub_config), "--prometheus-url", prom + "/")
        with start_hub(tmp_path / "data", *args) as hub:
            now = f"{time.time():.3f}"
            start = f"{time.time() - 20:.3f}"
            asked: list[tuple[str, list[tuple[str, str]]]] = [
                ("query", [("query", 'up{job="prometheus"}'), ("time", now)]),
                (
                    "query",
                    [
                        ("query", "sum by (job) (rate(prometheus_http_requests_total[10s]))"),
                        ("time", now),
                    ],
                ),
                ("query", [("query", "scalar(vector(42))"), ("time", now)]),
                ("query_range", [("query", "up"), ("start", start), ("end", now), ("step", "2s")]),
                (
                    "query_range",
                    [("query", "time()"), ("start", start), ("end", now), ("step", "5")],
                ),
                ("series", [("match[]", "up"), ("match[]", "prometheus_build_info")]),
                ("labels", [("match[]", "up")]),
                ("label/job/values", []),
                ("label/__name__/values", [("match[]", '{job="prometheus"}')]),
            ]
            for path, params in asked:
                # Prometheus takes label values by GET only (the hub takes both)
                for post in (False, True) if not path.startswith("label/") else (False,):
                    ours = _api(hub.url, path, params, post)
                    theirs = _api(prom, path, params, post)
                    assert ours == theirs, (path, params, post)
                    assert ours[0] == 200 and ours[1]["data"], (path, params)
            # metadata comes from the remote server too
            code, body = _api(hub.url, "metadata", [("metric", "prometheus_build_info")])
            assert code == 200
            assert body["data"]["prometheus_build_info"][0]["type"] == "gauge"
            # errors keep Prometheus' type and message
            ours = _api(hub.url, "query", [("query", "sum(")])
            theirs = _api(prom, "query", [("query", "sum(")])
            assert ours[0] == theirs[0] == 400
            assert ours[1]["errorType"] == theirs[1]["errorType"] == "bad_data"
            assert ours[1]["error"] == theirs[1]["error"]
            # the hub scraped nothing itself
            with hub.client() as client:
                samples = client.get("/api/v1/metrics/samples", params={"name": "up"}).json()
                assert samples == {"series": []}
                (target,) = client.get("/api/v1/targets").json()["targets"]
                assert target["scrape"] is None


def test_an_unreachable_prometheus_is_a_503_in_prometheus_shape(tmp_path: Path) -> None:
    gone = f"http://127.0.0.1:{free_port()}"
    backend = RemoteBackend(gone, timeout=5)
    with pytest.raises(RemoteQueryError) as caught:
        backend.instant_query("up", time.time())
    assert caught.value.error_type == "unavailable" and gone in str(caught.value)
    backend.close()
    with start_hub(tmp_path / "data", "--prometheus-url", gone) as hub, hub.client() as client:
        r = client.get("/api/v1/query", params={"query": "up"})
        assert r.status_code == 503
        body = r.json()
        assert body["status"] == "error" and body["errorType"] == "unavailable"
        assert "unreachable" in body["error"]


# "test", hashed with bcrypt (the example of Prometheus' web configuration docs)
WEB_CONFIG = (
    "basic_auth_users:\n  admin: $2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay\n"
)


def test_prometheus_headers_reach_a_prometheus_behind_authentication(tmp_path: Path) -> None:
    with prometheus(web_config=WEB_CONFIG) as prom:
        config = tmp_path / "hub.yaml"
        config.write_text(
            f"prometheus_url: {prom}\n"
            "prometheus_headers: {Authorization: 'Basic YWRtaW46dGVzdA=='}\n"  # admin:test
        )
        with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as c:
            body = c.post("/api/v1/query", data={"query": "1 + 1", "time": "100"}).json()
            assert body == {"status": "success", "data": {"resultType": "scalar",
                                                          "result": [100, "2"]}}  # fmt: skip
        config.write_text(f"prometheus_url: {prom}\n")  # no credentials: refused
        with start_hub(tmp_path / "data", "--config", str(config)) as hub, hub.client() as c:
            r = c.post("/api/v1/query", data={"query": "1 + 1"})
            assert r.status_code == 503 and "answered 401" in r.json()["error"]
