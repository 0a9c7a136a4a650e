"""HTTP overhead in Python bytecodes: a benchmark app called in process, bytecodes executed
per request, per function.

Where :mod:`benchmarks.http_instructions` says how much a variant costs, this says where:
the app (``benchmarks.http_apps``, variant from ``BENCH_VARIANT``) is called directly, as
ASGI (FastAPI) or WSGI (Flask), with the same configuration as in ``bench_http``; after a
warm-up, ``sys.settrace`` with opcode events counts every bytecode of ``N`` requests by
function. No server and no sockets: what the middleware and the framework do, not h11's or
gunicorn's share. Counts are exact and repeat from run to run, except in code that depends
on the clock (a timestamp cache that hits once per millisecond misses under tracing).

Run: ``BENCH_VARIANT=ours10 python -m benchmarks.http_opcodes fastapi|flask [N] [TOP]``;
compare two variants by their totals (``bare`` against ``ours10``) and their top functions.
Needs a listening OTLP endpoint only for variants that export (``BENCH_OTLP_ENDPOINT``; an
unreachable one is reported once by the exporter thread, which runs outside the count).
"""

from __future__ import annotations

import asyncio
import io
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from types import FrameType
from typing import Any


def _asgi_request(app: Any) -> Callable[[], None]:
    loop = asyncio.new_event_loop()

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    def one() -> None:
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "server": ("127.0.0.1", 8000),
            "client": ("127.0.0.1", 50000), "scheme": "http", "method": "GET",
            "root_path": "", "path": "/hello", "raw_path": b"/hello", "query_string": b"",
            "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk"), (b"accept", b"*/*")],
            "state": {},
        }  # fmt: skip
        loop.run_until_complete(app(scope, receive, send))

    return one


def _wsgi_request(app: Any) -> Callable[[], None]:
    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> None:
        return None

    def one() -> None:
        environ = {
            "REQUEST_METHOD": "GET", "SCRIPT_NAME": "", "PATH_INFO": "/hello",
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "50000",
            "HTTP_HOST": "127.0.0.1:8000", "HTTP_USER_AGENT": "wrk", "HTTP_ACCEPT": "*/*",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(b""), "wsgi.errors": sys.stderr,
            "wsgi.multithread": True, "wsgi.multiprocess": False, "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }  # fmt: skip
        body = app(environ, start_response)
        try:
            for _ in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return one


def count(one: Callable[[], None], n: int) -> Counter[str]:
    """Bytecodes executed by ``n`` calls of ``one``, by ``file:function``."""
    counts: Counter[str] = Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        frame.f_trace_opcodes = True
        frame.f_trace_lines = False
        if event == "opcode":
            code = frame.f_code
            where = code.co_filename.rsplit("site-packages/", 1)[-1]
            counts[f"{where}:{code.co_name}"] += 1
        return tracer

    sys.settrace(tracer)
    try:
        for _ in range(n):
            one()
    finally:
        sys.settrace(None)
    return counts


def main() -> None:
    args = sys.argv[1:]
    if not args or args[0] not in ("fastapi", "flask"):
        raise SystemExit("usage: python -m benchmarks.http_opcodes fastapi|flask [N] [TOP]")
    n = int(args[1]) if len(args) > 1 else 200
    top = int(args[2]) if len(args) > 2 else 40
    os.environ.setdefault("BENCH_ACCESS_LOG", os.path.join(tempfile.mkdtemp(), "access.log"))
    if args[0] == "fastapi":
        from benchmarks.http_apps.fastapi_app import app as asgi_app

        one = _asgi_request(asgi_app)
    else:
        from benchmarks.http_apps.flask_app import app as wsgi_app

        one = _wsgi_request(wsgi_app)
    for _ in range(300):
        one()
    counts = count(one, n)
    variant = os.environ.get("BENCH_VARIANT", "bare")
    print(f"{args[0]} {variant}: {sum(counts.values()) / n:,.0f} bytecodes per request")
    for where, c in counts.most_common(top):
        print(f"{c / n:9.1f}  {where}")


if __name__ == "__main__":
    main()
