"""The package's top level: its public names, and that the core stays light."""

from __future__ import annotations

import subprocess
import sys

import berrys_monitoring

CORE = [
    "berrys_monitoring.metrics",
    "berrys_monitoring.logging",
    "berrys_monitoring.tracing",
    "berrys_monitoring.health",
    "berrys_monitoring.alerts",
]
HEAVY = ["fastapi", "starlette", "flask", "werkzeug", "psycopg", "redis", "pymysql", "uvicorn"]


def test_top_level_public_names_are_pinned() -> None:
    assert sorted(berrys_monitoring.__all__) == [
        "__version__",
        "internal_error_counts",
        "reset_internal_errors",
    ]


def test_importing_the_core_imports_no_framework_or_driver() -> None:
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in CORE)
        + f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"the core imported: {out}"


def test_command_line_reports_its_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "berrys_monitoring", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert berrys_monitoring.__version__ in out
