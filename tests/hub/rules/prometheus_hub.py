"""``python -m tests.hub.rules.prometheus_hub PROMETHEUS_URL CONFIG``: the hub as a real
process whose query backend is a real Prometheus, for the restart tests, until the hub's
own ``--prometheus-url`` lands (contract 1's RemoteBackend)."""

from __future__ import annotations

import logging
import sys

import uvicorn
from tests.hub.rules.conftest import PrometheusBackend

from berrys_monitoring.hub import HubConfig, create_app


def main() -> None:
    prometheus_url, config_file = sys.argv[1:3]
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = HubConfig.from_sources(config_file=config_file)
    app = create_app(config)
    app.state.query_backend = PrometheusBackend(prometheus_url)
    server = uvicorn.Server(
        uvicorn.Config(
            app, host=config.host, port=config.port, log_config=None, timeout_graceful_shutdown=10
        )
    )
    server.run()


if __name__ == "__main__":
    main()
