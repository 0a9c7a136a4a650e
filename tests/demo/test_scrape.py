"""The summary's figures, computed from real prometheus_client exposition text."""

from __future__ import annotations

import math

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from berrys_monitoring.demo._scrape import histogram_quantile, parse_snapshot


def _registry() -> tuple[CollectorRegistry, Counter, Histogram]:
    reg = CollectorRegistry()
    requests = Counter("http_requests", "r", ["method", "route", "status"], registry=reg)
    duration = Histogram(
        "http_request_duration_seconds",
        "d",
        ["method", "route"],
        buckets=(0.01, 0.05, 0.1, 0.5, 1.0),
        registry=reg,
    )
    return reg, requests, duration


def test_snapshot_sums_requests_over_label_sets_and_counts_5xx_as_errors():
    reg, requests, _ = _registry()
    requests.labels("GET", "/users/{id}", "200").inc(7)
    requests.labels("GET", "/users/{id}", "404").inc(2)
    requests.labels("POST", "/users", "500").inc(1)
    requests.labels("GET", "/boom", "503").inc(3)
    snap = parse_snapshot(generate_latest(reg).decode(), at=0.0)
    assert snap.requests == 13
    assert snap.errors == 4


def test_snapshot_merges_histogram_buckets_of_all_routes():
    reg, _, duration = _registry()
    for _ in range(3):
        duration.labels("GET", "/a").observe(0.02)
    duration.labels("GET", "/b").observe(0.7)
    snap = parse_snapshot(generate_latest(reg).decode(), at=0.0)
    assert snap.buckets[0.01] == 0
    assert snap.buckets[0.05] == 3
    assert snap.buckets[1.0] == 4
    assert snap.buckets[math.inf] == 4


def test_p95_of_the_difference_between_two_scrapes_ignores_older_requests():
    reg, _, duration = _registry()
    for _ in range(100):
        duration.labels("GET", "/a").observe(0.9)  # before the window: slow
    before = parse_snapshot(generate_latest(reg).decode(), at=0.0)
    for _ in range(100):
        duration.labels("GET", "/a").observe(0.03)  # in the window: fast
    after = parse_snapshot(generate_latest(reg).decode(), at=10.0)
    diff = {le: c - before.buckets.get(le, 0.0) for le, c in after.buckets.items()}
    p95 = histogram_quantile(0.95, diff)
    assert p95 is not None and 0.01 < p95 <= 0.05


def test_histogram_quantile_interpolates_linearly_like_prometheus():
    buckets = {0.1: 50.0, 0.2: 100.0, math.inf: 100.0}
    assert histogram_quantile(0.5, buckets) == 0.1
    assert math.isclose(histogram_quantile(0.75, buckets) or 0, 0.15)
    assert histogram_quantile(0.95, {0.1: 0.0, math.inf: 0.0}) is None
    # the quantile in the open +Inf bucket is reported as the highest finite bound
    assert histogram_quantile(0.99, {0.1: 10.0, math.inf: 20.0}) == 0.1
