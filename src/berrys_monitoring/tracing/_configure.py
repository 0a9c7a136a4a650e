"""configure_tracing / force_flush / shutdown_tracing: the lifecycle of the SDK pipeline."""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanLimits, SpanProcessor
from opentelemetry.sdk.trace import TracerProvider as SDKTracerProvider
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, TraceIdRatioBased

from berrys_monitoring._compat.opentelemetry import update_resource
from berrys_monitoring._internal import (
    HUB_URL_ENV,
    count_event,
    hub_auth_headers,
    report_internal_error,
)
from berrys_monitoring._shutdown import flush_on_sigterm, on_flush
from berrys_monitoring.tracing._export import (
    COMPONENT,
    EXPORTER_NAMES,
    BatchProcessor,
    SafeExporter,
    console_exporter_factory,
    grpc_exporter_factory,
    otlp_exporter_factory,
    resolve_traces_endpoint,
)
from berrys_monitoring.tracing._otlp_http import COMPRESSIONS
from berrys_monitoring.tracing._server_span import MAX_ATTRIBUTES
from berrys_monitoring.tracing._switch import (
    STATE,
    SWITCH,
    ListenerFanout,
    SwitchableTracerProvider,
    set_provider,
)

_log = logging.getLogger("berrys_monitoring.tracing")
_lock = threading.RLock()
# Bound on how long a reconfiguration waits for the previous pipeline to drain.
_RECONFIGURE_FLUSH_S = 5.0


def configure_tracing(
    service_name: str,
    exporter: str | SpanExporter | None = None,
    endpoint: str | None = None,
    sample_rate: float = 1.0,
    environment: str | None = None,
    version: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    compression: str | None = None,
    protocol: str | None = None,
    resource_attributes: Mapping[str, Any] | None = None,
    max_queue_size: int | None = None,
    max_export_batch_size: int | None = None,
    schedule_delay_millis: float | None = None,
    set_global: bool = True,
) -> None:
    """Configure OpenTelemetry tracing for this process (callable again to reconfigure).

    * ``exporter``: ``"otlp"`` (the ``otlp`` extra), ``"console"`` (spans as JSON on
      stdout), ``"none"`` (spans are created, so ids propagate and logs carry them, but
      nothing is exported) or any SDK ``SpanExporter``. Default: the standard
      ``OTEL_TRACES_EXPORTER``, else ``"otlp"``.
    * ``protocol``: ``"http/protobuf"`` (default) or ``"grpc"`` (the ``otlp-grpc`` extra;
      default endpoint ``http://127.0.0.1:4317``); default: the standard
      ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` / ``OTEL_EXPORTER_OTLP_PROTOCOL``.
    * ``endpoint``: the collector's base URL (``/v1/traces`` is appended) or the full
      traces URL. Default: the standard ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` /
      ``OTEL_EXPORTER_OTLP_ENDPOINT`` when set, else the hub's
      ``BERRYS_MONITORING_HUB_URL`` (with ``BERRYS_MONITORING_TOKEN`` as a bearer token),
      else ``http://127.0.0.1:4318``.
    * ``headers`` (e.g. an auth token), ``timeout`` per export in seconds, retries
      included, and ``compression`` (``"gzip"``, ``"deflate"``) apply to the OTLP
      exporter. Default: the standard ``OTEL_EXPORTER_OTLP_[TRACES_]HEADERS``,
      ``…TIMEOUT`` (seconds) and ``…COMPRESSION``, else none, 10 s and none;
      ``…CERTIFICATE``, ``…CLIENT_CERTIFICATE`` and ``…CLIENT_KEY`` set up TLS.
    * ``sample_rate``: fraction of *new* traces kept (``ParentBased(TraceIdRatioBased)``:
      a request that arrives with a sampling decision keeps it, so traces stay whole).
    * ``environment``/``version``: the ``deployment.environment`` and ``service.version``
      resource attributes; ``resource_attributes`` adds more (``OTEL_RESOURCE_ATTRIBUTES``
      is honoured too).
    * ``max_queue_size``, ``max_export_batch_size`` and ``schedule_delay_millis`` shape
      the batching. Default: the standard ``OTEL_BSP_MAX_QUEUE_SIZE``,
      ``OTEL_BSP_MAX_EXPORT_BATCH_SIZE`` and ``OTEL_BSP_SCHEDULE_DELAY`` (milliseconds),
      else 2048, 512 and 5000.

    The standard variables are checked here as strictly as the arguments: a malformed
    endpoint or an unknown exporter or protocol in the environment raises now, not at
    the first export. With ``OTEL_SDK_DISABLED=true`` nothing is configured: spans are
    no-ops and nothing is counted as an error.

    Spans are batched (bounded queue, worker thread); a full queue or an unreachable
    collector drops spans and counts them (``berrys_monitoring_events_total``), never
    raises into the application. A bad argument raises here, at configuration time.

    Example::

        configure_tracing("checkout", exporter="console", sample_rate=0.25,
                          environment="staging", version="1.4.2")
    """
    arguments = dict(locals())
    if not isinstance(service_name, str) or not service_name.strip():
        raise ValueError("service_name must be a non-empty string")
    if isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, float)):
        raise TypeError(f"sample_rate must be a number in [0, 1], got {sample_rate!r}")
    if not 0.0 <= float(sample_rate) <= 1.0:
        raise ValueError(f"sample_rate must be between 0 and 1, got {sample_rate!r}")
    if timeout is not None and timeout <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    max_queue_size = int(_bsp("max_queue_size", max_queue_size, "OTEL_BSP_MAX_QUEUE_SIZE", 2048))
    max_export_batch_size = int(
        _bsp("max_export_batch_size", max_export_batch_size, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", 512)
    )
    schedule_delay_millis = _bsp(
        "schedule_delay_millis", schedule_delay_millis, "OTEL_BSP_SCHEDULE_DELAY", 5000
    )
    if max_export_batch_size > max_queue_size:
        raise ValueError(
            f"max_export_batch_size ({max_export_batch_size}) must not exceed "
            f"max_queue_size ({max_queue_size})"
        )

    if compression is not None and compression not in COMPRESSIONS:
        raise ValueError(f"compression must be 'gzip', 'deflate' or 'none', got {compression!r}")
    if exporter is None:
        exporter = _exporter_from_env()
    if exporter == "otlp":
        protocol = _protocol(protocol)
    if _sdk_disabled():
        # The SDK's own switch: no pipeline, no spans, and nothing counted as an error.
        with _lock:
            old = STATE.processors
            set_provider(None, [])
            STATE.temporary = False
        _shutdown_processors(old, _RECONFIGURE_FLUSH_S)
        return
    factory, target = _exporter_factory(
        exporter, endpoint, headers, timeout, compression, protocol or "http/protobuf"
    )
    # process.pid tells gunicorn workers apart in a trace view; refreshed after fork below.
    attrs: dict[str, Any] = {"service.name": service_name, "process.pid": os.getpid()}
    if version:
        attrs["service.version"] = version
    if environment:
        # Both spellings: the long-standing one and the semconv >= 1.27 one.
        attrs["deployment.environment"] = environment
        attrs["deployment.environment.name"] = environment
    attrs.update(resource_attributes or {})
    # In a forked child (see _refresh_pid_after_fork) the parent's resource with this
    # process's id: Resource.create would start a thread pool inside the at-fork hook.
    resource = _child_resource[0] if _child_resource else Resource.create(attrs)

    limits = SpanLimits()  # the OTEL_SPAN_* variables, read once and known here
    provider = _OwnTracerProvider(
        resource=resource,
        sampler=make_sampler(float(sample_rate)),
        span_limits=limits,
        shutdown_on_exit=False,  # our own atexit hook shuts the *current* one down
    )
    # Exactly one processor either way (each one costs three calls per span); both
    # forward ended spans to the capture_spans() listeners.
    processor: SpanProcessor
    batch: BatchProcessor | None = None
    if factory is None:
        processor = ListenerFanout()
    else:
        processor = batch = BatchProcessor(
            SafeExporter(factory, target),
            max_queue_size=max_queue_size,
            max_export_batch_size=max_export_batch_size,
            schedule_delay_millis=schedule_delay_millis,
        )
    provider.add_span_processor(processor)
    provider.sealed = True
    processors: list[SpanProcessor] = [processor]
    # The middleware's lean server spans apply what we just installed: our sampler, our
    # one processor, limits that truncate nothing (see _server_span).
    lean = None
    if limits.max_attribute_length is None and limits.max_span_attributes == MAX_ATTRIBUTES:
        lean = (int(TraceIdRatioBased(float(sample_rate)).bound), batch)

    with _lock:
        old = STATE.processors
        set_provider(provider, processors, lean)
        STATE.temporary = False
    _shutdown_processors(old, _RECONFIGURE_FLUSH_S)
    _last_arguments.clear()
    _last_arguments.update(arguments)
    if set_global:
        _install_global()
    if factory is not None:
        flush_on_sigterm()


def is_configured() -> bool:
    """True when spans started through this library are recorded: ``configure_tracing``
    was called (and tracing not shut down since), or another OpenTelemetry SDK provider
    is installed globally (``opentelemetry-instrument``, another library), which our
    ``tracer`` then follows. ``capture_spans()`` on an unconfigured process does not count.

    Example::

        >>> from berrys_monitoring.tracing import configure_tracing, is_configured
        >>> configure_tracing("checkout", exporter="none")
        >>> is_configured()
        True
    """
    if STATE.provider is not None and not STATE.temporary:
        return True
    glob = trace_api.get_tracer_provider()
    return not isinstance(
        glob,
        (SwitchableTracerProvider, trace_api.ProxyTracerProvider, trace_api.NoOpTracerProvider),
    )


def make_sampler(rate: float) -> Sampler:
    return ParentBased(TraceIdRatioBased(rate))


class _OwnTracerProvider(SDKTracerProvider):
    """The SDK's provider, knowing when someone adds a processor after ours: the
    middleware's lean server spans then give way to the SDK's (that processor must see
    every span start)."""

    sealed = False

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        super().add_span_processor(span_processor)
        if self.sealed:
            with _lock:
                if STATE.provider is self and STATE.server_spans is not None:
                    set_provider(self, STATE.processors, None)


_PROTOCOLS = ("http/protobuf", "grpc")


def _exporter_from_env() -> str:
    value = os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
    if not value:
        return "otlp"
    if value not in EXPORTER_NAMES:
        raise ValueError(
            f"OTEL_TRACES_EXPORTER={value!r} is not supported: use one of "
            f"{', '.join(EXPORTER_NAMES)} (one exporter per process)"
        )
    return value


def _protocol(protocol: str | None) -> str:
    name = "protocol"
    if protocol is None:
        for var in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"):
            if os.environ.get(var):
                name, protocol = var, os.environ[var]
                break
        else:
            return "http/protobuf"
    value = protocol.strip().lower()
    if value not in _PROTOCOLS:
        hint = " (the OpenTelemetry Python exporters have no http/json)" * (value == "http/json")
        raise ValueError(f"{name}={protocol!r} is not supported: use one of {_PROTOCOLS}{hint}")
    return value


def _bsp(name: str, value: float | None, var: str, default: float) -> float:
    """A batching setting: the argument, else the standard variable, else the default;
    checked as strictly either way (a positive number; the two sizes whole numbers)."""
    source = name
    if value is None:
        text = os.environ.get(var, "").strip()
        if not text:
            return default
        source = var
        try:
            value = float(text)
        except ValueError:
            raise ValueError(f"{var}={text!r} is not a number") from None
    whole = name != "schedule_delay_millis"
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or value <= 0
        or (whole and value != int(value))
    ):
        kind = "a positive whole number" if whole else "a positive number"
        raise ValueError(f"{source} must be {kind}, got {value!r}")
    return value


def _sdk_disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def _otlp_env_endpoint() -> bool:
    return any(
        os.environ.get(v)
        for v in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def _check_env_endpoint() -> None:
    """A malformed endpoint variable raises at configuration time, naming the variable."""
    for var in ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"):
        value = os.environ.get(var)
        if value:
            try:
                resolve_traces_endpoint(value)
            except ValueError:
                raise ValueError(
                    f"{var}={value!r} is not an http(s) URL such as 'http://127.0.0.1:4318'"
                ) from None
            return  # the first one set is the one the exporter uses


def _exporter_factory(
    exporter: str | SpanExporter,
    endpoint: str | None,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    compression: str | None,
    protocol: str = "http/protobuf",
) -> tuple[Callable[[], SpanExporter] | None, str]:
    if isinstance(exporter, SpanExporter):
        instance = exporter
        return (lambda: instance), type(exporter).__name__
    if exporter == "otlp" and endpoint is None:
        _check_env_endpoint()
        if not _otlp_env_endpoint() and os.environ.get(HUB_URL_ENV):
            endpoint = os.environ[HUB_URL_ENV]  # the telemetry hub, when nothing else says
            if headers is None:
                headers = hub_auth_headers()
    if exporter == "otlp" and protocol == "grpc":
        return grpc_exporter_factory(endpoint, headers, timeout, compression)
    if exporter == "otlp":
        return otlp_exporter_factory(endpoint, headers, timeout, compression)
    if endpoint is not None:
        resolve_traces_endpoint(endpoint)  # still reject a malformed URL early
    if exporter == "console":
        return console_exporter_factory(), "stdout"
    if exporter == "none":
        return None, "nowhere"
    raise ValueError(
        f"unknown exporter {exporter!r}: use one of {', '.join(EXPORTER_NAMES)} "
        "or a SpanExporter instance"
    )


def _install_global() -> None:
    current = trace_api.get_tracer_provider()
    if isinstance(current, SwitchableTracerProvider):
        return
    if isinstance(current, trace_api.ProxyTracerProvider):
        trace_api.set_tracer_provider(SWITCH)
        return
    # Someone else owns the global provider (opentelemetry-instrument, another library).
    # Our `tracer` and @trace still use our configuration; say so once.
    count_event(COMPONENT, "foreign_global_provider")
    report_internal_error(
        COMPONENT,
        message=(
            f"a global tracer provider ({type(current).__name__}) is already set; "
            "berrys_monitoring's tracer uses its own configuration, other instrumentation "
            "keeps using that provider"
        ),
        key="foreign_global_provider",
    )


def force_flush(timeout: float = 10.0) -> bool:
    """Export every span ended so far; returns False if that did not finish in ``timeout`` s.

    Call it before a short-lived process exits or at the end of a batch job.

    Example::

        configure_tracing("nightly-job", exporter="none")
        force_flush(timeout=5)
    """
    with _lock:
        processors = list(STATE.processors)
    try:
        # Our processors wait at most the timeout (the export itself runs on their worker).
        return all(p.force_flush(int(timeout * 1000)) for p in processors)
    except Exception as exc:
        report_internal_error(COMPONENT, exc, "force_flush failed")
        return False


def shutdown_tracing(timeout: float = 10.0) -> None:
    """Flush and stop the tracing pipeline; ``tracer`` becomes a no-op until reconfigured.

    Runs automatically at interpreter exit. Under gunicorn call it from the
    ``worker_exit`` hook so each worker drains its own queue.

    Example::

        configure_tracing("checkout", exporter="none")
        shutdown_tracing(timeout=5)
    """
    with _lock:
        old = STATE.processors
        set_provider(None, [])
        STATE.temporary = False
    _shutdown_processors(old, timeout)


def _shutdown_processors(processors: list[SpanProcessor], timeout: float) -> None:
    for p in processors:
        try:
            if isinstance(p, BatchProcessor):
                p.shutdown(timeout_millis=timeout * 1000)
            else:
                p.shutdown()
        except Exception as exc:
            report_internal_error(COMPONENT, exc, "span processor shutdown failed")


# The arguments of the configuration in force, to make it again in a forked child.
_last_arguments: dict[str, Any] = {}
_child_resource: list[Resource] = []


def _refresh_pid_after_fork() -> None:
    try:
        if STATE.provider is None or STATE.temporary:
            return
        if update_resource(STATE.provider, {"process.pid": os.getpid()}):
            STATE.generation += 1  # the lean server spans pick up the new resource
        elif _last_arguments:
            # An SDK without an at-fork resource update: the same configuration again,
            # with this process's id in its resource.
            pid = Resource({"process.pid": os.getpid()})
            _child_resource.append(STATE.provider.resource.merge(pid))
            try:
                configure_tracing(**_last_arguments)
            finally:
                _child_resource.clear()
    except Exception as exc:
        report_internal_error(COMPONENT, exc, "cannot refresh process.pid after fork")


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_refresh_pid_after_fork)


@atexit.register
def _shutdown_at_exit() -> None:
    # Bounded: a dead collector must not hold up interpreter exit (the SDK's own hook
    # could wait through its whole retry schedule). Call shutdown_tracing() yourself
    # for a longer drain.
    if STATE.processors:
        shutdown_tracing(timeout=2.0)


@on_flush
def _flush_before_stop() -> None:
    if STATE.processors:
        force_flush(timeout=2.0)
