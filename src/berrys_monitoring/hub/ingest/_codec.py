"""OTLP/HTTP bodies in and out: size limits, gzip, protobuf and OTLP/JSON.

OTLP/JSON differs from protobuf's canonical JSON mapping in one way that matters: trace
and span ids are hex strings, not base64 (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding).
They are rewritten before ``json_format`` parses the document.
"""

from __future__ import annotations

import base64
import binascii
import json
import zlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.rpc import status_pb2

__all__ = [
    "JSON",
    "PROTOBUF",
    "IngestError",
    "decode_request",
    "encode_message",
    "error_body",
    "media_type",
    "read_body",
]

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
_ID_KEYS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})

M = TypeVar("M", bound=Message)


class IngestError(Exception):
    """A request the hub refuses: ``status`` is the HTTP status, the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def media_type(content_type: str | None) -> str:
    """``PROTOBUF`` or ``JSON`` for a Content-Type header, else a 415."""
    value = (content_type or "").split(";", 1)[0].strip().lower()
    if value in (PROTOBUF, "application/protobuf"):
        return PROTOBUF
    if value == JSON:
        return JSON
    raise IngestError(
        415, f"unsupported Content-Type {value or '(none)'!r}: use {PROTOBUF} or {JSON}"
    )


async def read_body(chunks: AsyncIterator[bytes], *, encoding: str | None, limit: int) -> bytes:
    """The request body, decompressed; a 413 as soon as it grows past ``limit`` bytes, so
    neither a huge body nor a gzip bomb is ever held in memory."""
    enc = (encoding or "identity").strip().lower()
    if enc not in ("identity", "gzip", "deflate"):
        raise IngestError(415, f"unsupported Content-Encoding {enc!r}: use gzip or none")
    too_big = IngestError(413, f"the request body is larger than {limit} bytes")
    out = bytearray()
    if enc == "identity":
        async for chunk in chunks:
            out += chunk
            if len(out) > limit:
                raise too_big
        return bytes(out)
    # wbits 16+MAX: gzip only; 32+MAX: zlib or gzip header detected
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS if enc == "gzip" else 32 + zlib.MAX_WBITS)
    received = 0
    try:
        async for chunk in chunks:
            received += len(chunk)
            if received > limit:
                raise too_big
            data = chunk
            while data:
                out += inflater.decompress(data, limit + 1 - len(out))
                if len(out) > limit:
                    raise too_big
                data = inflater.unconsumed_tail
        out += inflater.flush()
    except zlib.error as exc:
        raise IngestError(400, f"the body is not valid {enc} data: {exc}") from None
    if len(out) > limit:
        raise too_big
    if not inflater.eof:
        raise IngestError(400, f"the {enc} stream is truncated")
    return bytes(out)


def _hex_ids_to_base64(document: Any) -> None:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_KEYS and isinstance(value, str):
                    try:
                        raw = bytes.fromhex(value)
                    except ValueError:
                        raise IngestError(400, f"{key} {value[:40]!r} is not hex") from None
                    node[key] = base64.b64encode(raw).decode()
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(v for v in node if isinstance(v, (dict, list)))


def decode_request(message_type: type[M], body: bytes, kind: str) -> M:
    """Parse an Export*ServiceRequest; any malformed, truncated or mistyped input is a 400."""
    message = message_type()
    if kind == PROTOBUF:
        try:
            message.ParseFromString(body)
        except (DecodeError, RecursionError, ValueError) as exc:
            raise IngestError(
                400, f"the body is not a valid {message_type.__name__}: {exc}"
            ) from None
        return message
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise IngestError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, dict):
        raise IngestError(400, f"a {message_type.__name__} in JSON must be an object")
    _hex_ids_to_base64(document)
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, RecursionError, ValueError, TypeError) as exc:
        raise IngestError(400, f"the body is not a valid {message_type.__name__}: {exc}") from None
    return message


def _base64_ids_to_hex(document: Any) -> None:
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key in _ID_KEYS and isinstance(value, str):
                    try:
                        node[key] = base64.b64decode(value).hex()
                    except binascii.Error:
                        pass
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)


def encode_message(message: Message, kind: str) -> bytes:
    if kind == PROTOBUF:
        return bytes(message.SerializeToString())
    document = json_format.MessageToDict(message)
    _base64_ids_to_hex(document)
    return json.dumps(document, separators=(",", ":")).encode()


def error_body(status: int, message: str, kind: str) -> bytes:
    """A ``google.rpc.Status`` in the request's encoding, as OTLP/HTTP asks of failures."""
    return encode_message(status_pb2.Status(code=_grpc_code(status), message=message), kind)


def _grpc_code(status: int) -> int:
    return {400: 3, 401: 16, 403: 7, 413: 3, 415: 3, 429: 8, 503: 14}.get(status, 13)
