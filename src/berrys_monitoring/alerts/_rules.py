"""Alert rules: a condition on one metric, with a ``for`` duration, a cooldown and
automatic resolution when the condition clears."""

from __future__ import annotations

import math
import string
import threading
from typing import TYPE_CHECKING, Any

from berrys_monitoring.alerts._conditions import Condition
from berrys_monitoring.alerts._default import get_alert_manager
from berrys_monitoring.alerts._model import AlertSeverity, coerce_severity

if TYPE_CHECKING:
    from berrys_monitoring.alerts._manager import AlertManager

__all__ = ["AlertRule"]


class _Lenient(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _render(template: str, fields: dict[str, Any]) -> str:
    if "{" not in template:
        return template
    try:
        return string.Formatter().vformat(template, (), _Lenient(fields))
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        return template  # a malformed template is shown as written, never an error


class AlertRule:
    """Fire an alert when ``condition(value)`` holds for a metric.

    * ``for_duration``: seconds the condition must hold before the alert fires (the rule
      is *pending* until then), like Prometheus' ``for:``.
    * ``cooldown_period``: after firing, the rule does not fire again for this many
      seconds (a still-active alert is then re-triggered, which counts an occurrence).
    * ``auto_resolve``: when the condition clears, the active alert this rule created is
      resolved (an alert created by another rule or by hand is left alone).

    ``alert_message`` may use ``{value}``, ``{metric}``, ``{rule}`` and ``{threshold}``
    (the condition's description). ``tags`` select the metric's labels when a
    :class:`RuleEvaluator` reads the value. ``manager`` defaults to the module default.

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, AlertRule, threshold_above
        >>> rule = AlertRule("slow", "latency_ms", threshold_above(500), "Slow API",
        ...                  "p95 is {value:.0f} ms", "warning", {"service": "api"},
        ...                  cooldown_period=0, manager=AlertManager())
        >>> alert_id = rule.check(730)
        >>> rule.manager.get(alert_id).message
        'p95 is 730 ms'
        >>> rule.check(120) is None, rule.manager.get(alert_id).state.value
        (True, 'resolved')
    """

    def __init__(
        self,
        name: str,
        metric_name: str,
        condition: Condition,
        alert_title: str,
        alert_message: str,
        severity: AlertSeverity | str = AlertSeverity.WARNING,
        context: dict[str, Any] | None = None,
        cooldown_period: float = 300.0,
        *,
        for_duration: float = 0.0,
        auto_resolve: bool = True,
        resolve_message: str | None = None,
        tags: dict[str, str] | None = None,
        manager: AlertManager | None = None,
    ) -> None:
        if not name or not metric_name or not alert_title:
            raise ValueError("AlertRule needs a name, a metric_name and an alert_title")
        if not callable(condition):
            raise TypeError(f"AlertRule {name!r}: condition must be callable, got {condition!r}")
        if cooldown_period < 0 or for_duration < 0:
            raise ValueError(f"AlertRule {name!r}: cooldown_period and for_duration must be >= 0")
        self.name = name
        self.metric_name = metric_name
        self.condition = condition
        self.alert_title = alert_title
        self.alert_message = alert_message
        self.severity = coerce_severity(severity)
        self.context = dict(context or {})
        self.cooldown_period = float(cooldown_period)
        self.for_duration = float(for_duration)
        self.auto_resolve = auto_resolve
        self.resolve_message = resolve_message
        self.tags = dict(tags) if tags else None
        self._manager = manager
        self._lock = threading.Lock()
        self._pending_since: float | None = None
        self._last_fired: float | None = None
        self._last_fired_loaded = False
        self._may_have_alert = True  # unknown after a restart: ask the store once

    @property
    def manager(self) -> AlertManager:
        """The manager this rule triggers alerts on (the default one unless given)."""
        return self._manager or get_alert_manager()

    @property
    def state(self) -> str:
        """``inactive``, ``pending`` (condition true, ``for_duration`` not yet over) or ``firing``."""
        if self._pending_since is None:
            return "inactive"
        held = self.manager.clock() - self._pending_since
        return "firing" if held >= self.for_duration else "pending"

    def _fields(self, value: float) -> dict[str, Any]:
        return {
            "value": value,
            "metric": self.metric_name,
            "rule": self.name,
            "threshold": getattr(self.condition, "description", ""),
        }

    def check(self, value: float | None) -> str | None:
        """Evaluate the rule against ``value``; return the alert id if it fired now.

        ``None`` or NaN means "no data" and changes nothing. An exception raised by a
        custom condition propagates unchanged (the evaluator logs and counts it instead).
        """
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        manager = self.manager
        with self._lock:
            now = manager.clock()
            if not self.condition(value):
                self._pending_since = None
                if self.auto_resolve and self._may_have_alert:
                    active = manager.find_active(self.alert_title, self.context)
                    # Only our own alert: a second rule sharing the title (a critical
                    # tier escalating a warning one) must not resolve it when it clears.
                    if active is not None and active.rule == self.name:
                        message = self.resolve_message or (
                            f"{self.name}: condition cleared ({self.metric_name}={value:g})"
                        )
                        manager.resolve(active.id, _render(message, self._fields(value)))
                    self._may_have_alert = False
                return None
            if self._pending_since is None:
                self._pending_since = now
            if now - self._pending_since < self.for_duration:
                return None
            if not self._last_fired_loaded:
                self._last_fired = manager.store.rule_last_fired(self.name)
                self._last_fired_loaded = True
            if self._last_fired is not None and now - self._last_fired < self.cooldown_period:
                return None
            alert_id = manager.trigger(
                self.alert_title,
                _render(self.alert_message, self._fields(value)),
                self.severity,
                self.context,
                rule=self.name,
                value=float(value),
            )
            self._last_fired = now
            self._may_have_alert = True
            manager.store.set_rule_last_fired(self.name, now)
            return alert_id

    def __repr__(self) -> str:
        return f"AlertRule({self.name!r}, metric={self.metric_name!r}, state={self.state!r})"
