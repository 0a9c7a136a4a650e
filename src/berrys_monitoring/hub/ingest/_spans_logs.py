"""OTLP traces and logs to store rows.

An item that cannot be stored (a trace id that is not 16 bytes, a timestamp past 2^63)
is rejected alone and counted in ``partial_success``; the rest of the request is kept.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue

from berrys_monitoring.hub.store import LogRow, SpanRow

__all__ = ["Mapped", "any_value", "attributes", "map_logs", "map_traces", "service_of"]

_MAX_INT64 = 2**63 - 1
_NO_TRACE = bytes(16)
_NO_SPAN = bytes(8)
UNKNOWN_SERVICE = "unknown_service"


def any_value(value: AnyValue) -> Any:
    """An OTLP AnyValue as plain JSON-able Python (bytes become base64 text)."""
    which = value.WhichOneof("value")
    if which == "string_value":
        return value.string_value
    if which == "int_value":
        return value.int_value
    if which == "double_value":
        return value.double_value
    if which == "bool_value":
        return value.bool_value
    if which == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if which == "kvlist_value":
        return attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    return None


def attributes(kvs: Iterable[KeyValue]) -> dict[str, Any]:
    return {kv.key: any_value(kv.value) for kv in kvs}


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def service_of(resource_attributes: dict[str, Any]) -> str:
    name = resource_attributes.get("service.name")
    return str(name) if name not in (None, "") else UNKNOWN_SERVICE


def _scope(scope: InstrumentationScope) -> str:
    out: dict[str, Any] = {"name": scope.name}
    if scope.version:
        out["version"] = scope.version
    if scope.attributes:
        out["attributes"] = attributes(scope.attributes)
    return _json(out)


class Mapped:
    """Rows, plus the count and first reason of items rejected on the way.

    Call :meth:`confirm` once the rows are stored: state the mapping derived from them
    (the running totals of delta metrics) is kept only then, so a request that is refused
    and retried is not counted twice."""

    __slots__ = ("_on_confirm", "error", "rejected", "rows", "staged")

    def __init__(self, on_confirm: Callable[[dict[Any, Any]], None] | None = None) -> None:
        self.rows: list[Any] = []
        self.rejected = 0
        self.error = ""
        self.staged: dict[Any, Any] = {}
        self._on_confirm = on_confirm

    def confirm(self) -> None:
        if self._on_confirm is not None and self.staged:
            self._on_confirm(self.staged)

    def reject(self, why: str) -> None:
        self.rejected += 1
        if not self.error:
            self.error = why


def map_traces(request: ExportTraceServiceRequest) -> Mapped:
    out = Mapped()
    for rs in request.resource_spans:
        res = attributes(rs.resource.attributes)
        service = service_of(res)
        resource = _json(res)
        for ss in rs.scope_spans:
            scope = _scope(ss.scope)
            for span in ss.spans:
                tid, sid, pid = span.trace_id, span.span_id, span.parent_span_id
                if len(tid) != 16 or tid == _NO_TRACE:
                    out.reject(f"span {span.name!r}: trace_id must be 16 bytes, not all zero")
                    continue
                if len(sid) != 8 or sid == _NO_SPAN:
                    out.reject(f"span {span.name!r}: span_id must be 8 bytes, not all zero")
                    continue
                if pid and len(pid) != 8:
                    out.reject(f"span {span.name!r}: parent_span_id must be 8 bytes")
                    continue
                start, end = span.start_time_unix_nano, span.end_time_unix_nano
                if start > _MAX_INT64 or end > _MAX_INT64:
                    out.reject(f"span {span.name!r}: timestamp out of range")
                    continue
                events = [
                    {
                        "time_ns": min(e.time_unix_nano, _MAX_INT64),
                        "name": e.name,
                        "attributes": attributes(e.attributes),
                    }
                    for e in span.events
                ]
                links = [
                    {
                        "trace_id": link.trace_id.hex(),
                        "span_id": link.span_id.hex(),
                        "attributes": attributes(link.attributes),
                    }
                    for link in span.links
                ]
                out.rows.append(
                    SpanRow(
                        trace_id=tid,
                        span_id=sid,
                        parent_span_id=pid if pid and pid != _NO_SPAN else None,
                        name=span.name,
                        kind=int(span.kind),
                        service=service,
                        start_ns=start,
                        end_ns=max(end, start),
                        status_code=int(span.status.code),
                        status_message=span.status.message,
                        attributes=_json(attributes(span.attributes)),
                        events=_json(events) if events else None,
                        links=_json(links) if links else None,
                        resource=resource,
                        scope=scope,
                    )
                )
    return out


_SEVERITY_TEXT = ("", "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")


def severity_text(number: int) -> str:
    """The short name of an OTLP severity number (1-4 TRACE ... 21-24 FATAL)."""
    return _SEVERITY_TEXT[(number + 3) // 4] if 1 <= number <= 24 else ""


def map_logs(request: ExportLogsServiceRequest) -> Mapped:
    out = Mapped()
    now = time.time_ns()
    for rl in request.resource_logs:
        res = attributes(rl.resource.attributes)
        service = service_of(res)
        resource = _json(res)
        for sl in rl.scope_logs:
            scope = _scope(sl.scope)
            for rec in sl.log_records:
                tid, sid = rec.trace_id, rec.span_id
                if tid and len(tid) != 16:
                    out.reject("log record: trace_id must be 16 bytes when present")
                    continue
                if sid and len(sid) != 8:
                    out.reject("log record: span_id must be 8 bytes when present")
                    continue
                t, observed = rec.time_unix_nano, rec.observed_time_unix_nano
                if t > _MAX_INT64 or observed > _MAX_INT64:
                    out.reject("log record: timestamp out of range")
                    continue
                body = any_value(rec.body)
                attrs = attributes(rec.attributes)
                if rec.event_name:
                    attrs.setdefault("event.name", rec.event_name)
                number = int(rec.severity_number)
                out.rows.append(
                    LogRow(
                        time_ns=t or observed or now,
                        observed_ns=observed or now,
                        severity_number=number,
                        severity_text=rec.severity_text or severity_text(number),
                        body=body
                        if isinstance(body, str)
                        else ("" if body is None else _json(body)),
                        service=service,
                        trace_id=tid if tid and tid != _NO_TRACE else None,
                        span_id=sid if sid and sid != _NO_SPAN else None,
                        attributes=_json(attrs),
                        resource=resource,
                        scope=scope,
                        flags=int(rec.flags),
                    )
                )
    return out
