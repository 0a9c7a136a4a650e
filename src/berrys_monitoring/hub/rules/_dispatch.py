"""The notification dispatcher: Alertmanager's pipeline over the hub's alert store.

Every firing (and freshly resolved) alert, whatever its source, is routed through the
route tree into groups (``group_by``); a new group waits ``group_wait``, then is looked at
every ``group_interval``. Silenced and inhibited alerts are left out. A group notifies
when it has new firing alerts, newly resolved ones, or ``repeat_interval`` has passed since
its last notification, which the notification log (in the store) remembers across
restarts; the notification itself goes into the outbox in the same transaction.
https://github.com/prometheus/alertmanager/blob/main/notify/notify.go (DedupStage)
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from berrys_monitoring.alerts._payloads import ZERO_TIME
from berrys_monitoring.hub._time import format_rfc3339_ns
from berrys_monitoring.hub.rules._inhibit import inhibited
from berrys_monitoring.hub.rules._receivers import group_message
from berrys_monitoring.hub.rules._routing import AlertingConfig, Route
from berrys_monitoring.hub.rules._silences import silenced_by
from berrys_monitoring.hub.rules._thread import WakeableThread
from berrys_monitoring.hub.store import AlertQuery, Store

__all__ = ["Dispatcher", "needs_update"]

log = logging.getLogger("berrys_monitoring.hub.notifications")

#: Resolved alerts older than this are not looked at any more.
_RESOLVED_HORIZON_NS = 3600 * 10**9
_FAR_NS = 10**18 * 4  # an end this far away means "until resolved"


def needs_update(
    entry: tuple[set[str], set[str], int] | None,
    firing: set[str],
    resolved: set[str],
    repeat_ns: int,
    now_ns: int,
) -> bool:
    """Alertmanager's ``DedupStage.needsUpdate`` over a notification log entry
    (firing, resolved, sent_ns).

    Example::

        >>> needs_update(None, {"a"}, set(), 60, 100)
        True
        >>> needs_update(({"a"}, set(), 90), {"a"}, set(), 60, 100)
        False
        >>> needs_update(({"a"}, set(), 30), {"a"}, set(), 60, 100)  # repeat_interval passed
        True
        >>> needs_update(({"a"}, set(), 90), set(), {"a"}, 60, 100)  # all resolved
        True
    """
    if entry is None:
        return bool(firing)
    was_firing, was_resolved, sent_ns = entry
    if not firing <= was_firing:
        return True
    if not firing:
        return bool(was_firing)
    if not resolved <= was_resolved:
        return True
    return sent_ns <= now_ns - repeat_ns


@dataclasses.dataclass
class _Timer:
    next_flush_ns: int


def webhook_alert(alert: Mapping[str, Any]) -> dict[str, Any]:
    """A stored alert in the webhook message's form."""
    resolved = alert["state"] == "resolved"
    ends = int(alert["ends_ns"])  # type: ignore[call-overload]
    return {
        "status": "resolved" if resolved else "firing",
        "labels": alert["labels"],
        "annotations": alert["annotations"],
        "startsAt": format_rfc3339_ns(int(alert["starts_ns"])),
        "endsAt": format_rfc3339_ns(ends) if resolved or ends < _FAR_NS else ZERO_TIME,
        "generatorURL": alert["generator_url"],
        "fingerprint": alert["fingerprint"],
    }


def _group_key(route: Route, group_labels: Mapping[str, str]) -> str:
    body = ",".join(f"{k}={orjson.dumps(v).decode()}" for k, v in sorted(group_labels.items()))
    return f"{route.id}:{{{body}}}"


class Dispatcher(WakeableThread):
    """Routes, groups, de-duplicates and queues notifications (see the module's text).

    ``config`` returns the current :class:`AlertingConfig` (``None``: notify nobody).
    """

    def __init__(
        self,
        store: Store,
        config: Callable[[], AlertingConfig | None],
        *,
        external_url: str = "",
        tick_s: float = 1.0,
        retention_s: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.retention_s = retention_s
        self._pruned_s = 0.0
        self._config = config
        self.external_url = external_url
        self.tick_s = tick_s
        self._clock = clock
        self._timers: dict[tuple[str, str], _Timer] = {}
        super().__init__("hub-dispatch")

    def prune(self) -> None:
        """Hourly, forget alerts resolved (and silences expired) longer ago than the hub's
        retention."""
        now = self._clock()
        if self.retention_s is None or now - self._pruned_s < 3600:
            return
        self._pruned_s = now
        gone = self.store.prune_alerts(int((now - self.retention_s) * 1e9)).result(timeout=60)
        if gone:
            log.info("forgot %d alert(s) resolved more than the retention ago", gone)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.prune()
                self.tick()
            except Exception:  # the next tick tries again; never a dead dispatcher
                log.exception("dispatching notifications failed")
            # look again at the next group timer, after tick_s at the latest (alerts pushed
            # to the store meanwhile), or at once when woken (a rule fired, a silence...)
            now_ns = int(self._clock() * 1e9)
            due = min((t.next_flush_ns for t in self._timers.values()), default=None)
            wait = self.tick_s if due is None else min(self.tick_s, max(due - now_ns, 0) / 1e9)
            self._wake.wait(wait)
            self._wake.clear()

    def muted(
        self, alerts: list[dict[str, Any]], config: AlertingConfig, now_ns: int
    ) -> dict[str, str]:
        """fingerprint -> why (``silenced`` or ``inhibited``) for the alerts that send nothing."""
        silences = self.store.silences()
        firing = [(a["fingerprint"], a["labels"]) for a in alerts if a["state"] == "firing"]
        out: dict[str, str] = {}
        for a in alerts:
            if silenced_by(a["labels"], silences, now_ns):
                out[a["fingerprint"]] = "silenced"
            elif config.inhibit_rules and inhibited(
                a["labels"], a["fingerprint"], firing, config.inhibit_rules
            ):
                out[a["fingerprint"]] = "inhibited"
        return out

    def current_alerts(self, now_ns: int) -> list[dict[str, Any]]:
        firing = self.store.list_alerts(AlertQuery(state="firing", limit=100_000))
        resolved = [
            a
            for a in self.store.list_alerts(AlertQuery(state="resolved", limit=10_000))
            if int(a["ends_ns"]) > now_ns - _RESOLVED_HORIZON_NS  # type: ignore[call-overload]
        ]
        return [dict(a) for a in firing + resolved]

    def tick(self) -> int:
        """One pass over every group; returns how many notifications were queued."""
        config = self._config()
        if config is None:
            return 0
        now_ns = int(self._clock() * 1e9)
        alerts = self.current_alerts(now_ns)
        muted = self.muted(alerts, config, now_ns)
        groups: dict[tuple[str, str], tuple[Route, dict[str, str], list[dict[str, Any]]]] = {}
        for a in alerts:
            for route in config.route.match(a["labels"]):
                labels = route.group_labels(a["labels"])
                key = (_group_key(route, labels), route.receiver)
                groups.setdefault(key, (route, labels, []))[2].append(a)
        nflog = self.store.notify_log()
        queued = 0
        for key in [k for k in self._timers if k not in groups]:
            del self._timers[key]
        done = [k for k, entry in nflog.items() if k not in groups and not entry[0]]
        for key, (route, group_labels, members) in groups.items():
            group_key, receiver_name = key
            entry = nflog.get(key)
            was_firing = entry[0] if entry else set()
            firing = [
                a for a in members if a["state"] == "firing" and a["fingerprint"] not in muted
            ]
            resolved = [
                a
                for a in members
                if a["state"] == "resolved"
                and a["fingerprint"] in was_firing
                and a["fingerprint"] not in muted
            ]
            if not firing and not resolved:
                self._timers.pop(key, None)
                if entry is not None and not entry[0]:
                    done.append(key)  # told everything: its log entry can go
                continue
            timer = self._timers.get(key)
            if timer is None:
                timer = self._timers[key] = _Timer(now_ns + int(route.group_wait_s * 1e9))
            if now_ns < timer.next_flush_ns:
                continue
            timer.next_flush_ns = now_ns + int(route.group_interval_s * 1e9)
            firing_fps = {a["fingerprint"] for a in firing}
            resolved_fps = {a["fingerprint"] for a in resolved}
            repeat_ns = int(route.repeat_interval_s * 1e9)
            if not needs_update(entry, firing_fps, resolved_fps, repeat_ns, now_ns):
                continue
            receiver = config.receivers[receiver_name]
            payloads = []
            for index, (_kind, settings) in enumerate(receiver.integrations):
                items = firing + (resolved if settings.get("send_resolved") else [])
                items.sort(key=lambda a: sorted(a["labels"].items()))  # a stable order
                if not items:
                    continue
                message = group_message(
                    receiver=receiver_name,
                    group_key=group_key,
                    group_labels=group_labels,
                    alerts=[webhook_alert(a) for a in items],
                    external_url=self.external_url,
                    max_alerts=int(settings.get("max_alerts", 0) or 0),
                )
                payloads.append((index, orjson.dumps(message).decode()))
            self.store.record_notification(
                group_key, receiver_name, sorted(firing_fps), sorted(resolved_fps), now_ns,
                payloads,
            ).result(timeout=60)  # fmt: skip
            queued += len(payloads)
        if done:
            self.store.forget_notify_groups(done).result(timeout=60)
        return queued
