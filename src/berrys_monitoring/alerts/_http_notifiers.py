"""Notifiers that POST JSON: generic webhook, Slack, PagerDuty and Alertmanager."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable
from typing import Any

from berrys_monitoring._internal import HUB_URL_ENV, hub_auth_headers
from berrys_monitoring.alerts._delivery import DEFAULT_EVENTS, choose_events
from berrys_monitoring.alerts._model import AlertSeverity, Notification
from berrys_monitoring.alerts._payloads import (
    alert_annotations,
    check_url,
    labels,
    post_json,
    rfc3339,
    webhook_alert,
)

__all__ = [
    "AlertmanagerNotifier",
    "HubNotifier",
    "PagerDutyNotifier",
    "SlackNotifier",
    "WebhookNotifier",
]


class WebhookNotifier:
    """POSTs Alertmanager's webhook payload (``version: "4"``) to any URL.

    Any receiver written for Alertmanager's ``webhook_config`` understands it:
    ``status`` (firing/resolved), ``alerts[]`` with ``labels``, ``annotations``,
    ``startsAt``, ``endsAt``, ``generatorURL``, ``fingerprint``, plus ``groupLabels``,
    ``commonLabels``, ``commonAnnotations``, ``externalURL``, ``groupKey``, ``receiver``.

    Example::

        notifier = WebhookNotifier("http://127.0.0.1:9000/hooks/alerts",
                                   headers={"Authorization": "Bearer s3cret"})
    """

    name = "webhook"
    events = DEFAULT_EVENTS

    def __init__(
        self,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        receiver: str = "berrys-monitoring",
        external_url: str = "",
        generator_url: str = "",
        events: Iterable[str] | None = None,
    ) -> None:
        self.url = check_url(url, "WebhookNotifier")
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.events = choose_events(events, type(self).events)
        self.receiver = receiver
        self.external_url = external_url
        self.generator_url = generator_url

    def payload(self, notification: Notification) -> dict[str, Any]:
        """The JSON body sent for ``notification``."""
        item = webhook_alert(notification, self.generator_url)
        group = {"alertname": item["labels"]["alertname"]}
        return {
            "version": "4",
            "groupKey": f'{{}}:{{alertname="{group["alertname"]}"}}',
            "truncatedAlerts": 0,
            "status": item["status"],
            "receiver": self.receiver,
            "groupLabels": group,
            "commonLabels": item["labels"],
            "commonAnnotations": item["annotations"],
            "externalURL": self.external_url,
            "alerts": [item],
        }

    def send(self, notification: Notification) -> None:
        post_json(self.url, self.payload(notification), timeout=self.timeout, headers=self.headers)


def slack_escape(text: object) -> str:
    """Slack's control characters escaped, so alert text is shown, never interpreted.

    Unescaped, a title like ``<!channel>`` would page a whole channel and ``<http://x|y>``
    would render a disguised link (Slack: "Escaping text" in its formatting reference).
    """
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_SLACK_COLORS = {
    AlertSeverity.INFO: "#439FE0",
    AlertSeverity.WARNING: "warning",
    AlertSeverity.ERROR: "danger",
    AlertSeverity.CRITICAL: "danger",
}


class SlackNotifier:
    """Posts to a Slack (or Mattermost) incoming webhook: a text line plus a coloured
    attachment with the severity, state, occurrences and context as fields.

    Example::

        notifier = SlackNotifier("https://hooks.slack.com/services/T000/B000/XXXX",
                                 channel="#ops", mention="@oncall")
    """

    name = "slack"
    events = DEFAULT_EVENTS

    def __init__(
        self,
        webhook_url: str,
        *,
        channel: str | None = None,
        username: str | None = None,
        icon_emoji: str | None = None,
        mention: str | None = None,
        timeout: float = 5.0,
        events: Iterable[str] | None = None,
    ) -> None:
        self.webhook_url = check_url(webhook_url, "SlackNotifier")
        self.channel = channel
        self.username = username
        self.icon_emoji = icon_emoji
        self.mention = mention
        self.timeout = timeout
        self.events = choose_events(events, type(self).events)

    def payload(self, notification: Notification) -> dict[str, Any]:
        """The JSON body sent for ``notification``."""
        a = notification.alert
        verb = {"triggered": "FIRING", "escalated": "ESCALATED", "resolved": "RESOLVED"}.get(
            notification.kind, notification.kind.upper()
        )
        title = slack_escape(a.title)
        text = f"[{verb}] {a.severity.value.upper()}: {title}"
        if self.mention and notification.firing:
            text = f"{self.mention} {text}"  # the configured mention is meant to be live
        detail = a.message if notification.firing else (a.history[-1].message or "resolved")
        fields = [
            {"title": "Severity", "value": a.severity.value, "short": True},
            {"title": "State", "value": a.state.value, "short": True},
            {"title": "Occurrences", "value": str(a.occurrences), "short": True},
        ]
        fields += [
            {"title": slack_escape(k), "value": slack_escape(v), "short": True}
            for k, v in a.context.items()
        ]
        body: dict[str, Any] = {
            "text": text,
            "attachments": [
                {
                    "color": "good" if not notification.firing else _SLACK_COLORS[a.severity],
                    "title": title,
                    "text": slack_escape(detail),
                    "fields": fields,
                    "footer": f"alert {a.id}",
                    "ts": int(a.updated_at.timestamp()),
                }
            ],
        }
        for key in ("channel", "username", "icon_emoji"):
            if getattr(self, key):
                body[key] = getattr(self, key)
        return body

    def send(self, notification: Notification) -> None:
        post_json(self.webhook_url, self.payload(notification), timeout=self.timeout)


class PagerDutyNotifier:
    """Sends PagerDuty Events API v2 events: ``trigger`` (also on escalation, which
    updates the incident) and ``resolve``, keyed by the alert id as ``dedup_key``.

    ``url`` defaults to PagerDuty's endpoint; point it elsewhere for a proxy or a test.

    Example::

        notifier = PagerDutyNotifier(routing_key="R0UT1NGKEY", source="api-gateway")
    """

    name = "pagerduty"
    events = DEFAULT_EVENTS

    def __init__(
        self,
        routing_key: str,
        *,
        url: str = "https://events.pagerduty.com/v2/enqueue",
        source: str | None = None,
        component: str | None = None,
        group: str | None = None,
        event_class: str | None = None,
        timeout: float = 5.0,
        events: Iterable[str] | None = None,
    ) -> None:
        if not routing_key:
            raise ValueError("PagerDutyNotifier needs a routing_key (integration key)")
        self.routing_key = routing_key
        self.url = check_url(url, "PagerDutyNotifier")
        self.source = source or socket.gethostname()
        self.component = component
        self.group = group
        self.event_class = event_class
        self.timeout = timeout
        self.events = choose_events(events, type(self).events)

    def payload(self, notification: Notification) -> dict[str, Any]:
        """The JSON body sent for ``notification``."""
        a = notification.alert
        body: dict[str, Any] = {
            "routing_key": self.routing_key,
            "event_action": "trigger" if notification.firing else "resolve",
            "dedup_key": a.id,
        }
        if notification.firing:
            payload: dict[str, Any] = {
                "summary": f"{a.title}: {a.message}"[:1024],
                "source": self.source,
                # Our severities are exactly PagerDuty's four.
                "severity": a.severity.value,
                "timestamp": rfc3339(a.created_at),
                "custom_details": {**a.context, "occurrences": a.occurrences},
            }
            for key, attr in (("component", "component"), ("group", "group")):
                if getattr(self, attr):
                    payload[key] = getattr(self, attr)
            if self.event_class:
                payload["class"] = self.event_class
            body["payload"] = payload
        return body

    def send(self, notification: Notification) -> None:
        post_json(self.url, self.payload(notification), timeout=self.timeout)


class AlertmanagerNotifier:
    """Pushes alerts to a Prometheus Alertmanager through its v2 API (``POST
    /api/v2/alerts``), so its routing, grouping, silences and receivers take over.

    Alertmanager resolves an alert it has not heard of for ``resolve_timeout`` (5 min by
    default); this notifier therefore also sends ``repeated`` notifications (a rule that
    keeps firing re-triggers after its cooldown) and, on resolve, an ``endsAt`` in the past.

    Example::

        notifier = AlertmanagerNotifier("http://127.0.0.1:9093",
                                        generator_url="http://grafana.local/d/api")
    """

    name = "alertmanager"
    events = frozenset({"triggered", "escalated", "repeated", "resolved"})

    def __init__(
        self,
        url: str = "http://127.0.0.1:9093",
        *,
        generator_url: str = "",
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        events: Iterable[str] | None = None,
    ) -> None:
        self.url = check_url(url, "AlertmanagerNotifier").rstrip("/")
        self.generator_url = generator_url
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.events = choose_events(events, type(self).events)

    def payload(self, notification: Notification) -> list[dict[str, Any]]:
        """The JSON body sent for ``notification``."""
        a = notification.alert
        base: dict[str, Any] = {
            "annotations": alert_annotations(a),
            "startsAt": rfc3339(a.created_at),
        }
        if self.generator_url:
            base["generatorURL"] = self.generator_url
        items = []
        # ``severity`` is a label, so each severity the alert had is a distinct
        # Alertmanager alert: end the lower ones on escalation, and all of them on resolve.
        ended_at = rfc3339(a.resolved_at or a.updated_at)
        for sev in sorted({e.severity for e in a.history} | {a.severity}):
            firing = notification.firing and sev is a.severity
            item = {**base, "labels": labels(a.with_changes(severity=sev))}
            if not firing:
                item["endsAt"] = ended_at
            items.append(item)
        return items

    def send(self, notification: Notification) -> None:
        post_json(
            self.url + "/api/v2/alerts",
            self.payload(notification),
            timeout=self.timeout,
            headers=self.headers,
        )


class HubNotifier(AlertmanagerNotifier):
    """Sends alerts to the berrys-monitoring hub, where they join the rules' alerts in one
    list (``source: library``) with history, acknowledgement and silences.

    The hub speaks Alertmanager's v2 API, so this is an :class:`AlertmanagerNotifier`
    whose address and token default to the service's own hub settings:
    ``BERRYS_MONITORING_HUB_URL`` and ``BERRYS_MONITORING_TOKEN``.

    Example::

        >>> HubNotifier("http://127.0.0.1:4318").url
        'http://127.0.0.1:4318'
    """

    name = "hub"

    def __init__(
        self,
        url: str | None = None,
        *,
        generator_url: str = "",
        headers: dict[str, str] | None = None,
        timeout: float = 5.0,
        events: Iterable[str] | None = None,
    ) -> None:
        url = url or os.environ.get(HUB_URL_ENV)
        if not url:
            raise ValueError(f"HubNotifier needs the hub's URL: pass url= or set {HUB_URL_ENV}")
        super().__init__(
            url,
            generator_url=generator_url,
            headers={**(hub_auth_headers() or {}), **(headers or {})},
            timeout=timeout,
            events=events,
        )
