"""Metrics hot paths side by side with prometheus_client and the ``statsd`` package."""

from __future__ import annotations

import socket

from benchmarks._harness import Comparison, compare_ns, time_ns


def run(quick: bool) -> list[Comparison]:
    import statsd
    from prometheus_client import CollectorRegistry, Counter, Histogram

    from berrys_monitoring.metrics import (
        MetricsBackend,
        configure_metrics,
        histogram,
        increment_counter,
        reset_metrics,
    )

    repeat = 3 if quick else 9
    target_s = 0.02 if quick else 0.05
    rows: list[Comparison] = []

    anchor_reg = CollectorRegistry()
    c = Counter("anchor_requests", "x", ["endpoint", "method"], registry=anchor_reg)
    h = Histogram("anchor_size", "x", ["endpoint", "method"], registry=anchor_reg)
    ours_reg = CollectorRegistry()
    configure_metrics(MetricsBackend.PROMETHEUS, prefix="bench", registry=ours_reg)
    tags = {"endpoint": "/users", "method": "GET"}

    ours, anchor = compare_ns(
        lambda: increment_counter("requests_total", {"endpoint": "/users", "method": "GET"}),
        lambda: c.labels("/users", "GET").inc(),
        repeat=repeat,
        target_s=target_s,
    )
    rows.append(
        Comparison(
            "metrics",
            "increment_counter, 2 tags",
            ours,
            "prometheus_client Counter.labels(a,b).inc()",
            anchor,
            0.8,
        )
    )
    ours, anchor = compare_ns(
        lambda: histogram("size_bytes", 512, {"endpoint": "/users", "method": "GET"}),
        lambda: h.labels("/users", "GET").observe(512),
        repeat=repeat,
        target_s=target_s,
    )
    rows.append(
        Comparison(
            "metrics",
            "histogram, 2 tags",
            ours,
            "prometheus_client Histogram.labels(..).observe()",
            anchor,
            1.0,
        )
    )

    # With an active span: ours attaches the trace id; the anchor is given one by hand.
    from opentelemetry.sdk.trace import TracerProvider

    tracer = TracerProvider().get_tracer("bench")
    with tracer.start_as_current_span("bench") as span:
        ctx = span.get_span_context()
        ex = {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}
        ours, anchor = compare_ns(
            lambda: histogram("size_bytes", 512, {"endpoint": "/users", "method": "GET"}),
            lambda: h.labels("/users", "GET").observe(512, ex),
            repeat=repeat,
            target_s=target_s,
        )
    rows.append(
        Comparison(
            "metrics",
            "histogram + exemplar from the active span",
            ours,
            "Histogram.labels(..).observe(v, exemplar)",
            anchor,
            1.0,
        )
    )

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    port = sink.getsockname()[1]
    client = statsd.StatsClient("127.0.0.1", port, prefix="bench")
    configure_metrics(MetricsBackend.STATSD, prefix="bench", statsd_port=port)

    def drain() -> None:
        try:
            while True:
                sink.recv(65536)
        except BlockingIOError:
            pass

    def ours_statsd() -> None:
        increment_counter("requests_total", tags)

    def anchor_statsd() -> None:
        client.incr("requests_total")

    ours, anchor = compare_ns(ours_statsd, anchor_statsd, repeat=repeat, target_s=target_s)
    drain()
    rows.append(
        Comparison(
            "metrics",
            "StatsD increment_counter, 2 tags",
            ours,
            "statsd.StatsClient.incr (UDP)",
            anchor,
            0.5,
            note="ours: buffered DogStatsD packets; anchor: one datagram per call, no tags",
        )
    )
    sink.close()

    configure_metrics(enabled=False)
    off = time_ns(
        lambda: increment_counter("requests_total", tags), repeat=repeat, target_s=target_s
    )
    rows.append(
        Comparison("metrics", "increment_counter with enabled=False", off, note="the no-op cost")
    )
    reset_metrics(ours_reg)
    _ = tags
    return rows
