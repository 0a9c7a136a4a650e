"""The outcome of ``verify`` and ``canary``: a list of checks, one verdict, one exit code,
rendered as a terminal table, JSON for machines, and Markdown for the GitHub job summary."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from berrys_monitoring._version import __version__

__all__ = ["EXIT_CODES", "CheckResult", "Report"]

#: pass -> 0, fail -> 1, inconclusive -> 2 (2 is also a usage error).
EXIT_CODES = {"pass": 0, "fail": 1, "inconclusive": 2}

# GitHub rejects a job summary above 1 MiB; stay well below so other steps still fit.
_SUMMARY_LIMIT = 512 * 1024

_STYLE = {
    "pass": "green",
    "warn": "yellow",
    "fail": "bold red",
    "inconclusive": "yellow",
    "skipped": "dim",
}
_ICON = {"pass": "✅", "warn": "⚠️", "fail": "❌", "inconclusive": "❔", "skipped": "⏭️"}


@dataclass
class CheckResult:
    """One check: ``status`` is pass, warn, fail, inconclusive or skipped.

    Example::

        >>> CheckResult("health", "pass", "200 pass").status
        'pass'
    """

    name: str
    status: str
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class Report:
    """All checks of one run and the verdict they add up to.

    The verdict is ``fail`` if any check failed, else ``inconclusive`` if any was, else
    ``pass``; :attr:`exit_code` maps it to 0/1/2.

    Example::

        >>> r = Report("verify", "http://127.0.0.1:8000")
        >>> r.add(CheckResult("health", "pass", "ok"))
        >>> r.verdict, r.exit_code
        ('pass', 0)
    """

    command: str
    target: str
    checks: list[CheckResult] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    started_at: float = field(default_factory=time.time)
    finished_at: float | None = None

    def add(self, check: CheckResult) -> None:
        """Append a check result."""
        self.checks.append(check)

    def check(self, name: str) -> CheckResult | None:
        """The check called ``name`` (or None).

        Example::

            >>> Report("verify", "x").check("health") is None
            True
        """
        return next((c for c in self.checks if c.name == name), None)

    @property
    def verdict(self) -> str:
        statuses = {c.status for c in self.checks}
        if "fail" in statuses:
            return "fail"
        if "inconclusive" in statuses or not statuses - {"skipped"}:
            return "inconclusive"
        return "pass"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the ``--json`` file, usable as ``--baseline``)."""
        end = self.finished_at or time.time()
        return {
            "tool": "berrys-monitoring",
            "version": __version__,
            "command": self.command,
            "target": self.target,
            "verdict": self.verdict,
            "exit_code": self.exit_code,
            "started_at": self.started_at,
            "duration_s": round(end - self.started_at, 3),
            "notes": self.notes,
            "checks": [
                {"name": c.name, "status": c.status, "summary": c.summary, "details": c.details}
                for c in self.checks
            ],
            **self.data,
        }

    def write_json(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`as_dict` to ``path``."""
        Path(path).write_text(json.dumps(self.as_dict(), indent=2, default=str) + "\n")

    def table(self) -> Table:
        """A rich table with one row per check and the verdict in the title."""
        t = Table(
            title=f"berrys-monitoring {self.command} {self.target}: {self.verdict.upper()}",
            title_style=_STYLE.get(self.verdict, ""),
            caption="\n".join(self.notes) or None,
            expand=False,
        )
        t.add_column("check")
        t.add_column("status")
        t.add_column("details", overflow="fold")
        for c in self.checks:
            t.add_row(c.name, f"[{_STYLE.get(c.status, '')}]{c.status}[/]", c.summary)
        return t

    def print(self, console: Console | None = None) -> None:
        """Print the final table (to stdout by default)."""
        (console or Console()).print(self.table())

    def to_markdown(self) -> str:
        """A Markdown section for ``$GITHUB_STEP_SUMMARY``."""
        icon = _ICON.get(self.verdict, "")
        lines = [
            f"### {icon} berrys-monitoring {self.command}: {self.verdict}",
            "",
            f"Target: `{self.target}` · exit code {self.exit_code}",
            "",
            "| check | status | details |",
            "|---|---|---|",
        ]
        for c in self.checks:
            summary = c.summary.replace("|", "\\|").replace("\n", "<br>")
            lines.append(f"| {c.name} | {_ICON.get(c.status, '')} {c.status} | {summary} |")
        lines += ["", *(f"> {n}" for n in self.notes)] if self.notes else []
        return "\n".join(lines) + "\n\n"

    def append_step_summary(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Append :meth:`to_markdown` to ``path`` (default ``$GITHUB_STEP_SUMMARY``); returns
        False when there is no such file or the text would exceed the size budget."""
        target = path or os.environ.get("GITHUB_STEP_SUMMARY")
        if not target:
            return False
        text = self.to_markdown()
        data = text.encode()
        if len(data) > _SUMMARY_LIMIT:
            cut = data[: _SUMMARY_LIMIT - 200].decode(errors="ignore")
            data = (cut + "\n\n… (truncated: see the --json report)\n\n").encode()
        p = Path(target)
        existing = p.stat().st_size if p.exists() else 0
        if existing + len(data) > 1024 * 1024:
            return False
        with open(p, "ab") as fh:
            fh.write(data)
        return True
