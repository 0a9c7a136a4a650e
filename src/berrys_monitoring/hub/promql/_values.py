"""The values an expression evaluates to, each over all the steps of a query at once.

An instant vector is a matrix of ``series x steps`` values with a mask of where a
series has a sample; a range vector keeps each series' raw samples and the window ends,
so range functions compute every step's window with array operations.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import numpy.typing as npt

from berrys_monitoring.hub.promql._errors import PromQLError

__all__ = [
    "Labels",
    "Matrix",
    "Scalar",
    "String",
    "Value",
    "Vector",
    "drop_name",
    "get_label",
    "same_labelset_error",
]

Labels = tuple[tuple[str, str], ...]
"""A series' labels sorted by name, without empty values."""

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


@dataclasses.dataclass
class Scalar:
    """One number per step.

    Example::

        >>> Scalar(np.array([1.0, 2.0])).values.tolist()
        [1.0, 2.0]
    """

    values: F64


@dataclasses.dataclass
class String:
    """A string literal.

    Example::

        >>> String("up").value
        'up'
    """

    value: str


@dataclasses.dataclass
class Vector:
    """An instant vector at every step: ``values[i, s]`` counts where ``present[i, s]``.

    ``sample_ts`` holds the timestamps of the samples a selector picked (for
    ``timestamp()``); ``ordered`` says the row order is the answer's order (``sort()``).

    Example::

        >>> v = Vector([(("job", "a"),)], np.array([[1.0, 2.0]]), np.array([[True, False]]))
        >>> v.values[v.present].tolist()
        [1.0]
    """

    labels: list[Labels]
    values: F64
    present: Bool
    sample_ts: I64 | None = None
    ordered: bool = False

    @classmethod
    def empty(cls, steps: int) -> Vector:
        """No series, over ``steps`` steps.

        Example::

            >>> Vector.empty(3).values.shape
            (0, 3)
        """
        return cls([], np.zeros((0, steps)), np.zeros((0, steps), dtype=bool))

    def select(self, rows: npt.NDArray[np.intp] | list[int]) -> Vector:
        """The given rows, in that order.

        Example::

            >>> v = Vector([(("a", "1"),), (("a", "2"),)], np.zeros((2, 1)), np.ones((2, 1), bool))
            >>> v.select([1]).labels
            [(('a', '2'),)]
        """
        idx = np.asarray(rows, dtype=np.intp)
        return Vector(
            [self.labels[i] for i in idx],
            self.values[idx],
            self.present[idx],
            None if self.sample_ts is None else self.sample_ts[idx],
        )


@dataclasses.dataclass
class Series:
    """One series of a range vector: its samples in time order, stale markers removed.

    Example::

        >>> Series((("job", "a"),), np.array([1000]), np.array([1.0])).ts.tolist()
        [1000]
    """

    labels: Labels
    ts: I64
    vs: F64


@dataclasses.dataclass
class Matrix:
    """A range vector at every step: the window of step ``s`` is
    ``[ends[s] - range_ms, ends[s]]`` (both ends included, as in Prometheus 2).

    Example::

        >>> s = Series((), np.array([0, 15_000, 30_000]), np.array([1.0, 2.0, 3.0]))
        >>> lo, hi = Matrix([s], np.array([30_000]), 15_000).windows(s)
        >>> lo.tolist(), hi.tolist()
        ([1], [3])
    """

    series: list[Series]
    ends: I64
    range_ms: int
    absent_labels: Labels = ()

    def windows(self, s: Series) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
        """For each step, the index of the first sample in the window and one past the last
        (see the class example)."""
        lo = np.searchsorted(s.ts, self.ends - self.range_ms, side="left")
        hi = np.searchsorted(s.ts, self.ends, side="right")
        return lo, hi


Value = Scalar | String | Vector | Matrix


def drop_name(labels: Labels) -> Labels:
    """``labels`` without ``__name__``.

    Example::

        >>> drop_name((("__name__", "up"), ("job", "a")))
        (('job', 'a'),)
    """
    if labels and labels[0][0] == "__name__":
        return labels[1:]
    return tuple(p for p in labels if p[0] != "__name__")


def get_label(labels: Labels, name: str) -> str:
    """The value of label ``name``, empty when it is not there (as in Prometheus).

    Example::

        >>> get_label((("job", "a"),), "job"), get_label((("job", "a"),), "zone")
        ('a', '')
    """
    for k, v in labels:
        if k == name:
            return v
    return ""


def same_labelset_error() -> PromQLError:
    """Prometheus's error for two series with one label set at one step.

    Example::

        >>> same_labelset_error().error_type
        'execution'
    """
    return PromQLError("execution", "vector cannot contain metrics with the same labelset")


def merge_same_labels(vec: Vector) -> Vector:
    """Join rows with equal labels that never have a sample at the same step, as
    Prometheus's range evaluation does; equal labels at one step are an error.

    Example::

        >>> rows = np.array([[1.0, 0.0], [0.0, 2.0]])
        >>> v = Vector([(("a", "1"),)] * 2, rows, np.array([[True, False], [False, True]]))
        >>> merge_same_labels(v).values.tolist()
        [[1.0, 2.0]]
    """
    groups: dict[Labels, list[int]] = {}
    for i, lab in enumerate(vec.labels):
        groups.setdefault(lab, []).append(i)
    if len(groups) == len(vec.labels):
        return vec
    labels: list[Labels] = []
    values = []
    present = []
    for lab, rows in groups.items():
        if len(rows) == 1:
            labels.append(lab)
            values.append(vec.values[rows[0]])
            present.append(vec.present[rows[0]])
            continue
        p = vec.present[rows]
        if (p.sum(axis=0) > 1).any():
            raise same_labelset_error()
        labels.append(lab)
        values.append(np.where(p, vec.values[rows], 0.0).sum(axis=0))
        present.append(p.any(axis=0))
    return Vector(labels, np.array(values), np.array(present, dtype=bool))
