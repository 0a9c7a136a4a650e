"""Comparing two Prometheus API answers: the same series, values within a relative
tolerance, the same error type when both refuse."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REL_TOL = 1e-6
ABS_TOL = 1e-12  # sums taken in another order differ by a few ulps around zero

CORPUS = Path(__file__).with_name("corpus.txt")


@dataclass(frozen=True)
class Case:
    query: str
    expect: str  # "agree", "error" or "unsupported"
    reason: str = ""
    line: int = 0

    @property
    def id(self) -> str:
        return f"L{self.line}:{self.query[:60]}"


def corpus(path: Path = CORPUS) -> list[Case]:
    cases = []
    for n, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        query, _, marker = line.partition(" ;; ")
        marker = marker.strip()
        if not marker:
            cases.append(Case(query.strip(), "agree", line=n))
        elif marker == "error":
            cases.append(Case(query.strip(), "error", line=n))
        elif marker.startswith("unsupported:"):
            reason = marker.removeprefix("unsupported:").strip()
            cases.append(Case(query.strip(), "unsupported", reason, line=n))
        else:
            raise ValueError(f"{path}:{n}: unknown marker {marker!r}")
    return cases


def _value(text: str) -> float:
    return float(text)  # "NaN", "+Inf" and "-Inf" parse as such


def close(a: str, b: str) -> bool:
    x, y = _value(a), _value(b)
    if math.isnan(x) or math.isnan(y):
        return math.isnan(x) and math.isnan(y)
    if math.isinf(x) or math.isinf(y):
        return x == y
    return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _key(metric: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(metric.items()))


def differences(
    ours: dict[str, Any], theirs: dict[str, Any], *, ordered: bool = False
) -> list[str]:
    """What differs between two ``data`` objects (empty: they agree)."""
    kind = theirs["resultType"]
    if ours.get("resultType") != kind:
        return [f"resultType {ours.get('resultType')!r} != {kind!r}"]
    if kind in ("scalar", "string"):
        (t1, v1), (t2, v2) = ours["result"], theirs["result"]
        same = v1 == v2 if kind == "string" else close(v1, v2)
        return [] if t1 == t2 and same else [f"{kind} {ours['result']} != {theirs['result']}"]
    problems: list[str] = []
    mine = {_key(s["metric"]): s for s in ours["result"]}
    want = {_key(s["metric"]): s for s in theirs["result"]}
    if len(mine) != len(ours["result"]):
        problems.append("duplicate label sets in the hub's answer")
    for key in want.keys() - mine.keys():
        problems.append(f"missing series {dict(key)}")
    for key in mine.keys() - want.keys():
        problems.append(f"extra series {dict(key)}")
    for key in want.keys() & mine.keys():
        a, b = mine[key], want[key]
        pa = [a["value"]] if kind == "vector" else a["values"]
        pb = [b["value"]] if kind == "vector" else b["values"]
        if [p[0] for p in pa] != [p[0] for p in pb]:
            problems.append(f"{dict(key)}: timestamps {[p[0] for p in pa][:5]}… != "
                            f"{[p[0] for p in pb][:5]}…")  # fmt: skip
            continue
        for (t, x), (_, y) in zip(pa, pb, strict=True):
            if not close(x, y):
                problems.append(f"{dict(key)} at {t}: {x} != {y}")
                break
    if ordered and kind == "vector" and not problems:
        # sort() breaks ties arbitrarily: the order of the values is what must agree
        va = [_value(s["value"][1]) for s in ours["result"]]
        vb = [_value(s["value"][1]) for s in theirs["result"]]
        if any(not close(repr(x), repr(y)) for x, y in zip(va, vb, strict=True)):
            problems.append(f"order of values {va} != {vb}")
    return problems
