"""Host checks: free disk space and memory, with warn/fail thresholds."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from berrys_monitoring.health._checks_base import DependencyCheck
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._status import HealthStatus

__all__ = ["check_disk_space", "check_memory"]


def _percent(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
        raise ValueError(f"{name} must be a percentage between 0 and 100, got {value!r}")
    return float(value)


def _grade(bad: bool, warn: bool) -> HealthStatus:
    if bad:
        return HealthStatus.UNHEALTHY
    return HealthStatus.DEGRADED if warn else HealthStatus.HEALTHY


class _Disk(DependencyCheck):
    kind = "disk"
    component_type = "system"
    measurement = "utilization"

    def __init__(self, path: str, min_free: float, warn_free: float, min_bytes: int | None) -> None:
        super().__init__(path, 1.0)
        self._path = path
        self._min_free, self._warn_free, self._min_bytes = min_free, warn_free, min_bytes

    def probe(self) -> CheckResult:
        usage = shutil.disk_usage(self._path)
        free_pct = 100.0 * usage.free / usage.total if usage.total else 0.0
        used_pct = round(100.0 - free_pct, 2)
        low_bytes = self._min_bytes is not None and usage.free < self._min_bytes
        status = _grade(free_pct < self._min_free or low_bytes, free_pct < self._warn_free)
        gib = usage.free / 2**30
        return CheckResult(
            status=status,
            message=f"{gib:.1f} GiB ({free_pct:.1f}%) free on {self._path}",
            details={
                "path": self._path,
                "total_bytes": usage.total,
                "free_bytes": usage.free,
                "free_percent": round(free_pct, 2),
                "min_free_percent": self._min_free,
                "warn_free_percent": self._warn_free,
            },
            observed_value=used_pct,
            observed_unit="percent",
        )


def _meminfo() -> tuple[int, int]:
    """(total, available) bytes: /proc/meminfo on Linux, sysconf elsewhere."""
    try:
        fields: dict[str, int] = {}
        for line in Path("/proc/meminfo").read_text().splitlines():
            key, _, rest = line.partition(":")
            fields[key] = int(rest.split()[0]) * 1024
        return fields["MemTotal"], fields.get("MemAvailable", fields["MemFree"])
    except (OSError, KeyError, ValueError, IndexError):
        page = os.sysconf("SC_PAGE_SIZE")
        return os.sysconf("SC_PHYS_PAGES") * page, os.sysconf("SC_AVPHYS_PAGES") * page


def _process_rss() -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class _Memory(DependencyCheck):
    kind = "memory"
    component_type = "system"
    measurement = "utilization"

    def __init__(self, max_used: float, warn_used: float, max_rss: int | None) -> None:
        super().__init__("memory", 1.0)
        self._max_used, self._warn_used, self._max_rss = max_used, warn_used, max_rss

    def probe(self) -> CheckResult:
        total, available = _meminfo()
        used_pct = round(100.0 * (total - available) / total, 2) if total else 0.0
        rss = _process_rss()
        rss_bad = self._max_rss is not None and rss is not None and rss > self._max_rss
        status = _grade(used_pct > self._max_used or rss_bad, used_pct > self._warn_used)
        message = f"{used_pct:.1f}% of {total / 2**30:.1f} GiB memory in use"
        if rss is not None:
            message += f"; this process uses {rss / 2**20:.0f} MiB"
        return CheckResult(
            status=status,
            message=message,
            details={
                "total_bytes": total,
                "available_bytes": available,
                "process_rss_bytes": rss,
                "max_used_percent": self._max_used,
                "warn_used_percent": self._warn_used,
            },
            observed_value=used_pct,
            observed_unit="percent",
        )


def check_disk_space(
    path: str = "/",
    *,
    min_free_percent: float = 5.0,
    warn_free_percent: float = 10.0,
    min_free_bytes: int | None = None,
) -> DependencyCheck:
    """A check of free space on the filesystem holding ``path``.

    Fails below ``min_free_percent`` (or ``min_free_bytes``), is degraded below
    ``warn_free_percent``. Reports ``disk:utilization`` in percent used.

    Example::

        >>> from berrys_monitoring.health import check_disk_space
        >>> check_disk_space("/", min_free_percent=0, warn_free_percent=0)().is_healthy
        True
    """
    lo = _percent("min_free_percent", min_free_percent)
    hi = _percent("warn_free_percent", warn_free_percent)
    if hi < lo:
        raise ValueError("warn_free_percent must be >= min_free_percent")
    if min_free_bytes is not None and min_free_bytes < 0:
        raise ValueError("min_free_bytes must be >= 0")
    if not os.path.exists(path):
        raise ValueError(f"check_disk_space: path {path!r} does not exist")
    return _Disk(path, lo, hi, min_free_bytes)


def check_memory(
    *,
    max_used_percent: float = 95.0,
    warn_used_percent: float = 85.0,
    max_process_rss_bytes: int | None = None,
) -> DependencyCheck:
    """A check of system memory in use (``/proc/meminfo`` MemAvailable on Linux).

    Fails above ``max_used_percent`` (or when this process's RSS exceeds
    ``max_process_rss_bytes``), is degraded above ``warn_used_percent``.

    Example::

        >>> from berrys_monitoring.health import check_memory
        >>> check_memory(max_used_percent=100, warn_used_percent=100)().is_healthy
        True
    """
    hi = _percent("max_used_percent", max_used_percent)
    lo = _percent("warn_used_percent", warn_used_percent)
    if lo > hi:
        raise ValueError("warn_used_percent must be <= max_used_percent")
    if max_process_rss_bytes is not None and max_process_rss_bytes <= 0:
        raise ValueError("max_process_rss_bytes must be > 0")
    return _Memory(hi, lo, max_process_rss_bytes)
