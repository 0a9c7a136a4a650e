"""Each receiver integration delivers a group's message to the real thing: a webhook
server, Slack- and PagerDuty-shaped endpoints, an SMTP server (aiosmtpd) and a real
Alertmanager, through the library's notifiers where it has them."""

from __future__ import annotations

import contextlib
import email
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import Response
from tests.support.servers import free_port, require_binary, run_server, uvicorn_in_thread

from berrys_monitoring.alerts import DeliveryError, PermanentDeliveryError
from berrys_monitoring.hub._time import format_rfc3339_ns
from berrys_monitoring.hub.rules._receivers import deliver, group_message


def _message(status: str = "firing", alertname: str = "DiskFull") -> str:
    now = time.time_ns()
    alert = {
        "status": status,
        "labels": {"alertname": alertname, "severity": "critical", "host": "db1"},
        "annotations": {"summary": "disk 97% full"},
        "startsAt": format_rfc3339_ns(now - 60 * 10**9),
        "endsAt": format_rfc3339_ns(now) if status == "resolved" else "0001-01-01T00:00:00Z",
        "generatorURL": "http://hub/alerts/f1",
        "fingerprint": "f1",
    }
    return orjson.dumps(
        group_message(
            receiver="r", group_key='0:{alertname="DiskFull"}',
            group_labels={"alertname": alertname}, alerts=[alert], external_url="http://hub",
        )
    ).decode()  # fmt: skip


headers: list[str] = []


@contextlib.contextmanager
def endpoint(status: int = 200) -> Iterator[tuple[str, list[Any]]]:
    got: list[Any] = []
    app = FastAPI()

    @app.post("/{path:path}")
    async def take(request: Request) -> Response:
        got.append(await request.json())
        headers.append(request.headers.get("authorization", ""))
        return Response(status_code=status)

    with uvicorn_in_thread(app, log_config=None) as port:
        yield f"http://127.0.0.1:{port}/in", got


def test_webhook_gets_alertmanagers_message_and_errors_are_classified() -> None:
    with endpoint() as (url, got):
        deliver("webhook_configs", {"url": url}, _message())
    assert got[0]["version"] == "4" and got[0]["alerts"][0]["labels"]["host"] == "db1"
    with endpoint(500) as (url, _), pytest.raises(DeliveryError) as retry:
        deliver("webhook_configs", {"url": url}, _message())
    assert not isinstance(retry.value, PermanentDeliveryError)
    with endpoint(404) as (url, _), pytest.raises(PermanentDeliveryError):
        deliver("webhook_configs", {"url": url}, _message())


def test_webhook_sends_the_http_config_credentials() -> None:
    with endpoint() as (url, _):
        settings = {"url": url, "http_config": {"authorization": {"credentials": "s3cret"}}}
        deliver("webhook_configs", settings, _message())
    assert headers[-1] == "Bearer s3cret"


def test_slack_text_is_escaped() -> None:
    with endpoint() as (url, got):
        deliver(
            "slack_configs", {"api_url": url, "channel": "#ops"}, _message(alertname="<!channel>")
        )
    [body] = got
    assert body["channel"] == "#ops" and "[FIRING] CRITICAL: &lt;!channel&gt;" in body["text"]


def test_pagerduty_triggers_then_resolves_with_one_dedup_key() -> None:
    with endpoint() as (url, got):
        settings = {"routing_key": "R0UT1NG", "url": url}
        deliver("pagerduty_configs", settings, _message())
        deliver("pagerduty_configs", settings, _message("resolved"))
    assert [e["event_action"] for e in got] == ["trigger", "resolve"]
    assert got[0]["dedup_key"] == got[1]["dedup_key"] == "f1"
    assert got[0]["payload"]["severity"] == "critical"


def test_email_arrives_through_a_real_smtp_server() -> None:
    class Box:
        messages: list[email.message.Message] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.messages.append(email.message_from_bytes(envelope.content))
            return "250 OK"

    box = Box()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        settings = {"to": "oncall@example.com", "from": "hub@example.com",
                    "smarthost": f"127.0.0.1:{port}"}  # fmt: skip
        deliver("email_configs", settings, _message())
    finally:
        controller.stop()
    [msg] = box.messages
    assert "DiskFull" in msg["Subject"] and msg["To"] == "oncall@example.com"


def test_a_real_alertmanager_receives_the_alerts(tmp_path: Path) -> None:
    binary = require_binary("prometheus-alertmanager", "apt-get install prometheus-alertmanager")
    config = tmp_path / "alertmanager.yml"
    config.write_text("route: {receiver: none}\nreceivers: [{name: none}]\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [binary, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
           f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="]  # fmt: skip
    with run_server(cmd, ready_url=f"{url}/-/ready", timeout=60):
        deliver("alertmanager_configs", {"url": url}, _message())
        [alert] = httpx.get(f"{url}/api/v2/alerts").json()
        assert alert["labels"]["alertname"] == "DiskFull" and alert["status"]["state"] == "active"
        deliver("alertmanager_configs", {"url": url}, _message("resolved"))
        assert httpx.get(f"{url}/api/v2/alerts", params={"active": "true"}).json() == []
