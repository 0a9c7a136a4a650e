"""Redaction: secrets never reach a log line, identifiers stay readable.

Two mechanisms. *Keys*: the value of a field whose name looks sensitive (``password``,
``db_password``, ``X-API-Key``, ``access_token``…) is replaced whole. *Patterns*: inside
any string (messages, values, exception text) bearer tokens, JWTs, ``key=value`` pairs
with a sensitive key, credentials in URLs and card numbers are replaced. A match is
always replaced entirely, so no fragment (such as a card's last four digits) survives.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["DEFAULT_REDACT_KEYS", "MASK", "Redactor"]

MASK = "[REDACTED]"

DEFAULT_REDACT_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
    "cookie",
    "private_key",
    "privatekey",
)

# Identifiers the guide logs as context. None of them matches a default key; they are
# listed so that a user-supplied key such as "id" can never hide them by accident.
DEFAULT_ALLOW_KEYS = ("request_id", "user_id", "session_id", "ip_address", "trace_id", "span_id")

# Every regex here is linear in the length of the text (no nested quantifiers that can
# backtrack over the same run twice): a megabyte of "eyJeyJ…" must not stall a log call.
# A dotted base64url token, from the beginning of its run; it is a JWT when it has three
# parts (the last may be empty: unsigned) and contains "eyJ" (base64 of '{"').
_DOTTED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+\.?")
# A field name followed by ':' or '=' (optionally after a closing quote).
_KEY = re.compile(r"(?<![A-Za-z0-9_.\-])([A-Za-z0-9_.\-]+)[\"']?\s*[:=]\s*")
# A scheme word may come twice ("Bearer Bearer <token>", a common client mistake): the
# token after the last one is the secret. The repeated group stays linear: each round
# starts with the literal word, so a run of text can be split into rounds one way only.
_VALUE = re.compile(r"(?i)\"[^\"]*\"?|'[^']*'?|(?:(?:bearer|basic|token)\s+)+[^\s,;&]+|[^\s,;&]+")
_BEARER = re.compile(r"(?i)((?:bearer\s+)+)[A-Za-z0-9\-._~+/]+=*")
_URL_CREDS = re.compile(r"(://[^/\s:@]*:)[^@\s/]+(@)")
# 13 or more digits, single spaces or dashes allowed between them.
_DIGIT_RUN = re.compile(r"(?<!\d)\d(?:[ -]?\d){12,}(?!\d)")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i & 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _contains_card(run: str) -> bool:
    """True if some 13-19 digit window of the run is a plausible card number.

    Windows, not the whole run, so a card glued to other digits ("order 12 4111 …") is
    still caught; the issuer digit 2-6 (Mastercard, Amex/JCB/Diners, Visa, Discover/
    UnionPay) keeps millisecond timestamps and other 13-digit ids from being hidden.
    """
    digits = "".join(c for c in run if c.isdigit())
    n = len(digits)
    for start in range(n - 12):
        if digits[start] not in "23456":
            continue
        for length in range(13, min(19, n - start) + 1):
            if _luhn_ok(digits[start : start + length]):
                return True
    return False


def _normalise(key: str) -> str:
    return key.lower().replace("-", "_").replace(" ", "_")


class Redactor:
    """Replaces secrets in log fields and text. One per configuration.

    ``keys`` are matched case-insensitively as substrings of the normalised field name
    (``-`` and spaces read as ``_``), except ``token``, which must end the name
    (``access_token``, ``X-Auth-Token``) so ``max_tokens`` or ``token_count`` stay.

    Example::

        >>> r = Redactor()
        >>> r.fields({"db_password": "hunter2", "user_id": "u-1"})
        {'db_password': '[REDACTED]', 'user_id': 'u-1'}
        >>> r.text("auth header was Bearer abc.def.ghi")
        'auth header was Bearer [REDACTED]'
    """

    def __init__(
        self,
        keys: Iterable[str] = DEFAULT_REDACT_KEYS,
        patterns: Iterable[str | re.Pattern[str]] = (),
        allow_keys: Iterable[str] = DEFAULT_ALLOW_KEYS,
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled
        norm = [_normalise(k) for k in keys]
        for k in norm:
            if not k:
                raise ValueError("redact_keys must not contain an empty key")
        self._suffix_keys = tuple(k for k in norm if k == "token")
        self._sub_keys = tuple(k for k in norm if k != "token")
        self._allow = frozenset(_normalise(k) for k in allow_keys)
        try:
            self._patterns = [p if isinstance(p, re.Pattern) else re.compile(p) for p in patterns]
        except re.error as exc:
            raise ValueError(f"invalid redact pattern: {exc}") from exc
        self._kv_enabled = bool(norm)
        self._key_memo: dict[str, bool] = {}
        self._text_memo: dict[str, str] = {}

    # -- keys ---------------------------------------------------------------------------

    def is_secret_key(self, key: str) -> bool:
        """True when the value of a field named ``key`` must be hidden."""
        hit = self._key_memo.get(key)
        if hit is None:
            k = _normalise(key)
            compact = k.replace("_", "")
            hit = k not in self._allow and (
                any(s in k or s.replace("_", "") in compact for s in self._sub_keys)
                or any(k.endswith(s) for s in self._suffix_keys)
            )
            if len(self._key_memo) > 4096:
                self._key_memo.clear()
            self._key_memo[key] = hit
        return hit

    # -- text ---------------------------------------------------------------------------

    def text(self, s: str) -> str:
        """``s`` with every secret-looking substring replaced."""
        if not self.enabled:
            return s
        out = self._text_memo.get(s)
        if out is not None:
            return out
        if s.isascii() and s.isalnum() and not self._patterns:
            # Ids and plain words: cheap to check, and not memoised, so a stream of unique
            # request ids does not keep flushing the memo of constant messages.
            return _DIGIT_RUN.sub(_card_sub, s) if len(s) >= 13 else s
        out = self._scan(s)
        # Memoised because log messages are mostly constant templates; bounded so a
        # stream of unique strings cannot grow it without limit.
        if len(s) <= 512:
            if len(self._text_memo) > 8192:
                self._text_memo.clear()
            self._text_memo[s] = out
        return out

    def _scan(self, s: str) -> str:
        if s.isascii() and s.isalnum() and not self._patterns:
            # Letters and digits only (ids, hex, plain words): no separator any pattern
            # needs, only a long digit run (a card number) can be hidden in it.
            return _DIGIT_RUN.sub(_card_sub, s) if len(s) >= 13 else s
        if "eyJ" in s:
            s = _DOTTED.sub(_jwt_sub, s)
        s = _BEARER.sub(r"\1" + MASK, s)
        if "://" in s:
            s = _URL_CREDS.sub(r"\1" + MASK + r"\2", s)
        if self._kv_enabled and ("=" in s or ":" in s):
            s = self._key_values(s)
        s = _DIGIT_RUN.sub(_card_sub, s)
        for p in self._patterns:
            s = p.sub(MASK, s)
        return s

    def _key_values(self, s: str) -> str:
        """``password=…``, ``"api_key": "…"``, ``Authorization: Basic …``: the value hidden.

        The same rule as for field names decides which keys are sensitive. A scan, not
        one regex, so that a non-sensitive pair ("a=password=x") does not swallow the
        sensitive one after it, and so that the cost stays linear.
        """
        out: list[str] = []
        pos = 0
        search = _KEY.search
        while True:
            m = search(s, pos)
            if m is None:
                break
            end = m.end()
            if self.is_secret_key(m.group(1)):
                v = _VALUE.match(s, end)
                out.append(s[pos:end])
                out.append(MASK)
                pos = v.end() if v is not None else end
            else:
                out.append(s[pos:end])
                pos = end
        if not out:
            return s
        out.append(s[pos:])
        return "".join(out)

    # -- structures ---------------------------------------------------------------------

    def value(self, v: Any, depth: int = 0) -> Any:
        """A redacted copy of any field value (strings, mappings, sequences, objects)."""
        t = type(v)
        if t is str:
            return self.text(v) if self.enabled else v
        if v is None or t is int or t is float or t is bool:
            return v
        if depth > 8:
            return "[...]"
        if isinstance(v, Mapping):
            return self.fields(v, depth + 1)
        if isinstance(v, (list, tuple, set, frozenset)):
            return [self.value(x, depth + 1) for x in v]
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return self.fields(dataclasses.asdict(v), depth + 1)
        dump = getattr(v, "model_dump", None)  # pydantic v2 models
        if callable(dump):
            try:
                return self.fields(dump(), depth + 1)
            except Exception:
                pass
        if isinstance(v, _NATIVE):
            return v  # orjson writes these itself (dates as RFC 3339, enums by value)
        return self.text(_safe_str(v))

    def fields(self, d: Mapping[Any, Any], depth: int = 0) -> dict[str, Any]:
        """A redacted copy of a mapping: sensitive keys masked, other values scanned."""
        out: dict[str, Any] = {}
        for k, v in d.items():
            key = k if type(k) is str else _safe_str(k)
            if self.enabled and self.is_secret_key(key):
                out[key] = MASK
            else:
                out[key] = self.value(v, depth)
        return out


_NATIVE = (int, float, datetime.date, datetime.time, uuid.UUID, enum.Enum)


def _card_sub(m: re.Match[str]) -> str:
    run = m.group(0)
    # A very long run almost surely holds some Luhn-valid window, and checking every
    # window costs O(n) per run: such a blob is hidden whole (never leaked, never slow).
    if len(run) > 96:
        return MASK
    return MASK if _contains_card(run) else run


def _jwt_sub(m: re.Match[str]) -> str:
    token = m.group(0)
    return MASK if "eyJ" in token and token.count(".") >= 2 else token


def _safe_str(v: Any) -> str:
    try:
        return str(v)
    except Exception:
        return f"<unprintable {type(v).__name__}>"


def default_serializer_hook(redactor: Redactor) -> Callable[[Any], Any]:
    """The ``orjson`` ``default=`` hook: anything orjson cannot encode goes through redaction."""

    def hook(v: Any) -> Any:
        return redactor.value(v)

    return hook
