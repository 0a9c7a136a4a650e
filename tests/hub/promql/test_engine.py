"""The engine's own contract: staleness markers, errors and their types, limits, the
metadata queries and the JSON it answers with."""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

from berrys_monitoring.hub.promql import Engine, PromQLError, QueryBackend, QueryResult
from berrys_monitoring.hub.store import Batch, Sample, SQLiteStore

STALE = struct.unpack("<d", struct.pack("<Q", 0x7FF0000000000002))[0]
M = (("__name__", "m"), ("job", "a"))
NAN = (("__name__", "nan_gauge"), ("job", "a"))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    store = SQLiteStore(tmp_path)
    samples = [Sample(M, t * 1000, float(t // 15 + 1)) for t in range(0, 61, 15)]
    samples.append(Sample(M, 75_000, STALE))  # the series vanished from a scrape
    samples.append(Sample(M, 600_000, 7.0))  # and came back
    samples += [Sample(NAN, t * 1000, math.nan) for t in range(0, 61, 15)]
    samples += [
        Sample((("__name__", "up"), ("job", j), ("zone", z)), t * 1000, 1.0)
        for j, z in (("api", "eu"), ("db", "us"), ("web", "eu"))
        for t in range(0, 3600, 60)
    ]
    store.submit(Batch(samples=samples)).result()
    yield Engine(store)
    store.close()


def values(result: QueryResult) -> list[str]:
    return [r["value"][1] for r in result.data["result"]]


def test_the_stale_marker_ends_the_series_at_once(engine: Engine) -> None:
    assert values(engine.instant_query("m", 70)) == ["5"]
    assert values(engine.instant_query("m", 75)) == []
    assert values(engine.instant_query("m", 200)) == []  # not kept alive for 5 minutes
    assert values(engine.instant_query("m", 601)) == ["7"]


def test_without_a_marker_a_series_lives_for_the_lookback_delta(engine: Engine) -> None:
    assert values(engine.instant_query("nan_gauge", 360)) == ["NaN"]  # plain NaN is a value
    assert values(engine.instant_query("nan_gauge", 361)) == []
    short = Engine(engine.store, lookback_delta_s=30)
    assert values(short.instant_query("nan_gauge", 90)) == ["NaN"]
    assert values(short.instant_query("nan_gauge", 91)) == []


def test_range_functions_skip_the_stale_marker(engine: Engine) -> None:
    assert values(engine.instant_query("count_over_time(m[5m])", 100)) == ["5"]
    assert values(engine.instant_query("last_over_time(m[5m])", 100)) == ["5"]
    got = engine.range_query("m", 0, 120, 30).data["result"]
    assert got == [
        {"metric": {"__name__": "m", "job": "a"}, "values": [[0.0, "1"], [30.0, "3"], [60.0, "5"]]}
    ]


def test_parse_errors_are_bad_data(engine: Engine) -> None:
    with pytest.raises(PromQLError) as err:
        engine.instant_query("sum(", 0)
    assert err.value.error_type == "bad_data"
    with pytest.raises(PromQLError) as err:
        engine.instant_query("rate(m[0s])", 0)
    assert err.value.error_type == "bad_data"


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("holt_winters(m[5m], 0.5, 0.5)", "holt_winters"),
        ("sort_by_label(m)", "sort_by_label"),
        ("mad_over_time(m[5m])", "mad_over_time"),
        ("histogram_count(m)", "histogram_count"),
        ("limitk(1, m)", "limitk"),
    ],
)
def test_unsupported_features_are_named_execution_errors(
    engine: Engine, query: str, name: str
) -> None:
    with pytest.raises(PromQLError) as err:
        engine.instant_query(query, 60)
    assert err.value.error_type == "execution"
    assert name in str(err.value)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 60, 0), "zero or negative"),
        ((60, 0, 15), "end timestamp"),
        ((0, 11_001, 1), "11,000 points"),  # 11,002 points; 11,001 are allowed
        ((0, math.inf, 1), "invalid time"),
    ],
)
def test_bad_range_parameters_are_bad_data(
    engine: Engine, args: tuple[float, float, float], message: str
) -> None:
    with pytest.raises(PromQLError) as err:
        engine.range_query("m", *args)
    assert err.value.error_type == "bad_data"
    assert message in str(err.value)


def test_a_range_vector_is_not_a_range_query(engine: Engine) -> None:
    with pytest.raises(PromQLError) as err:
        engine.range_query("m[5m]", 0, 60, 15)
    assert err.value.error_type == "bad_data"
    assert "range vector" in str(err.value)


def test_a_slow_query_times_out(engine: Engine) -> None:
    slow = Engine(engine.store, timeout_s=1e-9)
    with pytest.raises(PromQLError) as err:
        slow.range_query("sum(rate(up[5m])) / sum(rate(up[5m]))", 0, 3600, 60)
    assert err.value.error_type == "timeout"


def test_too_many_samples_is_an_execution_error(engine: Engine) -> None:
    small = Engine(engine.store, max_samples=100)
    assert small.instant_query("m[5m]", 60).data["result"]
    with pytest.raises(PromQLError) as err:
        small.range_query("up", 0, 3600, 15)
    assert err.value.error_type == "execution"
    assert "too many samples" in str(err.value)


def test_answers_have_prometheus_shapes(engine: Engine) -> None:
    assert engine.instant_query("1e21", 5).data == {
        "resultType": "scalar",
        "result": [5.0, "1000000000000000000000"],
    }
    assert engine.instant_query('"text"', 5).data == {
        "resultType": "string",
        "result": [5.0, "text"],
    }
    assert engine.instant_query("-1 / 0", 5).data["result"][1] == "-Inf"
    got = engine.instant_query("up[2m]", 120).data
    assert got["resultType"] == "matrix"
    assert [r["metric"]["job"] for r in got["result"]] == ["api", "db", "web"]  # sorted
    assert got["result"][0]["values"] == [[0.0, "1"], [60.0, "1"], [120.0, "1"]]
    ranged = engine.range_query('sum by (zone) (up{job!="db"})', 60, 120, 30).data
    assert ranged == {
        "resultType": "matrix",
        "result": [
            {"metric": {"zone": "eu"}, "values": [[60.0, "2"], [90.0, "2"], [120.0, "2"]]},
        ],
    }


def test_sort_orders_an_instant_answer(engine: Engine) -> None:
    query = 'sort_desc(label_replace(up, "rank", "$1", "job", "(.*)") * on(job) group_left '
    query += 'count_values by (job) ("n", up))'
    assert engine.instant_query(query, 60).data["resultType"] == "vector"
    got = engine.instant_query("sort_desc(sum by (zone) (up))", 60).data["result"]
    assert [r["metric"]["zone"] for r in got] == ["eu", "us"]
    got = engine.instant_query("sort(sum by (zone) (up))", 60).data["result"]
    assert [r["metric"]["zone"] for r in got] == ["us", "eu"]


def test_series_and_labels_follow_the_matchers_and_time_range(engine: Engine) -> None:
    backend: QueryBackend = engine
    assert backend.series(['up{zone="eu"}'], 0, 3600) == [
        {"__name__": "up", "job": "api", "zone": "eu"},
        {"__name__": "up", "job": "web", "zone": "eu"},
    ]
    assert backend.series(['{__name__=~"m|nan_gauge"}', 'up{job="db"}'], 0, 3600) == [
        {"__name__": "m", "job": "a"},
        {"__name__": "nan_gauge", "job": "a"},
        {"__name__": "up", "job": "db", "zone": "us"},
    ]
    assert backend.series(["nan_gauge"], 100, 200) == []  # no samples then
    assert backend.label_names([], 0, 3600) == ["__name__", "job", "zone"]
    assert backend.label_names(["m"], 0, 3600) == ["__name__", "job"]
    assert backend.label_values("job", ['up{zone=~"e.*"}'], 0, 3600) == ["api", "web"]
    assert backend.label_values("__name__", [], 0, 3600) == ["m", "nan_gauge", "up"]
    with pytest.raises(PromQLError) as err:
        backend.series(["sum(up)"], 0, 10)
    assert err.value.error_type == "bad_data"


@pytest.mark.parametrize(
    "query",
    [
        "",
        "}",
        "m[5m:1m][5m]",
        "sum by (job) (m[5m])",
        "rate(m)",
        'label_replace(m, "x", "$1", "job", "[")',
        "topk(NaN, m)",
        'count_values("", m)',
        "m @ 1e30",
        "m offset 10000d",
        "histogram_quantile(0.5, m)",
        "scalar(m) + vector(1)",
        "absent(m) or absent_over_time(nope[1m])",
        "'\\xff' + 1",
        'm{job=~"(?<x>a)"}',
        "quantile_over_time(2, m[1m:])",
    ],
)
def test_odd_queries_answer_or_fail_cleanly(engine: Engine, query: str) -> None:
    for call in (
        lambda: engine.instant_query(query, 60),
        lambda: engine.range_query(query, 0, 120, 60),
    ):
        try:
            result = call()
        except PromQLError as e:
            assert e.error_type in ("bad_data", "execution")
        else:
            assert result.data["resultType"] in ("vector", "matrix", "scalar", "string")


def test_a_huge_subquery_is_refused_before_it_is_allocated(engine: Engine) -> None:
    with pytest.raises(PromQLError) as err:
        engine.instant_query("max_over_time(m[100y:1ms])", 60)
    assert err.value.error_type == "execution"
