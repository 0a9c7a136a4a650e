"""The wheel ships the dashboard's built assets (so ``pip install berrys-monitoring[hub]``
needs no Node.js), and the build hook builds them when a source tree lacks them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from tests.support.servers import missing
from tests.web.conftest import ROOT

STATIC = "berrys_monitoring/hub/web/static"


def _build(args: list[str], cwd: Path, out: Path) -> None:
    pytest.importorskip("build", reason="pip install build hatchling (the dev extra)")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "-o", str(out), *args, "."],
        cwd=cwd,
        check=True,
        capture_output=True,
        timeout=600,
    )


def _assets_in(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        return {n: zf.read(n) for n in zf.namelist() if n.startswith(STATIC)}


@pytest.mark.slow
def test_the_wheel_ships_the_built_assets(tmp_path: Path, assets: Path) -> None:
    _build(["--wheel"], ROOT, tmp_path)
    (wheel,) = tmp_path.glob("*.whl")
    files = _assets_in(wheel)
    manifest = json.loads(files[f"{STATIC}/manifest.json"])
    index = files[f"{STATIC}/index.html"].decode()
    for key in ("js", "css"):
        assert f"{STATIC}/{manifest[key]}" in files
        assert f"/{manifest[key]}" in index
    assert not [n for n in files if "node_modules" in n]


@pytest.mark.slow
def test_a_source_tree_without_assets_builds_them(tmp_path: Path) -> None:
    if shutil.which("npm") is None:
        missing("npm", "apt-get install nodejs npm")
    _build(["--sdist"], ROOT, tmp_path / "sdist")
    (sdist,) = (tmp_path / "sdist").glob("*.tar.gz")
    with tarfile.open(sdist) as tf:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tf.extractall(tmp_path / "src", **safe)  # type: ignore[arg-type]
    (tree,) = (tmp_path / "src").iterdir()
    shutil.rmtree(tree / "src" / STATIC, ignore_errors=True)
    assert (tree / "frontend" / "package-lock.json").is_file()
    _build(["--wheel"], tree, tmp_path / "wheel")
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    assert f"{STATIC}/index.html" in _assets_in(wheel)
