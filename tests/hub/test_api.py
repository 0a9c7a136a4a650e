"""The query API of a real hub: what it answers and the 400s for bad parameters."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from tests.hub.otlp import PROTOBUF, logs_request, spans_request


def _send_logs(client: httpx.Client, service: str, bodies: list[str], severity: int = 9) -> None:
    body = logs_request(service, bodies, severity=severity).SerializeToString()
    assert client.post("/v1/logs", content=body, headers=PROTOBUF).status_code == 200


def test_openapi_describes_the_query_api(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/v1/services", "/api/v1/traces", "/api/v1/traces/{trace_id}",
                 "/api/v1/logs", "/api/v1/logs/counts", "/v1/traces", "/api/v1/alerts",
                 "/api/v2/alerts", "/api/v1/targets", "/api/v1/dependencies"):  # fmt: skip
        assert path in paths
    params = {p["name"] for p in paths["/api/v1/traces"]["get"]["parameters"]}
    assert {"service", "operation", "status", "min_duration", "attribute", "limit"} <= params


def test_services_lists_every_signal_with_counts(client: httpx.Client) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    client.post(
        "/v1/traces", content=spans_request(service, 3).SerializeToString(), headers=PROTOBUF
    )
    _send_logs(client, service, ["a", "b"])
    found = {s["name"]: s for s in client.get("/api/v1/services").json()["services"]}
    assert found[service]["span_count"] == 3 and found[service]["log_count"] == 2
    assert found[service]["last_seen_ns"] <= time.time_ns()


def test_trace_search_by_status_duration_and_attribute(client: httpx.Client) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    bad = spans_request(service, 2, error=True)
    good = spans_request(service, 2)
    for req in (bad, good):
        client.post("/v1/traces", content=req.SerializeToString(), headers=PROTOBUF)
    bad_id = bad.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()
    good_id = good.resource_spans[0].scope_spans[0].spans[0].trace_id.hex()

    def ids(**params: object) -> list[str]:
        r = client.get("/api/v1/traces", params={"service": service, **params})
        assert r.status_code == 200, r.text
        return [t["trace_id"] for t in r.json()["traces"]]

    assert ids(status="error") == [bad_id]
    assert ids(status="ok") == [good_id]
    assert set(ids(min_duration="5ms", attribute="http.route=/orders")) == {bad_id, good_id}
    assert ids(min_duration="1s") == []
    assert ids(limit=1) == [good_id]
    assert ids(end=str(time.time() - 3600)) == []


def test_log_search_paginates_with_a_cursor_and_counts_per_bucket(client: httpx.Client) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    _send_logs(client, service, [f"line {i}" for i in range(7)])
    _send_logs(client, service, ["disk almost full"], severity=13)
    bodies, cursor = [], None
    while True:
        params = {"service": service, "limit": 3, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/logs", params=params).json()
        bodies += [r["body"] for r in page["logs"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(bodies) == 8 and bodies[0] == "disk almost full"
    warn = client.get("/api/v1/logs", params={"service": service, "level": "warn"}).json()
    assert [r["body"] for r in warn["logs"]] == ["disk almost full"]
    counts = client.get(
        "/api/v1/logs/counts",
        params={"service": service, "start": str(time.time() - 60), "step": "60s"},
    ).json()
    assert sum(b["count"] for b in counts["buckets"]) == 8


def test_logs_of_one_trace(client: httpx.Client) -> None:
    service = f"svc-{uuid.uuid4().hex[:8]}"
    req = logs_request(service, ["in the trace", "outside"])
    tid = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
    req.resource_logs[0].scope_logs[0].log_records[0].trace_id = tid
    client.post("/v1/logs", content=req.SerializeToString(), headers=PROTOBUF)
    logs = client.get("/api/v1/logs", params={"trace_id": tid.hex()}).json()["logs"]
    assert [r["body"] for r in logs] == ["in the trace"]


@pytest.mark.parametrize(
    ("path", "params", "message"),
    [
        ("/api/v1/traces", {"servce": "x"}, "servce: unknown parameter"),
        ("/api/v1/traces", {"status": "broken"}, "status"),
        ("/api/v1/traces", {"limit": "0"}, "limit"),
        ("/api/v1/traces", {"min_duration": "fast"}, "not a duration"),
        ("/api/v1/traces", {"attribute": "novalue"}, "key=value"),
        ("/api/v1/traces", {"start": "200", "end": "100"}, "start is after end"),
        ("/api/v1/traces", {"start": "yesterday"}, "not a time"),
        ("/api/v1/traces/not-a-trace-id", {}, "trace_id"),
        ("/api/v1/logs", {"trace_id": "abc"}, "trace_id"),
        ("/api/v1/logs", {"level": "loud"}, "unknown level"),
        ("/api/v1/logs", {"cursor": "x"}, "malformed cursor"),
        ("/api/v1/logs/counts", {"step": "0s"}, "step must be positive"),
        ("/api/v1/logs/counts", {"step": "1ns", "start": "0"}, "too many buckets"),
        ("/api/v1/metrics/samples", {}, "name"),
    ],
)
def test_bad_parameters_get_a_400_that_says_why(
    client: httpx.Client, path: str, params: dict[str, str], message: str
) -> None:
    r = client.get(path, params=params)
    assert r.status_code == 400, r.text
    assert message in r.json()["error"]


def test_an_unknown_trace_is_a_404(client: httpx.Client) -> None:
    r = client.get("/api/v1/traces/" + "ab" * 16)
    assert r.status_code == 404 and "no trace" in r.json()["error"]


def test_the_dependency_graph_counts_calls_and_errors_between_services(
    client: httpx.Client,
) -> None:
    front, back = f"front-{uuid.uuid4().hex[:6]}", f"back-{uuid.uuid4().hex[:6]}"
    for error in (False, True):
        caller = spans_request(front, 1)
        root = caller.resource_spans[0].scope_spans[0].spans[0]
        callee = spans_request(back, 2, trace_id=root.trace_id)
        callee_root = callee.resource_spans[0].scope_spans[0].spans[0]
        callee_root.parent_span_id = root.span_id
        if error:
            callee_root.status.code = 2  # the callee's server span failed: a failed call
        caller.resource_spans.extend(callee.resource_spans)
        r = client.post("/v1/traces", content=caller.SerializeToString(), headers=PROTOBUF)
        assert r.status_code == 200
    graph = client.get("/api/v1/dependencies").json()
    edges = [e for e in graph["edges"] if e["caller"] == front]
    # the callee's own child span stays inside the callee: not an edge
    assert edges == [{"caller": front, "callee": back, "calls": 2, "errors": 1}]
    assert {front, back} <= set(graph["services"])


def test_targets_register_refresh_list_and_remove(client: httpx.Client) -> None:
    url = f"http://127.0.0.1:1{uuid.uuid4().int % 9000:04d}"
    target = {"url": url + "/", "job": "checkout", "labels": {"team": "web"}}
    first = client.post("/api/v1/targets", json=target)
    assert first.status_code == 201, first.text
    assert first.json()["url"] == url and first.json()["metrics_path"] == "/metrics"
    again = client.post("/api/v1/targets", json={**target, "health_path": "/ready"})
    assert again.status_code == 200
    listed = {t["url"]: t for t in client.get("/api/v1/targets").json()["targets"]}
    assert listed[url]["health_path"] == "/ready" and listed[url]["labels"] == {"team": "web"}
    assert listed[url]["source"] == "api"
    assert client.delete("/api/v1/targets", params={"url": url}).status_code == 204
    assert client.delete("/api/v1/targets", params={"url": url}).status_code == 404
    assert url not in {t["url"] for t in client.get("/api/v1/targets").json()["targets"]}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"url": "ftp://x", "job": "a"}, "http(s) URL"),
        ({"url": "http://x:99999", "job": "a"}, "url"),
        ({"url": "http://x", "job": ""}, "job"),
        ({"url": "http://x", "job": "a", "metrics_path": "metrics"}, "start with /"),
        ({"url": "http://x", "job": "a", "labels": {"__name__": "x"}}, "not a valid label"),
        ({"url": "http://x", "job": "a", "extra": 1}, "unknown parameter"),
    ],
)
def test_bad_targets_get_a_400(client: httpx.Client, body: dict[str, object], message: str) -> None:
    r = client.post("/api/v1/targets", json=body)
    assert r.status_code == 400 and message in r.json()["error"], r.text


def test_the_live_tail_streams_new_matching_records_and_resumes_after_the_last_id(
    hub, client: httpx.Client
) -> None:
    import json
    import threading

    service = f"tail-{uuid.uuid4().hex[:8]}"
    # Already stored before the tail starts: not sent again.
    client.post(
        "/v1/logs", content=logs_request(service, ["old"]).SerializeToString(), headers=PROTOBUF
    )
    received: list[dict[str, object]] = []
    ids: list[str] = []
    done = threading.Event()
    started = threading.Event()

    def tail() -> None:
        with (
            hub.client() as c,
            c.stream(
                "GET", "/api/v1/logs/tail", params={"service": service, "level": "warn"}
            ) as response,
        ):
            assert response.headers["content-type"].startswith("text/event-stream")
            for line in response.iter_lines():
                if line.startswith(":"):
                    started.set()  # the first comment: the tail's starting point is fixed
                elif line.startswith("id: "):
                    ids.append(line[4:])
                elif line.startswith("data: "):
                    received.append(json.loads(line[6:]))
                    if len(received) == 2:
                        done.set()
                        return

    reader = threading.Thread(target=tail, daemon=True)
    reader.start()
    assert started.wait(10)
    for body, severity in (("first warning", 13), ("an info line", 9), ("then an error", 17)):
        request = logs_request(service, [body], severity=severity)
        client.post("/v1/logs", content=request.SerializeToString(), headers=PROTOBUF)
    assert done.wait(10), received
    assert [r["body"] for r in received] == ["first warning", "then an error"]
    # A client that reconnects with Last-Event-ID gets what came after it, nothing before.
    with (
        hub.client() as c,
        c.stream(
            "GET",
            "/api/v1/logs/tail",
            params={"service": service},
            headers={"Last-Event-ID": ids[0]},
        ) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data: "):
                assert json.loads(line[6:])["body"] == "an info line"
                break
