"""Context binding, and the context crossing async and thread-pool boundaries."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from concurrent.futures import ThreadPoolExecutor

from tests.logging.conftest import Lines

from berrys_monitoring.logging import (
    bind_context,
    bound_context,
    clear_context,
    get_context,
    get_logger,
    run_in_executor,
    unbind_context,
    wrap_context,
)


def test_bind_unbind_and_get_context() -> None:
    bind_context(request_id="r1", user_id="u1")
    bind_context(step="a")
    assert get_context() == {"request_id": "r1", "user_id": "u1", "step": "a"}
    unbind_context("step", "not-bound")
    assert get_context() == {"request_id": "r1", "user_id": "u1"}
    clear_context()
    assert get_context() == {}


def test_get_context_returns_a_copy() -> None:
    bind_context(a=1)
    ctx = get_context()
    ctx["b"] = 2
    assert get_context() == {"a": 1}


def test_bound_context_restores_the_previous_context_even_on_error() -> None:
    bind_context(request_id="outer")
    try:
        with bound_context(request_id="inner", extra_key=1) as ctx:
            assert ctx == {"request_id": "inner", "extra_key": 1}
            raise RuntimeError
    except RuntimeError:
        pass
    assert get_context() == {"request_id": "outer"}


def test_context_fields_are_on_every_line_until_unbound(json_logging: Lines) -> None:
    log = get_logger("ctx")
    with bound_context(request_id="r-1"):
        log.info("one")
        bind_context(phase="load")
        log.info("two")
    log.info("three")
    one, two, three = json_logging.records()
    assert one["request_id"] == "r-1" and "phase" not in one
    assert two["request_id"] == "r-1" and two["phase"] == "load"
    assert "request_id" not in three and "phase" not in three


def test_context_is_carried_into_asyncio_tasks_and_isolated_between_them(
    json_logging: Lines,
) -> None:
    log = get_logger("tasks")

    async def handle(request_id: str) -> None:
        bind_context(request_id=request_id)
        await asyncio.sleep(0)
        child = asyncio.create_task(work())
        await child

    async def work() -> None:
        await asyncio.sleep(0)
        log.info("working")

    async def main() -> None:
        await asyncio.gather(handle("a"), handle("b"), handle("c"))

    asyncio.run(main())
    recs = [r for r in json_logging.records() if r["logger"] == "tasks"]
    assert sorted(str(r["request_id"]) for r in recs) == ["a", "b", "c"]
    assert get_context() == {}


def test_context_is_carried_into_asyncio_to_thread(json_logging: Lines) -> None:
    log = get_logger("to_thread")
    seen: list[str] = []

    def blocking() -> None:
        seen.append(threading.current_thread().name)
        log.info("in thread")

    async def main() -> None:
        with bound_context(request_id="r-thread"):
            await asyncio.to_thread(blocking)

    asyncio.run(main())
    assert seen and seen[0] != threading.current_thread().name
    (rec,) = [r for r in json_logging.records() if r["logger"] == "to_thread"]
    assert rec["request_id"] == "r-thread"


def test_plain_run_in_executor_loses_the_context_but_ours_carries_it(json_logging: Lines) -> None:
    log = get_logger("executor")

    def blocking(tag: str) -> None:
        log.info(tag)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as pool, bound_context(request_id="r-exec"):
            # the stdlib does not copy contextvars into executor threads...
            await loop.run_in_executor(pool, blocking, "plain")
            # ...our helper does, with an explicit loop and executor or the defaults
            await run_in_executor(loop, pool, blocking, "helper")
            await run_in_executor(None, None, blocking, "helper-defaults")

    asyncio.run(main())
    # (asyncio's own debug line "Using selector" is in the output too)
    plain, helper, defaults = [r for r in json_logging.records() if r["logger"] == "executor"]
    assert "request_id" not in plain
    assert helper["request_id"] == "r-exec"
    assert defaults["request_id"] == "r-exec"


def test_wrap_context_carries_the_context_into_threads_and_pools(json_logging: Lines) -> None:
    log = get_logger("wrap")
    with bound_context(request_id="r-wrap"):
        t = threading.Thread(target=wrap_context(lambda: log.info("thread")))
        with ThreadPoolExecutor(2) as pool:
            fn = wrap_context(lambda tag: log.info(tag))
            futures = [pool.submit(fn, f"pool-{i}") for i in range(4)]
            for f in futures:
                f.result()
        t.start()
        t.join()
    recs = json_logging.records()
    assert len(recs) == 5
    assert all(r["request_id"] == "r-wrap" for r in recs)


def test_binding_inside_a_wrapped_call_does_not_leak_out() -> None:
    def inner() -> dict[str, object]:
        bind_context(inner=True)
        return get_context()

    with bound_context(outer=1):
        assert wrap_context(inner)() == {"outer": 1, "inner": True}
        assert get_context() == {"outer": 1}


def test_context_lives_in_a_contextvar_copied_by_copy_context() -> None:
    bind_context(request_id="copied")
    ctx = contextvars.copy_context()
    clear_context()
    assert ctx.run(get_context) == {"request_id": "copied"}


def test_reset_context_restores_what_was_bound_before_including_later_binds() -> None:
    from berrys_monitoring.logging import reset_context

    clear_context()
    outer = bind_context(tenant="acme")
    token = bind_context(request_id="r1")
    bind_context(user_id="u1")  # bound by a handler during the request
    assert get_context() == {"tenant": "acme", "request_id": "r1", "user_id": "u1"}
    reset_context(token)
    assert get_context() == {"tenant": "acme"}
    reset_context(outer)
    assert get_context() == {}


def test_reset_context_from_another_context_still_restores_the_previous_fields() -> None:
    from berrys_monitoring.logging import reset_context

    clear_context()
    token = bind_context(request_id="r2")

    def elsewhere() -> dict[str, object]:
        # The ContextVar token belongs to the outer context: the reset falls back to
        # setting the previous fields here.
        reset_context(token)
        return get_context()

    assert contextvars.copy_context().run(elsewhere) == {}
    assert get_context() == {"request_id": "r2"}
    reset_context(token)
    assert get_context() == {}
