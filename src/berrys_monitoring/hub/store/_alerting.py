"""What the rule evaluator, the notification dispatcher and the alerts API keep in the
store: rule alert state (Prometheus' ``ALERTS_FOR_STATE``, made durable), alert history,
silences, the notification log and the delivery outbox."""

from __future__ import annotations

import dataclasses

__all__ = ["AlertChanges", "AlertEventRow", "OutboxItem", "RuleAlertState"]


@dataclasses.dataclass
class RuleAlertState:
    """One alert of one alerting rule, as the evaluator holds it between evaluations."""

    rule: str  # "<file>;<group>;<index>;<alert name>"
    fingerprint: str
    state: str  # "pending", "firing" or "inactive" (resolved, kept a while)
    labels: dict[str, str]
    annotations: dict[str, str]
    active_ns: int
    value: float
    fired_ns: int | None = None
    resolved_ns: int | None = None
    keep_firing_since_ns: int | None = None


@dataclasses.dataclass(frozen=True)
class AlertEventRow:
    fingerprint: str
    time_ns: int
    event: str  # pending, firing, resolved, acknowledged, note
    by: str = ""
    note: str = ""


@dataclasses.dataclass
class AlertChanges:
    """Written in one transaction: an evaluation's new state, its alerts and their history."""

    states: list[RuleAlertState] = dataclasses.field(default_factory=list)
    deleted_states: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    #: (fingerprint, labels JSON, annotations JSON, starts_ns, ends_ns, generator_url,
    #: source, state, value, active_ns): stored exactly as given
    alerts: list[tuple[str, str, str, int, int, str, str, str, float, int]] = dataclasses.field(
        default_factory=list
    )
    events: list[AlertEventRow] = dataclasses.field(default_factory=list)


@dataclasses.dataclass(frozen=True)
class OutboxItem:
    """A notification decided and not yet delivered: retried until delivered or given up."""

    id: int
    receiver: str
    integration: int
    group_key: str
    payload: str
    attempts: int
    next_ns: int
