"""Logging state for tests: back to unconfigured, and our handlers alone on the root."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from berrys_monitoring.logging import _config, _render


def unconfigure_logging() -> None:
    """Remove and close our installed handlers and reset the rendering settings."""
    root = logging.getLogger()
    for h in _config._installed:
        root.removeHandler(h)
        h.close()
    _config._installed.clear()
    _config._configured_without_handlers[0] = False
    _render.install(_render.Settings())


@contextmanager
def only_our_handlers() -> Iterator[None]:
    """Only our handlers on the root logger for a block, as in a service (pytest adds its
    capture handlers around each test call; with them a line takes the generic path)."""
    root = logging.getLogger()
    foreign = [h for h in root.handlers if h not in _config._installed]
    for h in foreign:
        root.removeHandler(h)
    try:
        yield
    finally:
        for h in foreign:
            root.addHandler(h)
