"""A tiny ASGI app served by ``uvicorn --workers 2`` in test_multiprocess.py."""

from __future__ import annotations

import os
from typing import Any

from berrys_monitoring._internal import count_event, report_internal_error
from berrys_monitoring.metrics import (
    configure_metrics,
    gauge,
    increment_counter,
    is_multiprocess,
    metrics_exposition,
)

configure_metrics(gauge_multiprocess_mode="liveall")
gauge("worker_up", 1)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/metrics":
        accept = dict(scope["headers"]).get(b"accept", b"").decode()
        body, ctype = metrics_exposition(accept)
    elif path == "/info":
        body, ctype = f"{os.getpid()} {int(is_multiprocess())}".encode(), "text/plain"
    else:
        increment_counter("mp_requests_total", {"worker": os.getpid()})
        # The library's own counts, which each worker keeps in memory.
        count_event("mp_app", "work")
        report_internal_error("mp_app", message="counted on every request", key="work")
        body, ctype = b"ok", "text/plain"
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", ctype.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
