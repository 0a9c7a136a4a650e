"""``berrys-monitoring hub``: run the telemetry hub. Heavy imports wait for ``run``."""

from __future__ import annotations

import argparse
import logging
import sys

from berrys_monitoring.hub.config import ENV_TOKEN, ConfigError, HubConfig

__all__ = ["configure_parser", "run"]


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Every flag defaults to ``None``, so that only the given ones override the file."""
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="HTTP port: OTLP, API, /metrics (default 4318)")
    parser.add_argument("--grpc-port", type=int, help="OTLP/gRPC port; 0: off (default 4317)")
    parser.add_argument("--data-dir", help="where the store lives (default: the user data dir)")
    parser.add_argument("--config", help="YAML file with any of these settings")
    parser.add_argument(
        "--token", help=f"require 'Authorization: Bearer TOKEN' (or set {ENV_TOKEN})"
    )
    parser.add_argument("--retention", help="keep data this long, e.g. 7d (default 7d)")
    parser.add_argument("--max-size", help="store size cap, e.g. 2GB (default 2GB)")
    parser.add_argument(
        "--max-body-size", help="OTLP request limit after decompression (default 16MiB)"
    )
    parser.add_argument(
        "--scrape-interval",
        help="scrape and probe the registered targets this often, e.g. 15s; 0: off (default 15s)",
    )
    parser.add_argument(
        "--prometheus-url",
        help="answer metric queries from this Prometheus-compatible API (scraping left to it)",
    )
    parser.add_argument("--log-level", choices=["debug", "info", "warning", "error"])


def run(args: argparse.Namespace) -> int:
    """Start the hub; 0 after a clean shutdown, 2 for a configuration error."""
    try:
        config = HubConfig.from_sources(
            config_file=args.config,
            overrides={
                "host": args.host,
                "port": args.port,
                "grpc_port": args.grpc_port,
                "data_dir": args.data_dir,
                "token": args.token,
                "retention": args.retention,
                "max_size": args.max_size,
                "max_body_size": args.max_body_size,
                "log_level": args.log_level,
                "scrape_interval": args.scrape_interval,
                "prometheus_url": args.prometheus_url,
            },
        )
        config.check_safe()
    except ConfigError as exc:
        print(f"berrys-monitoring hub: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from berrys_monitoring.hub._app import Hub

    Hub(config).run()
    return 0
