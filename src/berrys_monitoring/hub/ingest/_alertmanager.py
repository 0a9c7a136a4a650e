"""Alerts pushed in the Alertmanager v2 format (``POST /api/v2/alerts``), so Prometheus
itself, any Alertmanager client and the library's Alertmanager notifier can send to the hub.
https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml (postableAlerts)
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import orjson

from berrys_monitoring.hub._time import rfc3339_ns
from berrys_monitoring.hub.ingest._codec import IngestError
from berrys_monitoring.hub.store import AlertRow

__all__ = ["RESOLVE_TIMEOUT_NS", "parse_alerts"]

RESOLVE_TIMEOUT_NS = 5 * 60 * 10**9  # Alertmanager's default resolve_timeout
_MAX_NS = 2**63 - 1


def _time(value: Any, field: str, index: int) -> int | None:
    if value in (None, "", "0001-01-01T00:00:00Z"):
        return None
    if not isinstance(value, str):
        raise IngestError(400, f"alert {index}: {field} must be an RFC 3339 string")
    try:
        ns = rfc3339_ns(value)
    except ValueError:
        raise IngestError(400, f"alert {index}: {field} {value[:40]!r} is not RFC 3339") from None
    return min(max(ns, 0), _MAX_NS)


def _string_map(value: Any, field: str, index: int) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise IngestError(400, f"alert {index}: {field} must map strings to strings")
    return value


def fingerprint(labels: dict[str, str]) -> str:
    return hashlib.sha256(orjson.dumps(labels, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


def parse_alerts(body: bytes, *, now_ns: int | None = None) -> list[AlertRow]:
    """Alert rows from a ``postableAlerts`` JSON array; a 400 names the first bad alert.

    Example::

        >>> [row] = parse_alerts(b'[{"labels": {"alertname": "HighLatency"}}]', now_ns=0)
        >>> row.starts_ns, row.ends_ns
        (0, 300000000000)
    """
    now = time.time_ns() if now_ns is None else now_ns
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise IngestError(400, f"the body is not valid JSON: {exc}") from None
    if not isinstance(document, list):
        raise IngestError(400, "the body must be a JSON array of alerts")
    rows = []
    for i, alert in enumerate(document):
        if not isinstance(alert, dict):
            raise IngestError(400, f"alert {i}: must be an object")
        labels = _string_map(alert.get("labels"), "labels", i)
        if not labels:
            raise IngestError(400, f"alert {i}: labels are required and cannot be empty")
        annotations = _string_map(alert.get("annotations"), "annotations", i)
        starts = _time(alert.get("startsAt"), "startsAt", i)
        ends = _time(alert.get("endsAt"), "endsAt", i)
        url = alert.get("generatorURL") or ""
        if not isinstance(url, str):
            raise IngestError(400, f"alert {i}: generatorURL must be a string")
        starts = now if starts is None else starts
        ends = min(now + RESOLVE_TIMEOUT_NS, _MAX_NS) if ends is None else ends
        if ends < starts:
            raise IngestError(400, f"alert {i}: endsAt is before startsAt")
        rows.append(
            AlertRow(
                fingerprint=fingerprint(labels),
                labels=orjson.dumps(labels, option=orjson.OPT_SORT_KEYS).decode(),
                annotations=orjson.dumps(annotations, option=orjson.OPT_SORT_KEYS).decode(),
                starts_ns=starts,
                ends_ns=ends,
                generator_url=url,
            )
        )
    return rows
