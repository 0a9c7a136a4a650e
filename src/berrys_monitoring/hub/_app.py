"""The hub's ASGI application and its server: ``create_app(config)`` and ``Hub(...).run()``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from berrys_monitoring._version import __version__
from berrys_monitoring.hub._alertsapi import install_rules
from berrys_monitoring.hub._auth import AuthMiddleware
from berrys_monitoring.hub._promapi import build_promapi_router
from berrys_monitoring.hub._retention import RetentionWorker
from berrys_monitoring.hub._selfmetrics import HubMetrics
from berrys_monitoring.hub.api import build_router
from berrys_monitoring.hub.config import HubConfig
from berrys_monitoring.hub.dashboards._api import build_dashboards_router
from berrys_monitoring.hub.ingest._receiver import OtlpReceiver
from berrys_monitoring.hub.ingest._scrape import Scraper
from berrys_monitoring.hub.promql import Engine
from berrys_monitoring.hub.promql._backend import QueryBackend
from berrys_monitoring.hub.store import SQLiteStore, Store, TargetRow
from berrys_monitoring.hub.web import SecurityHeadersMiddleware, SessionSigner, build_web_router
from berrys_monitoring.hub.web._login import build_login_router

__all__ = ["Hub", "create_app"]

log = logging.getLogger("berrys_monitoring.hub")


def _error(status: int, message: str, detail: Any = None) -> Response:
    body: dict[str, Any] = {"error": message}
    if detail is not None:
        body["detail"] = detail
    return Response(orjson.dumps(body), status, media_type="application/json")


def _validation_message(exc: RequestValidationError) -> tuple[str, Any]:
    parts = []
    detail = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
        msg = str(err.get("msg", "invalid"))
        if err.get("type") == "extra_forbidden":
            msg = "unknown parameter"
        parts.append(f"{loc}: {msg}" if loc else msg)
        detail.append({"loc": [str(p) for p in err.get("loc", ())], "msg": msg})
    return "; ".join(parts) or "invalid request", detail


def create_app(config: HubConfig | None = None, *, store: Store | None = None) -> FastAPI:
    """The hub as an ASGI app. It opens the store in ``config.data_dir`` (unless ``store``
    is given) and closes it when the app's lifespan ends.

    Example::

        >>> import tempfile
        >>> from berrys_monitoring.hub import HubConfig, create_app
        >>> app = create_app(HubConfig(data_dir=tempfile.mkdtemp()))
        >>> sorted(p for p in app.openapi()["paths"] if p.startswith("/v1/"))
        ['/v1/logs', '/v1/metrics', '/v1/traces']
    """
    config = config or HubConfig()
    owned = store is None
    the_store: Store = (
        SQLiteStore(config.data_path, queue_size=config.queue_size) if store is None else store
    )
    metrics = HubMetrics(
        store_size=lambda: float(the_store.size_bytes()),
        store_used=lambda: float(the_store.used_bytes()),
        queue_depth=lambda: float(the_store.queue_depth()),
        pending=lambda: float(the_store.pending_batches()),
    )
    receiver = OtlpReceiver(the_store, metrics, max_body_bytes=config.max_body_bytes)
    retention = RetentionWorker(
        the_store,
        max_age_s=config.retention_seconds,
        max_bytes=config.max_size_bytes,
        interval_s=float(config.retention_interval),
    )

    scraper = Scraper(
        the_store,
        interval_s=float(config.scrape_interval),
        intervals=config.scrape_intervals,
        timeouts=config.scrape_timeouts,
    )
    grpc_receiver: Any = None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal grpc_receiver
        if config.grpc_port is not None:
            from berrys_monitoring.hub.ingest._grpc import GrpcReceiver

            grpc_receiver = GrpcReceiver(
                the_store,
                metrics,
                receiver.metric_mapper,
                max_message_bytes=config.max_body_bytes,
                token=config.token,
            )
            bound = grpc_receiver.start(config.host, config.grpc_port)
            log.info("OTLP/gRPC on %s:%d", config.host, bound)
        for t in config.scrape_targets:  # the config file's scrape_configs
            labels = orjson.dumps(t["labels"], option=orjson.OPT_SORT_KEYS).decode()
            row = TargetRow(
                t["url"], t["job"], t["metrics_path"], t["health_path"], labels, "config"
            )
            the_store.put_target(row).result(timeout=60)
        retention.start()
        if float(config.scrape_interval) > 0 and config.prometheus_url is None:
            scraper.start()  # with a remote Prometheus, scraping is left to it
        stop_rules = start_rules()
        yield
        stop_rules()
        scraper.stop()
        if grpc_receiver is not None:
            grpc_receiver.stop()
        retention.stop()
        if owned:
            log.info("flushing and closing the store")
            the_store.close()

    app = FastAPI(
        title="berrys-monitoring hub",
        version=__version__,
        description="OTLP ingest, an embedded store and a JSON query API.",
        lifespan=lifespan,
    )
    app.state.store = the_store
    app.state.metrics = metrics
    app.state.retention = retention
    app.state.scraper = scraper

    @app.exception_handler(RequestValidationError)
    async def _bad_request(request: Request, exc: RequestValidationError) -> Response:
        message, detail = _validation_message(exc)
        return _error(400, message, detail)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(exc.status_code, str(exc.detail))

    for signal in ("traces", "logs", "metrics"):

        async def export(request: Request, _signal: str = signal) -> Response:
            return await receiver.handle(request, _signal)

        app.add_api_route(
            f"/v1/{signal}",
            export,
            methods=["POST"],
            tags=["OTLP ingest"],
            summary=f"OTLP/HTTP {signal} (protobuf or JSON, gzip)",
            name=f"otlp_{signal}",
        )

    @app.post(
        "/api/v2/alerts",
        tags=["alerts"],
        summary="Alertmanager v2: push alerts (Prometheus' alerting, any Alertmanager client)",
    )
    async def post_alerts(request: Request) -> Response:
        return await receiver.handle_alerts(request)

    @app.get("/health", tags=["hub"], summary="the hub's own health (open without a token)")
    async def health() -> Response:
        writing = the_store.writer_alive()
        body = {
            "status": "pass" if writing else "fail",
            "version": __version__,
            "checks": {
                "store:writer": [{"status": "pass" if writing else "fail"}],
                "ingest:queue": [
                    {
                        "status": "pass",
                        "observedValue": the_store.queue_depth(),
                        "observedUnit": "batches",
                    }
                ],
            },
        }
        return Response(
            orjson.dumps(body), 200 if writing else 503, media_type="application/health+json"
        )

    @app.get("/metrics", tags=["hub"], summary="the hub's own metrics, Prometheus text")
    async def own_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    app.include_router(
        build_router(
            the_store,
            target_state=scraper.state,
            query_backend=lambda: getattr(app.state, "query_backend", None),
        )
    )
    app.include_router(build_dashboards_router(the_store))
    start_rules = install_rules(app, config, the_store)  # rules, routing, the alerts API
    # -- the Prometheus query API (promapi) --
    app.state.query_backend = _query_backend(config, the_store)
    app.include_router(
        build_promapi_router(
            lambda: app.state.query_backend,
            metadata=lambda: {**receiver.metric_mapper.metadata, **scraper.metadata},
        )
    )
    # The web dashboard: its pages, assets, login; auth (token or session + CSRF) and headers.
    signer = SessionSigner(config.token) if config.token else None
    app.include_router(build_web_router())
    app.include_router(build_login_router(signer))
    app.add_middleware(AuthMiddleware, token=config.token, signer=signer)
    app.add_middleware(SecurityHeadersMiddleware)
    return app


def _query_backend(config: HubConfig, store: Store) -> QueryBackend:
    """The hub's metric query backend: its own store, or a remote Prometheus."""
    if config.prometheus_url is not None:
        from berrys_monitoring.hub.promql._remote import RemoteBackend

        return RemoteBackend(config.prometheus_url, headers=config.prometheus_headers)
    return Engine(store)


class Hub:
    """The hub server: ``Hub(data_dir=...).run()`` serves until SIGTERM or SIGINT, then
    stops accepting, lets in-flight requests finish, flushes the writer and closes the store.

    Example::

        >>> hub = Hub(port=4318, data_dir="/tmp/hub")
        >>> hub.config.port
        4318
    """

    def __init__(self, config: HubConfig | None = None, **settings: Any) -> None:
        self.config = config if config is not None else HubConfig(**settings)

    def run(self) -> None:
        import uvicorn

        self.config.check_safe()
        app = create_app(self.config)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                host=self.config.host,
                port=self.config.port,
                log_level=self.config.log_level,
                access_log=False,
                timeout_graceful_shutdown=10,
                server_header=False,
            )
        )
        log.info(
            "berrys-monitoring hub on http://%s:%d, data in %s%s",
            self.config.host,
            self.config.port,
            self.config.data_path,
            ", token required" if self.config.token else "",
        )
        server.run()
