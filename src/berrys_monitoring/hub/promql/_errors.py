"""The one error a query raises, typed the way Prometheus's HTTP API types its errors."""

from __future__ import annotations

__all__ = ["PromQLError"]

_TYPES = frozenset({"bad_data", "execution", "timeout", "canceled", "internal"})


class PromQLError(Exception):
    """A query that cannot be answered: ``error_type`` is Prometheus's (``bad_data`` for
    parse errors and bad parameters, ``execution`` for runtime errors and unsupported
    features, ``timeout``) and the message says what went wrong.

    Example::

        >>> err = PromQLError("execution", "function not supported: holt_winters")
        >>> err.error_type, str(err)
        ('execution', 'function not supported: holt_winters')
    """

    def __init__(self, error_type: str, message: str) -> None:
        if error_type not in _TYPES:
            raise ValueError(f"unknown error type {error_type!r}")
        super().__init__(message)
        self.error_type = error_type
        self.message = message
