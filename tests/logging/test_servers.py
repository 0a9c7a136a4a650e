"""Real servers (uvicorn, gunicorn) write their own lines in our JSON format, once."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import httpx
from tests.support.servers import PYTHON, free_port, require_binary, run_server, wait_for

from berrys_monitoring.logging import uvicorn_log_config

ASGI_APP = """
from berrys_monitoring.logging import configure_logging, get_logger

configure_logging(service_name="uv-test", adopt_servers={adopt})
log = get_logger("app")

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            msg = await receive()
            if msg["type"] == "lifespan.startup":
                await send({{"type": "lifespan.startup.complete"}})
            elif msg["type"] == "lifespan.shutdown":
                await send({{"type": "lifespan.shutdown.complete"}})
                return
    log.info("handled", extra={{"path": scope["path"]}})
    await send({{"type": "http.response.start", "status": 200, "headers": []}})
    await send({{"type": "http.response.body", "body": b"ok"}})
"""

WSGI_APP = """
from berrys_monitoring.logging import configure_logging, get_logger

configure_logging(service_name="gu-test")
log = get_logger("app")

def app(environ, start_response):
    log.info("handled", extra={"path": environ["PATH_INFO"]})
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"ok"]
"""


def _json_lines(output: str) -> list[dict[str, object]]:
    lines = [x for x in output.splitlines() if x.strip()]
    bad = [x for x in lines if not x.startswith("{")]
    assert not bad, f"plain-text lines in the server output: {bad}"
    return [json.loads(x) for x in lines]


def _run_uvicorn_and_get_lines(tmp_path: Path, extra_args: list[str], adopt: bool) -> list[dict]:
    (tmp_path / "uv_app.py").write_text(textwrap.dedent(ASGI_APP.format(adopt=adopt)))
    port = free_port()
    cmd = [PYTHON, "-m", "uvicorn", "uv_app:app", "--host", "127.0.0.1", "--port", str(port)]
    url = f"http://127.0.0.1:{port}/hello"
    with run_server([*cmd, *extra_args], cwd=tmp_path, ready_url=url) as server:
        assert httpx.get(url).status_code == 200
        wait_for(lambda: server.output().count("uvicorn.access") >= 2, what="access lines")
        server.stop()
        return _json_lines(server.output())


def test_uvicorn_lines_come_out_as_our_json_once(tmp_path: Path) -> None:
    recs = _run_uvicorn_and_get_lines(tmp_path, [], adopt=True)
    messages = [str(r["message"]) for r in recs]
    assert messages.count("Application startup complete.") == 1
    assert any(m.startswith("Uvicorn running on http://127.0.0.1:") for m in messages)
    access = [r for r in recs if r["logger"] == "uvicorn.access"]
    assert access and all('"GET /hello HTTP/1.1" 200' in str(r["message"]) for r in access)
    assert len(access) == len({str(r["timestamp"]) + str(r["message"]) for r in access})
    handled = [r for r in recs if r["logger"] == "app"]
    assert handled and handled[0]["path"] == "/hello"
    assert all(r["service"] == "uv-test" for r in recs)
    # uvicorn's ANSI-coloured copy of its message is for terminals, not JSON lines.
    assert not [r for r in recs if "color_message" in r]


def test_uvicorn_log_config_keeps_uvicorn_from_installing_handlers(tmp_path: Path) -> None:
    config = tmp_path / "log.json"
    config.write_text(json.dumps(uvicorn_log_config()))
    recs = _run_uvicorn_and_get_lines(tmp_path, ["--log-config", str(config)], adopt=False)
    assert any(r["logger"] == "uvicorn.error" for r in recs)
    assert any(r["logger"] == "uvicorn.access" for r in recs)


def test_gunicorn_workers_and_master_lines_are_json_with_preload(tmp_path: Path) -> None:
    gunicorn = require_binary("gunicorn", "pip install 'berrys-monitoring[flask]'")
    (tmp_path / "gu_app.py").write_text(textwrap.dedent(WSGI_APP))
    port = free_port()
    url = f"http://127.0.0.1:{port}/hi"
    cmd = [
        gunicorn,
        "--preload",
        "-w",
        "2",
        "-b",
        f"127.0.0.1:{port}",
        "--access-logfile",
        "-",
        "gu_app:app",
    ]
    with run_server(cmd, cwd=tmp_path, ready_url=url) as server:
        for _ in range(3):
            assert httpx.get(url).status_code == 200
        wait_for(lambda: server.output().count('"logger":"app"') >= 4, what="app lines")
        server.stop()
        recs = _json_lines(server.output())
    messages = [str(r["message"]) for r in recs]
    assert any(m.startswith("Starting gunicorn") for m in messages)
    assert sum(m.startswith("Booting worker with pid") for m in messages) >= 2
    assert any(r["logger"] == "gunicorn.access" for r in recs)
    assert all(r["service"] == "gu-test" for r in recs)


def test_gunicorn_on_starting_hook_makes_master_and_worker_lines_json(tmp_path: Path) -> None:
    gunicorn = require_binary("gunicorn", "pip install 'berrys-monitoring[flask]'")
    (tmp_path / "gu_app.py").write_text(textwrap.dedent(WSGI_APP))
    # the hook the guide shows, in a gunicorn config file
    (tmp_path / "gunicorn.conf.py").write_text(
        textwrap.dedent(
            """
            def on_starting(server):
                from berrys_monitoring.logging import configure_logging
                configure_logging(service_name="gu-test")
            """
        )
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}/hi"
    cmd = [gunicorn, "-c", "gunicorn.conf.py", "-w", "2", "-b", f"127.0.0.1:{port}", "gu_app:app"]
    with run_server(cmd, cwd=tmp_path, ready_url=url) as server:
        assert httpx.get(url).status_code == 200
        wait_for(lambda: server.output().count('"logger":"app"') >= 2, what="app lines")
        server.stop()
        output = server.output()
    lines = [x for x in output.splitlines() if x.strip()]
    assert "Starting gunicorn" in lines[0]  # logged before the hook runs
    recs = _json_lines("\n".join(lines[1:]))
    messages = [str(r["message"]) for r in recs]
    assert any(m.startswith("Listening at: http://127.0.0.1:") for m in messages)
    assert sum(m.startswith("Booting worker with pid") for m in messages) == 2
