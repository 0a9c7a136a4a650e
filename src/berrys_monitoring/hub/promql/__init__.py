"""LOCAL PLACEHOLDER (untracked): the promql branch owns this package."""

from __future__ import annotations

from berrys_monitoring.hub.promql._backend import PromQLError, QueryBackend, QueryResult

__all__ = ["Engine", "PromQLError", "QueryBackend", "QueryResult"]


class Engine:
    def __init__(
        self, store: object, *, lookback_delta_s: float = 300.0, timeout_s: float = 120.0
    ) -> None:
        self.store = store

    def instant_query(self, query: str, time_s: float) -> QueryResult:
        raise PromQLError("execution", "placeholder engine")

    def range_query(self, query: str, start_s: float, end_s: float, step_s: float) -> QueryResult:
        raise PromQLError("execution", "placeholder engine")

    def series(self, matchers: list[str], start_s: float, end_s: float) -> list[dict[str, str]]:
        return []

    def label_names(self, matchers: list[str], start_s: float, end_s: float) -> list[str]:
        return []

    def label_values(
        self, name: str, matchers: list[str], start_s: float, end_s: float
    ) -> list[str]:
        return []
