"""Multi-worker servers (gunicorn, uvicorn --workers): PROMETHEUS_MULTIPROC_DIR for the user.

prometheus_client keeps each metric value in process memory unless its multiprocess mode
is on, in which case every worker writes its values to memory-mapped files in one shared
directory and the exposition sums them. Counter totals then equal the requests made across
all workers, whichever worker answers the scrape.

This module is imported by ``berrys_monitoring.metrics`` *before* prometheus_client so the
automatic set-up can switch the value class before any metric exists. Sibling workers share
their parent (the gunicorn arbiter or the uvicorn supervisor), so a directory derived from
that process's pid and start time is the same for all of them and new for every server run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import sys
import tempfile
from typing import Any

from berrys_monitoring._internal import report_internal_error

__all__ = [
    "auto_setup_multiprocess",
    "gunicorn_child_exit",
    "gunicorn_on_exit",
    "is_multiprocess",
    "mark_process_dead",
    "multiprocess_dir",
    "prune_dead_processes",
    "remove_stale_dirs",
    "setup_multiprocess",
]

_ENV = "PROMETHEUS_MULTIPROC_DIR"
_OPT_OUT = "BERRYS_MONITORING_MULTIPROCESS"
_LIVE_FILE = re.compile(r"gauge_live\w*?_(\d+)\.db$")
_DIR_PREFIX = "berrys-monitoring-metrics-"
# Only the automatic ones (master pid and start time): a setup_multiprocess() directory
# may still serve orphaned children of its creator.
_AUTO_DIR = re.compile(re.escape(_DIR_PREFIX) + r"(\d+)-(\d+)$")


def multiprocess_dir() -> str | None:
    """The shared metrics directory when multiprocess mode is on, else ``None``."""
    return os.environ.get(_ENV) or os.environ.get(_ENV.lower()) or None


def is_multiprocess() -> bool:
    """True when metric values are shared between worker processes through files.

    Example::

        if is_multiprocess():
            print("metrics are summed over all workers")
    """
    return multiprocess_dir() is not None


def _cmdline(pid: int) -> list[str]:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return [a.decode(errors="replace") for a in fh.read().split(b"\0") if a]
    except OSError:
        return []


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            # Field 22 (starttime) follows the parenthesised command name.
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return "0"


def _is_gunicorn(pid: int) -> bool:
    args = _cmdline(pid)[:3]
    return any(os.path.basename(a).startswith("gunicorn") or a == "gunicorn" for a in args)


def _server_master_pid() -> int | None:
    """The pid of the gunicorn arbiter / uvicorn supervisor this process belongs to, if any."""
    if os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/") or "gunicorn" in sys.modules:
        ppid = os.getppid()
        if _is_gunicorn(ppid):
            return ppid  # a worker: the arbiter is our parent
        if _is_gunicorn(os.getpid()):
            return os.getpid()  # --preload: the app is imported in the arbiter itself
        return None
    if "uvicorn" in sys.modules:
        import multiprocessing

        parent = multiprocessing.parent_process()
        if parent is not None and parent.pid is not None:
            return parent.pid  # uvicorn --workers N spawns workers with multiprocessing
    return None


def setup_multiprocess(dir: str | None = None) -> str:
    """Share metric values between the worker processes of one server; return the directory.

    Call it before any metric is recorded, in every worker (or once in a process that forks
    them). Workers started by gunicorn or ``uvicorn --workers`` are detected and set up
    automatically when ``berrys_monitoring.metrics`` is imported; call this for other
    process managers, or pass a fixed ``dir``. The directory should be emptied when the
    server starts (Prometheus' own rule for PROMETHEUS_MULTIPROC_DIR).

    Example::

        from berrys_monitoring.metrics import setup_multiprocess
        path = setup_multiprocess("/run/myapp/metrics")
    """
    path = dir or multiprocess_dir()
    if path is None:
        path = os.path.join(tempfile.gettempdir(), f"{_DIR_PREFIX}{os.getpid()}")
    os.makedirs(path, exist_ok=True)
    os.environ[_ENV] = path
    if "prometheus_client.values" in sys.modules:
        # prometheus_client picked its value class at import; metrics read it when created,
        # so switching it here makes every metric created from now on shared.
        from prometheus_client import values

        values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]
    return path


def auto_setup_multiprocess() -> str | None:
    """Set up multiprocess mode when running in a multi-worker server (import-time hook)."""
    if os.environ.get(_OPT_OUT, "").lower() in ("0", "false", "no", "off"):
        return None
    existing = multiprocess_dir()
    if existing is not None:
        os.makedirs(existing, exist_ok=True)
        return existing
    master = _server_master_pid()
    if master is None:
        return None
    remove_stale_dirs()
    path = os.path.join(tempfile.gettempdir(), f"{_DIR_PREFIX}{master}-{_start_time(master)}")
    try:
        return setup_multiprocess(path)
    except OSError as exc:
        report_internal_error("metrics", exc, "cannot create the multiprocess metrics directory")
        return None


def remove_stale_dirs(tmp: str | None = None) -> int:
    """Delete the directories this module created for servers that are gone; return how many.

    Every server run gets a new directory (named after its master's pid and start time),
    so without this a host that restarts its service every deploy fills its temp
    directory. A directory whose process is alive, with the same start time, is kept; one
    that cannot be removed (another user's) is left alone.
    """
    import shutil

    removed = 0
    tmp = tmp or tempfile.gettempdir()
    try:
        names = os.listdir(tmp)
    except OSError:
        return 0
    for name in names:
        m = _AUTO_DIR.match(name)
        if m is None:
            continue
        pid, started = int(m.group(1)), m.group(2)
        if _alive(pid) and _start_time(pid) == started:  # not a reused pid
            continue
        try:
            shutil.rmtree(os.path.join(tmp, name))
            removed += 1
        except OSError:
            pass
    return removed


def mark_process_dead(pid: int, path: str | None = None) -> None:
    """Forget a dead worker's live gauges (its counters keep counting in the totals).

    Example::

        from berrys_monitoring.metrics import mark_process_dead
        mark_process_dead(12345)
    """
    path = path or multiprocess_dir()
    if not path:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]


def gunicorn_child_exit(server: Any, worker: Any) -> None:
    """A gunicorn ``child_exit`` hook: put ``child_exit = gunicorn_child_exit`` in gunicorn.conf.py.

    Example (``gunicorn.conf.py``)::

        from berrys_monitoring.metrics import gunicorn_child_exit as child_exit
    """
    mark_process_dead(int(worker.pid))


def gunicorn_on_exit(server: Any) -> None:
    """A gunicorn ``on_exit`` hook: removes the metrics directory made for this server run.

    Without it the directory stays in the temporary folder until the next server start
    (which removes those of servers that are gone). A directory you chose yourself
    (``PROMETHEUS_MULTIPROC_DIR``, ``setup_multiprocess(dir)``) is never removed.

    Example (``gunicorn.conf.py``)::

        from berrys_monitoring.metrics import gunicorn_on_exit as on_exit
    """
    import shutil

    pid = int(getattr(server, "pid", 0) or os.getpid())
    path = os.path.join(tempfile.gettempdir(), f"{_DIR_PREFIX}{pid}-{_start_time(pid)}")
    shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_dead_processes(path: str | None = None) -> int:
    """Remove live-gauge files of processes that no longer exist; return how many pids.

    Runs before every multiprocess exposition, so a worker killed without a ``child_exit``
    hook (SIGKILL, OOM) stops showing in ``livesum``/``liveall`` gauges at the next scrape.
    """
    path = path or multiprocess_dir()
    if not path:
        return 0
    dead: set[int] = set()
    for file in glob.glob(os.path.join(path, "gauge_live*.db")):
        m = _LIVE_FILE.search(file)
        if m and not _alive(int(m.group(1))):
            dead.add(int(m.group(1)))
    for pid in dead:
        with contextlib.suppress(OSError):
            mark_process_dead(pid, path)
    return len(dead)
