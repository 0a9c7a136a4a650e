"""OTLP/protobuf encoding of finished spans, written straight to bytes, and the
pre-encoded spans our batch processor queues.

The official encoder builds a tree of protobuf message objects for every span (one per
attribute, value, event and link) and then serialises it: about 45 µs per server span on
the project machine, on the exporter thread but under the same GIL as the requests, so at
full sampling it was the largest single cost of tracing. This module writes the same
``ExportTraceServiceRequest`` wire format directly, with the encoded ``KeyValue`` of
repeating attributes (``http.request.method=GET``, ``http.route=/users/{id}``) memoised
and the resource and scope headers encoded once: a few µs per span.

The output parses to a message equal to the official encoder's (pinned by a test that
decodes both with the official protobuf classes); anything this module does not expect
raises, and the caller falls back to the official encoder for that batch.

A queued ``ReadableSpan`` holds ~8 GC-tracked containers until the next export; a
``bytes`` object is never tracked. So our batch processor queues spans pre-encoded
(:func:`prepare_span`, and :func:`encode_server_span` for the middleware's lean server
span), each prefixed by two bytes naming its (resource, scope) group (:func:`group_tag`),
and :func:`encode_prepared` assembles the ``ExportTraceServiceRequest`` of a batch.
Everything here reads spans through the ``ReadableSpan`` properties and attributes
through the ``Mapping`` protocol only.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from struct import Struct
from typing import Any

from opentelemetry.trace import StatusCode

__all__ = [
    "encode_prepared",
    "encode_request",
    "encode_server_span",
    "group_tag",
    "prepare_span",
]

_U64 = Struct("<Q").pack
_U32 = Struct("<I").pack
_F64 = Struct("<d").pack
_SMALL = [bytes((i,)) for i in range(128)]

# OTLP SpanFlags: "the parent's is_remote is known" and "the parent is remote".
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200


def _varint(n: int) -> bytes:
    if 0 <= n < 0x80:
        return _SMALL[n]
    if 0 < n < 0x4000:  # two bytes: most span and attribute lengths
        return bytes(((n & 0x7F) | 0x80, n >> 7))
    if n < 0:
        n += 1 << 64  # int64 two's complement, as protobuf writes negative ints
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload."""
    n = len(payload)
    return tag + (_SMALL[n] if n < 0x80 else _varint(n)) + payload


def _any_value(v: Any) -> bytes:
    """An ``AnyValue`` message body (same type rules as the official encoder)."""
    if v is None:
        return b""
    if isinstance(v, bool):
        return b"\x10\x01" if v else b"\x10\x00"
    if isinstance(v, str):
        return _field(b"\x0a", v.encode("utf-8"))
    if isinstance(v, int):
        return b"\x18" + _varint(v)
    if isinstance(v, float):
        return b"\x21" + _F64(v)
    if isinstance(v, bytes):
        return _field(b"\x3a", v)
    if isinstance(v, Sequence):
        return _field(b"\x2a", b"".join(_field(b"\x0a", _any_value(x)) for x in v))
    if isinstance(v, Mapping):
        kvs = b"".join(_field(b"\x0a", _key_value(str(k), x)) for k, x in v.items())
        return _field(b"\x32", kvs)
    raise TypeError(f"cannot encode attribute value of type {type(v).__name__}")


def _key_value(key: str, v: Any) -> bytes:
    return _field(b"\x0a", key.encode("utf-8")) + _field(b"\x12", _any_value(v))


# (tag, key, type, value) -> the tagged KeyValue bytes; bounded, cleared when full. The
# tag is part of the key: span, event and link attributes are different fields.
_kv_memo: dict[tuple[bytes, str, type, Any], bytes] = {}
_KV_MEMO_MAX = 8192
# Whole attribute sets -> their encoded fields (same rules as the per-attribute memo).
# (tag, keys, values, value types) -> the encoded block.
_block_memo: dict[tuple[bytes, tuple[str, ...], tuple[Any, ...], tuple[type, ...]], bytes] = {}
_BLOCK_MEMO_MAX = 4096
# Not float: -0.0 == 0.0 would share an entry.
_MEMO_TYPES = (str, int, bool)


def _attributes(tag: bytes, attrs: Mapping[str, Any] | None) -> bytes:
    """Every attribute as a repeated ``KeyValue`` field with tag ``tag``."""
    if not attrs:
        return b""
    # One plain dict to iterate: the lean server span's own, or a copy of the SDK's
    # read-only view (the generic Mapping machinery would cost a Python-level
    # __iter__ and __getitem__ per attribute, twice).
    source: Any = attrs
    if type(source) is not dict:
        # The SDK's view (a MappingProxyType over BoundedAttributes) copies in C.
        copy = getattr(source, "copy", None)
        source = copy() if copy is not None else dict(source)
        if type(source) is not dict:
            source = dict(source)
    items = source.items()
    # Spans of one route from one client repeat their whole attribute set: one lookup
    # for the encoded block instead of one per attribute.
    # The value types are part of the key: True == 1 == 1.0 would share an entry.
    try:
        values = tuple(source.values())
        block_key = (tag, tuple(source), values, tuple(map(type, values)))
        block = _block_memo.get(block_key)
    except TypeError:  # an unhashable value (a list): attribute by attribute
        block_key = None
        block = None
    if block is not None:
        return block
    parts = []
    memo = _kv_memo
    for k, v in items:
        t = type(v)
        if t in _MEMO_TYPES:
            key = (tag, k, t, v)
            enc = memo.get(key)
            if enc is None:
                enc = _field(tag, _key_value(k, v))
                # Unique values (ids, timestamps) must not grow the memo without bound.
                if len(memo) >= _KV_MEMO_MAX:
                    memo.clear()
                memo[key] = enc
            parts.append(enc)
        else:
            parts.append(_field(tag, _key_value(k, v)))
    block = b"".join(parts)
    if block_key is not None and all(type(v) in _MEMO_TYPES for v in block_key[2]):
        if len(_block_memo) >= _BLOCK_MEMO_MAX:
            _block_memo.clear()
        _block_memo[block_key] = block
    return block


def _flags(parent: Any) -> bytes:
    flags = _HAS_IS_REMOTE
    if parent is not None and parent.is_remote:
        flags |= _IS_REMOTE
    return _U32(flags)


_name_memo: dict[str, bytes] = {}


def name_field(name: str) -> bytes:
    """The encoded ``Span.name`` field (memoised: span names repeat)."""
    enc = _field(b"\x2a", name.encode("utf-8"))
    if len(_name_memo) >= 4096:
        _name_memo.clear()
    _name_memo[name] = enc
    return enc


def trace_state_field(trace_state: Any) -> bytes:
    """The encoded ``Span.trace_state`` field (W3C ``key=value`` list)."""
    return _field(b"\x1a", ",".join(f"{k}={v}" for k, v in trace_state.items()).encode())


def status_field(status: Any) -> bytes:
    """The encoded ``Span.status`` field."""
    body = b""
    if status.description:
        body = _field(b"\x12", status.description.encode("utf-8"))
    code = status.status_code.value
    if code:
        body += b"\x18" + _varint(code)
    return _field(b"\x7a", body)


def _span(span: Any) -> bytes:
    ctx = span.context
    out = [
        b"\x0a\x10",
        ctx.trace_id.to_bytes(16, "big"),
        b"\x12\x08",
        ctx.span_id.to_bytes(8, "big"),
    ]
    ts = ctx.trace_state
    if ts:
        out.append(trace_state_field(ts))
    parent = span.parent
    if parent is not None:
        out.append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
    out.append(_name_memo.get(span.name) or name_field(span.name))
    # SDK SpanKind INTERNAL..CONSUMER are 0..4, the OTLP enum values 1..5.
    out.append(b"\x30" + _SMALL[span.kind.value + 1])
    if span.start_time is not None:
        out.append(b"\x39" + _U64(span.start_time))
    if span.end_time is not None:
        out.append(b"\x41" + _U64(span.end_time))
    out.append(_attributes(b"\x4a", span.attributes))
    if span.dropped_attributes:
        out.append(b"\x50" + _varint(span.dropped_attributes))
    for event in span.events:
        body = b"\x09" + _U64(event.timestamp) + _field(b"\x12", event.name.encode("utf-8"))
        body += _attributes(b"\x1a", event.attributes)
        if event.dropped_attributes:
            body += b"\x20" + _varint(event.dropped_attributes)
        out.append(_field(b"\x5a", body))
    if span.dropped_events:
        out.append(b"\x60" + _varint(span.dropped_events))
    for link in span.links:
        lc = link.context
        body = b"\x0a\x10" + lc.trace_id.to_bytes(16, "big")
        body += b"\x12\x08" + lc.span_id.to_bytes(8, "big")
        body += _attributes(b"\x22", link.attributes)
        if link.dropped_attributes:
            body += b"\x28" + _varint(link.dropped_attributes)
        body += b"\x35" + _flags(lc)
        out.append(_field(b"\x6a", body))
    if span.dropped_links:
        out.append(b"\x70" + _varint(span.dropped_links))
    status = span.status
    if status is not None:
        out.append(status_field(status))
    out.append(b"\x85\x01" + _flags(parent))
    return _field(b"\x12", b"".join(out))  # ScopeSpans.spans


# Resources and scopes are few and live as long as their provider: their encoded
# headers are kept by identity (with a reference, so an id is never reused meanwhile).
_resource_memo: dict[int, tuple[Any, bytes]] = {}
_scope_memo: dict[int, tuple[Any, bytes]] = {}


def _resource(resource: Any) -> bytes:
    hit = _resource_memo.get(id(resource))
    if hit is not None and hit[0] is resource:
        return hit[1]
    enc = _field(b"\x0a", _attributes(b"\x0a", resource.attributes))
    if len(_resource_memo) >= 64:
        _resource_memo.clear()
    _resource_memo[id(resource)] = (resource, enc)
    return enc


def _scope(scope: Any) -> bytes:
    hit = _scope_memo.get(id(scope))
    if hit is not None and hit[0] is scope:
        return hit[1]
    body = b""
    if scope is not None:
        if scope.name:
            body += _field(b"\x0a", scope.name.encode("utf-8"))
        if scope.version:
            body += _field(b"\x12", scope.version.encode("utf-8"))
        body += _attributes(b"\x1a", scope.attributes)
    enc = _field(b"\x0a", body)
    if len(_scope_memo) >= 256:
        _scope_memo.clear()
    _scope_memo[id(scope)] = (scope, enc)
    return enc


def encode_request(spans: Sequence[Any]) -> bytes:
    """The serialised ``ExportTraceServiceRequest`` for ``spans`` (SDK ``ReadableSpan``s),
    grouped by resource and instrumentation scope like the official encoder.

    Example::

        >>> encode_request([])
        b''
    """
    # Grouped by identity: a Resource hashes by serialising its attributes to JSON, and
    # every span of a provider shares one Resource object.
    groups: dict[int, tuple[Any, dict[Any, list[bytes]]]] = {}
    for span in spans:
        resource = span.resource
        entry = groups.get(id(resource))
        if entry is None:
            entry = groups[id(resource)] = (resource, {})
        by_scope = entry[1]
        scope = span.instrumentation_scope or None
        encoded = by_scope.get(scope)
        if encoded is None:
            encoded = by_scope[scope] = []
        encoded.append(_span(span))
    out = []
    for resource, by_scope in groups.values():
        body = [_resource(resource)]
        for scope, encoded in by_scope.items():
            scope_body = _scope(scope) + b"".join(encoded)
            url = scope.schema_url if scope is not None else None
            if url:
                scope_body += _field(b"\x1a", url.encode("utf-8"))
            body.append(_field(b"\x12", scope_body))
        if resource.schema_url:
            body.append(_field(b"\x1a", resource.schema_url.encode("utf-8")))
        out.append(_field(b"\x0a", b"".join(body)))
    return b"".join(out)


# -- pre-encoded spans: what the batch processor queues ------------------------------


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
