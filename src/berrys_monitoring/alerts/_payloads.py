"""Alertmanager-style labels, annotations and payloads, shared by the HTTP notifiers."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx

from berrys_monitoring.alerts._delivery import DeliveryError, PermanentDeliveryError
from berrys_monitoring.alerts._model import Alert, Notification

_LABEL_NAME = re.compile(r"[^a-zA-Z0-9_]")
#: Alertmanager's "zero time": an alert still firing has no end.
ZERO_TIME = "0001-01-01T00:00:00Z"


def rfc3339(dt: datetime) -> str:
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def label_name(key: str) -> str:
    name = _LABEL_NAME.sub("_", str(key)) or "_"
    return "_" + name if name[0].isdigit() else name


def labels(alert: Alert) -> dict[str, str]:
    """Identity labels: alertname (the title), severity, the context, and the rule."""
    out = {label_name(k): str(v) for k, v in alert.context.items()}
    out["alertname"] = alert.title
    out["severity"] = alert.severity.value
    if alert.rule:
        out["rule"] = alert.rule
    return out


def alert_annotations(alert: Alert) -> dict[str, str]:
    out = {
        "summary": alert.title,
        "description": alert.message,
        "alert_id": alert.id,
        "occurrences": str(alert.occurrences),
        "state": alert.state.value,
    }
    if alert.value is not None:
        out["value"] = f"{alert.value:g}"
    if alert.resolved_at is not None and alert.history:
        out["resolution"] = alert.history[-1].message
    return out


def webhook_alert(n: Notification, generator_url: str) -> dict[str, Any]:
    a = n.alert
    return {
        "status": "firing" if n.firing else "resolved",
        "labels": labels(a),
        "annotations": alert_annotations(a),
        "startsAt": rfc3339(a.created_at),
        "endsAt": rfc3339(a.resolved_at) if a.resolved_at else ZERO_TIME,
        "generatorURL": generator_url,
        "fingerprint": a.fingerprint,
    }


def safe_url(url: str) -> str:
    """Scheme, host and port only: webhook URLs and keys are secrets."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


def check_url(url: str, what: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what}: not an http(s) URL: {safe_url(url)!r}")
    return url


def post_json(
    url: str, body: Any, *, timeout: float, headers: dict[str, str] | None = None
) -> None:
    """POST ``body``; retryable DeliveryError on network/5xx/429, permanent on other 4xx."""
    try:
        with httpx.Client(timeout=timeout) as client:
            response = client.post(url, json=body, headers=headers)
    except httpx.HTTPError as exc:
        raise DeliveryError(f"POST {safe_url(url)} failed: {type(exc).__name__}") from None
    status = response.status_code
    if status >= 500 or status in (408, 429):
        raise DeliveryError(f"POST {safe_url(url)} answered {status}")
    if status >= 400:
        raise PermanentDeliveryError(
            f"POST {safe_url(url)} answered {status}: {response.text[:200]}"
        )
