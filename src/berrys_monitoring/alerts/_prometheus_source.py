"""Rule values from a Prometheus server (instant queries), for a RuleEvaluator whose
metrics live in Prometheus rather than in this process."""

from __future__ import annotations

import re
from typing import Any

import httpx

from berrys_monitoring.alerts._payloads import check_url, safe_url

__all__ = ["PrometheusValueSource"]

_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class PrometheusValueSource:
    """A ``value_source`` for :class:`RuleEvaluator` that asks Prometheus' HTTP API.

    A rule's ``metric_name`` is either a metric name, summed over the series matching the
    rule's ``tags`` (``sum(name{k="v"})``), or any PromQL expression returning one
    series or a scalar (``histogram_quantile(0.95, ...)``). No result means no data (the
    rule is skipped); an unreachable server or a query returning several series raises,
    which the evaluator logs once and counts.

    Example::

        source = PrometheusValueSource("http://127.0.0.1:9090")
        p95 = AlertRule("slow", 'histogram_quantile(0.95, sum by (le) '
                        '(rate(http_request_duration_seconds_bucket[5m])))',
                        threshold_above(0.5), "Slow API", "p95 {value:.2f} s")
        RuleEvaluator([p95], interval=30, value_source=source).start()
    """

    def __init__(
        self, url: str = "http://127.0.0.1:9090", *, timeout: float = 5.0,
        headers: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        self.url = check_url(url, "PrometheusValueSource").rstrip("/")
        self.timeout = timeout
        self.headers = dict(headers or {})

    def query_for(self, metric_name: str, tags: dict[str, str] | None) -> str:
        """The PromQL sent for a rule's ``metric_name`` and ``tags``."""
        if not _METRIC_NAME.match(metric_name):
            if tags:
                raise ValueError("tags apply to a metric name, not to a PromQL expression")
            return metric_name
        matchers = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted((tags or {}).items()))
        return f"sum({metric_name}{{{matchers}}})" if matchers else f"sum({metric_name})"

    def __call__(self, metric_name: str, tags: dict[str, str] | None = None) -> float | None:
        query = self.query_for(metric_name, tags)
        try:
            response = httpx.get(
                f"{self.url}/api/v1/query",
                params={"query": query},
                headers=self.headers,
                timeout=self.timeout,
            )
        except httpx.HTTPError as exc:
            raise ConnectionError(
                f"Prometheus at {safe_url(self.url)} unreachable: {type(exc).__name__}"
            ) from None
        body: dict[str, Any] = response.json() if response.content else {}
        if response.status_code != 200 or body.get("status") != "success":
            raise ValueError(
                f"Prometheus query {query!r} failed ({response.status_code}): {body.get('error')}"
            )
        data = body["data"]
        if data["resultType"] == "scalar":
            return float(data["result"][1])
        result = data["result"]
        if not result:
            return None
        if len(result) > 1:
            raise ValueError(
                f"Prometheus query {query!r} returned {len(result)} series; aggregate it"
            )
        return float(result[0]["value"][1])
