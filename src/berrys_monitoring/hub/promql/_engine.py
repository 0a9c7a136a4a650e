"""The PromQL engine: parses with ``promql-parser`` and evaluates the tree over the
hub's store, every node for all the query's steps at once.

Each selected series is read once for the whole query window; selectors, range
functions and operators then work on ``series x steps`` arrays. Semantics are those of
Prometheus 2 (windows and lookback include both ends, 5 minute lookback, stale markers
end a series).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, TypeVar

import numpy as np
import promql_parser as pp

from berrys_monitoring.hub.promql import _functions as fn
from berrys_monitoring.hub.promql._aggregate import aggregate
from berrys_monitoring.hub.promql._binary import SET_OPS, Matching, binary
from berrys_monitoring.hub.promql._errors import PromQLError
from berrys_monitoring.hub.promql._result import QueryResult, format_value, format_values
from berrys_monitoring.hub.promql._values import (
    I64,
    Labels,
    Matrix,
    Scalar,
    Series,
    String,
    Value,
    Vector,
    drop_name,
    merge_same_labels,
)
from berrys_monitoring.hub.store import Store

__all__ = ["Engine"]

STALE_NAN_BITS = 0x7FF0000000000002
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_MAX_POINTS = 11_000


def _ms(d: timedelta | None) -> int:
    if d is None:
        return 0
    return (d.days * 86_400_000) + (d.seconds * 1000) + (d.microseconds // 1000)


def _to_ms(seconds: float) -> int:
    if not math.isfinite(seconds):
        raise PromQLError("bad_data", f"invalid time {seconds}")
    return round(seconds * 1000)


class _Ctx:
    def __init__(self, engine: Engine, start_ms: int, end_ms: int, deadline: float) -> None:
        self.engine = engine
        self.store = engine.store
        self.start_ms = start_ms
        self.end_ms = end_ms
        self.deadline = deadline
        self.samples = 0
        self.regexes: dict[str, re.Pattern[str]] = {}

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise PromQLError("timeout", "query timed out in expression evaluation")

    def charge(self, n: int) -> None:
        self.samples += n
        if self.samples > self.engine.max_samples:
            raise PromQLError(
                "execution",
                "query processing would load too many samples into memory in query execution",
            )


class Engine:
    """Evaluates PromQL over a hub store; implements :class:`QueryBackend`.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> up = (("__name__", "up"), ("job", "api"))
        >>> store.submit(Batch(samples=[Sample(up, t * 15_000, 1.0) for t in range(20)])).result()
        >>> engine = Engine(store)
        >>> engine.instant_query("sum by (job) (up)", 120.0).data
        {'resultType': 'vector', 'result': [{'metric': {'job': 'api'}, 'value': [120.0, '1']}]}
        >>> store.close()
    """

    def __init__(
        self,
        store: Store,
        *,
        lookback_delta_s: float = 300.0,
        timeout_s: float = 120.0,
        max_samples: int = 50_000_000,
        subquery_step_s: float = 60.0,
    ) -> None:
        self.store = store
        self.lookback_ms = int(lookback_delta_s * 1000)
        self.timeout_s = timeout_s
        self.max_samples = max_samples
        self.subquery_step_ms = int(subquery_step_s * 1000)

    # -- queries --------------------------------------------------------------------------

    def instant_query(self, query: str, time_s: float) -> QueryResult:
        """``query`` at ``time_s`` (Unix seconds), like ``GET /api/v1/query``.

        Example::

            >>> import tempfile
            >>> from berrys_monitoring.hub.store import SQLiteStore
            >>> store = SQLiteStore(tempfile.mkdtemp())
            >>> Engine(store).instant_query("vector(1) * 2", 60.0).data["result"]
            [{'metric': {}, 'value': [60.0, '2']}]
            >>> store.close()
        """
        expr = _parse(query)
        t = _to_ms(time_s)
        ctx = _Ctx(self, t, t, time.monotonic() + self.timeout_s)
        steps = np.array([t], dtype=np.int64)
        value = _evaluate(ctx, expr, steps)
        return QueryResult(_instant_data(value, t))

    def range_query(self, query: str, start_s: float, end_s: float, step_s: float) -> QueryResult:
        """``query`` at every ``step_s`` from ``start_s`` to ``end_s``, like
        ``GET /api/v1/query_range``.

        Example::

            >>> import tempfile
            >>> from berrys_monitoring.hub.store import SQLiteStore
            >>> store = SQLiteStore(tempfile.mkdtemp())
            >>> Engine(store).range_query("time()", 0, 120, 60).data["result"]
            [{'metric': {}, 'values': [[0.0, '0'], [60.0, '60'], [120.0, '120']]}]
            >>> store.close()
        """
        expr = _parse(query)
        start, end = _to_ms(start_s), _to_ms(end_s)
        if not math.isfinite(step_s) or step_s <= 0:
            raise PromQLError(
                "bad_data",
                "zero or negative query resolution step widths are not accepted. "
                "Try a positive integer",
            )
        step = round(step_s * 1000)
        if end < start:
            raise PromQLError("bad_data", "end timestamp must not be before start time")
        if step <= 0 or (end - start) // step > _MAX_POINTS:
            raise PromQLError(
                "bad_data",
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)",
            )
        ctx = _Ctx(self, start, end, time.monotonic() + self.timeout_s)
        steps = np.arange(start, end + 1, step, dtype=np.int64)
        value = _evaluate(ctx, expr, steps)
        if isinstance(value, (Matrix, String)):
            kind = "range vector" if isinstance(value, Matrix) else "string"
            raise PromQLError(
                "bad_data",
                f'invalid expression type "{kind}" for range query, '
                "must be Scalar or instant Vector",
            )
        return QueryResult(_range_data(value, steps))

    # -- metadata -------------------------------------------------------------------------

    def series(self, matchers: list[str], start_s: float, end_s: float) -> list[dict[str, str]]:
        """Label sets of the series matching any selector in ``matchers``.

        Example::

            >>> import tempfile
            >>> from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore
            >>> store = SQLiteStore(tempfile.mkdtemp())
            >>> up = (("__name__", "up"), ("job", "api"))
            >>> store.submit(Batch(samples=[Sample(up, 1000, 1.0)])).result()
            >>> Engine(store).series(['up{job=~"a.*"}'], 0, 10)
            [{'__name__': 'up', 'job': 'api'}]
            >>> store.close()
        """
        return [dict(lab) for lab in self._matching(matchers, start_s, end_s)]

    def label_names(self, matchers: list[str], start_s: float, end_s: float) -> list[str]:
        """Sorted label names of the matching series (all series without matchers).

        Example::

            >>> import tempfile
            >>> from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore
            >>> store = SQLiteStore(tempfile.mkdtemp())
            >>> store.submit(Batch(samples=[Sample((("__name__", "up"), ("job", "a")), 1000, 1.0)])).result()
            >>> Engine(store).label_names([], 0, 10)
            ['__name__', 'job']
            >>> store.close()
        """
        return sorted({k for lab in self._matching(matchers, start_s, end_s) for k, _ in lab})

    def label_values(
        self, name: str, matchers: list[str], start_s: float, end_s: float
    ) -> list[str]:
        """Sorted values of label ``name`` on the matching series.

        Example::

            >>> import tempfile
            >>> from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore
            >>> store = SQLiteStore(tempfile.mkdtemp())
            >>> store.submit(Batch(samples=[Sample((("__name__", "up"), ("job", "a")), 1000, 1.0)])).result()
            >>> Engine(store).label_values("job", [], 0, 10)
            ['a']
            >>> store.close()
        """
        return sorted(
            {v for lab in self._matching(matchers, start_s, end_s) for k, v in lab if k == name}
        )

    def _matching(self, matchers: list[str], start_s: float, end_s: float) -> list[Labels]:
        lo, hi = _to_ms(start_s), _to_ms(end_s)
        ctx = _Ctx(self, lo, hi, time.monotonic() + self.timeout_s)
        ev = _Evaluator(ctx)
        found: set[Labels] = set()
        if not matchers:
            found.update(lab for _, lab in self.store.metric_series(None, lo, hi))
        for text in matchers:
            node = _parse(text)
            if not isinstance(node, pp.VectorSelector):
                raise PromQLError(
                    "bad_data", f"invalid parameter 'match[]': {text} is not a selector"
                )
            found.update(lab for _, lab in ev.matching_series(node, lo, hi))
        return sorted(found)


# Prometheus's functions and aggregations this engine does not evaluate (native
# histograms, experimental ones): asking for one is an "execution" error naming it.
_UNSUPPORTED = frozenset(
    {
        "holt_winters", "double_exponential_smoothing", "histogram_count", "histogram_sum",
        "histogram_fraction", "histogram_stddev", "histogram_stdvar", "histogram_avg",
        "mad_over_time", "first_over_time", "ts_of_min_over_time", "ts_of_max_over_time",
        "ts_of_last_over_time", "ts_of_first_over_time", "sort_by_label",
        "sort_by_label_desc", "info", "limitk", "limit_ratio",
    }
)  # fmt: skip
_UNKNOWN = re.compile(r"unknown function with name '([^']*)'")


def _parse(query: str) -> Any:
    try:
        return pp.parse(query)
    except ValueError as e:
        unknown = _UNKNOWN.search(str(e))
        if unknown and unknown.group(1) in _UNSUPPORTED:
            raise PromQLError("execution", f"function not supported: {unknown.group(1)}") from None
        raise PromQLError("bad_data", f"invalid parameter 'query': {e}") from None
    except BaseException as e:  # the parser is native code: never let it take the hub down
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise PromQLError("bad_data", f"invalid parameter 'query': {e}") from None


# -- evaluation -----------------------------------------------------------------------


def _evaluate(ctx: _Ctx, expr: Any, steps: I64) -> Value:
    try:
        return _Evaluator(ctx).eval(expr, steps)
    except PromQLError:
        raise
    except (ValueError, OverflowError, MemoryError, IndexError, TypeError) as e:
        # a corner the engine does not handle must be an error answer, never a 500
        raise PromQLError("execution", f"query could not be evaluated: {e}") from e


class _Evaluator:
    def __init__(self, ctx: _Ctx) -> None:
        self.ctx = ctx

    def eval(self, node: Any, steps: I64) -> Value:
        self.ctx.check()
        if isinstance(node, pp.NumberLiteral):
            return Scalar(np.full(steps.size, float(node.val)))
        if isinstance(node, pp.StringLiteral):
            return String(str(node.val))
        if isinstance(node, pp.ParenExpr):
            return self.eval(node.expr, steps)
        if isinstance(node, pp.UnaryExpr):
            return self._negate(self.eval(node.expr, steps))
        if isinstance(node, pp.VectorSelector):
            return self._vector_selector(node, steps)
        if isinstance(node, pp.MatrixSelector):
            return self._matrix_selector(node, steps)
        if isinstance(node, pp.SubqueryExpr):
            return self._subquery(node, steps)
        if isinstance(node, pp.Call):
            return self._call(node, steps)
        if isinstance(node, pp.AggregateExpr):
            return self._aggregate(node, steps)
        if isinstance(node, pp.BinaryExpr):
            return self._binary(node, steps)
        raise PromQLError("execution", f"expression not supported: {type(node).__name__}")

    # -- selectors ----------------------------------------------------------------------

    def _refs(self, at: Any, offset: timedelta | None, steps: I64) -> I64:
        if at is None:
            base = steps
        else:
            kind = str(at.type)
            if kind.endswith("Start"):
                t = self.ctx.start_ms
            elif kind.endswith("End"):
                t = self.ctx.end_ms
            else:
                try:
                    t = _ms(at.at - _EPOCH)
                except (ValueError, OverflowError):
                    raise PromQLError(
                        "bad_data", "timestamp out of bounds for @ modifier"
                    ) from None
            base = np.full(steps.size, t, dtype=np.int64)
        return np.asarray(base - _ms(offset), dtype=np.int64)

    def _regex(self, pattern: str) -> re.Pattern[str]:
        rx = self.ctx.regexes.get(pattern)
        if rx is None:
            try:
                rx = re.compile(fn.go_regex(pattern))
            except re.error as e:
                raise PromQLError(
                    "bad_data", f"invalid regular expression {pattern!r}: {e}"
                ) from None
            self.ctx.regexes[pattern] = rx
        return rx

    def matching_series(self, node: Any, lo: int, hi: int) -> list[tuple[int, Labels]]:
        if node.matchers.or_matchers:
            raise PromQLError("execution", "feature not supported: 'or' inside a selector")
        checks: list[tuple[str, str, Any]] = []
        name = node.name
        if name:
            checks.append(("__name__", "=", name))
        for m in node.matchers.matchers:
            op = str(m.op).rsplit(".", 1)[-1]
            if op in ("Re", "NotRe"):
                checks.append((m.name, op, self._regex(m.value)))
            else:
                checks.append((m.name, op, m.value))
            if m.name == "__name__" and op == "Equal" and not name:
                name = m.value
        out = []
        for sid, labels in self.ctx.store.metric_series(name or None, lo, hi):
            have = dict(labels)
            ok = True
            for lname, op, want in checks:
                v = have.get(lname, "")
                if op in ("=", "Equal"):
                    ok = v == want
                elif op == "NotEqual":
                    ok = v != want
                elif op == "Re":
                    ok = want.fullmatch(v) is not None
                else:
                    ok = want.fullmatch(v) is None
                if not ok:
                    break
            if ok:
                out.append((sid, tuple(p for p in labels if p[1])))
        return out

    def _load(self, node: Any, lo: int, hi: int) -> list[Series]:
        self.ctx.check()
        found = self.matching_series(node, lo, hi)
        data = self.ctx.store.metric_samples([sid for sid, _ in found], lo, hi)
        out = []
        for sid, labels in found:
            got = data.get(sid)
            if got is None:
                continue
            self.ctx.charge(got[0].size)
            out.append(Series(labels, got[0], got[1]))
        out.sort(key=lambda s: s.labels)
        return out

    def _vector_selector(self, node: Any, steps: I64) -> Vector:
        refs = self._refs(node.at, node.offset, steps)
        lookback = self.ctx.engine.lookback_ms
        series = self._load(node, int(refs.min()) - lookback, int(refs.max()))
        self.ctx.charge(len(series) * steps.size)
        labels, values, present, stamps = [], [], [], []
        for s in series:
            idx = np.searchsorted(s.ts, refs, side="right") - 1
            ok = idx >= 0
            idx = np.maximum(idx, 0)
            t = s.ts[idx]
            v = s.vs[idx]
            ok &= t >= refs - lookback
            ok &= v.view(np.uint64) != STALE_NAN_BITS
            if not ok.any():
                continue
            labels.append(s.labels)
            values.append(v)
            present.append(ok)
            stamps.append(t)
        if not labels:
            return Vector.empty(steps.size)
        return Vector(
            labels,
            np.array(values),
            np.array(present, dtype=bool),
            sample_ts=np.array(stamps, dtype=np.int64),
        )

    def _matrix_selector(self, node: Any, steps: I64) -> Matrix:
        vs = node.vector_selector
        refs = self._refs(vs.at, vs.offset, steps)
        rng = _ms(node.range)
        series = []
        for s in self._load(vs, int(refs.min()) - rng, int(refs.max())):
            keep = s.vs.view(np.uint64) != STALE_NAN_BITS
            if not keep.all():
                s = Series(s.labels, s.ts[keep], s.vs[keep])
            if s.ts.size:
                series.append(s)
        return Matrix(series, refs, rng, _absent_labels(vs))

    def _subquery(self, node: Any, steps: I64) -> Matrix:
        refs = self._refs(node.at, node.offset, steps)
        rng = _ms(node.range)
        step = _ms(node.step) if node.step is not None else self.ctx.engine.subquery_step_ms
        if step <= 0:
            raise PromQLError("bad_data", "subquery step must be positive")
        lo = int(refs.min()) - rng
        first = (lo // step) * step
        if first < lo:
            first += step
        last = int(refs.max())
        self.ctx.charge(max(0, (last - first) // step + 1))  # before allocating them
        inner_steps = np.arange(first, last + 1, step, dtype=np.int64)
        if inner_steps.size == 0:
            return Matrix([], refs, rng)
        inner = self.eval(node.expr, inner_steps)
        if isinstance(inner, Scalar):
            inner = Vector([()], inner.values[None, :], np.ones((1, inner_steps.size), dtype=bool))
        if not isinstance(inner, Vector):
            raise PromQLError("bad_data", "subquery is only allowed on instant vector or scalar")
        series = [
            Series(lab, inner_steps[inner.present[i]], inner.values[i][inner.present[i]])
            for i, lab in enumerate(inner.labels)
            if inner.present[i].any()
        ]
        return Matrix(series, refs, rng)

    # -- operators ----------------------------------------------------------------------

    def _negate(self, value: Value) -> Value:
        if isinstance(value, Scalar):
            return Scalar(-value.values)
        if isinstance(value, Vector):
            return merge_same_labels(
                Vector([drop_name(lab) for lab in value.labels], -value.values, value.present)
            )
        raise PromQLError("execution", "unary minus is only defined for scalars and vectors")

    def _binary(self, node: Any, steps: I64) -> Value:
        op = str(node.op).strip().lower()
        lhs = self.eval(node.lhs, steps)
        rhs = self.eval(node.rhs, steps)
        mod = node.modifier
        m = Matching(card="many-to-many" if op in SET_OPS else "one-to-one")
        if mod is not None:
            fill = getattr(mod, "fill_values", None)
            if fill is not None and (fill.lhs is not None or fill.rhs is not None):
                raise PromQLError("execution", "feature not supported: fill modifiers")
            card = str(mod.card).rsplit(".", 1)[-1]
            m.card = {
                "OneToOne": "one-to-one",
                "ManyToOne": "many-to-one",
                "OneToMany": "one-to-many",
                "ManyToMany": "many-to-many",
            }[card]
            if op in SET_OPS:
                m.card = "many-to-many"
            if mod.matching is not None:
                m.on = str(mod.matching.type).endswith("Include")
                m.labels = tuple(mod.matching.labels)
            m.include = tuple(mod.group_labels or ())
            m.return_bool = bool(mod.return_bool)
        return binary(op, lhs, rhs, m)

    def _aggregate(self, node: Any, steps: I64) -> Value:
        op = str(node.op).strip().lower()
        if op not in (
            "sum", "avg", "count", "group", "min", "max", "stddev", "stdvar",
            "topk", "bottomk", "quantile", "count_values",
        ):  # fmt: skip
            raise PromQLError("execution", f"aggregation not supported: {op}")
        param = self.eval(node.param, steps) if node.param is not None else None
        vec = self.eval(node.expr, steps)
        if not isinstance(vec, Vector):
            raise PromQLError("bad_data", f"expected instant vector in aggregation {op}")
        names: list[str] | None = None
        without = False
        if node.modifier is not None:
            without = str(node.modifier.type).endswith("Without")
            names = list(node.modifier.labels)
        return aggregate(op, vec, names, without, param)

    # -- functions ----------------------------------------------------------------------

    def _call(self, node: Any, steps: I64) -> Value:
        name = node.func.name
        raw = list(node.args)
        if name == "time":
            return Scalar(steps / 1000.0)
        if name in fn.DATE_FUNCTIONS and not raw:
            vec = Vector([()], (steps / 1000.0)[None, :], np.ones((1, steps.size), dtype=bool))
            return fn.apply_instant(name, vec)
        args = [self.eval(a, steps) for a in raw]
        if name in fn.RANGE_FUNCTIONS:
            return fn.RANGE_FUNCTIONS[name](_as(args[0], Matrix))
        if name in fn.INSTANT_FUNCTIONS:
            return fn.apply_instant(name, _as(args[0], Vector))
        if name == "quantile_over_time":
            return fn.quantile_over_time(_as(args[0], Scalar), _as(args[1], Matrix))
        if name == "predict_linear":  # extrapolates to each step's time, even with @
            return fn.predict_linear(_as(args[0], Matrix), _as(args[1], Scalar), steps)
        if name == "absent_over_time":
            m = _as(args[0], Matrix)
            hit = np.zeros(steps.size, dtype=bool)
            for series in m.series:
                lo, hi = m.windows(series)
                hit |= hi > lo
            return Vector([m.absent_labels], np.ones((1, steps.size)), ~hit[None, :])
        if name == "absent":
            vec = _as(args[0], Vector)
            labels = _absent_labels(raw[0]) if isinstance(raw[0], pp.VectorSelector) else ()
            gone = ~np.asarray(vec.present.any(axis=0), dtype=bool)
            return Vector([labels], np.ones((1, steps.size)), gone[None, :])
        if name == "vector":
            number = _as(args[0], Scalar)
            return Vector([()], number.values[None, :], np.ones((1, steps.size), dtype=bool))
        if name == "scalar":
            vec = _as(args[0], Vector)
            one = vec.present.sum(axis=0) == 1
            if not vec.labels:
                return Scalar(np.full(steps.size, np.nan))
            picked = np.where(vec.present, vec.values, 0.0).sum(axis=0)
            return Scalar(np.where(one, picked, np.nan))
        if name == "timestamp":
            vec = _as(args[0], Vector)
            inner = raw[0]
            while isinstance(inner, pp.ParenExpr):
                inner = inner.expr
            if isinstance(inner, pp.VectorSelector) and vec.sample_ts is not None:
                stamps = vec.sample_ts / 1000.0
            else:
                stamps = np.broadcast_to(steps / 1000.0, vec.values.shape)
            return merge_same_labels(
                Vector([drop_name(lab) for lab in vec.labels], np.array(stamps), vec.present)
            )
        if name in ("sort", "sort_desc"):
            vec = _as(args[0], Vector)
            if steps.size != 1:
                return vec
            v = vec.values[:, 0]
            rows = [i for i in range(len(vec.labels)) if vec.present[i, 0]]
            nan = [i for i in rows if math.isnan(v[i])]
            num = sorted((i for i in rows if not math.isnan(v[i])), key=lambda i: v[i])
            order = nan + num if name == "sort" else num[::-1] + nan
            out = vec.select(order)
            out.ordered = True
            return out
        if name == "histogram_quantile":
            return fn.histogram_quantile(_as(args[0], Scalar), _as(args[1], Vector))
        if name == "round":
            return fn.round_vector(
                _as(args[0], Vector), _as(args[1], Scalar) if len(args) > 1 else None
            )
        if name == "clamp":
            return fn.clamp(_as(args[0], Vector), _as(args[1], Scalar), _as(args[2], Scalar))
        if name == "clamp_min":
            return fn.clamp(_as(args[0], Vector), _as(args[1], Scalar), None)
        if name == "clamp_max":
            return fn.clamp(_as(args[0], Vector), None, _as(args[1], Scalar))
        if name == "label_replace":
            strs = [_as(a, String).value for a in args[1:]]
            return fn.label_replace(_as(args[0], Vector), *strs)
        if name == "label_join":
            strs = [_as(a, String).value for a in args[1:]]
            return fn.label_join(_as(args[0], Vector), strs[0], strs[1], strs[2:])
        if name == "pi":
            return Scalar(np.full(steps.size, math.pi))
        raise PromQLError("execution", f"function not supported: {name}")  # parsed, not evaluated


_T = TypeVar("_T", Scalar, String, Vector, Matrix)


def _as(value: Value, kind: type[_T]) -> _T:
    if not isinstance(value, kind):
        raise PromQLError(
            "bad_data", f"expected {kind.__name__.lower()}, got {type(value).__name__.lower()}"
        )
    return value


def _absent_labels(node: Any) -> Labels:
    labels: dict[str, str] = {}
    empty: set[str] = set()
    for m in node.matchers.matchers:
        if m.name == "__name__":
            continue
        if (
            str(m.op).endswith("Equal")
            and not str(m.op).endswith("NotEqual")
            and m.name not in labels
        ):
            labels[m.name] = m.value
        else:
            empty.add(m.name)
    return tuple(sorted((k, v) for k, v in labels.items() if k not in empty and v))


# -- output -----------------------------------------------------------------------------


def _instant_data(value: Value, t_ms: int) -> dict[str, Any]:
    t = t_ms / 1000
    if isinstance(value, Scalar):
        return {"resultType": "scalar", "result": [t, format_value(float(value.values[0]))]}
    if isinstance(value, String):
        return {"resultType": "string", "result": [t, value.value]}
    if isinstance(value, Vector):
        rows: Sequence[int] = range(len(value.labels))
        if not value.ordered:
            rows = sorted(rows, key=lambda i: value.labels[i])
        return {
            "resultType": "vector",
            "result": [
                {
                    "metric": dict(value.labels[i]),
                    "value": [t, format_value(float(value.values[i, 0]))],
                }
                for i in rows
                if value.present[i, 0]
            ],
        }
    result: list[dict[str, Any]] = []
    for s in value.series:
        lo, hi = value.windows(s)
        if hi[0] <= lo[0]:
            continue
        ts = s.ts[lo[0] : hi[0]]
        vs = s.vs[lo[0] : hi[0]]
        result.append(
            {
                "metric": dict(s.labels),
                "values": [
                    [int(a) / 1000, format_value(float(b))] for a, b in zip(ts, vs, strict=True)
                ],
            }
        )
    result.sort(key=lambda r: sorted(r["metric"].items()))
    return {"resultType": "matrix", "result": result}


def _range_data(value: Value, steps: I64) -> dict[str, Any]:
    secs = (steps / 1000).tolist()
    if isinstance(value, Scalar):
        return {
            "resultType": "matrix",
            "result": [
                {
                    "metric": {},
                    "values": [
                        list(p)
                        for p in zip(secs, format_values(value.values.tolist()), strict=True)
                    ],
                }
            ],
        }
    assert isinstance(value, Vector)
    order = sorted(range(len(value.labels)), key=lambda i: value.labels[i])
    result = []
    for i in order:
        idx = np.flatnonzero(value.present[i])
        if idx.size == 0:
            continue
        vals = value.values[i, idx].tolist()
        result.append(
            {
                "metric": dict(value.labels[i]),
                "values": [
                    [secs[j], v] for j, v in zip(idx.tolist(), format_values(vals), strict=True)
                ],
            }
        )
    return {"resultType": "matrix", "result": result}
