"""Browser sessions for a hub with a token: the login page trades the token for a signed
session cookie, so the token itself never sits in the browser.

The session cookie holds ``<payload>.<signature>``: the payload (expiry, a random id and the
session's CSRF token) in base64url JSON, the signature an HMAC-SHA256 under a key derived
from the hub's token. Changing the token ends every session; a restart does not. Logging
out revokes the session id in memory until it would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

import orjson

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "SESSION_LIFETIME_S",
    "Session",
    "SessionSigner",
]

SESSION_COOKIE = "bm_session"
CSRF_COOKIE = "bm_csrf"
CSRF_HEADER = "x-csrf-token"
SESSION_LIFETIME_S = 7 * 86400


@dataclass(frozen=True)
class Session:
    """A verified session: its id, expiry (unix seconds) and CSRF token."""

    sid: str
    expires: float
    csrf: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SessionSigner:
    """Issues and verifies session cookie values for one hub token.

    Example::

        >>> signer = SessionSigner("s3cret")
        >>> value, session = signer.issue()
        >>> signer.verify(value) == session
        True
        >>> signer.verify(value[:-2] + "xx") is None
        True
        >>> signer.revoke(session); signer.verify(value) is None
        True
    """

    def __init__(self, token: str, *, lifetime_s: float = SESSION_LIFETIME_S) -> None:
        self._key = hmac.new(token.encode(), b"berrys-monitoring web session v1", "sha256").digest()
        self._token = token.encode()
        self.lifetime_s = lifetime_s
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    def check_token(self, given: str) -> bool:
        """Whether ``given`` is the hub's token (constant-time)."""
        return hmac.compare_digest(given.encode(), self._token)

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def issue(self, now: float | None = None) -> tuple[str, Session]:
        """A new session: the cookie value and what it holds."""
        now = time.time() if now is None else now
        session = Session(
            secrets.token_urlsafe(16), now + self.lifetime_s, secrets.token_urlsafe(24)
        )
        payload = _b64(
            orjson.dumps({"sid": session.sid, "exp": session.expires, "csrf": session.csrf})
        )
        return f"{payload}.{self._sign(payload)}", session

    def verify(self, value: str, now: float | None = None) -> Session | None:
        """The session in a cookie value, or None when forged, expired, revoked or malformed."""
        payload, _, signature = value.partition(".")
        if not payload or not signature or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            data = orjson.loads(_unb64(payload))
            session = Session(str(data["sid"]), float(data["exp"]), str(data["csrf"]))
        except (ValueError, KeyError, TypeError):
            return None
        now = time.time() if now is None else now
        if session.expires <= now:
            return None
        with self._lock:
            if session.sid in self._revoked:
                return None
        return session

    def revoke(self, session: Session) -> None:
        """End ``session`` before its expiry (logout)."""
        now = time.time()
        with self._lock:
            self._revoked = {k: v for k, v in self._revoked.items() if v > now}
            self._revoked[session.sid] = session.expires
