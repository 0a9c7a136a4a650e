"""The query API under ``/api/v1``: JSON, described by ``/openapi.json``.

Every parameter is declared in a model that forbids extra fields, so a misspelt
parameter is a 400 with a message rather than a filter silently ignored.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import anyio.to_thread
import orjson
from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from berrys_monitoring.hub._red import service_figures
from berrys_monitoring.hub._time import rfc3339_ns
from berrys_monitoring.hub.promql import QueryBackend
from berrys_monitoring.hub.store import (
    LogQuery,
    Store,
    StoreBusyError,
    TargetRow,
    TraceQuery,
)

__all__ = ["build_router", "parse_duration_ns", "parse_time_ns"]

_LEVELS = {
    "trace": 1, "debug": 5, "info": 9, "warn": 13, "warning": 13, "error": 17,
    "fatal": 21, "critical": 21,
}  # fmt: skip
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)?$")
_DURATION_NS = {"ns": 1, "us": 10**3, "µs": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
                "h": 3600 * 10**9}  # fmt: skip
_TRACE_ID = r"^[0-9a-fA-F]{32}$"
_NUMBER = re.compile(r"^-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?$")


def parse_time_ns(value: str) -> int:
    """Unix seconds (``1733220000.5``) or RFC 3339 (``2024-12-03T10:00:00Z``) in ns.

    Example::

        >>> parse_time_ns("1.5"), parse_time_ns("1970-01-01T00:00:02Z")
        (1500000000, 2000000000)
    """
    try:
        ns = round(float(value) * 1e9) if _NUMBER.match(value.strip()) else rfc3339_ns(value)
    except (ValueError, OverflowError):
        raise ValueError(f"{value!r} is not a time: give Unix seconds or RFC 3339") from None
    if not 0 <= ns < 2**63:
        raise ValueError(f"{value!r} is out of range")
    return ns


def parse_duration_ns(value: str) -> int:
    """``"250ms"``, ``"1.5s"``, ``"100us"``; a bare number is milliseconds.

    Example::

        >>> parse_duration_ns("1.5s"), parse_duration_ns("20")
        (1500000000, 20000000)
    """
    m = _DURATION.match(value.strip())
    if m is None:
        raise ValueError(f"{value!r} is not a duration (examples: 250ms, 1.5s, 2m)")
    ns = int(float(m.group(1)) * _DURATION_NS[m.group(2) or "ms"])
    if ns >= 2**63:
        raise ValueError(f"{value!r} is out of range")
    return ns


def _attribute_pairs(values: list[str]) -> tuple[tuple[str, str], ...]:
    out = []
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"attribute {item!r} must be key=value")
        if '"' in key:
            raise ValueError(f"attribute key {key!r} cannot contain a double quote")
        out.append((key, value))
    return tuple(out)


class _Window(BaseModel):
    model_config = ConfigDict(extra="forbid")

    start: str | None = Field(None, description="Unix seconds or RFC 3339; default: no bound")
    end: str | None = Field(None, description="Unix seconds or RFC 3339; default: no bound")

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None:
            parse_time_ns(value)
        return value

    @model_validator(mode="after")
    def _ordered(self) -> _Window:
        start, end = self.bounds()
        if start is not None and end is not None and start > end:
            raise ValueError("start is after end")
        return self

    def bounds(self) -> tuple[int | None, int | None]:
        return (
            parse_time_ns(self.start) if self.start is not None else None,
            parse_time_ns(self.end) if self.end is not None else None,
        )


class _AttributeFilter(_Window):
    """A search that also filters on attributes: ``key=value``, repeatable."""

    attribute: list[str] = Field(default_factory=list, description="key=value, repeatable")

    @field_validator("attribute")
    @classmethod
    def _attributes(cls, value: list[str]) -> list[str]:
        _attribute_pairs(value)
        return value


class ServiceParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    window: str = Field(
        "5m", description="the window of the RED figures: a PromQL duration (30s, 5m, 1h)"
    )

    @field_validator("window")
    @classmethod
    def _window(cls, value: str) -> str:
        if not re.fullmatch(r"(\d+(ms|s|m|h|d|w|y))+", value):
            raise ValueError(f"{value!r} is not a PromQL duration (examples: 30s, 5m, 1h)")
        return value


def _figures(f: dict[str, Any]) -> dict[str, Any]:
    """One service's RED figures (``None`` when its metrics say nothing) and health."""
    keys = ("request_rate", "error_rate", "p50_seconds", "p95_seconds", "p99_seconds")
    return {**{k: f.get(k) for k in keys}, "health": f.get("health")}


class TraceSearch(_AttributeFilter):
    service: str | None = None
    operation: str | None = Field(None, description="span name")
    status: Literal["error", "ok"] | None = None
    min_duration: str | None = Field(None, description="of a matching span: 250ms, 1.5s")
    max_duration: str | None = None
    limit: int = Field(20, ge=1, le=1000)

    @field_validator("min_duration", "max_duration")
    @classmethod
    def _duration(cls, value: str | None) -> str | None:
        if value is not None:
            parse_duration_ns(value)
        return value


class LogSearch(_AttributeFilter):
    service: str | None = None
    level: str | None = Field(None, description="this level and above: debug, info, warn, ...")
    q: str | None = Field(None, description="free text in the body", max_length=1000)
    trace_id: str | None = Field(None, pattern=_TRACE_ID)

    @field_validator("level")
    @classmethod
    def _level(cls, value: str | None) -> str | None:
        if value is not None:
            _severity(value)
        return value

    def query(self, **extra: Any) -> LogQuery:
        start, end = self.bounds()
        return LogQuery(
            start_ns=start,
            end_ns=end,
            service=self.service,
            min_severity=_severity(self.level) if self.level else None,
            text=self.q or None,
            trace_id=bytes.fromhex(self.trace_id) if self.trace_id else None,
            attributes=_attribute_pairs(self.attribute),
            **extra,
        )


class LogPageParams(LogSearch):
    limit: int = Field(100, ge=1, le=1000)
    cursor: str | None = Field(None, description="next_cursor of the previous page")

    @field_validator("cursor")
    @classmethod
    def _cursor(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_cursor(value)
        return value


class LogCountParams(LogSearch):
    step: str | None = Field(None, description="bucket width (default: the window / 60)")

    @field_validator("step")
    @classmethod
    def _step(cls, value: str | None) -> str | None:
        if value is not None and parse_duration_ns(value) <= 0:
            raise ValueError("step must be positive")
        return value


class SampleParams(_Window):
    name: str = Field(..., min_length=1, description="metric name, e.g. http_requests_total")
    label: list[str] = Field(default_factory=list, description="name=value, repeatable")

    @field_validator("label")
    @classmethod
    def _labels(cls, value: list[str]) -> list[str]:
        _attribute_pairs(value)
        return value


_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class TargetIn(BaseModel):
    """A service that asks to be scraped and probed (repeated on an interval, so that a
    restarted hub learns its targets again)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., description="base URL, e.g. http://10.0.0.5:8000", max_length=2000)
    job: str = Field(..., min_length=1, max_length=200, description="usually the service name")
    metrics_path: str = Field("/metrics", max_length=500)
    health_path: str = Field("/health", max_length=500)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be an http(s) URL with a host")
        try:
            parts.port  # noqa: B018 - raises on a malformed port
        except ValueError as exc:
            raise ValueError(f"url: {exc}") from None
        return value.rstrip("/")

    @field_validator("metrics_path", "health_path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not value.startswith("/"):
            raise ValueError("a path must start with /")
        return value

    @field_validator("labels")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _LABEL_NAME.match(name) or name.startswith("__"):
                raise ValueError(f"{name!r} is not a valid label name")
        return value


class TargetDelete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(..., max_length=2000)


def _severity(level: str) -> int:
    if level.isdigit() and 1 <= int(level) <= 24:
        return int(level)
    try:
        return _LEVELS[level.lower()]
    except KeyError:
        raise ValueError(f"unknown level {level!r}: one of {', '.join(_LEVELS)} or 1-24") from None


def _parse_cursor(value: str) -> tuple[int, int]:
    t, sep, rowid = value.partition(".")
    if not sep or not t.isdigit() or not rowid.isdigit():
        raise ValueError("malformed cursor")
    return int(t), int(rowid)


def _json(value: Any) -> Response:
    return Response(orjson.dumps(value), media_type="application/json")


_TAIL_POLL_S = 0.25  # how often a live tail looks for new records


def build_router(
    store: Store,
    *,
    target_state: Callable[[str], dict[str, Any] | None] | None = None,
    query_backend: Callable[[], QueryBackend | None] | None = None,
) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["query"])

    @router.get(
        "/services",
        summary="every service seen in any signal, with its RED figures and health",
    )
    async def services(params: Annotated[ServiceParams, Query()]) -> Response:
        infos = await anyio.to_thread.run_sync(store.services)
        backend = query_backend() if query_backend is not None else None
        figures: dict[str, Any] = {}
        if backend is not None:
            figures = await anyio.to_thread.run_sync(
                service_figures, backend, time.time(), params.window
            )
        known = {s.name for s in infos}
        rows = [
            {
                "name": s.name,
                "last_seen_ns": s.last_seen_ns,
                "span_count": s.signals.get("spans", 0),
                "log_count": s.signals.get("logs", 0),
                "sample_count": s.signals.get("metrics", 0),
                **_figures(figures.get(s.name, {})),
            }
            for s in infos
        ]
        # a scraped job that sent nothing else is a service too
        rows += [
            {"name": job, "last_seen_ns": None, "span_count": 0, "log_count": 0,
             "sample_count": None, **_figures(f)}
            for job, f in sorted(figures.items())
            if job not in known
        ]  # fmt: skip
        return _json({"window": params.window, "services": rows})

    @router.get("/traces", summary="search traces; newest first")
    async def search_traces(params: Annotated[TraceSearch, Query()]) -> Response:
        start, end = params.bounds()
        query = TraceQuery(
            service=params.service,
            operation=params.operation,
            status=params.status,
            min_duration_ns=parse_duration_ns(params.min_duration) if params.min_duration else None,
            max_duration_ns=parse_duration_ns(params.max_duration) if params.max_duration else None,
            attributes=_attribute_pairs(params.attribute),
            start_ns=start,
            end_ns=end,
            limit=params.limit,
        )
        found = await anyio.to_thread.run_sync(store.search_traces, query)
        return _json({"traces": found})  # orjson encodes the dataclasses

    @router.get("/traces/{trace_id}", summary="every span of one trace")
    async def get_trace(
        trace_id: Annotated[str, Path(pattern=_TRACE_ID, description="32 hex digits")],
    ) -> Response:
        spans = await anyio.to_thread.run_sync(store.get_trace, bytes.fromhex(trace_id))
        if spans == "[]":
            raise HTTPException(404, f"no trace {trace_id.lower()}")
        body = f'{{"trace_id":"{trace_id.lower()}","spans":{spans}}}'
        return Response(body.encode(), media_type="application/json")

    @router.get("/logs", summary="search log records; newest first, cursor pagination")
    async def search_logs(params: Annotated[LogPageParams, Query()]) -> Response:
        before = _parse_cursor(params.cursor) if params.cursor else None
        query = params.query(limit=params.limit, before=before)
        page = await anyio.to_thread.run_sync(store.search_logs, query)
        cursor = f"{page.next_cursor[0]}.{page.next_cursor[1]}" if page.next_cursor else None
        return _json({"logs": page.records, "next_cursor": cursor})

    @router.get(
        "/logs/tail",
        summary="live tail: matching log records as they arrive (Server-Sent Events)",
        response_class=Response,
    )
    async def tail_logs(
        request: Request,
        params: Annotated[LogSearch, Query()],
        last_event_id: Annotated[str | None, Header()] = None,
    ) -> StreamingResponse:
        """One ``data:`` event per record, oldest first, each with its ``id:``: a client
        that reconnects with ``Last-Event-ID`` (as ``EventSource`` does) misses nothing
        still stored. A comment line every 15 s keeps idle connections open."""
        query = params.query(limit=500)
        if last_event_id is not None and last_event_id.isdigit():
            start = int(last_event_id)
        else:
            start = await anyio.to_thread.run_sync(store.last_log_id)

        async def events() -> AsyncIterator[bytes]:
            after = start
            idle = 0.0
            yield b": tailing\n\n"
            while not await request.is_disconnected():
                page = await anyio.to_thread.run_sync(
                    store.search_logs, dataclasses.replace(query, after_id=after)
                )
                for record in page.records:
                    after = int(str(record["id"]))
                    yield b"id: %d\ndata: %s\n\n" % (after, orjson.dumps(record))
                if page.records:
                    idle = 0.0
                    continue
                await anyio.sleep(_TAIL_POLL_S)
                idle += _TAIL_POLL_S
                if idle >= 15.0:
                    idle = 0.0
                    yield b": keep-alive\n\n"

        return StreamingResponse(
            events(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.get("/logs/counts", summary="log records per time bucket (default: last hour)")
    async def log_counts(params: Annotated[LogCountParams, Query()]) -> Response:
        start, end = params.bounds()
        end = end if end is not None else time.time_ns()
        start = start if start is not None else end - 3600 * 10**9
        if start > end:
            raise HTTPException(400, "start is after end")
        step = parse_duration_ns(params.step) if params.step else max(1, (end - start) // 60)
        if (end - start) // step > 10_000:
            raise HTTPException(400, "too many buckets: make step larger")
        query = dataclasses.replace(params.query(), start_ns=start, end_ns=end)
        counts = await anyio.to_thread.run_sync(store.log_counts, query, step)
        return _json(
            {
                "start_ns": start,
                "end_ns": end,
                "step_ns": step,
                "buckets": [{"start_ns": b, "count": n} for b, n in counts],
            }
        )

    @router.get(
        "/dependencies",
        summary="the service dependency graph: caller -> callee, calls and errors "
        "(default: the last hour)",
    )
    async def dependencies(params: Annotated[_Window, Query()]) -> Response:
        start, end = params.bounds()
        end = end if end is not None else time.time_ns()
        start = start if start is not None else end - 3600 * 10**9
        if start > end:
            raise HTTPException(400, "start is after end")
        edges = await anyio.to_thread.run_sync(store.dependencies, start, end)
        services = sorted({e[k] for e in edges for k in ("caller", "callee")}, key=str)
        return _json({"start_ns": start, "end_ns": end, "services": services, "edges": edges})

    @router.get("/targets", summary="the services to scrape and probe")
    async def targets() -> Response:
        targets = await anyio.to_thread.run_sync(store.targets)
        if target_state is not None:
            for t in targets:
                t["scrape"] = target_state(str(t["url"]))
        return _json({"targets": targets})

    @router.post(
        "/targets",
        summary="add a target, or refresh it (201 when new, 200 when known)",
    )
    async def put_target(target: TargetIn) -> Response:
        row = TargetRow(
            url=target.url,
            job=target.job,
            metrics_path=target.metrics_path,
            health_path=target.health_path,
            labels=orjson.dumps(target.labels, option=orjson.OPT_SORT_KEYS).decode(),
            source="api",
        )
        try:
            new = await anyio.to_thread.run_sync(lambda: store.put_target(row).result())
        except StoreBusyError as exc:
            raise HTTPException(503, f"the hub is busy ({exc}); retry later") from None
        return Response(
            orjson.dumps({**target.model_dump(), "url": target.url}),
            201 if new else 200,
            media_type="application/json",
        )

    @router.delete("/targets", summary="remove a target", status_code=204)
    async def delete_target(params: Annotated[TargetDelete, Query()]) -> Response:
        url = params.url.rstrip("/")
        try:
            found = await anyio.to_thread.run_sync(lambda: store.delete_target(url).result())
        except StoreBusyError as exc:
            raise HTTPException(503, f"the hub is busy ({exc}); retry later") from None
        if not found:
            raise HTTPException(404, f"no target {url}")
        return Response(status_code=204)

    @router.get("/metrics/samples", summary="raw samples of the series of one metric")
    async def samples(params: Annotated[SampleParams, Query()]) -> Response:
        start, end = params.bounds()
        start_ms = start // 10**6 if start is not None else None
        end_ms = end // 10**6 if end is not None else None
        matchers = tuple(sorted({("__name__", params.name), *_attribute_pairs(params.label)}))

        def load() -> list[dict[str, Any]]:
            out = []
            for sid, labels in store.series(matchers, start_ms, end_ms):
                ts, vs = store.samples(sid, start_ms, end_ms)
                out.append(
                    {"labels": dict(labels), "samples": [list(p) for p in zip(ts, vs, strict=True)]}
                )
            return out

        return _json({"series": await anyio.to_thread.run_sync(load)})

    return router
