"""Redaction: what is hidden, what stays visible, and proofs that no fragment leaks."""

from __future__ import annotations

import base64
import json
import logging
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.logging.conftest import Lines

from berrys_monitoring.logging import (
    ConsoleFormatter,
    Redactor,
    SafeStreamHandler,
    bind_context,
    clear_context,
    configure_logging,
    get_logger,
)

# -- examples -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "PASSWORD",
        "db_password",
        "passwd",
        "client_secret",
        "secretKey",
        "token",
        "access_token",
        "X-Auth-Token",
        "refreshToken",
        "api_key",
        "X-API-Key",
        "apiKey",
        "Authorization",
        "Proxy-Authorization",
        "cookie",
        "Set-Cookie",
        "private_key",
        "privateKey",
    ],
)
def test_sensitive_keys_are_masked(key: str, json_logging: Lines) -> None:
    get_logger("r").info("m", extra={key: "s3cr3t-value"})
    assert json_logging.records()[0][key] == "[REDACTED]"
    assert "s3cr3t" not in json_logging.getvalue()


@pytest.mark.parametrize(
    "key",
    [
        "request_id",
        "user_id",
        "session_id",
        "ip_address",
        "token_type",
        "max_tokens",
        "token_count",
        "prompt_tokens",
        "author",
        "status",
    ],
)
def test_identifiers_and_lookalikes_stay_visible(key: str, json_logging: Lines) -> None:
    get_logger("r").info("m", extra={key: "visible-value"})
    assert json_logging.records()[0][key] == "visible-value"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("auth: Bearer abc.DEF-123_x", "auth: Bearer [REDACTED]"),
        ("header bearer   xyz== end", "header bearer   [REDACTED] end"),
        (
            "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl done",
            "jwt [REDACTED] done",
        ),
        ("card 4111 1111 1111 1111 ok", "card [REDACTED] ok"),
        ("card 4111-1111-1111-1111", "card [REDACTED]"),
        ("amex 378282246310005.", "amex [REDACTED]."),
        ("order 12 4111 1111 1111 1111", "order [REDACTED]"),
        ("login password=hunter2 ok", "login password=[REDACTED] ok"),
        ('{"api_key": "k-123"}', '{"api_key": [REDACTED]}'),
        ("GET /cb?access_token=abc&x=1", "GET /cb?access_token=[REDACTED]&x=1"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: [REDACTED]"),
        ("dsn postgres://app:pw-123@db:5432/x", "dsn postgres://app:[REDACTED]@db:5432/x"),
        ("a=password=hunter2 b=c", "a=password=[REDACTED] b=c"),
        ("glued xyzeyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln end", "glued [REDACTED] end"),
        ("unsigned eyJhbGciOiJub25lIn0.eyJzdWIiOjF9. end", "unsigned [REDACTED] end"),
        ("X-API-Key: k-9 and db.password=p-9", "X-API-Key: [REDACTED] and db.password=[REDACTED]"),
        # The scheme twice (a client that prefixes it again): the token is still hidden.
        ("Authorization: Bearer Bearer abc123def", "Authorization: [REDACTED]"),
        ("sent BEARER Bearer 0000 twice", "sent BEARER Bearer [REDACTED] twice"),
    ],
)
def test_secrets_inside_text_are_replaced(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "epoch ms 1732412345678",  # 13 digits but not a card issuer prefix
        "4111 1111 1111 1112",  # fails the Luhn check
        "request 1234",
        "max_tokens=512 tokens: 40",
        "bearer",
        "basic usage of the api",
        "user_id=u-1 session_id=s-2 ip_address=10.0.0.1",
        "ratio 3:2 and a=b",
        "host api.example.com and version 1.2.3",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert Redactor().text(text) == text


@pytest.mark.timeout(60)  # a regex that backtracks quadratically would take minutes here
@pytest.mark.parametrize(
    "text",
    [
        "x= " + "password" * 20_000,
        "eyJ" * 60_000,
        "4" * 50_000,
        "k=" * 100_000,
        'password="' * 30_000,
        "://" + "a:" * 50_000,
        "Bearer " * 30_000,
    ],
    ids=["kv", "jwt", "digits", "keys", "quotes", "url", "bearer"],
)
def test_adversarial_long_text_is_redacted_in_linear_time(text: str) -> None:
    out = Redactor().text(text)
    assert isinstance(out, str)


def test_a_very_long_digit_run_is_hidden_whole() -> None:
    assert Redactor().text("blob " + "7" * 200) == "blob [REDACTED]"


def test_redaction_applies_to_messages_args_context_bound_fields_and_exceptions(
    json_logging: Lines,
) -> None:
    bind_context(session_cookie="c00kie-val", request_id="r-1")
    log = get_logger("r").bind(api_key="k3y-val")
    log.info("paying with %s", "4111111111111111")
    try:
        raise ConnectionError("login failed for password=pa55-val")
    except ConnectionError:
        log.exception("db down")
    out = json_logging.getvalue()
    for secret in ("c00kie-val", "k3y-val", "4111111111111111", "pa55-val"):
        assert secret not in out
    first, second = json_logging.records()
    assert first["request_id"] == "r-1"
    assert first["message"] == "paying with [REDACTED]"
    exc = second["exception"]
    assert isinstance(exc, dict)
    assert exc["message"] == "login failed for password=[REDACTED]"


def test_redaction_applies_to_third_party_records(json_logging: Lines) -> None:
    logging.getLogger("urllib3").warning(
        "retrying with Authorization: Bearer tok-3rd", extra={"headers": {"Cookie": "c=1"}}
    )
    rec = json_logging.records()[0]
    assert "tok-3rd" not in json_logging.getvalue()
    assert rec["headers"] == {"Cookie": "[REDACTED]"}


def test_nested_structures_dataclasses_and_objects_are_redacted(json_logging: Lines) -> None:
    from dataclasses import dataclass

    @dataclass
    class Creds:
        user: str
        password: str

    class Opaque:
        def __str__(self) -> str:
            return "conn token=opaque-tok"

    get_logger("r").info(
        "m",
        extra={
            "cfg": {"db": {"password": "p1", "hosts": [{"secret": "p2"}, "ok"]}},
            "creds": Creds("alice", "p3-xyz"),
            "obj": Opaque(),
        },
    )
    rec = json_logging.records()[0]
    assert rec["cfg"] == {
        "db": {"password": "[REDACTED]", "hosts": [{"secret": "[REDACTED]"}, "ok"]}
    }
    assert rec["creds"] == {"user": "alice", "password": "[REDACTED]"}
    assert rec["obj"] == "conn token=[REDACTED]"


def test_custom_keys_patterns_and_allow_keys(lines: Lines) -> None:
    configure_logging(
        stream=lines,
        redact_keys=["ssn"],
        redact_patterns=[r"ACCT-\d+"],
        allow_keys=["cookie_consent"],
        adopt_servers=False,
    )
    get_logger("r").info(
        "moved ACCT-991 funds", extra={"customer_ssn": "123-45-6789", "cookie_consent": "yes"}
    )
    rec = lines.records()[0]
    assert rec["message"] == "moved [REDACTED] funds"
    assert rec["customer_ssn"] == "[REDACTED]"
    assert rec["cookie_consent"] == "yes"


def test_redaction_can_be_switched_off(lines: Lines) -> None:
    configure_logging(stream=lines, redact=False, adopt_servers=False)
    get_logger("r").info("Bearer visible", extra={"password": "visible"})
    rec = lines.records()[0]
    assert rec["message"] == "Bearer visible" and rec["password"] == "visible"


# -- properties -------------------------------------------------------------------------------

SENSITIVE_KEYS = st.sampled_from(
    [
        "password",
        "db_password",
        "X-API-Key",
        "apiKey",
        "Authorization",
        "set-cookie",
        "client_secret",
        "access_token",
        "privateKey",
        "passwd",
    ]
)
# Printable, without quote/backslash so the JSON text shows the secret as-is.
SECRET_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-./:;<=>?@[]^_`{|}~ "
FILLER = st.text(alphabet=string.ascii_letters + " .,", max_size=20)


def _fragments(secret: str) -> set[str]:
    return {secret[i : i + 4] for i in range(len(secret) - 3)}


def _render_all(emit: object) -> str:
    """Run ``emit`` under a fresh JSON configuration plus a console handler; the text of
    both outputs with timestamps removed (a secret like "2026" must not match the date)."""
    json_out = Lines()
    console_out = Lines()
    configure_logging(level="debug", stream=json_out, service_name="prop", adopt_servers=False)
    console = SafeStreamHandler(console_out)
    console.setFormatter(ConsoleFormatter())
    root = logging.getLogger()
    root.addHandler(console)
    try:
        emit()  # type: ignore[operator]
    finally:
        root.removeHandler(console)
        clear_context()
    recs = json_out.records()
    for r in recs:
        r.pop("timestamp")
    console_lines = [line.split(" ", 2)[2] for line in console_out.getvalue().splitlines() if line]
    return json.dumps(recs, ensure_ascii=False) + "\n" + "\n".join(console_lines)


def _assert_no_fragment(secret: str, emit_with: object) -> None:
    """No 4-character piece of ``secret`` in the output, except pieces the same output
    also contains when another secret of the same length is logged instead."""
    out = _render_all(lambda: emit_with(secret))  # type: ignore[operator]
    baseline = _render_all(lambda: emit_with("\x01" * len(secret)))  # type: ignore[operator]
    leaked = {f for f in _fragments(secret) if f in out and f not in baseline}
    assert not leaked, f"fragments {leaked} of the secret leaked into:\n{out}"


def _nest(key: str, value: str, depth: int, as_list: bool) -> object:
    obj: object = {key: value}
    for i in range(depth):
        obj = [obj] if as_list and i % 2 else {f"level{i}": obj}
    return obj


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    secret=st.text(alphabet=SECRET_ALPHABET, min_size=4, max_size=40),
    key=SENSITIVE_KEYS,
    depth=st.integers(0, 4),
    as_list=st.booleans(),
    where=st.sampled_from(["extra", "kwarg", "context", "bound", "third_party"]),
)
def test_property_values_under_sensitive_keys_never_leak(
    secret: str, key: str, depth: int, as_list: bool, where: str
) -> None:
    def emit(s: str) -> None:
        value = _nest(key, s, depth, as_list)
        top = {"payload": value} if depth else {key: s}
        log = get_logger("prop")
        if where == "extra":
            log.info("event", extra=top)
        elif where == "kwarg":
            log.info("event", **top)
        elif where == "context":
            bind_context(**top)
            log.info("event")
        elif where == "bound":
            log.bind(**top).info("event")
        else:
            logging.getLogger("lib.prop").warning("event", extra=top)

    _assert_no_fragment(secret, emit)


def _luhn_complete(body: str) -> str:
    for check in "0123456789":
        digits = body + check
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch)
            if i % 2:
                d = d * 2 - 9 if d > 4 else d * 2
            total += d
        if total % 10 == 0:
            return digits
    raise AssertionError


@st.composite
def card_numbers(draw: st.DrawFn) -> str:
    length = draw(st.integers(13, 19))
    body = draw(st.sampled_from("23456")) + draw(
        st.text(alphabet=string.digits, min_size=length - 2, max_size=length - 2)
    )
    digits = _luhn_complete(body)
    seps = draw(st.lists(st.sampled_from(["", "", " ", "-"]), min_size=length, max_size=length))
    return "".join(d + (seps[i] if i < length - 1 else "") for i, d in enumerate(digits))


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@st.composite
def jwts(draw: st.DrawFn) -> str:
    claims = draw(
        st.dictionaries(
            st.text(string.ascii_letters, min_size=1, max_size=8),
            st.text(string.ascii_letters + string.digits, max_size=12),
            max_size=4,
        )
    )
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url(json.dumps({"sub": "x", **claims}).encode())
    sig = draw(st.text(string.ascii_letters + string.digits + "-_", min_size=8, max_size=43))
    return f"{header}.{payload}.{sig}"


B64TOKEN = st.text(string.ascii_letters + string.digits + "-._~+/", min_size=4, max_size=60)
KV_SECRET = st.text(string.ascii_letters + string.digits + "!#$%()*+-./<>?@[]^_{|}~", min_size=4)


@st.composite
def secrets_in_text(draw: st.DrawFn) -> tuple[str, str]:
    """(secret, template with {} where the secret goes)."""
    kind = draw(st.sampled_from(["card", "jwt", "bearer", "kv", "url"]))
    if kind == "card":
        return draw(card_numbers()), "{}"
    if kind == "jwt":
        return draw(jwts()), "{}"
    if kind == "bearer":
        scheme = draw(st.sampled_from(["Bearer", "bearer", "BEARER"]))
        return draw(B64TOKEN), scheme + " {}"
    if kind == "kv":
        key = draw(st.sampled_from(["password", "db_passwd", "api-key", "token", "secret"]))
        sep = draw(st.sampled_from(["=", ": ", " = ", ":"]))
        return draw(KV_SECRET.filter(lambda s: ":" not in s[:1])), key + sep + "{}"
    secret = draw(st.text(string.ascii_letters + string.digits + "-_.~!$", min_size=4, max_size=30))
    return secret, "postgres://app:{}@db.internal:5432/main"


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    item=secrets_in_text(),
    before=FILLER,
    after=FILLER,
    where=st.sampled_from(["message", "arg", "value", "nested", "exception", "third_party"]),
)
def test_property_secret_looking_text_never_leaks(
    item: tuple[str, str], before: str, after: str, where: str
) -> None:
    secret, template = item

    def emit(s: str) -> None:
        text = f"{before} {template.format(s)} {after}"
        log = get_logger("prop")
        if where == "message":
            log.info(text)
        elif where == "arg":
            log.info("got %s here", text)
        elif where == "value":
            log.info("event", extra={"note": text})
        elif where == "nested":
            log.info("event", extra={"data": {"items": [{"note": text}]}})
        elif where == "exception":
            try:
                raise RuntimeError(text)
            except RuntimeError:
                log.exception("failed")
        else:
            logging.getLogger("lib.prop").error(text)

    _assert_no_fragment(secret, emit)


def test_letters_and_digits_only_strings_are_checked_for_card_numbers_not_memoised() -> None:
    r = Redactor()
    assert r.text("ref4111111111111111end") == "ref[REDACTED]end"
    request_id = "0af7651916cd43dd8448eb211c80319c"
    assert r.text(request_id) == request_id
    # Unique ids must not fill (and so keep flushing) the memo of constant messages.
    assert request_id not in r._text_memo
    assert r.text("token=abc") == "token=[REDACTED]"
