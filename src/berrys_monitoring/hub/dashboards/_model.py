"""A dashboard definition: the JSON the web UI saves, the API validates and Grafana
export reads. Validation gives messages that name the field (``panels.2.grid.x: ...``)."""

from __future__ import annotations

import re
from typing import Any, Literal
from urllib.parse import parse_qsl

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from berrys_monitoring.hub._time import rfc3339_ns

__all__ = [
    "GRID_COLUMNS",
    "REFRESH_INTERVALS",
    "Dashboard",
    "DashboardError",
    "Panel",
    "PanelQuery",
    "Variable",
    "parse_dashboard",
]

GRID_COLUMNS = 24
REFRESH_INTERVALS = ("5s", "10s", "30s", "1m", "5m")
PANEL_TYPES = ("timeseries", "stat", "gauge", "bar", "table", "heatmap", "logs", "traces")
UNITS = (
    "none", "short", "percent", "percentunit", "s", "ms", "us", "ns", "bytes", "decbytes",
    "bps", "reqps", "ops", "rps",
)  # fmt: skip
# the keys of the log and trace search APIs a panel's query may use (the same API the
# Log Explorer and the trace search call: no back door)
LOG_PARAMS = frozenset({"service", "level", "q", "trace_id", "attribute", "limit"})
TRACE_PARAMS = frozenset(
    {"service", "operation", "status", "min_duration", "max_duration", "attribute", "limit"}
)
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_RELATIVE = re.compile(r"^now(-\d+[smhdwMy])?(/[smhdwMy])?$")
_EPOCH_MS = re.compile(r"^\d{10,16}$")  # absolute times as the web UI's URL writes them
_COLOR = re.compile(
    r"^(#[0-9a-fA-F]{3,8}|[a-z]{3,20}|rgba?\(\s*[\d.]+%?(\s*,\s*[\d.]+%?){2,3}\s*\))$"
)
_LABEL_VALUES = re.compile(
    r"^label_values\(\s*(?:(?P<metric>[^,]+?)\s*,\s*)?(?P<label>[a-zA-Z_]\w*)\s*\)$"
)


class DashboardError(ValueError):
    """A dashboard definition that cannot be used; the message names the field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class GridPos(_Strict):
    """Where a panel sits on the 24-column grid (``h`` in rows of 30 px)."""

    x: int = Field(0, ge=0, lt=GRID_COLUMNS)
    y: int = Field(0, ge=0, le=10_000)
    w: int = Field(12, ge=1, le=GRID_COLUMNS)
    h: int = Field(8, ge=1, le=100)

    @model_validator(mode="after")
    def _fits(self) -> GridPos:
        if self.x + self.w > GRID_COLUMNS:
            raise ValueError(f"x + w is {self.x + self.w}: the grid has {GRID_COLUMNS} columns")
        return self


class Threshold(_Strict):
    value: float | None = Field(None, description="null: the base colour, below every step")
    color: str = Field(..., max_length=40)

    @field_validator("color")
    @classmethod
    def _color(cls, value: str) -> str:
        if not _COLOR.match(value):
            raise ValueError(f"{value!r} is not a colour (#rrggbb, a name, rgb(...))")
        return value


class PanelQuery(_Strict):
    """``promql``: a PromQL expression; ``logs`` / ``traces``: the query string of
    ``/api/v1/logs`` / ``/api/v1/traces`` (``service=$service&level=error``)."""

    kind: Literal["promql", "logs", "traces"] = "promql"
    expr: str = Field("", max_length=10_000)

    @model_validator(mode="after")
    def _expr(self) -> PanelQuery:
        if self.kind == "promql":
            if not self.expr:
                raise ValueError("a PromQL panel needs an expr")
            return self
        allowed = LOG_PARAMS if self.kind == "logs" else TRACE_PARAMS
        for key, _ in parse_qsl(self.expr, keep_blank_values=True):
            if key not in allowed:
                raise ValueError(
                    f"{key!r} is not a {self.kind} search parameter: one of "
                    + ", ".join(sorted(allowed))
                )
        return self


class Panel(_Strict):
    id: int = Field(..., ge=1, le=1_000_000)
    type: Literal["timeseries", "stat", "gauge", "bar", "table", "heatmap", "logs", "traces"]
    title: str = Field("", max_length=200)
    description: str = Field("", max_length=2000)
    query: PanelQuery
    legend: str = Field("", max_length=200, description="legend template: {{route}}")
    unit: str = Field("short")
    decimals: int | None = Field(None, ge=0, le=10)
    min: float | None = None
    max: float | None = None
    thresholds: list[Threshold] = Field(default_factory=list, max_length=20)
    grid: GridPos = Field(default_factory=lambda: GridPos.model_validate({}))

    @field_validator("unit")
    @classmethod
    def _unit(cls, value: str) -> str:
        if value not in UNITS:
            raise ValueError(f"unknown unit {value!r}: one of {', '.join(UNITS)}")
        return value

    @model_validator(mode="after")
    def _kind(self) -> Panel:
        wanted = {"logs": "logs", "traces": "traces"}.get(self.type, "promql")
        if self.query.kind != wanted:
            raise ValueError(f"a {self.type} panel takes a {wanted} query, not {self.query.kind}")
        return self


class Variable(_Strict):
    """``query``: ``label_values(label)`` or ``label_values(metric, label)``;
    ``custom``: comma-separated values."""

    name: str = Field(..., max_length=64)
    label: str = Field("", max_length=200)
    type: Literal["query", "custom"] = "query"
    query: str = Field(..., min_length=1, max_length=2000)
    multi: bool = False
    include_all: bool = False
    current: list[str] = Field(default_factory=list, max_length=1000)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(f"{value!r} is not a variable name (letters, digits, _)")
        return value

    @model_validator(mode="after")
    def _query(self) -> Variable:
        if self.type == "query" and not _LABEL_VALUES.match(self.query):
            raise ValueError(
                "a query variable's query is label_values(label) or label_values(metric, label)"
            )
        return self

    def label_query(self) -> tuple[str | None, str]:
        """``(metric selector or None, label)`` of a ``label_values`` query."""
        m = _LABEL_VALUES.match(self.query)
        if m is None:
            raise ValueError(f"{self.query!r} is not label_values(...)")
        return m.group("metric"), m.group("label")


class TimeRange(_Strict):
    from_: str = Field("now-1h", alias="from", max_length=64)
    to: str = Field("now", max_length=64)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("from_", "to")
    @classmethod
    def _time(cls, value: str) -> str:
        if _RELATIVE.match(value) or _EPOCH_MS.match(value):
            return value
        try:
            rfc3339_ns(value)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a time: now, now-15m, now-7d, epoch ms or RFC 3339"
            ) from None
        return value


class Dashboard(_Strict):
    id: str = Field("", max_length=40, description="empty: the hub makes one from the title")
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=2000)
    tags: list[str] = Field(default_factory=list, max_length=20)
    time: TimeRange = Field(default_factory=lambda: TimeRange.model_validate({}))
    refresh: str | None = None
    variables: list[Variable] = Field(default_factory=list, max_length=20)
    panels: list[Panel] = Field(default_factory=list, max_length=100)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if value and not _ID.match(value):
            raise ValueError("an id is 1-40 of a-z, 0-9, - and _, starting with a letter or digit")
        return value

    @field_validator("tags")
    @classmethod
    def _tags(cls, value: list[str]) -> list[str]:
        for tag in value:
            if not tag or len(tag) > 50:
                raise ValueError("a tag is 1-50 characters")
        return value

    @field_validator("refresh")
    @classmethod
    def _refresh(cls, value: str | None) -> str | None:
        if value in (None, "", "off"):
            return None
        if value not in REFRESH_INTERVALS:
            raise ValueError(f"refresh is null or one of {', '.join(REFRESH_INTERVALS)}")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Dashboard:
        ids = [p.id for p in self.panels]
        if len(ids) != len(set(ids)):
            raise ValueError("two panels have the same id")
        names = [v.name for v in self.variables]
        if len(names) != len(set(names)):
            raise ValueError("two variables have the same name")
        return self

    def to_json(self) -> dict[str, Any]:
        """The definition as the API and the export give it (``time.from``, not ``from_``)."""
        return self.model_dump(by_alias=True)


# keys the API adds to a definition it returns; an imported copy may carry them back
_READ_ONLY = ("builtin", "created", "updated")


def parse_dashboard(data: Any) -> Dashboard:
    """Validate a dashboard definition (a dict from JSON).

    Example::

        >>> d = parse_dashboard({"title": "Checkout", "panels": [
        ...     {"id": 1, "type": "stat", "query": {"expr": "up"}}]})
        >>> d.panels[0].grid.w, d.time.from_
        (12, 'now-1h')
        >>> parse_dashboard({"title": "x", "refresh": "7s"})
        Traceback (most recent call last):
        ...
        berrys_monitoring.hub.dashboards._model.DashboardError: refresh: refresh is null or one of 5s, 10s, 30s, 1m, 5m
    """
    if not isinstance(data, dict):
        raise DashboardError("a dashboard is a JSON object")
    data = {k: v for k, v in data.items() if k not in _READ_ONLY}
    try:
        return Dashboard.model_validate(data)
    except ValidationError as exc:
        raise DashboardError(_message(exc)) from None


def _message(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join("from" if p == "from_" else str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "extra_forbidden":
            msg = "unknown field"
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts)
