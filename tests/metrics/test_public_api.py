from __future__ import annotations

import berrys_monitoring.metrics as metrics


def test_public_names_are_pinned() -> None:
    assert sorted(metrics.__all__) == [
        "Backend",
        "MetricsBackend",
        "MetricsConfig",
        "MetricsServer",
        "OVERFLOW_VALUE",
        "configure_metrics",
        "current_value",
        "flush_metrics",
        "gauge",
        "get_metrics_config",
        "get_registry",
        "gunicorn_child_exit",
        "gunicorn_on_exit",
        "histogram",
        "increment_counter",
        "is_multiprocess",
        "mark_process_dead",
        "metrics_exposition",
        "record_timer",
        "reset_metrics",
        "setup_multiprocess",
        "start_metrics_server",
    ]


def test_every_public_name_exists_and_has_a_docstring_with_an_example() -> None:
    for name in metrics.__all__:
        obj = getattr(metrics, name)
        if name == "OVERFLOW_VALUE":
            assert obj == "__overflow__"
            continue
        doc = obj.__doc__ or ""
        assert doc.strip(), name
        if callable(obj):
            assert "Example" in doc or ">>>" in doc, name


def test_backends_are_the_seed_ones_plus_otlp() -> None:
    assert [b.name for b in metrics.MetricsBackend] == ["PROMETHEUS", "STATSD", "CONSOLE", "OTLP"]
