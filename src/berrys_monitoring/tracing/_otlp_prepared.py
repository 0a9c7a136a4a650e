"""Spans encoded when they end, queued as ``bytes``, sent in batches.

A queued ``ReadableSpan`` holds ~8 GC-tracked containers until the next export; a
``bytes`` object is never tracked. So our batch processor queues spans pre-encoded
(:func:`prepare_span`, and :func:`encode_server_span` for the middleware's lean server
span), each prefixed by two bytes naming its (resource, scope) group (:func:`group_tag`),
and :func:`encode_prepared` assembles the ``ExportTraceServiceRequest`` of a batch. The
wire format is that of ``_otlp_encode`` (and of the official encoder, pinned by tests).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry.trace import StatusCode

from berrys_monitoring.tracing._otlp_encode import (
    _HAS_IS_REMOTE,
    _IS_REMOTE,
    _U32,
    _U64,
    _attributes,
    _field,
    _name_memo,
    _resource,
    _scope,
    _span,
    _varint,
    name_field,
    status_field,
    trace_state_field,
)

__all__ = ["encode_prepared", "encode_server_span", "group_tag", "prepare_span"]


# A pre-encoded span (``prepare_span``) is one ``bytes``: two bytes naming its (resource,
# scope) pair, then the encoded span. The collector never tracks bytes, so a queued span
# no longer counts towards a gen-0 collection nor is promoted, with the ~8 containers of
# a ReadableSpan, to the old generation while it waits for the next export (full
# collections over the whole heap then cost a fully sampled server ~10 µs per request).
_group_keys: dict[tuple[int, int], int] = {}
_groups: list[tuple[Any, Any]] = []
_MAX_GROUPS = 1024
_GROUP_TAGS = [g.to_bytes(2, "big") for g in range(_MAX_GROUPS)]
_groups_lock = threading.Lock()


# SDK SpanKind.SERVER is 1, the OTLP enum value 2.
_KIND_SERVER = b"\x30\x02"
_NO_STATUS = b"\x7a\x00"
_UNSET = StatusCode.UNSET
_LOCAL_PARENT = b"\x85\x01" + _U32(_HAS_IS_REMOTE)
_REMOTE_PARENT = b"\x85\x01" + _U32(_HAS_IS_REMOTE | _IS_REMOTE)


def encode_server_span(span: Any) -> bytes:
    """:func:`_span` for the middleware's lean ``ServerSpan`` (kind SERVER, no events or
    links, its span context a plain tuple): the same bytes with fewer steps.
    """
    if span.events or span.links:
        return _span(span)
    trace_id, span_id, _, _, trace_state = span.context[:5]
    out = [b"\x0a\x10", trace_id.to_bytes(16, "big"), b"\x12\x08", span_id.to_bytes(8, "big")]
    if trace_state:
        out.append(trace_state_field(trace_state))
    parent = span.parent
    if parent is not None:
        out.append(b"\x22\x08" + parent[1].to_bytes(8, "big"))
    out.append(_name_memo.get(span.name) or name_field(span.name))
    out.append(_KIND_SERVER)
    out.append(b"\x39" + _U64(span.start_time))
    out.append(b"\x41" + _U64(span.end_time))
    out.append(_attributes(b"\x4a", span.attributes))
    if span.dropped_attributes:
        out.append(b"\x50" + _varint(span.dropped_attributes))
    status = span.status
    if status.status_code is _UNSET and not status.description:
        out.append(_NO_STATUS)
    else:
        out.append(status_field(status))
    out.append(_REMOTE_PARENT if parent is not None and parent[2] else _LOCAL_PARENT)
    return _field(b"\x12", b"".join(out))


def group_tag(resource: Any, scope: Any) -> bytes | None:
    """The two bytes naming the (resource, scope) pair of prepared spans, or None when
    there are too many pairs (see :func:`prepare_span`).

    Example::

        >>> from opentelemetry.sdk.resources import Resource
        >>> len(group_tag(Resource.create({}), None))
        2
    """
    ident = (id(resource), id(scope))
    # The pairs are kept alive by ``_groups``, so an id in a key is never reused.
    group = _group_keys.get(ident)
    if group is None:
        with _groups_lock:  # request threads race to register a new pair
            group = _group_keys.get(ident)
            if group is None:
                if len(_groups) >= _MAX_GROUPS:
                    return None
                group = len(_groups)
                _groups.append((resource, scope))
                _group_keys[ident] = group
    return _GROUP_TAGS[group]


def prepare_span(span: Any) -> bytes | None:
    """The span encoded for :func:`encode_prepared` (its group, then its bytes); None
    when the span's (resource, scope) pair cannot be given a group (too many of them).

    Example::

        >>> from opentelemetry.sdk.trace import TracerProvider
        >>> with TracerProvider().get_tracer("doc").start_as_current_span("op") as s:
        ...     pass
        >>> item = prepare_span(s)
        >>> isinstance(item, bytes) and encode_prepared([item]) != b""
        True
    """
    tag = group_tag(span.resource, span.instrumentation_scope or None)
    return None if tag is None else tag + _span(span)


def encode_prepared(items: Sequence[bytes]) -> bytes:
    """The serialised ``ExportTraceServiceRequest`` for spans prepared by
    :func:`prepare_span`, grouped by resource and scope like :func:`encode_request`.

    Example::

        >>> encode_prepared([])
        b''
    """
    by_group: dict[int, list[bytes]] = {}
    for item in items:
        group = item[0] << 8 | item[1]
        data = item[2:]
        found = by_group.get(group)
        if found is None:
            by_group[group] = [data]
        else:
            found.append(data)
    by_resource: dict[int, tuple[Any, list[bytes]]] = {}
    for group, encoded in by_group.items():
        resource, scope = _groups[group]
        entry = by_resource.get(id(resource))
        if entry is None:
            entry = by_resource[id(resource)] = (resource, [_resource(resource)])
        scope_body = _scope(scope) + b"".join(encoded)
        url = scope.schema_url if scope is not None else None
        if url:
            scope_body += _field(b"\x1a", url.encode("utf-8"))
        entry[1].append(_field(b"\x12", scope_body))
    out = []
    for resource, body in by_resource.values():
        if resource.schema_url:
            body.append(_field(b"\x1a", resource.schema_url.encode("utf-8")))
        out.append(_field(b"\x0a", b"".join(body)))
    return b"".join(out)
