"""PromQL conformance against a real Prometheus, on the same data: a synthetic two-hour
history is loaded into Prometheus with ``promtool tsdb create-blocks-from openmetrics`` and
into the hub's store directly; every query of ``corpus.txt`` then runs against both over
HTTP, as instant queries at three times and as a range query, and the answers must agree
(same series, same timestamps, values within a relative 1e-6).

``;; error`` lines must be refused by both with the same error type; ``;; unsupported:``
lines must get Prometheus' error shape from the hub (and an answer from Prometheus).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hub.conftest import start_hub
from tests.hub.promql import _history
from tests.hub.promql._compare import CORPUS, Case, corpus, differences
from tests.hub.promql._prometheus import load_openmetrics, prometheus

from berrys_monitoring.hub.store import Batch, SQLiteStore

pytestmark = pytest.mark.slow

# Another corpus in the same format (over the same history) can be run instead.
CASES = corpus(Path(os.environ.get("BERRYS_PROMQL_CORPUS", CORPUS)))
INSTANTS = (
    _history.BASE + 3605.5,  # just after vanishing_total's last sample: lookback at work
    _history.BASE + 5432.125,
    _history.END + 30,
)
RANGE = {"start": _history.BASE + 3300, "end": _history.END + 60, "step": 90}

# Every function and operator the issue lists; the corpus must use each of them.
REQUIRED = (
    "rate(",
    "irate(",
    "increase(",
    "delta(",
    "idelta(",
    "deriv(",
    "predict_linear(",
    "resets(",
    "changes(",
    "avg_over_time(",
    "min_over_time(",
    "max_over_time(",
    "sum_over_time(",
    "count_over_time(",
    "quantile_over_time(",
    "stddev_over_time(",
    "stdvar_over_time(",
    "last_over_time(",
    "present_over_time(",
    "absent_over_time(",
    "sum(",
    "avg(",
    "min(",
    "max(",
    "count(",
    "group(",
    "stddev(",
    "stdvar(",
    "topk(",
    "bottomk(",
    "quantile(",
    "count_values(",
    "histogram_quantile(",
    "abs(",
    "ceil(",
    "floor(",
    "round(",
    "exp(",
    "ln(",
    "log2(",
    "log10(",
    "sqrt(",
    "clamp(",
    "clamp_min(",
    "clamp_max(",
    "sgn(",
    "time(",
    "timestamp(",
    "vector(",
    "scalar(",
    "absent(",
    "label_replace(",
    "label_join(",
    "sort(",
    "sort_desc(",
    "day_of_month(",
    "day_of_week(",
    "day_of_year(",
    "days_in_month(",
    "hour(",
    "minute(",
    "month(",
    "year(",
    " by (",
    " without (",
    " on(",
    " ignoring(",
    " group_left",
    " group_right",
    " and ",
    " or ",
    " unless ",
    " bool ",
    " offset ",
    " @ ",
    "=~",
    "!~",
    "!=",
    ":1m]",
    ":]",
    " + ",
    " - ",
    " * ",
    " / ",
    " % ",
    " ^ ",
    " == ",
    " >= ",
    " <= ",
    " > ",
    " < ",
)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(Prometheus URL, hub URL), both over the same history."""
    work = tmp_path_factory.mktemp("conformance")
    series = _history.history()
    load_openmetrics(_history.openmetrics(series), work / "prometheus")
    store = SQLiteStore(work / "hub")
    try:
        batch: list[Any] = []
        for sample in _history.samples(series):
            batch.append(sample)
            if len(batch) >= 20_000:
                store.submit(Batch(samples=batch)).result(timeout=120)
                batch = []
        store.submit(Batch(samples=batch)).result(timeout=120)
    finally:
        store.close()
    with prometheus(data=work / "prometheus") as prom, start_hub(work / "hub") as hub:
        yield prom, hub.url


def _ask(client: httpx.Client, base: str, path: str, params: dict[str, Any]) -> tuple[int, Any]:
    r = client.post(f"{base}/api/v1/{path}", data=params)
    return r.status_code, r.json()


def _requests(case: Case) -> list[tuple[str, dict[str, Any]]]:
    out: list[tuple[str, dict[str, Any]]] = [
        ("query", {"query": case.query, "time": repr(t)}) for t in INSTANTS
    ]
    out.append(("query_range", {"query": case.query, **{k: repr(v) for k, v in RANGE.items()}}))
    return out


def test_the_corpus_covers_every_listed_function_and_operator() -> None:
    assert len(CASES) >= 150
    text = "\n".join(c.query for c in CASES)
    missing = [token for token in REQUIRED if token and token not in text]
    assert not missing, missing
    unsupported = [c for c in CASES if c.expect == "unsupported"]
    assert all(c.reason for c in unsupported)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_the_hub_agrees_with_prometheus(servers: tuple[str, str], case: Case) -> None:
    prom, hub = servers
    with httpx.Client(timeout=60) as client:
        for path, params in _requests(case):
            theirs_status, theirs = _ask(client, prom, path, params)
            ours_status, ours = _ask(client, hub, path, params)
            where = f"{path} {params}"
            if case.expect == "unsupported":
                assert theirs["status"] == "success", where
                assert (ours_status, ours["status"], ours["errorType"]) == (
                    422, "error", "execution"), (where, ours)  # fmt: skip
                continue
            if case.expect == "error":
                assert theirs["status"] == "error", (where, theirs)
            if theirs["status"] == "error":
                assert ours["status"] == "error", (where, theirs, ours)
                assert (ours_status, ours["errorType"]) == (theirs_status, theirs["errorType"]), (
                    where, theirs, ours)  # fmt: skip
                continue
            assert ours["status"] == "success", (where, ours)
            ordered = path == "query" and case.query.startswith(("sort(", "sort_desc("))
            problems = differences(ours["data"], theirs["data"], ordered=ordered)
            assert not problems, (where, problems[:5])


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("series", [("match[]", "up")]),
        (
            "series",
            [
                ("match[]", 'http_requests_total{job="api",status="500"}'),
                ("match[]", '{__name__=~"queue.*|late_gauge"}'),
            ],
        ),
        ("series", [("match[]", '{job="worker",__name__!~"http_.*"}')]),
        ("labels", []),
        ("labels", [("match[]", "build_info")]),
        ("label/job/values", []),
        ("label/__name__/values", []),
        ("label/le/values", [("match[]", 'http_request_duration_seconds_bucket{route="/users"}')]),
        ("label/queue/values", [("match[]", "up")]),
    ],
)
def test_series_and_label_answers_agree(
    servers: tuple[str, str], path: str, params: list[tuple[str, str]]
) -> None:
    prom, hub = servers
    answers = []
    for base in (prom, hub):
        body = httpx.get(f"{base}/api/v1/{path}", params=params, timeout=60).json()
        assert body["status"] == "success", body
        answers.append(body["data"])
    theirs, ours = answers
    if path == "series":  # in no particular order
        key = lambda s: sorted(s.items())  # noqa: E731
        assert sorted(ours, key=key) == sorted(theirs, key=key)
    else:  # sorted, as Prometheus sorts them
        assert ours == theirs
