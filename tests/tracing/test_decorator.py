"""@trace on every kind of callable: one span per call, errors recorded and re-raised."""

from __future__ import annotations

import asyncio

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from berrys_monitoring.tracing import capture_spans, get_current_span, trace, tracer


class Boom(Exception):
    pass


def test_sync_function_runs_inside_its_span_and_returns_its_value() -> None:
    @trace("add")
    def add(a: int, b: int) -> int:
        get_current_span().set_attribute("a", a)
        return a + b

    with capture_spans() as spans:
        assert add(2, 3) == 5
    span = spans.by_name("add")
    assert span.attributes == {"a": 2}
    assert span.status.status_code is StatusCode.UNSET
    assert span.kind is SpanKind.INTERNAL


def test_exception_is_recorded_on_the_span_and_reraised_unchanged() -> None:
    err = Boom("card declined")

    @trace("charge")
    def charge() -> None:
        raise err

    with capture_spans() as spans, pytest.raises(Boom) as info:
        charge()
    assert info.value is err
    span = spans.by_name("charge")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "Boom: card declined"
    [event] = span.events
    assert event.name == "exception"
    assert event.attributes is not None
    assert event.attributes["exception.type"].endswith("Boom")
    assert event.attributes["exception.message"] == "card declined"


def test_bare_decorator_uses_the_qualified_name_and_keeps_metadata() -> None:
    @trace
    def compute() -> str:
        """Docstring kept."""
        return "ok"

    with capture_spans() as spans:
        assert compute() == "ok"
    assert spans.names() == [compute.__qualname__]
    assert compute.__doc__ == "Docstring kept."
    assert compute.__name__ == "compute"


def test_kind_and_static_attributes_are_set() -> None:
    @trace("consume", kind=SpanKind.CONSUMER, attributes={"queue": "email"})
    def consume() -> None:
        pass

    with capture_spans() as spans:
        consume()
    span = spans.by_name("consume")
    assert span.kind is SpanKind.CONSUMER
    assert span.attributes == {"queue": "email"}


def test_nested_calls_make_parent_and_child_in_one_trace() -> None:
    @trace("inner")
    def inner() -> None:
        pass

    @trace("outer")
    def outer() -> None:
        inner()

    with capture_spans() as spans:
        outer()
    parent, child = spans.by_name("outer"), spans.by_name("inner")
    assert child.parent is not None
    assert child.parent.span_id == parent.context.span_id
    assert child.context.trace_id == parent.context.trace_id


async def test_async_function_span_covers_the_await_and_records_errors() -> None:
    @trace("fetch")
    async def fetch(x: int) -> int:
        await asyncio.sleep(0)
        with tracer.start_as_current_span("db"):
            await asyncio.sleep(0)
        return x

    @trace("fail")
    async def fail() -> None:
        await asyncio.sleep(0)
        raise Boom("async")

    with capture_spans() as spans:
        assert await fetch(7) == 7
        with pytest.raises(Boom):
            await fail()
    assert spans.by_name("db").parent.span_id == spans.by_name("fetch").context.span_id  # type: ignore[union-attr]
    assert spans.by_name("fail").status.status_code is StatusCode.ERROR


async def test_concurrent_async_calls_get_separate_spans_with_their_own_children() -> None:
    @trace("job")
    async def job(i: int) -> None:
        await asyncio.sleep(0.01 * (3 - i))
        with tracer.start_as_current_span(f"step-{i}"):
            await asyncio.sleep(0)

    with capture_spans() as spans:
        await asyncio.gather(*(job(i) for i in range(3)))
    jobs = {s.context.span_id for s in spans if s.name == "job"}
    assert len(jobs) == 3
    for i in range(3):
        assert spans.by_name(f"step-{i}").parent.span_id in jobs  # type: ignore[union-attr]


def test_generator_span_covers_the_iteration_but_not_the_consumer() -> None:
    @trace("rows")
    def rows(n: int):
        for i in range(n):
            with tracer.start_as_current_span("fetch-row"):
                pass
            yield i
        return "done"

    with capture_spans() as spans:
        got = []
        for row in rows(3):
            # The consumer's own work must not become a child of the generator's span.
            with tracer.start_as_current_span("consume"):
                got.append(row)
    assert got == [0, 1, 2]
    gen_span = spans.by_name("rows")
    fetches = [s for s in spans if s.name == "fetch-row"]
    consumes = [s for s in spans if s.name == "consume"]
    assert len(fetches) == 3 and len(consumes) == 3
    assert all(s.parent.span_id == gen_span.context.span_id for s in fetches)  # type: ignore[union-attr]
    assert all(s.parent is None for s in consumes)
    # The generator span ends after the last item, so it ends last.
    assert spans.names()[-1] == "rows"


def test_generator_return_value_send_and_throw_pass_through() -> None:
    @trace("echo")
    def echo():
        received = yield "ready"
        try:
            yield f"got {received}"
        except KeyError:
            yield "handled"
        return "bye"

    def driver():
        return (yield from echo())

    with capture_spans() as spans:
        g = driver()
        assert next(g) == "ready"
        assert g.send("x") == "got x"
        assert g.throw(KeyError("k")) == "handled"
        with pytest.raises(StopIteration) as stop:
            next(g)
    assert stop.value.value == "bye"
    assert spans.by_name("echo").status.status_code is StatusCode.UNSET


def test_generator_error_is_recorded_and_reraised() -> None:
    @trace("broken")
    def broken():
        yield 1
        raise Boom("mid-stream")

    with capture_spans() as spans:
        it = broken()
        assert next(it) == 1
        with pytest.raises(Boom, match="mid-stream"):
            next(it)
    span = spans.by_name("broken")
    assert span.status.status_code is StatusCode.ERROR
    assert span.events[0].name == "exception"


def test_closing_a_generator_early_ends_its_span_without_error() -> None:
    closed = []

    @trace("stream")
    def stream():
        try:
            yield 1
            yield 2
        finally:
            closed.append(True)

    with capture_spans() as spans:
        it = stream()
        next(it)
        it.close()
    assert closed == [True]
    assert spans.by_name("stream").status.status_code is StatusCode.UNSET


async def test_async_generator_span_covers_iteration_and_records_errors() -> None:
    @trace("ticks")
    async def ticks(n: int):
        for i in range(n):
            with tracer.start_as_current_span("tick"):
                await asyncio.sleep(0)
            yield i

    @trace("bad-ticks")
    async def bad_ticks():
        yield 1
        raise Boom("async gen")

    with capture_spans() as spans:
        assert [i async for i in ticks(2)] == [0, 1]
        with pytest.raises(Boom):
            async for _ in bad_ticks():
                pass
    parent = spans.by_name("ticks")
    assert [s.parent.span_id for s in spans if s.name == "tick"] == [parent.context.span_id] * 2  # type: ignore[union-attr]
    assert spans.by_name("bad-ticks").status.status_code is StatusCode.ERROR


def test_methods_can_be_traced() -> None:
    class Repo:
        @trace("Repo.get")
        def get(self, key: str) -> str:
            return key.upper()

    with capture_spans() as spans:
        assert Repo().get("a") == "A"
    assert spans.names() == ["Repo.get"]


def test_manual_span_records_an_exception_and_reraises_it() -> None:
    with capture_spans() as spans, pytest.raises(Boom):
        with tracer.start_as_current_span("manual") as span:
            assert get_current_span() is span
            raise Boom("inside with")
    s = spans.by_name("manual")
    assert s.status.status_code is StatusCode.ERROR
    assert s.status.description == "Boom: inside with"
    assert [e.name for e in s.events] == ["exception"]
    assert not get_current_span().get_span_context().is_valid  # detached again


def test_manual_span_honours_the_opentelemetry_flags() -> None:
    with capture_spans() as spans:
        with (
            pytest.raises(Boom),
            tracer.start_as_current_span(
                "quiet", record_exception=False, set_status_on_exception=False
            ),
        ):
            raise Boom("not recorded")
        with tracer.start_as_current_span("kept-open", end_on_exit=False) as open_span:
            pass
        assert spans.names() == ["quiet"]
        open_span.end()
    quiet = spans.by_name("quiet")
    assert quiet.events == () and quiet.status.status_code is StatusCode.UNSET
    assert spans.names() == ["quiet", "kept-open"]


def test_keyboard_interrupt_and_generator_exit_are_not_errors() -> None:
    @trace("interrupted")
    def interrupted() -> None:
        raise KeyboardInterrupt

    with capture_spans() as spans:
        with pytest.raises(KeyboardInterrupt):
            interrupted()
        with pytest.raises(KeyboardInterrupt), tracer.start_as_current_span("manual-interrupt"):
            raise KeyboardInterrupt
    assert all(s.status.status_code is StatusCode.UNSET for s in spans)
    assert len(spans) == 2


def test_an_ok_status_set_by_the_user_is_not_overwritten() -> None:
    from opentelemetry.trace import Status

    @trace("explicit-ok")
    def explicit_ok() -> None:
        get_current_span().set_status(Status(StatusCode.OK))
        raise Boom("after ok")

    with capture_spans() as spans, pytest.raises(Boom):
        explicit_ok()
    assert spans.by_name("explicit-ok").status.status_code is StatusCode.OK
