"""The rule evaluator: every group on its interval, each alerting rule's alerts through
inactive -> pending -> firing (after ``for``) -> resolved, kept firing for
``keep_firing_for``, exactly as Prometheus' ``AlertingRule.Eval``; recording rules write
their samples back to the store. The state is written to the store at every evaluation, so
a restarted hub carries on where it stopped: a firing alert keeps firing, with its start.
https://github.com/prometheus/prometheus/blob/main/rules/alerting.go
"""

from __future__ import annotations

import dataclasses
import decimal
import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import orjson

from berrys_monitoring.hub.ingest._alertmanager import fingerprint
from berrys_monitoring.hub.ingest._scrape import STALE_NAN, is_stale
from berrys_monitoring.hub.rules._rulefile import AlertingRule, RecordingRule, RuleGroup
from berrys_monitoring.hub.rules._template import Template, TemplateError
from berrys_monitoring.hub.rules._thread import WakeableThread
from berrys_monitoring.hub.store import Batch, Sample, Store
from berrys_monitoring.hub.store._alerting import AlertChanges, AlertEventRow, RuleAlertState

__all__ = ["InstantQueryBackend", "RuleEvaluator", "RuleStatus", "rule_key"]

log = logging.getLogger("berrys_monitoring.hub.rules")

#: How long a resolved alert is kept (and sent as resolved), as Prometheus' resolvedRetention.
RESOLVED_RETENTION_NS = 15 * 60 * 10**9
#: "Firing until the evaluator says otherwise": rule alerts end only when resolved.
NEVER_NS = 2**63 - 1
#: Prometheus' ``rules.alert.for-outage-tolerance``: an alert the hub last evaluated longer
#: ago than this is not carried on after a restart (its condition went unobserved).
OUTAGE_TOLERANCE_S = 3600.0
#: Prometheus' ``rules.alert.for-grace-period``: a restored pending alert fires no sooner
#: than this after the restart (for rules whose ``for`` is at least as long).
FOR_GRACE_PERIOD_S = 600.0


class InstantQueryBackend(Protocol):
    """What the evaluator needs of contract 1's ``QueryBackend``."""

    def instant_query(self, query: str, time_s: float) -> Any: ...


def rule_key(group: RuleGroup, rule: AlertingRule | RecordingRule) -> str:
    """A rule's identity across reloads and restarts: its group, name, query and labels.

    Example::

        >>> g = RuleGroup("api", "api.yml", 60.0, ())
        >>> rule_key(g, AlertingRule("Down", "up == 0"))[:17]
        'api.yml;api;Down;'
    """
    body = orjson.dumps([rule.expr, dict(rule.labels)], option=orjson.OPT_SORT_KEYS)
    return f"{group.key};{rule.name};{hashlib.sha256(body).hexdigest()[:12]}"


@dataclasses.dataclass
class RuleStatus:
    health: str = "unknown"  # ok, err, unknown (not evaluated yet)
    last_error: str = ""
    last_evaluation_s: float = 0.0
    evaluation_time_s: float = 0.0


class RuleError(Exception):
    pass


def _samples(data: Any) -> list[tuple[dict[str, str], float]]:
    """(labels, value) of an instant query's Prometheus JSON ``data``."""
    kind = data.get("resultType")
    if kind == "vector":
        return [(dict(s["metric"]), float(s["value"][1])) for s in data.get("result", [])]
    if kind == "scalar":
        return [({}, float(data["result"][1]))]
    raise RuleError(f"rule result is not a vector or scalar: {kind}")


def _ns(seconds: float) -> int:
    return round(seconds * 1e9)


class RuleEvaluator(WakeableThread):
    """Evaluates rule groups on their intervals against a query backend.

    ``backend`` is a callable that returns the hub's query backend (``None`` while there
    is none), looked up at every evaluation. ``clock`` gives Unix seconds.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub.store import SQLiteStore
        >>> class Constant:  # answers every query with one sample of value 1
        ...     def instant_query(self, query, time_s):
        ...         class R: data = {"resultType": "vector",
        ...                          "result": [{"metric": {"job": "api"}, "value": [time_s, "1"]}]}
        ...         return R()
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> ev = RuleEvaluator(store, lambda: Constant())
        >>> g = RuleGroup("g", "f.yml", 1.0, (AlertingRule("Up", "up", for_s=10.0),))
        >>> ev.set_groups([g])
        >>> ev.evaluate_group(g, 1000.0); ev.evaluate_group(g, 1010.0)
        >>> [(a.state, a.labels["alertname"]) for a in ev.alerts(g.rules[0], g)]
        [('firing', 'Up')]
        >>> store.close()
    """

    def __init__(
        self,
        store: Store,
        backend: Callable[[], InstantQueryBackend | None],
        *,
        external_url: str = "",
        external_labels: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self._backend = backend
        self.external_url = external_url
        self.external_labels = dict(external_labels or {})
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.RLock()
        self._groups: list[RuleGroup] = []
        self._states: dict[str, dict[str, RuleAlertState]] = {}
        self._status: dict[str, RuleStatus] = {}
        self._group_status: dict[str, RuleStatus] = {}
        self._next_due: dict[str, float] = {}
        self._last_series: dict[str, set[tuple[tuple[str, str], ...]]] = {}
        self._template_cache: dict[str, tuple[dict[str, Template], dict[str, Template]]] = {}
        self._written: dict[tuple[str, str], tuple[Any, ...]] = {}
        super().__init__("hub-rules")
        self._restored: set[str] = set()  # groups whose restored alerts were looked at
        for state in store.rule_states():
            self._states.setdefault(state.rule, {})[state.fingerprint] = state

    # -- configuration ------------------------------------------------------------------

    @property
    def groups(self) -> list[RuleGroup]:
        with self._lock:
            return list(self._groups)

    def set_groups(self, groups: list[RuleGroup]) -> None:
        """Replace the rules (a reload); alerts of rules that are gone are resolved now."""
        now_ns = _ns(self._clock())
        keep = {rule_key(g, r) for g in groups for r in g.rules}
        changes = AlertChanges()
        with self._lock:
            for key in [k for k in self._states if k not in keep]:
                for fp, st in self._states.pop(key).items():
                    changes.deleted_states.append((key, fp))
                    if st.state != "inactive":
                        st.state, st.resolved_ns = "inactive", now_ns
                        changes.alerts.append(self._row(st))
                        changes.events.append(
                            AlertEventRow(fp, now_ns, "resolved", "", "rule removed")
                        )
            self._groups = list(groups)
            self._next_due = {g.key: self._next_due.get(g.key, 0.0) for g in groups}
        if changes.deleted_states:
            self.store.apply_alert_changes(changes).result(timeout=60)
        self._wake.set()

    # -- reading ------------------------------------------------------------------------

    def alerts(self, rule: AlertingRule, group: RuleGroup) -> list[RuleAlertState]:
        """The rule's active alerts (pending and firing)."""
        with self._lock:
            states = self._states.get(rule_key(group, rule), {})
            return [dataclasses.replace(s) for s in states.values() if s.state != "inactive"]

    def status(
        self, group: RuleGroup, rule: AlertingRule | RecordingRule | None = None
    ) -> RuleStatus:
        with self._lock:
            if rule is None:
                return dataclasses.replace(self._group_status.get(group.key, RuleStatus()))
            return dataclasses.replace(self._status.get(rule_key(group, rule), RuleStatus()))

    # -- running ------------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            now = self._clock()
            wait = 1.0
            for group in self.groups:
                due = self._next_due.get(group.key, 0.0)
                if due <= now:
                    try:
                        self.evaluate_group(group, now)
                    except Exception:  # never let one group stop the others
                        log.exception("evaluating rule group %s failed", group.name)
                    # the next slot on the group's grid; slots missed while busy are skipped
                    nxt = due + group.interval_s if due else now + group.interval_s
                    if nxt <= now:
                        nxt = now + group.interval_s - ((now - due) % group.interval_s)
                    with self._lock:
                        self._next_due[group.key] = nxt
                    due = nxt
                wait = min(wait, max(due - self._clock(), 0.0))
            self._wake.wait(wait)
            self._wake.clear()

    def evaluate_group(self, group: RuleGroup, ts: float) -> None:
        """Evaluate every rule of ``group`` at ``ts`` (Unix seconds), in order, and write
        the result to the store in one transaction."""
        started = time.perf_counter()
        changes = AlertChanges()
        samples: list[Sample] = []
        notify = False
        if group.key not in self._restored:
            self._restored.add(group.key)
            notify |= self._restore(group, ts, changes)
        for rule in group.rules:
            key = rule_key(group, rule)
            t0 = time.perf_counter()
            status = RuleStatus(health="ok", last_evaluation_s=ts)
            try:
                backend = self._backend()
                if backend is None:
                    raise RuleError("the hub has no query backend")
                result = _samples(backend.instant_query(rule.expr, ts).data)
                if isinstance(rule, RecordingRule):
                    written = self._record(rule, result, ts, group.limit)
                else:
                    notify |= self._alert(key, rule, result, ts, changes, group.limit)
                    written = self._alerts_series(key, ts)
                samples += written + self._stale(key, written, ts)
            except Exception as exc:  # a bad rule is shown as unhealthy, the others go on
                status.health, status.last_error = "err", str(exc) or type(exc).__name__
                log.warning("rule %s of group %s: %s", rule.name, group.name, status.last_error)
            status.evaluation_time_s = time.perf_counter() - t0
            with self._lock:
                self._status[key] = status
        if changes.states or changes.deleted_states or changes.alerts:
            self.store.apply_alert_changes(changes).result(timeout=60)
        if samples:
            self.store.submit(Batch(samples=samples)).result(timeout=60)
        with self._lock:
            self._group_status[group.key] = RuleStatus("ok", "", ts, time.perf_counter() - started)
        if notify and self._on_change is not None:
            self._on_change()

    def _last_evaluated(self, since_s: float, until_s: float) -> dict[Any, float]:
        """When each alert was last seen active: the time of its last ``ALERTS_FOR_STATE``
        sample (not a stale marker) since ``since_s``, keyed by that series' labels."""
        start_ms, end_ms = int(since_s * 1000), int(until_s * 1000)
        found = self.store.metric_series("ALERTS_FOR_STATE", start_ms, end_ms)
        if not found:
            return {}
        labels_of = dict(found)
        out: dict[Any, float] = {}
        for sid, (times, values) in self.store.metric_samples(
            list(labels_of), start_ms, end_ms
        ).items():
            live = [int(t) for t, v in zip(times, values, strict=True) if not is_stale(float(v))]
            if live:
                out[labels_of[sid]] = max(live) / 1000
        return out

    def _restore(self, group: RuleGroup, ts: float, changes: AlertChanges) -> bool:
        """After a restart, Prometheus' ``RestoreForState`` over the alerts read back from
        the store: one last evaluated longer ago than the outage tolerance is resolved (it
        starts again as pending if its condition still holds); a pending one does not count
        the time the hub was down towards ``for`` (and waits at least the grace period, or
        its whole ``for`` when that is shorter); a firing one keeps firing, with its start.
        True when an alert stopped firing."""
        ts_ns = _ns(ts)
        with self._lock:
            held = {
                rule_key(group, r): (r, self._states.get(rule_key(group, r), {}))
                for r in group.rules
                if isinstance(r, AlertingRule)
            }
            if not any(st.state != "inactive" for _, sts in held.values() for st in sts.values()):
                return False
            last = self._last_evaluated(ts - OUTAGE_TOLERANCE_S, ts)
            changed = False
            for key, (rule, states) in held.items():
                for fp, st in list(states.items()):
                    if st.state == "inactive":
                        continue
                    series = tuple(sorted({**st.labels, "__name__": "ALERTS_FOR_STATE"}.items()))
                    down = last.get(series)
                    if down is None:  # down longer than the outage tolerance
                        note = "not restored: the hub was down longer than the outage tolerance"
                        if st.state == "firing":
                            st.state, st.resolved_ns = "inactive", ts_ns
                            changes.alerts.append(self._row(st))
                            changes.states.append(dataclasses.replace(st))
                            changed = True
                        else:
                            del states[fp]
                            changes.deleted_states.append((key, fp))
                            st.state, st.resolved_ns = "inactive", ts_ns
                            changes.alerts.append(self._row(st))
                        changes.events.append(AlertEventRow(fp, ts_ns, "resolved", "", note))
                        continue
                    if st.state != "pending":
                        continue
                    remaining = rule.for_s - (down - st.active_ns / 1e9)
                    if remaining <= 0:
                        continue  # it was due to fire: the next evaluation fires it
                    if rule.for_s < FOR_GRACE_PERIOD_S:
                        st.active_ns = ts_ns  # as Prometheus: it waits its whole ``for``
                    elif remaining < FOR_GRACE_PERIOD_S:
                        st.active_ns = _ns(ts + FOR_GRACE_PERIOD_S - rule.for_s)
                    else:
                        st.active_ns += _ns(ts - down)
                    changes.alerts.append(self._row(st))
                    changes.states.append(dataclasses.replace(st))
            return changed

    def _record(
        self,
        rule: RecordingRule,
        result: list[tuple[dict[str, str], float]],
        ts: float,
        limit: int = 0,
    ) -> list[Sample]:
        if limit and len(result) > limit:
            raise RuleError(f"exceeded limit of {limit} with {len(result)} series")
        out, seen = [], set()
        for labels, value in result:
            lbls = {k: v for k, v in labels.items() if k != "__name__"}
            lbls.update(rule.labels)
            lbls["__name__"] = rule.name
            series = tuple(sorted(lbls.items()))
            if series in seen:
                raise RuleError(
                    "vector contains metrics with the same labelset after applying rule labels"
                )
            seen.add(series)
            out.append(Sample(series, int(ts * 1000), value))
        return out

    def _templates(
        self, key: str, rule: AlertingRule
    ) -> tuple[dict[str, Template], dict[str, Template]]:
        """The rule's label and annotation templates, parsed once per rule."""
        cached = self._template_cache.get(key)
        if cached is None:
            cached = self._template_cache[key] = (
                {k: Template(v) for k, v in rule.labels.items()},
                {k: Template(v) for k, v in rule.annotations.items()},
            )
        return cached

    def _render(
        self, templates: dict[str, Template], labels: dict[str, str], value: float
    ) -> dict[str, str]:
        out = {}
        for name, template in templates.items():
            try:
                out[name] = template.render(
                    labels, value, external_labels=self.external_labels,
                    external_url=self.external_url,
                )  # fmt: skip
            except TemplateError as exc:  # as Prometheus: the error becomes the text
                out[name] = f"<error expanding template: {exc}>"
        return out

    def _alerts_series(self, key: str, ts: float) -> list[Sample]:
        """Prometheus' ``ALERTS`` (1 per pending or firing alert, with ``alertstate``) and
        ``ALERTS_FOR_STATE`` (its ``activeAt``), so dashboards can query alert state."""
        out = []
        with self._lock:
            active = [s for s in self._states.get(key, {}).values() if s.state != "inactive"]
        for st in active:
            alerts = {**st.labels, "__name__": "ALERTS", "alertstate": st.state}
            out.append(Sample(tuple(sorted(alerts.items())), int(ts * 1000), 1.0))
            for_state = {**st.labels, "__name__": "ALERTS_FOR_STATE"}
            out.append(Sample(tuple(sorted(for_state.items())), int(ts * 1000), st.active_ns / 1e9))
        return out

    def _stale(self, key: str, written: list[Sample], ts: float) -> list[Sample]:
        """Stale markers for the series a rule wrote last time and not now (as Prometheus
        does), so queries see them end at once rather than linger for the lookback."""
        now = {s.labels for s in written}
        with self._lock:
            gone = self._last_series.get(key, set()) - now
            self._last_series[key] = now
        return [Sample(labels, int(ts * 1000), STALE_NAN) for labels in sorted(gone)]

    def _row(self, st: RuleAlertState) -> tuple[str, str, str, int, int, str, str, str, float, int]:
        """The alert as the hub's alert store keeps it (``startsAt`` is when it fired)."""
        if st.state == "inactive":
            starts = st.fired_ns or st.active_ns
            ends, state = st.resolved_ns or st.active_ns, "resolved"
        else:
            starts = st.fired_ns if st.state == "firing" and st.fired_ns else st.active_ns
            ends, state = NEVER_NS, st.state
        return (
            st.fingerprint,
            orjson.dumps(st.labels, option=orjson.OPT_SORT_KEYS).decode(),
            orjson.dumps(st.annotations, option=orjson.OPT_SORT_KEYS).decode(),
            starts,
            max(ends, starts),
            self.external_url,
            "rule",
            state,
            st.value,
            st.active_ns,
        )

    def _alert(
        self,
        key: str,
        rule: AlertingRule,
        result: list[tuple[dict[str, str], float]],
        ts: float,
        changes: AlertChanges,
        limit: int = 0,
    ) -> bool:
        """One evaluation of an alerting rule; True when an alert started or stopped firing."""
        ts_ns = _ns(ts)
        with self._lock:
            active = self._states.setdefault(key, {})
        seen: dict[str, tuple[dict[str, str], dict[str, str], float]] = {}
        label_templates, annotation_templates = self._templates(key, rule)
        for labels, value in result:
            final = {k: v for k, v in labels.items() if k != "__name__"}
            final.update(self._render(label_templates, labels, value))
            final["alertname"] = rule.name
            annotations = self._render(annotation_templates, labels, value)
            fp = fingerprint(final)
            if fp in seen:
                raise RuleError(
                    "vector contains metrics with the same labelset after applying alert labels"
                )
            seen[fp] = (final, annotations, value)
        if limit and len(seen) > limit:  # Prometheus: the whole result is discarded
            raise RuleError(f"exceeded limit of {limit} with {len(seen)} alerts")
        with self._lock:  # the API reads these states from other threads
            return self._transition(key, rule, active, seen, ts_ns, changes)

    def _transition(
        self,
        key: str,
        rule: AlertingRule,
        active: dict[str, RuleAlertState],
        seen: dict[str, tuple[dict[str, str], dict[str, str], float]],
        ts_ns: int,
        changes: AlertChanges,
    ) -> bool:
        """Prometheus' state machine over one evaluation's result."""
        changed = False
        for fp, (final, notes, value) in seen.items():
            st = active.get(fp)
            if st is not None and st.state != "inactive":
                st.value, st.annotations, st.labels = value, notes, final
                st.keep_firing_since_ns = None
            else:
                st = RuleAlertState(key, fp, "pending", final, notes, ts_ns, value)
                active[fp] = st
                changes.events.append(AlertEventRow(fp, ts_ns, "pending"))
        for fp, st in list(active.items()):
            if fp in seen:
                continue
            if rule.keep_firing_for_s > 0 and st.state == "firing":
                if st.keep_firing_since_ns is None:
                    st.keep_firing_since_ns = ts_ns
                if ts_ns - st.keep_firing_since_ns < _ns(rule.keep_firing_for_s):
                    continue
            if st.state == "pending" or (
                st.resolved_ns is not None and ts_ns - st.resolved_ns > RESOLVED_RETENTION_NS
            ):
                del active[fp]
                changes.deleted_states.append((key, fp))
                if st.state == "pending":  # never fired: it leaves the alert list
                    st.state, st.resolved_ns = "inactive", ts_ns
                    changes.alerts.append(self._row(st))
                    changes.events.append(AlertEventRow(fp, ts_ns, "resolved", "", "never fired"))
                continue
            if st.state != "inactive":
                st.state, st.resolved_ns = "inactive", ts_ns
                st.keep_firing_since_ns = None
                changes.alerts.append(self._row(st))
                changes.events.append(AlertEventRow(fp, ts_ns, "resolved"))
                changed = True
        for fp, st in active.items():
            if st.state == "pending" and ts_ns - st.active_ns >= _ns(rule.for_s):
                st.state, st.fired_ns = "firing", ts_ns
                changes.events.append(AlertEventRow(fp, ts_ns, "firing"))
                changed = True
            # only what changed is written: a steady alert costs no write per evaluation
            signature = (
                st.state, repr(st.value), st.labels, st.annotations, st.fired_ns,
                st.resolved_ns, st.keep_firing_since_ns,
            )  # fmt: skip
            if self._written.get((key, fp)) == signature:
                continue
            self._written[(key, fp)] = signature
            if st.state != "inactive":
                changes.alerts.append(self._row(st))
            changes.states.append(dataclasses.replace(st))
        for key_fp in changes.deleted_states:
            self._written.pop(key_fp, None)
        return changed


def format_value(value: float) -> str:
    """A value as Prometheus' API writes an alert's (``strconv.FormatFloat(v, 'e', -1)``).

    Example::

        >>> format_value(1.0), format_value(0.25), format_value(float("nan"))
        ('1e+00', '2.5e-01', 'NaN')
        >>> format_value(0.123456789)
        '1.23456789e-01'
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0e+00"
    mantissa, exp = format(decimal.Decimal(repr(value)).normalize(), "e").split("e")
    return f"{mantissa}e{exp[0]}{abs(int(exp)):02d}"
