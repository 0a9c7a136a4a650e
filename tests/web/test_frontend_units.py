"""The front end's pure modules (the waterfall model, the grid layout, the dashboards'
variables and units) under Node's own test runner, so that CI runs them with the rest."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.support.servers import missing

FRONTEND_TESTS = Path(__file__).resolve().parents[2] / "frontend" / "test"


def test_frontend_unit_tests_pass_under_node() -> None:
    node = shutil.which("node")
    if node is None:
        missing("node", "apt-get install nodejs")
    assert node is not None
    done = subprocess.run(
        [node, "--test", str(FRONTEND_TESTS)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
