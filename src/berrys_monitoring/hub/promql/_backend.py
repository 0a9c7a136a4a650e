"""The seam the HTTP API and the rule evaluator query metrics through: the hub's own
engine or a remote Prometheus-compatible API."""

from __future__ import annotations

from typing import Protocol

from berrys_monitoring.hub.promql._result import QueryResult

__all__ = ["QueryBackend"]


class QueryBackend(Protocol):
    """What answers PromQL and series metadata queries. Times are Unix seconds.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub.store import SQLiteStore
        >>> from berrys_monitoring.hub.promql import Engine
        >>> store = SQLiteStore(tempfile.mkdtemp())
        >>> backend: QueryBackend = Engine(store)
        >>> backend.instant_query("1 + 1", 100.0).data
        {'resultType': 'scalar', 'result': [100.0, '2']}
        >>> store.close()
    """

    def instant_query(self, query: str, time_s: float) -> QueryResult:
        """Evaluate ``query`` at one instant."""

    def range_query(self, query: str, start_s: float, end_s: float, step_s: float) -> QueryResult:
        """Evaluate ``query`` at every step from ``start_s`` to ``end_s``."""

    def series(self, matchers: list[str], start_s: float, end_s: float) -> list[dict[str, str]]:
        """The label sets of series matching any of the selectors in ``matchers``."""

    def label_names(self, matchers: list[str], start_s: float, end_s: float) -> list[str]:
        """The sorted label names of those series (of all series without matchers)."""

    def label_values(
        self, name: str, matchers: list[str], start_s: float, end_s: float
    ) -> list[str]:
        """The sorted values label ``name`` takes on those series."""
