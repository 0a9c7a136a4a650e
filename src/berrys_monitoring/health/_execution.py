"""Running checks: start (or join) a run, wait for it under its timeout, cache the result,
log changes of status. :class:`HealthRegistry` builds on this."""

from __future__ import annotations

import asyncio
import concurrent.futures as cf
import logging
import threading
from collections.abc import Callable
from typing import TypeAlias

from berrys_monitoring._internal import count_event, guard, report_internal_error
from berrys_monitoring.health import _pool
from berrys_monitoring.health._masking import redact_result
from berrys_monitoring.health._metrics import export_result
from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.health._runner import failure, run_async, run_sync, timeout_result
from berrys_monitoring.health._spec import CheckSpec
from berrys_monitoring.health._status import HealthStatus
from berrys_monitoring.logging import Redactor

__all__ = ["CheckExecutor", "Pending", "State", "running_loop"]

_log = logging.getLogger("berrys_monitoring.health")

# A run still in flight after max(STALE_FACTOR x timeout, STALE_MIN_S) is abandoned and
# a new one started; until then callers join it rather than pile up threads.
STALE_FACTOR = 10.0
STALE_MIN_S = 60.0
# Each abandoned run keeps its (daemon) thread parked for as long as it hangs. Past this
# many still hanging, the check stops starting new runs and keeps timing out, so a
# dependency that hangs forever costs a few threads, not one more per minute.
MAX_ABANDONED = 3
Pending: TypeAlias = "CheckResult | cf.Future[CheckResult]"  # cached, or a run in flight


class State:
    """Per-check mutable state: the run in flight, the cached result, the last status."""

    __slots__ = (
        "abandoned",
        "cached",
        "cached_until",
        "inflight",
        "inflight_loop",
        "inflight_since",
        "last_status",
        "lock",
    )
    # `cached` is stored already marked cached=True, so a cache hit allocates nothing.

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inflight: cf.Future[CheckResult] | None = None
        self.inflight_since = 0.0
        self.inflight_loop: asyncio.AbstractEventLoop | None = None
        self.cached: CheckResult | None = None
        self.cached_until = 0.0
        self.last_status: HealthStatus | None = None
        self.abandoned: list[cf.Future[CheckResult]] = []


def running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class CheckExecutor:
    """The run/wait/cache machinery shared by sync and async callers.

    Every caller of a run shares that run's deadline (its start plus the check's
    timeout): a caller that joins a hung run late waits only for what is left of it, and
    one that comes after the deadline answers "timed out" at once, so a hung check pins
    neither a new worker thread nor a full timeout of every request thread.
    """

    metrics: bool
    # The monotonic time source for deadlines, cache expiry, staleness and durations.
    _clock: Callable[[], float]
    # What every result's free text goes through before it is cached, logged or served.
    _redactor: Redactor
    _tasks: set[asyncio.Task[CheckResult]]
    # The task behind each run started on a caller's loop, so callers on that same loop
    # await it directly instead of through a thread-safe future.
    _task_of: dict[cf.Future[CheckResult], asyncio.Task[CheckResult]]

    def _start(
        self, spec: CheckSpec, st: State, loop: asyncio.AbstractEventLoop | None, use_cache: bool
    ) -> tuple[Pending, float]:
        """The cached result or the run to wait for, and the deadline of that run."""
        now = self._clock()
        with st.lock:
            if use_cache and st.cached is not None and now < st.cached_until:
                return st.cached, now
            if self._joinable(spec, st, now, loop):
                assert st.inflight is not None
                # Join the run in flight instead of piling up another, up to its deadline.
                return st.inflight, st.inflight_since + spec.timeout
            try:
                if not spec.is_async:
                    clock = self._clock
                    fut = _pool.submit(lambda: self._store(spec, st, run_sync(spec, clock)))
                elif loop is not None:
                    fut = self._start_in_loop(spec, st, loop)
                else:
                    fut = _pool.background_loop().run(self._run_async_store(spec, st))
            except RuntimeError as exc:  # cannot start a thread (interpreter shutting down)
                report_internal_error("health", exc, "cannot start a health check")
                return self._failed(spec, exc), now
            st.inflight, st.inflight_since = fut, now
            st.inflight_loop = loop if spec.is_async else None
            return fut, now + spec.timeout

    def _joinable(
        self, spec: CheckSpec, st: State, now: float, loop: asyncio.AbstractEventLoop | None
    ) -> bool:
        fut = st.inflight
        if fut is None or fut.done():
            return False
        run_loop = st.inflight_loop
        if run_loop is not None:
            if run_loop.is_closed():
                return False  # its loop is gone: the run can never finish
            if loop is None and run_loop is running_loop():
                # A sync caller on that loop's own thread blocks the loop while it waits:
                # joining would wait for a run that cannot progress.
                return False
        if now - st.inflight_since > max(STALE_FACTOR * spec.timeout, STALE_MIN_S):
            st.abandoned = [f for f in st.abandoned if not f.done()]
            if len(st.abandoned) >= MAX_ABANDONED:
                return True  # enough threads parked on this dependency already
            # Stuck for far longer than its timeout (a socket read without a timeout):
            # give up on it, so the check can recover when the dependency does.
            count_event("health", "abandoned_run")
            st.abandoned.append(fut)
            return False
        return True

    async def _run_async_store(self, spec: CheckSpec, st: State) -> CheckResult:
        return self._store(spec, st, await run_async(spec, self._clock))

    def _start_in_loop(
        self, spec: CheckSpec, st: State, loop: asyncio.AbstractEventLoop
    ) -> cf.Future[CheckResult]:
        out: cf.Future[CheckResult] = cf.Future()
        out.set_running_or_notify_cancel()
        task = loop.create_task(self._run_async_store(spec, st))

        def transfer(t: asyncio.Task[CheckResult]) -> None:
            self._tasks.discard(t)
            self._task_of.pop(out, None)
            if t.cancelled():
                out.set_result(timeout_result(spec))
            elif (exc := t.exception()) is not None:
                out.set_exception(exc)
            else:
                out.set_result(t.result())

        self._tasks.add(task)  # keep a reference: the loop only holds weak ones
        self._task_of[out] = task
        task.add_done_callback(transfer)
        return out

    def _failed(self, spec: CheckSpec, exc: BaseException) -> CheckResult:
        res = failure(exc).with_(name=spec.name, critical=spec.critical)
        return redact_result(res, self._redactor)

    def _store(self, spec: CheckSpec, st: State, res: CheckResult) -> CheckResult:
        """Remember a finished run: redact it, cache it (if asked), log a change of status."""
        res = redact_result(res, self._redactor)
        with st.lock:
            if spec.cache_ttl and not res.timed_out:
                st.cached = res.with_(cached=True)
                st.cached_until = self._clock() + spec.cache_ttl
        self._note(st, res)
        return res

    def _note(self, st: State, res: CheckResult) -> None:
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

    def _timed_out(self, spec: CheckSpec, st: State) -> CheckResult:
        res = timeout_result(spec)
        self._note(st, res)
        return res

    def _wait(self, spec: CheckSpec, st: State, pending: Pending, deadline: float) -> CheckResult:
        if isinstance(pending, CheckResult):
            return pending
        try:
            return pending.result(timeout=max(0.0, deadline - self._clock()))  # type: ignore[no-any-return]
        except cf.TimeoutError:
            return self._timed_out(spec, st)
        except (Exception, asyncio.CancelledError) as exc:
            return self._failed(spec, exc)

    async def _await_all(
        self, items: list[tuple[CheckSpec, State, Pending, float]]
    ) -> dict[str, CheckResult]:
        """Await every pending run up to its own deadline, without blocking the loop.

        One ``asyncio.wait`` per distinct deadline (usually one in all) instead of a
        timer per check; a run started on this loop is awaited directly as its task.
        """
        loop = asyncio.get_running_loop()
        results: dict[str, CheckResult] = {}
        waiting: list[tuple[CheckSpec, State, asyncio.Future[CheckResult], float]] = []
        for spec, st, p, deadline in items:
            if isinstance(p, CheckResult):
                results[spec.name] = p
                continue
            task = self._task_of.get(p)
            if task is not None and task.get_loop() is loop:
                waiting.append((spec, st, task, deadline))
            else:
                waiting.append((spec, st, asyncio.wrap_future(p, loop=loop), deadline))
        for spec, st, fut, deadline in sorted(waiting, key=lambda w: w[3]):
            if not fut.done():
                remaining = deadline - self._clock()
                open_ = {f for _, _, f, _ in waiting if not f.done()}
                if remaining > 0 and open_:
                    # asyncio.wait never cancels what it waits for: a run that outlives
                    # this caller's deadline keeps going for the next caller to join.
                    await asyncio.wait(open_, timeout=remaining)
            results[spec.name] = self._outcome(spec, st, fut)
        return {spec.name: results[spec.name] for spec, _, _, _ in items}

    def _outcome(self, spec: CheckSpec, st: State, fut: asyncio.Future[CheckResult]) -> CheckResult:
        if not fut.done():
            return self._timed_out(spec, st)
        if fut.cancelled():
            return timeout_result(spec)
        exc = fut.exception()
        if exc is not None:
            return self._failed(spec, exc)
        return fut.result()
