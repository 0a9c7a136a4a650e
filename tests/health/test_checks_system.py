"""Disk and memory checks read the real host and grade it against thresholds."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from berrys_monitoring.health import HealthRegistry, HealthStatus, check_disk_space, check_memory


def _free_percent(path: str) -> float:
    u = shutil.disk_usage(path)
    return 100.0 * u.free / u.total


def test_disk_space_reports_utilization_of_the_real_filesystem(tmp_path: Path) -> None:
    result = check_disk_space(str(tmp_path), min_free_percent=0, warn_free_percent=0)()
    assert result.is_healthy
    used = 100.0 - _free_percent(str(tmp_path))
    assert result.observed_unit == "percent"
    assert abs(result.observed_value - used) < 1.0
    assert result.details["free_bytes"] > 0 and str(tmp_path) in result.message


def test_disk_space_degrades_below_warn_and_fails_below_min(tmp_path: Path) -> None:
    free = _free_percent(str(tmp_path))
    assert 0.5 < free < 99.5, "needs a filesystem that is neither empty nor full"
    warn = check_disk_space(str(tmp_path), min_free_percent=0, warn_free_percent=100)()
    fail = check_disk_space(str(tmp_path), min_free_percent=100, warn_free_percent=100)()
    too_few_bytes = check_disk_space(str(tmp_path), min_free_percent=0, min_free_bytes=2**62)()
    assert warn.status is HealthStatus.DEGRADED
    assert fail.status is HealthStatus.UNHEALTHY
    assert too_few_bytes.status is HealthStatus.UNHEALTHY


def test_disk_check_renders_as_disk_utilization_in_health_json(tmp_path: Path) -> None:
    reg = HealthRegistry()
    reg.register("disk")(check_disk_space(str(tmp_path), min_free_percent=0, warn_free_percent=0))
    entry = reg.check_health().to_health_json()["checks"]["disk:utilization"][0]
    assert entry["componentType"] == "system" and entry["observedUnit"] == "percent"


def test_memory_reports_real_usage_and_grades_it() -> None:
    ok = check_memory(max_used_percent=100, warn_used_percent=100)()
    assert ok.is_healthy and 0 < ok.observed_value < 100
    assert ok.details["total_bytes"] > ok.details["available_bytes"] > 0
    assert ok.details["process_rss_bytes"] > 0
    assert check_memory(max_used_percent=100, warn_used_percent=0)().status is HealthStatus.DEGRADED
    assert check_memory(max_used_percent=0, warn_used_percent=0)().status is HealthStatus.UNHEALTHY
    tiny_rss = check_memory(max_used_percent=100, warn_used_percent=100, max_process_rss_bytes=1)
    assert tiny_rss().status is HealthStatus.UNHEALTHY


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: check_disk_space("/", min_free_percent=20, warn_free_percent=10), "warn_free"),
        (lambda: check_disk_space("/", min_free_percent=120), "between 0 and 100"),
        (lambda: check_disk_space("/no/such/path"), "does not exist"),
        (lambda: check_memory(max_used_percent=80, warn_used_percent=90), "warn_used"),
        (lambda: check_memory(max_process_rss_bytes=0), "max_process_rss_bytes"),
    ],
)
def test_bad_thresholds_raise_at_configuration_time(call, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        call()
