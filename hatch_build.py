"""Hatch build hook: the wheel and the sdist ship the web dashboard's built assets.

The assets (``src/berrys_monitoring/hub/web/static/``) are not in git; ``make assets`` builds
them from ``frontend/`` with npm. When they are missing at build time this hook builds them,
so ``python -m build`` gives a wheel whose users need no Node.js.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

STATIC = Path("src/berrys_monitoring/hub/web/static")


class DashboardAssetsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "dashboard-assets"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        if (root / STATIC / "index.html").is_file():
            return
        frontend = root / "frontend"
        if not (frontend / "package.json").is_file():
            raise RuntimeError(f"no built dashboard assets in {STATIC} and no frontend/ to build")
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                "building berrys-monitoring needs the dashboard's assets: install Node.js and "
                "npm, or run `make assets` before `python -m build`"
            )
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=frontend, check=True
        )
        subprocess.run([npm, "run", "build"], cwd=frontend, check=True)
        if not (root / STATIC / "index.html").is_file():
            raise RuntimeError(f"the frontend build did not produce {STATIC}/index.html")
