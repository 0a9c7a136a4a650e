"""The hub's metric queries answered by a Prometheus-compatible server (Prometheus, Mimir,
Thanos, VictoriaMetrics) over its HTTP API: ``berrys-monitoring hub --prometheus-url URL``.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import quote

import httpx

from berrys_monitoring.hub.promql import PromQLError, QueryResult

__all__ = ["RemoteBackend", "RemoteQueryError"]

_TYPES = {"bad_data", "execution", "timeout", "canceled", "internal", "not_found", "unavailable"}


class RemoteQueryError(PromQLError):
    """An error the remote server answered with (its ``errorType`` kept), or
    ``unavailable`` when it could not be reached or answered something else."""

    def __init__(self, error_type: str, message: str) -> None:
        Exception.__init__(self, message)
        self.error_type = error_type if error_type in _TYPES else "execution"


def _stamp(seconds: float) -> str:
    return f"{seconds:.3f}"


class RemoteBackend:
    """A :class:`~berrys_monitoring.hub.promql._backend.QueryBackend` over the Prometheus
    HTTP API at ``url``; ``headers`` go with every request (e.g. a bearer token or Mimir's
    ``X-Scope-OrgID``). Queries are POSTed as forms, so long expressions fit.

    Example::

        >>> backend = RemoteBackend("http://127.0.0.1:9090/", timeout=5.0)
        >>> backend.url
        'http://127.0.0.1:9090'
        >>> backend.close()
    """

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        *,
        timeout: float = 120.0,
        client: httpx.Client | None = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._client = client or httpx.Client(headers=headers or {}, timeout=timeout)

    def close(self) -> None:
        self._client.close()

    def _call(
        self, path: str, form: list[tuple[str, str]], *, get: bool = False
    ) -> tuple[Any, list[str]]:
        url = f"{self.url}/api/v1/{path}"
        try:
            if get:  # label values and metadata take GET only
                response = self._client.get(url, params=_grouped(form))
            else:
                response = self._client.post(url, data=_grouped(form))
        except httpx.TimeoutException as exc:
            raise RemoteQueryError(
                "timeout", f"the Prometheus at {self.url} timed out: {exc}"
            ) from None
        except httpx.HTTPError as exc:
            raise RemoteQueryError(
                "unavailable", f"the Prometheus at {self.url} is unreachable: {exc}"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict) or "status" not in body:
            raise RemoteQueryError(
                "unavailable",
                f"the Prometheus at {self.url} answered {response.status_code} without its API's JSON",
            )
        if body["status"] != "success":
            raise RemoteQueryError(
                str(body.get("errorType", "execution")), str(body.get("error", ""))
            )
        return body.get("data"), [str(w) for w in body.get("warnings") or []]

    def instant_query(self, query: str, time_s: float) -> QueryResult:
        data, warnings = self._call("query", [("query", query), ("time", _stamp(time_s))])
        return QueryResult(data=data, warnings=warnings)

    def range_query(self, query: str, start_s: float, end_s: float, step_s: float) -> QueryResult:
        form = [
            ("query", query),
            ("start", _stamp(start_s)),
            ("end", _stamp(end_s)),
            ("step", repr(float(step_s))),
        ]
        data, warnings = self._call("query_range", form)
        return QueryResult(data=data, warnings=warnings)

    def _window(self, matchers: list[str], start_s: float, end_s: float) -> list[tuple[str, str]]:
        form = [("match[]", m) for m in matchers]
        if math.isfinite(start_s):
            form.append(("start", _stamp(start_s)))
        if math.isfinite(end_s):
            form.append(("end", _stamp(end_s)))
        return form

    def series(self, matchers: list[str], start_s: float, end_s: float) -> list[dict[str, str]]:
        data, _ = self._call("series", self._window(matchers, start_s, end_s))
        return [dict(s) for s in data or []]

    def label_names(self, matchers: list[str], start_s: float, end_s: float) -> list[str]:
        data, _ = self._call("labels", self._window(matchers, start_s, end_s))
        return [str(n) for n in data or []]

    def label_values(
        self, name: str, matchers: list[str], start_s: float, end_s: float
    ) -> list[str]:
        path = f"label/{quote(name, safe='')}/values"
        data, _ = self._call(path, self._window(matchers, start_s, end_s), get=True)
        return [str(v) for v in data or []]

    def metadata(self) -> dict[str, list[dict[str, str]]]:
        """The remote server's ``/api/v1/metadata``: metric name to type, help and unit."""
        data, _ = self._call("metadata", [], get=True)
        return {str(k): [dict(e) for e in v] for k, v in (data or {}).items()}


def _grouped(form: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Form pairs grouped by name, the way httpx sends a repeated field (``match[]``)."""
    out: dict[str, list[str]] = {}
    for key, value in form:
        out.setdefault(key, []).append(value)
    return out
