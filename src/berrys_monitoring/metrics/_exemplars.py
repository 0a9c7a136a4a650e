"""Exemplars: the trace and span id of the active OpenTelemetry span, for histogram buckets.

Read on every histogram observation, so the span is fetched straight from the context
(OpenTelemetry's own ``get_current_span`` minus a call and a default object) and the
labels of the last span are reused.
"""

from __future__ import annotations

from typing import Any

__all__ = ["active_span", "exemplar_of"]

from berrys_monitoring._compat.opentelemetry import current_span as active_span

_last: tuple[int, int, dict[str, str]] = (0, 0, {})


def exemplar_of(span: Any) -> dict[str, str] | None:
    """The exemplar labels of ``span``, or ``None`` when it is not a valid (recorded) span.

    Observations inside one request share its span, so the last labels are reused rather
    than formatting two hex ids per observation. ``trace_id`` + ``span_id`` with their
    values are 63 characters, within OpenMetrics' 128-character limit.
    """
    global _last
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    last = _last
    if last[0] == ctx.span_id and last[1] == ctx.trace_id:
        return last[2]
    labels = {"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}
    _last = (ctx.span_id, ctx.trace_id, labels)
    return labels
