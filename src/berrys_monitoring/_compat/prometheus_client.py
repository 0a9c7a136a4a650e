"""prometheus_client's private names: the value objects behind a metric child, and the
registry's list of collectors.

``Counter.inc`` and ``Histogram.observe`` check their argument and look for an exemplar
on every call; the request path has done both already, so it increments the value
objects behind a child directly (a third of a cached increment's cost). A scrape walks
the registry's collectors itself so that one failing collector is skipped, not fatal.
Where a release lays these out differently, each function says so (``None``) and the
caller takes the public method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["histogram_parts", "registry_collectors", "value_object", "writes_created_series"]


def value_object(child: Any) -> Any | None:
    """The value object behind a counter or gauge child (its ``inc(amount)`` skips the
    child's checks), or None.

    Example::

        >>> from prometheus_client import CollectorRegistry, Counter
        >>> c = Counter("compat_example", "doc", registry=CollectorRegistry())
        >>> value_object(c).inc(2)
        >>> c._value.get()
        2.0
    """
    value = getattr(child, "_value", None)
    return value if callable(getattr(value, "inc", None)) else None


def histogram_parts(child: Any) -> tuple[Any, tuple[float, ...], tuple[Any, ...]] | None:
    """``(sum value, upper bounds, bucket values)`` of a histogram child, the bounds
    ending in ``+Inf`` and one bucket per bound, or None.

    Example::

        >>> from prometheus_client import CollectorRegistry, Histogram
        >>> h = Histogram("compat_h", "doc", buckets=(1, 5), registry=CollectorRegistry())
        >>> _sum, bounds, buckets = histogram_parts(h)
        >>> bounds, len(buckets)
        ((1.0, 5.0, inf), 3)
    """
    try:
        total = child._sum
        bounds = tuple(float(b) for b in child._upper_bounds)
        buckets = tuple(child._buckets)
    except (AttributeError, TypeError, ValueError):
        return None
    if not bounds or len(bounds) != len(buckets) or bounds[-1] != float("inf"):
        return None
    if not all(callable(getattr(v, "inc", None)) for v in (total, *buckets)):
        return None
    return total, bounds, buckets


def registry_collectors(registry: Any) -> Callable[[], list[Any]] | None:
    """A function listing the registry's collectors (under its lock), or None when the
    registry is laid out differently, or describes itself with ``target_info``, which
    its own ``collect`` must then produce.

    Example::

        >>> from prometheus_client import CollectorRegistry, Counter
        >>> reg = CollectorRegistry()
        >>> _ = Counter("compat_c", "doc", registry=reg)
        >>> len(registry_collectors(reg)())
        1
    """
    lock: Any = getattr(registry, "_lock", None)
    collectors = getattr(registry, "_collector_to_names", None)
    if not hasattr(lock, "__enter__") or not isinstance(collectors, dict):
        return None
    if getattr(registry, "_target_info", None):
        return None

    def current() -> list[Any]:
        with lock:
            return list(collectors)

    return current


def writes_created_series() -> bool:
    """Whether prometheus_client writes ``_created`` series (its own switch,
    ``PROMETHEUS_DISABLE_CREATED_SERIES``, read at its import).

    Example::

        >>> isinstance(writes_created_series(), bool)
        True
    """
    from prometheus_client import metrics

    return bool(getattr(metrics, "_use_created", True))
