"""A tiny WSGI app served by a real gunicorn with several workers in test_multiprocess.py."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from berrys_monitoring._internal import count_event, report_internal_error
from berrys_monitoring.metrics import (
    configure_metrics,
    gauge,
    increment_counter,
    is_multiprocess,
    metrics_exposition,
)

# liveall keeps a pid label per worker, so the test can see one worker's gauge disappear.
configure_metrics(gauge_multiprocess_mode="liveall")
gauge("worker_up", 1)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    path = environ.get("PATH_INFO", "/")
    if path == "/metrics":
        body, ctype = metrics_exposition(environ.get("HTTP_ACCEPT"))
    elif path == "/info":
        body, ctype = f"{os.getpid()} {int(is_multiprocess())}".encode(), "text/plain"
    else:
        increment_counter("mp_requests_total", {"worker": os.getpid()})
        # The library's own counts, which each worker keeps in memory.
        count_event("mp_app", "work")
        report_internal_error("mp_app", message="counted on every request", key="work")
        body, ctype = b"ok", "text/plain"
    start_response("200 OK", [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [body]
