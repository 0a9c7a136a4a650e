"""OTLP metrics to the Prometheus data model, as the OpenTelemetry specification's
"Prometheus and OpenMetrics compatibility" section describes it:
https://opentelemetry.io/docs/specs/otel/compatibility/prometheus_and_openmetrics/

Names are sanitised and get their unit and ``_total`` suffixes; histograms become
``_bucket{le}``/``_sum``/``_count``; ``service.name``/``service.instance.id`` become
``job``/``instance`` and the other resource attributes go to ``target_info``; delta
temporality is accumulated into cumulative series. The running totals live in memory and
advance only when a request's samples are stored (``Mapped.confirm``), so a refused and
retried request is not counted twice; a hub restart looks like a counter reset, which
``rate()`` already handles.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterable
from typing import Any

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import AggregationTemporality, Metric

from berrys_monitoring.hub.ingest._spans_logs import Mapped, attributes
from berrys_monitoring.hub.store import Sample, SeriesLabels

__all__ = ["MetricMapper", "label_name", "metric_name"]

_INVALID_NAME = re.compile(r"[^a-zA-Z0-9_:]+")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]+")
_UNDERSCORES = re.compile(r"__+")
_MAX_INT64 = 2**63 - 1
_DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
_NO_RECORDED_VALUE = 1  # DataPointFlags.FLAG_NO_RECORDED_VALUE

_UNITS = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
    "us": "microseconds", "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes",
    "MiBy": "mebibytes", "GiBy": "gibibytes", "TiBy": "tibibytes", "KBy": "kilobytes",
    "MBy": "megabytes", "GBy": "gigabytes", "TBy": "terabytes", "m": "meters", "V": "volts",
    "A": "amperes", "J": "joules", "W": "watts", "g": "grams", "Cel": "celsius",
    "Hz": "hertz", "%": "percent",
}  # fmt: skip
_PER_UNITS = {
    "s": "second", "m": "minute", "h": "hour", "d": "day", "w": "week", "mo": "month",
    "y": "year",
}  # fmt: skip
_RESOURCE_IDENTITY = ("service.name", "service.namespace", "service.instance.id")


def _clean(text: str, invalid: re.Pattern[str]) -> str:
    return _UNDERSCORES.sub("_", invalid.sub("_", text))


def _unit_suffix(unit: str) -> str:
    unit = re.sub(r"\{[^}]*\}", "", unit).strip()  # annotations such as {requests} go
    if not unit or unit == "1":
        return ""
    main, _, per = unit.partition("/")
    words = []
    if main:
        words.append(_UNITS.get(main, main))
    if per:
        words.append("per_" + _PER_UNITS.get(per, per))
    return _clean("_".join(words), _INVALID_NAME).strip("_")


def metric_name(name: str, unit: str, *, counter: bool = False, gauge: bool = False) -> str:
    """The Prometheus name of an OTLP metric.

    Example::

        >>> metric_name("http.server.duration", "ms")
        'http_server_duration_milliseconds'
        >>> metric_name("requests", "{request}", counter=True)
        'requests_total'
        >>> metric_name("cpu.utilization", "1", gauge=True)
        'cpu_utilization_ratio'
        >>> metric_name("throughput", "By/s")
        'throughput_bytes_per_second'
    """
    out = _clean(name, _INVALID_NAME)
    if out and out[0].isdigit():
        out = "_" + out
    suffix = _unit_suffix(unit)
    if gauge and unit.strip() == "1":
        suffix = "ratio"
    parts = out.split("_")
    if suffix and not out.endswith(suffix):
        # "duration_seconds_total" style names keep one copy of the unit
        if counter and out.endswith("_total"):
            out = out[: -len("_total")]
            if not out.endswith(suffix):
                out += "_" + suffix
            out += "_total"
        else:
            out += "_" + suffix
    if counter and parts[-1] != "total" and not out.endswith("_total"):
        out += "_total"
    return _UNDERSCORES.sub("_", out)


def label_name(key: str) -> str:
    """A Prometheus label name for an attribute key.

    Example::

        >>> label_name("http.status_code"), label_name("0day")
        ('http_status_code', 'key_0day')
    """
    out = _clean(key, _INVALID_LABEL)
    if not out:
        return "key_"
    if out[0].isdigit():
        out = "key_" + out
    return out


def _label_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        import orjson

        return orjson.dumps(value).decode()
    return str(value)


def _labels(attrs: dict[str, Any]) -> dict[str, str]:
    """Sanitised labels; keys that collide after sanitising have their values joined with
    ``;`` in the order of the original keys, as the specification says."""
    out: dict[str, str] = {}
    for key in sorted(attrs):
        name = label_name(key)
        value = _label_value(attrs[key])
        out[name] = f"{out[name]};{value}" if name in out else value
    return out


def _series(name: str, base: dict[str, str], extra: Iterable[tuple[str, str]] = ()) -> SeriesLabels:
    labels = dict(base)
    labels.update(extra)
    labels["__name__"] = name
    return tuple(sorted(labels.items()))


def _ms(ns: int, now_ms: int) -> int:
    return min(ns, _MAX_INT64) // 1_000_000 if ns else now_ms


def _le(bound: float) -> str:
    if math.isnan(bound):
        return "NaN"
    if math.isinf(bound):
        return "+Inf" if bound > 0 else "-Inf"
    return repr(float(bound)) if bound != int(bound) else f"{bound:.1f}"


class MetricMapper:
    """Maps export requests to samples, keeping the running totals of delta series."""

    def __init__(self, *, max_delta_series: int = 100_000) -> None:
        self._lock = threading.Lock()
        self._totals: dict[Any, Any] = {}
        self._max = max_delta_series
        #: metric name -> ``{"type", "help", "unit"}``, for ``/api/v1/metadata``
        self.metadata: dict[str, dict[str, str]] = {}

    def _describe(self, name: str, kind: str, metric: Metric) -> None:
        if name not in self.metadata and len(self.metadata) < self._max:
            unit = _unit_suffix(metric.unit)
            self.metadata[name] = {"type": kind, "help": metric.description, "unit": unit}

    def _accumulate(self, out: Mapped, key: Any, value: Any, add: Any) -> Any:
        total = out.staged.get(key)
        if total is None:
            with self._lock:
                total = self._totals.get(key)
        total = value if total is None else add(total, value)
        out.staged[key] = total
        return total

    def _keep(self, staged: dict[Any, Any]) -> None:
        with self._lock:
            if len(self._totals) + len(staged) > self._max:
                self._totals.clear()  # bounded: a reset is better than unbounded memory
            self._totals.update(staged)

    def map(self, request: ExportMetricsServiceRequest) -> Mapped:
        """Samples for ``request``; call ``confirm()`` on the result once they are stored."""
        out = Mapped(on_confirm=self._keep)
        now_ms = time.time_ns() // 1_000_000
        for rm in request.resource_metrics:
            res = attributes(rm.resource.attributes)
            base: dict[str, str] = {}
            service = res.get("service.name")
            namespace = res.get("service.namespace")
            if service:
                base["job"] = f"{namespace}/{service}" if namespace else str(service)
            if res.get("service.instance.id"):
                base["instance"] = str(res["service.instance.id"])
            newest = 0
            for sm in rm.scope_metrics:
                scope = dict(base)
                if sm.scope.name:
                    scope["otel_scope_name"] = sm.scope.name
                    if sm.scope.version:
                        scope["otel_scope_version"] = sm.scope.version
                for metric in sm.metrics:
                    newest = max(newest, self._map_metric(metric, scope, now_ms, out))
            info = {k: v for k, v in res.items() if k not in _RESOURCE_IDENTITY}
            if info and base:
                labels = _labels(info)
                labels.update(base)
                out.rows.append(Sample(_series("target_info", labels), newest or now_ms, 1.0))
        return out

    def _map_metric(self, metric: Metric, scope: dict[str, str], now_ms: int, out: Mapped) -> int:
        kind = metric.WhichOneof("data")
        newest = 0
        if not metric.name:
            out.reject("a metric without a name")
            return 0
        if kind in ("gauge", "sum"):
            data = metric.gauge if kind == "gauge" else metric.sum
            counter = kind == "sum" and metric.sum.is_monotonic
            delta = kind == "sum" and metric.sum.aggregation_temporality == _DELTA
            name = metric_name(metric.name, metric.unit, counter=counter, gauge=not counter)
            self._describe(name, "counter" if counter else "gauge", metric)
            for p in data.data_points:
                which = p.WhichOneof("value")
                if which is None:
                    out.reject(f"{metric.name}: a data point without a value")
                    continue
                if p.flags & _NO_RECORDED_VALUE:
                    continue
                labels = _labels(attributes(p.attributes))
                labels.update(scope)
                series = _series(name, labels)
                value = float(p.as_double if which == "as_double" else p.as_int)
                if delta:
                    value = self._accumulate(out, series, value, lambda a, b: a + b)
                t = _ms(p.time_unix_nano, now_ms)
                newest = max(newest, t)
                out.rows.append(Sample(series, t, value))
        elif kind == "histogram":
            name = metric_name(metric.name, metric.unit)
            self._describe(name, "histogram", metric)
            delta = metric.histogram.aggregation_temporality == _DELTA
            for hp in metric.histogram.data_points:
                if hp.flags & _NO_RECORDED_VALUE:
                    continue
                bounds = list(hp.explicit_bounds)
                counts = list(hp.bucket_counts)
                if counts and len(counts) != len(bounds) + 1:
                    out.reject(f"{metric.name}: bucket_counts must be explicit_bounds + 1 long")
                    continue
                labels = _labels(attributes(hp.attributes))
                labels.update(scope)
                state = (counts, hp.sum, hp.count)
                if delta:
                    key = (_series(name, labels), tuple(bounds))
                    counts, total_sum, count = self._accumulate(
                        out,
                        key,
                        state,
                        lambda a, b: (
                            [x + y for x, y in zip(a[0], b[0], strict=True)]
                            if len(a[0]) == len(b[0])
                            else b[0],
                            a[1] + b[1],
                            a[2] + b[2],
                        ),
                    )
                else:
                    total_sum, count = hp.sum, hp.count
                t = _ms(hp.time_unix_nano, now_ms)
                newest = max(newest, t)
                running = 0
                for bound, n in zip([*bounds, math.inf], counts, strict=False):
                    running += n
                    out.rows.append(
                        Sample(
                            _series(name + "_bucket", labels, [("le", _le(bound))]),
                            t,
                            float(running),
                        )
                    )
                if hp.HasField("sum") or delta:
                    out.rows.append(Sample(_series(name + "_sum", labels), t, float(total_sum)))
                out.rows.append(Sample(_series(name + "_count", labels), t, float(count)))
        elif kind == "exponential_histogram":
            # Native histograms come later; the count and sum keep rate() and averages working.
            name = metric_name(metric.name, metric.unit)
            self._describe(name, "histogram", metric)
            delta = metric.exponential_histogram.aggregation_temporality == _DELTA
            for ep in metric.exponential_histogram.data_points:
                if ep.flags & _NO_RECORDED_VALUE:
                    continue
                labels = _labels(attributes(ep.attributes))
                labels.update(scope)
                total_sum, count = ep.sum, float(ep.count)
                if delta:
                    total_sum, count = self._accumulate(
                        out,
                        (_series(name, labels), "exp"),
                        (total_sum, count),
                        lambda a, b: (a[0] + b[0], a[1] + b[1]),
                    )
                t = _ms(ep.time_unix_nano, now_ms)
                newest = max(newest, t)
                out.rows.append(Sample(_series(name + "_sum", labels), t, float(total_sum)))
                out.rows.append(Sample(_series(name + "_count", labels), t, float(count)))
        elif kind == "summary":
            name = metric_name(metric.name, metric.unit)
            self._describe(name, "summary", metric)
            for sp in metric.summary.data_points:
                if sp.flags & _NO_RECORDED_VALUE:
                    continue
                labels = _labels(attributes(sp.attributes))
                labels.update(scope)
                t = _ms(sp.time_unix_nano, now_ms)
                newest = max(newest, t)
                for q in sp.quantile_values:
                    out.rows.append(
                        Sample(_series(name, labels, [("quantile", repr(q.quantile))]), t, q.value)
                    )
                out.rows.append(Sample(_series(name + "_sum", labels), t, float(sp.sum)))
                out.rows.append(Sample(_series(name + "_count", labels), t, float(sp.count)))
        else:
            out.reject(f"{metric.name}: a metric without data")
        return newest
