"""The options of ``setup_monitoring``, validated once at configuration time."""

from __future__ import annotations

import base64
import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from typing_extensions import TypedDict

from berrys_monitoring.middleware._hub import check_url

__all__ = ["MonitoringOptions", "SetupOptions", "build_options"]

_HEADER_RE = re.compile(r"^[A-Za-z0-9-]+$")

# What a request header is to the middleware (``MonitoringOptions.wanted_headers``).
HEADER_HOST, HEADER_REQUEST_ID, HEADER_LENGTH, HEADER_AGENT, HEADER_PROPAGATION = range(5)


def wanted_headers(request_id_header: bytes) -> dict[bytes, int]:
    """The request headers the middleware reads, by lowercase name, and what each is.

    Example::

        >>> wanted_headers(b"x-request-id")[b"x-request-id"] == HEADER_REQUEST_ID
        True
    """
    names = dict.fromkeys((b"traceparent", b"tracestate", b"baggage"), HEADER_PROPAGATION)
    # Either announces a body; its size is counted as it arrives.
    names.update({b"content-length": HEADER_LENGTH, b"transfer-encoding": HEADER_LENGTH})
    names[b"host"] = HEADER_HOST
    names[b"user-agent"] = HEADER_AGENT
    names[request_id_header] = HEADER_REQUEST_ID
    return names


class SetupOptions(TypedDict, total=False):
    """The keyword options of both ``setup_monitoring`` functions (FastAPI and Flask).

    Every option is optional; a type checker checks them at the call, and
    ``setup_monitoring`` checks them again at run time (a bad value raises there).

    * ``health_path`` (``"/health"``): the health endpoint; ``/live`` and ``/ready``
      are added below it.
    * ``metrics_path`` (``"/metrics"``): the Prometheus exposition.
    * ``excluded_paths`` (``()``): paths kept out of metrics, traces *and* access logs;
      exact, or a prefix when they end with ``*`` (``"/static/*"``). The health and
      metrics paths are always excluded.
    * ``enable_tracing`` / ``enable_metrics`` (``True``): the server span and the HTTP
      metrics of each request.
    * ``sample_rate`` (``None``): the fraction of new traces kept when tracing is
      configured by ``setup_monitoring``; ``None`` defers to the tracer provider.
    * ``log_requests`` (``True``): one JSON access line per request.
    * ``request_id_header`` (``"X-Request-ID"``): taken when sane, else made; echoed.
    * ``metrics_auth`` (``None``): a bearer token string, or a ``(user, password)`` pair
      for HTTP Basic, required on the metrics endpoint.
    * ``health_auth`` (``None``): the same, required to see the health details (checks,
      messages, timings); every other caller gets only the status, and the probes
      (``/live``, ``/ready``) keep answering without it.
    * ``trace_response_header`` (``True``): the trace id in ``X-Trace-Id``.
    * ``configure_defaults`` (``True``): configure logging and tracing when the
      application has not.
    * ``environment`` / ``version``: written on every line and span resource.
    * ``registry`` (``None``): a ``prometheus_client.CollectorRegistry`` of your own.
    * ``hub_url`` (``None``, or ``$BERRYS_MONITORING_HUB_URL``): the telemetry hub. Spans
      and log records go there over OTLP (when ``setup_monitoring`` configures tracing
      and logging), and the service registers itself as a scrape and probe target.
    * ``service_url`` (``None``, or ``$BERRYS_MONITORING_SERVICE_URL``): where the hub
      reaches this service; by default the address the server reports on the first
      request.

    Example::

        >>> from berrys_monitoring.middleware import SetupOptions
        >>> options: SetupOptions = {"excluded_paths": ["/static/*"], "sample_rate": 0.1}
        >>> sorted(options)
        ['excluded_paths', 'sample_rate']
    """

    health_path: str
    metrics_path: str
    excluded_paths: Sequence[str]
    enable_tracing: bool
    enable_metrics: bool
    sample_rate: float | None
    log_requests: bool
    request_id_header: str
    metrics_auth: tuple[str, str] | str | None
    health_auth: tuple[str, str] | str | None
    trace_response_header: bool
    configure_defaults: bool
    environment: str | None
    version: str | None
    registry: Any
    hub_url: str | None
    service_url: str | None


@dataclass(frozen=True)
class MonitoringOptions:
    """Everything ``setup_monitoring`` can be told; all fields have working defaults.

    ``excluded_paths`` entries match a path exactly, or as a prefix when they end with
    ``*`` (``"/static/*"``). The health and metrics paths are always excluded: excluded
    requests stay out of metrics, traces *and* access logs (one switch).

    ``metrics_auth`` protects the metrics endpoint: a ``(user, password)`` pair asks for
    HTTP Basic auth, a string for a bearer token.

    ``health_auth`` (the same forms) keeps the health endpoints' details (checks,
    messages, timings) for authorized callers: everyone else, probes included, gets the
    status code and the minimal health+json body ``{"status": "pass"}``.

    ``sample_rate``: ``None`` defers to the tracer provider's sampler; a number between
    0 and 1 samples that fraction of the requests that arrive without a sampled parent.

    Example::

        >>> from berrys_monitoring.middleware import MonitoringOptions
        >>> MonitoringOptions(service_name="users").metrics_path
        '/metrics'
    """

    service_name: str
    health_path: str = "/health"
    metrics_path: str = "/metrics"
    excluded_paths: tuple[str, ...] = ()
    enable_tracing: bool = True
    enable_metrics: bool = True
    sample_rate: float | None = None
    log_requests: bool = True
    request_id_header: str = "X-Request-ID"
    metrics_auth: tuple[str, str] | str | None = field(default=None, repr=False)
    health_auth: tuple[str, str] | str | None = field(default=None, repr=False)
    trace_response_header: bool = True
    configure_defaults: bool = True
    environment: str | None = None
    version: str | None = None
    registry: Any = None
    hub_url: str | None = None
    service_url: str | None = None

    # Lookups derived from the fields above when the options are made (also by hand or
    # by dataclasses.replace), so the hot path does set and dict lookups only.
    exact_excluded: frozenset[str] = field(init=False, repr=False, compare=False)
    prefix_excluded: tuple[str, ...] = field(init=False, repr=False, compare=False)
    request_id_header_lower: bytes = field(init=False, repr=False, compare=False)
    wanted_headers: dict[bytes, int] = field(init=False, repr=False, compare=False)
    endpoints: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        health, metrics = self.health_path, self.metrics_path
        exact = {health, health + "/live", health + "/ready", metrics}
        prefixes = []
        for entry in self.excluded_paths:
            if entry.endswith("*"):
                prefixes.append(entry[:-1])
            else:
                exact.add(entry)
        # "/users" and "/users/" alike (but "/" stays itself).
        exact |= {p + "/" for p in exact if not p.endswith("/")}
        endpoints = {metrics: "metrics", health: "health"}
        endpoints[health + "/live"] = "live"
        endpoints[health + "/ready"] = "ready"
        endpoints.update({p + "/": kind for p, kind in endpoints.items()})
        header = self.request_id_header.lower().encode("latin-1")
        derived = {
            "exact_excluded": frozenset(exact),
            "prefix_excluded": tuple(prefixes),
            "request_id_header_lower": header,
            "wanted_headers": wanted_headers(header),
            "endpoints": endpoints,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)

    def is_excluded(self, path: str) -> bool:
        """True when requests to ``path`` are kept out of metrics, traces and logs.

        Example::

            >>> from berrys_monitoring.middleware._options import build_options
            >>> build_options("svc", {"excluded_paths": ["/static/*"]}).is_excluded("/static/a.css")
            True
        """
        if path in self.exact_excluded:
            return True
        # str.startswith takes a tuple: one C-level call for every prefix.
        return bool(self.prefix_excluded) and path.startswith(self.prefix_excluded)

    def metrics_authorized(self, authorization: str | None) -> bool:
        """Check an ``Authorization`` header value against ``metrics_auth``."""
        return _authorized(self.metrics_auth, authorization)

    def health_authorized(self, authorization: str | None) -> bool:
        """Check an ``Authorization`` header value against ``health_auth``."""
        return _authorized(self.health_auth, authorization)

    @property
    def metrics_challenge(self) -> str:
        """The ``WWW-Authenticate`` value sent with a 401 from the metrics endpoint."""
        if isinstance(self.metrics_auth, str):
            return 'Bearer realm="metrics"'
        return 'Basic realm="metrics"'


def _authorized(auth: tuple[str, str] | str | None, authorization: str | None) -> bool:
    """True when ``authorization`` (a header value) satisfies ``auth`` (None: anyone)."""
    if auth is None:
        return True
    if not authorization:
        return False
    scheme, _, value = authorization.partition(" ")
    value = value.strip()
    if isinstance(auth, str):
        return scheme.lower() == "bearer" and hmac.compare_digest(value.encode(), auth.encode())
    if scheme.lower() != "basic":
        return False
    expected = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
    return hmac.compare_digest(value.encode(), expected.encode())


_KNOWN = frozenset(SetupOptions.__annotations__)


def _path(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value.startswith("/") or len(value) < 2:
        raise ValueError(f"{name} must be a path starting with '/', got {value!r}")
    return value.rstrip("/") or value


def build_options(service_name: str, options: Mapping[str, Any]) -> MonitoringOptions:
    """Validate ``setup_monitoring`` keyword options; raise ``ValueError``/``TypeError`` early.

    Example::

        >>> build_options("svc", {"metrics_path": "/internal/metrics/"}).metrics_path
        '/internal/metrics'
    """
    if not isinstance(service_name, str) or not service_name.strip():
        raise ValueError("service_name must be a non-empty string")
    unknown = set(options) - _KNOWN
    if unknown:
        raise TypeError(
            f"setup_monitoring() got unknown option(s) {sorted(unknown)}; known: {sorted(_KNOWN)}"
        )
    opts = dict(options)
    health = _path("health_path", opts.get("health_path", "/health"))
    metrics = _path("metrics_path", opts.get("metrics_path", "/metrics"))
    excluded_in = opts.get("excluded_paths") or ()
    if isinstance(excluded_in, str):
        raise TypeError("excluded_paths must be a list of paths, not a single string")
    excluded = tuple(_check_excluded(excluded_in))
    rate = opts.get("sample_rate")
    if rate is not None and (
        isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0
    ):
        raise ValueError(f"sample_rate must be a number between 0 and 1, got {rate!r}")
    header = opts.get("request_id_header", "X-Request-ID")
    if not isinstance(header, str) or not _HEADER_RE.match(header):
        raise ValueError(f"request_id_header must be an HTTP header name, got {header!r}")
    for auth_option in ("metrics_auth", "health_auth"):
        auth = opts.get(auth_option)
        if auth is not None and not (
            (isinstance(auth, str) and auth)
            or (
                isinstance(auth, tuple)
                and len(auth) == 2
                and all(isinstance(p, str) and p for p in auth)
            )
        ):
            raise ValueError(
                f"{auth_option} must be a bearer token string or a (user, password) tuple"
            )
    for name in ("hub_url", "service_url"):
        if opts.get(name) is not None:
            opts[name] = check_url(name, opts[name])
    opts.update(
        health_path=health,
        metrics_path=metrics,
        excluded_paths=excluded,
        sample_rate=None if rate is None else float(rate),
        request_id_header=header,
    )
    return MonitoringOptions(service_name=service_name, **opts)


def _check_excluded(paths: Iterable[Any]) -> Iterable[str]:
    for p in paths:
        if not isinstance(p, str) or not p.startswith("/"):
            raise ValueError(f"excluded_paths entries must start with '/', got {p!r}")
        yield p
