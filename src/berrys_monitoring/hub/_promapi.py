"""Prometheus' HTTP query API (``/api/v1/query``, ``query_range``, ``series``, ``labels``,
``label/{name}/values``, ``metadata``, ``status/buildinfo``, ``query_exemplars``) over the
hub's one :class:`~berrys_monitoring.hub.promql.QueryBackend`.

Parameters, JSON shapes and errors are Prometheus' own
(https://prometheus.io/docs/prometheus/latest/querying/api/), so Grafana's Prometheus data
source, ``promtool query`` and any Prometheus client work against the hub unchanged: GET
with a query string or POST with a form body, times as Unix seconds or RFC 3339, durations
as ``5m`` or seconds, ``match[]`` repeated, and errors as
``{"status": "error", "errorType": "bad_data", "error": "..."}`` with 400 (``bad_data``),
422 (``execution``) or 503 (``timeout``).
"""

from __future__ import annotations

import contextlib
import math
import re
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import anyio
import anyio.to_thread
import orjson
import promql_parser
from fastapi import APIRouter, Request
from fastapi.responses import Response

from berrys_monitoring._internal import report_internal_error
from berrys_monitoring._version import __version__
from berrys_monitoring.hub._time import rfc3339_ns
from berrys_monitoring.hub.promql import PromQLError
from berrys_monitoring.hub.promql._backend import QueryBackend

__all__ = [
    "MAX_POINTS",
    "build_promapi_router",
    "parse_prom_duration",
    "parse_prom_time",
]

#: Prometheus refuses a range query with more points per series than this.
MAX_POINTS = 11_000
_F = TypeVar("_F", bound=Callable[..., Any])
_STATUS = {"bad_data": 400, "execution": 422, "timeout": 503, "canceled": 499,
           "unavailable": 503, "not_found": 404, "internal": 500}  # fmt: skip
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")
_DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
_DURATION_S = (365 * 86400.0, 7 * 86400.0, 86400.0, 3600.0, 60.0, 1.0, 0.001)
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
# Prometheus' own bounds for an omitted start or end (the Unix epoch and far in the future
# are what any store holds).
_MIN_TIME = 0.0
_MAX_TIME = 4102444800.0  # 2100-01-01
_TIME_LIMIT = 1e13  # seconds either side of 1970: millisecond arithmetic stays in int64


class ApiError(Exception):
    """An error in Prometheus' shape: ``error_type`` picks the HTTP status."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def parse_prom_time(value: str) -> float:
    """A time parameter as Prometheus reads it: Unix seconds (``1733220000.5``) or RFC 3339.

    Example::

        >>> parse_prom_time("1.5"), parse_prom_time("1970-01-01T00:01:00Z")
        (1.5, 60.0)
    """
    text = value.strip()
    seconds = math.nan
    if _NUMBER.match(text):
        seconds = float(text)
    else:
        with contextlib.suppress(ValueError, OverflowError):
            seconds = rfc3339_ns(text) / 1e9
    if math.isnan(seconds):
        raise ValueError(f'cannot parse "{value}" to a valid timestamp')
    if not -_TIME_LIMIT <= seconds <= _TIME_LIMIT:
        raise ValueError(f'"{value}" is out of range (more than 300,000 years from 1970)')
    return seconds


def parse_prom_duration(value: str) -> float:
    """A duration parameter as Prometheus reads it: seconds (``15``, ``0.5``) or a PromQL
    duration (``1h30m``, ``5m``, ``250ms``).

    Example::

        >>> parse_prom_duration("1h30m"), parse_prom_duration("15"), parse_prom_duration("250ms")
        (5400.0, 15.0, 0.25)
    """
    text = value.strip()
    if _NUMBER.match(text):
        seconds = float(text)
        if math.isfinite(seconds) and abs(seconds) <= _TIME_LIMIT:
            return seconds
    else:
        m = _DURATION.match(text)
        if m is not None and text:
            groups = m.groups()[1::2]
            return sum(float(g) * unit for g, unit in zip(groups, _DURATION_S, strict=True) if g)
    raise ValueError(f'cannot parse "{value}" to a valid duration')


class _Params:
    """A request's parameters: the query string, plus the form body of a POST."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    @classmethod
    async def read(cls, request: Request) -> _Params:
        pairs = list(request.query_params.multi_items())
        if request.method == "POST":
            kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
            body = await request.body()
            if body and kind in ("application/x-www-form-urlencoded", ""):
                try:
                    pairs += parse_qsl(body.decode(), keep_blank_values=True)
                except (UnicodeDecodeError, ValueError):
                    raise ApiError("bad_data", "the form body is not URL-encoded UTF-8") from None
            elif body:
                raise ApiError(
                    "bad_data",
                    f"unsupported content type {kind!r}: POST application/x-www-form-urlencoded",
                )
        return cls(pairs)

    def get(self, name: str) -> str | None:
        for key, value in self.pairs:
            if key == name:
                return value
        return None

    def all(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]

    def time(self, name: str, default: float) -> float:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            return parse_prom_time(value)
        except ValueError as exc:
            raise ApiError("bad_data", f'invalid parameter "{name}": {exc}') from None

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise ApiError("bad_data", f'invalid parameter "{name}": missing')
        return value

    def duration(self, name: str) -> float | None:
        value = self.get(name)
        if value is None or value == "":
            return None
        try:
            return parse_prom_duration(value)
        except ValueError as exc:
            raise ApiError("bad_data", f'invalid parameter "{name}": {exc}') from None

    def limit(self) -> int:
        value = self.get("limit")
        if value is None or value == "":
            return 0
        try:
            limit = int(value)
        except ValueError:
            raise ApiError(
                "bad_data", f'invalid parameter "limit": cannot parse "{value}"'
            ) from None
        if limit < 0:
            raise ApiError("bad_data", 'invalid parameter "limit": must be a non-negative number')
        return limit

    def window(self) -> tuple[float, float]:
        start = self.time("start", _MIN_TIME)
        end = self.time("end", _MAX_TIME)
        if end < start:
            raise ApiError(
                "bad_data", 'invalid parameter "end": end timestamp must not be before start time'
            )
        return start, end


_PARAMS = {
    "query": "a PromQL expression",
    "time": "evaluation time: Unix seconds or RFC 3339 (default: now)",
    "start": "start time: Unix seconds or RFC 3339",
    "end": "end time: Unix seconds or RFC 3339",
    "step": "resolution: seconds or a duration such as 15s",
    "timeout": "evaluation timeout: seconds or a duration",
    "match[]": "a series selector; repeat for more",
    "limit": "at most this many results (0: all)",
    "metric": "only this metric",
    "limit_per_metric": "at most this many entries per metric",
}


def _openapi(*names: str, required: tuple[str, ...] = ()) -> dict[str, Any]:
    """The parameters for /openapi.json (they are read by hand, from the query string or
    the form body, so FastAPI cannot infer them)."""
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": name in required,
                "description": _PARAMS[name] + " (or in a POSTed form)",
                "schema": {"type": "array", "items": {"type": "string"}}
                if name == "match[]"
                else {"type": "string"},
            }
            for name in names
        ]
    }


def _success(data: Any, warnings: list[str] | None = None) -> Response:
    body: dict[str, Any] = {"status": "success", "data": data}
    if warnings:
        body["warnings"] = warnings
    return Response(orjson.dumps(body), 200, media_type="application/json")


def _failure(error_type: str, message: str) -> Response:
    body = {"status": "error", "errorType": error_type, "error": message}
    return Response(orjson.dumps(body), _STATUS.get(error_type, 422), media_type="application/json")


def _truncated(items: list[Any], limit: int, warnings: list[str]) -> list[Any]:
    if limit and len(items) > limit:
        warnings.append("results truncated due to limit")
        return items[:limit]
    return items


def build_promapi_router(
    backend: Callable[[], QueryBackend],
    *,
    metadata: Callable[[], Mapping[str, Mapping[str, str]]] = dict,
    clock: Callable[[], float] = time.time,
) -> APIRouter:
    """The Prometheus query API over ``backend()`` (called per request, so the app can
    swap its backend). ``metadata()`` gives each metric's type, help and unit.

    Example::

        >>> from berrys_monitoring.hub.promql import QueryResult
        >>> class Two:
        ...     def instant_query(self, query, time_s):
        ...         return QueryResult({"resultType": "scalar", "result": [time_s, "2"]}, [])
        >>> router = build_promapi_router(lambda: Two())
        >>> sorted({r.path for r in router.routes})[:3]
        ['/api/v1/label/{name}/values', '/api/v1/labels', '/api/v1/metadata']
    """
    router = APIRouter(prefix="/api/v1", tags=["PromQL (Prometheus HTTP API)"])

    def both(path: str, *, summary: str, openapi_extra: dict[str, Any]) -> Callable[[_F], _F]:
        """Register ``fn`` for GET and POST, each with its own OpenAPI operation id."""

        def register(fn: _F) -> _F:
            for method in ("GET", "POST"):
                router.add_api_route(
                    path,
                    fn,
                    methods=[method],
                    summary=summary,
                    openapi_extra=openapi_extra,
                    operation_id=f"prometheus_{fn.__name__.strip('_')}_{method.lower()}",
                )
            return fn

        return register

    async def run(fn: Callable[[], Any], timeout: float | None) -> Any:
        # the evaluation runs on a worker thread; past the timeout the answer is a 503
        with anyio.fail_after(timeout if timeout and timeout > 0 else None):
            return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)

    async def guarded(request: Request, handle: Callable[[_Params], Any]) -> Response:
        try:
            params = await _Params.read(request)
            return await handle(params)  # type: ignore[no-any-return]
        except ApiError as exc:
            return _failure(exc.error_type, str(exc))
        except PromQLError as exc:
            return _failure(str(getattr(exc, "error_type", "execution")), str(exc))
        except TimeoutError:
            return _failure("timeout", "query timed out in expression evaluation")
        except Exception as exc:  # a bug, never the client's fault: logged, and not a 5xx
            report_internal_error("hub.promql", exc, "a PromQL request failed")
            return _failure("execution", f"internal error: {type(exc).__name__}: {exc}")

    @both(
        "/query",
        summary="PromQL instant query",
        openapi_extra=_openapi("query", "time", "timeout", required=("query",)),
    )
    async def query(request: Request) -> Response:
        async def handle(p: _Params) -> Response:
            expr = p.required("query")
            at = p.time("time", clock())
            result = await run(lambda: backend().instant_query(expr, at), p.duration("timeout"))
            return _success(result.data, list(result.warnings))

        return await guarded(request, handle)

    @both(
        "/query_range",
        summary="PromQL range query",
        openapi_extra=_openapi(
            "query", "start", "end", "step", "timeout", required=("query", "start", "end", "step")
        ),
    )
    async def query_range(request: Request) -> Response:
        async def handle(p: _Params) -> Response:
            expr = p.required("query")
            start = p.time("start", math.nan) if p.get("start") else None
            end = p.time("end", math.nan) if p.get("end") else None
            if start is None:
                raise ApiError("bad_data", 'invalid parameter "start": missing')
            if end is None:
                raise ApiError("bad_data", 'invalid parameter "end": missing')
            if end < start:
                raise ApiError(
                    "bad_data",
                    'invalid parameter "end": end timestamp must not be before start time',
                )
            step = p.duration("step")
            if step is None:
                raise ApiError("bad_data", 'invalid parameter "step": missing')
            if step <= 0:
                raise ApiError(
                    "bad_data",
                    'invalid parameter "step": zero or negative query resolution step widths '
                    "are not accepted. Try a positive integer",
                )
            if (end - start) / step > MAX_POINTS:
                raise ApiError(
                    "bad_data",
                    "exceeded maximum resolution of 11,000 points per timeseries. "
                    "Try decreasing the query resolution (?step=XX)",
                )
            result = await run(
                lambda: backend().range_query(expr, start, end, step), p.duration("timeout")
            )
            return _success(result.data, list(result.warnings))

        return await guarded(request, handle)

    @both(
        "/series",
        summary="series matching match[]",
        openapi_extra=_openapi("match[]", "start", "end", "limit", required=("match[]",)),
    )
    async def series(request: Request) -> Response:
        async def handle(p: _Params) -> Response:
            matchers = p.all("match[]")
            if not matchers:
                raise ApiError("bad_data", "no match[] parameter provided")
            start, end = p.window()
            found = await run(lambda: backend().series(matchers, start, end), p.duration("timeout"))
            warnings: list[str] = []
            return _success(_truncated(list(found), p.limit(), warnings), warnings)

        return await guarded(request, handle)

    @both(
        "/labels",
        summary="label names",
        openapi_extra=_openapi("match[]", "start", "end", "limit"),
    )
    async def labels(request: Request) -> Response:
        async def handle(p: _Params) -> Response:
            matchers = p.all("match[]")
            start, end = p.window()
            found = await run(
                lambda: backend().label_names(matchers, start, end), p.duration("timeout")
            )
            warnings: list[str] = []
            return _success(_truncated(sorted(found), p.limit(), warnings), warnings)

        return await guarded(request, handle)

    @both(
        "/label/{name}/values",
        summary="the values of one label",
        openapi_extra=_openapi("match[]", "start", "end", "limit"),
    )
    async def label_values(request: Request, name: str) -> Response:
        async def handle(p: _Params) -> Response:
            if not _LABEL_NAME.match(name) and name != "__name__":
                raise ApiError("bad_data", f'invalid label name: "{name}"')
            matchers = p.all("match[]")
            start, end = p.window()
            found = await run(
                lambda: backend().label_values(name, matchers, start, end),
                p.duration("timeout"),
            )
            warnings: list[str] = []
            return _success(_truncated(sorted(found), p.limit(), warnings), warnings)

        return await guarded(request, handle)

    @both(
        "/metadata",
        summary="type, help and unit of each metric",
        openapi_extra=_openapi("metric", "limit", "limit_per_metric"),
    )
    async def metadata_(request: Request) -> Response:
        async def handle(p: _Params) -> Response:
            limit = p.limit()
            per_metric = p.get("limit_per_metric")
            try:
                each = int(per_metric) if per_metric else 0
            except ValueError:
                raise ApiError(
                    "bad_data", f'invalid parameter "limit_per_metric": cannot parse "{per_metric}"'
                ) from None
            metric = p.get("metric")
            known = backend_metadata()
            out: dict[str, list[dict[str, str]]] = {}
            for name in sorted(known):
                if metric and name != metric:
                    continue
                if limit and len(out) >= limit:
                    break
                entries = [dict(e) for e in known[name]]
                out[name] = entries[:each] if each > 0 else entries
            return _success(out)

        return await guarded(request, handle)

    def backend_metadata() -> dict[str, list[Mapping[str, str]]]:
        remote = getattr(backend(), "metadata", None)
        if callable(remote):  # a remote Prometheus knows its own metadata
            return dict(remote())
        return {name: [meta] for name, meta in metadata().items()}

    @router.get("/status/buildinfo", summary="the hub's version, in Prometheus' shape")
    async def buildinfo() -> Response:
        return _success(
            {
                "version": __version__,
                "revision": "",
                "branch": "",
                "buildUser": "berrys-monitoring",
                "buildDate": "",
                "goVersion": "",
            }
        )

    @both(
        "/query_exemplars",
        summary="exemplars: the hub keeps none, so always empty",
        openapi_extra=_openapi("query", "start", "end", required=("query",)),
    )
    async def query_exemplars(request: Request) -> Response:
        async def handle(p: _Params) -> Response:
            expr = p.required("query")
            p.window()
            try:
                promql_parser.parse(expr)
            except Exception as exc:  # the parser's own error type is not public
                raise ApiError("bad_data", f'invalid parameter "query": {exc}') from None
            return _success([])

        return await guarded(request, handle)

    return router
