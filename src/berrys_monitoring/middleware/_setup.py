"""What both ``setup_monitoring`` functions share: options, defaults, one observer per app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from berrys_monitoring._shutdown import flush_on_sigterm
from berrys_monitoring.logging import guard_handlers
from berrys_monitoring.middleware._bootstrap import configure_defaults, silence_server_access_logs
from berrys_monitoring.middleware._core import Observer
from berrys_monitoring.middleware._http_metrics import instruments_for
from berrys_monitoring.middleware._hub import hub_link
from berrys_monitoring.middleware._options import build_options

__all__ = ["Holder", "prepare"]


class Holder:
    """The middleware reads its observer through this, so a second ``setup_monitoring``
    on the same app swaps options instead of stacking a second middleware."""

    __slots__ = ("observer",)

    def __init__(self, observer: Observer) -> None:
        self.observer = observer


def prepare(service_name: str, options: Mapping[str, Any]) -> Observer:
    """Validate options (raising now, not per request), configure defaults, build the observer."""
    opts = build_options(service_name, options)
    from berrys_monitoring.metrics import get_registry

    # opts.registry stays None by default: the exposition then uses the default registry
    # and, in a multi-worker server, aggregates every worker's values.
    registry = opts.registry if opts.registry is not None else get_registry()
    if opts.configure_defaults:
        configure_defaults(opts)
    if opts.log_requests:
        silence_server_access_logs()
    guard_handlers()
    flush_on_sigterm()
    instruments = instruments_for(registry) if opts.enable_metrics else None
    observer = Observer(opts, instruments)
    observer.hub = hub_link(
        opts.hub_url,
        job=opts.service_name,
        service_url=opts.service_url,
        metrics_path=opts.metrics_path,
        health_path=opts.health_path,
    )
    return observer
