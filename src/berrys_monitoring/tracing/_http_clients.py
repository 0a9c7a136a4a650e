"""instrument_http_clients(): client spans and header injection for ``requests`` and
``httpx``, through the official OpenTelemetry instrumentations (the ``http-clients``
extra)."""

from __future__ import annotations

import importlib
import importlib.util
import threading
from typing import Any

from berrys_monitoring.tracing._switch import SWITCH

_EXTRA_HINT = "pip install 'berrys-monitoring[http-clients]'"
_lock = threading.Lock()

# library -> (instrumentation module, instrumentor class)
_INSTRUMENTORS = {
    "requests": ("opentelemetry.instrumentation.requests", "RequestsInstrumentor"),
    "httpx": ("opentelemetry.instrumentation.httpx", "HTTPXClientInstrumentor"),
}


def _instrumentor(library: str) -> Any:
    module_name, class_name = _INSTRUMENTORS[library]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(
            f"instrumenting {library} needs {module_name.replace('.', '-').replace('_', '-')}: "
            f"{_EXTRA_HINT}"
        ) from exc
    # Instrumentors are singletons: this is the same object every call.
    return getattr(module, class_name)()


def instrument_http_clients(*, requests: bool = True, httpx: bool = True) -> list[str]:
    """Trace outgoing ``requests`` and ``httpx`` calls (sync and async) with no code change.

    Each call gets a CLIENT span (method, URL, status code) and the ``traceparent`` header,
    so the called service continues the trace. Libraries that are not installed are
    skipped; calling twice is harmless. Returns the libraries now instrumented.
    Needs the ``http-clients`` extra.

    Example::

        instrument_http_clients()
        with tracer.start_as_current_span("checkout"):
            requests.get("http://users/api/users/1")   # carries traceparent
    """
    done: list[str] = []
    with _lock:
        for library, wanted in (("requests", requests), ("httpx", httpx)):
            if not wanted or importlib.util.find_spec(library) is None:
                continue
            inst = _instrumentor(library)
            if not inst.is_instrumented_by_opentelemetry:
                # Our switchable provider, not the global one: the spans follow
                # configure_tracing even when another library owns the global provider.
                inst.instrument(tracer_provider=SWITCH)
            done.append(library)
    return done


def uninstrument_http_clients() -> None:
    """Undo :func:`instrument_http_clients`.

    Example::

        uninstrument_http_clients()
    """
    with _lock:
        for library in _INSTRUMENTORS:
            if importlib.util.find_spec(library) is None:
                continue
            try:
                inst = _instrumentor(library)
            except ImportError:
                continue
            if inst.is_instrumented_by_opentelemetry:
                inst.uninstrument()
