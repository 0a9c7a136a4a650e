"""Fixtures for the tracing tests: a real OTLP receiver and a clean pipeline per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.tracing._receiver import OTLPReceiver, otlp_receiver

from berrys_monitoring.tracing import shutdown_tracing, uninstrument_http_clients


@pytest.fixture
def receiver() -> Iterator[OTLPReceiver]:
    """A real OTLP/HTTP receiver on a free loopback port."""
    with otlp_receiver() as r:
        yield r


@pytest.fixture(autouse=True)
def _clean_tracing() -> Iterator[None]:
    yield
    uninstrument_http_clients()
    shutdown_tracing(timeout=2.0)
