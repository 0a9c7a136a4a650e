"""Fuzz the ingest and query endpoints of a real hub: never a 5xx, never a crash."""

from __future__ import annotations

import gzip
from urllib.parse import quote

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.hub.otlp import PROTOBUF, logs_request, spans_request

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
ENDPOINTS = st.sampled_from(["/v1/traces", "/v1/logs", "/v1/metrics"])
VALID = [
    spans_request("fuzz", 3).SerializeToString(),
    logs_request("fuzz", ["a", "b"]).SerializeToString(),
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "resourceSpans",
                    "resourceLogs",
                    "resourceMetrics",
                    "scopeSpans",
                    "spans",
                    "traceId",
                    "spanId",
                    "name",
                    "attributes",
                    "key",
                    "value",
                    "stringValue",
                    "intValue",
                    "logRecords",
                    "body",
                    "metrics",
                    "sum",
                    "dataPoints",
                    "asInt",
                    "timeUnixNano",
                    "histogram",
                    "bucketCounts",
                    "labels",
                    "annotations",
                    "startsAt",
                    "endsAt",
                    "url",
                    "job",
                ]
            )
            | st.text(max_size=8),
            inner,
            max_size=4,
        )
    ),
    max_leaves=30,
)


def _check(r: httpx.Response) -> None:
    assert r.status_code < 500, (r.status_code, r.text[:300])


@SETTINGS
@given(endpoint=ENDPOINTS, body=st.binary(max_size=2048), zipped=st.booleans())
def test_random_bytes_never_cause_a_5xx(
    client: httpx.Client, endpoint: str, body: bytes, zipped: bool
) -> None:
    headers = {**PROTOBUF, **({"Content-Encoding": "gzip"} if zipped else {})}
    _check(client.post(endpoint, content=gzip.compress(body) if zipped else body, headers=headers))


@SETTINGS
@given(
    endpoint=ENDPOINTS,
    which=st.sampled_from(VALID),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10_000),
)
def test_mutated_valid_requests_never_cause_a_5xx(
    client: httpx.Client, endpoint: str, which: bytes, flips: list[tuple[int, int]], cut: int
) -> None:
    body = bytearray(which)
    for pos, byte in flips:
        body[pos % len(body)] = byte
    _check(
        client.post(
            endpoint, content=bytes(body[: max(1, cut % (len(body) + 1))]), headers=PROTOBUF
        )
    )


@SETTINGS
@given(
    endpoint=ENDPOINTS
    | st.sampled_from(["/api/v2/alerts", "/api/v1/targets", "/api/v1/dashboards"]),
    document=json_values,
)
def test_random_json_never_causes_a_5xx(
    client: httpx.Client, endpoint: str, document: object
) -> None:
    import json

    body = json.dumps(document)
    _check(client.post(endpoint, content=body, headers={"Content-Type": "application/json"}))


@SETTINGS
@given(
    path=st.sampled_from(
        [
            "/api/v1/traces",
            "/api/v1/logs",
            "/api/v1/logs/counts",
            "/api/v1/services",
            "/api/v1/metrics/samples",
            "/api/v1/dependencies",
            "/api/v1/alerts",
            "/api/v1/dashboards",
        ]
    ),
    params=st.dictionaries(
        st.sampled_from(
            [
                "service",
                "operation",
                "status",
                "min_duration",
                "max_duration",
                "attribute",
                "start",
                "end",
                "limit",
                "level",
                "q",
                "trace_id",
                "cursor",
                "step",
                "name",
                "label",
                "state",
                "window",
            ]
        )
        | st.text(max_size=5),
        st.text(max_size=30),
        max_size=5,
    ),
)
def test_random_query_parameters_never_cause_a_5xx(
    client: httpx.Client, path: str, params: dict[str, str]
) -> None:
    _check(client.get(path, params=params))


@SETTINGS
@given(trace_id=st.text(max_size=40))
def test_random_trace_ids_never_cause_a_5xx(client: httpx.Client, trace_id: str) -> None:
    _check(client.get("/api/v1/traces/" + quote(trace_id, safe="")))
