"""Facade metrics per registry, shared by successive backends on the same registry."""

from __future__ import annotations

import os
import threading
import weakref
from typing import Any

from prometheus_client import CollectorRegistry

__all__ = ["NULL", "Family", "families_lock", "families_of", "forget_families"]


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
