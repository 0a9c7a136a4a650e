"""Fixtures for the middleware tests: a fresh metrics registry per test, and helpers to
read a metric sample from an exposition."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry


@pytest.fixture
def registry() -> CollectorRegistry:
    """A registry of its own, so counts from other tests never mix in."""
    return CollectorRegistry()


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    """The value of one sample (``name`` with exactly ``labels``), or None."""
    return registry.get_sample_value(name, labels)
