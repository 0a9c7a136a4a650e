"""Facade metrics per registry, shared by successive backends on the same registry."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from berrys_monitoring.metrics._names import COUNTER, GAUGE, HISTOGRAM

__all__ = [
    "BYTES_BUCKETS",
    "NULL",
    "Family",
    "choose_buckets",
    "families_lock",
    "families_of",
    "family_for_metric",
    "forget_families",
]

#: Default buckets of a histogram whose name ends in ``_bytes`` (100 B to 100 MB).
BYTES_BUCKETS = (100.0, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, float("inf"))


class Family:
    """One exposed metric and what the facade knows about it."""

    __slots__ = ("index", "kind", "labelnames", "metric", "name", "overflow", "seen", "warned")

    def __init__(self, kind: str, name: str, metric: Any, labelnames: tuple[str, ...]) -> None:
        self.kind = kind
        self.name = name
        self.metric = metric
        self.labelnames = labelnames
        self.index: dict[object, int | None] = {}
        self.seen: set[tuple[str, ...]] = set()
        self.overflow: Any = None
        self.warned: set[str] = set()


class _Null:
    """Stands in for a metric that could not be created (already reported once)."""

    def inc(self, amount: float = 1, exemplar: Any = None) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, amount: float, exemplar: Any = None) -> None:
        pass


NULL = _Null()

# Metrics live as long as their registry: a second backend on the same registry (after
# configure_metrics is called again) reuses them instead of colliding with them.
_families: weakref.WeakKeyDictionary[CollectorRegistry, dict[str, Family]] = (
    weakref.WeakKeyDictionary()
)
families_lock = threading.RLock()


def _reinit_after_fork() -> None:
    # The parent thread holding it at fork() does not exist in the child: a copied, held
    # lock would hang the child's first new metric (see also PrometheusBackend).
    global families_lock
    families_lock = threading.RLock()


if hasattr(os, "register_at_fork"):  # POSIX only
    os.register_at_fork(after_in_child=_reinit_after_fork)


def families_of(registry: CollectorRegistry) -> dict[str, Family]:
    with families_lock:
        fams = _families.get(registry)
        if fams is None:
            fams = _families[registry] = {}
        return fams


def forget_families(registry: CollectorRegistry) -> None:
    """Unregister every facade metric from ``registry`` (for reset_metrics)."""
    with families_lock:
        for fam in _families.pop(registry, {}).values():
            try:
                registry.unregister(fam.metric)
            except KeyError:
                pass


def choose_buckets(
    name: str,
    full: str,
    kind: str,
    custom: Mapping[str, Sequence[float]],
    default: Sequence[float] | None,
) -> Sequence[float]:
    """Buckets for a new histogram: configured for its name, else the configured default,
    else byte-sized ones for ``*_bytes`` histograms, else prometheus_client's."""
    for k in (name, full):
        if k in custom:
            return tuple(custom[k])
    if default:
        return default
    if kind == HISTOGRAM and full.endswith("_bytes"):
        return BYTES_BUCKETS
    return Histogram.DEFAULT_BUCKETS


def family_for_metric(
    registry: CollectorRegistry,
    kind: str,
    name: str,
    full: str,
    labelnames: tuple[str, ...],
    *,
    gauge_mode: str,
    buckets: Sequence[float] | None,
) -> Family:
    """The family named ``full`` on ``registry``, created on first use.

    Raises ``ValueError`` when it exists with another kind or other labels (the caller
    reports that once instead of raising into user code).
    """
    fams = families_of(registry)
    with families_lock:
        fam = fams.get(full)
        if fam is not None:
            if fam.kind != kind or fam.labelnames != labelnames:
                raise ValueError(
                    f"{full} already exists as a {fam.kind} with labels {list(fam.labelnames)}"
                )
            return fam
        doc = f"{kind} {name}"
        metric: Any
        if kind == COUNTER:
            metric = Counter(full, doc, labelnames, registry=registry)
        elif kind == GAUGE:
            metric = Gauge(
                full, doc, labelnames, registry=registry,
                multiprocess_mode=gauge_mode,  # type: ignore[arg-type]
            )  # fmt: skip
        else:
            metric = Histogram(
                full, doc, labelnames, registry=registry,
                buckets=buckets or Histogram.DEFAULT_BUCKETS,
            )  # fmt: skip
        fam = Family(kind, full, metric, labelnames)
        fams[full] = fam
        return fam
