"""Deferred access lines: kept by our handlers, written in order before any other line, on
flush and close, at 128 lines, by the background flusher, and never twice across a fork."""

from __future__ import annotations

import io
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from prometheus_client import CollectorRegistry
from tests.logging.test_fastline import _alone

from berrys_monitoring.logging import SafeFileHandler, SafeStreamHandler, configure_logging
from berrys_monitoring.logging._deferred import MAX_PENDING
from berrys_monitoring.middleware.fastapi import setup_monitoring

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

Handler = SafeFileHandler | SafeStreamHandler


class Target:
    """One of our handlers and a way to read what it wrote."""

    def __init__(self, handler: Handler, read: Callable[[], str]) -> None:
        self.handler = handler
        self._read = read

    def lines(self) -> list[str]:
        return self._read().splitlines()


@pytest.fixture(params=["file", "stream"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "file":
        path = tmp_path / "access.log"
        handler: Handler = SafeFileHandler(path)
        t = Target(handler, lambda: path.read_text(encoding="utf-8"))
    else:
        stream = io.StringIO()
        handler = SafeStreamHandler(stream)
        t = Target(handler, stream.getvalue)
    yield t
    handler.close()


def _defer(handler: Handler, *lines: str) -> None:
    with handler.lock:  # type: ignore[union-attr]
        for line in lines:
            handler.defer_line(line)


def test_deferred_lines_go_out_first_when_another_line_is_written(target: Target) -> None:
    h = target.handler
    # Holding the handler's lock keeps the background flusher out for the whole check.
    with h.lock:  # type: ignore[union-attr]
        _defer(h, "a1", "a2", "a3")
        assert target.lines() == []
        h.write_line("other")
        assert target.lines() == ["a1", "a2", "a3", "other"]
        _defer(h, "b1")
        h.write_line("other2")
    h.flush()
    assert target.lines() == ["a1", "a2", "a3", "other", "b1", "other2"]


@pytest.mark.parametrize("how", ["flush", "close"])
def test_flush_and_close_write_the_deferred_lines(target: Target, how: str) -> None:
    h = target.handler
    with h.lock:  # type: ignore[union-attr]
        _defer(h, "x1", "x2")
        assert target.lines() == []
        getattr(h, how)()
        assert target.lines() == ["x1", "x2"]
    h.flush()
    assert target.lines() == ["x1", "x2"]  # once


def test_a_full_batch_is_written_without_waiting(target: Target) -> None:
    h = target.handler
    batch = [f"line {i}" for i in range(MAX_PENDING)]
    assert MAX_PENDING == 128
    with h.lock:  # type: ignore[union-attr]
        _defer(h, *batch[:-1])
        assert target.lines() == []
        _defer(h, batch[-1])
        assert target.lines() == batch
    h.flush()
    assert target.lines() == batch


def _wait_for(condition: Callable[[], bool], seconds: float = 2.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_the_flusher_writes_lines_nobody_else_writes(target: Target) -> None:
    _defer(target.handler, "late1", "late2")
    assert _wait_for(lambda: target.lines() == ["late1", "late2"]), target.lines()
    _defer(target.handler, "late3")  # the flusher wakes again for the next line
    assert _wait_for(lambda: target.lines() == ["late1", "late2", "late3"]), target.lines()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_never_writes_its_parents_deferred_lines(tmp_path: Path) -> None:
    path = tmp_path / "fork.log"
    h = SafeFileHandler(path)
    try:
        parents = [f"parent {i}" for i in range(5)]
        _defer(h, *parents)
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            code = 1
            try:
                h.flush()
                _defer(h, "child")
                h.flush()
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        h.flush()
        lines = path.read_text(encoding="utf-8").splitlines()
    finally:
        h.close()
    assert sorted(lines) == sorted([*parents, "child"])
    assert [x for x in lines if x != "child"] == parents


def test_access_lines_reach_the_log_file_before_later_lines(tmp_path: Path) -> None:
    path = tmp_path / "service.log"
    configure_logging(level="info", log_file=path, log_to_console=False, adopt_servers=False)
    app = FastAPI()

    @app.get("/items/{item_id}")
    async def item(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    setup_monitoring(
        app, service_name="svc", registry=CollectorRegistry(), configure_defaults=False
    )
    n = 25
    with _alone():  # only our handlers, so access lines take the deferred fast path
        client = TestClient(app)
        for i in range(n):
            assert client.get(f"/items/{i}").status_code == 200
        logging.getLogger("app").warning("after the requests")
        for handler in logging.getLogger().handlers:
            handler.flush()
    import json

    records = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    access = [r for r in records if r.get("logger") == "berrys_monitoring.access"]
    assert [r["path"] for r in access] == [f"/items/{i}" for i in range(n)]
    assert all(r["status"] == 200 and len(r["request_id"]) == 32 for r in access)
    assert records[-1]["message"] == "after the requests"
    assert records.index(access[-1]) < len(records) - 1
