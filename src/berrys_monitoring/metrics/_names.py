"""Metric and label naming rules, applied once per metric (never on the hot path).

The rules, in order, for the Prometheus (and OTLP) name of a facade metric:

1. every character outside ``[a-zA-Z0-9_:]`` becomes ``_`` and a leading digit gets a
   leading ``_`` (``"api.requests-total"`` -> ``api_requests_total``);
2. the configured prefix is joined with ``_`` unless the name already starts with it;
3. counters end in ``_total`` exactly once; timers end in ``_seconds`` exactly once (a
   ``_ms``/``_milliseconds`` unit suffix is replaced, because timers record seconds).
"""

from __future__ import annotations

import re

__all__ = [
    "COUNTER",
    "GAUGE",
    "HISTOGRAM",
    "TIMER",
    "label_name",
    "metric_name",
    "statsd_name",
    "validate_prefix",
]

COUNTER = "counter"
GAUGE = "gauge"
HISTOGRAM = "histogram"
TIMER = "timer"

_INVALID = re.compile(r"[^a-zA-Z0-9_:]")
_INVALID_LABEL = re.compile(r"[^a-zA-Z0-9_]")
_PREFIX = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_:]*$")
_STATSD_BAD = re.compile(r"[|#,:@\s]")
_TIMER_UNITS = ("_seconds", "_milliseconds", "_ms")
# Label names prometheus_client refuses on histograms; renamed instead of failing.
_RESERVED_HISTOGRAM_LABELS = {"le", "quantile"}


def validate_prefix(prefix: str | None) -> str:
    """Return the normalised prefix or raise ``ValueError`` with a clear message."""
    if prefix is None or prefix == "":
        return ""
    if not isinstance(prefix, str):
        raise ValueError(f"metrics prefix must be a string, got {type(prefix).__name__}")
    stripped = prefix.rstrip("_")
    if not _PREFIX.match(stripped or "_"):
        raise ValueError(
            f"invalid metrics prefix {prefix!r}: use letters, digits and underscores, "
            "not starting with a digit (e.g. 'berrys_agents')"
        )
    return stripped


def _sanitise(name: str) -> str:
    out = _INVALID.sub("_", name)
    if not out:
        raise ValueError("a metric name must not be empty")
    if out[0].isdigit():
        out = "_" + out
    return out


def metric_name(prefix: str, name: str, kind: str) -> str:
    """The exposed base name of a facade metric (counters without their ``_total``).

    >>> metric_name("app", "api.requests_total", COUNTER)
    'app_api_requests'
    >>> metric_name("app", "function_execution_time", TIMER)
    'app_function_execution_time_seconds'
    """
    base = _sanitise(str(name))
    if prefix and base != prefix and not base.startswith(prefix + "_"):
        base = f"{prefix}_{base}"
    if kind == COUNTER:
        while base.endswith("_total") and len(base) > len("_total"):
            base = base[: -len("_total")]
    elif kind == TIMER:
        for unit in _TIMER_UNITS:
            if base.endswith(unit) and len(base) > len(unit):
                base = base[: -len(unit)]
                break
        base += "_seconds"
    return base


def label_name(key: object, kind: str) -> str:
    """A valid Prometheus label name for a tag key (``"http.method"`` -> ``http_method``)."""
    out = _INVALID_LABEL.sub("_", str(key))
    if not out:
        return "label"
    if out[0].isdigit():
        out = "_" + out
    if out.startswith("__"):  # reserved for Prometheus itself
        out = out.lstrip("_") or "label"
    if kind in (HISTOGRAM, TIMER) and out in _RESERVED_HISTOGRAM_LABELS:
        out += "_"
    return out


def statsd_name(prefix: str, name: str) -> str:
    """A DogStatsD metric name: prefix joined with ``.``, protocol characters replaced."""
    base = _STATSD_BAD.sub("_", str(name)) or "_"
    if prefix and not base.startswith(prefix + "."):
        base = f"{prefix}.{base}"
    return base


def statsd_tag(text: object) -> str:
    """A tag key or value with the DogStatsD separators replaced (values may keep ``:``)."""
    return re.sub(r"[|#,\s]", "_", str(text))
