"""Network checks: Redis (redis-py), HTTP endpoints (httpx), plain TCP."""

from __future__ import annotations

import json
import socket
from collections.abc import Container, Mapping
from urllib.parse import urlsplit

import httpx

from berrys_monitoring.health._checks_base import DEFAULT_CHECK_TIMEOUT, DependencyCheck, require
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._status import HealthStatus, coerce_status

__all__ = ["check_external_service", "check_http", "check_redis_connection", "check_tcp_connection"]

_MAX_BODY = 64 * 1024


class _Redis(DependencyCheck):
    kind = "Redis"
    component_type = "datastore"

    def __init__(self, url: str, timeout: float) -> None:
        super().__init__(url, timeout)
        self._redis = require("redis", "redis", "Redis")
        self._url = url

    def probe(self) -> CheckResult:
        client = self._redis.Redis.from_url(
            self._url, socket_connect_timeout=self.timeout, socket_timeout=self.timeout
        )
        try:
            client.ping()
            version = client.info("server").get("redis_version")
        finally:
            client.close()
        return CheckResult(
            status=HealthStatus.HEALTHY,
            message=f"Redis at {self.target} answered PING",
            details={"target": self.target, "server_version": version},
        )


class _HTTP(DependencyCheck):
    kind = "HTTP service"
    component_type = "system"

    def __init__(
        self,
        url: str,
        timeout: float,
        expected_status: int | Container[int] | None,
        method: str,
        headers: Mapping[str, str] | None,
        verify: bool,
    ) -> None:
        super().__init__(url, timeout)
        self._url = url
        self._expected = expected_status
        self._method = method.upper()
        self._headers = dict(headers or {})
        self._verify = verify

    def _status_ok(self, code: int) -> bool:
        if self._expected is None:
            return 200 <= code < 300
        if isinstance(self._expected, int):
            return code == self._expected
        return code in self._expected

    def probe(self) -> CheckResult:
        with httpx.Client(timeout=self.timeout, verify=self._verify) as client:
            resp = client.request(self._method, self._url, headers=self._headers)
        details: dict[str, object] = {"target": self.target, "status_code": resp.status_code}
        if not self._status_ok(resp.status_code):
            want = self._expected if self._expected is not None else "2xx"
            return CheckResult(
                status=HealthStatus.UNHEALTHY,
                message=f"{self.target} answered HTTP {resp.status_code} (expected {want})",
                details=details,
            )
        status = HealthStatus.HEALTHY
        remote = _remote_status(resp)
        if remote is not None:
            # A health endpoint can answer 200 while reporting "warn": carry that over.
            details["remote_status"] = remote.value
            if remote.severity > status.severity:
                status = remote
        message = f"{self.target} answered HTTP {resp.status_code}"
        if status is not HealthStatus.HEALTHY:
            message += f" reporting status {status.value!r}"
        return CheckResult(status=status, message=message, details=details)


def _remote_status(resp: httpx.Response) -> HealthStatus | None:
    ctype = resp.headers.get("content-type", "")
    if "json" not in ctype or len(resp.content) > _MAX_BODY:
        return None
    try:
        body = json.loads(resp.content)
    except ValueError:
        return None
    return coerce_status(body.get("status")) if isinstance(body, dict) else None


class _TCP(DependencyCheck):
    kind = "TCP service"
    component_type = "system"

    def __init__(self, host: str, port: int, timeout: float) -> None:
        super().__init__(f"{host}:{port}", timeout)
        self._addr = (host, int(port))

    def probe(self) -> CheckResult:
        with socket.create_connection(self._addr, timeout=self.timeout):
            pass
        return CheckResult(
            status=HealthStatus.HEALTHY,
            message=f"{self.target} accepts connections",
            details={"target": self.target},
        )


def check_redis_connection(url: str, *, timeout: float = DEFAULT_CHECK_TIMEOUT) -> DependencyCheck:
    """A check that sends ``PING`` to the Redis server at ``url`` (redis-py).

    Accepts ``redis://``, ``rediss://`` and ``unix://`` URLs. Needs
    ``pip install 'berrys-monitoring[redis]'``.

    Example::

        >>> from berrys_monitoring.health import register_health_check, check_redis_connection
        >>> _ = register_health_check("redis")(check_redis_connection("redis://127.0.0.1:6379/0"))
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"not a Redis URL (redis://, rediss://, unix://): {scheme or url!r}")
    return _Redis(url, timeout)


def check_http(
    url: str,
    *,
    expected_status: int | Container[int] | None = None,
    timeout: float = DEFAULT_CHECK_TIMEOUT,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
) -> DependencyCheck:
    """A check that requests ``url`` and expects ``expected_status`` (default: any 2xx).

    A JSON answer carrying ``"status": "warn"`` (health+json) makes the check degraded.

    Example::

        >>> from berrys_monitoring.health import check_http
        >>> check = check_http("http://127.0.0.1:9/health", timeout=0.5)
        >>> check().status
        <HealthStatus.UNHEALTHY: 'fail'>
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"check_http needs an http:// or https:// URL, got {url!r}")
    return _HTTP(url, timeout, expected_status, method, headers, verify)


def check_external_service(
    url: str,
    *,
    expected_status: int | Container[int] | None = None,
    timeout: float = DEFAULT_CHECK_TIMEOUT,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    verify: bool = True,
) -> DependencyCheck:
    """The guide's name for :func:`check_http`: a check of another service's endpoint.

    Example::

        >>> from berrys_monitoring.health import register_health_check, check_external_service
        >>> _ = register_health_check("api")(check_external_service("https://api.example.com/health"))
    """
    return check_http(
        url,
        expected_status=expected_status,
        timeout=timeout,
        method=method,
        headers=headers,
        verify=verify,
    )


def check_tcp_connection(
    host: str, port: int, *, timeout: float = DEFAULT_CHECK_TIMEOUT
) -> DependencyCheck:
    """A check that opens (and closes) a TCP connection to ``host:port``.

    Example::

        >>> from berrys_monitoring.health import check_tcp_connection
        >>> check_tcp_connection("127.0.0.1", 9, timeout=0.5)().is_healthy
        False
    """
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be an integer in 1..65535, got {port!r}")
    return _TCP(host, port, timeout)
