"""Rule files in Prometheus' format: groups of alerting and recording rules, loaded from
globs and validated the way ``promtool check rules`` does, with errors naming the file,
the group and the rule.
https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/
"""

from __future__ import annotations

import dataclasses
import glob
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from berrys_monitoring.hub.rules._duration import parse_duration
from berrys_monitoring.hub.rules._template import Template, TemplateError

__all__ = [
    "AlertingRule",
    "RecordingRule",
    "RuleFileError",
    "RuleGroup",
    "load_rule_files",
    "parse_rule_file",
    "rule_groups_document",
]

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_GROUP_KEYS = {"name", "interval", "limit", "rules", "query_offset", "labels"}
_RULE_KEYS = {"alert", "record", "expr", "for", "keep_firing_for", "labels", "annotations"}


class RuleFileError(ValueError):
    """A rule file is invalid; ``str()`` names the file, the group and the rule."""


@dataclasses.dataclass(frozen=True)
class AlertingRule:
    name: str
    expr: str
    for_s: float = 0.0
    keep_firing_for_s: float = 0.0
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "alerting"

    def templates(self) -> dict[str, Template]:
        return {k: Template(v) for k, v in self.annotations.items()}


@dataclasses.dataclass(frozen=True)
class RecordingRule:
    name: str
    expr: str
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def kind(self) -> str:
        return "recording"


@dataclasses.dataclass(frozen=True)
class RuleGroup:
    """One group: its rules run in order, every ``interval_s`` seconds."""

    name: str
    file: str
    interval_s: float
    rules: tuple[AlertingRule | RecordingRule, ...]
    limit: int = 0

    @property
    def key(self) -> str:
        """The group's identity across reloads, as Prometheus keys it: file and name."""
        return f"{self.file};{self.name}"


def _strings(value: Any, where: str, what: str) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise RuleFileError(f"{where}: {what} must be a mapping of names to strings")
    out = {}
    for k, v in value.items():
        if not isinstance(k, str) or not _LABEL_NAME.match(k):
            raise RuleFileError(f"{where}: invalid {what[:-1]} name {k!r}")
        if isinstance(v, (dict, list)) or v is None:
            raise RuleFileError(f"{where}: {what[:-1]} {k!r} must be a string")
        out[k] = str(v) if not isinstance(v, bool) else str(v).lower()
    return out


def _check_expr(expr: str, where: str) -> None:
    import promql_parser

    try:
        promql_parser.parse(expr)
    except ValueError as exc:
        raise RuleFileError(f"{where}: could not parse expression: {exc}") from None


def _rule(raw: Any, where: str) -> AlertingRule | RecordingRule:
    if not isinstance(raw, dict):
        raise RuleFileError(f"{where}: a rule must be a mapping")
    unknown = set(raw) - _RULE_KEYS
    if unknown:
        raise RuleFileError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    alert, record = raw.get("alert"), raw.get("record")
    if (alert is None) == (record is None):
        raise RuleFileError(f"{where}: a rule needs exactly one of 'alert' and 'record'")
    expr = raw.get("expr")
    if isinstance(expr, (int, float)) and not isinstance(expr, bool):
        expr = str(expr)
    if not isinstance(expr, str) or not expr.strip():
        raise RuleFileError(f"{where}: field 'expr' must be set in rule")
    _check_expr(expr, where)
    labels = _strings(raw.get("labels"), where, "labels")
    if record is not None:
        if not isinstance(record, str) or not _METRIC_NAME.match(record):
            raise RuleFileError(f"{where}: invalid recording rule name {record!r}")
        for key in ("for", "keep_firing_for", "annotations"):
            if key in raw:
                raise RuleFileError(f"{where}: invalid field {key!r} in recording rule")
        return RecordingRule(record, expr.strip(), labels)
    if not isinstance(alert, str) or not alert:
        raise RuleFileError(f"{where}: invalid alert name {alert!r}")
    annotations = _strings(raw.get("annotations"), where, "annotations")
    for name, text in {**labels, **annotations}.items():
        try:
            Template(text)
        except TemplateError as exc:
            raise RuleFileError(f"{where}: template of {name!r}: {exc}") from None
    try:
        for_s = parse_duration(raw.get("for", "0"))
        keep_s = parse_duration(raw.get("keep_firing_for", "0"))
    except ValueError as exc:
        raise RuleFileError(f"{where}: {exc}") from None
    return AlertingRule(alert, expr.strip(), for_s, keep_s, labels, annotations)


def parse_rule_file(text: str, file: str, *, default_interval_s: float = 60.0) -> list[RuleGroup]:
    """The groups in one rule file's text; :class:`RuleFileError` for the first problem.

    Example::

        >>> [g] = parse_rule_file('''
        ... groups:
        ...   - name: api
        ...     interval: 10s
        ...     rules:
        ...       - alert: Down
        ...         expr: up == 0
        ...         for: 1m
        ... ''', "api.yml")
        >>> g.interval_s, g.rules[0].for_s
        (10.0, 60.0)
        >>> try:
        ...     parse_rule_file("groups: [{name: g, rules: [{alert: X, expr: 'up =='}]}]", "f.yml")
        ... except RuleFileError as exc:
        ...     print(exc)
        f.yml: group "g", rule 1 (alert "X"): could not parse expression: invalid promql query
    """
    import yaml

    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RuleFileError(f"{file}: not valid YAML: {exc}") from None
    if doc is None:
        return []
    if not isinstance(doc, dict) or set(doc) - {"groups"}:
        raise RuleFileError(f"{file}: the top level must be a mapping with only 'groups'")
    groups = doc.get("groups") or []
    if not isinstance(groups, list):
        raise RuleFileError(f"{file}: 'groups' must be a list")
    out: list[RuleGroup] = []
    seen: set[str] = set()
    for gi, raw in enumerate(groups, 1):
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
            raise RuleFileError(f"{file}: group {gi}: groupname must not be empty")
        name = raw["name"]
        where = f'{file}: group "{name}"'
        if name in seen:
            raise RuleFileError(f"{where}: repeated in the same file")
        seen.add(name)
        unknown = set(raw) - _GROUP_KEYS
        if unknown:
            raise RuleFileError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
        try:
            interval = parse_duration(raw["interval"]) if "interval" in raw else default_interval_s
        except ValueError as exc:
            raise RuleFileError(f"{where}: {exc}") from None
        if interval <= 0:
            raise RuleFileError(f"{where}: interval must be positive")
        rules_raw = raw.get("rules") or []
        if not isinstance(rules_raw, list):
            raise RuleFileError(f"{where}: 'rules' must be a list")
        group_labels = _strings(raw.get("labels"), where, "labels")
        rules: list[AlertingRule | RecordingRule] = []
        for ri, rule_raw in enumerate(rules_raw, 1):
            label = ""
            if isinstance(rule_raw, dict):
                for key in ("alert", "record"):
                    if isinstance(rule_raw.get(key), str):
                        label = f' ({key} "{rule_raw[key]}")'
            rule = _rule(rule_raw, f"{where}, rule {ri}{label}")
            if group_labels:
                rule = dataclasses.replace(rule, labels={**group_labels, **rule.labels})
            rules.append(rule)
        limit = raw.get("limit", 0)
        if not isinstance(limit, int) or limit < 0:
            raise RuleFileError(f"{where}: limit must be a non-negative integer")
        out.append(RuleGroup(name, file, interval, tuple(rules), limit))
    return out


def load_rule_files(
    patterns: Iterable[str], *, default_interval_s: float = 60.0
) -> list[RuleGroup]:
    """Every group in the files matching ``patterns`` (globs, as Prometheus' ``rule_files``),
    in file order; a pattern that matches nothing is not an error (as in Prometheus).

    Example::

        >>> load_rule_files([])
        []
    """
    groups: list[RuleGroup] = []
    for pattern in patterns:
        for path in sorted(glob.glob(str(Path(pattern).expanduser()))):
            try:
                text = Path(path).read_text()
            except OSError as exc:
                raise RuleFileError(f"{path}: cannot read: {exc}") from None
            groups += parse_rule_file(text, path, default_interval_s=default_interval_s)
    return groups


def rule_groups_document(groups: Iterable[RuleGroup]) -> dict[str, Any]:
    """``groups`` as one Prometheus rule file (a mapping ready for YAML); group names must
    be unique in it, as ``promtool check rules`` requires.

    Example::

        >>> g = RuleGroup("api", "a.yml", 30.0, (AlertingRule("Down", "up == 0", 60.0),))
        >>> rule_groups_document([g])["groups"][0]
        {'name': 'api', 'interval': '30s', 'rules': [{'alert': 'Down', 'expr': 'up == 0', 'for': '1m'}]}
    """
    from berrys_monitoring.hub.rules._duration import format_duration

    out: list[dict[str, Any]] = []
    seen: dict[str, str] = {}
    for g in groups:
        if g.name in seen:
            raise RuleFileError(
                f'group "{g.name}" is in both {seen[g.name]} and {g.file}: one rule file '
                "needs unique group names"
            )
        seen[g.name] = g.file
        rules: list[dict[str, Any]] = []
        for r in g.rules:
            item: dict[str, Any]
            if isinstance(r, AlertingRule):
                item = {"alert": r.name, "expr": r.expr}
                if r.for_s:
                    item["for"] = format_duration(r.for_s)
                if r.keep_firing_for_s:
                    item["keep_firing_for"] = format_duration(r.keep_firing_for_s)
            else:
                item = {"record": r.name, "expr": r.expr}
            if r.labels:
                item["labels"] = dict(r.labels)
            if isinstance(r, AlertingRule) and r.annotations:
                item["annotations"] = dict(r.annotations)
            rules.append(item)
        group: dict[str, Any] = {"name": g.name, "interval": format_duration(g.interval_s)}
        if g.limit:
            group["limit"] = g.limit
        group["rules"] = rules
        out.append(group)
    return {"groups": out}
