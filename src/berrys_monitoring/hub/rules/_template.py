"""Annotation and label templates, the subset of Go's text/template that rule files use:
``{{ $labels.job }}``, ``{{ $value }}``, ``{{ $externalLabels.x }}``, pipes into
``humanize``, ``humanize1024``, ``humanizeDuration``, ``humanizePercentage``,
``humanizeTimestamp``, ``printf``, ``toUpper``, ``toLower``, ``title``.
Anything else (``if``, ``range``, ``query``) is refused when the rule file loads, naming
what is not supported, rather than rendered wrong.
https://prometheus.io/docs/prometheus/latest/configuration/template_reference/
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import math
import re
import shlex
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Template", "TemplateError", "go_float", "humanize", "humanize_duration"]


class TemplateError(ValueError):
    """A template uses syntax or a function the hub does not render."""


_ACTION = re.compile(r"\{\{(-?)\s*(.*?)\s*(-?)\}\}", re.S)
_OPERAND = re.compile(
    r"^(?:\$labels|\.Labels)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$"
    r"|^(?:\$externalLabels|\.ExternalLabels)(?:\.([A-Za-z_][A-Za-z0-9_]*))?$"
    r"|^(\$value|\.Value)$"
    r"|^(\$externalURL|\.ExternalURL)$"
)


def go_float(v: float) -> str:
    """A float as Go's ``%v`` prints it (what ``{{ $value }}`` shows).

    Example::

        >>> go_float(3.0), go_float(0.25), go_float(1e-7), go_float(float("inf"))
        ('3', '0.25', '1e-07', '+Inf')
        >>> go_float(1234567.891), go_float(123456.7), go_float(-1e6)
        ('1.234567891e+06', '123456.7', '-1e+06')
    """
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    if v == 0:
        return "0"
    # strconv.FormatFloat(v, 'g', -1, 64): the shortest digits, exponent form when the
    # exponent is below -4 or at least 6 (so 1234567.0 prints as 1.234567e+06)
    d = decimal.Decimal(repr(v)).normalize()
    _, digits, exponent = d.as_tuple()
    exp10 = len(digits) + int(exponent) - 1
    if exp10 < -4 or exp10 >= 6:
        text = "".join(map(str, digits))
        mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
        sign = "-" if v < 0 else ""
        return f"{sign}{mantissa}e{'-' if exp10 < 0 else '+'}{abs(exp10):02d}"
    return format(d, "f")


def _g4(v: float) -> str:
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    text = f"{v:.4g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{exp[0]}{abs(int(exp)):02d}"
    return text


_SMALL = ["m", "u", "n", "p", "f", "a", "z", "y"]


def humanize(v: float) -> str:
    """Prometheus' ``humanize``: SI prefixes, four significant digits.

    Example::

        >>> humanize(1234567), humanize(0.0012), humanize(0)
        ('1.235M', '1.2m', '0')
    """
    if v == 0 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    if abs(v) >= 1:
        for p in ["k", "M", "G", "T", "P", "E", "Z", "Y"]:
            if abs(v) < 1000:
                break
            prefix, v = p, v / 1000
        return _g4(v) + prefix
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return _g4(v) + prefix


def humanize1024(v: float) -> str:
    if abs(v) <= 1 or math.isnan(v) or math.isinf(v):
        return _g4(v)
    prefix = ""
    for p in ["ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"]:
        if abs(v) < 1024:
            break
        prefix, v = p, v / 1024
    return _g4(v) + prefix


def humanize_duration(v: float) -> str:
    """Prometheus' ``humanizeDuration``.

    Example::

        >>> humanize_duration(93784), humanize_duration(2.5), humanize_duration(0.0015)
        ('1d 2h 3m 4s', '2.5s', '1.5ms')
    """
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    if v == 0:
        return "0s"
    if abs(v) >= 1:
        sign = "-" if v < 0 else ""
        v = abs(v)
        d = int(v)
        seconds, minutes, hours, days = d % 60, (d // 60) % 60, (d // 3600) % 24, d // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(v)}s"
    prefix = ""
    for p in _SMALL:
        if abs(v) >= 1:
            break
        prefix, v = p, v * 1000
    return f"{_g4(v)}{prefix}s"


def _timestamp(v: float) -> str:
    if math.isnan(v) or math.isinf(v):
        return _g4(v)
    moment = dt.datetime.fromtimestamp(v, tz=dt.timezone.utc)
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f +0000 UTC").replace(".000000 ", " ")


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TemplateError(f"expected a number, got {value!r}") from None


def _printf(fmt: str, *args: Any) -> str:
    pyfmt = re.sub(r"%v", "%s", fmt)
    try:
        return pyfmt % args
    except (TypeError, ValueError) as exc:
        raise TemplateError(f"printf {fmt!r}: {exc}") from None


_FUNCTIONS: dict[str, Callable[..., str]] = {
    "humanize": lambda v: humanize(_number(v)),
    "humanize1024": lambda v: humanize1024(_number(v)),
    "humanizeDuration": lambda v: humanize_duration(_number(v)),
    "humanizePercentage": lambda v: _g4(_number(v) * 100) + "%",
    "humanizeTimestamp": lambda v: _timestamp(_number(v)),
    "toUpper": lambda s: str(s).upper(),
    "toLower": lambda s: str(s).lower(),
    "title": lambda s: str(s).title(),
    "printf": _printf,
}


@dataclasses.dataclass(frozen=True)
class _Data:
    labels: Mapping[str, str]
    value: float
    external_labels: Mapping[str, str]
    external_url: str


def _operand(token: str, data: _Data) -> Any:
    if len(token) >= 2 and token[0] == token[-1] and token[0] in '"`':
        return token[1:-1]
    try:
        return float(token) if "." in token else int(token)
    except ValueError:
        pass
    m = _OPERAND.match(token)
    if m is None:
        raise TemplateError(f"unsupported template operand {token!r}")
    if m.group(3):
        return data.value
    if m.group(4):
        return data.external_url
    if token.startswith(("$externalLabels", ".ExternalLabels")):
        return data.external_labels.get(m.group(2), "") if m.group(2) else data.external_labels
    return data.labels.get(m.group(1), "") if m.group(1) else data.labels


def _show(value: Any) -> str:
    if isinstance(value, float):
        return go_float(value)
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{k}:{v}" for k, v in sorted(value.items())) + "]"
    return str(value)


def _split(pipeline: str) -> list[list[str]]:
    try:
        lexer = shlex.shlex(pipeline, posix=False, punctuation_chars="|")
        lexer.whitespace_split = True
        lexer.quotes = '"`'
        tokens = list(lexer)
    except ValueError as exc:
        raise TemplateError(f"bad template action {{{{ {pipeline} }}}}: {exc}") from None
    commands: list[list[str]] = [[]]
    for tok in tokens:
        if tok == "|":
            commands.append([])
        else:
            commands[-1].append(tok)
    if any(not c for c in commands):
        raise TemplateError(f"empty command in {{{{ {pipeline} }}}}")
    return commands


def _run(commands: list[list[str]], data: _Data) -> str:
    result: Any = None
    for i, command in enumerate(commands):
        head, *args = command
        if head in _FUNCTIONS:
            values = [_operand(a, data) for a in args]
            if i > 0:
                values.append(result)
            if not values:
                raise TemplateError(f"{head} needs an argument")
            result = _FUNCTIONS[head](*values)
        elif i == 0 and not args:
            result = _operand(head, data)
        else:
            raise TemplateError(
                f"unsupported template function {head!r} (supported: "
                + ", ".join(sorted(_FUNCTIONS))
                + ")"
            )
    return _show(result)


class Template:
    """One annotation or label template, checked when it is built.

    Example::

        >>> t = Template("{{ $labels.job }} at {{ $value | humanizePercentage }}")
        >>> t.render({"job": "api"}, 0.0734)
        'api at 7.34%'
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self._parts: list[tuple[str, list[list[str]]]] = []
        pos = 0
        for m in _ACTION.finditer(text):
            literal = text[pos : m.start()]
            if m.group(1):
                literal = literal.rstrip()
            self._parts.append((literal, []))
            body = m.group(2)
            if body.startswith("/*"):
                pass  # a comment
            elif re.match(r"^(if|else|end|range|with|define|template|block)\b", body):
                raise TemplateError(
                    f"unsupported template action {{{{ {body} }}}}: the hub renders values, "
                    "labels and the humanize functions, not control flow"
                )
            else:
                self._parts.append(("", _split(body)))  # parsed once, rendered often
            pos = m.end()
            if m.group(3):
                rest = text[pos:]
                pos += len(rest) - len(rest.lstrip())
        tail = text[pos:]
        if "{{" in tail:
            raise TemplateError(f"unclosed action in template {text!r}")
        self._parts.append((tail, []))
        self.render({}, 0.0)  # a template that cannot render fails now, not at 3 a.m.

    def render(
        self,
        labels: Mapping[str, str],
        value: float,
        *,
        external_labels: Mapping[str, str] | None = None,
        external_url: str = "",
    ) -> str:
        data = _Data(labels, value, external_labels or {}, external_url)
        return "".join(_run(commands, data) if commands else text for text, commands in self._parts)
