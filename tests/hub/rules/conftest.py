"""Real servers for the rule lifecycle tests: a small service whose metric the test sets,
a real Prometheus scraping it every second (the hub's ``prometheus_url``, so the rules run
through the remote backend against the reference), webhook receivers, and hubs with timers
shrunk to seconds."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response
from tests.support.servers import free_port, require_binary, run_server, uvicorn_in_thread

from berrys_monitoring.hub import HubConfig, create_app


@dataclass
class Service:
    """``demo_value{case=...}`` gauges the test sets; absent until set."""

    values: dict[str, float] = field(default_factory=dict)
    port: int = 0

    def exposition(self) -> str:
        lines = ["# TYPE demo_value gauge"]
        lines += [f'demo_value{{case="{c}"}} {v}' for c, v in sorted(self.values.items())]
        return "\n".join(lines) + "\n"


@pytest.fixture(scope="package")
def service() -> Iterator[Service]:
    svc = Service()
    app = FastAPI()

    @app.get("/metrics")
    async def metrics() -> Response:
        return PlainTextResponse(svc.exposition())

    with uvicorn_in_thread(app, log_config=None) as port:
        svc.port = port
        yield svc


@pytest.fixture(scope="package")
def prometheus(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = require_binary("prometheus", "apt-get install prometheus")
    tmp = tmp_path_factory.mktemp("prometheus")
    config = tmp / "prometheus.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "scrape_configs": [
                    {
                        "job_name": "demo",
                        "static_configs": [{"targets": [f"127.0.0.1:{service.port}"]}],
                    }
                ],
            }
        )
    )
    port = free_port()
    cmd = [
        binary, f"--config.file={config}", f"--storage.tsdb.path={tmp / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]  # fmt: skip
    with run_server(cmd, ready_url=f"http://127.0.0.1:{port}/-/ready", timeout=60):
        yield f"http://127.0.0.1:{port}"


@dataclass
class Inbox:
    """A webhook receiver: what it was sent; it answers 500 to its first ``fail`` calls."""

    fail: int = 0
    attempts: int = 0
    received: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def alerts(self, status: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                a
                for m in self.received
                for a in m["alerts"]
                if status is None or a["status"] == status
            ]


@contextlib.contextmanager
def webhook(fail: int = 0) -> Iterator[Inbox]:
    inbox = Inbox(fail=fail)
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        body = await request.json()
        with inbox.lock:
            inbox.attempts += 1
            if inbox.attempts <= inbox.fail:
                return Response(status_code=500)
            inbox.received.append(body)
        return Response(status_code=200)

    with uvicorn_in_thread(app, log_config=None) as port:
        inbox.url = f"http://127.0.0.1:{port}/hook"
        yield inbox


def _expr(cases: str, window: str | None, over: str) -> str:
    selector = f'demo_value{{case=~"{cases}"}}'
    return f"{over}({selector}[{window}])" if window else selector


def rules_file(
    path: Path,
    *,
    cases: str,
    for_s: str = "3s",
    keep: str = "0s",
    window: str | None = "5s",
    over: str = "max_over_time",
) -> Path:
    """Three rules over ``demo_value``: a warning and a critical on the same case (for
    inhibition), ``for`` and ``keep_firing_for`` as given. The alerts look at the last 5 s,
    (``window``), so one scrape missed on a busy machine does not end them (which is right, and would
    send a resolved message the test does not expect); ``cases`` (a regex of the ``case``
    label) keeps each test to its own series; ``window=None`` takes the latest sample
    (Prometheus' 5-minute lookback), which bridges a hub restart's gap but not a failed
    scrape (its stale marker ends the series at once); ``over="last_over_time"`` with a long
    ``window`` bridges both, and then only a value of 0 resolves the alert."""
    path.write_text(
        yaml.safe_dump(
            {
                "groups": [
                    {
                        "name": "demo",
                        "interval": "1s",
                        "rules": [
                            {
                                "alert": "DemoHigh",
                                "expr": _expr(cases, window, over) + " > 0",
                                "for": for_s,
                                "keep_firing_for": keep,
                                "labels": {"severity": "warning"},
                                "annotations": {
                                    "summary": "{{ $labels.case }} is {{ $value | humanize }}"
                                },
                            },
                            {
                                "alert": "DemoCritical",
                                "expr": _expr(cases, window, over) + " > 100",
                                "for": "0s",
                                "labels": {"severity": "critical"},
                            },
                            {"record": "demo:value:doubled", "expr": "demo_value * 2"},
                        ],
                    }
                ]
            },
            sort_keys=False,
        )
    )
    return path


def alerting(url: str, **route: Any) -> dict[str, Any]:
    return {
        "route": {
            "receiver": "hook",
            "group_by": ["alertname"],
            "group_wait": "1s",
            "group_interval": "2s",
            "repeat_interval": "1h",
            **route,
        },
        "receivers": [{"name": "hook", "webhook_configs": [{"url": url}]}],
        "inhibit_rules": [
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="warning"'],
                "equal": ["case"],
            }
        ],
    }


@dataclass
class InProcessHub:
    url: str
    app: Any

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30.0)


@contextlib.contextmanager
def hub_in_thread(
    data_dir: Path, prometheus_url: str, *, rule_files: list[str], alerting_config: dict[str, Any]
) -> Iterator[InProcessHub]:
    """The hub's app served by a real uvicorn on a thread, querying the real Prometheus."""
    config = HubConfig(
        data_dir=data_dir,
        grpc_port=0,
        scrape_interval=0,
        rule_files=rule_files,
        alerting=alerting_config,
        prometheus_url=prometheus_url,
    )
    app = create_app(config)
    with uvicorn_in_thread(app, log_config=None) as port:
        yield InProcessHub(f"http://127.0.0.1:{port}", app)
