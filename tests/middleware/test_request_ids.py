"""Generated request ids: unique, never mistaken for a card number, fresh after fork; the
bound id reaches the fast access line exactly as it reaches a generic log line."""

from __future__ import annotations

import io
import json
import logging
import os
import re
from collections.abc import Iterator

import pytest
from tests.support.logging_state import only_our_handlers, unconfigure_logging

from berrys_monitoring.logging import (
    _config,
    capture_logs,
    clear_context,
    configure_logging,
    get_logger,
    reset_context,
)
from berrys_monitoring.logging._bindfield import bind_field
from berrys_monitoring.logging._fastline import write_access
from berrys_monitoring.logging._redact import Redactor
from berrys_monitoring.middleware._request_id import new_request_id, sane_request_id

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"
ACCESS = logging.getLogger("berrys_monitoring.access")


def test_a_hundred_thousand_ids_are_unique_hex_and_pass_the_redactor_unchanged() -> None:
    ids = [new_request_id() for _ in range(100_000)]
    assert len(set(ids)) == len(ids)
    hex32 = re.compile(r"[0-9a-f]{32}")
    assert all(hex32.fullmatch(i) for i in ids)
    assert not [i for i in ids if re.search(r"\d{11}", i)]  # no run of more than 10 digits
    redactor = Redactor()
    assert [i for i in ids if redactor.text(i) != i] == []
    # Still random where it matters: every hex digit shows up at an unforced position.
    assert {i[0] for i in ids} == set("0123456789abcdef")


def test_a_sane_client_id_is_kept_and_anything_else_replaced() -> None:
    assert sane_request_id("abc-123") == "abc-123"
    for bad in ("", None, "has space", "x" * 129, "line\nbreak"):
        replaced = sane_request_id(bad)
        assert replaced != bad and len(replaced) == 32


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_forked_child_draws_other_ids_than_its_parent() -> None:
    new_request_id()  # the parent holds a batch of ids drawn ahead
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            os.close(read)
            os.write(write, " ".join(new_request_id() for _ in range(300)).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        child = pipe.read().decode().split()
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    parent = [new_request_id() for _ in range(300)]
    assert len(child) == 300 and len(set(child)) == 300
    assert not set(child) & set(parent)


@pytest.fixture
def ours() -> Iterator[io.StringIO]:
    """Our JSON configuration on a memory stream; unconfigured again afterwards."""
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    configure_logging(level="info", stream=out, service_name="svc", adopt_servers=False)
    try:
        yield out
    finally:
        clear_context()
        unconfigure_logging()
        root.setLevel(level)


_alone = only_our_handlers


def _both_lines(out: io.StringIO, value: str, trusted: bool) -> tuple[object, object]:
    """The request_id field of a fast access line and of a generic line (capture_logs)."""
    token = bind_field("request_id", value, trusted)
    try:
        fields: dict[str, object] = {"method": "GET", "path": "/p", "status": 200}
        with _alone():
            assert write_access(ACCESS, logging.INFO, "GET /p 200", fields, ("path",), "")
        with capture_logs(level="info") as captured:
            get_logger("app").info("inside")
    finally:
        reset_context(token)
    for h in _config._installed:
        h.flush()
    fast, written = [json.loads(x) for x in out.getvalue().splitlines()]
    [generic] = [r for r in captured if r["message"] == "inside"]
    assert fast["logger"] == ACCESS.name and written["message"] == "inside"
    assert written["request_id"] == generic["request_id"]
    return fast["request_id"], generic["request_id"]


def test_a_generated_id_is_written_alike_on_both_paths(ours: io.StringIO) -> None:
    rid = new_request_id()
    fast, generic = _both_lines(ours, rid, trusted=True)
    assert fast == generic == rid


@pytest.mark.parametrize("value", [JWT, "client-id_1.2:3@x/y+z=w"])
def test_a_client_id_is_redacted_alike_on_both_paths(ours: io.StringIO, value: str) -> None:
    assert sane_request_id(value) == value  # the middleware would accept it
    fast, generic = _both_lines(ours, value, trusted=False)
    assert fast == generic
    if value == JWT:
        assert isinstance(fast, str) and "eyJ" not in fast and "sig" not in fast
    else:
        assert fast == value
