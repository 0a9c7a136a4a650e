"""Progress while a check runs, on stderr: a live rich display on a terminal, plain one-line
updates otherwise (CI logs must not fill up with animation frames)."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["ProgressDisplay"]


class ProgressDisplay:
    """Named steps with optional totals. ``enabled=False`` makes every call a no-op.

    Example::

        >>> with ProgressDisplay(enabled=False) as p:
        ...     step = p.start("health")
        ...     p.finish(step, "pass", "200 pass")
    """

    def __init__(self, console: Console | None = None, *, enabled: bool = True) -> None:
        self.console = console or Console(stderr=True)
        self.enabled = enabled
        self.live = enabled and self.console.is_terminal
        self._progress: Progress | None = None
        self._names: dict[TaskID, str] = {}
        self._last_line: dict[TaskID, float] = {}
        self._next = 0

    def __enter__(self) -> ProgressDisplay:
        if self.live:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start(self, name: str, total: float | None = None) -> TaskID:
        """Begin a step; ``total`` gives it a progress bar."""
        if self._progress is not None:
            tid = self._progress.add_task(name, total=total)
        else:
            tid = TaskID(self._next)
            self._next += 1
            if self.enabled:
                self.console.print(f"[berrys-monitoring] {name} …", highlight=False, markup=False)
        self._names[tid] = name
        self._last_line[tid] = time.monotonic()
        return tid

    def advance(self, tid: TaskID, n: float = 1, note: str | None = None) -> None:
        """Advance a step; without a terminal a note is printed at most every 5 seconds."""
        if self._progress is not None:
            self._progress.advance(tid, n)
            if note:
                self._progress.update(tid, description=f"{self._names[tid]} {note}")
        elif self.enabled and note and time.monotonic() - self._last_line[tid] >= 5:
            self._last_line[tid] = time.monotonic()
            self.console.print(
                f"[berrys-monitoring] {self._names[tid]}: {note}", highlight=False, markup=False
            )

    def finish(self, tid: TaskID, status: str, summary: str = "") -> None:
        """End a step with its status."""
        line = f"{self._names[tid]}: {status}" + (f" — {summary}" if summary else "")
        if self._progress is not None:
            task = self._progress.tasks[tid]
            if task.total is not None:
                self._progress.update(tid, completed=task.total)
            self._progress.update(tid, description=line)
        elif self.enabled:
            self.console.print(f"[berrys-monitoring] {line}", highlight=False, markup=False)
