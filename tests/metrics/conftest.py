"""Every metrics test starts from the defaults and leaves them behind."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry

from berrys_monitoring.metrics import configure_metrics, reset_metrics


@pytest.fixture(autouse=True)
def _default_metrics() -> Iterator[None]:
    reset_metrics()
    yield
    reset_metrics()


@pytest.fixture
def registry() -> Iterator[CollectorRegistry]:
    """A fresh registry with the PROMETHEUS backend on it."""
    reg = CollectorRegistry()
    configure_metrics(registry=reg)
    yield reg
    reset_metrics(reg)


def exposition_text(reg: CollectorRegistry) -> str:
    from berrys_monitoring.metrics import metrics_exposition

    return metrics_exposition(registry=reg)[0].decode()
