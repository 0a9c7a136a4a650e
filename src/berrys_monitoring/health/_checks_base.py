"""What the ready-made checks share: masking, error wording, lazy driver imports."""

from __future__ import annotations

import importlib
import time
from typing import Any

from berrys_monitoring.health._masking import mask_url, scrub, secrets_of
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._status import HealthStatus

__all__ = ["DEFAULT_CHECK_TIMEOUT", "DependencyCheck", "require", "validate_timeout"]

# Below the registry's default 2 s, so a dead dependency reports the driver's own error
# ("connection refused", "timeout expired") instead of a generic "timed out".
DEFAULT_CHECK_TIMEOUT = 1.5


def require(module: str, extra: str, what: str) -> Any:
    """Import a driver, or raise an ImportError that says exactly what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"the {what} health check needs the '{module}' package: "
            f"pip install 'berrys-monitoring[{extra}]'"
        ) from exc


def validate_timeout(timeout: float) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return float(timeout)


class DependencyCheck:
    """Base of the ready-made checks: a callable returning a :class:`CheckResult`.

    Subclasses implement :meth:`probe`; any exception it raises becomes an unhealthy
    result naming the (masked) target. ``component_type``, ``measurement`` and
    ``secrets`` are read by the registry as defaults.

    Example::

        >>> from berrys_monitoring.health import CheckResult, DependencyCheck, HealthStatus
        >>> class Broker(DependencyCheck):
        ...     kind = "broker"
        ...     def probe(self):
        ...         raise ConnectionRefusedError("nobody home")
        >>> Broker("amqp://guest:guest123@127.0.0.1:5672/", timeout=1.0)().message
        'broker at amqp://guest:***@127.0.0.1:5672/ is unreachable: ConnectionRefusedError: nobody home'
    """

    kind: str = "dependency"
    component_type: str = "component"
    measurement: str = "responseTime"

    def __init__(self, target: str, timeout: float) -> None:
        self.secrets: list[str] = secrets_of(target)
        self.target = mask_url(target)
        self.timeout = validate_timeout(timeout)

    def probe(self) -> CheckResult:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self) -> CheckResult:
        t0 = time.perf_counter()
        try:
            return self.probe()
        except Exception as exc:
            elapsed = time.perf_counter() - t0
            reason = scrub(_describe(exc), self.secrets)
            return CheckResult(
                status=HealthStatus.UNHEALTHY,
                message=f"{self.kind} at {self.target} is unreachable: {reason}",
                details={
                    "target": self.target,
                    "error": type(exc).__name__,
                    "elapsed_ms": round(elapsed * 1000, 3),
                },
            )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.target}>"


def _describe(exc: BaseException) -> str:
    # Driver messages are often multi-line; the first non-empty line carries the reason.
    text = str(exc).strip()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    first = "; ".join(lines[:2]) if lines else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
