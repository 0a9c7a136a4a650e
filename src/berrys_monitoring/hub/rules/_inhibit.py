"""Inhibition, as Alertmanager's ``inhibit_rules``: a firing alert matching a rule's source
matchers mutes the alerts matching its target matchers that have the same values for the
``equal`` labels (a critical ``ServiceDown`` mutes the warnings of the same service)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from berrys_monitoring.hub.rules._matchers import matches_all
from berrys_monitoring.hub.rules._routing import InhibitRule

__all__ = ["inhibited"]


def inhibited(
    labels: Mapping[str, str],
    fingerprint: str,
    firing: Sequence[tuple[str, Mapping[str, str]]],
    rules: Sequence[InhibitRule],
) -> bool:
    """True when one of the ``firing`` (fingerprint, labels) alerts inhibits this one.

    Example::

        >>> from berrys_monitoring.hub.rules._matchers import parse_matchers
        >>> rule = InhibitRule(parse_matchers(['severity="critical"']),
        ...                    parse_matchers(['severity="warning"']), ("job",))
        >>> down = ("a", {"alertname": "Down", "severity": "critical", "job": "api"})
        >>> inhibited({"severity": "warning", "job": "api"}, "b", [down], [rule])
        True
        >>> inhibited({"severity": "warning", "job": "web"}, "b", [down], [rule])
        False
    """
    for rule in rules:
        if not matches_all(rule.target, labels):
            continue
        both = matches_all(rule.source, labels)
        for fp, source in firing:
            if fp == fingerprint or not matches_all(rule.source, source):
                continue
            if both and matches_all(rule.target, source):
                continue  # an alert on both sides never inhibits its peers (Alertmanager)
            if all(source.get(k, "") == labels.get(k, "") for k in rule.equal):
                return True
    return False
