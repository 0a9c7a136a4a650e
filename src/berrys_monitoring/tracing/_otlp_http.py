"""The OTLP/HTTP span sender: our encoder's bytes, POSTed with httpx, retried politely.

What the OpenTelemetry exporter does, on public interfaces only: it is an SDK
``SpanExporter`` (so any processor can drive it), it takes the spans our batch processor
pre-encoded (``bytes``, see ``_otlp_encode``) as well as ``ReadableSpan`` objects, and
reads a collector's answer with the ``opentelemetry-proto`` messages.

* **Where and how**: the standard variables, signal-specific first —
  ``OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT``, ``…HEADERS``, ``…COMPRESSION``, ``…TIMEOUT``
  (seconds, as the OpenTelemetry Python exporters read it), ``…CERTIFICATE`` (a CA
  bundle), ``…CLIENT_CERTIFICATE`` and ``…CLIENT_KEY`` (mutual TLS). Arguments win over
  the variables, and a malformed value raises when tracing is configured, naming it.
* **Retries**: 429, 502, 503 and 504 answers and connection failures are retried with
  exponential backoff and jitter (or after the ``Retry-After`` the collector asked for),
  within the export's timeout. Anything else fails the batch at once.
* **Failures** are logged once and counted (``berrys_monitoring_events_total``), never
  raised: the processor counts the spans dropped, this module the retries and the spans a
  collector rejected in a ``partial_success``.
"""

from __future__ import annotations

import email.utils
import gzip
import logging
import os
import random
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from berrys_monitoring._internal import count_event, report_internal_error
from berrys_monitoring._version import __version__
from berrys_monitoring.tracing._otlp_encode import encode_prepared, encode_request

__all__ = ["OTLPHTTPSender", "SenderSettings", "parse_headers", "sender_settings"]

COMPONENT = "tracing"
DEFAULT_ENDPOINT = "http://127.0.0.1:4318"
DEFAULT_TIMEOUT_S = 10.0
#: The largest request body sent at once; a bigger batch goes in halves.
DEFAULT_MAX_REQUEST_BYTES = 64 * 1024 * 1024
RETRYABLE = frozenset({429, 502, 503, 504})
COMPRESSIONS = ("gzip", "deflate", "none")
_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 16.0
_log = logging.getLogger("berrys_monitoring.tracing")


def _env(name: str) -> tuple[str, str] | None:
    """``(variable, value)`` of the traces-specific variable, else the generic one."""
    for var in (f"OTEL_EXPORTER_OTLP_TRACES_{name}", f"OTEL_EXPORTER_OTLP_{name}"):
        value = os.environ.get(var, "").strip()
        if value:
            return var, value
    return None


def parse_headers(text: str, source: str = "headers") -> dict[str, str]:
    """``key=value`` pairs separated by commas, values percent-decoded (the format of
    ``OTEL_EXPORTER_OTLP_HEADERS``); ``ValueError`` naming ``source`` when malformed.

    Example::

        >>> parse_headers("api-key=a%20b, x-tenant=acme")
        {'api-key': 'a b', 'x-tenant': 'acme'}
    """
    out: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or any(c in key for c in " \t\r\n:"):
            raise ValueError(f"{source}={text!r} is not a list of key=value pairs")
        out[key.lower()] = unquote(value.strip())
    return out


def traces_url(endpoint: str, source: str = "endpoint", *, append: bool = True) -> str:
    """``endpoint`` checked (an http(s) URL with a host), with ``/v1/traces`` appended to
    a base URL unless ``append`` is False (a signal-specific variable is used as it is).

    Example::

        >>> traces_url("http://collector:4318")
        'http://collector:4318/v1/traces'
    """
    if not isinstance(endpoint, str):
        raise TypeError(f"{source} must be a URL string, got {type(endpoint).__name__}")
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"{source} must be an http(s) URL such as {DEFAULT_ENDPOINT!r}, got {endpoint!r}"
        )
    if not append or parts.path.rstrip("/").endswith("/v1/traces"):
        return endpoint
    return endpoint.rstrip("/") + "/v1/traces"


@dataclass(frozen=True)
class SenderSettings:
    """Everything the sender needs, resolved and checked at configuration time."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    timeout_s: float = DEFAULT_TIMEOUT_S
    compression: str = "none"
    certificate: str | None = None
    client_certificate: str | None = None
    client_key: str | None = None


def sender_settings(
    endpoint: str | None = None,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    compression: str | None = None,
) -> SenderSettings:
    """Arguments over the standard variables over the defaults; raises ``ValueError``
    naming the argument or variable that is malformed.

    Example::

        >>> s = sender_settings("http://127.0.0.1:4318", timeout=2.5)
        >>> s.url, s.timeout_s
        ('http://127.0.0.1:4318/v1/traces', 2.5)
    """
    if endpoint is not None:
        url = traces_url(endpoint)
    else:
        traces = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "").strip()
        generic = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
        if traces:
            url = traces_url(traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", append=False)
        elif generic:
            url = traces_url(generic, "OTEL_EXPORTER_OTLP_ENDPOINT")
        else:
            url = traces_url(DEFAULT_ENDPOINT)
    if headers is not None:
        hdrs = {str(k).lower(): str(v) for k, v in headers.items()}
    else:
        found = _env("HEADERS")
        hdrs = parse_headers(found[1], found[0]) if found else {}
    if timeout is None:
        found = _env("TIMEOUT")
        if found:
            try:
                timeout = float(found[1])
            except ValueError:
                raise ValueError(f"{found[0]}={found[1]!r} is not a number of seconds") from None
            if timeout <= 0:
                raise ValueError(f"{found[0]}={found[1]!r} must be positive")
        else:
            timeout = DEFAULT_TIMEOUT_S
    if compression is None:
        found = _env("COMPRESSION")
        if found:
            compression = found[1].lower()
            if compression not in COMPRESSIONS:
                raise ValueError(f"{found[0]}={found[1]!r} is not one of {COMPRESSIONS}")
    comp = compression or "none"
    if comp not in COMPRESSIONS:
        raise ValueError(f"compression must be one of {COMPRESSIONS}, got {compression!r}")
    files: dict[str, str | None] = {}
    for name in ("CERTIFICATE", "CLIENT_CERTIFICATE", "CLIENT_KEY"):
        found = _env(name)
        if found and not os.path.isfile(found[1]):
            raise ValueError(f"{found[0]}={found[1]!r} is not a readable file")
        files[name] = found[1] if found else None
    return SenderSettings(
        url=url,
        headers=hdrs,
        timeout_s=float(timeout),
        compression=comp,
        certificate=files["CERTIFICATE"],
        client_certificate=files["CLIENT_CERTIFICATE"],
        client_key=files["CLIENT_KEY"],
    )


def _tls(settings: SenderSettings) -> ssl.SSLContext | bool:
    if settings.certificate is None and settings.client_certificate is None:
        return True  # httpx's default: the system's (certifi's) CA bundle
    ctx = ssl.create_default_context(cafile=settings.certificate)
    if settings.client_certificate is not None:
        ctx.load_cert_chain(settings.client_certificate, settings.client_key)
    return ctx


# httpx logs every request at INFO ("HTTP Request: POST …/v1/traces …"): each export would
# put a line in the service's own log (and feed its log pipeline). A filter on httpx's
# logger drops the records made while our sender posts, and only those.
_EXPORTING: ContextVar[bool] = ContextVar("berrys_otlp_exporting", default=False)


class _OwnRequestsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not _EXPORTING.get()


_OWN_REQUESTS = _OwnRequestsFilter()


@contextmanager
def _unlogged() -> Iterator[None]:
    token = _EXPORTING.set(True)
    try:
        yield
    finally:
        _EXPORTING.reset(token)


def _instrumentation_switch() -> Callable[[], AbstractContextManager[Any]]:
    """The instrumentations' public switch, where they are installed (only then can
    httpx be instrumented); imported once, when a sender is made, not on the worker."""
    try:
        from opentelemetry.instrumentation.utils import suppress_instrumentation
    except ImportError:
        return nullcontext
    return suppress_instrumentation


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delay-seconds or an HTTP date).

    Example::

        >>> retry_after("3"), retry_after(None), retry_after("soon")
        (3.0, None, None)
    """
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def backoff(attempt: int) -> float:
    """The wait before retry ``attempt`` (0-based): exponential with full jitter in its
    upper half, so that many processes that lost one collector do not return in step.

    Example::

        >>> 0.25 <= backoff(0) <= 0.5 and 4.0 <= backoff(4) <= 8.0
        True
    """
    ceiling: float = min(_BACKOFF_MAX_S, _BACKOFF_FIRST_S * 2.0**attempt)
    return ceiling * (0.5 + random.random() / 2)


class OTLPHTTPSender(SpanExporter):
    """An SDK ``SpanExporter`` that sends OTLP/protobuf over HTTP with httpx.

    ``export`` takes ``bytes`` prepared by ``_otlp_encode.prepare_span`` /
    ``encode_server_span`` (what our batch processor queues when ``accepts_prepared``) and
    ``ReadableSpan`` objects, mixed. One export at a time (the processor's worker).

    Example::

        >>> sender = OTLPHTTPSender(sender_settings("http://127.0.0.1:9"))
        >>> sender.export([]) is SpanExportResult.SUCCESS
        True
        >>> sender.shutdown()
    """

    #: The batch processor may queue spans pre-encoded for this exporter.
    accepts_prepared = True

    def __init__(
        self, settings: SenderSettings, *, max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    ) -> None:
        self.settings = settings
        self.max_request_bytes = max_request_bytes
        headers = {
            "content-type": "application/x-protobuf",
            "user-agent": f"berrys-monitoring/{__version__}",
            **settings.headers,
        }
        if settings.compression != "none":
            headers["content-encoding"] = settings.compression
        self._client = httpx.Client(
            headers=headers, timeout=settings.timeout_s, verify=_tls(settings)
        )
        self._stopped = threading.Event()
        self._retry_logged = False
        self._suppress = _instrumentation_switch()
        logging.getLogger("httpx").addFilter(_OWN_REQUESTS)  # once: the same object
        # Imported now, not in the first export's answer.
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        self._response_type = ExportTraceServiceResponse

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        if self._stopped.is_set():
            return SpanExportResult.FAILURE
        if not spans:
            return SpanExportResult.SUCCESS
        # Our own requests must not be traced by an httpx instrumentation (each export
        # would make spans to export), nor logged by httpx.
        with self._suppress(), _unlogged():
            return self._export(spans)

    def _export(self, spans: Sequence[Any]) -> SpanExportResult:
        deadline = time.monotonic() + self.settings.timeout_s
        prepared = [s for s in spans if type(s) is bytes]
        plain = [s for s in spans if type(s) is not bytes] if len(prepared) < len(spans) else []
        ok = True
        if prepared:
            ok = self._send_prepared(prepared, deadline)
        if plain:
            ok = self._send_plain(plain, deadline) and ok
        return SpanExportResult.SUCCESS if ok else SpanExportResult.FAILURE

    def _send_prepared(self, items: list[bytes], deadline: float) -> bool:
        body = encode_prepared(items)
        if len(body) > self.max_request_bytes > 0:
            return self._split(items, len(body), deadline, self._send_prepared)
        return self._post(body, deadline)

    def _send_plain(self, spans: list[Any], deadline: float) -> bool:
        try:
            body = encode_request(spans)
        except Exception as exc:  # a value our encoder does not know: the official one
            report_internal_error(COMPONENT, exc, "direct OTLP encoding failed", key="encode")
            from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

            body = encode_spans(spans).SerializeToString()
        if len(body) > self.max_request_bytes > 0:
            return self._split(spans, len(body), deadline, self._send_plain)
        return self._post(body, deadline)

    def _split(self, items: list[Any], size: int, deadline: float, send: Any) -> bool:
        if len(items) == 1:
            report_internal_error(
                COMPONENT,
                message=f"a span of {size} bytes exceeds the OTLP request size limit "
                f"({self.max_request_bytes} bytes); it is dropped",
                key="oversize",
            )
            return False
        half = len(items) // 2  # too big as one request: two halves rather than a drop
        first = send(items[:half], deadline)
        return bool(send(items[half:], deadline)) and bool(first)

    def _post(self, body: bytes, deadline: float) -> bool:
        comp = self.settings.compression
        if comp == "gzip":
            body = gzip.compress(body, compresslevel=6)
        elif comp == "deflate":
            body = zlib.compress(body)
        attempt = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._stopped.is_set():
                return False
            wait: float | None
            try:
                response = self._client.post(self.settings.url, content=body, timeout=remaining)
            except httpx.TransportError as exc:
                what = f"{type(exc).__name__}: {exc}"
                wait = backoff(attempt)
            else:
                status = response.status_code
                if 200 <= status < 300:
                    self._partial_success(response.content)
                    return True
                what = f"HTTP {status}"
                if status not in RETRYABLE:
                    report_internal_error(
                        COMPONENT,
                        message=f"the collector at {self.settings.url} refused spans "
                        f"({what}: {response.text[:200]!r})",
                        key=f"refused-{status}",
                    )
                    return False
                asked = retry_after(response.headers.get("retry-after"))
                wait = asked if asked is not None else backoff(attempt)
            if time.monotonic() + wait >= deadline:
                return False  # the next try would start after the export's timeout
            self._note_retry(what, wait)
            attempt += 1
            if self._stopped.wait(wait):
                return False

    def _note_retry(self, what: str, wait: float) -> None:
        count_event(COMPONENT, "export_retries")
        if not self._retry_logged:
            self._retry_logged = True
            _log.warning(
                "berrys_monitoring tracing: cannot send spans to %s (%s); retrying in %.1fs "
                "(logged once; further retries are counted)",
                self.settings.url,
                what,
                wait,
            )

    def _partial_success(self, content: bytes) -> None:
        if not content:
            return
        try:
            answer = self._response_type.FromString(content)
        except Exception:  # not a protobuf answer (a proxy's text): nothing to learn
            return
        rejected = answer.partial_success.rejected_spans
        if rejected:
            count_event(COMPONENT, "spans_rejected", rejected)
            report_internal_error(
                COMPONENT,
                message=f"the collector at {self.settings.url} rejected {rejected} spans: "
                f"{answer.partial_success.error_message or 'no reason given'}",
                key="partial_success",
            )

    def shutdown(self) -> None:
        self._stopped.set()  # a retry waiting for its backoff gives up now
        self._client.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True  # nothing is buffered here: the processor holds the queue
