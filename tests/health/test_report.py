"""HealthReport: aggregation, HTTP status, mapping access and the application/health+json
document (draft-inadarei-api-health-check)."""

from __future__ import annotations

import json
import re

import pytest

from berrys_monitoring.health import (
    HEALTH_JSON_CONTENT_TYPE,
    CheckResult,
    HealthRegistry,
    HealthStatus,
)

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")


@pytest.mark.parametrize(
    ("checks", "overall", "http"),
    [
        ([("a", "pass", True), ("b", "pass", True)], "pass", 200),
        ([("a", "pass", True), ("b", "warn", True)], "warn", 200),
        ([("a", "pass", True), ("b", "fail", False)], "warn", 200),
        ([("a", "warn", False), ("b", "fail", False)], "warn", 200),
        ([("a", "fail", True), ("b", "warn", True)], "fail", 503),
    ],
)
def test_aggregation_and_http_status(checks, overall: str, http: int) -> None:
    reg = HealthRegistry()
    for name, status, critical in checks:
        reg.register(name, lambda s=status: s, critical=critical)
    report = reg.check_health()
    assert report.status == overall
    assert report.http_status == http
    assert report.content_type == HEALTH_JSON_CONTENT_TYPE == "application/health+json"


def test_health_json_document_follows_the_draft() -> None:
    reg = HealthRegistry(service_id="users", version="1", release_id="1.4.2")
    reg.register("database", lambda: (True, "ok"), component_type="datastore")
    reg.register("cache", lambda: (False, "connection refused"), critical=False)
    doc = reg.check_health().to_health_json()
    json.dumps(doc)  # serialisable as is
    assert doc["status"] == "warn"
    assert doc["serviceId"] == "users" and doc["version"] == "1" and doc["releaseId"] == "1.4.2"
    assert doc["output"] == "cache: connection refused"
    db = doc["checks"]["database:responseTime"]
    assert isinstance(db, list) and len(db) == 1
    entry = db[0]
    assert entry["componentType"] == "datastore"
    assert entry["status"] == "pass" and entry["observedUnit"] == "ms"
    assert isinstance(entry["observedValue"], float)
    assert ISO_UTC.match(entry["time"]), entry["time"]
    assert "output" not in entry  # the draft: omit output for "pass"
    cache = doc["checks"]["cache:responseTime"][0]
    assert cache["status"] == "fail" and cache["output"] == "connection refused"


def test_a_passing_document_has_no_output() -> None:
    reg = HealthRegistry()
    reg.register("a", lambda: True)
    doc = reg.check_health().to_health_json()
    assert doc == {"status": "pass", "checks": doc["checks"]} and "output" not in doc


def test_the_report_reads_like_a_dict() -> None:
    reg = HealthRegistry()
    reg.register("database", lambda: (True, "Database connection is healthy"))
    report = reg.check_health()
    assert report["status"] == "pass" and report["state"] == "healthy"
    assert report["checks"]["database"]["message"] == "Database connection is healthy"
    assert "checks" in report and set(dict(report)) == set(report.to_dict())
    assert json.loads(json.dumps(dict(report)))["healthy"] is True
    assert bool(report) is True


def test_status_names_labels_and_aliases() -> None:
    assert HealthStatus.HEALTHY is HealthStatus.PASS and HealthStatus.HEALTHY == "pass"
    assert HealthStatus.DEGRADED is HealthStatus.WARN and HealthStatus.WARN.label == "degraded"
    assert HealthStatus.UNHEALTHY is HealthStatus.FAIL and str(HealthStatus.FAIL) == "fail"


def test_a_check_result_reads_like_a_dict_and_a_tuple() -> None:
    r = CheckResult(HealthStatus.UNHEALTHY, "down", name="db")
    assert r["status"] == "fail" and r["message"] == "down"
    assert r.as_tuple() == (False, "down") and not r.healthy
    assert "name='db'" in repr(r) and "status='fail'" in repr(r)


def test_report_repr_summarises() -> None:
    reg = HealthRegistry()
    reg.register("db", lambda: False)
    assert repr(reg.check_health()) == (
        "HealthReport(status='fail' (unhealthy), checks=1, failed=['db'], http_status=503)"
    )
