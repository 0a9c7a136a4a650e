"""The pure ASGI middleware: wraps ``send`` to see the status, never buffers a body."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable
from time import perf_counter
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from typing_extensions import Unpack

from berrys_monitoring._compat.asyncio import mark_coroutine_function
from berrys_monitoring._internal import report_internal_error
from berrys_monitoring._shutdown import flush_telemetry
from berrys_monitoring.middleware._core import UNMATCHED_ROUTE, Observer, RequestState
from berrys_monitoring.middleware._endpoints import (
    Answer,
    health_answer_async,
    method_not_allowed,
    metrics_answer,
)
from berrys_monitoring.middleware._options import HEADER_AGENT as _AGENT
from berrys_monitoring.middleware._options import HEADER_HOST as _HOST
from berrys_monitoring.middleware._options import HEADER_LENGTH as _LENGTH
from berrys_monitoring.middleware._options import HEADER_REQUEST_ID as _REQUEST_ID
from berrys_monitoring.middleware._options import SetupOptions
from berrys_monitoring.middleware._step_outside import step_back, step_outside, uvicorn_send

__all__ = ["MonitoringMiddleware", "route_template"]


def route_template(scope: Scope, root_path: str) -> str:
    """The template of the route Starlette matched (``/users/{user_id}``), mounts included.

    Starlette's router records the matched route in ``scope["route"]`` and extends
    ``root_path`` for every mount it enters; the difference to the ``root_path`` we saw
    on the way in is the mount prefix.
    """
    route = scope.get("route")
    if route is None:
        return UNMATCHED_ROUTE
    prefix = scope.get("root_path", "")[len(root_path) :]
    if not prefix:
        # No mount on the way: the route's own template, worked out once per route.
        # Keyed by id (routes may define __eq__ and be unhashable) next to a weak
        # reference: the entry never keeps a route (and through it an app) alive, and
        # goes when the route does, before its id can be reused.
        key = id(route)
        hit = _TEMPLATES.get(key)
        if hit is not None and hit[0]() is route:
            return hit[1]
        template = _template(route, "")
        if len(_TEMPLATES) >= _TEMPLATES_MAX:
            _TEMPLATES.clear()
        try:
            ref = weakref.ref(route, lambda _gone: _TEMPLATES.pop(key, None))
        except TypeError:  # a route class without weak references: not cached
            return template
        _TEMPLATES[key] = (ref, template)
        return template
    return _template(route, prefix)


def _template(route: Any, prefix: str) -> str:
    mounted = _MOUNT_TYPES.get(type(route))
    if mounted is None:
        mounted = _MOUNT_TYPES[type(route)] = (
            hasattr(route, "routes") or type(route).__name__ == "Mount"
        )
    if mounted:
        # A mounted app that is not a router (StaticFiles, a WSGI app): its own template.
        return prefix + "/{path:path}" if prefix else getattr(route, "path_format", "/")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str):
        return UNMATCHED_ROUTE
    return prefix + template if prefix else template


# Route classes -> whether they are mounts; asked once per class (``hasattr`` on a
# plain route raises and catches an AttributeError, a few µs per request).
_MOUNT_TYPES: dict[type, bool] = {}
# Route objects (an app's, so few and long-lived) -> their template outside any mount.
_TEMPLATES: dict[int, tuple[weakref.ref[Any], str]] = {}
_TEMPLATES_MAX = 4096


class _Exchange(RequestState):
    """One HTTP request's state, and the ``send`` the app gets (wrapping the server's).

    The state object is the wrapper itself, so a request in flight holds one object
    where a closure would hold a function, its cells and a header list: fewer tracked
    objects per request mean fewer garbage collections in a busy server.
    """

    __slots__ = ("_id_header", "_send")

    def __init__(self, send: Send, id_header: bytes) -> None:
        RequestState.__init__(self)
        self._send = send
        self._id_header = id_header

    def __call__(self, message: Message) -> Awaitable[None]:
        # A plain function handing back the server's own awaitable: the app awaits it
        # directly, one coroutine fewer per message than an ``async def`` wrapper.
        mtype = message["type"]
        if mtype == "http.response.body":
            body = message.get("body")
            if body:
                self.response_bytes += len(body)
            if not message.get("more_body", False):
                self.end = perf_counter()
                if (self.log_token is not None or self.ctx_token is not None) and uvicorn_send(
                    self._send
                ):
                    return self._send_last(message)
        elif mtype == "http.response.start":
            self.status = message["status"]
            headers = message.get("headers")
            if type(headers) is not list:
                headers = message["headers"] = list(headers or ())
            headers.append((self._id_header, self.request_id.encode("latin-1")))
            if self.trace_header is not None:
                headers.append((b"x-trace-id", self.trace_header.encode("latin-1")))
        return self._send(message)

    async def _send_last(self, message: Message) -> None:
        """Send the last body message to uvicorn with the request's context stepped out of.

        uvicorn schedules the connection's keep-alive timer while sending it, and a timer
        keeps a copy of the current context until it is cancelled *and* purged from the
        event loop's heap, a hundred requests later. Our span and logging fields in those
        copies outlived their requests by that much, so every request left about ten
        young objects behind: a gen-0 garbage collection every hundred requests and a
        full one every few seconds. Only when ``send`` is uvicorn's own (``uvicorn_send``):
        an outer middleware's ``send`` wrapper keeps seeing the request's context. Code
        that runs after the send (background tasks) finds the context exactly as it was.
        """
        try:
            outside = step_outside(self)
        except Exception as exc:  # never keep the answer from the client
            report_internal_error("middleware", exc, "cannot step out of the request context")
            await self._send(message)
            return
        try:
            await self._send(message)
        finally:
            try:
                step_back(outside)
            except Exception as exc:
                report_internal_error("middleware", exc, "cannot restore the request context")


# Code that asks whether ``send`` is a coroutine function (asgiref's async_to_sync, which
# warns otherwise) gets the answer an ``async def`` wrapper gave: calling it returns the
# server's awaitable, so awaiting it is the same.
mark_coroutine_function(_Exchange.__call__)


class _CountingReceive:
    """The app's ``receive``, adding the body bytes it hands over to the request's size."""

    __slots__ = ("_receive", "_st")

    def __init__(self, receive: Receive, st: RequestState) -> None:
        self._receive = receive
        self._st = st

    async def __call__(self) -> Message:
        message = await self._receive()
        body = message.get("body")
        if body:
            self._st.request_bytes += len(body)
        return message


def _flush_at_shutdown(send: Send) -> Send:
    """The lifespan ``send``, flushing queued telemetry once the app has shut down.

    The server exits right after this message, and not always through ``atexit``
    (uvicorn re-raises SIGTERM; its workers end with ``os._exit``): see ``_shutdown``.
    """

    async def lifespan_send(message: Message) -> None:
        if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
            await asyncio.get_running_loop().run_in_executor(None, flush_telemetry)
        await send(message)

    return lifespan_send


class MonitoringMiddleware:
    """Observe every HTTP request of an ASGI app; answer the health and metrics endpoints.

    Installed by :func:`berrys_monitoring.middleware.fastapi.setup_monitoring`; use it
    directly only for ASGI apps that are not Starlette/FastAPI (routes then count as
    ``<unmatched>``). Websocket traffic passes through untouched; at the lifespan's shutdown
    queued telemetry is flushed.

    Example::

        from berrys_monitoring.middleware.fastapi import MonitoringMiddleware

        async def app(scope, receive, send): ...
        app = MonitoringMiddleware(app, service_name="raw-asgi")
    """

    def __init__(
        self,
        app: ASGIApp,
        holder: Any = None,
        *,
        service_name: str | None = None,
        **options: Unpack[SetupOptions],
    ) -> None:
        if holder is None:
            if service_name is None:
                raise TypeError("MonitoringMiddleware needs service_name=... (or a holder)")
            from berrys_monitoring.middleware._setup import Holder, prepare

            holder = Holder(prepare(service_name, options))
        self.app = app
        self.holder = holder

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = _flush_at_shutdown(send)
            await self.app(scope, receive, send)
            return
        observer: Observer = self.holder.observer
        opts = observer.opts
        if observer.hub is not None and observer.hub.needs_url:
            server = scope.get("server") or (None, None)
            observer.hub.learn(server[0], server[1], scope.get("scheme", "http"))
        path: str = scope["path"]
        root_path = scope.get("root_path", "")
        # Under a root path (uvicorn --root-path, a mount) "path" includes it; our
        # endpoints and exclusions are relative to the app, like its routes.
        local = path[len(root_path) :] if root_path and path.startswith(root_path) else path
        kind = opts.endpoints.get(local)
        if kind is not None:
            await self._endpoint(kind, scope, send)
            return
        if opts.is_excluded(local):
            await self.app(scope, receive, send)
            return

        request_id = carrier = host = agent = None
        has_body = False
        wanted = opts.wanted_headers
        for name, value in scope["headers"]:
            what = wanted.get(name)
            if what is None:
                continue
            if what == _HOST:
                host = value.decode("latin-1")
            elif what == _REQUEST_ID:
                request_id = value.decode("latin-1")
            elif what == _LENGTH:
                has_body = True
            elif what == _AGENT:
                agent = value.decode("latin-1")
            else:
                if carrier is None:
                    carrier = {}
                carrier[name.decode("latin-1")] = value.decode("latin-1")
        client = scope.get("client")
        st = _Exchange(send, opts.request_id_header_lower)
        observer.start(
            st,
            scope["method"],
            path,
            scope.get("scheme", "http"),
            client[0] if client else None,
            request_id,
            0,
            carrier,
            host,
            agent,
            scope.get("http_version"),
        )
        if has_body:
            # The size is what arrives, never what Content-Length declares.
            receive = _CountingReceive(receive, st)
        try:
            await self.app(scope, receive, st)
        except Exception as exc:
            st.exc = exc
            if not st.status:
                st.status = 500
            raise
        except BaseException:
            # Cancelled: the client went away before an answer (nginx's 499).
            if not st.status:
                st.status = 499
            raise
        finally:
            try:
                route = route_template(scope, root_path)
            except Exception as exc:  # a route object of a shape we did not foresee
                report_internal_error("middleware", exc, "cannot read the route template")
                route = UNMATCHED_ROUTE
            observer.finish(st, route)

    async def _endpoint(self, kind: str, scope: Scope, send: Send) -> None:
        opts = self.holder.observer.opts
        method = scope["method"]
        answer: Answer
        if method not in ("GET", "HEAD"):
            answer = method_not_allowed()
        else:
            accept = authorization = None
            for name, value in scope["headers"]:
                if name == b"accept":
                    accept = value.decode("latin-1")
                elif name == b"authorization":
                    authorization = value.decode("latin-1")
            if kind == "metrics":
                # Off the event loop: a multi-worker exposition reads every worker's
                # files, and requests on this worker must not wait behind a scrape.
                answer = await asyncio.get_running_loop().run_in_executor(
                    None, metrics_answer, opts, accept, authorization
                )
            else:
                answer = await health_answer_async(opts, kind, authorization)
        status, headers, body = answer
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]
        raw.append((b"content-length", str(len(body)).encode("latin-1")))
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})
