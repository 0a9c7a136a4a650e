"""Alertmanager's configuration file, the parts the hub acts on: the route tree,
receivers and inhibition rules, in Alertmanager's own YAML format, so one file serves both.
https://prometheus.io/docs/alerting/latest/configuration/
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from berrys_monitoring.hub.rules._duration import parse_duration
from berrys_monitoring.hub.rules._matchers import Matcher, MatcherError, parse_matchers

__all__ = [
    "AlertingConfig",
    "InhibitRule",
    "Receiver",
    "Route",
    "RoutingError",
    "load_alerting_config",
    "parse_alerting_config",
]

#: Alertmanager's defaults for a route that says nothing.
GROUP_WAIT_S, GROUP_INTERVAL_S, REPEAT_INTERVAL_S = 30.0, 300.0, 4 * 3600.0
#: The integrations a receiver can hold; ``log_configs`` and ``alertmanager_configs`` are
#: the hub's own (a line in its log; a push to another Alertmanager).
INTEGRATIONS = (
    "webhook_configs",
    "slack_configs",
    "email_configs",
    "pagerduty_configs",
    "log_configs",
    "alertmanager_configs",
)
#: Alertmanager's default of ``send_resolved`` per integration.
SEND_RESOLVED = {
    "webhook_configs": True,
    "slack_configs": False,
    "email_configs": False,
    "pagerduty_configs": True,
    "log_configs": True,
    "alertmanager_configs": True,
}


class RoutingError(ValueError):
    """The Alertmanager configuration is invalid; the message says where."""


@dataclasses.dataclass(frozen=True)
class Route:
    """One node of the route tree, its settings already inherited from its parents."""

    id: str
    receiver: str
    matchers: tuple[Matcher, ...]
    group_by: tuple[str, ...]
    group_by_all: bool
    group_wait_s: float
    group_interval_s: float
    repeat_interval_s: float
    continue_: bool
    routes: tuple[Route, ...]

    def match(self, labels: Mapping[str, str]) -> list[Route]:
        """The routes an alert with ``labels`` goes to, as Alertmanager's ``Route.Match``:
        the deepest matching children, left to right until one without ``continue``.

        Example::

            >>> cfg = parse_alerting_config({"route": {"receiver": "team", "routes": [
            ...     {"matchers": ['severity="critical"'], "receiver": "pager"}]},
            ...     "receivers": [{"name": "team"}, {"name": "pager"}]})
            >>> [r.receiver for r in cfg.route.match({"severity": "critical"})]
            ['pager']
            >>> [r.receiver for r in cfg.route.match({"severity": "info"})]
            ['team']
        """
        if not all(m.matches(labels) for m in self.matchers):
            return []
        found: list[Route] = []
        for child in self.routes:
            hits = child.match(labels)
            found += hits
            if hits and not child.continue_:
                break
        return found or [self]

    def group_labels(self, labels: Mapping[str, str]) -> dict[str, str]:
        if self.group_by_all:
            return dict(labels)
        return {k: labels[k] for k in self.group_by if k in labels}


@dataclasses.dataclass(frozen=True)
class Receiver:
    """A named receiver: each ``(kind, settings)`` is one integration it notifies."""

    name: str
    integrations: tuple[tuple[str, Mapping[str, Any]], ...]


@dataclasses.dataclass(frozen=True)
class InhibitRule:
    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    equal: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class AlertingConfig:
    route: Route
    receivers: Mapping[str, Receiver]
    inhibit_rules: tuple[InhibitRule, ...]
    globals: Mapping[str, Any]


def _matchers(raw: Mapping[str, Any], prefix: str, where: str) -> tuple[Matcher, ...]:
    """``<prefix>matchers`` plus the legacy ``<prefix>match`` / ``<prefix>match_re``."""
    out: list[Matcher] = []
    try:
        items = raw.get(f"{prefix}matchers") or []
        if not isinstance(items, list):
            raise RoutingError(f"{where}: {prefix}matchers must be a list of strings")
        out += parse_matchers(items)
        for name, value in (raw.get(f"{prefix}match") or {}).items():
            out.append(Matcher(str(name), str(value)))
        for name, value in (raw.get(f"{prefix}match_re") or {}).items():
            out.append(Matcher(str(name), str(value), is_regex=True))
    except (MatcherError, AttributeError) as exc:
        raise RoutingError(f"{where}: {exc}") from None
    return tuple(out)


def _duration(raw: Mapping[str, Any], key: str, default: float, where: str) -> float:
    if key not in raw:
        return default
    try:
        value = parse_duration(raw[key])
    except ValueError as exc:
        raise RoutingError(f"{where}: {key}: {exc}") from None
    if value <= 0 and key != "group_wait":
        raise RoutingError(f"{where}: {key} must be positive")
    return value


def _route(raw: Any, parent: Route | None, rid: str, receivers: Mapping[str, Any]) -> Route:
    where = "route" if parent is None else f"route {rid}"
    if not isinstance(raw, dict):
        raise RoutingError(f"{where}: must be a mapping")
    receiver = raw.get("receiver", parent.receiver if parent else None)
    if not receiver:
        raise RoutingError("route: the root route must have a receiver")
    if receiver not in receivers:
        raise RoutingError(f'{where}: undefined receiver "{receiver}" used in route')
    if parent is None and (raw.get("matchers") or raw.get("match") or raw.get("match_re")):
        raise RoutingError("route: the root route must not have any matchers")
    group_by = raw.get("group_by")
    if group_by is None:
        by = parent.group_by if parent else ()
        by_all = parent.group_by_all if parent else False
    else:
        if not isinstance(group_by, list):
            raise RoutingError(f"{where}: group_by must be a list of label names")
        by_all = "..." in group_by
        if by_all and len(group_by) > 1:
            raise RoutingError(f"{where}: cannot have wildcard group_by (`...`) and other labels")
        by = () if by_all else tuple(str(x) for x in group_by)
        if len(set(by)) != len(by):
            raise RoutingError(f"{where}: duplicated label in group_by")
    node = Route(
        id=rid,
        receiver=str(receiver),
        matchers=_matchers(raw, "", where),
        group_by=by,
        group_by_all=by_all,
        group_wait_s=_duration(
            raw, "group_wait", parent.group_wait_s if parent else GROUP_WAIT_S, where
        ),
        group_interval_s=_duration(
            raw, "group_interval", parent.group_interval_s if parent else GROUP_INTERVAL_S, where
        ),
        repeat_interval_s=_duration(
            raw, "repeat_interval", parent.repeat_interval_s if parent else REPEAT_INTERVAL_S, where
        ),
        continue_=bool(raw.get("continue", False)),
        routes=(),
    )
    if parent is None and node.continue_:
        raise RoutingError("route: cannot have continue in the root route")
    children = raw.get("routes") or []
    if not isinstance(children, list):
        raise RoutingError(f"{where}: routes must be a list")
    kids = tuple(_route(c, node, f"{rid}/{i}", receivers) for i, c in enumerate(children))
    return dataclasses.replace(node, routes=kids)


_URL = re.compile(r"^https?://[^\s/]+")


def _receiver(raw: Any, globals_: Mapping[str, Any]) -> Receiver:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise RoutingError(f"receivers: every receiver needs a name: {raw!r}")
    name = raw["name"]
    integrations: list[tuple[str, Mapping[str, Any]]] = []
    for key, items in raw.items():
        if key == "name":
            continue
        if key not in INTEGRATIONS:
            raise RoutingError(
                f'receiver "{name}": unsupported integration {key!r} (supported: '
                + ", ".join(INTEGRATIONS)
                + ")"
            )
        if not isinstance(items, list):
            raise RoutingError(f'receiver "{name}": {key} must be a list')
        for item in items:
            settings = dict(item or {})
            settings.setdefault("send_resolved", SEND_RESOLVED[key])
            where = f'receiver "{name}" {key}'
            if key in ("webhook_configs", "alertmanager_configs"):
                if not _URL.match(str(settings.get("url", ""))):
                    raise RoutingError(f"{where}: url must be an http(s) URL")
            elif key == "slack_configs":
                settings.setdefault("api_url", globals_.get("slack_api_url"))
                if not _URL.match(str(settings.get("api_url") or "")):
                    raise RoutingError(f"{where}: no api_url (here or global.slack_api_url)")
            elif key == "pagerduty_configs":
                if not (settings.get("routing_key") or settings.get("service_key")):
                    raise RoutingError(f"{where}: routing_key or service_key is required")
                settings.setdefault("url", globals_.get("pagerduty_url"))
            elif key == "email_configs":
                for setting, glob in (
                    ("smarthost", "smtp_smarthost"),
                    ("from", "smtp_from"),
                    ("auth_username", "smtp_auth_username"),
                    ("auth_password", "smtp_auth_password"),
                    ("require_tls", "smtp_require_tls"),
                ):
                    if setting not in settings and glob in globals_:
                        settings[setting] = globals_[glob]
                if not settings.get("to") or not settings.get("smarthost"):
                    raise RoutingError(f"{where}: 'to' and a smarthost are required")
            integrations.append((key, settings))
    return Receiver(name, tuple(integrations))


def parse_alerting_config(doc: Any, *, source: str = "alerting") -> AlertingConfig:
    """An :class:`AlertingConfig` from Alertmanager's configuration (already parsed YAML).

    Example::

        >>> cfg = parse_alerting_config({"route": {"receiver": "log", "group_wait": "1s"},
        ...                              "receivers": [{"name": "log", "log_configs": [{}]}]})
        >>> cfg.route.group_wait_s, cfg.route.repeat_interval_s
        (1.0, 14400.0)
    """
    if not isinstance(doc, dict):
        raise RoutingError(f"{source}: must be a mapping (Alertmanager's configuration)")
    try:
        return _parse(doc)
    except RoutingError as exc:
        raise RoutingError(f"{source}: {exc}") from None


def _parse(doc: dict[str, Any]) -> AlertingConfig:
    globals_ = doc.get("global") or {}
    if not isinstance(globals_, dict):
        raise RoutingError("global must be a mapping")
    receivers_raw = doc.get("receivers") or []
    if not isinstance(receivers_raw, list):
        raise RoutingError("receivers must be a list")
    receivers: dict[str, Receiver] = {}
    for raw in receivers_raw:
        r = _receiver(raw, globals_)
        if r.name in receivers:
            raise RoutingError(f'notification config name "{r.name}" is not unique')
        receivers[r.name] = r
    if "route" not in doc:
        raise RoutingError("no route provided in config")
    route = _route(doc["route"], None, "0", receivers)
    inhibit: list[InhibitRule] = []
    for i, raw in enumerate(doc.get("inhibit_rules") or []):
        if not isinstance(raw, dict):
            raise RoutingError(f"inhibit_rules {i}: must be a mapping")
        where = f"inhibit_rules {i}"
        equal = raw.get("equal") or []
        if not isinstance(equal, list):
            raise RoutingError(f"{where}: equal must be a list of label names")
        inhibit.append(
            InhibitRule(
                _matchers(raw, "source_", where),
                _matchers(raw, "target_", where),
                tuple(str(e) for e in equal),
            )
        )
    return AlertingConfig(route, receivers, tuple(inhibit), globals_)


def load_alerting_config(path: str | Path) -> AlertingConfig:
    """Alertmanager's YAML file at ``path``."""
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text())
    except OSError as exc:
        raise RoutingError(f"{path}: cannot read: {exc}") from None
    except yaml.YAMLError as exc:
        raise RoutingError(f"{path}: not valid YAML: {exc}") from None
    return parse_alerting_config(doc, source=str(path))
