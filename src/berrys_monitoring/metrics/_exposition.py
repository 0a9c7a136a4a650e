"""Reading metrics back: the /metrics payload, a standalone server, and current_value."""

from __future__ import annotations

import threading
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder, make_wsgi_app
from prometheus_client.registry import Collector

from berrys_monitoring._compat.prometheus_client import registry_collectors
from berrys_monitoring._internal import is_strict, report_internal_error
from berrys_monitoring.metrics._config import get_metrics_config, prometheus_backend
from berrys_monitoring.metrics._multiprocess import (
    is_multiprocess,
    multiprocess_dir,
    prune_dead_processes,
)
from berrys_monitoring.metrics._names import COUNTER, GAUGE
from berrys_monitoring.metrics._selfmetrics import SelfMetricsCollector

__all__ = [
    "MetricsServer",
    "current_value",
    "get_registry",
    "metrics_exposition",
    "start_metrics_server",
]


def get_registry() -> CollectorRegistry:
    """The registry the PROMETHEUS backend (and the middleware) register metrics on.

    Example::

        from prometheus_client import Counter
        jobs = Counter("jobs_done", "Jobs done", registry=get_registry())
    """
    return get_metrics_config().registry


class _LiveMultiProcessCollector(Collector):
    """All workers' values; dead workers' live gauges pruned first."""

    def __init__(self, path: str) -> None:
        from prometheus_client.multiprocess import MultiProcessCollector

        self.path = path
        self._inner = MultiProcessCollector(None, path=path)  # type: ignore[no-untyped-call]

    def collect(self) -> Any:
        prune_dead_processes(self.path)
        return self._inner.collect()  # type: ignore[no-untyped-call]


_mp_lock = threading.Lock()
_mp_registry: tuple[str, CollectorRegistry] | None = None


def _multiprocess_registry(path: str) -> CollectorRegistry:
    global _mp_registry
    with _mp_lock:
        if _mp_registry is None or _mp_registry[0] != path:
            reg = CollectorRegistry(auto_describe=False)
            reg.register(_LiveMultiProcessCollector(path))
            # Every worker's counts are in the files once mirrored; this process's else.
            reg.register(SelfMetricsCollector(unless_mirrored=True))
            _mp_registry = (path, reg)
        return _mp_registry[1]


def exposition_registry(registry: CollectorRegistry | None = None) -> CollectorRegistry:
    """The registry a scrape reads: the given one, else all workers' metrics in
    multiprocess mode, else :func:`get_registry`."""
    if registry is not None:
        return registry
    path = multiprocess_dir()
    if path is not None and get_metrics_config().registry is _default_registry():
        return _multiprocess_registry(path)
    return get_registry()


def _default_registry() -> CollectorRegistry:
    from prometheus_client import REGISTRY

    return REGISTRY


class _Tolerant:
    """A registry view whose scrape skips a collector that raises instead of failing.

    ``CollectorRegistry.collect`` stops at the first failing collector (a user's custom
    collector, a half-written multiprocess file), which would turn every scrape into an
    error: one broken source must not hide all the other metrics. The failure is logged
    once and counted in ``berrys_monitoring_internal_errors_total``.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Any:
        reg: Any = self._registry
        listing = registry_collectors(reg)
        if listing is None:
            yield from reg.collect()  # another prometheus_client layout: its own behaviour
            return
        for collector in listing():
            try:
                metrics = list(collector.collect())
            except Exception as exc:
                report_internal_error(
                    "metrics",
                    exc,
                    f"collector {type(collector).__name__} failed during a scrape; skipped",
                    key=f"collect:{type(collector).__name__}",
                )
                if is_strict():
                    raise
                continue
            yield from metrics


def metrics_exposition(
    accept: str | None = None, registry: CollectorRegistry | None = None
) -> tuple[bytes, str]:
    """The body and content type of a scrape, in the format the ``Accept`` header asks for.

    Prometheus text format 0.0.4 by default; OpenMetrics (with exemplars) when ``accept``
    contains ``application/openmetrics-text``. In a multi-worker server it covers every
    worker's metrics. A collector that raises is skipped (logged once, counted), so the
    other metrics are still served.

    Example::

        body, content_type = metrics_exposition("application/openmetrics-text")
    """
    encoder, content_type = choose_encoder(accept or "")
    view: Any = _Tolerant(exposition_registry(registry))
    return encoder(view), content_type


class MetricsServer:
    """A running standalone /metrics server; ``close()`` stops it.

    Example::

        with start_metrics_server(0) as server:
            print(server.url)
    """

    def __init__(self, server: Any, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        self.host = str(server.server_address[0])
        self.port = int(server.server_address[1])
        self.url = f"http://{self.host}:{self.port}/metrics"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def start_metrics_server(
    port: int, addr: str = "127.0.0.1", registry: CollectorRegistry | None = None
) -> MetricsServer:
    """Serve ``/metrics`` from a background thread (for workers, jobs, CLIs without a web
    framework). ``port=0`` picks a free port; read it from ``.port``.

    Example::

        server = start_metrics_server(0)
        print(server.url)
        server.close()
    """
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    class _Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes every few seconds would flood stderr

    class _Lazy(Collector):
        # Resolve the registry per scrape, so configure_metrics() after start still counts.
        def collect(self) -> Any:
            return _Tolerant(exposition_registry(registry)).collect()

    holder = CollectorRegistry(auto_describe=False)
    holder.register(_Lazy())
    app = make_wsgi_app(holder)
    from prometheus_client.exposition import ThreadingWSGIServer

    server = make_server(addr, int(port), app, ThreadingWSGIServer, handler_class=_Quiet)
    thread = threading.Thread(
        target=server.serve_forever, name="berrys-metrics-server", daemon=True
    )
    thread.start()
    return MetricsServer(server, thread)


def current_value(name: str, tags: dict[str, object] | None = None) -> float | None:
    """The current value of a facade metric, by the name used when recording it.

    Counter: its total; gauge: its value; histogram or timer: the sum of observations.
    Series are summed over label sets matching ``tags`` (all when ``None``). ``None`` when
    the metric was never recorded or no series matches (PROMETHEUS backend required).

    Example::

        increment_counter("orders_total", {"shop": "eu"})
        assert current_value("orders_total", {"shop": "eu"}) >= 1
    """
    backend = prometheus_backend()
    if backend is None:
        return None
    fam = backend.family_for(name)
    if fam is None:
        return None
    if fam.kind == COUNTER:
        sample_name = fam.name + "_total"
    elif fam.kind == GAUGE:
        sample_name = fam.name
    else:
        sample_name = fam.name + "_sum"
    want = {}
    for k, v in (tags or {}).items():
        from berrys_monitoring.metrics._names import label_name

        want[label_name(k, fam.kind)] = "" if v is None else str(v)
    if is_multiprocess() and backend.registry is _default_registry():
        metrics = exposition_registry().collect()
    else:
        metrics = fam.metric.collect()
    total: float | None = None
    for metric in metrics:
        for s in metric.samples:
            if s.name != sample_name:
                continue
            if any(s.labels.get(k) != v for k, v in want.items()):
                continue
            total = (total or 0.0) + float(s.value)
    return total
