"""Keep credentials out of health results: a URL's password never reaches a result or a log."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlsplit, urlunsplit

__all__ = ["mask_url", "scrub"]

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
