"""A small FastAPI service for the dashboard's browser tests, reporting to a real hub with
``setup_monitoring(app, hub_url=...)``: spans and logs over OTLP, metrics and health by
the hub's scrape. Run: ``python -m tests.web._service NAME PORT HUB_URL``."""

from __future__ import annotations

import asyncio
import logging
import sys

import uvicorn
from fastapi import FastAPI, HTTPException

from berrys_monitoring.middleware.fastapi import setup_monitoring


def build(name: str, port: int, hub_url: str) -> FastAPI:
    app = FastAPI()
    setup_monitoring(
        app, service_name=name, hub_url=hub_url, service_url=f"http://127.0.0.1:{port}"
    )
    log = logging.getLogger(f"{name}.handlers")

    @app.get("/ok")
    async def ok() -> dict[str, str]:
        log.info("served ok")
        return {"status": "ok"}

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(0.2)
        return {"status": "slow"}

    @app.get("/fail")
    async def fail() -> dict[str, str]:
        log.error("payment backend refused the card", extra={"order_id": "o-42"})
        raise HTTPException(500, "failed")

    @app.get("/say")
    async def say(msg: str) -> dict[str, str]:
        log.warning(msg)
        return {"said": msg}

    return app


if __name__ == "__main__":
    service, port_s, hub = sys.argv[1], sys.argv[2], sys.argv[3]
    # log_config=None: uvicorn's dictConfig would close the OTLP log handler setup_monitoring added.
    app = build(service, int(port_s), hub)
    uvicorn.run(app, host="127.0.0.1", port=int(port_s), log_config=None, access_log=False)
