"""Rule conditions: thresholds that describe themselves, plus any callable."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Condition", "threshold_above", "threshold_below", "threshold_outside_range"]

#: A condition is any callable taking the metric value and returning True to fire.
Condition = Callable[[float], bool]


class _Threshold:
    def __init__(self, test: Callable[[float], bool], text: str) -> None:
        self._test = test
        self.description = text

    def __call__(self, value: float) -> bool:
        return bool(self._test(value))

    def __repr__(self) -> str:
        return f"<condition {self.description}>"


def _number(x: float, what: str) -> float:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        raise TypeError(f"{what} must be a number, got {x!r}")
    return float(x)


def threshold_above(threshold: float, *, inclusive: bool = False) -> Condition:
    """Fire when the value is above ``threshold`` (``>=`` with ``inclusive=True``).

    Example::

        >>> threshold_above(90)(95), threshold_above(90)(90), threshold_above(90, inclusive=True)(90)
        (True, False, True)
    """
    t = _number(threshold, "threshold")
    if inclusive:
        return _Threshold(lambda v: v >= t, f"value >= {t:g}")
    return _Threshold(lambda v: v > t, f"value > {t:g}")


def threshold_below(threshold: float, *, inclusive: bool = False) -> Condition:
    """Fire when the value is below ``threshold`` (``<=`` with ``inclusive=True``).

    Example::

        >>> threshold_below(10)(5), threshold_below(10)(10)
        (True, False)
    """
    t = _number(threshold, "threshold")
    if inclusive:
        return _Threshold(lambda v: v <= t, f"value <= {t:g}")
    return _Threshold(lambda v: v < t, f"value < {t:g}")


def threshold_outside_range(low: float, high: float) -> Condition:
    """Fire when the value leaves the closed range ``[low, high]``.

    Example::

        >>> ok = threshold_outside_range(40, 60)
        >>> ok(30), ok(50), ok(60), ok(75)
        (True, False, False, True)
    """
    lo, hi = _number(low, "low"), _number(high, "high")
    if lo > hi:
        raise ValueError(f"threshold_outside_range: low ({lo:g}) is above high ({hi:g})")
    return _Threshold(lambda v: not lo <= v <= hi, f"value outside [{lo:g}, {hi:g}]")
