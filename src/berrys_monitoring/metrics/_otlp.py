"""The OTLP backend: the OpenTelemetry metrics SDK pushing OTLP/HTTP to a collector or the hub.

A private ``MeterProvider`` (never the global one, so tracing and other libraries keep
theirs) with a periodic reader. Export failures are counted and logged once through
``_internal``; the SDK exports from its own thread, so the caller never waits on the network.
"""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from berrys_monitoring._internal import is_strict, quiet_otlp_exporter_logs, report_internal_error
from berrys_monitoring._shutdown import on_flush
from berrys_monitoring.metrics._names import COUNTER, GAUGE, HISTOGRAM, TIMER, metric_name

__all__ = ["OTLPBackend", "metrics_url"]

INSTALL_HINT = "pip install 'berrys-monitoring[otlp]'"

#: How long interpreter exit may wait for the last export. The SDK's own exit hook waits
#: for the full export timeout, retries included (7 s with a collector that is down and
#: the default 10 s timeout), which holds up every short-lived job and CLI run.
EXIT_TIMEOUT = 2.0


def metrics_url(endpoint: str) -> str:
    """``http://host:4318`` -> ``http://host:4318/v1/metrics``; raises ValueError when malformed."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"invalid OTLP endpoint {endpoint!r}: expected http(s)://host:port, "
            "e.g. 'http://127.0.0.1:4318'"
        )
    if parts.path.rstrip("/").endswith("/v1/metrics"):
        return endpoint
    return endpoint.rstrip("/") + "/v1/metrics"


def _exporter_class() -> Any:
    try:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    except ImportError as exc:
        raise ImportError(
            f"the OTLP metrics backend needs the OTLP exporter: {INSTALL_HINT}"
        ) from exc
    from opentelemetry.sdk.metrics.export import MetricExportResult

    quiet_otlp_exporter_logs("metrics")

    class _CountingExporter(OTLPMetricExporter):  # type: ignore[misc]
        def export(
            self, metrics_data: Any, timeout_millis: float | None = 10_000, **kw: Any
        ) -> Any:
            try:
                result = super().export(metrics_data, timeout_millis, **kw)
            except Exception as exc:
                report_internal_error(
                    "metrics", exc, "OTLP metrics export failed", key="otlp_export"
                )
                return MetricExportResult.FAILURE
            if result is not MetricExportResult.SUCCESS:
                report_internal_error(
                    "metrics",
                    None,
                    f"OTLP metrics export to {self._endpoint} failed",
                    key="otlp_export",
                )
            return result

    return _CountingExporter


class OTLPBackend:
    """Facade metrics as OpenTelemetry instruments exported over OTLP/HTTP (protobuf)."""

    name = "otlp"

    def __init__(
        self,
        endpoint: str = "http://127.0.0.1:4318",
        prefix: str = "",
        default_tags: Mapping[str, object] | None = None,
        *,
        headers: Mapping[str, str] | None = None,
        export_interval: float = 10.0,
        timeout: float = 10.0,
        buckets: Mapping[str, Sequence[float]] | None = None,
    ) -> None:
        url = metrics_url(endpoint)
        exporter_cls = _exporter_class()
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
        from opentelemetry.sdk.resources import Resource

        self.prefix = prefix
        self.timeout = float(timeout)
        self.default_tags = {str(k): _attr(v) for k, v in (default_tags or {}).items()}
        self.buckets = dict(buckets or {})
        resource_attrs: dict[str, Any] = {}
        if "service" in self.default_tags:
            resource_attrs["service.name"] = self.default_tags["service"]
        self.exporter = exporter_cls(endpoint=url, headers=dict(headers or {}), timeout=timeout)
        self.reader = PeriodicExportingMetricReader(
            self.exporter,
            export_interval_millis=export_interval * 1000.0,
            export_timeout_millis=timeout * 1000.0,
        )
        self.provider = MeterProvider(
            metric_readers=[self.reader],
            resource=Resource.create(resource_attrs),
            shutdown_on_exit=False,  # ours, bounded by EXIT_TIMEOUT: see _at_exit
        )
        self._closed = False
        self.meter = self.provider.get_meter("berrys_monitoring.metrics")
        self._instruments: dict[tuple[str, str], Any] = {}
        self._attrs: dict[object, dict[str, Any]] = {}
        self._lock = threading.Lock()
        _live.add(self)

    def _instrument(self, kind: str, name: str) -> Any:
        inst = self._instruments.get((kind, name))
        if inst is None:
            with self._lock:
                full = metric_name(self.prefix, name, kind)
                if kind == COUNTER:
                    inst = self.meter.create_counter(full)
                elif kind == GAUGE:
                    if hasattr(self.meter, "create_gauge"):
                        inst = self.meter.create_gauge(full)
                    else:  # SDK < 1.23 has no synchronous gauge
                        inst = _LastValueGauge(self.meter, full)
                else:
                    bounds = self.buckets.get(name)
                    inst = self.meter.create_histogram(
                        full,
                        unit="s" if kind == TIMER else "",
                        explicit_bucket_boundaries_advisory=list(bounds) if bounds else None,
                    )
                self._instruments[(kind, name)] = inst
        return inst

    def _attributes(self, tags: Mapping[str, object] | None) -> dict[str, Any]:
        key = tuple(tags.items()) if tags else None
        attrs = self._attrs.get(key)
        if attrs is None:
            attrs = {**self.default_tags, **{str(k): _attr(v) for k, v in (tags or {}).items()}}
            if len(self._attrs) < 10_000:
                self._attrs[key] = attrs
        return attrs

    def _record(
        self, kind: str, name: str, tags: Mapping[str, object] | None, value: float
    ) -> None:
        try:
            inst = self._instrument(kind, name)
            attrs = self._attributes(tags)
            if kind == COUNTER:
                inst.add(value, attrs)
            elif kind == GAUGE:
                inst.set(value, attrs)
            else:
                inst.record(value, attrs)
        except Exception as exc:
            report_internal_error("metrics", exc, f"cannot record OTLP {kind}")
            if is_strict():
                raise

    def increment(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        self._record(COUNTER, name, tags, value)

    def gauge(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        self._record(GAUGE, name, tags, value)

    def observe(self, name: str, tags: Mapping[str, object] | None, value: float) -> None:
        self._record(HISTOGRAM, name, tags, value)

    def timing(self, name: str, tags: Mapping[str, object] | None, seconds: float) -> None:
        self._record(TIMER, name, tags, seconds)

    def flush(self, timeout: float = 10.0) -> bool:
        try:
            return bool(self.provider.force_flush(timeout_millis=timeout * 1000.0))
        except Exception as exc:
            report_internal_error("metrics", exc, "OTLP metrics flush failed", key="otlp_export")
            return False

    def close(self, timeout: float | None = None) -> None:
        """Export what is left and stop, waiting at most ``timeout`` (default: the export
        timeout); idempotent."""
        if self._closed:
            return
        self._closed = True
        wait = self.timeout if timeout is None else timeout
        try:
            self.provider.shutdown(timeout_millis=wait * 1000.0)
        except Exception as exc:
            report_internal_error(
                "metrics", exc, "OTLP metrics shutdown failed", key="otlp_shutdown"
            )


_live: weakref.WeakSet[OTLPBackend] = weakref.WeakSet()


def _at_exit() -> None:
    for backend in list(_live):
        try:
            backend.close(min(backend.timeout, EXIT_TIMEOUT))
        except Exception:
            pass


atexit.register(_at_exit)


@on_flush
def _flush_before_stop() -> None:
    for backend in list(_live):
        backend.flush(min(backend.timeout, EXIT_TIMEOUT))


class _LastValueGauge:
    """A synchronous gauge on SDKs that only have observable ones: reports the last value
    set for each attribute set at every collection."""

    def __init__(self, meter: Any, name: str) -> None:
        self._values: dict[tuple[tuple[str, Any], ...], float] = {}
        meter.create_observable_gauge(name, callbacks=[self._observe])

    def set(self, value: float, attributes: dict[str, Any]) -> None:
        self._values[tuple(sorted(attributes.items()))] = value

    def _observe(self, options: Any) -> Any:
        from opentelemetry.metrics import Observation

        return [Observation(v, dict(k)) for k, v in list(self._values.items())]


def _attr(v: object) -> Any:
    return v if isinstance(v, (str, bool, int, float)) else str(v)
