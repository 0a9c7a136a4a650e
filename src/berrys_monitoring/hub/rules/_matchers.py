"""Label matchers as Alertmanager writes them: ``severity="critical"``, ``job=~"api|web"``,
``env!="dev"``, ``team!~"x.*"`` (regexes anchored at both ends)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["Matcher", "MatcherError", "matches_all", "parse_matchers"]

_MATCHER = re.compile(r'^\s*([^\s=!~{}",]+)\s*(=~|!~|!=|=)\s*(.*?)\s*$', re.S)


class MatcherError(ValueError):
    """A matcher that does not parse (or whose regex does not compile)."""


@dataclasses.dataclass(frozen=True)
class Matcher:
    """One label matcher.

    Example::

        >>> m = Matcher.parse('severity=~"crit.*"')
        >>> m.matches({"severity": "critical"}), m.matches({"severity": "warning"})
        (True, False)
        >>> str(m)
        'severity=~"crit.*"'
    """

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def __post_init__(self) -> None:
        if self.is_regex:
            try:
                re.compile(self.value)
            except re.error as exc:
                raise MatcherError(f"invalid regex in matcher {self}: {exc}") from None

    @property
    def op(self) -> str:
        return {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}[
            (self.is_regex, self.is_equal)
        ]

    def __str__(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.name}{self.op}"{escaped}"'

    def matches(self, labels: Mapping[str, str]) -> bool:
        value = labels.get(self.name, "")
        hit = re.fullmatch(self.value, value) is not None if self.is_regex else value == self.value
        return hit == self.is_equal

    @classmethod
    def parse(cls, text: str) -> Matcher:
        m = _MATCHER.match(text)
        if m is None:
            raise MatcherError(f'bad matcher {text!r} (examples: severity="critical", job=~"a|b")')
        name, op, raw = m.groups()
        if len(raw) >= 2 and raw[0] == raw[-1] == '"':
            value = re.sub(
                r'\\(["\\n])', lambda g: "\n" if g.group(1) == "n" else g.group(1), raw[1:-1]
            )
        elif '"' in raw:
            raise MatcherError(f"bad matcher {text!r}: unbalanced quotes")
        else:
            value = raw
        return cls(name, value, is_regex="~" in op, is_equal=op in ("=", "=~"))

    def to_api(self) -> dict[str, Any]:
        """Alertmanager v2's ``matcher`` object."""
        return {
            "name": self.name,
            "value": self.value,
            "isRegex": self.is_regex,
            "isEqual": self.is_equal,
        }


def parse_matchers(items: Iterable[str]) -> tuple[Matcher, ...]:
    """Matchers from a list of strings; a string may also hold ``{a="1", b="2"}``.

    Example::

        >>> [str(m) for m in parse_matchers(['{alertname="X", env!="dev"}'])]
        ['alertname="X"', 'env!="dev"']
    """
    out: list[Matcher] = []
    for item in items:
        if not isinstance(item, str):
            raise MatcherError(f"a matcher must be a string, got {item!r}")
        text = item.strip()
        if text.startswith("{") and text.endswith("}"):
            parts = re.findall(r'(?:[^,"]|"(?:[^"\\]|\\.)*")+', text[1:-1])
            out += [Matcher.parse(p) for p in parts if p.strip()]
        else:
            out.append(Matcher.parse(text))
    return tuple(out)


def matches_all(matchers: Iterable[Matcher], labels: Mapping[str, str]) -> bool:
    return all(m.matches(labels) for m in matchers)
