"""The Prometheus HTTP API's parameters and errors, on a real hub: Prometheus' own
messages and status codes for what it refuses, GET and POST alike."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from tests.hub.conftest import RunningHub
from tests.hub.otlp import PROTOBUF, kv, resource

from berrys_monitoring._version import __version__


@pytest.fixture
def api(hub: RunningHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url + "/api/v1", timeout=30.0) as c:
        yield c


def _error(r: httpx.Response, status: int, kind: str, text: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "error" and body["errorType"] == kind
    assert text in body["error"], body["error"]


@pytest.mark.parametrize(
    ("path", "params", "text"),
    [
        ("/query", {}, 'invalid parameter "query"'),
        ("/query", {"query": "up", "time": "yesterday"}, 'cannot parse "yesterday"'),
        ("/query", {"query": "up", "timeout": "soon"}, 'invalid parameter "timeout"'),
        ("/query_range", {"query": "up", "end": "10", "step": "1"}, 'invalid parameter "start"'),
        ("/query_range", {"query": "up", "start": "0", "step": "1"}, 'invalid parameter "end"'),
        ("/query_range", {"query": "up", "start": "0", "end": "10"}, 'invalid parameter "step"'),
        (
            "/query_range",
            {"query": "up", "start": "10", "end": "0", "step": "1"},
            "end timestamp must not be before start time",
        ),
        (
            "/query_range",
            {"query": "up", "start": "0", "end": "10", "step": "0"},
            "zero or negative query resolution step widths are not accepted",
        ),
        (
            "/query_range",
            {"query": "up", "start": "0", "end": "86400", "step": "5s"},
            "exceeded maximum resolution of 11,000 points per timeseries",
        ),
        ("/series", {}, "no match[] parameter provided"),
        ("/series", {"match[]": "up", "limit": "-1"}, 'invalid parameter "limit"'),
        ("/labels", {"start": "2024-13-40T00:00:00Z"}, 'invalid parameter "start"'),
        ("/label/1abc/values", {}, 'invalid label name: "1abc"'),
        ("/query_exemplars", {"query": "sum("}, 'invalid parameter "query"'),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_bad_parameters_are_bad_data_with_prometheus_messages(
    api: httpx.Client, method: str, path: str, params: dict[str, str], text: str
) -> None:
    r = api.get(path, params=params) if method == "GET" else api.post(path, data=params)
    _error(r, 400, "bad_data", text)


def test_a_range_at_the_point_limit_is_accepted_and_one_more_is_not(api: httpx.Client) -> None:
    # Prometheus' rule: (end - start) / step <= 11,000, so 11,001 points are fine
    ok = api.get("/query_range", params={"query": "1", "start": "0", "end": "11000", "step": "1"})
    assert ok.status_code == 200, ok.text
    assert len(ok.json()["data"]["result"][0]["values"]) == 11_001
    too_many = {"query": "1", "start": "0", "end": "11001", "step": "1"}
    _error(api.get("/query_range", params=too_many), 400, "bad_data", "maximum resolution")


def test_post_takes_only_a_form_body(api: httpx.Client) -> None:
    r = api.post("/query", content=b'{"query": "up"}', headers={"content-type": "application/json"})
    _error(r, 400, "bad_data", "application/x-www-form-urlencoded")


def test_buildinfo_exemplars_and_metadata_have_prometheus_shapes(api: httpx.Client) -> None:
    info = api.get("/status/buildinfo").json()
    assert info["status"] == "success" and info["data"]["version"] == __version__
    assert set(info["data"]) >= {"version", "revision", "branch", "buildUser", "goVersion"}
    exemplars = api.post("/query_exemplars", data={"query": "up", "start": "0", "end": "60"})
    assert exemplars.json() == {"status": "success", "data": []}
    meta = api.get("/metadata", params={"metric": "no_such_metric"}).json()
    assert meta == {"status": "success", "data": {}}


def test_a_query_past_its_timeout_is_a_503_timeout(api: httpx.Client) -> None:
    params = {"query": "count_over_time(vector(1)[1d:1s])", "timeout": "0.000001"}
    _error(api.get("/query", params=params), 503, "timeout", "query timed out")
    ok = api.get("/query", params={**params, "timeout": "2m", "time": "100000"}).json()
    assert ok["data"]["result"][0]["value"] == [100000, "86401"]


def test_otlp_metrics_are_queryable_and_described_in_metadata(
    hub: RunningHub, api: httpx.Client
) -> None:
    now = time.time_ns()
    point = NumberDataPoint(as_double=12.5, time_unix_nano=now, attributes=[kv("queue", "q1")])
    request = ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=resource("billing"),
                scope_metrics=[
                    ScopeMetrics(
                        metrics=[
                            Metric(
                                name="work.time",
                                unit="s",
                                description="Time spent working",
                                sum=Sum(
                                    data_points=[point],
                                    is_monotonic=True,
                                    aggregation_temporality=2,  # cumulative
                                ),
                            )
                        ]
                    )
                ],
            )
        ]
    )
    with hub.client() as client:
        r = client.post("/v1/metrics", content=request.SerializeToString(), headers=PROTOBUF)
        assert r.status_code == 200, r.text
    meta = api.get("/metadata", params={"metric": "work_time_seconds_total"}).json()["data"]
    assert meta == {
        "work_time_seconds_total": [
            {"type": "counter", "help": "Time spent working", "unit": "seconds"}
        ]
    }
    result = api.post(
        "/query", data={"query": 'sum by (job) (work_time_seconds_total{queue="q1"})'}
    ).json()
    assert result["data"]["result"] == [
        {"metric": {"job": "billing"}, "value": [result["data"]["result"][0]["value"][0], "12.5"]}
    ]
    names = api.get("/label/__name__/values", params={"match[]": '{job="billing"}'}).json()
    assert "work_time_seconds_total" in names["data"]
