"""Fuzz the Prometheus query API of a real hub holding data: whatever the query and the
parameters, the answer is Prometheus's JSON with a 2xx or 4xx, never a 5xx and never an
internal error."""

from __future__ import annotations

import time

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
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

SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NOW = time.time()

# fragments of PromQL, glued at random: valid queries, near misses and nonsense
ATOMS = ["up", "fuzz_total", 'fuzz_total{kind="a"}', "{__name__=~\"fuzz.*\"}", "1", "-2.5",
         "NaN", "Inf", '"text"', "vector(1)", "time()"]  # fmt: skip
RANGES = ["[1m]", "[5m]", "[30s:10s]", "[0s]", "[1m] offset 1m", " @ 100", "[1h:]"]
FUNCS = ["rate", "irate", "sum", "avg", "abs", "histogram_quantile(0.9,", "topk(2,",
         "quantile_over_time(0.5,", "label_replace(", "absent", "sort", "count_values(\"x\",",
         "scalar", "clamp(", "round(", "timestamp", "predict_linear(", "day_of_week"]  # fmt: skip
OPS = [" + ", " / ", " and ", " or ", " unless ", " > bool ", " == ", " % ", " ^ ",
       " * on(kind) group_left ", " / ignoring(kind) ", " atan2 "]  # fmt: skip

query_text = st.recursive(
    st.sampled_from(ATOMS),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(RANGES)).map("".join),
        st.tuples(st.sampled_from(FUNCS), inner).map(
            lambda t: f"{t[0]}{'' if t[0].endswith((',', '(')) else '('}{t[1]})"
        ),
        st.tuples(inner, st.sampled_from(OPS), inner).map("".join),
        st.tuples(st.sampled_from(["sum by (kind) (", "max without (x) (", "-("]), inner).map(
            lambda t: f"{t[0]}{t[1]})"
        ),
    ),
    max_leaves=6,
) | st.text(max_size=40)

times = st.one_of(
    st.floats(min_value=NOW - 600, max_value=NOW + 60).map(lambda t: f"{t:.3f}"),
    st.sampled_from(["", "0", "-1", "1e20", "nan", "2024-01-01T00:00:00Z", "now", "1.5e9"]),
)
steps = st.sampled_from(["", "0", "-5", "1", "15s", "1m", "0.001", "1h30m", "abc", "1e-9"])


@pytest.fixture(scope="module")
def filled(hub: RunningHub) -> RunningHub:
    """The shared hub, with a counter ``fuzz_total{kind}`` over the last ten minutes."""
    points = [
        NumberDataPoint(
            as_double=float(i * (2 if kind == "a" else 3)),
            time_unix_nano=int((NOW - 600 + i * 15) * 1e9),
            attributes=[kv("kind", kind)],
        )
        for kind in ("a", "b")
        for i in range(41)
    ]
    metric = Metric(name="fuzz", sum=Sum(data_points=points, is_monotonic=True,
                                         aggregation_temporality=2))  # fmt: skip
    request = ExportMetricsServiceRequest(
        resource_metrics=[ResourceMetrics(resource=resource("fuzz"),
                                          scope_metrics=[ScopeMetrics(metrics=[metric])])]
    )  # fmt: skip
    with hub.client() as client:
        r = client.post("/v1/metrics", content=request.SerializeToString(), headers=PROTOBUF)
        assert r.status_code == 200, r.text
    return hub


def _check(r: httpx.Response) -> None:
    assert r.status_code < 500 or r.json().get("errorType") == "timeout", r.text
    body = r.json()
    assert body["status"] in ("success", "error"), body
    if body["status"] == "error":
        assert body["errorType"] in ("bad_data", "execution", "timeout"), body
        assert not body["error"].startswith("internal error"), body


@SETTINGS
@given(query=query_text, at=times)
def test_random_instant_queries_never_cause_a_5xx(filled: RunningHub, query: str, at: str) -> None:
    with filled.client() as client:
        _check(client.post("/api/v1/query", data={"query": query, "time": at}))


@SETTINGS
@given(query=query_text, start=times, end=times, step=steps)
def test_random_range_queries_never_cause_a_5xx(
    filled: RunningHub, query: str, start: str, end: str, step: str
) -> None:
    params = {"query": query, "start": start, "end": end, "step": step}
    with filled.client() as client:
        _check(client.get("/api/v1/query_range", params=params))


@SETTINGS
@given(
    path=st.sampled_from(
        [
            "/series",
            "/labels",
            "/label/kind/values",
            "/label/__name__/values",
            "/metadata",
            "/query_exemplars",
        ]
    ),
    matchers=st.lists(query_text, max_size=3),
    start=times,
    end=times,
    limit=st.sampled_from(["", "0", "1", "-1", "x"]),
)
def test_random_metadata_requests_never_cause_a_5xx(
    filled: RunningHub, path: str, matchers: list[str], start: str, end: str, limit: str
) -> None:
    params = {"match[]": matchers, "start": start, "end": end, "limit": limit, "query": "up"}
    with filled.client() as client:
        _check(client.get("/api/v1" + path, params=params))
