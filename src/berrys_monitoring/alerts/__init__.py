"""Alerting: trigger, acknowledge and resolve alerts; rules over metrics; notifiers.

Alerts are de-duplicated (same title and context), escalate when re-triggered with a
higher severity, keep a timestamped history, and persist in SQLite so they survive a
restart. Notifiers (log, webhook, Slack, email, PagerDuty, Alertmanager) are called off
the caller's thread with retries; a failing receiver never breaks the application.

Example::

    from berrys_monitoring.alerts import trigger_alert, resolve_alert, AlertSeverity

    alert_id = trigger_alert("High CPU Usage", "CPU usage is above 90%",
                             AlertSeverity.WARNING, {"service": "api-gateway"})
    resolve_alert(alert_id, resolution_message="CPU usage returned to normal")
"""

from __future__ import annotations

from berrys_monitoring.alerts._api import (
    get_alert,
    list_alerts,
    resolve_alert,
    trigger_alert,
    update_alert,
)
from berrys_monitoring.alerts._conditions import (
    Condition,
    threshold_above,
    threshold_below,
    threshold_outside_range,
)
from berrys_monitoring.alerts._default import configure_alerts, get_alert_manager
from berrys_monitoring.alerts._delivery import DeliveryError, PermanentDeliveryError
from berrys_monitoring.alerts._email import EmailNotifier
from berrys_monitoring.alerts._evaluator import RuleEvaluator
from berrys_monitoring.alerts._http_notifiers import (
    AlertmanagerNotifier,
    HubNotifier,
    PagerDutyNotifier,
    SlackNotifier,
    WebhookNotifier,
)
from berrys_monitoring.alerts._manager import AlertManager, AlertNotFoundError
from berrys_monitoring.alerts._model import (
    Alert,
    AlertEvent,
    AlertSeverity,
    AlertState,
    Notification,
)
from berrys_monitoring.alerts._notifiers import InMemoryNotifier, LogNotifier, Notifier
from berrys_monitoring.alerts._prometheus_source import PrometheusValueSource
from berrys_monitoring.alerts._rules import AlertRule
from berrys_monitoring.alerts._store import SQLiteAlertStore

__all__ = [
    "Alert",
    "AlertEvent",
    "AlertManager",
    "AlertNotFoundError",
    "AlertRule",
    "AlertSeverity",
    "AlertState",
    "AlertmanagerNotifier",
    "Condition",
    "DeliveryError",
    "EmailNotifier",
    "HubNotifier",
    "InMemoryNotifier",
    "LogNotifier",
    "Notification",
    "Notifier",
    "PagerDutyNotifier",
    "PermanentDeliveryError",
    "PrometheusValueSource",
    "RuleEvaluator",
    "SQLiteAlertStore",
    "SlackNotifier",
    "WebhookNotifier",
    "configure_alerts",
    "get_alert",
    "get_alert_manager",
    "list_alerts",
    "resolve_alert",
    "threshold_above",
    "threshold_below",
    "threshold_outside_range",
    "trigger_alert",
    "update_alert",
]
