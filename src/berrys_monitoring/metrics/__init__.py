"""Metrics: counters, gauges, histograms and timers, exported to Prometheus, StatsD,
OTLP or the console.

Example::

    from berrys_monitoring.metrics import increment_counter, metrics_exposition
    increment_counter("api_requests_total", {"endpoint": "/users", "method": "GET"})
    body, content_type = metrics_exposition()

Multi-worker servers: importing this package inside a gunicorn or ``uvicorn --workers``
worker switches prometheus_client to its multiprocess mode *before* prometheus_client is
imported (see ``_multiprocess``), so exposed totals cover all workers.
"""

from __future__ import annotations

# Must run before anything below imports prometheus_client.
from berrys_monitoring.metrics._multiprocess import (  # isort: skip
    auto_setup_multiprocess as _auto_setup_multiprocess,
)

_auto_setup_multiprocess()

from berrys_monitoring.metrics._config import (  # noqa: E402
    MetricsBackend,
    MetricsConfig,
    configure_metrics,
    flush_metrics,
    get_metrics_config,
    reset_metrics,
)
from berrys_monitoring.metrics._exposition import (  # noqa: E402
    MetricsServer,
    current_value,
    get_registry,
    metrics_exposition,
    start_metrics_server,
)
from berrys_monitoring.metrics._facade import (  # noqa: E402
    Backend,
    gauge,
    histogram,
    increment_counter,
    record_timer,
)
from berrys_monitoring.metrics._multiprocess import (  # noqa: E402
    gunicorn_child_exit,
    gunicorn_on_exit,
    is_multiprocess,
    mark_process_dead,
    setup_multiprocess,
)
from berrys_monitoring.metrics._prometheus import OVERFLOW_VALUE  # noqa: E402

__all__ = [
    "OVERFLOW_VALUE",
    "Backend",
    "MetricsBackend",
    "MetricsConfig",
    "MetricsServer",
    "configure_metrics",
    "current_value",
    "flush_metrics",
    "gauge",
    "get_metrics_config",
    "get_registry",
    "gunicorn_child_exit",
    "gunicorn_on_exit",
    "histogram",
    "increment_counter",
    "is_multiprocess",
    "mark_process_dead",
    "metrics_exposition",
    "record_timer",
    "reset_metrics",
    "setup_multiprocess",
    "start_metrics_server",
]

configure_metrics()
