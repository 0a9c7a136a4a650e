"""setup_monitoring on a Flask app, driven through the WSGI interface by Flask's test
client (the real app and middleware; real servers are in tests/integration)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask, Response, jsonify
from prometheus_client import CollectorRegistry
from tests.middleware.conftest import sample

from berrys_monitoring.logging import bind_context, capture_logs, get_context, get_logger
from berrys_monitoring.middleware.flask import MonitoringWSGIMiddleware, setup_monitoring
from berrys_monitoring.tracing import capture_spans

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def make_app(registry: CollectorRegistry, **options: object) -> Flask:
    app = Flask("users")
    log = get_logger("test.flask")

    @app.get("/users/<int:user_id>")
    def get_user(user_id: int):  # type: ignore[no-untyped-def]
        log.info("looking up")
        return jsonify(id=user_id, context=get_context())

    @app.post("/echo")
    def echo():  # type: ignore[no-untyped-def]
        from flask import request

        return request.get_data()

    @app.get("/boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("kaboom")

    @app.get("/bind")
    def bind():  # type: ignore[no-untyped-def]
        bind_context(user_id="u-1")
        return "ok"

    @app.get("/stream")
    def stream() -> Response:
        def body() -> Iterator[bytes]:
            for i in range(3):
                time.sleep(0.02)
                log.info("chunk")
                yield f"{i}\n".encode()

        return Response(body(), mimetype="text/plain")

    options.setdefault("configure_defaults", False)
    setup_monitoring(app, service_name="users", registry=registry, **options)
    return app


def test_requests_are_counted_by_flask_rule_and_status(registry) -> None:
    c = make_app(registry).test_client()
    for uid in (1, 2):
        assert c.get(f"/users/{uid}").status_code == 200
    assert c.get("/nope").status_code == 404
    total = "http_requests_total"
    assert sample(registry, total, method="GET", route="/users/<int:user_id>", status="200") == 2
    assert sample(registry, total, method="GET", route="<unmatched>", status="404") == 1
    assert sample(registry, "http_requests_in_progress", method="GET") == 0


def test_sizes_and_duration_are_recorded(registry) -> None:
    c = make_app(registry).test_client()
    r = c.post("/echo", data=b"x" * 300)
    assert r.data == b"x" * 300
    labels = {"method": "POST", "route": "/echo"}
    assert sample(registry, "http_request_size_bytes_sum", **labels) == 300
    assert sample(registry, "http_response_size_bytes_sum", **labels) == 300
    assert sample(registry, "http_request_duration_seconds_count", **labels) == 1


def test_probe_metrics_and_excluded_paths_stay_out_of_metrics_traces_and_logs(registry) -> None:
    app = make_app(registry, excluded_paths=["/users/*"])
    c = app.test_client()
    with capture_spans() as spans, capture_logs(level="info") as lines:
        for path in ("/health", "/health/live", "/health/ready", "/metrics", "/users/1"):
            assert c.get(path).status_code == 200, path
    assert "http_requests_total{" not in c.get("/metrics").text
    assert [s for s in spans if s.kind.name == "SERVER"] == []
    assert [x for x in lines if x["logger"] == "berrys_monitoring.access"] == []


def test_request_id_is_echoed_bound_and_cleaned_up_after_the_request(registry) -> None:
    c = make_app(registry).test_client()
    with capture_logs(level="info") as lines:
        r = c.get("/users/3", headers={"X-Request-ID": "flask-1"})
    assert r.headers["X-Request-ID"] == "flask-1"
    assert r.json["context"]["request_id"] == "flask-1"
    assert next(x for x in lines if x["message"] == "looking up")["request_id"] == "flask-1"
    # A handler's bind_context does not leak into the next request on this thread.
    c.get("/bind")
    assert "user_id" not in c.get("/users/1").json["context"]
    assert get_context() == {}


def test_server_span_continues_the_incoming_trace_with_http_attributes(registry) -> None:
    c = make_app(registry).test_client()
    with capture_spans() as spans:
        r = c.get("/users/9", headers={"traceparent": TRACEPARENT})
    (span,) = [s for s in spans if s.kind.name == "SERVER"]
    assert span.name == "GET /users/<int:user_id>"
    assert f"{span.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert f"{span.parent.span_id:016x}" == "b7ad6b7169203331"
    attrs = dict(span.attributes or {})
    assert attrs["http.route"] == "/users/<int:user_id>"
    assert attrs["http.response.status_code"] == 200
    assert attrs["http.request.method"] == "GET"
    assert r.headers["X-Trace-Id"] == "0af7651916cd43dd8448eb211c80319c"


def test_unhandled_exception_is_a_counted_traced_500_answered_by_flask(registry) -> None:
    c = make_app(registry).test_client()
    with capture_spans() as spans, capture_logs(level="info") as lines:
        r = c.get("/boom")
    assert r.status_code == 500  # Flask's own error page, as without us
    assert sample(registry, "http_requests_total", method="GET", route="/boom", status="500") == 1
    span = next(s for s in spans if s.name == "GET /boom")
    assert span.status.status_code.name == "ERROR"
    assert any(e.name == "exception" for e in span.events)
    # Flask logs the stack itself, inside the request's context; our line adds the access.
    flask_line = next(x for x in lines if x["message"].startswith("Exception on /boom"))
    access = next(x for x in lines if x["logger"] == "berrys_monitoring.access")
    assert flask_line["request_id"] == access["request_id"]
    assert "kaboom" in flask_line["exception"]["stack"]
    assert access["level"] == "error" and access["status"] == 500


def test_propagated_exceptions_are_counted_and_reraised_unchanged(registry) -> None:
    app = make_app(registry)
    app.config["PROPAGATE_EXCEPTIONS"] = True
    with pytest.raises(RuntimeError, match="kaboom"):
        app.test_client().get("/boom")
    assert sample(registry, "http_requests_total", method="GET", route="/boom", status="500") == 1


def test_streamed_responses_are_timed_to_their_end_in_the_request_context(registry) -> None:
    c = make_app(registry).test_client()
    with capture_spans(), capture_logs(level="info") as lines:
        r = c.get("/stream", headers={"X-Request-ID": "s-1"})
        assert r.data == b"0\n1\n2\n"
    labels = {"method": "GET", "route": "/stream"}
    assert sample(registry, "http_request_duration_seconds_sum", **labels) >= 0.06
    assert sample(registry, "http_response_size_bytes_sum", **labels) == 6
    chunks = [x for x in lines if x["message"] == "chunk"]
    assert len(chunks) == 3 and all(x["request_id"] == "s-1" for x in chunks)
    access = next(x for x in lines if x["logger"] == "berrys_monitoring.access")
    assert access["trace_id"] == chunks[0]["trace_id"]
    assert get_context() == {}  # nothing left on the thread


def test_a_500_handler_that_streams_is_timed_to_the_end_of_its_body(registry) -> None:
    app = make_app(registry)

    @app.errorhandler(500)
    def streamed_error_page(error: Exception) -> Response:
        def body() -> Iterator[bytes]:
            for part in (b"something ", b"went ", b"wrong"):
                time.sleep(0.03)
                yield part

        return Response(body(), status=500, mimetype="text/plain")

    with capture_spans() as spans, capture_logs(level="info") as lines:
        r = app.test_client().get("/boom", headers={"X-Request-ID": "e-1"})
        assert r.status_code == 500 and r.data == b"something went wrong"
    labels = {"method": "GET", "route": "/boom"}
    assert sample(registry, "http_requests_total", status="500", **labels) == 1
    assert sample(registry, "http_request_duration_seconds_sum", **labels) >= 0.09
    assert sample(registry, "http_response_size_bytes_sum", **labels) == 20
    access = next(x for x in lines if x["logger"] == "berrys_monitoring.access")
    assert access["status"] == 500 and access["duration_ms"] >= 90
    assert access["request_id"] == "e-1"
    (span,) = spans
    assert span.attributes["http.response.status_code"] == 500
    assert [e.name for e in span.events] == ["exception"]
    assert get_context() == {}


def test_a_rendered_500_page_is_finished_when_flask_returns_it(registry) -> None:
    app = make_app(registry)

    @app.errorhandler(500)
    def error_page(error: Exception) -> tuple[str, int]:
        return "sorry", 500

    r = app.test_client().get("/boom")
    assert r.status_code == 500 and r.data == b"sorry"
    labels = {"method": "GET", "route": "/boom"}
    assert sample(registry, "http_response_size_bytes_sum", **labels) == 5
    assert sample(registry, "http_request_duration_seconds_count", **labels) == 1


def test_calling_setup_twice_is_harmless(registry) -> None:
    app = make_app(registry)
    setup_monitoring(app, service_name="users", registry=registry, configure_defaults=False)
    assert isinstance(app.wsgi_app, MonitoringWSGIMiddleware)
    assert not isinstance(app.wsgi_app.app, MonitoringWSGIMiddleware)
    app.test_client().get("/users/1")
    assert (
        sample(
            registry,
            "http_requests_total",
            method="GET",
            route="/users/<int:user_id>",
            status="200",
        )
        == 1
    )


def test_two_flask_apps_in_one_process_do_not_collide() -> None:
    apps = [Flask("a"), Flask("b")]
    for app in apps:
        app.get("/x")(lambda: "ok")
        setup_monitoring(app, service_name="twin", configure_defaults=False)
    for app in apps:
        assert app.test_client().get("/x").status_code == 200
    assert "http_requests_total" in apps[0].test_client().get("/metrics").text


def test_metrics_auth_and_openmetrics(registry) -> None:
    c = make_app(registry, metrics_auth="tok").test_client()
    assert c.get("/metrics").status_code == 401
    r = c.get(
        "/metrics",
        headers={"Authorization": "Bearer tok", "Accept": "application/openmetrics-text"},
    )
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/openmetrics-text")


def test_health_json_and_405(registry) -> None:
    c = make_app(registry, health_path="/healthz").test_client()
    r = c.get("/healthz")
    assert r.status_code == 200 and r.headers["Content-Type"] == "application/health+json"
    assert r.json["serviceId"] == "users"
    assert c.post("/healthz").status_code == 405
    assert c.get("/healthz/live").status_code == 200


def test_concurrent_requests_keep_their_own_request_ids(registry) -> None:
    app = make_app(registry)
    seen: dict[str, str] = {}

    def call(i: int) -> None:
        r = app.test_client().get("/users/1", headers={"X-Request-ID": f"t-{i}"})
        seen[f"t-{i}"] = r.json["context"]["request_id"]

    threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {k: k for k in seen} and len(seen) == 8


def test_setup_refuses_a_non_flask_app() -> None:
    with pytest.raises(TypeError, match="Flask app"):
        setup_monitoring(object(), service_name="x")  # type: ignore[arg-type]


class _Timeout(BaseException):
    """Like gevent's or eventlet's Timeout: not an Exception."""


def test_a_base_exception_from_the_view_is_counted_under_its_route(registry) -> None:
    app = make_app(registry)

    @app.get("/slow/<int:n>")
    def slow(n: int):  # type: ignore[no-untyped-def]
        raise _Timeout()

    # Flask re-raises it without after_request hooks or got_request_exception.
    with pytest.raises(_Timeout):
        app.test_client().get("/slow/3")
    labels = {"method": "GET", "route": "/slow/<int:n>", "status": "500"}
    assert sample(registry, "http_requests_total", **labels) == 1


def test_no_request_hooks_are_added_and_a_users_hook_answer_keeps_its_route(registry) -> None:
    # Flask asks inspect about every hook on every request; ours wraps full_dispatch_request.
    app = make_app(registry)
    assert not any(app.before_request_funcs.values())
    assert not any(app.after_request_funcs.values())

    @app.before_request
    def gate():  # type: ignore[no-untyped-def]
        from flask import request

        if request.headers.get("X-Blocked"):
            return "blocked", 403
        return None

    c = app.test_client()
    assert c.get("/users/7", headers={"X-Blocked": "1"}).status_code == 403
    assert c.get("/stream").data == b"0\n1\n2\n"
    forbidden = {"method": "GET", "route": "/users/<int:user_id>", "status": "403"}
    assert sample(registry, "http_requests_total", **forbidden) == 1
    streamed = {"method": "GET", "route": "/stream"}
    assert sample(registry, "http_request_duration_seconds_sum", **streamed) >= 0.06


def test_a_subclass_that_overrides_full_dispatch_request_keeps_its_override(registry) -> None:
    calls: list[str] = []

    class Audited(Flask):
        def full_dispatch_request(self):  # type: ignore[no-untyped-def]
            calls.append("audited")
            return super().full_dispatch_request()

    app = Audited("audited")

    @app.get("/items/<name>")
    def item(name: str):  # type: ignore[no-untyped-def]
        return name

    setup_monitoring(app, service_name="audited", registry=registry, configure_defaults=False)
    assert app.test_client().get("/items/a").data == b"a"
    assert calls == ["audited"]
    labels = {"method": "GET", "route": "/items/<name>", "status": "200"}
    assert sample(registry, "http_requests_total", **labels) == 1


def test_request_size_counts_the_bytes_read_not_the_declared_length(registry) -> None:
    import io

    c = make_app(registry).test_client()
    # A body-less request declaring a terabyte adds nothing it did not send.
    lying = {"CONTENT_LENGTH": str(10**12), "wsgi.input": io.BytesIO(b"")}
    assert c.get("/users/1", environ_overrides=lying).status_code == 200
    assert (
        sample(registry, "http_request_size_bytes_sum", method="GET", route="/users/<int:user_id>")
        == 0
    )
