"""``configure_metrics``: validate once, build the backends, swap them in atomically."""

from __future__ import annotations

import enum
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring._shutdown import flush_on_sigterm
from berrys_monitoring.metrics import _facade
from berrys_monitoring.metrics._console import ConsoleBackend
from berrys_monitoring.metrics._multiprocess import is_multiprocess
from berrys_monitoring.metrics._names import validate_prefix
from berrys_monitoring.metrics._prometheus import PrometheusBackend
from berrys_monitoring.metrics._statsd import StatsDBackend
from berrys_monitoring.metrics._store import forget_families

__all__ = [
    "MetricsBackend",
    "MetricsConfig",
    "configure_metrics",
    "flush_metrics",
    "get_metrics_config",
    "prometheus_backend",
    "reset_metrics",
]

_GAUGE_MODES = ("all", "liveall", "livesum", "max", "min", "sum", "mostrecent", "livemostrecent")


class MetricsBackend(str, enum.Enum):
    """Where metrics go. ``configure_metrics(backend=...)`` takes one or a list.

    Example::

        configure_metrics(backend=[MetricsBackend.PROMETHEUS, MetricsBackend.STATSD])
    """

    PROMETHEUS = "prometheus"
    STATSD = "statsd"
    CONSOLE = "console"
    OTLP = "otlp"


@dataclass(frozen=True)
class MetricsConfig:
    """The active metrics configuration (read it with ``get_metrics_config()``).

    Example::

        assert get_metrics_config().max_label_sets == 1000
    """

    backends: tuple[str, ...] = ("prometheus",)
    prefix: str = ""
    default_tags: Mapping[str, object] = field(default_factory=dict)
    enabled: bool = True
    registry: CollectorRegistry = REGISTRY
    max_label_sets: int = 1000
    statsd_host: str = "127.0.0.1"
    statsd_port: int = 8125
    otlp_endpoint: str = "http://127.0.0.1:4318"


_lock = threading.Lock()
_config = MetricsConfig()
_active: tuple[Any, ...] = ()


def _backend_list(backend: Any) -> list[Any]:
    items = list(backend) if isinstance(backend, (list, tuple, set, frozenset)) else [backend]
    if not items:
        raise ValueError("configure_metrics(backend=...) needs at least one backend")
    out: list[Any] = []
    for item in items:
        if isinstance(item, MetricsBackend):
            out.append(item)
        elif isinstance(item, str):
            try:
                out.append(MetricsBackend(item.lower()))
            except ValueError:
                names = ", ".join(m.value for m in MetricsBackend)
                raise ValueError(f"unknown metrics backend {item!r}: use one of {names}") from None
        elif all(hasattr(item, m) for m in ("increment", "gauge", "observe", "timing")):
            out.append(item)  # a custom Backend object
        else:
            raise ValueError(
                f"unknown metrics backend {item!r}: use MetricsBackend.PROMETHEUS, STATSD, "
                "CONSOLE, OTLP or an object implementing the Backend protocol"
            )
    return out


def _from_env(host: str | None, port: int | None, endpoint: str | None) -> tuple[str, int, str]:
    """Fill unset addresses from the variables Datadog and OpenTelemetry users already set."""
    env = os.environ
    host = host or env.get("STATSD_HOST") or env.get("DD_AGENT_HOST") or "127.0.0.1"
    if port is None:
        raw = env.get("STATSD_PORT") or env.get("DD_DOGSTATSD_PORT") or "8125"
        try:
            port = int(raw)
        except ValueError:
            raise ValueError(f"StatsD port from the environment is not a number: {raw!r}") from None
    endpoint = (
        endpoint
        or env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or "http://127.0.0.1:4318"
    )
    return host, port, endpoint


def configure_metrics(
    backend: MetricsBackend | str | Any | Sequence[Any] = MetricsBackend.PROMETHEUS,
    prefix: str = "",
    default_tags: Mapping[str, object] | None = None,
    enabled: bool = True,
    *,
    registry: CollectorRegistry | None = None,
    max_label_sets: int = 1000,
    histogram_buckets: Mapping[str, Sequence[float]] | None = None,
    default_buckets: Sequence[float] | None = None,
    exemplars: bool = True,
    gauge_multiprocess_mode: str = "livesum",
    statsd_host: str | None = None,
    statsd_port: int | None = None,
    statsd_max_packet_size: int = 1432,
    statsd_flush_interval: float = 0.5,
    statsd_sample_rate: float = 1.0,
    otlp_endpoint: str | None = None,
    otlp_headers: Mapping[str, str] | None = None,
    otlp_export_interval: float = 10.0,
    otlp_timeout: float = 10.0,
) -> None:
    """Choose backends, prefix and default tags. Raises ``ValueError`` on a bad setting.

    Recording functions never raise; every mistake this function can detect raises here.
    Unset addresses come from ``STATSD_HOST``/``DD_AGENT_HOST``, ``STATSD_PORT``/
    ``DD_DOGSTATSD_PORT`` and ``OTEL_EXPORTER_OTLP_METRICS_ENDPOINT``/
    ``OTEL_EXPORTER_OTLP_ENDPOINT``, else ``127.0.0.1:8125`` and ``http://127.0.0.1:4318``.
    Calling it again replaces the previous backends (after flushing them).

    Example::

        configure_metrics(
            backend=MetricsBackend.PROMETHEUS,
            prefix="berrys_agents",
            default_tags={"environment": "production", "service": "api-gateway"},
            enabled=True,
        )
    """
    global _config, _active
    kinds = _backend_list(backend)
    pfx = validate_prefix(prefix)
    tags = dict(default_tags or {})
    for k in tags:
        if not isinstance(k, str) or not k:
            raise ValueError(f"default_tags keys must be non-empty strings, got {k!r}")
    if not isinstance(max_label_sets, int) or max_label_sets < 1:
        raise ValueError(f"max_label_sets must be a positive integer, got {max_label_sets!r}")
    if gauge_multiprocess_mode not in _GAUGE_MODES:
        raise ValueError(
            f"unknown gauge_multiprocess_mode {gauge_multiprocess_mode!r}: use one of {_GAUGE_MODES}"
        )
    if not 0.0 < statsd_sample_rate <= 1.0:
        raise ValueError(f"statsd_sample_rate must be in (0, 1], got {statsd_sample_rate!r}")
    statsd_host, statsd_port, otlp_endpoint = _from_env(statsd_host, statsd_port, otlp_endpoint)
    if not 1 <= int(statsd_port) <= 65535:
        raise ValueError(f"statsd_port must be 1..65535, got {statsd_port!r}")
    if statsd_max_packet_size < 64:
        raise ValueError(f"statsd_max_packet_size must be >= 64, got {statsd_max_packet_size!r}")
    if not statsd_flush_interval > 0:
        raise ValueError(f"statsd_flush_interval must be > 0, got {statsd_flush_interval!r}")
    for bname, bounds in {**(histogram_buckets or {}), "": default_buckets or [1.0]}.items():
        b = [float(x) for x in bounds]
        if not b or b != sorted(b) or any(math.isnan(x) for x in b):
            raise ValueError(f"histogram buckets for {bname or 'default'!r} must be sorted numbers")
    reg = registry if registry is not None else REGISTRY

    built: list[Any] = []
    try:
        for kind in kinds:
            if kind is MetricsBackend.PROMETHEUS:
                built.append(
                    PrometheusBackend(
                        reg,
                        pfx,
                        tags,
                        max_label_sets=max_label_sets,
                        buckets=histogram_buckets,
                        default_buckets=default_buckets,
                        exemplars=exemplars,
                        gauge_mode=gauge_multiprocess_mode,
                        multiprocess=is_multiprocess() and registry is None,
                    )
                )
            elif kind is MetricsBackend.STATSD:
                built.append(
                    StatsDBackend(
                        statsd_host,
                        statsd_port,
                        pfx,
                        tags,
                        max_packet_size=statsd_max_packet_size,
                        flush_interval=statsd_flush_interval,
                        sample_rate=statsd_sample_rate,
                    )
                )
            elif kind is MetricsBackend.CONSOLE:
                built.append(ConsoleBackend(pfx, tags))
            elif kind is MetricsBackend.OTLP:
                from berrys_monitoring.metrics._otlp import OTLPBackend

                built.append(
                    OTLPBackend(
                        otlp_endpoint,
                        pfx,
                        tags,
                        headers=otlp_headers,
                        export_interval=otlp_export_interval,
                        timeout=otlp_timeout,
                        buckets=histogram_buckets,
                    )
                )
            else:
                built.append(kind)
    except BaseException:
        for b in built:
            _close(b)
        raise

    with _lock:
        old = _active
        _active = tuple(built)
        _config = MetricsConfig(
            backends=tuple(
                k.value
                if isinstance(k, MetricsBackend)
                else str(getattr(k, "name", type(k).__name__))
                for k in kinds
            ),
            prefix=pfx,
            default_tags=tags,
            enabled=bool(enabled),
            registry=reg,
            max_label_sets=max_label_sets,
            statsd_host=statsd_host,
            statsd_port=int(statsd_port),
            otlp_endpoint=otlp_endpoint,
        )
        _facade._backends = _active if enabled else ()
    if any(k in (MetricsBackend.STATSD, MetricsBackend.OTLP) for k in kinds):
        flush_on_sigterm()  # these queue what they send
    for b in old:
        if b not in built:
            _close(b)


def _close(backend: Any) -> None:
    try:
        backend.close()
    except Exception as exc:
        report_internal_error("metrics", exc, "cannot close a metrics backend")


def get_metrics_config() -> MetricsConfig:
    """The active configuration.

    Example::

        assert get_metrics_config().enabled
    """
    return _config


def prometheus_backend() -> PrometheusBackend | None:
    """The active PROMETHEUS backend, if any (used by the exposition and current_value)."""
    for b in _active:
        if isinstance(b, PrometheusBackend):
            return b
    return None


def flush_metrics(timeout: float = 10.0) -> None:
    """Send what push backends (StatsD, OTLP) have buffered now. Never raises.

    Example::

        flush_metrics()
    """
    for b in _active:
        try:
            if hasattr(b, "flush"):
                if getattr(b, "name", "") == "otlp":
                    b.flush(timeout)
                else:
                    b.flush()
        except Exception as exc:
            report_internal_error("metrics", exc, "cannot flush metrics")


def reset_metrics(registry: CollectorRegistry | None = None) -> None:
    """Back to the defaults (PROMETHEUS on the default registry, no prefix), forgetting
    every facade metric. For tests: call it between tests that record metrics.

    Example::

        reset_metrics()
    """
    reg_used = {_config.registry}
    if registry is not None:
        reg_used.add(registry)
    configure_metrics()
    for reg in reg_used:
        forget_families(reg)
    configure_metrics()  # fresh caches: the old backend's children belong to forgotten metrics
