"""Export a dashboard as Grafana dashboard JSON (the classic model, as
https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/
describes it), ready for Grafana's Import: the same PromQL against a Prometheus data
source chosen at import (``${DS_PROMETHEUS}``); log panels query Loki with LogQL and
trace panels Tempo with TraceQL, translated from the hub's search parameters."""

from __future__ import annotations

import datetime
import json
import re
from typing import Any
from urllib.parse import parse_qsl

from berrys_monitoring.hub.dashboards._model import Dashboard, Panel, Variable

__all__ = ["GRAFANA_SCHEMA_VERSION", "to_grafana"]

GRAFANA_SCHEMA_VERSION = 39
_PANEL_TYPE = {
    "timeseries": "timeseries",
    "stat": "stat",
    "gauge": "gauge",
    "bar": "barchart",
    "table": "table",
    "heatmap": "heatmap",
    "logs": "logs",
    "traces": "table",
}
_UNIT = {"rps": "reqps", "us": "µs"}
_DS = {
    "promql": {"type": "prometheus", "uid": "${DS_PROMETHEUS}"},
    "logs": {"type": "loki", "uid": "${DS_LOKI}"},
    "traces": {"type": "tempo", "uid": "${DS_TEMPO}"},
}
_INPUTS = {
    "promql": ("DS_PROMETHEUS", "Prometheus", "prometheus"),
    "logs": ("DS_LOKI", "Loki", "loki"),
    "traces": ("DS_TEMPO", "Tempo", "tempo"),
}
_LEVEL_RE = {
    "trace": "trace|debug|info|warn|warning|error|fatal|critical",
    "debug": "debug|info|warn|warning|error|fatal|critical",
    "info": "info|warn|warning|error|fatal|critical",
    "warn": "warn|warning|error|fatal|critical",
    "warning": "warn|warning|error|fatal|critical",
    "error": "error|fatal|critical",
    "fatal": "fatal|critical",
    "critical": "fatal|critical",
}


def _grafana_time(value: str) -> str:
    """Grafana's JSON takes ``now-1h`` or an ISO time; the web UI's absolute times are epoch
    milliseconds."""
    if value.isdigit():
        moment = datetime.datetime.fromtimestamp(int(value) / 1000, tz=datetime.timezone.utc)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return value


def _quote(value: str) -> str:
    return json.dumps(value)  # a double-quoted string with \" and \\ escaped, as LogQL wants


def logql(expr: str) -> str:
    """A log panel's query (``/api/v1/logs`` parameters) as LogQL for Loki, with the
    labels the OpenTelemetry Collector's Loki exporter writes.

    Example::

        >>> logql("service=checkout&level=error&q=timeout")
        '{service_name="checkout"} | detected_level=~"error|fatal|critical" |= "timeout"'
    """
    params = parse_qsl(expr, keep_blank_values=True)
    selectors = [f"service_name={_quote(v)}" for k, v in params if k == "service"]
    out = "{" + (", ".join(selectors) or 'service_name=~".+"') + "}"
    for key, value in params:
        if key == "level":
            out += f" | detected_level=~{_quote(_LEVEL_RE.get(value.lower(), value))}"
        elif key == "q":
            out += f" |= {_quote(value)}"
        elif key == "trace_id":
            out += f" | trace_id={_quote(value)}"
        elif key == "attribute":
            name, _, val = value.partition("=")
            out += f" | {re.sub(r'[^a-zA-Z0-9_]', '_', name)}={_quote(val)}"
    return out


def traceql(expr: str) -> str:
    """A trace panel's query (``/api/v1/traces`` parameters) as TraceQL for Tempo.

    Example::

        >>> traceql("service=checkout&status=error&min_duration=500ms")
        '{resource.service.name="checkout" && status=error && duration>=500ms}'
    """
    conditions = []
    for key, value in parse_qsl(expr, keep_blank_values=True):
        if key == "service":
            conditions.append(f"resource.service.name={_quote(value)}")
        elif key == "operation":
            conditions.append(f"name={_quote(value)}")
        elif key == "status":
            conditions.append(f"status={'error' if value == 'error' else 'ok'}")
        elif key == "min_duration":
            conditions.append(f"duration>={value if not value.isdigit() else value + 'ms'}")
        elif key == "max_duration":
            conditions.append(f"duration<={value if not value.isdigit() else value + 'ms'}")
        elif key == "attribute":
            name, _, val = value.partition("=")
            conditions.append(f".{name}={_quote(val)}")
    return "{" + " && ".join(conditions) + "}"


def _target(panel: Panel) -> dict[str, Any]:
    kind = panel.query.kind
    target: dict[str, Any] = {"refId": "A", "datasource": _DS[kind]}
    if kind == "promql":
        target["expr"] = panel.query.expr
        target["legendFormat"] = panel.legend or "__auto"
        target["range"] = panel.type not in ("table",)
        target["instant"] = panel.type in ("table",)
        if panel.type == "heatmap":
            target["format"] = "heatmap"
    elif kind == "logs":
        target["expr"] = logql(panel.query.expr)
        target["queryType"] = "range"
    else:
        target["query"] = traceql(panel.query.expr)
        target["queryType"] = "traceql"
        target["limit"] = 20
    return target


def _panel(panel: Panel) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [
        {"color": t.color, "value": t.value}
        for t in sorted(panel.thresholds, key=lambda t: (t.value is not None, t.value or 0.0))
    ]
    if not steps or steps[0]["value"] is not None:
        steps.insert(0, {"color": "green", "value": None})  # Grafana's base step
    defaults: dict[str, Any] = {
        "unit": _UNIT.get(panel.unit, panel.unit),
        "thresholds": {"mode": "absolute", "steps": steps},
    }
    if panel.decimals is not None:
        defaults["decimals"] = panel.decimals
    if panel.min is not None:
        defaults["min"] = panel.min
    if panel.max is not None:
        defaults["max"] = panel.max
    if panel.thresholds and panel.type == "timeseries":
        defaults["custom"] = {"thresholdsStyle": {"mode": "line"}}
    options: dict[str, Any] = {}
    if panel.type in ("stat", "gauge"):
        options["reduceOptions"] = {"calcs": ["lastNotNull"], "fields": "", "values": False}
    if panel.type == "timeseries":
        options["legend"] = {"displayMode": "list", "placement": "bottom", "showLegend": True}
        options["tooltip"] = {"mode": "multi", "sort": "desc"}
    if panel.type == "heatmap":
        options["calculate"] = False
        options["yAxis"] = {"unit": defaults["unit"]}
    if panel.type == "logs":
        options.update(showTime=True, wrapLogMessage=True, sortOrder="Descending")
    return {
        "id": panel.id,
        "type": _PANEL_TYPE[panel.type],
        "title": panel.title,
        "description": panel.description,
        "gridPos": {"x": panel.grid.x, "y": panel.grid.y, "w": panel.grid.w, "h": panel.grid.h},
        "datasource": _DS[panel.query.kind],
        "targets": [_target(panel)],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": options,
    }


def _variable(variable: Variable) -> dict[str, Any]:
    current = variable.current
    value: str | list[str] = current if variable.multi else (current[0] if current else "")
    out: dict[str, Any] = {
        "name": variable.name,
        "label": variable.label or variable.name,
        "type": variable.type,
        "query": variable.query,
        "multi": variable.multi,
        "includeAll": variable.include_all,
        "current": {"text": value, "value": value} if current else {},
        "options": [],
        "hide": 0,
    }
    if variable.type == "query":
        out["datasource"] = _DS["promql"]
        out["definition"] = variable.query
        out["query"] = {"query": variable.query, "refId": "PrometheusVariableQueryEditor"}
        out["refresh"] = 2  # on time range change
        out["regex"] = ""
        out["sort"] = 1
    return out


def to_grafana(dashboard: Dashboard) -> dict[str, Any]:
    """The dashboard as Grafana dashboard JSON, with ``__inputs`` for the data sources.

    Example::

        >>> from berrys_monitoring.hub.dashboards import parse_dashboard
        >>> g = to_grafana(parse_dashboard({"title": "API", "panels": [
        ...     {"id": 1, "type": "bar", "query": {"expr": "sum(rate(x[5m]))"}}]}))
        >>> g["schemaVersion"], g["panels"][0]["type"], g["panels"][0]["targets"][0]["expr"]
        (39, 'barchart', 'sum(rate(x[5m]))')
    """
    kinds = {p.query.kind for p in dashboard.panels} | (
        {"promql"} if dashboard.variables else set()
    )
    inputs = [
        {
            "name": _INPUTS[k][0],
            "label": _INPUTS[k][1],
            "description": "",
            "type": "datasource",
            "pluginId": _INPUTS[k][2],
            "pluginName": _INPUTS[k][1],
        }
        for k in ("promql", "logs", "traces")
        if k in kinds
    ]
    requires = [{"type": "grafana", "id": "grafana", "name": "Grafana", "version": "10.4.0"}]
    requires += [
        {"type": "datasource", "id": i["pluginId"], "name": i["pluginName"], "version": "1.0.0"}
        for i in inputs
    ]
    requires += [
        {"type": "panel", "id": t, "name": t, "version": ""}
        for t in sorted({_PANEL_TYPE[p.type] for p in dashboard.panels})
    ]
    return {
        "__inputs": inputs,
        "__requires": requires,
        "id": None,
        "uid": dashboard.id or None,
        "title": dashboard.title,
        "description": dashboard.description,
        "tags": list(dashboard.tags),
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "panels": [_panel(p) for p in sorted(dashboard.panels, key=lambda p: (p.grid.y, p.grid.x))],
        "time": {
            "from": _grafana_time(dashboard.time.from_),
            "to": _grafana_time(dashboard.time.to),
        },
        "timepicker": {"refresh_intervals": ["5s", "10s", "30s", "1m", "5m"]},
        "templating": {"list": [_variable(v) for v in dashboard.variables]},
        "annotations": {
            "list": [
                {
                    "builtIn": 1,
                    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                    "enable": True,
                    "hide": True,
                    "iconColor": "rgba(0, 211, 255, 1)",
                    "name": "Annotations & Alerts",
                    "type": "dashboard",
                }
            ]
        },
        "refresh": dashboard.refresh or "",
        "schemaVersion": GRAFANA_SCHEMA_VERSION,
        "version": 1,
        "links": [],
        "weekStart": "",
        "gnetId": None,
    }
