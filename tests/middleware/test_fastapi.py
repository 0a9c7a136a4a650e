"""setup_monitoring on a FastAPI app, driven over the ASGI interface by Starlette's test
client (the real app, the real middleware stack, no mocks)."""

from __future__ import annotations

import asyncio
import base64
import gc
import inspect
import logging
import threading
import warnings
import weakref

import pytest
import starlette
from fastapi import BackgroundTasks, FastAPI, WebSocket
from fastapi.responses import StreamingResponse
from prometheus_client import CollectorRegistry
from starlette.applications import Starlette
from starlette.routing import Mount, Route

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.middleware.conftest import sample

from berrys_monitoring.health import register_health_check, unregister_health_check
from berrys_monitoring.logging import bind_context, capture_logs, get_context, get_logger
from berrys_monitoring.middleware.fastapi import MonitoringMiddleware, setup_monitoring
from berrys_monitoring.tracing import capture_spans

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


# Starlette records the route it matched in scope["route"] from 1.7 on (FastAPI's own
# routes always did): before, a plain Starlette route under a mount has no template.
STARLETTE_RECORDS_ROUTES = pytest.mark.skipif(
    tuple(int(x) for x in starlette.__version__.split(".")[:2]) < (1, 7),
    reason="Starlette < 1.7 does not record the matched route of a plain Starlette route",
)


def make_app(registry: CollectorRegistry, **options: object) -> FastAPI:
    app = FastAPI()
    log = get_logger("test.app")

    @app.get("/users/{user_id}")
    async def get_user(user_id: int) -> dict[str, int]:
        return {"id": user_id}

    @app.get("/sync")
    def sync_endpoint() -> dict[str, object]:
        # Runs in Starlette's thread pool: the request's log context must be there too.
        log.info("in the thread pool")
        return {"context": get_context(), "thread": threading.current_thread().name}

    @app.post("/echo")
    async def echo(body: dict[str, object]) -> dict[str, object]:
        return body

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaboom")

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def body():  # type: ignore[no-untyped-def]
            for i in range(3):
                await asyncio.sleep(0.02)
                yield f"{i}\n".encode()

        return StreamingResponse(body())

    @app.get("/later")
    async def later(tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(lambda: log.info("background work"))
        return {"ok": "yes"}

    @app.get("/internal/ping")
    async def internal_ping() -> dict[str, str]:
        return {"pong": "yes"}

    @app.websocket("/ws")
    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("hello")
        await websocket.close()

    options.setdefault("configure_defaults", False)
    setup_monitoring(app, service_name="svc", registry=registry, **options)
    return app


def client(app: FastAPI, raise_server_exceptions: bool = True) -> TestClient:
    return TestClient(app, raise_server_exceptions=raise_server_exceptions)


def test_requests_are_counted_by_method_route_template_and_status(registry) -> None:
    c = client(make_app(registry))
    for uid in (1, 2, 3):
        assert c.get(f"/users/{uid}").status_code == 200
    assert c.get("/users/x").status_code == 422
    total = "http_requests_total"
    assert sample(registry, total, method="GET", route="/users/{user_id}", status="200") == 3
    assert sample(registry, total, method="GET", route="/users/{user_id}", status="422") == 1
    # Never the raw path: no series per user id.
    assert sample(registry, total, method="GET", route="/users/1", status="200") is None


def test_unmatched_paths_count_under_one_label(registry) -> None:
    c = client(make_app(registry))
    for path in ("/nope", "/a/b/c", "/random-123"):
        assert c.get(path).status_code == 404
    total = "http_requests_total"
    assert sample(registry, total, method="GET", route="<unmatched>", status="404") == 3


def test_unknown_methods_are_folded_into_other(registry) -> None:
    c = client(make_app(registry))
    c.request("PURGE", "/users/1")
    assert (
        sample(
            registry, "http_requests_total", method="OTHER", route="/users/{user_id}", status="405"
        )
        == 1
    )


def test_duration_and_sizes_are_recorded_and_in_progress_returns_to_zero(registry) -> None:
    c = client(make_app(registry))
    r = c.post("/echo", json={"hello": "world"})
    assert r.status_code == 200
    labels = {"method": "POST", "route": "/echo"}
    assert sample(registry, "http_request_duration_seconds_count", **labels) == 1
    assert sample(registry, "http_request_duration_seconds_sum", **labels) > 0
    assert sample(registry, "http_request_size_bytes_sum", **labels) == len(r.request.content)
    assert sample(registry, "http_response_size_bytes_sum", **labels) == len(r.content)
    assert sample(registry, "http_requests_in_progress", method="POST") == 0


def test_health_metrics_and_excluded_paths_stay_out_of_metrics_traces_and_logs(registry) -> None:
    c = client(make_app(registry, excluded_paths=["/internal/*"]))
    with capture_spans() as spans, capture_logs(level="info") as lines:
        for path in ("/health", "/health/live", "/health/ready", "/metrics", "/internal/ping"):
            assert c.get(path).status_code == 200, path
    exposition = c.get("/metrics").text
    assert "http_requests_total{" not in exposition
    assert [s for s in spans if s.kind.name == "SERVER"] == []
    assert [x for x in lines if x["logger"] == "berrys_monitoring.access"] == []


def test_request_id_is_taken_when_sane_echoed_and_bound_for_the_request(registry) -> None:
    c = client(make_app(registry))
    with capture_logs(level="info") as lines:
        r = c.get("/sync", headers={"X-Request-ID": "req-42"})
        bad = c.get("/users/1", headers={"X-Request-ID": "no spaces allowed"})
    assert r.headers["x-request-id"] == "req-42"
    assert r.json()["context"]["request_id"] == "req-42"  # seen in the thread pool
    in_pool = next(x for x in lines if x["message"] == "in the thread pool")
    assert in_pool["request_id"] == "req-42"
    generated = bad.headers["x-request-id"]
    assert generated != "no spaces allowed" and len(generated) == 32
    assert get_context().get("request_id") is None  # nothing leaks out of the request


def test_background_tasks_keep_the_request_id(registry) -> None:
    c = client(make_app(registry))
    with capture_logs(level="info") as lines:
        r = c.get("/later", headers={"X-Request-ID": "bg-1"})
    assert r.status_code == 200
    bg = next(x for x in lines if x["message"] == "background work")
    assert bg["request_id"] == "bg-1"


def test_one_server_span_per_request_continues_the_incoming_trace(registry) -> None:
    c = client(make_app(registry))
    with capture_spans() as spans:
        r = c.get("/users/7?x=1", headers={"traceparent": TRACEPARENT, "user-agent": "t/1"})
    server = [s for s in spans if s.kind.name == "SERVER"]
    assert len(server) == 1
    span = server[0]
    assert span.name == "GET /users/{user_id}"
    assert f"{span.context.trace_id:032x}" == "0af7651916cd43dd8448eb211c80319c"
    assert span.parent is not None and f"{span.parent.span_id:016x}" == "b7ad6b7169203331"
    attrs = dict(span.attributes or {})
    assert attrs["http.request.method"] == "GET"
    assert attrs["http.route"] == "/users/{user_id}"
    assert attrs["http.response.status_code"] == 200
    assert attrs["url.path"] == "/users/7"
    assert attrs["url.scheme"] == "http"
    assert attrs["user_agent.original"] == "t/1"
    assert attrs["server.address"] == "testserver"
    assert r.headers["x-trace-id"] == "0af7651916cd43dd8448eb211c80319c"


def test_an_unknown_method_cannot_mint_span_names(registry) -> None:
    c = client(make_app(registry))
    with capture_spans() as spans:
        c.request("PURGE-EVERYTHING", "/users/7")
    (span,) = [s for s in spans if s.kind.name == "SERVER"]
    assert span.name.startswith("HTTP ")
    attrs = dict(span.attributes or {})
    assert attrs["http.request.method"] == "_OTHER"
    assert attrs["http.request.method_original"] == "PURGE-EVERYTHING"


def test_access_line_carries_request_fields_and_the_trace(registry) -> None:
    c = client(make_app(registry))
    with capture_logs(level="info") as lines:
        c.get("/users/5", headers={"traceparent": TRACEPARENT, "X-Request-ID": "acc-1"})
    (line,) = [x for x in lines if x["logger"] == "berrys_monitoring.access"]
    assert line["method"] == "GET"
    assert line["route"] == "/users/{user_id}"
    assert line["path"] == "/users/5"
    assert line["status"] == 200
    assert line["duration_ms"] > 0
    assert line["request_id"] == "acc-1"
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["client_ip"] == "testclient"


def test_unhandled_exception_is_a_counted_logged_traced_500_and_reraised(registry) -> None:
    app = make_app(registry)
    with capture_spans() as spans, capture_logs(level="info") as lines:
        # Without us, Starlette re-raises to the server after answering 500: same here.
        with pytest.raises(RuntimeError, match="kaboom"):
            client(app).get("/boom")
        r = client(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500
    assert sample(registry, "http_requests_total", method="GET", route="/boom", status="500") == 2
    span = next(s for s in spans if s.name == "GET /boom")
    assert span.status.status_code.name == "ERROR"
    assert any(e.name == "exception" for e in span.events)
    errors = [x for x in lines if x["logger"] == "berrys_monitoring.access"]
    assert errors[0]["level"] == "error" and errors[0]["status"] == 500
    assert "kaboom" in errors[0]["exception"]["stack"]


def test_streaming_responses_are_timed_to_their_last_chunk(registry) -> None:
    c = client(make_app(registry))
    r = c.get("/stream")
    assert r.text == "0\n1\n2\n"
    labels = {"method": "GET", "route": "/stream"}
    # Three 20 ms sleeps happen while the body streams: a lower bound, not a speed test.
    assert sample(registry, "http_request_duration_seconds_sum", **labels) >= 0.06
    assert sample(registry, "http_response_size_bytes_sum", **labels) == 6


def test_websockets_and_lifespan_pass_through_untouched(registry) -> None:
    app = make_app(registry)
    started: list[str] = []
    app.router.on_startup.append(lambda: started.append("yes"))
    with client(app) as c, c.websocket_connect("/ws") as ws:
        assert ws.receive_text() == "hello"
    assert started == ["yes"]
    assert sample(registry, "http_requests_total", method="GET", route="/ws", status="101") is None


def test_the_send_an_app_gets_still_answers_as_a_coroutine_function(registry) -> None:
    # asgiref's async_to_sync(send) and other adapters ask; our send hands back the
    # server's awaitable instead of wrapping it in a coroutine of its own.
    seen: list[bool] = []

    async def raw(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        seen.append(asyncio.iscoroutinefunction(send.__call__))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    app = MonitoringMiddleware(raw, service_name="raw", registry=registry, configure_defaults=False)
    r = TestClient(app).get("/anything")  # type: ignore[arg-type]
    assert r.status_code == 204 and r.headers["x-request-id"]
    assert seen == [True]
    total = sample(registry, "http_requests_total", method="GET", route="<unmatched>", status="204")
    assert total == 1


def test_calling_setup_twice_is_harmless_and_keeps_one_middleware(registry) -> None:
    app = make_app(registry)
    setup_monitoring(app, service_name="svc", registry=registry, configure_defaults=False)
    ours = [m for m in app.user_middleware if m.cls is MonitoringMiddleware]
    assert len(ours) == 1
    client(app).get("/users/1")
    assert (
        sample(
            registry, "http_requests_total", method="GET", route="/users/{user_id}", status="200"
        )
        == 1
    )


def test_two_apps_in_one_process_do_not_collide() -> None:
    # Both on the default registry: the second must not hit "Duplicated timeseries".
    a, b = FastAPI(), FastAPI()
    for app in (a, b):
        app.get("/x")(lambda: {"ok": True})
        setup_monitoring(app, service_name="twin", configure_defaults=False)
    assert client(a).get("/x").status_code == 200
    assert client(b).get("/x").status_code == 200
    assert "http_requests_total" in client(a).get("/metrics").text


def test_metrics_can_require_basic_auth_or_a_bearer_token(registry) -> None:
    c = client(make_app(registry, metrics_auth=("prom", "pw")))
    r = c.get("/metrics")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    good = "Basic " + base64.b64encode(b"prom:pw").decode()
    assert c.get("/metrics", headers={"Authorization": good}).status_code == 200
    c2 = client(make_app(CollectorRegistry(), metrics_auth="t0ken"))
    assert c2.get("/metrics").status_code == 401
    assert c2.get("/metrics", headers={"Authorization": "Bearer t0ken"}).status_code == 200
    assert c2.get("/health").status_code == 200  # probes stay open


def test_metrics_speak_openmetrics_when_asked(registry) -> None:
    c = client(make_app(registry))
    c.get("/users/1")
    r = c.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert r.headers["content-type"].startswith("application/openmetrics-text")
    assert r.text.rstrip().endswith("# EOF")
    plain = c.get("/metrics")
    assert plain.headers["content-type"].startswith("text/plain")
    assert (
        'http_requests_total{method="GET",route="/users/{user_id}",status="200"} 1.0' in plain.text
    )


def test_health_answers_health_json_and_503_when_a_critical_check_fails(registry) -> None:
    c = client(make_app(registry))
    r = c.get("/health")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/health+json"
    assert r.json()["status"] == "pass" and r.json()["serviceId"] == "svc"
    register_health_check("broken-db", critical=True)(lambda: (False, "db down"))
    try:
        r = c.get("/health")
        assert r.status_code == 503
        assert r.json()["status"] == "fail"
        assert "broken-db:responseTime" in r.json()["checks"]
        # Liveness must not fail because a dependency did.
        assert c.get("/health/live").status_code == 200
        assert c.get("/health/ready").status_code == 503
    finally:
        unregister_health_check("broken-db")


def test_builtin_endpoints_answer_head_and_refuse_other_methods(registry) -> None:
    c = client(make_app(registry))
    assert c.head("/health").status_code == 200
    r = c.post("/metrics")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"


@STARLETTE_RECORDS_ROUTES
def test_mounted_apps_report_the_full_route_template(registry) -> None:
    async def item(request):  # type: ignore[no-untyped-def]
        from starlette.responses import PlainTextResponse

        return PlainTextResponse(request.path_params["item_id"])

    inner = Starlette(routes=[Route("/items/{item_id}", item)])
    app = Starlette(routes=[Mount("/api/v1", app=inner)])
    setup_monitoring(app, service_name="mounted", registry=registry, configure_defaults=False)
    assert TestClient(app).get("/api/v1/items/9").text == "9"
    assert (
        sample(
            registry,
            "http_requests_total",
            method="GET",
            route="/api/v1/items/{item_id}",
            status="200",
        )
        == 1
    )


@STARLETTE_RECORDS_ROUTES
def test_one_route_object_under_two_mounts_reports_each_full_template(registry) -> None:
    # Templates are remembered per route object outside mounts; under a mount the prefix
    # still comes from the request.
    async def item(request):  # type: ignore[no-untyped-def]
        from starlette.responses import PlainTextResponse

        return PlainTextResponse("ok")

    route = Route("/items/{item_id}", item)
    inner = Starlette(routes=[route])
    app = Starlette(routes=[route, Mount("/v2", app=inner)])
    setup_monitoring(app, service_name="twice", registry=registry, configure_defaults=False)
    c = TestClient(app)
    for path in ("/items/1", "/v2/items/2", "/items/3", "/v2/items/4"):
        assert c.get(path).status_code == 200
    for template in ("/items/{item_id}", "/v2/items/{item_id}"):
        got = sample(registry, "http_requests_total", method="GET", route=template, status="200")
        assert got == 2, template


def test_a_route_object_that_cannot_be_read_never_fails_the_request(registry) -> None:
    class Odd:
        """A matched route of a shape we did not foresee: reading it raises."""

        def __getattr__(self, name: str) -> object:
            raise RuntimeError(f"no {name} here")

    async def app(scope, receive, send):  # type: ignore[no-untyped-def]
        scope["route"] = Odd()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"fine"})

    wrapped = MonitoringMiddleware(app, service_name="odd", registry=registry)
    r = TestClient(wrapped).get("/x")
    assert r.status_code == 200 and r.text == "fine"
    assert sample(registry, "http_requests_total", method="GET", route="<unmatched>", status="200")


def test_server_access_loggers_have_no_handler_so_servers_skip_their_lines(
    registry, request: pytest.FixtureRequest
) -> None:
    # uvicorn asks hasHandlers() once per connection and formats no access line without
    # one; a logging configuration made later keeps them silent.
    from berrys_monitoring.logging import adopt_server_loggers, configure_logging

    setup_monitoring(make_app(registry), service_name="quiet", configure_defaults=False)
    configure_logging(level="info", log_to_console=True)
    request.addfinalizer(lambda: adopt_server_loggers(access_log=True))  # for later tests
    for name in ("uvicorn.access", "gunicorn.access"):
        lg = logging.getLogger(name)
        assert not lg.hasHandlers() and not lg.propagate
        # A server that installs its handler again later still writes nothing.
        lines: list[logging.LogRecord] = []
        probe = logging.Handler()
        probe.emit = lines.append  # type: ignore[method-assign]
        lg.addHandler(probe)
        try:
            lg.info('127.0.0.1 - "GET / HTTP/1.1" 200')
        finally:
            lg.removeHandler(probe)
        assert lines == []


def test_a_log_handler_that_raises_never_fails_the_request(registry) -> None:
    class Exploding(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            raise OSError("disk full")

    handler = Exploding()
    access = logging.getLogger("berrys_monitoring.access")
    access.addHandler(handler)
    old = access.level
    access.setLevel(logging.INFO)
    try:
        c = client(make_app(registry))
        for _ in range(3):
            assert c.get("/users/1").json() == {"id": 1}
    finally:
        access.removeHandler(handler)
        access.setLevel(old)
    assert (
        sample(
            registry, "http_requests_total", method="GET", route="/users/{user_id}", status="200"
        )
        == 3
    )


def test_fields_bound_by_a_handler_do_not_outlive_the_request(registry) -> None:
    app = make_app(registry)

    @app.get("/bind")
    def bind() -> dict[str, str]:
        bind_context(user_id="u-1")
        return {}

    c = client(app)
    c.get("/bind")
    assert c.get("/sync").json()["context"].get("user_id") is None


def test_setup_refuses_what_it_cannot_instrument() -> None:
    with pytest.raises(TypeError, match="FastAPI or Starlette"):
        setup_monitoring(object(), service_name="x")  # type: ignore[arg-type]
    app = FastAPI()
    with TestClient(app):
        pass
    app.build_middleware_stack()
    app.middleware_stack = app.build_middleware_stack()
    with pytest.raises(RuntimeError, match="before the app starts"):
        setup_monitoring(app, service_name="late", configure_defaults=False)


def test_endpoints_and_templates_work_under_a_root_path(registry) -> None:
    app = make_app(registry)
    c = TestClient(app, root_path="/api")
    assert c.get("/api/health").status_code == 200
    assert c.get("/api/users/4").json() == {"id": 4}
    assert (
        sample(
            registry, "http_requests_total", method="GET", route="/users/{user_id}", status="200"
        )
        == 1
    )


def test_a_custom_request_id_header_is_read_and_echoed(registry) -> None:
    c = client(make_app(registry, request_id_header="X-Correlation-ID"))
    r = c.get("/sync", headers={"X-Correlation-ID": "corr-9"})
    assert r.headers["x-correlation-id"] == "corr-9"
    assert r.json()["context"]["request_id"] == "corr-9"


@STARLETTE_RECORDS_ROUTES
def test_mounted_static_files_count_under_the_mount_template(registry, tmp_path) -> None:
    from starlette.staticfiles import StaticFiles

    (tmp_path / "app.css").write_text("body {}")
    app = Starlette(routes=[Mount("/static", app=StaticFiles(directory=tmp_path))])
    setup_monitoring(app, service_name="static", registry=registry, configure_defaults=False)
    c = TestClient(app)
    assert c.get("/static/app.css").text == "body {}"
    assert c.get("/static/missing.css").status_code == 404
    route = "/static/{path:path}"
    assert sample(registry, "http_requests_total", method="GET", route=route, status="200") == 1
    assert sample(registry, "http_requests_total", method="GET", route=route, status="404") == 1


def test_an_error_while_streaming_keeps_the_status_sent_and_marks_the_span(registry) -> None:
    app = make_app(registry)

    @app.get("/broken-stream")
    async def broken_stream() -> StreamingResponse:
        async def body():  # type: ignore[no-untyped-def]
            yield b"first\n"
            raise RuntimeError("stream broke")

        return StreamingResponse(body())

    with capture_spans() as spans, pytest.raises(Exception) as raised:
        client(app).get("/broken-stream")
    # Starlette < 0.39 raises it inside an ExceptionGroup (its anyio task group).
    errors = getattr(raised.value, "exceptions", [raised.value])
    assert [str(e) for e in errors] == ["stream broke"]
    # The 200 was already on the wire: it is what the client saw, so it is what counts.
    labels = {"method": "GET", "route": "/broken-stream", "status": "200"}
    assert sample(registry, "http_requests_total", **labels) == 1
    span = next(s for s in spans if s.name == "GET /broken-stream")
    assert span.status.status_code.name == "ERROR"


def test_the_fast_access_line_equals_the_generic_one_and_redacts_client_input(
    registry, tmp_path
) -> None:
    # With only our handlers on the root logger (as in a service), the access line takes
    # the logging component's fast path; under capture_logs() the generic one. Both must
    # write the same fields, with a secret in the path hidden either way.
    import json

    from berrys_monitoring.logging import _config as log_config
    from berrys_monitoring.logging import configure_logging
    from berrys_monitoring.tracing import configure_tracing, shutdown_tracing

    log_file = tmp_path / "access.log"
    configure_logging(log_to_console=False, log_file=log_file, adopt_servers=False)
    configure_tracing("svc", exporter="none")
    c = client(make_app(registry))
    path = "/nothing/token=s3cr3t-value"
    headers = {"traceparent": TRACEPARENT, "X-Request-ID": "same-id"}
    root = logging.getLogger()
    try:
        with capture_logs(level="info") as captured:
            c.get(path, headers=headers)
        foreign = [h for h in root.handlers if h not in log_config._installed]
        for h in foreign:  # pytest's own capture handlers: what a service does not have
            root.removeHandler(h)
        try:
            c.get(path, headers=headers)
        finally:
            for h in foreign:
                root.addHandler(h)
    finally:
        shutdown_tracing(timeout=1.0)
        configure_logging(log_to_console=True, adopt_servers=False)
    lines = [json.loads(x) for x in log_file.read_text().splitlines()]
    generic, fast = [x for x in lines if x["logger"] == "berrys_monitoring.access"]
    assert next(x for x in captured if x["logger"] == "berrys_monitoring.access") == generic
    for line in (generic, fast):
        assert "s3cr3t" not in json.dumps(line)
        line.pop("timestamp"), line.pop("duration_ms"), line.pop("span_id")
    assert fast == generic
    assert fast["request_id"] == "same-id" and fast["status"] == 404
    assert fast["path"] == "/nothing/token=[REDACTED]"


@pytest.mark.skipif(
    "telemetry" not in inspect.signature(FastAPI).parameters,
    reason="FastAPI has native telemetry from 0.16x on; older ones have none to yield to",
)
def test_fastapi_native_exception_log_stays_beside_the_error_access_line(registry) -> None:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor

    exporter = InMemoryLogRecordExporter()
    provider = LoggerProvider()
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    app = FastAPI(telemetry={"logger_provider": provider})  # type: ignore[call-arg]

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    setup_monitoring(app, service_name="native", registry=registry)
    with capture_logs(level="info") as lines:
        r = client(app, raise_server_exceptions=False).get("/boom")
    assert r.status_code == 500
    # FastAPI's own event reaches the OpenTelemetry logger provider the app was given
    # (also for websockets, which our middleware passes through); ours has the stack.
    native = [x for x in exporter.get_finished_logs() if "exception" in str(x.log_record.body)]
    assert len(native) == 1
    access = [x for x in lines if x.get("logger") == "berrys_monitoring.access"]
    assert access[0]["status"] == 500 and access[0]["exception"]["message"] == "kaput"


@pytest.mark.parametrize(
    ("host", "address", "port"),
    [("api.example:8443", "api.example", 8443), ("[::1]", "[::1]", None),
     ("[::1]:80", "[::1]", 80), ("api.example", "api.example", None)],
)  # fmt: skip
def test_the_host_header_gives_server_address_and_port(
    registry, host: str, address: str, port: int | None
) -> None:
    c = client(make_app(registry))
    with capture_spans() as spans:
        r = c.get("/users/1", headers={"host": host})
    assert r.status_code == 200
    (span,) = [s for s in spans if s.kind.name == "SERVER"]
    attrs = dict(span.attributes or {})
    assert attrs["server.address"] == address
    assert attrs.get("server.port") == port


def test_a_host_port_of_non_ascii_digits_is_no_port() -> None:
    from berrys_monitoring.middleware._span_attributes import _split_host

    # "²".isdigit() is true, int("²") raises: the whole value is the address.
    assert _split_host("api.example:\u00b2") == ("api.example:\u00b2", None)
    assert _split_host("api.example:\u0663") == ("api.example:\u0663", None)


def test_a_discarded_app_is_not_kept_alive_by_the_route_template_cache(registry) -> None:
    app = make_app(registry)
    c = client(app)
    assert c.get("/users/1").status_code == 200
    gone = weakref.ref(app)
    route = weakref.ref(next(r for r in app.routes if getattr(r, "path", "") == "/users/{user_id}"))
    c.close()
    del app, c
    gc.collect()
    assert route() is None
    assert gone() is None


async def _call(app: FastAPI, method: str, path: str, headers: list, chunks: list[bytes]) -> int:
    """One request straight through the ASGI interface, with headers as a client sent them."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks or [b""])
    ]
    sent: list[dict] = []

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": b"", "headers": headers, "client": ("127.0.0.1", 1), "server": None,
    }  # fmt: skip
    await app(scope, receive, send)
    return int(sent[0]["status"])


async def test_request_size_counts_the_bytes_received_not_the_declared_length(registry) -> None:
    app = make_app(registry)
    # A body-less request declaring a terabyte adds nothing it did not send.
    lying = [(b"content-length", str(10**12).encode())]
    assert await _call(app, "GET", "/users/1", lying, []) == 200
    size = "http_request_size_bytes_sum"
    assert sample(registry, size, method="GET", route="/users/{user_id}") == 0
    # A chunked upload (no Content-Length at all) counts what arrived, chunk by chunk.
    body = b'{"a": "' + b"x" * 5000 + b'"}'
    chunked = [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")]
    parts = [body[:1000], body[1000:3000], body[3000:]]
    assert await _call(app, "POST", "/echo", chunked, parts) == 200
    assert sample(registry, size, method="POST", route="/echo") == len(body)


def test_a_huge_path_is_cut_in_the_access_line_on_both_paths(registry) -> None:
    import io
    import json

    from berrys_monitoring.logging import configure_logging

    long_path = "/nope/" + "a" * 10_000
    out = io.StringIO()
    configure_logging(stream=out, service_name="svc", adopt_servers=False)
    try:
        c = client(make_app(registry))
        assert c.get(long_path).status_code == 404
        with capture_logs(level="info") as lines:  # the generic path, through a handler
            assert c.get(long_path).status_code == 404
    finally:
        configure_logging(log_to_console=False)
    fast = next(
        json.loads(x) for x in out.getvalue().splitlines() if "berrys_monitoring.access" in x
    )
    generic = next(r for r in lines if r["logger"] == "berrys_monitoring.access")
    for line in (fast, generic):
        assert line["path"] == long_path[:2048] + f"...[{len(long_path) - 2048} more]"
        assert line["message"] == f"GET {line['path']} 404"
    fast_line = next(x for x in out.getvalue().splitlines() if "berrys_monitoring.access" in x)
    assert len(fast_line) < 5_000
