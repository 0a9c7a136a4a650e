"""Tailing the services' JSON log output from real files written in pieces."""

from __future__ import annotations

import json

from berrys_monitoring.demo._logs import LogTail


def _line(**kv: object) -> str:
    return json.dumps(kv) + "\n"


def test_tail_reads_only_new_complete_lines_and_keeps_the_last_few_per_service(tmp_path):
    gw, users = tmp_path / "gateway.log", tmp_path / "users.log"
    tail = LogTail(keep=2)
    tail.add("gateway", gw)
    tail.add("users", users)
    tail.poll()  # files do not exist yet: nothing, no error
    assert tail.recent() == []

    with gw.open("a") as fh:
        fh.write(_line(message="one") + _line(message="two") + '{"message": "thr')
    tail.poll()
    assert [r.record["message"] for r in tail.recent() if r.record] == ["one", "two"]

    with gw.open("a") as fh:
        fh.write('ee"}\nplain text banner\n')
    with users.open("a") as fh:
        fh.write(_line(message="u1"))
    tail.poll()
    recent = tail.recent()
    assert [(r.service, r.text) for r in recent][-1] == ("users", '{"message": "u1"}')
    gateway_lines = [r for r in recent if r.service == "gateway"]
    assert [r.text for r in gateway_lines] == ['{"message": "three"}', "plain text banner"]
    assert gateway_lines[1].record is None


def test_shared_trace_is_the_latest_trace_id_logged_by_every_service(tmp_path):
    gw, users = tmp_path / "gateway.log", tmp_path / "users.log"
    tail = LogTail()
    tail.add("gateway", gw)
    tail.add("users", users)
    a, b, only_gw = "a" * 32, "b" * 32, "c" * 32
    gw.write_text(_line(trace_id=a) + _line(trace_id=b) + _line(trace_id=only_gw))
    users.write_text(_line(trace_id=a) + _line(trace_id="0" * 32))
    tail.poll()
    assert tail.shared_trace(["gateway", "users"]) == a
    with users.open("a") as fh:
        fh.write(_line(trace_id=b))
    tail.poll()
    assert tail.shared_trace(["gateway", "users"]) == b
    assert tail.shared_trace(["gateway", "nobody"]) is None


def test_http_client_chatter_is_left_out_of_the_recent_lines_but_its_trace_ids_count(tmp_path):
    log = tmp_path / "gateway.log"
    tail = LogTail()
    tail.add("gateway", log)
    log.write_text(
        _line(logger="gateway", message="ready")
        + _line(logger="httpx", message="HTTP Request: GET /health/live", trace_id="d" * 32)
    )
    tail.poll()
    assert [r.record["message"] for r in tail.recent() if r.record] == ["ready"]
    assert tail.trace_ids("gateway") == ["d" * 32]
