"""A service finds the hub with one setting: ``hub_url`` (or ``BERRYS_MONITORING_HUB_URL``).

With it, ``setup_monitoring`` sends the service's spans and log records to the hub over
OTLP (when it configures tracing and logging itself) and registers the service as a
scrape and health-probe target: ``POST {hub}/api/v1/targets``, repeated on an interval
from a daemon thread, so that a restarted hub learns its targets again. Without it,
nothing here runs: no thread, no network call.

The hub scrapes the address the service gives: ``service_url`` (or
``BERRYS_MONITORING_SERVICE_URL``), else the address the server reports on the first
request (the ASGI ``server`` or the WSGI ``SERVER_NAME``/``SERVER_PORT``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from berrys_monitoring._internal import HUB_TOKEN_ENV, HUB_URL_ENV, report_internal_error

__all__ = ["HUB_ENV", "SERVICE_URL_ENV", "HubLink", "check_url"]

HUB_ENV = HUB_URL_ENV
SERVICE_URL_ENV = "BERRYS_MONITORING_SERVICE_URL"
_COMPONENT = "middleware"


def check_url(name: str, value: object) -> str:
    """``value`` as an http(s) base URL without a trailing slash; ValueError otherwise.

    Example::

        >>> check_url("hub_url", "http://127.0.0.1:4318/")
        'http://127.0.0.1:4318'
    """
    if not isinstance(value, str):
        raise ValueError(f"{name} must be an http(s) URL, got {value!r}")
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        raise ValueError(f"{name}={value!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{name} must be an http(s) URL such as http://127.0.0.1:4318, got {value!r}"
        )
    return value.rstrip("/")


class HubLink:
    """The registration of one service with the hub, repeated every ``interval`` seconds.

    ``post`` is the transport (``httpx.post`` by default), a parameter so that tests can
    point it anywhere; a failed registration is counted and retried at the next tick,
    never raised.

    Example::

        >>> sent = []
        >>> link = HubLink("http://127.0.0.1:4318", job="users", service_url=None,
        ...                post=lambda url, **kw: sent.append((url, kw["json"])))
        >>> link.learn("127.0.0.1", 8000, "http")  # the first request says where we are
        >>> link.register_once()
        True
        >>> sent[0][0], sent[0][1]["url"], sent[0][1]["job"]
        ('http://127.0.0.1:4318/api/v1/targets', 'http://127.0.0.1:8000', 'users')
    """

    def __init__(
        self,
        hub_url: str,
        *,
        job: str,
        service_url: str | None,
        metrics_path: str = "/metrics",
        health_path: str = "/health",
        token: str | None = None,
        interval: float = 30.0,
        post: Callable[..., Any] | None = None,
    ) -> None:
        self.hub_url = hub_url
        self.job = job
        self.service_url = service_url
        self.metrics_path = metrics_path
        self.health_path = health_path
        self.token = token
        self.interval = interval
        self._post = post
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    @property
    def needs_url(self) -> bool:
        """True until the service's own address is known (checked once per request)."""
        return self.service_url is None

    def learn(self, host: str | None, port: int | str | None, scheme: str = "http") -> None:
        """Take the service's address from the server's view of a request, once."""
        if self.service_url is not None or not host:
            return
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        netloc = f"[{host}]" if ":" in host else host
        self.service_url = f"{scheme}://{netloc}:{port}" if port else f"{scheme}://{netloc}"
        self.start()

    def start(self) -> None:
        """Start the repeating registration (once per process; again after a fork)."""
        if self.service_url is None:
            return
        with self._lock:
            if self._thread is not None and self._pid == os.getpid():
                return
            self._pid = os.getpid()
            self._thread = threading.Thread(
                target=self._run, name="berrys-hub-registration", daemon=True
            )
            self._thread.start()

    def register_once(self) -> bool:
        """One ``POST /api/v1/targets``; True when the hub took it."""
        if self.service_url is None:
            return False
        body = {
            "url": self.service_url,
            "job": self.job,
            "metrics_path": self.metrics_path,
            "health_path": self.health_path,
        }
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        try:
            post = self._post
            if post is None:
                import httpx

                post = httpx.post
            response = post(
                f"{self.hub_url}/api/v1/targets", json=body, headers=headers, timeout=5.0
            )
            status = getattr(response, "status_code", 200)
            if status >= 400:
                report_internal_error(
                    _COMPONENT,
                    message=f"the hub at {self.hub_url} refused the registration ({status})",
                    key="hub-registration",
                )
                return False
            return True
        except Exception as exc:  # the hub is down or unreachable: try again later
            report_internal_error(
                _COMPONENT, exc, f"cannot register with the hub at {self.hub_url}", key="hub-down"
            )
            return False

    def _run(self) -> None:
        while True:
            self.register_once()
            if self._wake.wait(self.interval):
                return

    def stop(self) -> None:
        """Stop repeating (tests; a process that exits just lets the daemon thread go)."""
        self._wake.set()


def hub_link(
    hub_url: str | None,
    *,
    job: str,
    service_url: str | None,
    metrics_path: str,
    health_path: str,
) -> HubLink | None:
    """The link for ``setup_monitoring``'s options and the environment, or None."""
    url = hub_url or os.environ.get(HUB_ENV) or None
    if url is None:
        return None
    url = check_url("hub_url" if hub_url else HUB_ENV, url)
    service = service_url or os.environ.get(SERVICE_URL_ENV) or None
    if service is not None:
        service = check_url("service_url" if service_url else SERVICE_URL_ENV, service)
    link = HubLink(
        url,
        job=job,
        service_url=service,
        metrics_path=metrics_path,
        health_path=health_path,
        token=os.environ.get(HUB_TOKEN_ENV) or None,
    )
    link.start()
    return link
