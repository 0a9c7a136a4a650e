"""A minimal OTLP/HTTP sink: answers 200 (an empty protobuf ExportTraceServiceResponse) to
``POST /v1/traces`` (and /v1/metrics, /v1/logs), keeps connections alive, and counts what it
received; ``GET /stats`` returns the counts as JSON so the benchmark can check that spans
really were exported.

Run: ``python -m benchmarks.http_apps.otlp_sink --port 4318``
"""

from __future__ import annotations

import argparse
import asyncio
import json

_stats = {"requests": 0, "bytes": 0}


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            length = 0
            for line in lines[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            body = await reader.readexactly(length) if length else b""
            if method == "GET" and path == "/stats":
                payload = json.dumps(_stats).encode()
                ctype = b"application/json"
            else:
                _stats["requests"] += 1
                _stats["bytes"] += len(body)
                payload = b""
                ctype = b"application/x-protobuf"
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: "
                + ctype
                + b"\r\nContent-Length: "
                + str(len(payload)).encode()
                + b"\r\n\r\n"
                + payload
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _serve(host: str, port: int) -> None:
    server = await asyncio.start_server(_handle, host, port)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=4318)
    args = ap.parse_args()
    try:
        asyncio.run(_serve(args.host, args.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
