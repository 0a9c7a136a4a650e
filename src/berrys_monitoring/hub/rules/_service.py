"""The hub's rules side as one unit: rule files and the Alertmanager configuration loaded
from the hub's config, the evaluator, the dispatcher and the outbox worker, started and
stopped together and reloaded without a restart."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from berrys_monitoring.hub.config import HubConfig
from berrys_monitoring.hub.rules._delivery import OutboxWorker
from berrys_monitoring.hub.rules._dispatch import Dispatcher
from berrys_monitoring.hub.rules._evaluator import InstantQueryBackend, RuleEvaluator
from berrys_monitoring.hub.rules._routing import (
    AlertingConfig,
    RoutingError,
    load_alerting_config,
    parse_alerting_config,
)
from berrys_monitoring.hub.rules._rulefile import RuleFileError, RuleGroup, load_rule_files
from berrys_monitoring.hub.store import Store

__all__ = ["ReloadError", "RulesService", "alerting_document"]

log = logging.getLogger("berrys_monitoring.hub.rules")

#: Without a configuration, every notification is a line in the hub's log.
DEFAULT_ALERTING: dict[str, Any] = {
    "route": {"receiver": "log", "group_by": ["alertname"]},
    "receivers": [{"name": "log", "log_configs": [{}]}],
}


class ReloadError(ValueError):
    """The rule files or the Alertmanager configuration are invalid; nothing was changed."""


def alerting_document(inline: dict[str, Any]) -> dict[str, Any]:
    """Alertmanager's configuration from the hub's inline ``alerting`` block; Prometheus'
    ``alertmanagers`` list becomes a route to those Alertmanagers.

    Example::

        >>> doc = alerting_document({"alertmanagers": [
        ...     {"static_configs": [{"targets": ["127.0.0.1:9093"]}]}]})
        >>> doc["receivers"][0]["alertmanager_configs"]
        [{'url': 'http://127.0.0.1:9093'}]
    """
    if "alertmanagers" not in inline:
        return inline
    targets = []
    for am in inline["alertmanagers"] or []:
        scheme = am.get("scheme", "http")
        prefix = am.get("path_prefix", "").rstrip("/")
        for static in am.get("static_configs") or []:
            targets += [f"{scheme}://{t}{prefix}" for t in static.get("targets") or []]
    return {
        "route": {"receiver": "alertmanagers", "group_by": ["..."], "group_wait": "0s",
                  "group_interval": "1m", "repeat_interval": "1m"},
        "receivers": [{"name": "alertmanagers",
                       "alertmanager_configs": [{"url": t} for t in targets]}],
    }  # fmt: skip


class RulesService:
    """Loads the rules and routing named in ``config`` (raising at once when invalid) and
    runs them once :meth:`start` is called. ``backend`` returns the hub's query backend."""

    def __init__(
        self,
        config: HubConfig,
        store: Store,
        backend: Callable[[], InstantQueryBackend | None],
        *,
        tick_s: float = 1.0,
    ) -> None:
        self.config = config
        self.store = store
        self._lock = threading.Lock()
        self.groups, self.alerting = self._load()
        self.evaluator = RuleEvaluator(store, backend, on_change=self._changed)
        self.evaluator.set_groups(self.groups)
        self.dispatcher = Dispatcher(
            store, lambda: self.alerting, tick_s=tick_s, retention_s=config.retention_seconds
        )
        self.outbox = OutboxWorker(store, lambda: self.alerting)

    def _load(self) -> tuple[list[RuleGroup], AlertingConfig]:
        try:
            groups = load_rule_files(
                self.config.rule_files, default_interval_s=float(self.config.evaluation_interval)
            )
            if self.config.alertmanager_config:
                alerting = load_alerting_config(self.config.alertmanager_config)
            else:
                doc = alerting_document(self.config.alerting or DEFAULT_ALERTING)
                alerting = parse_alerting_config(doc, source="alerting")
        except (RuleFileError, RoutingError) as exc:
            raise ReloadError(str(exc)) from None
        return groups, alerting

    def _changed(self) -> None:
        self.dispatcher.wake()

    def reload(self) -> int:
        """Read the rule files and the Alertmanager configuration again; on an error the
        running ones stay. Returns the number of rule groups."""
        with self._lock:
            groups, alerting = self._load()
            self.alerting = alerting
            self.groups = groups
            self.evaluator.set_groups(groups)
        self.dispatcher.wake()
        log.info("reloaded %d rule group(s)", len(groups))
        return len(groups)

    def reload_logged(self) -> None:
        try:
            self.reload()
        except ReloadError as exc:
            log.error("reload failed, keeping the running rules: %s", exc)

    def start(self) -> None:
        self.evaluator.start()
        self.dispatcher.start()
        self.outbox.start()

    def stop(self) -> None:
        self.evaluator.stop()
        self.dispatcher.stop()
        self.outbox.stop()
