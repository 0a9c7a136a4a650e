"""The PROMETHEUS backend against a real prometheus_client registry and its exposition."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.parser import text_string_to_metric_families
from tests.metrics.conftest import exposition_text

from berrys_monitoring import internal_error_counts
from berrys_monitoring._internal import event_counts
from berrys_monitoring.metrics import (
    OVERFLOW_VALUE,
    MetricsBackend,
    configure_metrics,
    current_value,
    gauge,
    get_registry,
    histogram,
    increment_counter,
    metrics_exposition,
    record_timer,
)


def samples(reg: CollectorRegistry) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for fam in text_string_to_metric_families(exposition_text(reg)):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def test_counter_gets_prefix_and_total_suffix_exactly_once(registry: CollectorRegistry) -> None:
    configure_metrics(prefix="shop", registry=registry)
    increment_counter("orders_total")
    increment_counter("refunds")
    increment_counter("shop_visits_total_total", value=3)
    s = samples(registry)
    assert s[("shop_orders_total", ())] == 1
    assert s[("shop_refunds_total", ())] == 1
    assert s[("shop_visits_total", ())] == 3


def test_names_are_sanitised_to_valid_prometheus_names(registry: CollectorRegistry) -> None:
    gauge("queue.depth-now", 7, {"queue.name": "email", "2xx": "y"})
    s = samples(registry)
    assert s[("queue_depth_now", (("_2xx", "y"), ("queue_name", "email")))] == 7


def test_timer_records_seconds_in_a_histogram_named_seconds(registry: CollectorRegistry) -> None:
    with record_timer("function_execution_time", {"function": "f"}):
        pass
    with record_timer("db_query_ms"):
        pass
    s = samples(registry)
    assert s[("function_execution_time_seconds_count", (("function", "f"),))] == 1
    assert 0 <= s[("function_execution_time_seconds_sum", (("function", "f"),))] < 5
    assert s[("db_query_seconds_count", ())] == 1


def test_timer_decorates_sync_and_async_functions_and_records_on_exceptions(
    registry: CollectorRegistry,
) -> None:
    @record_timer("work")
    def work(x: int) -> int:
        return x * 2

    @record_timer("awork")
    async def awork(x: int) -> int:
        await asyncio.sleep(0)
        return x + 1

    @record_timer("boom")
    def boom() -> None:
        raise KeyError("user error")

    assert work(2) == 4
    assert asyncio.run(awork(1)) == 2
    with pytest.raises(KeyError, match="user error"):
        boom()
    assert work.__name__ == "work"
    s = samples(registry)
    assert s[("work_seconds_count", ())] == 1
    assert s[("awork_seconds_count", ())] == 1
    assert s[("boom_seconds_count", ())] == 1


def test_timer_works_as_async_context_manager(registry: CollectorRegistry) -> None:
    async def main() -> None:
        async with record_timer("batch", {"queue": "q"}):
            await asyncio.sleep(0.01)

    asyncio.run(main())
    assert current_value("batch", {"queue": "q"}) >= 0.01


def test_one_timer_instance_shared_by_threads_times_each_thread_separately(
    registry: CollectorRegistry,
) -> None:
    import threading

    timer = record_timer("shared_block")  # a module-level timer, entered by two threads
    a_entered, b_entered, a_exited = threading.Event(), threading.Event(), threading.Event()

    def a() -> None:
        with timer:
            time.sleep(0.3)
            a_entered.set()
            b_entered.wait(10)  # B is inside now; A leaves at once
        a_exited.set()

    def b() -> None:
        a_entered.wait(10)
        with timer:
            b_entered.set()
            a_exited.wait(10)
            time.sleep(0.3)

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    s = samples(registry)
    assert s[("shared_block_seconds_count", ())] == 2
    # Each block lasted at least 0.3 s. Pairing A's exit with B's start (a shared stack)
    # would record one duration of about 0 and one above 0.6 s.
    assert s[("shared_block_seconds_bucket", (("le", "0.25"),))] == 0


def test_nested_use_of_one_timer_instance_records_both_blocks(
    registry: CollectorRegistry,
) -> None:
    timer = record_timer("nested")
    with timer:
        with timer:
            pass
    with timer:
        pass
    assert samples(registry)[("nested_seconds_count", ())] == 3


def test_default_tags_merge_under_call_tags(registry: CollectorRegistry) -> None:
    configure_metrics(registry=registry, default_tags={"env": "prod", "service": "api"})
    increment_counter("hits_total", {"service": "override", "route": "/a"})
    s = samples(registry)
    assert s[("hits_total", (("env", "prod"), ("route", "/a"), ("service", "override")))] == 1


def test_later_call_with_other_tag_keys_fills_missing_and_drops_unknown_once(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    increment_counter("jobs_total", {"queue": "email", "priority": "high"})
    with caplog.at_level(logging.WARNING, logger="berrys_monitoring.metrics"):
        increment_counter("jobs_total", {"queue": "sms"})
        increment_counter("jobs_total", {"queue": "sms", "tenant": "t1"})
        increment_counter("jobs_total", {"queue": "sms", "tenant": "t2"})
    s = samples(registry)
    assert s[("jobs_total", (("priority", ""), ("queue", "sms")))] == 3
    dropped = [r for r in caplog.records if "tenant" in r.getMessage()]
    assert len(dropped) == 1
    assert event_counts()[("metrics", "unknown_tag_dropped")] == 2


def test_cardinality_cap_folds_new_label_sets_into_one_overflow_series(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reg = CollectorRegistry()
    configure_metrics(registry=reg, max_label_sets=3)
    with caplog.at_level(logging.WARNING, logger="berrys_monitoring.metrics"):
        for i in range(10):
            increment_counter("requests_total", {"user": f"u{i}"})
    s = samples(reg)
    assert s[("requests_total", (("user", "u0"),))] == 1
    assert ("requests_total", (("user", "u3"),)) not in s
    assert s[("requests_total", (("user", OVERFLOW_VALUE),))] == 7
    assert len([r for r in caplog.records if "cap of 3" in r.getMessage()]) == 1
    events = 'berrys_monitoring_events_total{component="metrics",event="label_set_folded"} 7.0'
    assert events in exposition_text(reg)


def test_default_cardinality_cap_is_one_thousand(registry: CollectorRegistry) -> None:
    for i in range(1005):
        gauge("per_user", i, {"user": str(i)})
    s = samples(registry)
    assert len([k for k in s if k[0] == "per_user"]) == 1001  # 1000 + the overflow series


def test_histogram_carries_trace_id_exemplar_in_openmetrics(registry: CollectorRegistry) -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("op") as span:
        histogram("latency", 0.2, {"route": "/a"})
        trace_id = format(span.get_span_context().trace_id, "032x")
    histogram("latency", 0.3, {"route": "/b"})  # no span: no exemplar
    body, ctype = metrics_exposition("application/openmetrics-text; version=1.0.0", registry)
    text = body.decode()
    assert ctype.startswith("application/openmetrics-text")
    lines = [ln for ln in text.splitlines() if "trace_id" in ln]
    assert len(lines) == 1
    assert 'route="/a"' in lines[0]
    assert f'trace_id="{trace_id}"' in lines[0]
    assert trace_id in lines[0]
    assert text.rstrip().endswith("# EOF")


def test_exposition_defaults_to_prometheus_text_format(registry: CollectorRegistry) -> None:
    increment_counter("a_total")
    body, ctype = metrics_exposition(None, registry)
    assert ctype.startswith("text/plain; version=0.0.4")
    assert b"a_total 1.0" in body
    assert b"# EOF" not in body


def test_exposition_uses_the_default_registry_where_user_metrics_also_live() -> None:
    mine = Counter("user_defined_thing", "mine", registry=get_registry())
    try:
        mine.inc()
        increment_counter("facade_thing")
        text = metrics_exposition()[0].decode()
        assert "user_defined_thing_total 1.0" in text
        assert "facade_thing_total 1.0" in text
    finally:
        get_registry().unregister(mine)


def test_self_metrics_expose_internal_error_counts(
    registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BERRYS_MONITORING_STRICT", "0")
    increment_counter("neg_total", value=-1)  # prometheus_client refuses negative increments
    assert internal_error_counts()["metrics"] == 1
    assert 'berrys_monitoring_internal_errors_total{component="metrics"} 1.0' in exposition_text(
        registry
    )


def test_recording_never_raises_on_bad_values_or_kind_clashes(
    registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BERRYS_MONITORING_STRICT", "0")
    increment_counter("x", value="many")  # type: ignore[arg-type]
    gauge("g", "high")  # type: ignore[arg-type]
    histogram("h", None)  # type: ignore[arg-type]
    increment_counter("clash")
    gauge("clash_total", 1)  # same exposed name as the counter
    gauge("clash_total", 2)
    assert internal_error_counts()["metrics"] >= 4
    assert current_value("clash") == 1


def test_enabled_false_records_nothing(registry: CollectorRegistry) -> None:
    configure_metrics(registry=registry, enabled=False)
    increment_counter("off_total")
    histogram("off_h", 1)
    assert "off_total" not in exposition_text(registry)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"backend": "graphite"}, "unknown metrics backend 'graphite'"),
        ({"backend": []}, "at least one backend"),
        ({"prefix": "9lives"}, "invalid metrics prefix"),
        ({"prefix": "my-app"}, "invalid metrics prefix"),
        ({"max_label_sets": 0}, "max_label_sets"),
        ({"statsd_sample_rate": 0}, "statsd_sample_rate"),
        ({"statsd_port": 70000}, "statsd_port"),
        ({"gauge_multiprocess_mode": "avg"}, "gauge_multiprocess_mode"),
        ({"histogram_buckets": {"h": [3, 1]}}, "must be sorted"),
        ({"backend": "otlp", "otlp_endpoint": "127.0.0.1:4318"}, "invalid OTLP endpoint"),
    ],
)
def test_configuration_errors_raise_at_configure_time(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        configure_metrics(**kwargs)


def test_backend_names_as_strings_and_lists_are_accepted(registry: CollectorRegistry) -> None:
    configure_metrics(backend=["prometheus", MetricsBackend.CONSOLE], registry=registry)
    increment_counter("both_total")
    assert current_value("both_total") == 1


def test_custom_histogram_buckets_and_bytes_default(registry: CollectorRegistry) -> None:
    configure_metrics(registry=registry, histogram_buckets={"score": [1, 2, 3]})
    histogram("score", 2)
    histogram("payload_bytes", 5000)
    text = exposition_text(registry)
    assert 'score_bucket{le="2.0"} 1.0' in text
    assert 'payload_bytes_bucket{le="10000.0"} 1.0' in text


def test_current_value_reads_counters_gauges_and_histogram_sums(
    registry: CollectorRegistry,
) -> None:
    configure_metrics(registry=registry, prefix="app")
    increment_counter("req_total", {"code": "200"}, 3)
    increment_counter("req_total", {"code": "500"})
    gauge("temp", 21.5)
    histogram("size", 10, {"r": "a"})
    histogram("size", 5, {"r": "b"})
    assert current_value("req_total") == 4
    assert current_value("req_total", {"code": "500"}) == 1
    assert current_value("req_total", {"code": "404"}) is None
    assert current_value("temp") == 21.5
    assert current_value("size") == 15
    assert current_value("never_recorded") is None


def test_reconfiguring_keeps_metrics_already_recorded(registry: CollectorRegistry) -> None:
    increment_counter("kept_total")
    configure_metrics(registry=registry)
    increment_counter("kept_total")
    assert current_value("kept_total") == 2


def test_histogram_buckets_match_prometheus_client_for_edge_values(
    registry: CollectorRegistry,
) -> None:
    from prometheus_client import Histogram

    reference = CollectorRegistry()
    ref = Histogram("ref", "reference", ["k"], registry=reference)
    values = [0.005, 0.0051, 0.0, -1.0, 10.0, 10.5, 1e9, float("inf"), float("nan"), 0.3]
    for v in values:
        histogram("edge", v, {"k": "v"})
        ref.labels("v").observe(v)

    def buckets(reg: CollectorRegistry, name: str) -> dict[str, float]:
        return {
            s.labels["le"]: s.value
            for fam in reg.collect()
            for s in fam.samples
            if s.name == f"{name}_bucket"
        }

    assert buckets(registry, "edge") == buckets(reference, "ref")


def test_counter_rejects_negative_increments_without_raising(
    registry: CollectorRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BERRYS_MONITORING_STRICT", "0")
    increment_counter("up_only_total", {"k": "v"}, 2)
    increment_counter("up_only_total", {"k": "v"}, -5)
    assert current_value("up_only_total") == 2
    assert internal_error_counts()["metrics"] == 1


def test_unhashable_tag_values_are_recorded_as_strings(registry: CollectorRegistry) -> None:
    increment_counter("odd_tags_total", {"ids": [1, 2]})
    histogram("odd_h", 1, {"ids": {"a": 1}})
    assert current_value("odd_tags_total", {"ids": "[1, 2]"}) == 1
    assert current_value("odd_h", {"ids": "{'a': 1}"}) == 1
    assert internal_error_counts() == {}


def test_tags_added_to_a_metric_first_recorded_without_tags_are_dropped_with_a_warning(
    registry: CollectorRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    increment_counter("plain_total")
    with caplog.at_level(logging.WARNING, logger="berrys_monitoring.metrics"):
        increment_counter("plain_total", {"route": "/a"})
    assert current_value("plain_total") == 2
    assert any("'route' is dropped" in r.getMessage() for r in caplog.records)


def test_each_span_gets_its_own_exemplar(registry: CollectorRegistry) -> None:
    tracer = TracerProvider().get_tracer("test")
    ids = {}
    for route in ("/a", "/b"):
        with tracer.start_as_current_span(route) as span:
            histogram("per_span", 1.0, {"route": route})
            ids[route] = format(span.get_span_context().trace_id, "032x")
    text = metrics_exposition("application/openmetrics-text", registry)[0].decode()
    for route, trace_id in ids.items():
        line = next(ln for ln in text.splitlines() if f'route="{route}"' in ln and "trace_id" in ln)
        assert f'trace_id="{trace_id}"' in line
    assert ids["/a"] != ids["/b"]


def test_concurrent_recording_from_threads_loses_nothing(registry: CollectorRegistry) -> None:
    import threading

    def work(i: int) -> None:
        for _ in range(5000):
            increment_counter("threads_total", {"group": str(i % 2)})
            histogram("threads_h", 1.0, {"group": str(i % 2)})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert current_value("threads_total") == 40_000
    assert current_value("threads_total", {"group": "1"}) == 20_000
    assert current_value("threads_h") == 40_000.0
