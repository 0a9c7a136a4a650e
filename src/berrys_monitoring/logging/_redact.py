"""Redaction: secrets never reach a log line or a span, identifiers stay readable.

Two mechanisms, informed by the rule sets of gitleaks and detect-secrets:

* *Key names*. A field whose name looks sensitive (``password``, ``db_pass``,
  ``X-API-Key``, ``refreshToken``…) has its whole value replaced. Names are normalised
  first (case, camelCase, ``-``/``_``/``.``/no separator, percent-encoding), and the same
  rule applies wherever a name can appear: structured fields, ``key=value``,
  ``key: value``, JSON, escaped JSON, URL query and form encoding (also with a
  percent-encoded ``=``) and headers. The value is removed whole whatever its quoting or
  escaping, a cookie list or an ``Authorization`` scheme with its parameters included.
* *Value patterns* for well-known secret formats, wherever they appear: bearer, basic
  and digest credentials, JWTs, credentials in URLs, PEM private keys, cloud and SaaS
  tokens (AWS, GitHub, Slack, GitLab, Google, Stripe, npm, PyPI, OpenAI, Anthropic,
  Hugging Face, SendGrid, Twilio) and
  Luhn-valid card numbers.

A match is always replaced entirely: no prefix or suffix of a secret (such as a card's
last four digits) survives. Each rule is behind a cheap check (a substring test or a
digit count), so text with nothing to redact costs a few C-level scans.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import enum
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import unquote

__all__ = ["DEFAULT_REDACT_KEYS", "MASK", "Redactor"]

MASK = "[REDACTED]"

# Matched against the normalised field name (see Redactor): as a substring, except the
# names with a rule of their own in _KEY_RULES.
DEFAULT_REDACT_KEYS: tuple[str, ...] = (
    "password",
    "passwd",
    "passphrase",
    "pass",
    "pwd",
    "secret",
    "token",
    "api_key",
    "auth",
    "authorization",
    "cookie",
    "credential",
    "jwt",
    "access_key",
    "private_key",
    "privkey",
    "account_key",
    "signing_key",
    "encryption_key",
    "signature",
    "sig",
    "cvv",
    "cvc",
)

# Identifiers the guide logs as context. None of them matches a default key; they are
# listed so that a user-supplied key such as "id" can never hide them by accident.
DEFAULT_ALLOW_KEYS = ("request_id", "user_id", "session_id", "ip_address", "trace_id", "span_id")


# -- key names --------------------------------------------------------------------------------

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")


def _words(key: str) -> list[str]:
    """``"X-Auth_tokenValue"`` -> ``["x", "auth", "token", "value"]``."""
    if "%" in key:
        key = unquote(key)
    return [w.lower() for w in _NOT_ALNUM.split(_CAMEL.sub("_", key)) if w]


def _compact(key: str) -> str:
    return "".join(_words(key))


def _ends_with_token(compact: str, words: list[str]) -> bool:
    # "access_token", "X-Auth-Token", "refreshToken"; not "max_tokens" or "token_count".
    return compact.endswith("token")


def _has_auth_word(compact: str, words: list[str]) -> bool:
    # "auth", "X-Auth", "authHeader", "authheader", "oauth"; not "author", "authority",
    # "is_authenticated" ("authorization" is a substring key of its own).
    return any("auth" in w and "author" not in w and "authent" not in w for w in words)


_NOT_PASS = frozenset({"bypass", "compass", "surpass", "trespass", "overpass", "underpass"})


def _has_pass_word(compact: str, words: list[str]) -> bool:
    # "pass", "db_pass", "dbPass", "dbpass"; not "passenger", "tests_passed", "bypass".
    return any(w.endswith("pass") and w not in _NOT_PASS for w in words)


def _has_sig_word(compact: str, words: list[str]) -> bool:
    # "sig" (Azure SAS), "X-Sig"; not "signal" or "design".
    return "sig" in words


# Names too short or too common to be matched as substrings.
_KEY_RULES: dict[str, Callable[[str, list[str]], bool]] = {
    "token": _ends_with_token,
    "auth": _has_auth_word,
    "pass": _has_pass_word,
    "sig": _has_sig_word,
}

# What a sensitive key's unquoted value looks like: its kind decides where it ends.
_PLAIN, _SECRET, _COOKIE, _AUTHORIZATION = 0, 1, 2, 3


# -- value patterns ---------------------------------------------------------------------------
# Every regex here is linear in the length of the text (no nested quantifiers that can
# backtrack over the same run twice): a megabyte of "eyJeyJ…" must not stall a log call.

# A PEM private key, its armour included; an unterminated one is hidden to the end.
_PEM = re.compile(
    r"-----BEGIN[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----(?s:.*?)"
    r"(?:-----END[A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----|\Z)"
)
# A dotted base64url token, from the beginning of its run; it is a JWT when it has three
# parts (the last may be empty: unsigned) and contains "eyJ" (base64 of '{"').
_DOTTED = re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+\.?")
# Tokens with a published, distinctive prefix, in three families by what every member
# contains (so a cheap substring test tells which can match). A lookbehind comes after
# the first character so that the regex engine can skip ahead to candidate characters.
_UNDERSCORE_TOKENS = re.compile(
    r"gh[pousr]_[A-Za-z0-9]{20,}"  # GitHub personal, OAuth, user, server, refresh
    r"|github_pat_[A-Za-z0-9_]{20,}"  # GitHub fine-grained
    r"|npm_[A-Za-z0-9]{36,}"
    r"|[sr](?<![A-Za-z0-9][sr])k_(?:live|test)_[A-Za-z0-9]{16,}"  # Stripe secret, restricted
    r"|h(?<![A-Za-z0-9]h)f_[A-Za-z]{30,}(?![A-Za-z0-9])"  # Hugging Face
)
_DASH_TOKENS = re.compile(
    r"xox[abeoprs]-[A-Za-z0-9-]{8,}"  # Slack bot, user, app, refresh…
    r"|xapp-[0-9]-[A-Za-z0-9-]{8,}"  # Slack app-level
    r"|glpat-[A-Za-z0-9_-]{20,}"  # GitLab
    r"|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{16,}"
    r"|s(?<![A-Za-z0-9_-]s)k-(?:(?:proj|ant|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{32,})"
)
# Google API keys and AWS access key ids (uppercase neighbours would make the latter
# another, longer word). The only tokens that can be letters and digits alone.
_A_TOKENS = re.compile(
    r"A(?:Iza[A-Za-z0-9_-]{35}"
    r"|(?<![A-Z0-9]A)(?:3T[A-Z0-9]|KIA|SIA|BIA|CCA)[A-Z0-9]{16}(?![A-Z0-9]))"
)
# SendGrid: "SG." and two base64url parts of fixed length.
_SENDGRID = re.compile(
    r"S(?<![A-Za-z0-9_-]S)G\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
)
# Twilio API key secrets' ids ("SK" and 32 hex digits): letters and digits alone.
_TWILIO = re.compile(r"S(?<![A-Za-z0-9]S)K[0-9a-fA-F]{32}(?![A-Za-z0-9])")
_SLACK_WEBHOOK = re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[A-Za-z0-9_/+-]+")
# A scheme word may come twice ("Bearer Bearer <token>", a common client mistake): the
# token after the last one is the secret. The repeated group stays linear: each round
# starts with the literal word, so a run of text can be split into rounds one way only.
# The token is the whole word after it (up to a quote, a comma, a semicolon or a closing
# tag), so that no tail of it (nor of a "key=value" glued to it) is left for a later rule to miss.
_BEARER = re.compile(r"(?i)((?:bearer\s+)+)(?:[^\s,;\"'\\<]|\\(?![\"'])|<(?!/))+")
_BASIC = re.compile(r"(?i)\b(basic\s+)([A-Za-z0-9+/]{4,}={0,2})(?![A-Za-z0-9+/=])")
# RFC 7235 auth-params: name=token or name="quoted string", comma-separated.
_PARAM = r"[A-Za-z0-9_.\-]+\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"?|[^\s,]*)"
_PARAMS = rf"{_PARAM}(?:\s*,\s*{_PARAM})*"
_DIGEST = re.compile(rf"(?i)\b(digest\s+)({_PARAMS})")
# An XML element with text only: <password>…</password>.
_XML_ELEMENT = re.compile(r"<([A-Za-z_][\w.:-]*)(\s[^<>]*)?>([^<]*)</\1\s*>")
_URL_USER = re.compile(r"[^\s/:@?#\"'<>]*:")
_URL_RUN = re.compile(r"[^\s\"'<>]*")
# 13 or more digits; up to three separators (spaces, dashes, dots, slashes…) between two.
# Not ":" or ",": times and lists of numbers would join into long runs.
_CARD_SEP = "\\s\\-./_|\\\\\u00b7\u2010-\u2015\u2022\u2027\u2212\u2219"
_DIGIT_RUN = re.compile(rf"[0-9](?<![0-9][0-9])(?:[{_CARD_SEP}]{{0,3}}[0-9]){{12,}}")
_UNUSUAL_SEP = re.compile(r"[^0-9 \-]+")
_UNUSUAL_SEP_SPLIT = re.compile(r"([^0-9 \-]+)")
_NON_DIGITS = re.compile(r"[^0-9]+")
_DIGITS = re.compile(r"[0-9]{13,}")
_NOT_DIGITS = bytes(c for c in range(256) if not 48 <= c <= 57)

# -- key=value --------------------------------------------------------------------------------

# "=", ":", "=>", their percent-encoded forms (a query string inside a query string), and
# spaces before a quoted value (SQL's PASSWORD 'x').
_SEP = re.compile(r"=>?|:|%(?:25)*3[DdAa]|\s+(?=\\*[\"'])")
# Read backwards from a separator: spaces, a closing quote (escaped: \" or \\\", or
# percent-encoded: %22), the name.
_KEY_BEFORE = re.compile(r"\s*([\"']\\*|22%|72%)?([A-Za-z0-9_.\-]+)")
_SPACES = re.compile(r"\s*")
_OPEN_QUOTE = re.compile(r"(\\*)([\"'])")
_BRACKET_OR_QUOTE = re.compile(r"(\\*)([\[\]{}\"'])")
_SCHEMES = (
    "bearer|basic|token|digest|negotiate|ntlm|hoba|mutual|dpop|gnap|vapid|hmac|apikey|"
    "api-key|key|oauth|aws4-hmac-sha256|sharedaccesssignature|scram-sha-1|scram-sha-256"
)
_SCHEME_VALUE = re.compile(rf"(?i)(?:(?:{_SCHEMES})\s+)+(?:{_PARAMS}|[^\s,;&]+)")
# Any scheme word is a scheme after an Authorization key (RFC 7235 tokens).
_ANY_SCHEME_VALUE = re.compile(rf"[A-Za-z][A-Za-z0-9!#$%&*+.^_`|~-]*\s+(?:{_PARAMS}|[^\s,;&]+)")
_COOKIE_VALUE = re.compile(r"[^\s;]+(?:;[ \t]*[^\s;]+)*;?")
_BARE_VALUE = re.compile(r"[^\s,;&]*")
_NAME_FOLLOWS = re.compile(r"\s*(?:[:=]|%(?:25)*3[DdAa])")
_GLUED_TAIL = re.compile(r"[^\s,;&\]})\"'\\<]*")
# After a percent-encoded separator the value ends at a percent-encoded "&".
_PCT_VALUE = re.compile(r"(?:[^\s&%]|%(?!(?:25)*26))*")
# The escape a name read backwards from a percent-encoded separator starts with.
_PCT_PREFIX = re.compile(r"(?:25)*[0-9A-Fa-f]{2}")


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
    digits = "".join(c for c in run if "0" <= c <= "9")
    n = len(digits)
    for start in range(n - 12):
        if digits[start] not in "23456":
            continue
        for length in range(13, min(19, n - start) + 1):
            if _luhn_ok(digits[start : start + length]):
                return True
    return False


def _digit_count(s: str) -> int:
    return len(s.encode("utf-8", "surrogatepass").translate(None, _NOT_DIGITS))


def _quoted_end(s: str, start: int, level: int, quote: str) -> int:
    """The end of a quoted value whose opening quote ends at ``start``.

    ``level`` is the number of backslashes before the opening quote: 0 for ``"…"``, 1 for
    escaped JSON (``\\"…\\"``), 3 for JSON escaped twice. At that level the closing quote
    is preceded by a run of backslashes whose length is ``level`` modulo ``2 * (level+1)``;
    other runs escape a quote of the value itself. Unterminated: the end of the text.
    """
    modulus = 2 * (level + 1)
    find = s.find
    i = start
    while True:
        j = find(quote, i)
        if j < 0:
            return len(s)
        k = j
        while k > start and s[k - 1] == "\\":
            k -= 1
        if (j - k) % modulus == level:
            return j + 1
        i = j + 1


class Redactor:
    """Replaces secrets in log fields and text. One per configuration.

    ``keys`` are matched against the normalised field name (lowercase, camelCase split,
    ``-``, ``_``, ``.`` and spaces dropped) as substrings, except ``token``, which must end
    the name (``access_token``, ``X-Auth-Token``) so ``max_tokens`` or ``token_count``
    stay; ``auth`` must be in a word but not as ``author…``/``authent…`` (``X-Auth``,
    ``authHeader``, ``oauth``), ``pass`` must end a word (``db_pass``, ``dbPass``) and
    ``sig`` be one, so ``author``, ``passenger`` or ``signal`` stay.

    Example::

        >>> r = Redactor()
        >>> r.fields({"db_password": "hunter2", "user_id": "u-1"})
        {'db_password': '[REDACTED]', 'user_id': 'u-1'}
        >>> r.text("auth header was Bearer abc.def.ghi")
        'auth header was Bearer [REDACTED]'
        >>> r.text("Cookie: sid=A1; theme=dark")
        'Cookie: [REDACTED]'
        >>> r.text('{"user": "bob", "pwd": "a\\\\"b"}')
        '{"user": "bob", "pwd": [REDACTED]}'
    """

    def __init__(
        self,
        keys: Iterable[str] = DEFAULT_REDACT_KEYS,
        patterns: Iterable[str | re.Pattern[str]] = (),
        allow_keys: Iterable[str] = DEFAULT_ALLOW_KEYS,
        enabled: bool = True,
    ) -> None:
        self.enabled = enabled
        rules: list[Callable[[str, list[str]], bool]] = []
        stems: list[str] = []
        for key in keys:
            norm = _compact(key)
            if not norm:
                raise ValueError("redact_keys must not contain an empty key")
            rule = _KEY_RULES.get(norm)
            if rule is not None:
                if rule not in rules:
                    rules.append(rule)
            elif norm not in stems:
                stems.append(norm)
        self._rules = tuple(rules)
        self._stems = tuple(stems)
        self._allow = frozenset(_compact(k) for k in allow_keys)
        try:
            self._patterns = [p if isinstance(p, re.Pattern) else re.compile(p) for p in patterns]
        except re.error as exc:
            raise ValueError(f"invalid redact pattern: {exc}") from exc
        self._kv_enabled = bool(rules or stems)
        self._key_memo: dict[str, int] = {}
        self._text_memo: dict[str, str] = {}

    # -- keys ---------------------------------------------------------------------------

    def is_secret_key(self, key: str) -> bool:
        """True when the value of a field named ``key`` must be hidden."""
        kind = self._key_memo.get(key)
        if kind is None:
            kind = self._key_kind(key)
        return kind != _PLAIN

    def _key_kind(self, key: str) -> int:
        words = _words(key)
        compact = "".join(words)
        kind = _PLAIN
        if compact not in self._allow and (
            any(s in compact for s in self._stems) or any(r(compact, words) for r in self._rules)
        ):
            if "cookie" in compact:
                kind = _COOKIE
            elif "authorization" in compact:
                kind = _AUTHORIZATION
            else:
                kind = _SECRET
        if len(self._key_memo) > 4096:
            self._key_memo.clear()
        self._key_memo[key] = kind
        return kind

    # -- text ---------------------------------------------------------------------------

    def text(self, s: str) -> str:
        """``s`` with every secret-looking substring replaced."""
        if not self.enabled:
            return s
        out = self._text_memo.get(s)
        if out is not None:
            return out
        if s.isascii() and s.isalnum():
            # Ids and plain words: not memoised, so a stream of unique request ids does
            # not keep flushing the memo of constant messages.
            return self._scan(s, True)
        out = self._scan(s, False)
        # Memoised because log messages are mostly constant templates; bounded so a
        # stream of unique strings cannot grow it without limit.
        if len(s) <= 512:
            if len(self._text_memo) > 8192:
                self._text_memo.clear()
            self._text_memo[s] = out
        return out

    def _scan(self, s: str, alnum: bool) -> str:
        # Each rule runs only when a cheap test says it could match.
        if alnum:
            # Letters and digits only: a card number or a letters-and-digits token fits.
            if len(s) >= 13:
                if len(s) >= 20 and "A" in s:
                    s = _A_TOKENS.sub(MASK, s)
                if len(s) >= 34 and "SK" in s:
                    s = _TWILIO.sub(MASK, s)
                s = _DIGITS.sub(_card_sub, s)
            for p in self._patterns:
                s = p.sub(MASK, s)
            return s
        if "-----BEGIN" in s:
            s = _PEM.sub(MASK, s)
        if "://" in s:
            s = _url_credentials(s)
            if "hooks.slack.com/" in s:
                s = _SLACK_WEBHOOK.sub(r"\1" + MASK, s)
        if "eyJ" in s:
            s = _DOTTED.sub(_jwt_sub, s)
        if "_" in s:
            s = _UNDERSCORE_TOKENS.sub(MASK, s)
        if "-" in s:
            s = _DASH_TOKENS.sub(MASK, s)
        if "A" in s:
            s = _A_TOKENS.sub(MASK, s)
        if "SK" in s:
            s = _TWILIO.sub(MASK, s)
        if "SG." in s:
            s = _SENDGRID.sub(MASK, s)
        if self._kv_enabled and ("=" in s or ":" in s or "%3" in s or '"' in s or "'" in s):
            s = self._key_values(s)
        if self._kv_enabled and "</" in s:
            s = _XML_ELEMENT.sub(self._xml_sub, s)
        # After the names: a scheme's token may swallow a "name=" glued to it.
        low = s.lower()
        if "bearer" in low:
            s = _BEARER.sub(r"\1" + MASK, s)
        if "basic" in low:
            s = _BASIC.sub(_basic_sub, s)
        if "digest" in low:
            s = _DIGEST.sub(_digest_sub, s)
        if len(s) >= 13 and _digit_count(s) >= 13:
            s = _DIGIT_RUN.sub(_card_sub, s)
        for p in self._patterns:
            s = p.sub(MASK, s)
        return s

    def _key_values(self, s: str) -> str:
        """``password=…``, ``"api_key": "…"``, ``Authorization: Digest …``: the value hidden.

        A scan from one separator to the next, the name read backwards from each, so that a
        non-sensitive pair ("a=password=x") does not swallow the sensitive one after it,
        and so that the cost stays linear.
        """
        out: list[str] = []
        pos = 0  # s[:pos] is in out
        scan = 0
        rev = s[::-1]
        n = len(s)
        memo = self._key_memo
        while True:
            m = _SEP.search(s, scan)
            if m is None:
                break
            sep_start, sep_end = m.span()
            scan = sep_end
            k = _KEY_BEFORE.match(rev, n - sep_start)
            if k is None:
                continue
            key_start = n - k.end()
            key = s[max(key_start, pos) : n - k.start(2)]
            if key_start > 1 and s[key_start - 1] == "%":
                # "%26passwd%3D…", "%2526passwd%253D…": the name follows an escape.
                key = key[_match_end(_PCT_PREFIX, key, 0) :]
            kind = memo.get(key)
            if kind is None:
                kind = self._key_kind(key)
            if kind == _PLAIN:
                continue
            start = _match_end(_SPACES, s, sep_end)
            first = s[sep_start]
            if first == "%":
                end = _match_end(_PCT_VALUE, s, start)
            elif first.isspace():
                # A quoted word after a sensitive one: its value, unless it is itself a
                # name ('cvv "password": "x"').
                q = _OPEN_QUOTE.match(s, start)
                end = _quoted_end(s, q.end(), len(q.group(1)), q.group(2)) if q else start
                if _NAME_FOLLOWS.match(s, end):
                    continue
            else:
                end = _value_end(s, start, kind, k.group(1) is not None)
            out.append(s[pos:start])
            out.append(MASK)
            pos = scan = end
        if not out:
            return s
        out.append(s[pos:])
        return "".join(out)

    def _xml_sub(self, m: re.Match[str]) -> str:
        if not m.group(3) or not self.is_secret_key(m.group(1)):
            return m.group(0)
        return f"<{m.group(1)}{m.group(2) or ''}>{MASK}</{m.group(1)}>"

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


def _value_end(s: str, start: int, kind: int, quoted_key: bool) -> int:
    """Where the value of a sensitive key that begins at ``start`` ends (``quoted_key``:
    the name was quoted, as in JSON, where a bracket after the value closes the object)."""
    q = _OPEN_QUOTE.match(s, start)
    if q is not None:
        end = _quoted_end(s, q.end(), len(q.group(1)), q.group(2))
    elif s.startswith(("[", "{"), start):
        end = _bracket_end(s, start)
    else:
        end = -1
    if end >= 0:
        # Text glued to the closing quote or bracket ("x"y, {}0000) is part of the value.
        return _match_end(_GLUED_TAIL if quoted_key else _BARE_VALUE, s, end)
    if kind == _COOKIE:
        m = _COOKIE_VALUE.match(s, start)
    else:
        m = _SCHEME_VALUE.match(s, start)
        if m is None and kind == _AUTHORIZATION:
            m = _ANY_SCHEME_VALUE.match(s, start)
    return m.end() if m is not None else _match_end(_BARE_VALUE, s, start)


def _match_end(pattern: re.Pattern[str], s: str, pos: int) -> int:
    """Where ``pattern`` (one that also matches the empty string) ends from ``pos``."""
    m = pattern.match(s, pos)
    return m.end() if m is not None else pos


def _bracket_end(s: str, start: int) -> int:
    """The end of the JSON-like array or object that opens at ``start`` (quoted strings at
    any escaping level skipped whole); the end of the text when it is not closed."""
    depth = 0
    search = _BRACKET_OR_QUOTE.search
    i = start
    while True:
        m = search(s, i)
        if m is None:
            return len(s)
        ch = m.group(2)
        if ch in "[{":
            depth += 1
            i = m.end()
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return m.end()
            i = m.end()
        else:
            i = _quoted_end(s, m.end(), len(m.group(1)), ch)


def _url_credentials(s: str) -> str:
    """``scheme://user:password@host``: the password hidden, up to the last ``@`` of the URL
    (a password may hold ``/`` or ``@`` unescaped)."""
    out: list[str] = []
    pos = 0
    scan = 0
    while True:
        i = s.find("://", scan)
        if i < 0:
            break
        scan = i + 3
        user = _URL_USER.match(s, scan)
        if user is None:
            continue
        run_end = _match_end(_URL_RUN, s, scan)
        # Later "://"s of the same run can only end at the same "@": skip them.
        scan = run_end
        start = user.end()
        if start > run_end:
            continue
        at = s.rfind("@", start, run_end)
        if at <= start:
            continue
        out.append(s[pos:start])
        out.append(MASK)
        pos = at
    if not out:
        return s
    out.append(s[pos:])
    return "".join(out)


def _card_sub(m: re.Match[str]) -> str:
    run = m.group(0)
    # A very long run almost surely holds some Luhn-valid window, and checking every
    # window costs O(n) per run: such a blob is hidden whole (never leaked, never slow).
    if len(run) > 96:
        return MASK
    if _UNUSUAL_SEP.search(run) and max(map(len, _NON_DIGITS.split(run))) > 6:
        # Dots, slashes…: a card is written in groups of 4 to 6 digits with them; longer
        # groups ("1764791125.827912", a float timestamp) are numbers of their own.
        return "".join(
            MASK if len(part) >= 13 and _contains_card(part) else part
            for part in _UNUSUAL_SEP_SPLIT.split(run)
        )
    return MASK if _contains_card(run) else run


def _jwt_sub(m: re.Match[str]) -> str:
    token = m.group(0)
    return MASK if "eyJ" in token and token.count(".") >= 2 else token


def _basic_sub(m: re.Match[str]) -> str:
    # Basic credentials are base64 of "user:password"; "basic usage" is not.
    token = m.group(2)
    try:
        decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
    except (binascii.Error, ValueError):
        return m.group(0)
    return m.group(1) + MASK if b":" in decoded else m.group(0)


def _digest_sub(m: re.Match[str]) -> str:
    # Digest credentials carry a response=; "digest sha256=…" of an image does not.
    return m.group(1) + MASK if "response" in m.group(2).lower() else m.group(0)


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
