"""Redis, HTTP and TCP checks against real local servers; a server that accepts and never
answers turns into failed checks at their timeout, never a hung check_health()."""

from __future__ import annotations

import json
import logging
import time

import pytest

from berrys_monitoring.health import (
    HealthRegistry,
    HealthStatus,
    check_database_connection,
    check_external_service,
    check_http,
    check_redis_connection,
    check_tcp_connection,
)

SECRET = "r3disS3cretPass"


def test_redis_up_passes_with_server_version(redis_url: str) -> None:
    result = check_redis_connection(redis_url)()
    assert result.status is HealthStatus.HEALTHY, result.message
    assert result.message == f"Redis at {redis_url} answered PING"
    assert result.details["server_version"]


def test_redis_unreachable_fails_with_a_clear_message(refused_port: int) -> None:
    result = check_redis_connection(f"redis://127.0.0.1:{refused_port}/0")()
    assert result.status is HealthStatus.UNHEALTHY
    assert f"Redis at redis://127.0.0.1:{refused_port}/0 is unreachable" in result.message
    assert "ConnectionError" in result.message


def test_redis_password_is_masked(refused_port: int, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    reg = HealthRegistry()
    reg.register("redis")(check_redis_connection(f"redis://:{SECRET}@127.0.0.1:{refused_port}/0"))
    report = reg.check_health()
    text = json.dumps(report.to_dict()) + json.dumps(report.to_health_json()) + caplog.text
    assert report.checks["redis"].status is HealthStatus.UNHEALTHY
    assert f"redis://:***@127.0.0.1:{refused_port}/0" in report.checks["redis"].message
    assert SECRET not in text


def test_http_check_passes_on_2xx_and_reports_the_status_code(http_server) -> None:
    result = check_http(f"{http_server.url}/health")()
    assert result.status is HealthStatus.HEALTHY, result.message
    assert result.details["status_code"] == 200
    assert result.details["remote_status"] == "pass"


def test_http_check_fails_on_an_unexpected_status(http_server) -> None:
    result = check_external_service(f"{http_server.url}/broken")()
    assert result.status is HealthStatus.UNHEALTHY
    assert result.message == f"{http_server.url}/broken answered HTTP 500 (expected 2xx)"
    only_200 = check_http(f"{http_server.url}/created", expected_status=200)()
    assert (
        only_200.status is HealthStatus.UNHEALTHY and "HTTP 201 (expected 200)" in only_200.message
    )
    assert check_http(f"{http_server.url}/missing", expected_status={404})().is_healthy


def test_http_check_carries_a_remote_warn_over_as_degraded(http_server) -> None:
    result = check_http(f"{http_server.url}/health-warn")()
    assert result.status is HealthStatus.DEGRADED
    assert "reporting status 'warn'" in result.message


def test_http_check_fails_when_the_server_is_too_slow(http_server) -> None:
    result = check_http(f"{http_server.url}/slow", timeout=0.3)()
    assert result.status is HealthStatus.UNHEALTHY
    assert "ReadTimeout" in result.message


def test_http_check_fails_when_nothing_listens(refused_port: int) -> None:
    result = check_http(f"http://127.0.0.1:{refused_port}/health")()
    assert result.status is HealthStatus.UNHEALTHY
    assert "ConnectError" in result.message


def test_tcp_check_passes_when_the_port_accepts_and_fails_when_refused(
    http_server, refused_port: int
) -> None:
    assert check_tcp_connection("127.0.0.1", http_server.port)().is_healthy
    down = check_tcp_connection("127.0.0.1", refused_port)()
    assert down.status is HealthStatus.UNHEALTHY and "ConnectionRefusedError" in down.message


def test_a_server_that_never_answers_fails_every_check_at_its_timeout(hung_server) -> None:
    port = hung_server.port
    reg = HealthRegistry()
    timeout = 0.5
    # Driver timeouts (1.5 s default) are longer than the registered timeout on purpose:
    # the registry's timeout must win.
    reg.register("redis", timeout=timeout)(check_redis_connection(f"redis://127.0.0.1:{port}/0"))
    reg.register("postgres", timeout=timeout)(
        check_database_connection(f"postgresql://u:pw12345@127.0.0.1:{port}/db")
    )
    reg.register("mysql", timeout=timeout)(
        check_database_connection(f"mysql://root@127.0.0.1:{port}/test")
    )
    reg.register("http", timeout=timeout)(check_http(f"http://127.0.0.1:{port}/health"))
    reg.register("fine")(lambda: (True, "still answered"))
    t0 = time.monotonic()
    report = reg.check_health()
    elapsed = time.monotonic() - t0
    assert elapsed < timeout + 0.5, f"check_health took {elapsed:.2f}s"
    assert report.status is HealthStatus.UNHEALTHY and report.http_status == 503
    for name in ("redis", "postgres", "mysql", "http"):
        r = report.checks[name]
        assert r.status is HealthStatus.UNHEALTHY and r.timed_out, (name, r.message)
        assert r.message == "timed out after 0.5s"
    assert report.checks["fine"].is_healthy


def test_bad_network_check_arguments_raise_at_configuration_time() -> None:
    with pytest.raises(ValueError, match="not a Redis URL"):
        check_redis_connection("http://127.0.0.1:6379")
    with pytest.raises(ValueError, match="needs an http:// or https:// URL"):
        check_http("ftp://example.org/")
    with pytest.raises(ValueError, match="port must be"):
        check_tcp_connection("127.0.0.1", 70000)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        check_http("http://127.0.0.1/", timeout=0)
