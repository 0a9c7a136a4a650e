"""Diagnostic (no target): the benchmark app called in process, no server, no sockets.

Prints the CPU per request (the exporter thread included) and how many garbage
collections of each generation ran per 1,000 requests, with the time they took. Compare
the variants and ``BENCH_OURS_OPTIONS`` switches to see what a feature costs before the
server's own per-request work (uvicorn/h11 or gunicorn, ~130 µs here) is added.

Run (an OTLP sink on the endpoint keeps the exporter honest; without one it only fails)::

    python -m benchmarks.http_apps.otlp_sink --port 4318 &
    BENCH_VARIANT=ours python -m benchmarks.http_apps.inprocess --framework fastapi -n 20000
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import time
from collections.abc import MutableMapping
from typing import Any

_SCOPE: dict[str, Any] = {
    "type": "http",
    "asgi": {"version": "3.0"},
    "http_version": "1.1",
    "method": "GET",
    "scheme": "http",
    "path": "/hello",
    "raw_path": b"/hello",
    "query_string": b"",
    "root_path": "",
    "headers": [(b"host", b"127.0.0.1:8000"), (b"user-agent", b"wrk")],
    "client": ("127.0.0.1", 5555),
    "server": ("127.0.0.1", 8000),
}
_ENVIRON: dict[str, Any] = {
    "REQUEST_METHOD": "GET",
    "PATH_INFO": "/hello",
    "SCRIPT_NAME": "",
    "QUERY_STRING": "",
    "SERVER_NAME": "127.0.0.1",
    "SERVER_PORT": "8000",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "REMOTE_ADDR": "127.0.0.1",
    "HTTP_HOST": "127.0.0.1:8000",
    "HTTP_USER_AGENT": "wrk",
    "wsgi.url_scheme": "http",
    "wsgi.input": None,
    "wsgi.errors": None,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


def _fastapi_runner() -> Any:
    from benchmarks.http_apps.fastapi_app import app

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        pass

    async def many(n: int) -> None:
        for _ in range(n):
            await app(dict(_SCOPE), receive, send)

    loop = asyncio.new_event_loop()
    return lambda n: loop.run_until_complete(many(n))


def _flask_runner() -> Any:
    import io

    from benchmarks.http_apps.flask_app import app

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Any:
        return None

    def many(n: int) -> None:
        for _ in range(n):
            environ = dict(_ENVIRON, **{"wsgi.input": io.BytesIO(), "wsgi.errors": io.StringIO()})
            body = app(environ, start_response)  # type: ignore[arg-type]
            for _chunk in body:
                pass
            close = getattr(body, "close", None)
            if close is not None:
                close()

    return many


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--framework", choices=("fastapi", "flask"), default="fastapi")
    parser.add_argument("-n", "--requests", type=int, default=20_000)
    args = parser.parse_args()
    os.environ.setdefault("BENCH_ACCESS_LOG", os.devnull)
    run = _fastapi_runner() if args.framework == "fastapi" else _flask_runner()
    counts = [0, 0, 0]
    spent = [0.0, 0.0]

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            spent[1] = time.perf_counter()
        else:
            counts[info["generation"]] += 1
            spent[0] += time.perf_counter() - spent[1]

    run(2_000)  # warm caches, memos and label children
    gc.callbacks.append(on_gc)
    n = args.requests
    cpu = time.process_time()
    run(n)
    cpu = time.process_time() - cpu
    gc.callbacks.remove(on_gc)
    per_k = ", ".join(f"gen{g} {c * 1000 / n:.2f}" for g, c in enumerate(counts))
    print(
        f"{args.framework} {os.environ.get('BENCH_VARIANT', 'bare')} "
        f"{os.environ.get('BENCH_OURS_OPTIONS', '')}: {cpu / n * 1e6:.1f} µs/request CPU; "
        f"collections per 1,000 requests: {per_k}; GC {spent[0] / n * 1e6:.1f} µs/request"
    )


if __name__ == "__main__":
    main()
