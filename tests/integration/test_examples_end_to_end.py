"""The two example services, served by real gunicorn and uvicorn processes: one trace
across both (exported over OTLP to a real receiver), one access line per request that
replaces the servers' own, and request ids that follow the call."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.integration._otlp import otlp_receiver
from tests.integration._services import gateway_service, metric_value, users_service
from tests.support.servers import wait_for

pytestmark = pytest.mark.slow

SERVER, CLIENT = 2, 3


def access_lines(output: str) -> list[dict[str, object]]:
    lines = []
    for raw in output.splitlines():
        if raw.startswith("{"):
            rec = json.loads(raw)
            if rec.get("logger") == "berrys_monitoring.access":
                lines.append(rec)
    return lines


def test_a_gateway_call_is_one_trace_across_fastapi_and_flask_with_correct_parents() -> None:
    with otlp_receiver() as receiver:
        env = {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.url}
        with (
            users_service(env) as (users_url, users),
            gateway_service(users_url, env) as (
                gw_url,
                gateway,
            ),
        ):
            r = httpx.get(f"{gw_url}/users/2", headers={"X-Request-ID": "e2e-42"})
            assert r.status_code == 200 and r.json()["name"] == "Grace Hopper"
            trace_id = r.headers["x-trace-id"]

            def whole_trace():  # type: ignore[no-untyped-def]
                spans = [s for s in receiver.snapshot() if s.trace_id == trace_id]
                services = {s.service for s in spans if s.kind == SERVER}
                return spans if services == {"api-gateway", "user-service"} else None

            spans = wait_for(whole_trace, timeout=30, what="spans from both services")
            users_log = users.output()
            gateway_log = gateway.output()

    gw_server = next(s for s in spans if s.kind == SERVER and s.service == "api-gateway")
    users_server = next(s for s in spans if s.kind == SERVER and s.service == "user-service")
    client = next(s for s in spans if s.kind == CLIENT and s.service == "api-gateway")
    assert gw_server.name == "GET /users/{user_id}"
    assert gw_server.parent_span_id == ""  # a new trace starts at the gateway
    assert client.parent_span_id == gw_server.span_id
    assert users_server.name == "GET /users/<int:user_id>"
    assert users_server.parent_span_id == client.span_id  # child of the outgoing call
    assert users_server.attributes["http.route"] == "/users/<int:user_id>"
    assert users_server.attributes["http.response.status_code"] == 200
    traced = next(s for s in spans if s.name == "lookup_user")
    assert traced.parent_span_id == users_server.span_id

    # Both services log the same request id and trace id on their access lines.
    (gw_line,) = [x for x in access_lines(gateway_log) if x["path"] == "/users/2"]
    (users_line,) = [x for x in access_lines(users_log) if x["path"] == "/users/2"]
    assert gw_line["request_id"] == users_line["request_id"] == "e2e-42"
    assert gw_line["trace_id"] == users_line["trace_id"] == trace_id
    assert users_line["route"] == "/users/<int:user_id>" and users_line["status"] == 200


def test_each_request_logs_one_structured_access_line_and_no_plain_server_line() -> None:
    # uvicorn runs with its access log ON: our line must replace it, not add to it.
    with users_service() as (users_url, users), gateway_service(users_url) as (gw_url, gateway):
        for path in ("/", "/users/1", "/users/999", "/fail", "/nope"):
            httpx.get(gw_url + path)
        httpx.get(gw_url + "/health")
        httpx.get(gw_url + "/metrics")
        wait_for(lambda: len(access_lines(gateway.output())) >= 5, what="access lines")
        gateway_log = gateway.output()
        users_log = users.output()
    lines = access_lines(gateway_log)
    assert sorted(str(x["path"]) for x in lines) == sorted(
        ["/", "/users/1", "/users/999", "/fail", "/nope"]
    )
    assert '"GET /users/1 HTTP/1.1" 200' not in gateway_log  # uvicorn's plain line
    statuses = {x["path"]: x["status"] for x in lines}
    assert statuses == {"/": 200, "/users/1": 200, "/users/999": 404, "/fail": 500, "/nope": 404}
    for x in lines:
        for key in ("method", "route", "duration_ms", "request_id", "trace_id", "client_ip"):
            assert key in x, key
    fail = next(x for x in lines if x["path"] == "/fail")
    assert fail["level"] == "error" and "failed on purpose" in fail["exception"]["stack"]
    assert len([x for x in access_lines(users_log) if x["path"] == "/users/1"]) == 1


def test_gunicorn_plain_access_lines_are_replaced_even_when_enabled() -> None:
    # gunicorn asked to write its own access log to stdout: ours replaces it.
    with users_service(None, 1, "--access-logfile", "-") as (users_url, users):
        for path in ("/users/1", "/users/2", "/nope"):
            httpx.get(users_url + path)
        wait_for(lambda: len(access_lines(users.output())) >= 3, what="access lines")
        output = users.output()
    assert sorted(str(x["path"]) for x in access_lines(output)) == ["/nope", "/users/1", "/users/2"]
    assert '"GET /users/1 HTTP/1.1" 200' not in output


def test_example_services_count_requests_in_their_metrics() -> None:
    with users_service() as (users_url, _), gateway_service(users_url) as (gw_url, _):
        for _ in range(3):
            assert httpx.get(f"{gw_url}/users/3").status_code == 200
        assert httpx.get(f"{gw_url}/fail").status_code == 500
        gw = httpx.get(f"{gw_url}/metrics").text
        us = httpx.get(f"{users_url}/metrics").text
    assert metric_value(gw, "http_requests_total", route="/users/{user_id}", status="200") == 3
    assert metric_value(gw, "http_requests_total", route="/fail", status="500") == 1
    assert metric_value(gw, "gateway_user_lookups_total") == 3
    assert metric_value(us, "http_requests_total", route="/users/<int:user_id>", status="200") == 3
    assert metric_value(us, "user_lookups_total", result="found") == 3


def test_example_knobs_fail_health_and_plain_mode() -> None:
    with users_service({"EXAMPLE_FAIL_HEALTH": "1"}) as (users_url, _):
        r = httpx.get(f"{users_url}/health")
        assert r.status_code == 503 and r.json()["status"] == "fail"
    with users_service({"EXAMPLE_PLAIN": "1"}) as (users_url, _):
        assert httpx.get(f"{users_url}/health").json() == {"status": "ok"}
        assert httpx.get(f"{users_url}/metrics").status_code == 404
    with users_service({"EXAMPLE_ERROR_RATE": "1"}) as (users_url, _):
        assert httpx.get(f"{users_url}/users/1").status_code == 500
        assert httpx.get(f"{users_url}/health").status_code == 200  # probes unaffected
    env = {"EXAMPLE_EXTRA_LATENCY_MS": "40", "EXAMPLE_ERROR_RATE": "1"}
    with users_service() as (users_url, _), gateway_service(users_url, env) as (gw_url, _):
        for _ in range(3):
            assert httpx.get(f"{gw_url}/").status_code == 500
        assert httpx.get(f"{gw_url}/health").status_code == 200
        text = httpx.get(f"{gw_url}/metrics").text
    # The injected latency is inside the measured request: a lower bound on the sum.
    assert metric_value(text, "http_request_duration_seconds_sum", route="/") >= 0.12
    assert metric_value(text, "http_requests_total", status="500") == 3
