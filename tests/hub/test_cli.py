"""``berrys-monitoring hub``: safe defaults, token auth, clean shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
from tests.hub.conftest import start_hub
from tests.hub.otlp import PROTOBUF, spans_request

from berrys_monitoring.hub.config import ENV_TOKEN


def test_refuses_a_public_address_without_a_token(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "berrys_monitoring", "hub", "--host", "0.0.0.0",
         "--port", "0", "--data-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=60,
        env={k: v for k, v in __import__("os").environ.items() if k != ENV_TOKEN},
    )  # fmt: skip
    assert proc.returncode == 2
    assert "refusing to listen on 0.0.0.0 without a token" in proc.stderr
    assert "--token" in proc.stderr


def test_a_bad_config_file_is_named_in_the_error(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("retention: forever\n")
    proc = subprocess.run(
        [sys.executable, "-m", "berrys_monitoring", "hub", "--config", str(config)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2 and "not a duration: 'forever'" in proc.stderr


def test_with_a_token_every_call_but_health_needs_it(tmp_path: Path) -> None:
    token = "s3cret-token-value"
    with start_hub(tmp_path, env={ENV_TOKEN: token}) as hub:
        body = spans_request("auth", 1).SerializeToString()
        with httpx.Client(base_url=hub.url) as anonymous:
            assert anonymous.get("/health").status_code == 200
            for method, path in [("POST", "/v1/traces"), ("GET", "/api/v1/services"),
                                 ("GET", "/metrics"), ("GET", "/openapi.json")]:  # fmt: skip
                r = anonymous.request(method, path, content=body, headers=PROTOBUF)
                assert r.status_code == 401, path
                assert r.headers["www-authenticate"].startswith("Bearer")
            wrong = anonymous.post(
                "/v1/traces", content=body, headers={**PROTOBUF, "Authorization": "Bearer nope"}
            )
            assert wrong.status_code == 401
        hub.token = token
        with hub.client() as client:
            assert client.post("/v1/traces", content=body, headers=PROTOBUF).status_code == 200
            assert client.get("/api/v1/services").json()["services"][0]["name"] == "auth"
        hub.server.stop()
        assert token not in hub.server.output()


def test_sigterm_flushes_and_exits_cleanly(tmp_path: Path) -> None:
    with start_hub(tmp_path) as hub, hub.client() as client:
        body = spans_request("bye", 2).SerializeToString()
        assert client.post("/v1/traces", content=body, headers=PROTOBUF).status_code == 200
        hub.server.proc.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal once shut down, so the parent sees "terminated"
        assert hub.server.proc.wait(20) in (0, -signal.SIGTERM)
        out = hub.server.output()
        assert "flushing and closing the store" in out
        assert "Application shutdown complete" in out
    with start_hub(tmp_path) as hub, hub.client() as client:
        [trace] = client.get("/api/v1/traces", params={"service": "bye"}).json()["traces"]
        assert trace["span_count"] == 2


def test_health_reports_the_writer_and_the_data_dir_is_private(tmp_path: Path) -> None:
    data = tmp_path / "private"
    with start_hub(data) as hub, hub.client() as client:
        r = client.get("/health")
        assert r.headers["content-type"] == "application/health+json"
        body = r.json()
        assert body["status"] == "pass" and body["checks"]["store:writer"][0]["status"] == "pass"
    assert data.stat().st_mode & 0o777 == 0o700
