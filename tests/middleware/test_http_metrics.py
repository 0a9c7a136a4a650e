"""The single-process request aggregate exposes exactly what prometheus_client's own
metrics (the multi-process path) expose for the same requests."""

from __future__ import annotations

import re
from pathlib import Path

import prometheus_client
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from berrys_monitoring.middleware._http_metrics import (
    DURATION_BUCKETS,
    SIZE_BUCKETS,
    HttpInstruments,
    RequestAggregate,
    instruments_for,
)

# (method, route, status, seconds, request bytes, response bytes): several routes and
# statuses per route, values on bucket bounds, between them, above the last one and zero.
# The aggregate adds a route's durations per status, then the statuses: durations that
# share a route are dyadic fractions, exact in any order (0.1 + 0.2 is not).
REQUESTS = [
    ("GET", "/users/{user_id}", 200, 0.00390625, 0, 120),
    ("GET", "/users/{user_id}", 200, 0.25, 100, 5_000),
    ("GET", "/users/{user_id}", 200, 0.0625, 0, 100),
    ("GET", "/users/{user_id}", 404, 12.5, 0, 20_000_000),
    ("GET", "/users/{user_id}", 422, 0.0, 0, 0),
    ("POST", "/echo", 201, 0.078125, 1_000, 1_000),
    ("POST", "/echo", 500, 1.0, 10_000_000, 35),
    ("POST", "/echo", 201, 0.015625, 1_001, 999),
    ("DELETE", "/items/{id}", 204, 7.5, 0, 0),
    ("PUT", "/edge", 200, 0.005, 100_000, 10_000_000),
    ("OTHER", "<unmatched>", 405, 0.1, 7, 31),
]
_CREATED = re.compile(rb"^(\w+_created\{.*\}) \S+$", re.MULTILINE)


def _observe(inst: RequestAggregate | HttpInstruments) -> None:
    for method in ("GET", "GET", "POST", "PUT"):
        inst.begin(method)  # two GETs and a PUT stay in progress at the end
    for request in REQUESTS:
        inst.begin(request[0])
        inst.observe(*request)
    inst.observe("HEAD", "/health", 200, 0.001, 0, 2, started=False)
    inst.observe("POST", "/echo", 201, 0.5, 10, 10)  # the POST begun above


def _registries() -> tuple[CollectorRegistry, CollectorRegistry]:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    _observe(RequestAggregate(ours, DURATION_BUCKETS, SIZE_BUCKETS))
    _observe(HttpInstruments(theirs))
    return ours, theirs


def _same_apart_from_created(a: bytes, b: bytes) -> None:
    assert len(_CREATED.findall(a)) == len(_CREATED.findall(b))
    assert _CREATED.sub(rb"\1 T", a).decode() == _CREATED.sub(rb"\1 T", b).decode()


def test_text_exposition_equals_prometheus_clients() -> None:
    ours, theirs = _registries()
    text = generate_latest(ours)
    _same_apart_from_created(text, generate_latest(theirs))
    # The comparison saw the interesting parts.
    assert b'http_requests_in_progress{method="GET"} 2.0' in text
    assert b'http_requests_in_progress{method="PUT"} 1.0' in text
    assert b'http_requests_in_progress{method="POST"} 0.0' in text
    assert b'http_requests_in_progress{method="HEAD"}' not in text  # never begun
    assert b'http_request_duration_seconds_bucket{le="+Inf",method="GET"' in text
    assert len(_CREATED.findall(text)) > 0


def test_openmetrics_exposition_equals_prometheus_clients() -> None:
    ours, theirs = _registries()
    text = generate_openmetrics(ours)
    _same_apart_from_created(text, generate_openmetrics(theirs))
    assert text.endswith(b"# EOF\n")
    assert b'http_requests_total{method="POST",route="/echo",status="201"} 3.0' in text


def test_created_series_follow_prometheus_clients_switch() -> None:
    prometheus_client.disable_created_metrics()
    try:
        ours, theirs = _registries()
        for render in (generate_latest, generate_openmetrics):
            text = render(ours)
            assert b"_created" not in text
            assert text == render(theirs)  # nothing left to mask: byte for byte
    finally:
        prometheus_client.enable_created_metrics()
    ours, _ = _registries()
    assert b"http_requests_created{" in generate_latest(ours)


def test_histograms_sum_the_statuses_of_one_method_and_route() -> None:
    ours, theirs = _registries()
    labels = {"method": "GET", "route": "/users/{user_id}"}
    for registry in (ours, theirs):
        value = registry.get_sample_value
        # 200, 200, 200, 404 and 422: five requests whatever their status.
        assert value("http_request_duration_seconds_count", labels) == 5.0
        assert value("http_request_duration_seconds_sum", labels) == 12.81640625
        assert value("http_request_duration_seconds_bucket", {**labels, "le": "0.005"}) == 2.0
        assert value("http_request_duration_seconds_bucket", {**labels, "le": "0.075"}) == 3.0
        assert value("http_request_duration_seconds_bucket", {**labels, "le": "0.25"}) == 4.0
        assert value("http_request_duration_seconds_bucket", {**labels, "le": "10.0"}) == 4.0
        assert value("http_request_duration_seconds_bucket", {**labels, "le": "+Inf"}) == 5.0
        assert value("http_response_size_bytes_sum", labels) == 20_005_220.0
        assert value("http_response_size_bytes_bucket", {**labels, "le": "100.0"}) == 2.0
        assert value("http_request_size_bytes_bucket", {**labels, "le": "100.0"}) == 5.0
        status = {**labels, "status": "200"}
        assert value("http_requests_total", status) == 3.0
        assert value("http_requests_total", {**labels, "status": "404"}) == 1.0
        # Histograms carry no status label.
        assert value("http_request_duration_seconds_count", status) is None


def test_instruments_for_picks_the_aggregate_unless_multiprocess(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    single = CollectorRegistry()
    inst = instruments_for(single)
    assert type(inst) is RequestAggregate and instruments_for(single) is inst
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    multi = CollectorRegistry()
    assert type(instruments_for(multi)) is HttpInstruments
    assert instruments_for(single) is inst  # one instrument set per registry
