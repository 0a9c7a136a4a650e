"""Each logging test starts from an unconfigured root logger and an empty context."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from tests.support.logging_state import unconfigure_logging

from berrys_monitoring.logging import _config, _render, clear_context, configure_logging

_unconfigure = unconfigure_logging


@pytest.fixture(autouse=True)
def _fresh_logging() -> Iterator[None]:
    # Other components' tests may have configured logging earlier in the session.
    _unconfigure()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    clear_context()
    yield
    clear_context()
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            if h in _config._installed:
                h.close()
    _config._installed.clear()
    _config._configured_without_handlers[0] = False
    root.setLevel(level)
    _render.install(_render.Settings())
    logging.captureWarnings(False)


class Lines(io.StringIO):
    """A console stream whose JSON lines can be read back as dicts."""

    def records(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.getvalue().splitlines() if line.strip()]


@pytest.fixture
def lines() -> Lines:
    return Lines()


@pytest.fixture
def json_logging(lines: Lines) -> Lines:
    """configure_logging(JSON, DEBUG) writing to an in-memory stream."""
    configure_logging(level="debug", stream=lines, service_name="test-svc", adopt_servers=False)
    return lines
