"""OTLP ingest: decoding, limits, and the mapping of traces, logs and metrics to rows."""

from __future__ import annotations

from berrys_monitoring.hub.ingest._codec import IngestError
from berrys_monitoring.hub.ingest._prometheus import MetricMapper, label_name, metric_name
from berrys_monitoring.hub.ingest._spans_logs import map_logs, map_traces

__all__ = ["IngestError", "MetricMapper", "label_name", "map_logs", "map_traces", "metric_name"]
