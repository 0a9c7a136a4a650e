"""Email notifications over SMTP (stdlib ``smtplib``), with optional STARTTLS/SSL and auth."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable, Sequence
from email.message import EmailMessage

from berrys_monitoring.alerts._delivery import (
    DEFAULT_EVENTS,
    DeliveryError,
    PermanentDeliveryError,
    choose_events,
)
from berrys_monitoring.alerts._model import Notification

__all__ = ["EmailNotifier"]


class EmailNotifier:
    """Sends one plain-text email per notification.

    ``starttls=True`` upgrades a plain connection (port 587); ``use_ssl=True`` connects
    over TLS from the start (port 465). ``username``/``password`` log in when given.

    Example::

        notifier = EmailNotifier("smtp.example.com", 587, sender="alerts@example.com",
                                 recipients=["oncall@example.com"], starttls=True,
                                 username="alerts", password="app-password")
    """

    name = "email"

    def __init__(
        self,
        host: str,
        port: int = 25,
        *,
        sender: str,
        recipients: Sequence[str],
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        use_ssl: bool = False,
        timeout: float = 10.0,
        subject_prefix: str = "[alert]",
        ssl_context: ssl.SSLContext | None = None,
        events: Iterable[str] | None = None,
    ) -> None:
        if not host:
            raise ValueError("EmailNotifier needs an SMTP host")
        if not sender or "@" not in sender:
            raise ValueError(f"EmailNotifier: sender must be an email address, got {sender!r}")
        if isinstance(recipients, str) or not recipients:
            raise ValueError("EmailNotifier: recipients must be a non-empty list of addresses")
        if starttls and use_ssl:
            raise ValueError("EmailNotifier: choose starttls or use_ssl, not both")
        self.host, self.port = host, port
        self.sender = sender
        self.recipients = list(recipients)
        self.username, self.password = username, password
        self.starttls, self.use_ssl = starttls, use_ssl
        self.timeout = timeout
        self.subject_prefix = subject_prefix
        self.ssl_context = ssl_context
        self.events = choose_events(events, DEFAULT_EVENTS)

    def message(self, notification: Notification) -> EmailMessage:
        """The email sent for ``notification``."""
        a = notification.alert
        msg = EmailMessage()
        verb = "RESOLVED" if not notification.firing else notification.kind.upper()
        subject = f"{self.subject_prefix} [{verb}] {a.severity.value.upper()}: {a.title}"
        # A header cannot hold a line break (the email package refuses it, so the alert
        # would never be sent); titles built from exception text often contain one.
        msg["Subject"] = " ".join(subject.split())
        msg["From"] = self.sender
        msg["To"] = ", ".join(self.recipients)
        lines = [
            f"{a.title}",
            "",
            a.message if notification.firing else (a.history[-1].message or "resolved"),
            "",
            f"severity:    {a.severity.value}",
            f"state:       {a.state.value}",
            f"occurrences: {a.occurrences}",
            f"started:     {a.created_at.isoformat()}",
        ]
        if a.resolved_at:
            lines.append(f"resolved:    {a.resolved_at.isoformat()}")
        lines += [f"{k}: {v}" for k, v in a.context.items()]
        lines += ["", f"alert id: {a.id}"]
        msg.set_content("\n".join(lines) + "\n")
        return msg

    def send(self, notification: Notification) -> None:
        msg = self.message(notification)
        context = self.ssl_context or ssl.create_default_context()
        try:
            smtp: smtplib.SMTP
            if self.use_ssl:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.starttls:
                    smtp.starttls(context=context)
                if self.username is not None:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(
                f"SMTP login to {self.host} refused: {exc.smtp_code}"
            ) from None
        except smtplib.SMTPRecipientsRefused:
            raise PermanentDeliveryError(
                f"SMTP server {self.host} refused the recipients"
            ) from None
        except (TimeoutError, smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {type(exc).__name__}") from None
