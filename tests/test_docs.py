"""Docs are code: every ```python block in README.md and docs/*.md is executed.

The blocks of one file run in order, in one namespace, in a fresh interpreter whose
working directory is a temporary folder, so a guide can build on its earlier blocks.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)

RUNNER = r"""
import sys, traceback
blocks = __BLOCKS__
ns = {"__name__": "__main__"}
for line, code in blocks:
    try:
        exec(compile(code, f"{__FILE__}:{line}", "exec"), ns)
    except SystemExit:
        raise
    except BaseException:
        traceback.print_exc()
        print(f"FAILED: block at line {line}", file=sys.stderr)
        sys.exit(1)
"""


def python_blocks(path: Path) -> list[tuple[int, str]]:
    text = path.read_text()
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def test_every_guide_has_python_examples() -> None:
    guides = [p for p in DOCS if p.parent.name == "docs"]
    for guide in guides:
        assert python_blocks(guide), f"{guide.name} has no executable example"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_doc_code_blocks_run(doc: Path, tmp_path: Path) -> None:
    blocks = python_blocks(doc)
    if not blocks:
        pytest.skip(f"{doc.name} has no python blocks")
    script = RUNNER.replace("__BLOCKS__", repr(blocks)).replace("__FILE__", repr(doc.name))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{doc.name}:\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
