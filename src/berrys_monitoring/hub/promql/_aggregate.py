"""Aggregation operators (``sum by (...)`` and friends) over every step at once: one
array reduction per group, never a loop over samples."""

from __future__ import annotations

import re

import numpy as np

from berrys_monitoring.hub.promql._errors import PromQLError
from berrys_monitoring.hub.promql._functions import quantile_sorted
from berrys_monitoring.hub.promql._result import format_value
from berrys_monitoring.hub.promql._values import (
    F64,
    Bool,
    Labels,
    Scalar,
    String,
    Value,
    Vector,
)

__all__ = ["aggregate"]

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _group_key(labels: Labels, names: frozenset[str], without: bool) -> Labels:
    if without:
        return tuple(p for p in labels if p[0] not in names and p[0] != "__name__")
    return tuple(p for p in labels if p[0] in names)


def aggregate(
    op: str, vec: Vector, names: list[str] | None, without: bool, param: Value | None
) -> Vector:
    """``op`` over the groups of ``vec`` (by ``names``, or without them).

    Example::

        >>> labels = [(("job", "a"), ("i", "1")), (("job", "a"), ("i", "2"))]
        >>> v = Vector(labels, np.array([[1.0], [2.0]]), np.ones((2, 1), bool))
        >>> out = aggregate("sum", v, ["job"], False, None)
        >>> out.labels, out.values.tolist()
        ([(('job', 'a'),)], [[3.0]])
    """
    wanted = frozenset(names or ())
    groups: dict[Labels, list[int]] = {}
    for i, lab in enumerate(vec.labels):
        groups.setdefault(_group_key(lab, wanted, without), []).append(i)
    steps = vec.values.shape[1]
    if op in ("topk", "bottomk"):
        assert isinstance(param, Scalar)
        return _topk(vec, groups, param.values, bottom=op == "bottomk")
    if op == "count_values":
        assert isinstance(param, String)
        return _count_values(vec, groups, param.value)
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    for key, idx in groups.items():
        v = vec.values[idx]
        p = vec.present[idx]
        has = np.asarray(p.any(axis=0), dtype=bool)
        if not has.any():
            continue
        n = p.sum(axis=0)
        with np.errstate(all="ignore"):
            if op == "sum":
                out = np.where(p, v, 0.0).sum(axis=0)
            elif op == "avg":
                out = np.where(p, v, 0.0).sum(axis=0) / np.maximum(n, 1)
            elif op == "count":
                out = n.astype(np.float64)
            elif op == "group":
                out = np.ones(steps)
            elif op == "min":
                out = np.fmin.reduce(np.where(p, v, np.nan), axis=0)
            elif op == "max":
                out = np.fmax.reduce(np.where(p, v, np.nan), axis=0)
            elif op in ("stddev", "stdvar"):
                mean = np.where(p, v, 0.0).sum(axis=0) / np.maximum(n, 1)
                d = np.where(p, v - mean[None, :], 0.0)
                out = (d * d).sum(axis=0) / np.maximum(n, 1)
                if op == "stddev":
                    out = np.sqrt(out)
            elif op == "quantile":
                assert isinstance(param, Scalar)
                out = quantile_sorted(param.values, v.T, p.T, n)
            else:
                raise PromQLError("execution", f"aggregation not supported: {op}")
        labels.append(key)
        rows.append(np.asarray(out, dtype=np.float64))
        pres.append(has)
    if not labels:
        return Vector.empty(steps)
    return Vector(labels, np.array(rows), np.array(pres, dtype=bool))


def _topk(vec: Vector, groups: dict[Labels, list[int]], k: F64, *, bottom: bool) -> Vector:
    steps = vec.values.shape[1]
    bad = ~np.isfinite(k) | (np.abs(k) >= 2.0**63)
    if bad.any():
        raise PromQLError(
            "execution", f"Scalar value {format_value(float(k[bad][0]))} overflows int64"
        )
    kk = np.where(np.isfinite(k), np.trunc(np.where(np.isfinite(k), k, 0)), 0)
    kk = np.where(np.isposinf(k), np.inf, kk)
    keep = np.zeros_like(vec.present)
    order_rows: list[int] = []
    for idx in groups.values():
        v = vec.values[idx]
        p = vec.present[idx]
        nan = np.isnan(v)
        klass = np.where(p, np.where(nan, 1, 0), 2)
        secondary = np.where(nan | ~p, 0.0, v if bottom else -v)
        order = np.lexsort((secondary, klass), axis=0)
        ranks = np.empty_like(order)
        cols = np.broadcast_to(np.arange(steps), order.shape)
        ranks[order, cols] = np.arange(len(idx))[:, None]
        sel = p & (ranks < kk[None, :])
        keep[idx] = sel
        if steps == 1:
            order_rows.extend(np.asarray(idx)[order[:, 0]][sel[order[:, 0], 0]].tolist())
    rows = np.flatnonzero(keep.any(axis=1)) if steps != 1 else np.asarray(order_rows, dtype=int)
    out = Vector([vec.labels[i] for i in rows], vec.values[rows], keep[rows], ordered=steps == 1)
    return out


def _count_values(vec: Vector, groups: dict[Labels, list[int]], label: str) -> Vector:
    if not _LABEL_NAME.match(label):
        raise PromQLError("execution", f"invalid label name {label!r}")
    steps = vec.values.shape[1]
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    for key, idx in groups.items():
        v = vec.values[idx]
        p = vec.present[idx]
        seen = v[p]
        uniq = np.unique(seen[~np.isnan(seen)])
        cases: list[tuple[str, Bool]] = [(format_value(float(u)), p & (v == u)) for u in uniq]
        if np.isnan(seen).any():
            cases.append(("NaN", p & np.isnan(v)))
        for text, hits in cases:
            n = hits.sum(axis=0)
            d = dict(key)
            d[label] = text
            labels.append(tuple(sorted(d.items())))
            rows.append(n.astype(np.float64))
            pres.append(n > 0)
    if not labels:
        return Vector.empty(steps)
    return Vector(labels, np.array(rows), np.array(pres, dtype=bool))
