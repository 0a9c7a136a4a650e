"""The Grafana dashboard JSON model's required fields, written from Grafana's documented
model (https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/):
what an exported dashboard must carry for Grafana's Import to take it."""

from __future__ import annotations

import re
from typing import Any

GRID_COLUMNS = 24
PANEL_TYPES = {"timeseries", "stat", "gauge", "barchart", "table", "heatmap", "logs", "text"}
VARIABLE_TYPES = {"query", "custom", "constant", "datasource", "interval", "textbox", "adhoc"}
_TYPES: dict[str, Any] = {
    "title": str,
    "tags": list,
    "timezone": str,
    "editable": bool,
    "graphTooltip": int,
    "panels": list,
    "time": dict,
    "timepicker": dict,
    "templating": dict,
    "annotations": dict,
    "refresh": (str, bool),
    "schemaVersion": int,
    "version": int,
    "links": list,
}


def problems(dashboard: dict[str, Any]) -> list[str]:
    """Every way ``dashboard`` departs from the model; empty when Grafana can import it."""
    out: list[str] = []
    for key, kind in _TYPES.items():
        if key not in dashboard:
            out.append(f"missing {key}")
        elif not isinstance(dashboard[key], kind):
            out.append(f"{key} is {type(dashboard[key]).__name__}")
    if "id" not in dashboard or dashboard["id"] is not None:
        out.append("id must be null in an export (Grafana assigns it on import)")
    if "uid" in dashboard and dashboard["uid"] is not None:
        uid = dashboard["uid"]
        if not isinstance(uid, str) or not re.match(r"^[a-zA-Z0-9_-]{1,40}$", uid):
            out.append(f"uid {uid!r}: at most 40 of a-z, A-Z, 0-9, - and _")
    if isinstance(dashboard.get("schemaVersion"), int) and dashboard["schemaVersion"] < 36:
        out.append("schemaVersion below 36 predates data source references by uid")
    time = dashboard.get("time", {})
    if not isinstance(time.get("from"), str) or not isinstance(time.get("to"), str):
        out.append("time needs from and to")
    if not isinstance(dashboard.get("templating", {}).get("list"), list):
        out.append("templating.list is not a list")
    if not isinstance(dashboard.get("annotations", {}).get("list"), list):
        out.append("annotations.list is not a list")
    inputs = {i.get("name"): i for i in dashboard.get("__inputs", [])}
    for name, i in inputs.items():
        if i.get("type") != "datasource" or not i.get("pluginId"):
            out.append(f"__inputs {name}: needs type datasource and a pluginId")

    def check_ref(where: str, ref: Any) -> None:
        if not isinstance(ref, dict) or "type" not in ref or "uid" not in ref:
            out.append(f"{where}: datasource must be {{type, uid}}")
            return
        m = re.match(r"^\$\{(\w+)\}$", str(ref["uid"]))
        if m and m.group(1) not in inputs:
            out.append(f"{where}: {ref['uid']} is not declared in __inputs")
        elif m and inputs[m.group(1)].get("pluginId") != ref["type"]:
            out.append(f"{where}: {ref['uid']} is a {inputs[m.group(1)]['pluginId']} input")

    ids = set()
    for n, panel in enumerate(dashboard.get("panels", [])):
        where = f"panels[{n}]"
        for key in ("id", "type", "title", "gridPos", "targets", "datasource"):
            if key not in panel:
                out.append(f"{where}: missing {key}")
        if panel.get("id") in ids:
            out.append(f"{where}: id {panel.get('id')} repeated")
        ids.add(panel.get("id"))
        if panel.get("type") not in PANEL_TYPES:
            out.append(f"{where}: unknown panel type {panel.get('type')!r}")
        grid = panel.get("gridPos", {})
        if not all(isinstance(grid.get(k), int) for k in ("h", "w", "x", "y")):
            out.append(f"{where}: gridPos needs integer h, w, x, y")
        elif grid["x"] < 0 or grid["w"] < 1 or grid["x"] + grid["w"] > GRID_COLUMNS:
            out.append(f"{where}: gridPos outside the {GRID_COLUMNS}-column grid")
        if "datasource" in panel:
            check_ref(where, panel["datasource"])
        ref_ids = set()
        for t, target in enumerate(panel.get("targets", [])):
            tw = f"{where}.targets[{t}]"
            if not target.get("refId") or target["refId"] in ref_ids:
                out.append(f"{tw}: refId missing or repeated")
            ref_ids.add(target.get("refId"))
            check_ref(tw, target.get("datasource"))
            kind = target.get("datasource", {}).get("type")
            if kind in ("prometheus", "loki") and not target.get("expr"):
                out.append(f"{tw}: a {kind} target needs expr")
            if kind == "tempo" and not target.get("query"):
                out.append(f"{tw}: a tempo target needs query")
        defaults = panel.get("fieldConfig", {}).get("defaults", {})
        steps = defaults.get("thresholds", {}).get("steps", [])
        if steps and steps[0].get("value") is not None:
            out.append(f"{where}: the first threshold step must have value null (the base)")
    for n, var in enumerate(dashboard.get("templating", {}).get("list", [])):
        where = f"templating.list[{n}]"
        for key in ("name", "type", "query", "current", "options", "hide"):
            if key not in var:
                out.append(f"{where}: missing {key}")
        if var.get("type") not in VARIABLE_TYPES:
            out.append(f"{where}: unknown variable type {var.get('type')!r}")
        if var.get("type") == "query":
            check_ref(where, var.get("datasource"))
    return out
