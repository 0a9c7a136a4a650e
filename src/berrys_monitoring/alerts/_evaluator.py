"""The rule evaluator: reads metric values on an interval and checks every rule, so
rules run without user code calling ``.check()``."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from berrys_monitoring._internal import count_event, report_internal_error

if TYPE_CHECKING:  # rules import the default manager, which starts evaluators
    from berrys_monitoring.alerts._rules import AlertRule

__all__ = ["RuleEvaluator", "ValueSource"]

#: ``(metric_name, tags) -> value or None``; the default reads the metrics registry.
ValueSource = Callable[[str, "dict[str, str] | None"], "float | None"]


def _metrics_value(name: str, tags: dict[str, str] | None) -> float | None:
    # Imported lazily: alerting must not pull the metrics package in unless it is used.
    from berrys_monitoring.metrics import current_value

    value = current_value(name, dict(tags) if tags else None)
    return None if value is None else float(value)


class RuleEvaluator:
    """Checks ``rules`` every ``interval`` seconds on a daemon thread.

    Values come from ``value_source(metric_name, tags)``, by default
    :func:`berrys_monitoring.metrics.current_value` (counter total, gauge value, or
    histogram/timer sum of the facade metric). A rule whose value is missing is skipped;
    a rule or source that raises is logged once, counted, and does not stop the others.

    Example::

        >>> from berrys_monitoring.alerts import AlertManager, AlertRule, RuleEvaluator
        >>> from berrys_monitoring.alerts import threshold_above
        >>> readings = {"queue_depth": 120.0}
        >>> rule = AlertRule("backlog", "queue_depth", threshold_above(100), "Backlog",
        ...                  "{value:g} jobs waiting", manager=AlertManager())
        >>> ev = RuleEvaluator([rule], interval=30, value_source=lambda n, t: readings.get(n))
        >>> fired = ev.evaluate_once()
        >>> rule.manager.get(fired["backlog"]).message
        '120 jobs waiting'
    """

    def __init__(
        self,
        rules: Iterable[AlertRule] = (),
        *,
        interval: float = 15.0,
        value_source: ValueSource | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError(f"RuleEvaluator interval must be > 0, got {interval!r}")
        self.interval = float(interval)
        self.rules: list[AlertRule] = list(rules)
        self.value_source: ValueSource = value_source or _metrics_value
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add_rule(self, rule: AlertRule) -> None:
        """Evaluate ``rule`` from the next round on."""
        with self._lock:
            self.rules.append(rule)

    def evaluate_once(self) -> dict[str, str | None]:
        """Check every rule now; map rule name to the alert id it fired (or None)."""
        with self._lock:
            rules = list(self.rules)
        results: dict[str, str | None] = {}
        for rule in rules:
            results[rule.name] = None
            try:
                value = self.value_source(rule.metric_name, rule.tags)
                results[rule.name] = rule.check(value)
            except Exception as exc:
                count_event("alerts", "rule_evaluation_failed")
                report_internal_error(
                    "alerts", exc, f"rule {rule.name!r} failed", key=f"rule:{rule.name}"
                )
        count_event("alerts", "evaluation_rounds")
        return results

    def _run(self) -> None:
        while not self._stop.is_set():
            self.evaluate_once()
            self._stop.wait(self.interval)

    @property
    def running(self) -> bool:
        """True while the background thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> RuleEvaluator:
        """Start evaluating in the background (idempotent); returns self."""
        if not self.running:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._run, name="berrys-alerts-evaluator", daemon=True
            )
            self._thread.start()
        return self

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop the background thread, waiting up to ``timeout`` for the current round."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._thread = None

    def __enter__(self) -> RuleEvaluator:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
