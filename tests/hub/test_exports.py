"""The hub's public names, and that building the command line imports no web framework."""

from __future__ import annotations

import subprocess
import sys

import berrys_monitoring.hub
import berrys_monitoring.hub.store


def test_public_names_are_pinned() -> None:
    assert sorted(berrys_monitoring.hub.__all__) == [
        "ConfigError",
        "Hub",
        "HubConfig",
        "create_app",
    ]
    assert "Store" in berrys_monitoring.hub.store.__all__
    assert "SQLiteStore" in berrys_monitoring.hub.store.__all__


def test_the_command_line_parser_does_not_import_fastapi_or_uvicorn() -> None:
    code = (
        "import sys\n"
        "from berrys_monitoring.cli import build_parser\n"
        "import berrys_monitoring.hub\n"
        "build_parser().parse_args(['hub', '--port', '1'])\n"
        "print(','.join(m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""
