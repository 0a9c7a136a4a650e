"""PromQL's functions, each over every step of a query at once.

Range functions read each series' window at every step through ``searchsorted`` bounds:
the ones that need only the ends of a window (``rate``, ``irate``, ``resets``...) use
prefix sums, the others gather the windows into a ``steps x samples`` block.
Semantics follow Prometheus 2's ``promql/functions.go``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from berrys_monitoring.hub.promql._errors import PromQLError
from berrys_monitoring.hub.promql._values import (
    F64,
    I64,
    Bool,
    Labels,
    Matrix,
    Scalar,
    Series,
    Vector,
    drop_name,
    get_label,
    merge_same_labels,
    same_labelset_error,
)

__all__ = [
    "INSTANT_FUNCTIONS",
    "RANGE_FUNCTIONS",
    "histogram_quantile",
    "label_join",
    "label_replace",
    "quantile_sorted",
]

_BLOCK = 2_000_000  # elements per gathered block of windows


# -- range functions -------------------------------------------------------------------


def _ends(m: Matrix, s: Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp], I64]:
    lo, hi = m.windows(s)
    return lo, hi, (hi - lo).astype(np.int64)


def _prefix(x: F64) -> F64:
    return np.concatenate(([0.0], np.cumsum(x)))


def _window_sum(x: F64, first: npt.NDArray[np.intp], stop: npt.NDArray[np.intp]) -> F64:
    """Sum of ``x[first:stop]`` for every pair, exact for non-finite values too."""
    if np.isfinite(x).all():
        c = _prefix(x)
        return np.asarray(c[stop] - c[np.minimum(first, stop)], dtype=np.float64)
    return np.array([x[a:b].sum() if b > a else 0.0 for a, b in zip(first, stop, strict=True)])


def _extrapolated_rate(m: Matrix, *, counter: bool, rate: bool) -> Vector:
    # One series at a time: its arrays stay in cache, which beats one big 2-D pass.
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    range_start = (m.ends - m.range_ms).astype(np.float64)
    range_end = m.ends.astype(np.float64)
    per_second = m.range_ms / 1000
    with np.errstate(divide="ignore", invalid="ignore"):
        for s in m.series:
            lo, hi = m.windows(s)
            n = hi - lo
            ok = n >= 2
            if ok.all():
                first, last = lo, hi - 1
            elif ok.any():
                first, last = np.where(ok, lo, 0), np.where(ok, hi - 1, 0)
            else:
                continue
            fv, lv = s.vs[first], s.vs[last]
            ft, lt = s.ts[first].astype(np.float64), s.ts[last].astype(np.float64)
            result = lv - fv
            if counter:
                prev = s.vs[:-1]
                reset = s.vs[1:] < prev
                if reset.any():
                    result = result + _window_sum(np.where(reset, prev, 0.0), first, last)
            to_start = (ft - range_start) / 1000
            to_end = (range_end - lt) / 1000
            sampled = (lt - ft) / 1000
            average = sampled / np.maximum(n - 1, 1)
            threshold = average * 1.1
            if counter:  # Prometheus 2 caps at the zero point before the threshold test
                to_zero = sampled * (fv / result)
                use = (result > 0) & (fv >= 0) & (to_zero < to_start)
                to_start = np.where(use, to_zero, to_start)
            to_start = np.where(to_start >= threshold, average / 2, to_start)
            to_end = np.where(to_end >= threshold, average / 2, to_end)
            factor = (sampled + to_start + to_end) / sampled
            if rate:
                factor /= per_second
            labels.append(drop_name(s.labels))
            rows.append(result * factor)
            pres.append(ok)
    return _vector(labels, rows, pres, m.ends.size)


def _instant_rate(m: Matrix, *, rate: bool) -> Vector:
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    for s in m.series:
        _, hi, n = _ends(m, s)
        ok = n >= 2
        if not ok.any():
            continue
        last = np.where(ok, hi - 1, 1)
        lv, pv = s.vs[last], s.vs[last - 1]
        result = lv - pv
        if rate:
            result = np.where(lv < pv, lv, result)
            result = result / ((s.ts[last] - s.ts[last - 1]) / 1000)
        labels.append(drop_name(s.labels))
        rows.append(result)
        pres.append(ok)
    return _vector(labels, rows, pres, m.ends.size)


def _count_pairs(m: Matrix, pair: Callable[[F64, F64], Bool]) -> Vector:
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    for s in m.series:
        lo, hi, n = _ends(m, s)
        ok = n >= 1
        if not ok.any():
            continue
        hits = pair(s.vs[:-1], s.vs[1:]).astype(np.float64)
        labels.append(drop_name(s.labels))
        rows.append(_window_sum(hits, np.where(ok, lo, 0), np.where(ok, hi - 1, 0)))
        pres.append(ok)
    return _vector(labels, rows, pres, m.ends.size)


def _blocks(
    m: Matrix, s: Series, lo: npt.NDArray[np.intp], n: I64
) -> list[tuple[slice, F64, I64, Bool]]:
    """The windows of ``s`` gathered into blocks of steps: values, timestamps, mask."""
    width = int(n.max()) if n.size else 0
    out = []
    per = max(1, _BLOCK // max(width, 1))
    for a in range(0, n.size, per):
        sl = slice(a, min(n.size, a + per))
        j = np.arange(width)
        idx = lo[sl, None] + j[None, :]
        mask = j[None, :] < n[sl, None]
        idx = np.where(mask, idx, 0)
        out.append((sl, s.vs[idx] if s.vs.size else np.zeros(idx.shape), s.ts[idx], mask))
    return out


_Fast = Callable[[Series, npt.NDArray[np.intp], npt.NDArray[np.intp], I64], "F64 | None"]


def _over_time(
    reduce: Callable[[F64, I64, Bool, I64], F64],
    *,
    keep_name: bool = False,
    minimum: int = 1,
    fast: _Fast | None = None,
) -> Callable[[Matrix], Vector]:
    """A function of each window's samples: ``fast`` answers from the window bounds
    alone when it can (returns None when it cannot), ``reduce`` from gathered windows."""

    def run(m: Matrix) -> Vector:
        labels: list[Labels] = []
        rows: list[F64] = []
        pres: list[Bool] = []
        for s in m.series:
            lo, hi, n = _ends(m, s)
            ok = n >= minimum
            if not ok.any():
                continue
            out = None
            if fast is not None:
                with np.errstate(all="ignore"):
                    out = fast(s, lo, hi, n)
            if out is None:
                out = np.full(n.size, np.nan)
                for sl, g, t, mask in _blocks(m, s, lo, np.where(ok, n, 0)):
                    with np.errstate(all="ignore"):
                        out[sl] = reduce(g, t, mask, n[sl])
            labels.append(s.labels if keep_name else drop_name(s.labels))
            rows.append(out)
            pres.append(ok)
        return _vector(labels, rows, pres, m.ends.size)

    return run


def _fast_sum(s: Series, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp], n: I64) -> F64 | None:
    if not np.isfinite(s.vs).all():
        return None  # infinities do not cancel out of a prefix sum
    # extended precision keeps the difference of two large prefix sums exact enough
    c = np.concatenate(([0.0], np.cumsum(s.vs, dtype=np.longdouble)))
    return np.asarray(c[hi] - c[lo], dtype=np.float64)


def _fast_avg(s: Series, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp], n: I64) -> F64 | None:
    total = _fast_sum(s, lo, hi, n)
    return None if total is None else total / np.maximum(n, 1)


def _fast_last(s: Series, lo: npt.NDArray[np.intp], hi: npt.NDArray[np.intp], n: I64) -> F64:
    return np.asarray(s.vs[np.maximum(hi - 1, 0)], dtype=np.float64)


def _sum(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return np.asarray(np.where(mask, g, 0.0).sum(axis=1), dtype=np.float64)


def _avg(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return np.asarray(_sum(g, t, mask, n) / np.maximum(n, 1), dtype=np.float64)


def _min(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return np.asarray(np.fmin.reduce(np.where(mask, g, np.nan), axis=1), dtype=np.float64)


def _max(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return np.asarray(np.fmax.reduce(np.where(mask, g, np.nan), axis=1), dtype=np.float64)


def _var(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    mean = _avg(g, t, mask, n)
    d = np.where(mask, g - mean[:, None], 0.0)
    return np.asarray((d * d).sum(axis=1) / np.maximum(n, 1), dtype=np.float64)


def _regression(g: F64, t: I64, mask: Bool, n: I64, origin: I64) -> tuple[F64, F64]:
    x = np.where(mask, (t - origin[:, None]) / 1e3, 0.0)
    y = np.where(mask, g, 0.0)
    nf = n.astype(np.float64)
    sx, sy = x.sum(axis=1), y.sum(axis=1)
    sxy, sx2 = (x * y).sum(axis=1), (x * x).sum(axis=1)
    cov = sxy - sx * sy / nf
    var = sx2 - sx * sx / nf
    slope = cov / var
    intercept = sy / nf - slope * sx / nf
    const = (np.where(mask, g == g[:, :1], True)).all(axis=1)
    first = g[:, 0]
    slope = np.where(const, np.where(np.isinf(first), np.nan, 0.0), slope)
    intercept = np.where(const, np.where(np.isinf(first), np.nan, first), intercept)
    return slope, intercept


def _deriv(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return _regression(g, t, mask, n, t[:, 0])[0]


def quantile_sorted(q: F64, g: F64, mask: Bool, n: I64) -> F64:
    """Prometheus's ``quantile``: NaN first, then ascending, linear interpolation between
    the closest ranks, for each row of ``g`` (``q`` per row, ``n`` values where ``mask``).

    Example::

        >>> g = np.array([[3.0, 1.0, 2.0, 0.0]])
        >>> mask = np.array([[True, True, True, False]])
        >>> quantile_sorted(np.array([0.5]), g, mask, np.array([3]))
        array([2.])
    """
    nan = np.isnan(g) & mask
    k = nan.sum(axis=1)
    keyed = np.where(mask, np.where(nan, -np.inf, g), np.inf)
    srt = np.sort(keyed, axis=1)
    j = np.arange(g.shape[1])[None, :]
    srt = np.where(j < k[:, None], np.nan, srt)
    nf = n.astype(np.float64)
    with np.errstate(invalid="ignore"):
        rank = q * (nf - 1)
        lower = np.maximum(0, np.floor(rank))
        upper = np.minimum(nf - 1, lower + 1)
        weight = rank - np.floor(rank)
        li = np.clip(np.nan_to_num(lower), 0, max(g.shape[1] - 1, 0)).astype(np.intp)
        ui = np.clip(np.nan_to_num(upper), 0, max(g.shape[1] - 1, 0)).astype(np.intp)
        rows = np.arange(g.shape[0])
        if g.shape[1] == 0:
            out = np.full(g.shape[0], np.nan)
        else:
            out = srt[rows, li] * (1 - weight) + srt[rows, ui] * weight
    out = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, out))
    return np.asarray(np.where(np.isnan(q) | (n == 0), np.nan, out), dtype=np.float64)


def _present(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return np.ones(n.size)


def _count(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return n.astype(np.float64)


def _last(g: F64, t: I64, mask: Bool, n: I64) -> F64:
    return np.asarray(g[np.arange(n.size), np.maximum(n - 1, 0)], dtype=np.float64)


def quantile_over_time(q: Scalar, m: Matrix) -> Vector:
    """``quantile_over_time(q, m)`` at every step.

    Example::

        >>> s = Series((("__name__", "x"),), np.array([0, 1000, 2000]), np.array([1.0, 5.0, 3.0]))
        >>> quantile_over_time(Scalar(np.array([0.5])), Matrix([s], np.array([2000]), 5000)).values
        array([[3.]])
    """

    def reduce(g: F64, t: I64, mask: Bool, n: I64) -> F64:
        return quantile_sorted(qs[sl_holder[0]], g, mask, n)

    qs = q.values
    sl_holder = [slice(None)]
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    for s in m.series:
        lo, _, n = _ends(m, s)
        ok = n >= 1
        if not ok.any():
            continue
        out = np.full(n.size, np.nan)
        for sl, g, t, mask in _blocks(m, s, lo, np.where(ok, n, 0)):
            sl_holder[0] = sl
            out[sl] = reduce(g, t, mask, n[sl])
        labels.append(drop_name(s.labels))
        rows.append(out)
        pres.append(ok)
    return _vector(labels, rows, pres, m.ends.size)


def predict_linear(m: Matrix, duration: Scalar, origin: I64) -> Vector:
    """The least-squares line through each window, read ``duration`` seconds after
    ``origin`` (each step's time).

    Example::

        >>> s = Series((), np.array([0, 1000, 2000]), np.array([0.0, 1.0, 2.0]))
        >>> m = Matrix([s], np.array([2000]), 5000)
        >>> predict_linear(m, Scalar(np.array([10.0])), np.array([2000])).values
        array([[12.]])
    """
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    for s in m.series:
        lo, _, n = _ends(m, s)
        ok = n >= 2
        if not ok.any():
            continue
        out = np.full(n.size, np.nan)
        for sl, g, t, mask in _blocks(m, s, lo, np.where(ok, n, 0)):
            with np.errstate(all="ignore"):
                slope, intercept = _regression(g, t, mask, n[sl], origin[sl])
                out[sl] = slope * duration.values[sl] + intercept
        labels.append(drop_name(s.labels))
        rows.append(out)
        pres.append(ok)
    return _vector(labels, rows, pres, m.ends.size)


def _vector(labels: list[Labels], rows: list[F64], pres: list[Bool], steps: int) -> Vector:
    if not labels:
        return Vector.empty(steps)
    vec = Vector(labels, np.array(rows, dtype=np.float64), np.array(pres, dtype=bool))
    if len(set(labels)) != len(labels):
        raise same_labelset_error()
    return vec


def _changed(a: F64, b: F64) -> Bool:
    return np.asarray(~((a == b) | (np.isnan(a) & np.isnan(b))))


def _reset(a: F64, b: F64) -> Bool:
    return np.asarray(b < a)


RANGE_FUNCTIONS: dict[str, Callable[[Matrix], Vector]] = {
    "rate": lambda m: _extrapolated_rate(m, counter=True, rate=True),
    "increase": lambda m: _extrapolated_rate(m, counter=True, rate=False),
    "delta": lambda m: _extrapolated_rate(m, counter=False, rate=False),
    "irate": lambda m: _instant_rate(m, rate=True),
    "idelta": lambda m: _instant_rate(m, rate=False),
    "resets": lambda m: _count_pairs(m, _reset),
    "changes": lambda m: _count_pairs(m, _changed),
    "deriv": _over_time(_deriv, minimum=2),
    "avg_over_time": _over_time(_avg, fast=_fast_avg),
    "sum_over_time": _over_time(_sum, fast=_fast_sum),
    "min_over_time": _over_time(_min),
    "max_over_time": _over_time(_max),
    "count_over_time": _over_time(_count, fast=lambda s, lo, hi, n: n.astype(np.float64)),
    "last_over_time": _over_time(_last, keep_name=True, fast=_fast_last),
    "present_over_time": _over_time(_present, fast=lambda s, lo, hi, n: np.ones(n.size)),
    "stddev_over_time": _over_time(lambda g, t, m, n: np.sqrt(_var(g, t, m, n))),
    "stdvar_over_time": _over_time(_var),
}
"""Functions of one range vector (``quantile_over_time``, ``predict_linear`` and
``absent_over_time`` take more and live apart)."""


# -- instant vector functions ----------------------------------------------------------


def _round(v: F64, to: F64) -> F64:
    inv = 1.0 / to
    return np.asarray(np.floor(v * inv + 0.5) / inv, dtype=np.float64)


def _sgn(v: F64) -> F64:
    return np.asarray(np.where(v > 0, 1.0, np.where(v < 0, -1.0, v)), dtype=np.float64)


_MATH: dict[str, Callable[[F64], F64]] = {
    "abs": np.abs,
    "ceil": np.ceil,
    "floor": np.floor,
    "exp": np.exp,
    "ln": np.log,
    "log2": np.log2,
    "log10": np.log10,
    "sqrt": np.sqrt,
    "sgn": _sgn,
    "acos": np.arccos,
    "acosh": np.arccosh,
    "asin": np.arcsin,
    "asinh": np.arcsinh,
    "atan": np.arctan,
    "atanh": np.arctanh,
    "cos": np.cos,
    "cosh": np.cosh,
    "sin": np.sin,
    "sinh": np.sinh,
    "tan": np.tan,
    "tanh": np.tanh,
    "deg": lambda v: v * (180 / math.pi),
    "rad": lambda v: v * (math.pi / 180),
}


def _apply(vec: Vector, fn: Callable[[F64], F64]) -> Vector:
    with np.errstate(all="ignore"):
        values = fn(vec.values)
    return merge_same_labels(
        Vector([drop_name(lab) for lab in vec.labels], np.asarray(values), vec.present)
    )


def _dates(field: str) -> Callable[[F64], F64]:
    def run(v: F64) -> F64:
        finite = np.isfinite(v)
        secs = np.where(finite, np.trunc(np.where(finite, v, 0)), 0).astype(np.int64)
        day = secs.astype("datetime64[s]").astype("datetime64[D]")
        if field == "year":
            out = day.astype("datetime64[Y]").astype(np.int64) + 1970
        elif field == "month":
            out = day.astype("datetime64[M]").astype(np.int64) % 12 + 1
        elif field == "day_of_month":
            out = (day - day.astype("datetime64[M]")).astype(np.int64) + 1
        elif field == "day_of_year":
            out = (day - day.astype("datetime64[Y]")).astype(np.int64) + 1
        elif field == "day_of_week":
            out = (day.astype(np.int64) + 4) % 7
        elif field == "days_in_month":
            month = day.astype("datetime64[M]")
            out = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(
                np.int64
            )
        elif field == "hour":
            out = np.mod(secs, 86400) // 3600
        else:
            out = np.mod(secs, 3600) // 60
        return np.where(finite, out.astype(np.float64), np.nan)

    return run


DATE_FUNCTIONS = (
    "day_of_month",
    "day_of_week",
    "day_of_year",
    "days_in_month",
    "hour",
    "minute",
    "month",
    "year",
)

INSTANT_FUNCTIONS: dict[str, Callable[[F64], F64]] = {
    **_MATH,
    **{name: _dates(name) for name in DATE_FUNCTIONS},
}
"""Element-wise functions of one instant vector; they drop the metric name."""


def apply_instant(name: str, vec: Vector) -> Vector:
    """The element-wise function ``name`` (``abs``, ``ln``, ``hour``...) of ``vec``.

    Example::

        >>> v = Vector([(("__name__", "x"),)], np.array([[-2.0]]), np.ones((1, 1), bool))
        >>> out = apply_instant("abs", v)
        >>> out.labels, out.values.tolist()
        ([()], [[2.0]])
    """
    return _apply(vec, INSTANT_FUNCTIONS[name])


def round_vector(vec: Vector, to: Scalar | None) -> Vector:
    """``round(vec, to)``: half up, to the nearest multiple of ``to`` (default 1).

    Example::

        >>> v = Vector([()], np.array([[-2.5, 2.5]]), np.ones((1, 2), bool))
        >>> round_vector(v, None).values.tolist()
        [[-2.0, 3.0]]
    """
    step = to.values if to is not None else np.ones(vec.values.shape[1])
    return _apply(vec, lambda v: _round(v, step[None, :]))


def clamp(vec: Vector, lo: Scalar | None, hi: Scalar | None) -> Vector:
    """``clamp``, ``clamp_min`` and ``clamp_max``; no answer where ``hi < lo``.

    Example::

        >>> v = Vector([()], np.array([[0.0, 5.0, 9.0]]), np.ones((1, 3), bool))
        >>> clamp(v, Scalar(np.full(3, 1.0)), Scalar(np.full(3, 8.0))).values.tolist()
        [[1.0, 5.0, 8.0]]
    """
    lo_v = lo.values[None, :] if lo is not None else None
    hi_v = hi.values[None, :] if hi is not None else None

    def fn(v: F64) -> F64:
        if hi_v is not None:
            v = _go_min(hi_v, v)
        if lo_v is not None:
            v = _go_max(lo_v, v)
        return v

    out = _apply(vec, fn)
    if lo_v is not None and hi_v is not None:
        out.present = out.present & ~(hi_v < lo_v)
    return out


def _go_max(a: F64, b: F64) -> F64:
    return np.asarray(np.maximum(a, b), dtype=np.float64)


def _go_min(a: F64, b: F64) -> F64:
    return np.asarray(np.minimum(a, b), dtype=np.float64)


# -- labels ----------------------------------------------------------------------------

_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_TEMPLATE = re.compile(r"\$(\$|\{([^}]*)\}|([A-Za-z0-9_]+))")


def _expand(template: str, m: re.Match[str]) -> str:
    """Go's ``Regexp.Expand``: ``$1``, ``${1}``, ``$name``; unknown groups are empty."""

    def one(t: re.Match[str]) -> str:
        if t.group(1) == "$":
            return "$"
        name = t.group(2) if t.group(2) is not None else t.group(3)
        if name.isdigit():
            i = int(name)
            return (m.group(i) or "") if i <= (m.re.groups) else ""
        try:
            return m.group(name) or ""
        except IndexError:
            return ""

    return _TEMPLATE.sub(one, template)


def _set_label(labels: Labels, name: str, value: str) -> Labels:
    d = dict(labels)
    if value:
        d[name] = value
    else:
        d.pop(name, None)
    return tuple(sorted(d.items()))


def label_replace(vec: Vector, dst: str, replacement: str, src: str, regex: str) -> Vector:
    """``label_replace``: where ``regex`` matches all of label ``src``, set ``dst`` to
    ``replacement`` with ``$1``/``${name}`` expanded the way Go does.

    Example::

        >>> v = Vector([(("instance", "web:9090"),)], np.ones((1, 1)), np.ones((1, 1), bool))
        >>> label_replace(v, "host", "$1", "instance", "(.*):.*").labels
        [(('host', 'web'), ('instance', 'web:9090'))]
    """
    try:
        pattern = re.compile(go_regex(regex))
    except re.error as e:
        raise PromQLError(
            "execution", f"invalid regular expression in label_replace(): {regex}"
        ) from e
    if not _LABEL_NAME.match(dst):
        raise PromQLError("execution", f"invalid destination label name in label_replace(): {dst}")
    labels = []
    for lab in vec.labels:
        m = pattern.fullmatch(get_label(lab, src))
        labels.append(lab if m is None else _set_label(lab, dst, _expand(replacement, m)))
    return merge_same_labels(Vector(labels, vec.values, vec.present))


def label_join(vec: Vector, dst: str, sep: str, srcs: list[str]) -> Vector:
    """``label_join``: ``dst`` becomes the values of ``srcs`` joined by ``sep``.

    Example::

        >>> v = Vector([(("a", "1"), ("b", "2"))], np.ones((1, 1)), np.ones((1, 1), bool))
        >>> label_join(v, "c", "-", ["a", "b"]).labels
        [(('a', '1'), ('b', '2'), ('c', '1-2'))]
    """
    if not _LABEL_NAME.match(dst):
        raise PromQLError("execution", f"invalid destination label name in label_join(): {dst}")
    labels = [_set_label(lab, dst, sep.join(get_label(lab, s) for s in srcs)) for lab in vec.labels]
    return merge_same_labels(Vector(labels, vec.values, vec.present))


_NOT_RE2 = re.compile(r"\(\?(?:=|!|<=|<!|>)|\\[1-9]")


def go_regex(regex: str) -> str:
    r"""``regex`` (Go's RE2 syntax) for Python's ``re``: ``\z`` is spelled ``\Z``, and
    what RE2 refuses (look-around, back-references, atomic groups) is refused here too,
    with :class:`re.error`, rather than matching what Prometheus would not.

    Example::

        >>> go_regex(r"a+\z")
        'a+\\Z'
        >>> go_regex(r"(a)\1")
        Traceback (most recent call last):
        ...
        re.error: not supported by RE2: (a)\1
    """
    if _NOT_RE2.search(regex):
        raise re.error(f"not supported by RE2: {regex}")
    return regex.replace(r"\z", r"\Z")


# -- histograms ------------------------------------------------------------------------


def histogram_quantile(q: Scalar, vec: Vector) -> Vector:
    """``histogram_quantile`` over classic ``le`` buckets, with Prometheus's coalescing of
    equal bounds, monotonic fix-up and linear interpolation inside the bucket.

    Example::

        >>> labels = [(("le", le),) for le in ("1", "2", "+Inf")]
        >>> v = Vector(labels, np.array([[5.0], [10.0], [10.0]]), np.ones((3, 1), bool))
        >>> histogram_quantile(Scalar(np.array([0.75])), v).values.tolist()
        [[1.5]]
    """
    groups: dict[Labels, list[tuple[float, int]]] = {}
    for i, lab in enumerate(vec.labels):
        le = get_label(lab, "le")
        try:
            bound = float(le.strip())
        except ValueError:
            continue
        if not le:
            continue
        key = tuple(p for p in lab if p[0] not in ("__name__", "le"))
        groups.setdefault(key, []).append((bound, i))
    steps = vec.values.shape[1]
    labels: list[Labels] = []
    rows: list[F64] = []
    pres: list[Bool] = []
    qs = q.values
    for key, members in groups.items():
        members.sort(key=lambda b: b[0])
        bounds = np.array([b for b, _ in members])
        idx = [i for _, i in members]
        present = vec.present[idx]
        counts = vec.values[idx]
        any_present = np.asarray(present.any(axis=0), dtype=bool)
        out = np.full(steps, np.nan)
        if (present.all(axis=0) == any_present).all():  # the usual case: all or none
            c = np.flatnonzero(any_present)
            out[c] = _bucket_quantile(qs[c], bounds, counts[:, c])
        else:  # buckets come and go: each distinct set of buckets apart
            cols = np.flatnonzero(any_present)
            kinds, which = np.unique(present[:, cols].T, axis=0, return_inverse=True)
            for k, sel in enumerate(kinds):
                c = cols[np.asarray(which).ravel() == k]
                out[c] = _bucket_quantile(qs[c], bounds[sel], counts[sel][:, c])
        labels.append(key)
        rows.append(out)
        pres.append(any_present)
    if not labels:
        return Vector.empty(steps)
    return Vector(labels, np.array(rows), np.array(pres, dtype=bool))


def _bucket_quantile(q: F64, bounds: F64, counts: F64) -> F64:
    steps = q.size
    if bounds.size == 0 or not np.isposinf(bounds[-1]):
        out = np.full(steps, np.nan)
    else:
        # coalesce equal bounds
        uniq, start = np.unique(bounds, return_index=True)
        if uniq.size != bounds.size:
            counts = np.add.reduceat(counts, start, axis=0)
            bounds = uniq
        nan = np.isnan(counts)
        fixed = np.fmax.accumulate(counts, axis=0)
        counts = np.where(nan, np.nan, fixed)
        if bounds.size < 2:
            out = np.full(steps, np.nan)
        else:
            with np.errstate(all="ignore"):
                total = counts[-1]
                rank = q * total
                ge = counts[:-1] >= rank[None, :]
                b = np.where(ge.any(axis=0), ge.argmax(axis=0), bounds.size - 1)
                top = bounds.size - 1
                bi = np.minimum(b, top)
                end = bounds[bi]
                count = counts[bi, np.arange(steps)]
                prev = np.maximum(bi - 1, 0)
                start_b = np.where(bi > 0, bounds[prev], 0.0)
                prev_count = np.where(bi > 0, counts[prev, np.arange(steps)], 0.0)
                interp = start_b + (end - start_b) * ((rank - prev_count) / (count - prev_count))
                out = np.where(b == top, bounds[top - 1], interp)
                out = np.where((b == 0) & (bounds[0] <= 0), bounds[0], out)
                out = np.where(total == 0, np.nan, out)
    out = np.where(q < 0, -np.inf, np.where(q > 1, np.inf, out))
    return np.asarray(np.where(np.isnan(q), np.nan, out), dtype=np.float64)
