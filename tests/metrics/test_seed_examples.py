"""The guide's two Metrics examples, verbatim (import prefix changed), and their effect."""

from __future__ import annotations

from berrys_monitoring.metrics import current_value, metrics_exposition


def test_basic_usage_example_records_every_series_in_the_exposition() -> None:
    from berrys_monitoring.metrics import (
        gauge,
        histogram,
        increment_counter,
        record_timer,
    )

    # Increment a counter
    increment_counter("api_requests_total", {"endpoint": "/users", "method": "GET"})

    # Record a gauge value
    gauge("active_connections", 42, {"service": "api-gateway"})

    # Record a value in a histogram
    histogram("response_size_bytes", 1024, {"endpoint": "/users", "method": "GET"})

    # Time a function execution
    @record_timer("function_execution_time", {"function": "process_data"})
    def process_data():
        # Function implementation
        pass

    process_data()
    text = metrics_exposition()[0].decode()
    assert 'api_requests_total{endpoint="/users",method="GET"} 1.0' in text
    assert 'active_connections{service="api-gateway"} 42.0' in text
    assert 'response_size_bytes_sum{endpoint="/users",method="GET"} 1024.0' in text
    assert 'function_execution_time_seconds_count{function="process_data"} 1.0' in text


def test_configuration_example_applies_prefix_and_default_tags() -> None:
    from berrys_monitoring.metrics import MetricsBackend, configure_metrics

    # Configure metrics collection
    configure_metrics(
        backend=MetricsBackend.PROMETHEUS,  # Or STATSD, CONSOLE
        prefix="berrys_agents",
        default_tags={"environment": "production", "service": "api-gateway"},
        enabled=True,
    )

    from berrys_monitoring.metrics import increment_counter

    increment_counter("api_requests_total", {"endpoint": "/users", "method": "GET"})
    text = metrics_exposition()[0].decode()
    assert (
        'berrys_agents_api_requests_total{endpoint="/users",environment="production",'
        'method="GET",service="api-gateway"} 1.0'
    ) in text
    assert current_value("api_requests_total", {"service": "api-gateway"}) == 1.0
