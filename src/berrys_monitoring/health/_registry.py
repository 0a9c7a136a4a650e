"""The registry: which checks exist, running them concurrently under timeouts, caching,
and logging state changes."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, TypeAlias, TypeVar, overload

from berrys_monitoring._internal import guard, report_internal_error
from berrys_monitoring.health import _pool
from berrys_monitoring.health._metrics import export_result
from berrys_monitoring.health._report import HealthReport, aggregate
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._runner import failure, run_async, run_sync, timeout_result
from berrys_monitoring.health._spec import CheckSpec, make_spec
from berrys_monitoring.health._status import HealthStatus, Probe, coerce_probes

__all__ = ["HealthRegistry"]

F = TypeVar("F", bound=Callable[..., Any])
_log = logging.getLogger("berrys_monitoring.health")
_Pending: TypeAlias = "CheckResult | cf.Future[CheckResult]"  # cached, or a run in flight


class _State:
    """Per-check mutable state: the run in flight, the cached result, the last status."""

    __slots__ = ("cached", "cached_until", "inflight", "last_status", "lock")
    # `cached` is stored already marked cached=True, so a cache hit allocates nothing.

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inflight: cf.Future[CheckResult] | None = None
        self.cached: CheckResult | None = None
        self.cached_until = 0.0
        self.last_status: HealthStatus | None = None


class HealthRegistry:
    """A set of health checks and the means to run them. The module-level functions
    (:func:`register_health_check`, :func:`check_health`) use a default instance; make
    your own for tests or to serve several services from one process.

    Checks run concurrently (sync ones on daemon worker threads, async ones on an event
    loop), each under its own timeout; a run still in flight is joined rather than
    started again, so a hung database costs one thread, not one per probe.

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
    ) -> None:
        self.service_id = service_id
        self.metrics = metrics
        self.version = version
        self.release_id = release_id
        self.description = description
        self._lock = threading.Lock()
        self._specs: dict[str, CheckSpec] = {}
        self._states: dict[str, _State] = {}
        self._tasks: set[asyncio.Task[CheckResult]] = set()
        _registries.add(self)

    def _after_fork(self) -> None:
        # Runs in flight belonged to the parent's threads, which the child does not have:
        # joining them would time out forever. Locks may have been held mid-fork.
        self._lock = threading.Lock()
        self._tasks = set()
        self._states = {name: _State() for name in self._specs}

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
        ``measurement`` (default ``"responseTime"``). Registering a name again replaces
        the previous check. The function is returned unchanged.
        """
        make_spec(name, lambda: None, **options)  # validate options before decorating

        def deco(f: F) -> F:
            spec = make_spec(name, f, **options)
            with self._lock:
                self._specs[name] = spec
                self._states[name] = _State()
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

    def _spec(self, name: str) -> tuple[CheckSpec, _State]:
        with self._lock:
            if name not in self._specs:
                known = ", ".join(sorted(self._specs)) or "none"
                raise KeyError(f"no health check named {name!r} (registered: {known})")
            return self._specs[name], self._states[name]

    # -- running ----------------------------------------------------------------------
    def _start(
        self, spec: CheckSpec, st: _State, loop: asyncio.AbstractEventLoop | None, use_cache: bool
    ) -> _Pending:
        now = time.monotonic()
        with st.lock:
            if use_cache and st.cached is not None and now < st.cached_until:
                return st.cached
            if st.inflight is not None and not st.inflight.done():
                return st.inflight  # join the run in flight instead of piling up another
            try:
                if not spec.is_async:
                    fut = _pool.submit(lambda: self._store(spec, st, run_sync(spec)))
                elif loop is not None:
                    fut = self._start_in_loop(spec, st, loop)
                else:
                    fut = _pool.background_loop().run(self._run_async_store(spec, st))
            except RuntimeError as exc:  # cannot start a thread (interpreter shutting down)
                report_internal_error("health", exc, "cannot start a health check")
                return failure(exc).with_(name=spec.name, critical=spec.critical)
            st.inflight = fut
            return fut

    async def _run_async_store(self, spec: CheckSpec, st: _State) -> CheckResult:
        return self._store(spec, st, await run_async(spec))

    def _start_in_loop(
        self, spec: CheckSpec, st: _State, loop: asyncio.AbstractEventLoop
    ) -> cf.Future[CheckResult]:
        out: cf.Future[CheckResult] = cf.Future()
        out.set_running_or_notify_cancel()
        task = loop.create_task(self._run_async_store(spec, st))

        def transfer(t: asyncio.Task[CheckResult]) -> None:
            self._tasks.discard(t)
            if t.cancelled():
                out.set_result(timeout_result(spec))
            elif (exc := t.exception()) is not None:
                out.set_exception(exc)
            else:
                out.set_result(t.result())

        self._tasks.add(task)  # keep a reference: the loop only holds weak ones
        task.add_done_callback(transfer)
        return out

    def _store(self, spec: CheckSpec, st: _State, res: CheckResult) -> CheckResult:
        """Remember a finished run: cache it (if asked) and log a change of status."""
        with st.lock:
            if spec.cache_ttl and not res.timed_out:
                st.cached = res.with_(cached=True)
                st.cached_until = time.monotonic() + spec.cache_ttl
        self._note(st, res)
        return res

    def _note(self, st: _State, res: CheckResult) -> None:
        if self.metrics:
            export_result(res)
        with st.lock:
            prev, st.last_status = st.last_status, res.status
        if prev is res.status or (prev is None and res.is_healthy):
            return
        with guard("health", "cannot log a health change"):
            if res.is_healthy:
                _log.info("health check %s recovered: %s", res.name, res.message)
            else:
                level = logging.WARNING if res.critical else logging.INFO
                _log.log(
                    level, "health check %s is %s: %s", res.name, res.status.label, res.message
                )

    def _timed_out(self, spec: CheckSpec, st: _State) -> CheckResult:
        res = timeout_result(spec)
        self._note(st, res)
        return res

    def _wait(self, spec: CheckSpec, st: _State, pending: _Pending, deadline: float) -> CheckResult:
        if isinstance(pending, CheckResult):
            return pending
        try:
            return pending.result(timeout=max(0.0, deadline - time.monotonic()))  # type: ignore[no-any-return]
        except cf.TimeoutError:
            return self._timed_out(spec, st)
        except (Exception, asyncio.CancelledError) as exc:
            return failure(exc).with_(name=spec.name, critical=spec.critical)

    async def _await(
        self, spec: CheckSpec, st: _State, pending: _Pending, deadline: float
    ) -> CheckResult:
        if isinstance(pending, CheckResult):
            return pending
        try:
            waiter = asyncio.shield(asyncio.wrap_future(pending))
            remaining = max(0.0, deadline - time.monotonic())
            return await asyncio.wait_for(waiter, remaining)  # type: ignore[no-any-return]
        except asyncio.TimeoutError:
            return self._timed_out(spec, st)
        except Exception as exc:
            return failure(exc).with_(name=spec.name, critical=spec.critical)

    def _plan(self, name: str | None, probe: str | Probe | None) -> list[tuple[CheckSpec, _State]]:
        if name is not None:
            return [self._spec(name)]
        with self._lock:
            states = dict(self._states)
        return [(s, states[s.name]) for s in self._select(probe) if s.name in states]

    def _report(
        self, results: dict[str, CheckResult], probe: str | Probe | None, t0: float
    ) -> HealthReport:
        return HealthReport(
            status=aggregate(results),
            checks=results,
            duration=time.perf_counter() - t0,
            probe=None if probe is None else next(iter(coerce_probes(probe))).value,
            service_id=self.service_id,
            version=self.version,
            release_id=self.release_id,
            description=self.description,
        )

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
        ``probe``. ``use_cache=False`` ignores cached results.
        """
        t0 = time.perf_counter()
        plan = self._plan(name, probe)
        start = time.monotonic()
        pending = [(spec, st, self._start(spec, st, None, use_cache)) for spec, st in plan]
        results = {
            spec.name: self._wait(spec, st, p, start + spec.timeout) for spec, st, p in pending
        }
        if name is not None:
            return results[name]
        return self._report(results, probe, t0)

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
        t0 = time.perf_counter()
        plan = self._plan(name, probe)
        loop = asyncio.get_running_loop()
        start = time.monotonic()
        pending = [(spec, st, self._start(spec, st, loop, use_cache)) for spec, st in plan]
        done = await asyncio.gather(
            *(self._await(spec, st, p, start + spec.timeout) for spec, st, p in pending)
        )
        results = {r.name: r for r in done}
        if name is not None:
            return results[name]
        return self._report(results, probe, t0)


_registries: weakref.WeakSet[HealthRegistry] = weakref.WeakSet()


def _after_fork_in_child() -> None:
    for reg in list(_registries):
        reg._after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
