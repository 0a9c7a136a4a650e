"""What a real uvicorn server keeps of a request's context after the request.

uvicorn schedules its keep-alive timer while it sends a response's last body message, and
an asyncio timer keeps a copy of the context it was scheduled in until it is cancelled and
purged from the loop, often a hundred requests later. The middleware sends that message
outside the request's context, so those copies hold neither its span nor its logging
fields; code after the response (background tasks) still runs inside it.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from typing import Any

from fastapi import BackgroundTasks, FastAPI
from opentelemetry import trace
from tests.support.servers import uvicorn_in_thread, wait_for

from berrys_monitoring.logging import get_context
from berrys_monitoring.logging._context import _context as log_var
from berrys_monitoring.middleware.fastapi import setup_monitoring
from berrys_monitoring.tracing import capture_spans


def test_the_keep_alive_timer_keeps_no_request_context_and_background_tasks_keep_it(
    registry,
) -> None:
    app = FastAPI()
    seen: dict[str, Any] = {}
    background_done = threading.Event()

    @app.get("/hello")
    async def hello(tasks: BackgroundTasks) -> dict[str, str]:
        seen["loop"] = asyncio.get_running_loop()

        def after_response() -> None:
            seen["background_request_id"] = get_context().get("request_id")
            seen["background_span"] = trace.get_current_span().get_span_context().trace_id
            background_done.set()

        tasks.add_task(after_response)
        return {"ok": "yes"}

    setup_monitoring(app, service_name="svc", registry=registry, configure_defaults=False)
    with uvicorn_in_thread(app, http="h11", lifespan="off", log_config=None) as port:
        with capture_spans() as spans:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/hello", headers={"X-Request-ID": "keep-1"})
            response = conn.getresponse()
            assert response.status == 200
            response.read()
            trace_id = int(response.getheader("x-trace-id"), 16)

            async def timers() -> list[tuple[str, Any, Any]]:
                # The connection is still open: its keep-alive timer is scheduled.
                loop = asyncio.get_running_loop()
                return [
                    (
                        getattr(h._callback, "__name__", ""),
                        h._context.get(log_var),
                        h._context.get(trace_var),
                    )
                    for h in loop._scheduled  # type: ignore[attr-defined]
                    if not h.cancelled()
                ]

            trace_var = _otel_context_var()
            found = asyncio.run_coroutine_threadsafe(timers(), seen["loop"]).result(10)
            conn.close()
            # The span ends once the background task is done, after the response.
            assert background_done.wait(10)
            wait_for(lambda: len(spans), timeout=10, what="the server span")
        assert any(name == "timeout_keep_alive_handler" for name, _, _ in found)
        for _name, fields, otel in found:
            assert fields is None or "request_id" not in fields
            span = (otel or {}).get(_span_key())
            assert span is None or span.get_span_context().trace_id != trace_id
        # After the response, inside the request still.
        assert seen["background_request_id"] == "keep-1"
        assert seen["background_span"] == trace_id
        assert [s.name for s in spans if s.kind.name == "SERVER"] == ["GET /hello"]


def _otel_context_var() -> Any:
    from opentelemetry import context as context_api

    return context_api._RUNTIME_CONTEXT._current_context  # type: ignore[attr-defined]


def _span_key() -> str:
    from opentelemetry.trace.propagation import _SPAN_KEY

    return _SPAN_KEY


def test_an_outer_send_wrapper_still_sees_the_request_context_in_the_last_send(
    registry,
) -> None:
    app = FastAPI()

    @app.get("/hello")
    async def hello() -> dict[str, str]:
        return {"ok": "yes"}

    setup_monitoring(app, service_name="svc", registry=registry, configure_defaults=False)
    seen: list[tuple[str, bool, Any]] = []

    class SendWatcher:
        """Added after setup_monitoring, so it wraps ours (a timing or header middleware
        of the application, say)."""

        def __init__(self, app: Any) -> None:  # Starlette < 0.39 passes it by keyword
            self.inner = app

        async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
            async def watched(message: dict[str, Any]) -> None:
                seen.append(
                    (
                        message["type"],
                        message.get("more_body", False),
                        get_context().get("request_id"),
                    )
                )
                await send(message)

            await self.inner(scope, receive, watched)

    app.add_middleware(SendWatcher)
    with uvicorn_in_thread(app, http="h11", lifespan="off", log_config=None) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/hello", headers={"X-Request-ID": "outer-1"})
        response = conn.getresponse()
        assert response.status == 200
        response.read()
        conn.close()
    assert seen == [
        ("http.response.start", False, "outer-1"),
        ("http.response.body", False, "outer-1"),
    ]
