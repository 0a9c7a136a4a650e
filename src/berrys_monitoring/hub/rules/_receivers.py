"""Sending one group's notification through one receiver integration.

The payload is decided once, as Alertmanager's webhook message (``version: "4"``), and kept
in the outbox until delivered. Webhooks receive it as it is; another Alertmanager receives
its alerts through ``POST /api/v2/alerts``; Slack, email and PagerDuty go through the
library's own notifiers (one message per alert); ``log`` writes one line per group.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

import orjson

from berrys_monitoring.alerts._email import EmailNotifier
from berrys_monitoring.alerts._http_notifiers import PagerDutyNotifier, SlackNotifier
from berrys_monitoring.alerts._model import Alert, AlertSeverity, AlertState, Notification
from berrys_monitoring.alerts._payloads import ZERO_TIME, post_json

__all__ = ["deliver", "group_message", "http_headers"]

log = logging.getLogger("berrys_monitoring.hub.notifications")


def group_message(
    *,
    receiver: str,
    group_key: str,
    group_labels: Mapping[str, str],
    alerts: Sequence[Mapping[str, Any]],
    external_url: str,
    max_alerts: int = 0,
) -> dict[str, Any]:
    """Alertmanager's webhook message for ``alerts`` (each already in webhook form, with
    ``status``, ``labels``, ``annotations``, ``startsAt``, ``endsAt``, ``generatorURL``,
    ``fingerprint``).

    Example::

        >>> a = {"status": "firing", "labels": {"alertname": "Down", "job": "api"},
        ...      "annotations": {"summary": "api down"}, "startsAt": "2030-01-01T00:00:00Z",
        ...      "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "", "fingerprint": "f"}
        >>> m = group_message(receiver="team", group_key='{}:{job="api"}',
        ...                   group_labels={"job": "api"}, alerts=[a], external_url="")
        >>> m["status"], m["commonLabels"]["alertname"], m["truncatedAlerts"]
        ('firing', 'Down', 0)
    """
    common_labels = dict(alerts[0]["labels"]) if alerts else {}
    common_annotations = dict(alerts[0]["annotations"]) if alerts else {}
    for a in alerts[1:]:
        common_labels = {k: v for k, v in common_labels.items() if a["labels"].get(k) == v}
        common_annotations = {
            k: v for k, v in common_annotations.items() if a["annotations"].get(k) == v
        }
    kept = list(alerts[:max_alerts] if max_alerts > 0 else alerts)
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": len(alerts) - len(kept),
        "status": "firing" if any(a["status"] == "firing" for a in alerts) else "resolved",
        "receiver": receiver,
        "groupLabels": dict(group_labels),
        "commonLabels": common_labels,
        "commonAnnotations": common_annotations,
        "externalURL": external_url,
        "alerts": kept,
    }


def _when(text: str) -> datetime | None:
    if not text or text == ZERO_TIME:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def _library_notification(alert: Mapping[str, Any]) -> Notification:
    """One alert of a group as the library's notifiers take it."""
    labels: Mapping[str, str] = alert["labels"]
    annotations: Mapping[str, str] = alert["annotations"]
    try:
        severity = AlertSeverity(labels.get("severity", "warning").lower())
    except ValueError:
        severity = (
            AlertSeverity.CRITICAL if labels.get("severity") == "page" else AlertSeverity.WARNING
        )
    started = _when(alert["startsAt"]) or datetime.now(timezone.utc)
    ended = _when(alert["endsAt"]) if alert["status"] == "resolved" else None
    context = {k: v for k, v in labels.items() if k not in ("alertname", "severity")}
    message = annotations.get("description") or annotations.get("summary") or ""
    lib = Alert(
        id=str(alert["fingerprint"]),
        title=labels.get("alertname", "alert"),
        message=message,
        severity=severity,
        state=AlertState.RESOLVED if ended else AlertState.TRIGGERED,
        context=context,
        fingerprint=str(alert["fingerprint"]),
        created_at=started,
        updated_at=ended or started,
        resolved_at=ended,
    )
    return Notification("resolved" if ended else "triggered", lib)


def _email(settings: Mapping[str, Any]) -> EmailNotifier:
    host, _, port = str(settings["smarthost"]).rpartition(":")
    to = settings["to"]
    return EmailNotifier(
        host or str(settings["smarthost"]),
        int(port or 25),
        sender=str(settings.get("from") or "alertmanager@localhost"),
        recipients=[a.strip() for a in to.split(",")] if isinstance(to, str) else list(to),
        username=settings.get("auth_username"),
        password=settings.get("auth_password"),
        starttls=bool(settings.get("require_tls", False)),
    )


def http_headers(settings: Mapping[str, Any]) -> dict[str, str]:
    """The request headers of Alertmanager's ``http_config``: ``authorization``
    (``type``, default Bearer, and ``credentials``), ``bearer_token`` or ``basic_auth``.

    Example::

        >>> http_headers({"http_config": {"authorization": {"credentials": "s3cret"}}})
        {'Authorization': 'Bearer s3cret'}
        >>> http_headers({"http_config": {"basic_auth": {"username": "a", "password": "b"}}})
        {'Authorization': 'Basic YTpi'}
    """
    import base64

    http = settings.get("http_config") or {}
    auth = http.get("authorization")
    if auth:
        return {"Authorization": f"{auth.get('type', 'Bearer')} {auth.get('credentials', '')}"}
    if http.get("bearer_token"):
        return {"Authorization": f"Bearer {http['bearer_token']}"}
    basic = http.get("basic_auth")
    if basic:
        pair = f"{basic.get('username', '')}:{basic.get('password', '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode()}
    return {}


def deliver(kind: str, settings: Mapping[str, Any], payload: str) -> None:
    """Send a decided notification; raises the library's ``DeliveryError`` (retryable)
    or ``PermanentDeliveryError``."""
    message = orjson.loads(payload)
    alerts = message["alerts"]
    timeout = float(settings.get("timeout", 10.0))
    if kind == "webhook_configs":
        post_json(str(settings["url"]), message, timeout=timeout, headers=http_headers(settings))
    elif kind == "alertmanager_configs":
        body = []
        for a in alerts:
            item = {k: a[k] for k in ("labels", "annotations", "startsAt", "generatorURL")}
            if a["status"] == "resolved":
                item["endsAt"] = a["endsAt"]
            body.append(item)
        url = str(settings["url"]).rstrip("/") + "/api/v2/alerts"
        post_json(url, body, timeout=timeout, headers=http_headers(settings))
    elif kind == "log_configs":
        log.warning(
            "[%s] %s: %s",
            message["status"].upper(),
            message["receiver"],
            orjson.dumps([{"labels": a["labels"], "status": a["status"]} for a in alerts]).decode(),
        )
    else:
        notifier: Any
        if kind == "slack_configs":
            notifier = SlackNotifier(
                str(settings["api_url"]),
                channel=settings.get("channel"),
                username=settings.get("username"),
                icon_emoji=settings.get("icon_emoji"),
                timeout=timeout,
            )
        elif kind == "pagerduty_configs":
            notifier = PagerDutyNotifier(
                str(settings.get("routing_key") or settings.get("service_key")),
                url=str(settings.get("url") or "https://events.pagerduty.com/v2/enqueue"),
                timeout=timeout,
            )
        elif kind == "email_configs":
            notifier = _email(settings)
        else:
            raise ValueError(f"unknown integration {kind}")
        for a in alerts:
            notifier.send(_library_notification(a))
