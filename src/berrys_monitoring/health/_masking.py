"""Keep credentials out of health results: a URL's password never reaches a result or a log,
and every free text of a result (message, exception text, details) goes through the log
redactor before anyone can read it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

from berrys_monitoring.health._result import CheckResult
from berrys_monitoring.logging import MASK as REDACTED
from berrys_monitoring.logging import Redactor

__all__ = ["DEFAULT_REDACTOR", "mask_url", "redact_result", "scrub"]

MASK = "***"
_SECRET_PARAMS = {"password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "key"}
# Parameter names that hold credentials under many spellings (access_token, client_secret,
# X-Amz-Signature, sig of Azure SAS URLs, api-key, auth): matched as parts of the name.
_SECRET_PARTS = ("password", "passwd", "secret", "token", "signature", "apikey", "api_key")
_SECRET_WORDS = re.compile(r"(?:^|[^a-z])(?:sig|auth|key|credential)(?:$|[^a-z])")


def _is_secret_param(name: str) -> bool:
    k = unquote(name).lower()
    k_plain = k.replace("-", "_")
    return (
        k in _SECRET_PARAMS
        or any(part in k_plain for part in _SECRET_PARTS)
        or _SECRET_WORDS.search(k) is not None
    )


def mask_url(url: str) -> str:
    """``url`` with its password (and secret-looking query parameters) replaced by ``***``.

    Example::

        >>> from berrys_monitoring.health import mask_url
        >>> mask_url("postgresql://app:s3cret@db:5432/app?sslmode=require&password=x")
        'postgresql://app:***@db:5432/app?sslmode=require&password=***'
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        # Unparseable: fall back to a regex that blanks anything between ':' and '@'.
        return re.sub(r"(//[^:/@]*):[^@/]*@", r"\1:" + MASK + "@", url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        if ":" in userinfo:
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}:{MASK}@{hostport}"
    # Rewrite only the secret values, leaving the rest of the query exactly as written.
    query = "&".join(
        f"{item.split('=', 1)[0]}={MASK}"
        if "=" in item and _is_secret_param(item.split("=", 1)[0])
        else item
        for item in parts.query.split("&")
    )
    if netloc == parts.netloc and query == parts.query:
        return url  # urlunsplit would drop the empty authority of sqlite:///app.db
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def secrets_of(url: str) -> list[str]:
    """The secret strings in ``url`` (raw and percent-decoded) to scrub from any text."""
    found: list[str] = []
    try:
        parts = urlsplit(url)
        if parts.password:
            found.append(parts.password)
        for k, v in parse_qsl(parts.query, keep_blank_values=True):
            if _is_secret_param(k) and v:
                found.append(v)
    except ValueError:
        return []
    more = [unquote(s) for s in found] + [quote(s, safe="") for s in found]
    # Longest first so a secret containing another is replaced whole; skip trivially short
    # ones that would shred ordinary words (a 1-2 character password is masked in URLs only).
    return sorted({s for s in found + more if len(s) >= 3}, key=len, reverse=True)


def scrub(text: str, secrets: list[str]) -> str:
    """``text`` with every secret replaced by ``***`` (driver messages may echo a DSN)."""
    for s in secrets:
        text = text.replace(s, MASK)
    return text


# What a registry redacts with unless given a redactor: the log redactor's default rules.
DEFAULT_REDACTOR = Redactor()
# A value masked here already ("user:***@host", "?password=***") would read to the
# redactor as a secret and be masked a second time: such pairs are kept as they are (the
# documented "***"), and the text around them is redacted.
_ALREADY_MASKED = re.compile(r"([\w.\-]*[=:]\s?" + re.escape(MASK) + ")")


def _redact_text(text: str, redactor: Redactor) -> str:
    if MASK not in text:
        return redactor.text(text)
    parts = _ALREADY_MASKED.split(text)  # odd items are the masked pairs
    return "".join(p if i % 2 else redactor.text(p) for i, p in enumerate(parts))


def _redact_value(value: Any, redactor: Redactor, depth: int = 0) -> Any:
    if isinstance(value, str):
        return _redact_text(value, redactor)
    if depth > 8:
        return "[...]"
    if isinstance(value, Mapping):
        return {
            k: REDACTED
            if redactor.enabled and redactor.is_secret_key(str(k))
            else _redact_value(v, redactor, depth + 1)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact_value(v, redactor, depth + 1) for v in value]
    return value


def redact_result(res: CheckResult, redactor: Redactor) -> CheckResult:
    """``res`` with its message and details through ``redactor``: a check's exception
    text may quote a password, a token or a card number, and /health is often public.

    Example::

        >>> from berrys_monitoring.health import CheckResult, HealthStatus
        >>> res = CheckResult(HealthStatus.UNHEALTHY, "login refused: password=hunter2",
        ...                   details={"api_key": "k-123", "host": "db"})
        >>> clean = redact_result(res, DEFAULT_REDACTOR)
        >>> clean.message, clean.details
        ('login refused: password=[REDACTED]', {'api_key': '[REDACTED]', 'host': 'db'})
    """
    if not redactor.enabled:
        return res
    message = _redact_text(res.message, redactor)
    details = _redact_value(res.details, redactor) if res.details else res.details
    if message == res.message and details == res.details:
        return res
    return res.with_(message=message, details=details)
