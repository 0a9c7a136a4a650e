"""The registry: which checks exist, with what options, and the public entry points that
run them (the machinery is in ``_execution``)."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import os
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, overload

from berrys_monitoring.health._execution import CheckExecutor, State, running_loop
from berrys_monitoring.health._masking import DEFAULT_REDACTOR
from berrys_monitoring.health._report import HealthReport, aggregate
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._spec import CheckSpec, make_spec
from berrys_monitoring.health._status import Probe, coerce_probes
from berrys_monitoring.logging import Redactor

__all__ = ["DEFAULT_CLOCK", "HealthRegistry"]

F = TypeVar("F", bound=Callable[..., Any])

# The time source a registry uses unless given one: monotonic seconds. Tests pass a fake
# clock they advance by hand instead of sleeping.
DEFAULT_CLOCK: Callable[[], float] = time.monotonic
# How long a caller waits for an evaluation another caller leads beyond that evaluation's
# own deadline, before evaluating itself (the leader only renders and aggregates then).
_FOLLOW_GRACE_S = 1.0


@dataclass
class _Flight:
    """One evaluation of a report in progress, which concurrent callers share."""

    future: cf.Future[HealthReport] = field(default_factory=cf.Future)
    loop: asyncio.AbstractEventLoop | None = None  # the leader's loop, when async
    deadline: float = 0.0


class HealthRegistry(CheckExecutor):
    """A set of health checks and the means to run them. The module-level functions
    (:func:`register_health_check`, :func:`check_health`) use a default instance; make
    your own for tests or to serve several services from one process.

    Checks run concurrently (sync ones on daemon worker threads, async ones on an event
    loop), each under its own timeout; a run still in flight is joined rather than
    started again, so a hung database costs one thread, not one per probe. Concurrent
    calls for the same report share one evaluation (single flight).

    ``clock`` is the monotonic time source (seconds) behind timeouts, cache expiry and
    durations; tests pass a fake one instead of sleeping. ``redactor`` (a
    :class:`~berrys_monitoring.logging.Redactor`, the log redactor's default rules unless
    given) hides secrets in every result's message and details, as in the logs.

    Example::

        >>> from berrys_monitoring.health import HealthRegistry
        >>> reg = HealthRegistry(service_id="users", version="1.4.2", metrics=False)
        >>> @reg.register("queue", timeout=0.5, cache_ttl=5)
        ... def queue():
        ...     return True, "3 jobs waiting"
        >>> reg.check_health().status
        <HealthStatus.HEALTHY: 'pass'>
        >>> reg.check_health("queue").message
        '3 jobs waiting'
    """

    def __init__(
        self,
        *,
        service_id: str | None = None,
        version: str | None = None,
        release_id: str | None = None,
        description: str | None = None,
        metrics: bool = False,
        clock: Callable[[], float] | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        self._clock = DEFAULT_CLOCK if clock is None else clock
        self._redactor = DEFAULT_REDACTOR if redactor is None else redactor
        self.service_id = service_id
        self.metrics = metrics
        self.version = version
        self.release_id = release_id
        self.description = description
        self._lock = threading.Lock()
        self._specs: dict[str, CheckSpec] = {}
        self._states: dict[str, State] = {}
        self._tasks: set[asyncio.Task[CheckResult]] = set()
        self._task_of: dict[cf.Future[CheckResult], asyncio.Task[CheckResult]] = {}
        self._flights: dict[tuple[str | None, bool], _Flight] = {}
        _registries.add(self)

    def _after_fork(self) -> None:
        # Runs in flight belonged to the parent's threads, which the child does not have:
        # joining them would time out forever. Locks may have been held mid-fork.
        self._lock = threading.Lock()
        self._tasks = set()
        self._task_of = {}
        self._flights = {}
        self._states = {name: State() for name in self._specs}

    # -- registration -----------------------------------------------------------------
    @overload
    def register(self, name: str, func: None = None, **options: Any) -> Callable[[F], F]: ...
    @overload
    def register(self, name: str, func: F, **options: Any) -> F: ...
    def register(self, name: str, func: Any = None, **options: Any) -> Any:
        """Register ``func`` under ``name``; without ``func``, return a decorator.

        Options: ``critical=True`` (False: a failure degrades instead of failing),
        ``timeout=2.0`` seconds, ``probes=("readiness",)`` (any of liveness, readiness,
        startup), ``cache_ttl=None`` seconds, ``component_type`` (e.g. ``"datastore"``),
        ``measurement`` (default ``"responseTime"``), ``degraded_after=None`` seconds (a
        passing check slower than this reports degraded). Registering a name again replaces
        the previous check. The function is returned unchanged.
        """
        make_spec(name, lambda: None, **options)  # validate options before decorating

        def deco(f: F) -> F:
            spec = make_spec(name, f, **options)
            with self._lock:
                self._specs[name] = spec
                self._states[name] = State()
            return f

        return deco(func) if func is not None else deco

    def unregister(self, name: str) -> bool:
        """Remove a check; True if it existed."""
        with self._lock:
            self._states.pop(name, None)
            return self._specs.pop(name, None) is not None

    def clear(self) -> None:
        """Remove every check."""
        with self._lock:
            self._specs.clear()
            self._states.clear()

    def names(self, probe: str | Probe | None = None) -> list[str]:
        """Registered check names, optionally only those tagged for ``probe``."""
        return [s.name for s in self._select(probe)]

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __len__(self) -> int:
        return len(self._specs)

    def configure(self, **settings: Any) -> None:
        """Set ``service_id``, ``version``, ``release_id`` or ``description`` (shown in
        health+json), or ``metrics`` (export each check's status and duration as gauges)."""
        for key, value in settings.items():
            if key not in ("service_id", "version", "release_id", "description", "metrics"):
                raise TypeError(f"unknown health registry setting {key!r}")
            setattr(self, key, bool(value) if key == "metrics" else value)

    def _select(self, probe: str | Probe | None) -> list[CheckSpec]:
        with self._lock:
            specs = list(self._specs.values())
        if probe is None:
            return specs
        (wanted,) = coerce_probes(probe)
        return [s for s in specs if wanted in s.probes]

    def _spec(self, name: str) -> tuple[CheckSpec, State]:
        with self._lock:
            if name not in self._specs:
                known = ", ".join(sorted(self._specs)) or "none"
                raise KeyError(f"no health check named {name!r} (registered: {known})")
            return self._specs[name], self._states[name]

    # -- running ----------------------------------------------------------------------
    def _plan(self, probe: str | Probe | None) -> list[tuple[CheckSpec, State]]:
        with self._lock:
            states = dict(self._states)
        return [(s, states[s.name]) for s in self._select(probe) if s.name in states]

    def _report(
        self, results: dict[str, CheckResult], probe: str | None, t0: float
    ) -> HealthReport:
        return HealthReport(
            status=aggregate(results),
            checks=results,
            duration=self._clock() - t0,
            probe=probe,
            service_id=self.service_id,
            version=self.version,
            release_id=self.release_id,
            description=self.description,
        )

    # -- single flight ----------------------------------------------------------------
    # Concurrent callers asking for the same report (same probe, same use_cache) share
    # one evaluation: the first leads, the others wait for its report. Under a threaded
    # server, eight concurrent probes of a hung check then cost one evaluation bounded
    # by the check's timeout, not eight.
    def _lead_or_follow(
        self, key: tuple[str | None, bool], loop: asyncio.AbstractEventLoop | None
    ) -> tuple[_Flight, bool]:
        budget = max((s.timeout for s in self._select(key[0])), default=0.0)
        with self._lock:
            flight = self._flights.get(key)
            # A sync caller on the leader's own loop thread would block the loop the leader
            # needs to finish: it evaluates by itself instead.
            if (
                flight is not None
                and not flight.future.done()
                and not (loop is None and flight.loop is not None and flight.loop is running_loop())
            ):
                return flight, False
            flight = _Flight(loop=loop, deadline=self._clock() + budget)
            self._flights[key] = flight
            return flight, True

    def _land(
        self, key: tuple[str | None, bool], flight: _Flight, outcome: HealthReport | BaseException
    ) -> None:
        """End the leader's evaluation and hand its outcome to the followers."""
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]
        if isinstance(outcome, HealthReport):
            flight.future.set_result(outcome)
        elif isinstance(outcome, Exception):
            flight.future.set_exception(outcome)  # what the followers would have raised
        else:
            flight.future.cancel()  # the leader was cancelled: followers evaluate themselves

    def _follow_timeout(self, flight: _Flight) -> float:
        return max(0.0, flight.deadline - self._clock()) + _FOLLOW_GRACE_S

    def _evaluate(self, probe: str | None, use_cache: bool) -> HealthReport:
        t0 = self._clock()
        plan = self._plan(probe)
        pending = [(spec, st, *self._start(spec, st, None, use_cache)) for spec, st in plan]
        results = {
            spec.name: self._wait(spec, st, p, deadline) for spec, st, p, deadline in pending
        }
        return self._report(results, probe, t0)

    async def _evaluate_async(self, probe: str | None, use_cache: bool) -> HealthReport:
        t0 = self._clock()
        plan = self._plan(probe)
        loop = asyncio.get_running_loop()
        pending = [(spec, st, *self._start(spec, st, loop, use_cache)) for spec, st in plan]
        return self._report(await self._await_all(pending), probe, t0)

    @overload
    def check_health(
        self, name: None = None, probe: str | Probe | None = None, *, use_cache: bool = True
    ) -> HealthReport: ...
    @overload
    def check_health(
        self, name: str, probe: str | Probe | None = None, *, use_cache: bool = True
    ) -> CheckResult: ...
    def check_health(
        self, name: str | None = None, probe: str | Probe | None = None, *, use_cache: bool = True
    ) -> HealthReport | CheckResult:
        """Run checks and wait for them (at most the longest timeout).

        With ``name``: that check's :class:`CheckResult` (``KeyError`` if unknown).
        Otherwise a :class:`HealthReport` over every check, or only those tagged for
        ``probe``. ``use_cache=False`` ignores cached results. Calls made while another
        call for the same report is running share its evaluation.
        """
        if name is not None:
            spec, st = self._spec(name)
            pending, deadline = self._start(spec, st, None, use_cache)
            return self._wait(spec, st, pending, deadline)
        key = (_probe_name(probe), use_cache)
        flight, leader = self._lead_or_follow(key, None)
        if not leader:
            try:
                return flight.future.result(timeout=self._follow_timeout(flight))
            except (cf.TimeoutError, cf.CancelledError):
                return self._evaluate(*key)  # the leader is stuck or gone: do not wait
        try:
            report = self._evaluate(*key)
        except BaseException as exc:
            self._land(key, flight, exc)
            raise
        self._land(key, flight, report)
        return report

    @overload
    async def check_health_async(
        self, name: None = None, probe: str | Probe | None = None, *, use_cache: bool = True
    ) -> HealthReport: ...
    @overload
    async def check_health_async(
        self, name: str, probe: str | Probe | None = None, *, use_cache: bool = True
    ) -> CheckResult: ...
    async def check_health_async(
        self, name: str | None = None, probe: str | Probe | None = None, *, use_cache: bool = True
    ) -> HealthReport | CheckResult:
        """Like :meth:`check_health` but awaitable; never blocks the event loop (sync
        checks run on worker threads, async checks as tasks on the running loop)."""
        loop = asyncio.get_running_loop()
        if name is not None:
            spec, st = self._spec(name)
            pending = [(spec, st, *self._start(spec, st, loop, use_cache))]
            return (await self._await_all(pending))[name]
        key = (_probe_name(probe), use_cache)
        flight, leader = self._lead_or_follow(key, loop)
        if not leader:
            # Shielded: a follower cancelled (its client went away) must not cancel the
            # evaluation the others are waiting for.
            shared = asyncio.shield(asyncio.wrap_future(flight.future, loop=loop))
            try:
                return await asyncio.wait_for(shared, self._follow_timeout(flight))
            except asyncio.TimeoutError:
                pass
            except asyncio.CancelledError:
                if not flight.future.cancelled():
                    raise
            return await self._evaluate_async(*key)
        try:
            report = await self._evaluate_async(*key)
        except BaseException as exc:
            self._land(key, flight, exc)
            raise
        self._land(key, flight, report)
        return report


def _probe_name(probe: str | Probe | None) -> str | None:
    """The probe's name (``ValueError`` for an unknown one), or None for every check."""
    return None if probe is None else next(iter(coerce_probes(probe))).value


_registries: weakref.WeakSet[HealthRegistry] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for reg in list(_registries):
        reg._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
