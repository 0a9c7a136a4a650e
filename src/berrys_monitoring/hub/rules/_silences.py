"""Silences in Alertmanager's v2 API shape: matchers, a creator, a comment and a time
window; an alert matching every matcher of an active silence sends nothing.
https://github.com/prometheus/alertmanager/blob/main/api/v2/openapi.yaml (silence)
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from berrys_monitoring.hub._time import format_rfc3339_ns, rfc3339_ns
from berrys_monitoring.hub.rules._matchers import Matcher, MatcherError

__all__ = ["SilenceError", "silence_from_api", "silence_state", "silence_to_api", "silenced_by"]


_MAX_NS = 2**63 - 1


class SilenceError(ValueError):
    """A posted silence is invalid; the message says which field."""


def _time(body: Mapping[str, Any], key: str) -> int:
    value = body.get(key)
    if not isinstance(value, str):
        raise SilenceError(f"{key} is required (RFC 3339)")
    try:
        ns = rfc3339_ns(value)
    except ValueError:
        raise SilenceError(f"{key} {value[:40]!r} is not RFC 3339") from None
    return min(max(ns, 0), _MAX_NS)  # "forever" is kept as the latest time the store holds


def silence_from_api(
    body: Any, *, existing: Mapping[str, Any] | None = None, now_ns: int | None = None
) -> dict[str, Any]:
    """A stored silence from a ``postableSilence``; ``existing`` is the one it updates.

    Example::

        >>> s = silence_from_api({"matchers": [{"name": "job", "value": "api",
        ...     "isRegex": False}], "startsAt": "2030-01-01T00:00:00Z",
        ...     "endsAt": "2030-01-01T01:00:00Z", "createdBy": "ana", "comment": "deploy"},
        ...     now_ns=0)
        >>> s["created_by"], s["matchers"][0]["isEqual"]
        ('ana', True)
    """
    now = time.time_ns() if now_ns is None else now_ns
    if not isinstance(body, dict):
        raise SilenceError("the body must be a JSON object (a postableSilence)")
    raw = body.get("matchers")
    if not isinstance(raw, list) or not raw:
        raise SilenceError("matchers must be a non-empty list")
    matchers = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not m["name"]:
            raise SilenceError(f"matchers[{i}]: name is required")
        if not isinstance(m.get("value"), str):
            raise SilenceError(f"matchers[{i}]: value must be a string")
        for flag in ("isRegex", "isEqual"):
            if not isinstance(m.get(flag, False), bool):
                raise SilenceError(f"matchers[{i}]: {flag} must be true or false")
        try:
            matcher = Matcher(
                m["name"],
                m["value"],
                is_regex=bool(m.get("isRegex", False)),
                is_equal=bool(m.get("isEqual", True)),
            )
        except MatcherError as exc:
            raise SilenceError(f"matchers[{i}]: {exc}") from None
        matchers.append(matcher.to_api())
    if all(Matcher(**_args(m)).matches({}) for m in matchers):
        raise SilenceError("at least one matcher must not match the empty string")
    starts, ends = _time(body, "startsAt"), _time(body, "endsAt")
    if ends < starts:
        raise SilenceError("endsAt is before startsAt")
    if ends <= now:
        raise SilenceError("endsAt is in the past")
    for key in ("createdBy", "comment"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            raise SilenceError(f"{key} is required")
    if existing is not None and existing["ends_ns"] <= now:
        raise SilenceError("an expired silence cannot be changed; create a new one")
    return {
        "id": existing["id"] if existing is not None else str(uuid.uuid4()),
        "matchers": matchers,
        "starts_ns": max(starts, now) if existing is None else starts,
        "ends_ns": ends,
        "created_by": body["createdBy"],
        "comment": body["comment"],
        "updated_ns": now,
    }


def _args(m: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": m["name"],
        "value": m["value"],
        "is_regex": m["isRegex"],
        "is_equal": m.get("isEqual", True),
    }


def silence_state(silence: Mapping[str, Any], now_ns: int) -> str:
    if silence["ends_ns"] <= now_ns:
        return "expired"
    return "pending" if silence["starts_ns"] > now_ns else "active"


def silence_to_api(silence: Mapping[str, Any], now_ns: int | None = None) -> dict[str, Any]:
    """Alertmanager's ``gettableSilence``."""
    now = time.time_ns() if now_ns is None else now_ns

    ts = format_rfc3339_ns
    return {
        "id": silence["id"],
        "status": {"state": silence_state(silence, now)},
        "updatedAt": ts(silence["updated_ns"]),
        "matchers": silence["matchers"],
        "startsAt": ts(silence["starts_ns"]),
        "endsAt": ts(silence["ends_ns"]),
        "createdBy": silence["created_by"],
        "comment": silence["comment"],
    }


def silenced_by(
    labels: Mapping[str, str], silences: Iterable[Mapping[str, Any]], now_ns: int
) -> list[str]:
    """Ids of the active silences that match ``labels``."""
    out = []
    for s in silences:
        if silence_state(s, now_ns) != "active":
            continue
        matchers: Sequence[Mapping[str, Any]] = s["matchers"]  # type: ignore[assignment]
        if all(Matcher(**_args(m)).matches(labels) for m in matchers):
            out.append(str(s["id"]))
    return out
