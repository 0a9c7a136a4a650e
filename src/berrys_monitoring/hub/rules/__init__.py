"""Server-side alerting: Prometheus rule files evaluated on their intervals, Alertmanager's
routing, grouping, silences and inhibition, and at-least-once delivery to the receivers."""

from __future__ import annotations

from berrys_monitoring.hub.rules._dispatch import Dispatcher
from berrys_monitoring.hub.rules._duration import format_duration, parse_duration
from berrys_monitoring.hub.rules._evaluator import InstantQueryBackend, RuleEvaluator
from berrys_monitoring.hub.rules._matchers import Matcher, parse_matchers
from berrys_monitoring.hub.rules._routing import (
    AlertingConfig,
    RoutingError,
    load_alerting_config,
    parse_alerting_config,
)
from berrys_monitoring.hub.rules._rulefile import (
    AlertingRule,
    RecordingRule,
    RuleFileError,
    RuleGroup,
    load_rule_files,
    parse_rule_file,
    rule_groups_document,
)
from berrys_monitoring.hub.rules._service import ReloadError, RulesService
from berrys_monitoring.hub.rules._template import Template, TemplateError

__all__ = [
    "AlertingConfig",
    "AlertingRule",
    "Dispatcher",
    "InstantQueryBackend",
    "Matcher",
    "RecordingRule",
    "ReloadError",
    "RoutingError",
    "RuleEvaluator",
    "RuleFileError",
    "RuleGroup",
    "RulesService",
    "Template",
    "TemplateError",
    "format_duration",
    "load_alerting_config",
    "load_rule_files",
    "parse_alerting_config",
    "parse_duration",
    "parse_matchers",
    "parse_rule_file",
    "rule_groups_document",
]
