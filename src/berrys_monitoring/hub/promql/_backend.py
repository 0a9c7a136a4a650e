"""LOCAL PLACEHOLDER (untracked)."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol


class PromQLError(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


@dataclasses.dataclass
class QueryResult:
    data: dict[str, Any]
    warnings: list[str] = dataclasses.field(default_factory=list)


class QueryBackend(Protocol):
    def instant_query(self, query: str, time_s: float) -> QueryResult: ...

    def range_query(
        self, query: str, start_s: float, end_s: float, step_s: float
    ) -> QueryResult: ...

    def series(self, matchers: list[str], start_s: float, end_s: float) -> list[dict[str, str]]: ...

    def label_names(self, matchers: list[str], start_s: float, end_s: float) -> list[str]: ...

    def label_values(
        self, name: str, matchers: list[str], start_s: float, end_s: float
    ) -> list[str]: ...
