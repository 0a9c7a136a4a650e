"""OTLP metrics mapped to the Prometheus data model (the OpenTelemetry "Prometheus and
OpenMetrics compatibility" specification)."""

from __future__ import annotations

from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import InstrumentationScope
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from tests.hub.otlp import kv

from berrys_monitoring.hub.ingest import MetricMapper, label_name, metric_name

DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
T0 = 1_700_000_000_000_000_000


def request(*metrics: Metric, resource: Resource | None = None) -> ExportMetricsServiceRequest:
    return ExportMetricsServiceRequest(
        resource_metrics=[
            ResourceMetrics(
                resource=resource
                or Resource(
                    attributes=[kv("service.name", "api"), kv("service.instance.id", "pod-1")]
                ),
                scope_metrics=[
                    ScopeMetrics(scope=InstrumentationScope(name="lib"), metrics=list(metrics))
                ],
            )
        ]
    )


def samples(mapper: MetricMapper, req: ExportMetricsServiceRequest) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    mapped = mapper.map(req)
    mapped.confirm()  # as the receiver does once the rows are stored
    for labels, ts, value in mapped.rows:
        d = dict(labels)
        out.setdefault(d.pop("__name__"), []).append((d, ts, value))
    return out


def counter(name: str, value: int, temporality: int, t: int = T0, unit: str = "") -> Metric:
    return Metric(
        name=name,
        unit=unit,
        sum=Sum(
            is_monotonic=True,
            aggregation_temporality=temporality,
            data_points=[
                NumberDataPoint(as_int=value, time_unix_nano=t, attributes=[kv("a", "1")])
            ],
        ),
    )


def test_a_monotonic_sum_becomes_a_counter_named_total() -> None:
    out = samples(MetricMapper(), request(counter("http.requests", 7, CUMULATIVE)))
    [(labels, ts, value)] = out["http_requests_total"]
    assert labels == {"a": "1", "job": "api", "instance": "pod-1", "otel_scope_name": "lib"}
    assert ts == T0 // 1_000_000 and value == 7.0


def test_names_get_sanitised_and_unit_suffixes_once() -> None:
    assert metric_name("process.runtime.memory", "By") == "process_runtime_memory_bytes"
    assert metric_name("request-latency", "s") == "request_latency_seconds"
    assert metric_name("latency_seconds", "s") == "latency_seconds"
    assert metric_name("bytes_sent_total", "By", counter=True) == "bytes_sent_bytes_total"
    assert metric_name("jobs", "{job}", counter=True) == "jobs_total"
    assert metric_name("9lives", "") == "_9lives"
    assert metric_name("a..b", "") == "a_b"
    assert metric_name("disk.io", "By/s") == "disk_io_bytes_per_second"
    assert label_name("http.method") == "http_method"


def test_colliding_label_names_join_their_values() -> None:
    metric = Metric(
        name="g",
        gauge=Gauge(
            data_points=[
                NumberDataPoint(as_double=1.5, attributes=[kv("a.b", "x"), kv("a_b", "y")])
            ]
        ),
    )
    [(labels, _, value)] = samples(MetricMapper(), request(metric))["g"]
    assert labels["a_b"] == "x;y" and value == 1.5


def test_a_ratio_gauge_gets_the_ratio_suffix() -> None:
    metric = Metric(
        name="cpu.utilization", unit="1", gauge=Gauge(data_points=[NumberDataPoint(as_double=0.5)])
    )
    assert "cpu_utilization_ratio" in samples(MetricMapper(), request(metric))


def test_a_non_monotonic_sum_is_a_gauge() -> None:
    metric = Metric(
        name="queue.size",
        sum=Sum(
            is_monotonic=False,
            aggregation_temporality=CUMULATIVE,
            data_points=[NumberDataPoint(as_int=3)],
        ),
    )
    assert list(samples(MetricMapper(), request(metric))) == ["queue_size"]


def test_delta_sums_accumulate_into_a_cumulative_counter() -> None:
    mapper = MetricMapper()
    values = []
    for i, delta in enumerate([2, 3, 0, 5]):
        out = samples(mapper, request(counter("jobs", delta, DELTA, T0 + i * 10**9)))
        values.append(out["jobs_total"][0][2])
    assert values == [2.0, 5.0, 5.0, 10.0]


def test_deltas_of_a_request_that_was_not_stored_are_not_counted() -> None:
    mapper = MetricMapper()
    samples(mapper, request(counter("jobs", 2, DELTA, T0)))
    refused = mapper.map(request(counter("jobs", 3, DELTA, T0 + 10**9)))  # e.g. a 503
    assert refused.rows[0].value == 5.0
    retried = samples(mapper, request(counter("jobs", 3, DELTA, T0 + 10**9)))
    assert retried["jobs_total"][0][2] == 5.0  # not 8: the retry is counted once


def histogram(counts: list[int], total: float, temporality: int, t: int = T0) -> Metric:
    return Metric(
        name="http.server.duration",
        unit="ms",
        histogram=Histogram(
            aggregation_temporality=temporality,
            data_points=[
                HistogramDataPoint(
                    time_unix_nano=t,
                    count=sum(counts),
                    sum=total,
                    explicit_bounds=[10.0, 100.0],
                    bucket_counts=counts,
                )
            ],
        ),
    )


def test_a_histogram_becomes_cumulative_buckets_sum_and_count() -> None:
    out = samples(MetricMapper(), request(histogram([1, 2, 3], 456.0, CUMULATIVE)))
    buckets = {labels["le"]: v for labels, _, v in out["http_server_duration_milliseconds_bucket"]}
    assert buckets == {"10.0": 1.0, "100.0": 3.0, "+Inf": 6.0}
    assert out["http_server_duration_milliseconds_sum"][0][2] == 456.0
    assert out["http_server_duration_milliseconds_count"][0][2] == 6.0


def test_delta_histograms_accumulate_per_bucket() -> None:
    mapper = MetricMapper()
    samples(mapper, request(histogram([1, 0, 0], 5.0, DELTA)))
    out = samples(mapper, request(histogram([0, 1, 1], 550.0, DELTA, T0 + 10**9)))
    buckets = {labels["le"]: v for labels, _, v in out["http_server_duration_milliseconds_bucket"]}
    assert buckets == {"10.0": 1.0, "100.0": 2.0, "+Inf": 3.0}
    assert out["http_server_duration_milliseconds_sum"][0][2] == 555.0


def test_a_histogram_with_mismatched_buckets_is_rejected() -> None:
    metric = histogram([1, 2, 3], 1.0, CUMULATIVE)
    metric.histogram.data_points[0].bucket_counts.append(4)
    mapped = MetricMapper().map(request(metric))
    assert mapped.rows == [] and mapped.rejected == 1


def test_resource_attributes_go_to_target_info() -> None:
    resource = Resource(
        attributes=[
            kv("service.name", "api"),
            kv("service.namespace", "shop"),
            kv("service.instance.id", "pod-1"),
            kv("k8s.pod.name", "api-7d9"),
        ]
    )
    out = samples(MetricMapper(), request(counter("c", 1, CUMULATIVE), resource=resource))
    [(labels, _, value)] = out["target_info"]
    assert labels == {"job": "shop/api", "instance": "pod-1", "k8s_pod_name": "api-7d9"}
    assert value == 1.0
    assert out["c_total"][0][0]["job"] == "shop/api"
