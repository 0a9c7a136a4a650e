"""The WSGI middleware: sees the status through ``start_response`` and times the body
to its end (``close()``), so streamed responses are measured whole."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from berrys_monitoring.middleware._core import UNMATCHED_ROUTE, Observer, RequestState
from berrys_monitoring.middleware._endpoints import (
    Answer,
    health_answer,
    method_not_allowed,
    metrics_answer,
)

__all__ = ["ROUTE_KEY", "STATE_KEY", "MonitoringWSGIMiddleware"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: environ keys the framework integration fills in (route template, the request's state, and
#: whether the response body is generated while the server sends it).
ROUTE_KEY = "berrys_monitoring.route"
STATE_KEY = "berrys_monitoring.state"
STREAMED_KEY = "berrys_monitoring.streamed"


class _Body:
    """Passes the response body through; finishing happens when the server closes it."""

    __slots__ = ("_body", "_done", "_environ", "_observer", "_st")

    def __init__(
        self, body: Iterable[bytes], st: RequestState, observer: Observer, environ: dict[str, Any]
    ) -> None:
        self._body = body
        self._st = st
        self._observer = observer
        self._environ = environ
        self._done = False

    def __iter__(self) -> Iterator[bytes]:
        st = self._st
        self._observer.resume(st)
        try:
            for chunk in self._body:
                st.response_bytes += len(chunk)
                yield chunk
        except Exception as exc:
            st.exc = exc
            raise
        else:
            # The last byte is out: that is the end of the request, even if the server
            # (or a test client) closes the iterable much later.
            self._finish()
        finally:
            if not self._done:
                self._observer.suspend(st)

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish()

    def _finish(self) -> None:
        if not self._done:
            self._done = True
            self._st.response_done()
            self._observer.finish(self._st, self._environ.get(ROUTE_KEY, UNMATCHED_ROUTE))


class _CountingInput:
    """``wsgi.input``, adding the bytes the app reads to the request's size."""

    __slots__ = ("_st", "_stream")

    def __init__(self, stream: Any, st: RequestState) -> None:
        self._stream = stream
        self._st = st

    def read(self, *args: Any) -> bytes:
        data: bytes = self._stream.read(*args)
        self._st.request_bytes += len(data)
        return data

    def readinto(self, buffer: Any) -> int | None:
        n: int | None = self._stream.readinto(buffer)
        if n:
            self._st.request_bytes += n
        return n

    def readline(self, *args: Any) -> bytes:
        data: bytes = self._stream.readline(*args)
        self._st.request_bytes += len(data)
        return data

    def readlines(self, *args: Any) -> list[bytes]:
        lines: list[bytes] = self._stream.readlines(*args)
        self._st.request_bytes += sum(map(len, lines))
        return lines

    def __iter__(self) -> Any:
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:  # close(), a server's own extras
        return getattr(self._stream, name)


class _Exchange(RequestState):
    """One request's state, and the ``start_response`` the app gets (wrapping the
    server's): one object per request in flight instead of a closure, its cells and a
    header list."""

    __slots__ = ("_id_header", "_start_response")

    def __init__(self, start_response: Callable[..., Any], id_header: str) -> None:
        RequestState.__init__(self)
        self._start_response = start_response
        self._id_header = id_header

    def __call__(self, status: str, headers: list[Any], exc_info: Any = None) -> Any:
        try:
            self.status = int(status[:3])
        except ValueError:
            self.status = 500
        for name, value in headers:
            if name == "Content-Length" or name.lower() == "content-length":
                try:
                    self.response_bytes = int(value)
                except ValueError:
                    pass
                break
        headers.append((self._id_header, self.request_id))
        if self.trace_header is not None:
            headers.append(("X-Trace-Id", self.trace_header))
        return self._start_response(status, headers, exc_info)


class MonitoringWSGIMiddleware:
    """Observe every request of a WSGI app; answer the health and metrics endpoints.

    Installed by :func:`berrys_monitoring.middleware.flask.setup_monitoring` around
    ``app.wsgi_app``; a wrapper of Flask's ``full_dispatch_request`` tells it the matched
    route template.

    Example::

        from flask import Flask
        from berrys_monitoring.middleware.flask import MonitoringWSGIMiddleware, setup_monitoring

        app = Flask(__name__)
        setup_monitoring(app, service_name="users")
        assert isinstance(app.wsgi_app, MonitoringWSGIMiddleware)
    """

    def __init__(self, app: WSGIApp, holder: Any) -> None:
        self.app = app
        self.holder = holder

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        observer: Observer = self.holder.observer
        opts = observer.opts
        if observer.hub is not None and observer.hub.needs_url:
            observer.hub.learn(
                environ.get("SERVER_NAME"),
                environ.get("SERVER_PORT"),
                environ.get("wsgi.url_scheme", "http"),
            )
        path: str = environ.get("PATH_INFO") or "/"
        kind = opts.endpoints.get(path)
        if kind is not None:
            return self._endpoint(kind, environ, start_response)
        if opts.is_excluded(path):
            return self.app(environ, start_response)

        get = environ.get
        carrier = None
        traceparent = get("HTTP_TRACEPARENT")
        if traceparent is not None:
            carrier = {"traceparent": traceparent}
            for key, name in (("HTTP_TRACESTATE", "tracestate"), ("HTTP_BAGGAGE", "baggage")):
                value = get(key)
                if value is not None:
                    carrier[name] = value
        protocol = get("SERVER_PROTOCOL", "")
        st = _Exchange(start_response, opts.request_id_header)
        observer.start(
            st,
            environ.get("REQUEST_METHOD", "GET"),
            path,
            get("wsgi.url_scheme", "http"),
            get("REMOTE_ADDR"),
            get(self._rid_key(opts.request_id_header)),
            0,
            carrier,
            get("HTTP_HOST"),
            get("HTTP_USER_AGENT"),
            protocol[5:] if protocol.startswith("HTTP/") else None,
        )
        environ[STATE_KEY] = st
        if get("CONTENT_LENGTH") or get("HTTP_TRANSFER_ENCODING"):
            # The size is what the app reads, never what Content-Length declares.
            stream = get("wsgi.input")
            if stream is not None:
                environ["wsgi.input"] = _CountingInput(stream, st)
        try:
            body = self.app(environ, st)
        except BaseException as exc:
            # Only reached when the framework propagates (Flask testing/debug mode).
            if isinstance(exc, Exception):
                st.exc = exc
            if not st.status:
                st.status = 500
            observer.finish(st, environ.get(ROUTE_KEY, UNMATCHED_ROUTE))
            raise
        if environ.get(STREAMED_KEY, not isinstance(body, (list, tuple))):
            # Generated while sent: count the bytes and finish when the body ends; the
            # context comes back only while the body is being generated.
            st.response_bytes = 0
            observer.suspend(st)
            return _Body(body, st, observer, environ)
        # Already rendered (the common case): finish now, hand the body over untouched.
        st.response_done()
        observer.finish(st, environ.get(ROUTE_KEY, UNMATCHED_ROUTE))
        return body

    _rid_cache: dict[str, str] = {}

    @classmethod
    def _rid_key(cls, header: str) -> str:
        key = cls._rid_cache.get(header)
        if key is None:
            key = "HTTP_" + header.upper().replace("-", "_")
            cls._rid_cache[header] = key
        return key

    def _endpoint(
        self, kind: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        opts = self.holder.observer.opts
        method = environ.get("REQUEST_METHOD", "GET")
        answer: Answer
        if method not in ("GET", "HEAD"):
            answer = method_not_allowed()
        elif kind == "metrics":
            answer = metrics_answer(
                opts, environ.get("HTTP_ACCEPT"), environ.get("HTTP_AUTHORIZATION")
            )
        else:
            answer = health_answer(opts, kind, environ.get("HTTP_AUTHORIZATION"))
        status, headers, body = answer
        phrase = _PHRASES.get(status, "")
        start_response(f"{status} {phrase}", [*headers, ("Content-Length", str(len(body)))])
        return [] if method == "HEAD" else [body]


_PHRASES = {
    200: "OK",
    401: "Unauthorized",
    405: "Method Not Allowed",
    500: "Internal Server Error",
    503: "Service Unavailable",
}
