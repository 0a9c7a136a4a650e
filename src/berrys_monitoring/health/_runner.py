"""Running one check: call it, coerce what it returned, time it, stamp it, scrub it."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Mapping
from typing import Any

from berrys_monitoring._internal import count_event
from berrys_monitoring.health._masking import scrub
from berrys_monitoring.health._result import CheckResult, coerce_outcome, utcnow
from berrys_monitoring.health._spec import CheckSpec
from berrys_monitoring.health._status import HealthStatus

__all__ = ["failure", "finalize", "run_async", "run_sync", "timeout_result"]


def failure(exc: BaseException) -> CheckResult:
    """A raising check is an unhealthy one; the exception becomes the message."""
    text = str(exc) or type(exc).__name__
    msg = text if text.startswith(type(exc).__name__) else f"{type(exc).__name__}: {text}"
    return CheckResult(
        status=HealthStatus.UNHEALTHY, message=msg, details={"error": type(exc).__name__}
    )


def _scrub_any(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, Mapping):
        return {k: _scrub_any(v, secrets) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_scrub_any(v, secrets) for v in value]
    return value


def finalize(spec: CheckSpec, res: CheckResult, duration: float) -> CheckResult:
    """Fill what the check left out (name, timing, criticality, observed value)."""
    observed, unit = res.observed_value, res.observed_unit
    if observed is None and spec.measurement == "responseTime":
        observed, unit = round(duration * 1000.0, 3), "ms"
    message = res.message or ("ok" if res.status is HealthStatus.HEALTHY else "check failed")
    status = res.status
    if (
        status is HealthStatus.HEALTHY
        and spec.degraded_after is not None
        and duration > spec.degraded_after
    ):
        # Answering, but slowly: degraded before it turns into a timeout.
        status = HealthStatus.DEGRADED
        message = f"{message} (slow: {duration:.3g}s > {spec.degraded_after:g}s)"
    details: Mapping[str, Any] = res.details
    if spec.secrets:
        message = scrub(message, spec.secrets)
        details = _scrub_any(details, spec.secrets)
    # A direct constructor call: dataclasses.replace() costs several times more, and this
    # runs once per check per probe.
    return CheckResult(
        status=status,
        message=message,
        name=spec.name,
        duration=duration,
        timestamp=utcnow(),
        details=details,
        critical=spec.critical,
        component_type=res.component_type or spec.component_type,
        measurement=spec.measurement,
        observed_value=observed,
        observed_unit=unit,
        cached=False,
        timed_out=res.timed_out,
    )


def timeout_result(spec: CheckSpec) -> CheckResult:
    # Counted as a self-metric (berrys_monitoring_events_total{component="health"}).
    count_event("health", "check_timeout")
    res = CheckResult(
        status=HealthStatus.UNHEALTHY,
        message=f"timed out after {spec.timeout:g}s",
        details={"timeout": spec.timeout},
        timed_out=True,
    )
    return finalize(spec, res, spec.timeout)


def run_sync(spec: CheckSpec, clock: Callable[[], float]) -> CheckResult:
    """Run a sync check on the current (worker) thread, timed by ``clock``."""
    t0 = clock()
    try:
        value = spec.func()
        if inspect.isawaitable(value):
            # A plain function that returned a coroutine: give it a loop of its own here.
            value = asyncio.run(_await(value))
        res = coerce_outcome(value)
    except Exception as exc:
        res = failure(exc)
    return finalize(spec, res, clock() - t0)


async def _await(value: Any) -> Any:
    return await value


async def _within(awaitable: Any, timeout: float) -> Any:
    """``await awaitable``, cancelled after ``timeout`` (TimeoutError).

    Cheaper than ``asyncio.wait_for``, which wraps the coroutine in another task: this
    always runs inside a task of its own (one per check run), so cancelling that task
    at the deadline is enough.
    """
    task = asyncio.current_task()
    assert task is not None
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    handle = asyncio.get_running_loop().call_later(timeout, expire)
    try:
        return await awaitable
    except asyncio.CancelledError:
        if expired:
            raise asyncio.TimeoutError from None
        raise
    finally:
        handle.cancel()


async def run_async(spec: CheckSpec, clock: Callable[[], float]) -> CheckResult:
    """Run an async check in the current task (its own), cancelled at its timeout."""
    t0 = clock()
    try:
        value = spec.func()
        if inspect.isawaitable(value):
            value = await _within(value, spec.timeout)
        res = coerce_outcome(value)
    except asyncio.TimeoutError:
        return timeout_result(spec)
    except Exception as exc:
        res = failure(exc)
    return finalize(spec, res, clock() - t0)
