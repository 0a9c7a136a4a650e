"""Binary operators: arithmetic, comparisons (with ``bool``) and the set operators, with
Prometheus's vector matching (``on``/``ignoring``, ``group_left``/``group_right``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from berrys_monitoring.hub.promql._errors import PromQLError
from berrys_monitoring.hub.promql._values import (
    F64,
    Bool,
    Labels,
    Scalar,
    Value,
    Vector,
    drop_name,
    get_label,
    merge_same_labels,
)

__all__ = ["Matching", "binary"]

_ARITH: dict[str, Callable[[F64, F64], F64]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.fmod,
    "^": np.power,
    "atan2": np.arctan2,
}
_COMPARE: dict[str, Callable[[F64, F64], Bool]] = {
    "==": np.equal,
    "!=": np.not_equal,
    ">": np.greater,
    "<": np.less,
    ">=": np.greater_equal,
    "<=": np.less_equal,
}
SET_OPS = ("and", "or", "unless")
_DROPS_NAME = frozenset("+-*/%^")  # not atan2, as in Prometheus 2


@dataclasses.dataclass
class Matching:
    """How two vectors' series pair up: ``on``/``ignoring`` ``labels``, the cardinality
    and ``group_left``/``group_right``'s ``include``.

    Example::

        >>> Matching(card="many-to-one", on=True, labels=("job",)).card
        'many-to-one'
    """

    card: str = "one-to-one"  # many-to-one (group_left), one-to-many, many-to-many
    on: bool = False
    labels: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    return_bool: bool = False


def binary(op: str, lhs: Value, rhs: Value, m: Matching) -> Value:
    """``lhs op rhs`` at every step.

    Example::

        >>> v = Vector([(("__name__", "x"),)], np.array([[1.0, 5.0]]), np.ones((1, 2), bool))
        >>> out = binary(">", v, Scalar(np.array([2.0, 2.0])), Matching())
        >>> out.labels, out.present.tolist()
        ([(('__name__', 'x'),)], [[False, True]])
    """
    if op not in _ARITH and op not in _COMPARE and op not in SET_OPS:
        raise PromQLError("execution", f"operator not supported: {op}")
    if isinstance(lhs, Scalar) and isinstance(rhs, Scalar):
        with np.errstate(all="ignore"):
            if op in _COMPARE:
                return Scalar(_COMPARE[op](lhs.values, rhs.values).astype(np.float64))
            return Scalar(np.asarray(_ARITH[op](lhs.values, rhs.values), dtype=np.float64))
    if isinstance(lhs, Vector) and isinstance(rhs, Vector):
        if op in SET_OPS:
            return _set_op(op, lhs, rhs, m)
        return _vector_vector(op, lhs, rhs, m)
    if isinstance(lhs, Vector) and isinstance(rhs, Scalar):
        return _vector_scalar(op, lhs, rhs.values[None, :], swap=False, return_bool=m.return_bool)
    if isinstance(lhs, Scalar) and isinstance(rhs, Vector):
        return _vector_scalar(op, rhs, lhs.values[None, :], swap=True, return_bool=m.return_bool)
    raise PromQLError("execution", f"operator {op} not supported between these types")


def _vector_scalar(op: str, vec: Vector, s: F64, *, swap: bool, return_bool: bool) -> Vector:
    a, b = (s, vec.values) if swap else (vec.values, s)
    with np.errstate(all="ignore"):
        if op in _COMPARE:
            hit = _COMPARE[op](a, b)
            if return_bool:
                return merge_same_labels(
                    Vector(
                        [drop_name(lab) for lab in vec.labels],
                        hit.astype(np.float64),
                        vec.present.copy(),
                    )
                )
            return Vector(list(vec.labels), vec.values, vec.present & hit)
        values = np.asarray(_ARITH[op](a, b), dtype=np.float64)
    if op not in _DROPS_NAME:
        return merge_same_labels(Vector(list(vec.labels), values, vec.present))
    return merge_same_labels(Vector([drop_name(lab) for lab in vec.labels], values, vec.present))


def _signature(labels: Labels, m: Matching) -> Labels:
    if m.on:
        return tuple((n, get_label(labels, n)) for n in m.labels)
    skip = set(m.labels)
    return tuple(p for p in labels if p[0] != "__name__" and p[0] not in skip)


def _set_op(op: str, lhs: Vector, rhs: Vector, m: Matching) -> Vector:
    steps = lhs.values.shape[1]

    def any_by_sig(vec: Vector) -> dict[Labels, Bool]:
        out: dict[Labels, Bool] = {}
        for i, lab in enumerate(vec.labels):
            sig = _signature(lab, m)
            prev = out.get(sig)
            out[sig] = vec.present[i] if prev is None else prev | vec.present[i]
        return out

    none = np.zeros(steps, dtype=bool)
    if op in ("and", "unless"):
        right = any_by_sig(rhs)
        present = np.array(
            [
                lhs.present[i] & (right.get(_signature(lab, m), none) ^ (op == "unless"))
                for i, lab in enumerate(lhs.labels)
            ],
            dtype=bool,
        ).reshape(lhs.present.shape)
        return Vector(list(lhs.labels), lhs.values, present)
    left = any_by_sig(lhs)
    rpres = np.array(
        [rhs.present[i] & ~left.get(_signature(lab, m), none) for i, lab in enumerate(rhs.labels)],
        dtype=bool,
    ).reshape(rhs.present.shape)
    return merge_same_labels(
        Vector(
            list(lhs.labels) + list(rhs.labels),
            np.concatenate([lhs.values, rhs.values]),
            np.concatenate([lhs.present, rpres]),
        )
    )


def _fmt(labels: Labels) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in labels) + "}"


def _vector_vector(op: str, lhs: Vector, rhs: Vector, m: Matching) -> Vector:
    if m.card == "many-to-many":
        raise PromQLError("execution", "many-to-many only allowed for set operators")
    swap = m.card == "one-to-many"
    many, one = (rhs, lhs) if swap else (lhs, rhs)
    steps = lhs.values.shape[1]
    one_side: dict[Labels, list[int]] = {}
    for i, lab in enumerate(one.labels):
        one_side.setdefault(_signature(lab, m), []).append(i)
    for sig, rows in one_side.items():
        if len(rows) > 1 and (one.present[rows].sum(axis=0) > 1).any():
            side = "left" if swap else "right"
            raise PromQLError(
                "execution",
                f"found duplicate series for the match group {_fmt(sig)} on the {side} "
                "hand-side of the operation;many-to-many matching not allowed: "
                "matching labels must be unique on one side",
            )
    compare = op in _COMPARE
    drop = op in _DROPS_NAME or m.return_bool
    out_labels: list[Labels] = []
    out_values: list[F64] = []
    out_present: list[Bool] = []
    out_sig: list[Labels] = []
    for i, lab in enumerate(many.labels):
        sig = _signature(lab, m)
        for j in one_side.get(sig, ()):
            both = many.present[i] & one.present[j]
            if not both.any():
                continue
            lv, rv = (one.values[j], many.values[i]) if swap else (many.values[i], one.values[j])
            with np.errstate(all="ignore"):
                if compare:
                    hit = _COMPARE[op](lv, rv)
                    if m.return_bool:
                        values = hit.astype(np.float64)
                    else:
                        values = lv
                        both = both & hit
                else:
                    values = np.asarray(_ARITH[op](lv, rv), dtype=np.float64)
            out_labels.append(_result_labels(lab, one.labels[j], m, drop))
            out_values.append(values)
            out_present.append(both)
            out_sig.append(sig)
    if not out_labels:
        return Vector.empty(steps)
    present = np.array(out_present, dtype=bool)
    by_sig: dict[Labels, list[int]] = {}
    for k, sig in enumerate(out_sig):
        by_sig.setdefault(sig, []).append(k)
    for rows in by_sig.values():
        if len(rows) < 2:
            continue
        if m.card == "one-to-one":
            if (present[rows].sum(axis=0) > 1).any():
                raise PromQLError(
                    "execution",
                    "multiple matches for labels: many-to-one matching must be explicit "
                    "(group_left/group_right)",
                )
        else:
            seen: dict[Labels, list[int]] = {}
            for k in rows:
                seen.setdefault(out_labels[k], []).append(k)
            for same in seen.values():
                if len(same) > 1 and (present[same].sum(axis=0) > 1).any():
                    raise PromQLError(
                        "execution",
                        "multiple matches for labels: grouping labels must ensure unique matches",
                    )
    return merge_same_labels(Vector(out_labels, np.array(out_values), present))


def _result_labels(many: Labels, one: Labels, m: Matching, drop: bool) -> Labels:
    d = dict(many)
    if drop:
        d.pop("__name__", None)
    if m.card == "one-to-one":
        if m.on:
            d = {k: v for k, v in d.items() if k in m.labels}
        else:
            for n in m.labels:
                d.pop(n, None)
    for n in m.include:
        v = get_label(one, n)
        if v:
            d[n] = v
        else:
            d.pop(n, None)
    return tuple(sorted(d.items()))
