"""berrys-monitoring: metrics, structured logging, tracing, health checks, alerting and
deployment verification for Python web services.

Each component is its own subpackage and can be used alone::

    from berrys_monitoring.metrics import increment_counter
    increment_counter("jobs_total", {"queue": "email"})

Importing this package imports no web framework and no database driver.
"""

from berrys_monitoring._internal import internal_error_counts, reset_internal_errors
from berrys_monitoring._version import __version__

__all__ = ["__version__", "internal_error_counts", "reset_internal_errors"]
