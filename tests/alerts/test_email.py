"""EmailNotifier against a real SMTP server (aiosmtpd, in-process, on 127.0.0.1)."""

from __future__ import annotations

import email
import ssl
import subprocess
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from tests.support.servers import free_port, require_binary

from berrys_monitoring import internal_error_counts
from berrys_monitoring.alerts import AlertManager, EmailNotifier


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                email.message_from_bytes(envelope.content),
            )
        )
        return "250 OK"


def authenticator(
    server: Any, session: Any, envelope: Any, mechanism: str, data: Any
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"alerts", b"s3cret")
    # handled=False: aiosmtpd then answers a refusal with 535, as a real server does.
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_require_tls=False
    )
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def manager() -> Iterator[list[AlertManager]]:
    made: list[AlertManager] = []
    yield made
    for m in made:
        m.shutdown(2)


def test_trigger_and_resolve_arrive_as_emails(smtp, manager) -> None:
    box, port = smtp
    n = EmailNotifier(
        "127.0.0.1", port, sender="alerts@example.com", recipients=["oncall@example.com", "b@x.io"]
    )
    m = AlertManager(notifiers=[n])
    manager.append(m)
    alert_id = m.trigger("Disk full", "97% on /var", "critical", {"host": "db1"})
    m.resolve(alert_id, "logs rotated")
    assert m.flush(10)
    assert len(box.messages) == 2
    sender, rcpts, firing = box.messages[0]
    assert sender == "alerts@example.com"
    assert rcpts == ["oncall@example.com", "b@x.io"]
    assert firing["Subject"] == "[alert] [TRIGGERED] CRITICAL: Disk full"
    body = firing.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "97% on /var" in body and "host: db1" in body and alert_id in body
    resolved = box.messages[1][2]
    assert resolved["Subject"] == "[alert] [RESOLVED] CRITICAL: Disk full"
    assert "logs rotated" in resolved.get_payload(decode=True).decode()  # type: ignore[union-attr]


def test_a_title_with_line_breaks_is_still_delivered_on_one_subject_line(smtp, manager) -> None:
    box, port = smtp
    n = EmailNotifier("127.0.0.1", port, sender="a@example.com", recipients=["b@example.com"])
    m = AlertManager(notifiers=[n], backoff_initial=0.01, max_attempts=2)
    manager.append(m)
    m.trigger("Job failed:\r\nBcc: victim@example.com", "Traceback ...\nValueError", "error")
    assert m.flush(10)
    [(_, rcpts, msg)] = box.messages
    assert msg["Subject"] == "[alert] [TRIGGERED] ERROR: Job failed: Bcc: victim@example.com"
    assert msg["Bcc"] is None and rcpts == ["b@example.com"]  # no header was injected
    body = msg.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert "Traceback ...\r\nValueError" in body  # the body keeps its lines (CRLF on the wire)


def test_smtp_login_succeeds_with_the_right_password_and_is_not_retried_when_wrong(
    smtp, manager
) -> None:
    box, port = smtp
    good = EmailNotifier(
        "127.0.0.1", port, sender="a@example.com", recipients=["b@example.com"],
        username="alerts", password="s3cret",
    )  # fmt: skip
    bad = EmailNotifier(
        "127.0.0.1", port, sender="a@example.com", recipients=["c@example.com"],
        username="alerts", password="wrong",
    )  # fmt: skip
    m = AlertManager(notifiers=[good, bad], backoff_initial=0.01, max_attempts=5)
    manager.append(m)
    m.trigger("T", "m", "error", {})
    assert m.flush(10)
    assert [rcpts for _, rcpts, _ in box.messages] == [["b@example.com"]]
    assert internal_error_counts()["alerts"] == 1  # the wrong password, once, no retries


def test_starttls_upgrades_the_connection(tmp_path: Path, manager) -> None:
    openssl = require_binary("openssl")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    box = Mailbox()
    port = free_port()
    controller = Controller(
        box, hostname="127.0.0.1", port=port, tls_context=server_ctx, require_starttls=True,
        authenticator=authenticator,
    )  # fmt: skip
    controller.start()
    try:
        n = EmailNotifier(
            "127.0.0.1", port, sender="a@example.com", recipients=["b@example.com"],
            starttls=True, username="alerts", password="s3cret",
            ssl_context=ssl.create_default_context(cafile=str(cert)),
        )  # fmt: skip
        m = AlertManager(notifiers=[n], backoff_initial=0.01, max_attempts=2)
        manager.append(m)
        m.trigger("Over TLS", "m", "warning", {})
        assert m.flush(10)
        assert internal_error_counts() == {}
        assert [msg["Subject"] for _, _, msg in box.messages] == [
            "[alert] [TRIGGERED] WARNING: Over TLS"
        ]
    finally:
        controller.stop()


def test_email_configuration_errors_raise_at_once() -> None:
    with pytest.raises(ValueError, match="recipients"):
        EmailNotifier("127.0.0.1", sender="a@example.com", recipients=[])
    with pytest.raises(ValueError, match="recipients"):
        EmailNotifier("127.0.0.1", sender="a@example.com", recipients="b@example.com")
    with pytest.raises(ValueError, match="sender"):
        EmailNotifier("127.0.0.1", sender="nobody", recipients=["b@example.com"])
    with pytest.raises(ValueError, match="not both"):
        EmailNotifier(
            "127.0.0.1", sender="a@x.io", recipients=["b@x.io"], starttls=True, use_ssl=True
        )
