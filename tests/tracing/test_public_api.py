"""Pin the public surface of berrys_monitoring.tracing."""

from __future__ import annotations

import berrys_monitoring.tracing as tracing


def test_all_is_pinned() -> None:
    assert sorted(tracing.__all__) == [
        "CapturedSpans",
        "SpanKind",
        "capture_spans",
        "configure_tracing",
        "extract_context_from_headers",
        "force_flush",
        "get_current_span",
        "inject_context_into_headers",
        "instrument_http_clients",
        "is_configured",
        "shutdown_tracing",
        "trace",
        "tracer",
        "uninstrument_http_clients",
    ]


def test_every_public_name_exists_and_has_a_docstring_with_an_example() -> None:
    for name in tracing.__all__:
        obj = getattr(tracing, name)
        if name in ("SpanKind", "get_current_span"):
            continue  # re-exported from opentelemetry as-is
        doc = (type(obj).__doc__ if name == "tracer" else obj.__doc__) or ""
        assert doc.strip(), name
        if name not in ("CapturedSpans",):
            assert "Example" in doc or "example" in doc, name


def test_span_kind_is_the_opentelemetry_enum() -> None:
    from opentelemetry.trace import SpanKind

    assert tracing.SpanKind is SpanKind
