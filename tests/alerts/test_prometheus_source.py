"""Rules evaluated against a real Prometheus server scraping a real exporter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server
from tests.support.servers import free_port, require_binary, run_server, wait_for

from berrys_monitoring import internal_error_counts
from berrys_monitoring.alerts import (
    AlertManager,
    AlertRule,
    AlertState,
    PrometheusValueSource,
    RuleEvaluator,
    threshold_above,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def exporter() -> Iterator[tuple[int, Gauge, Counter]]:
    registry = CollectorRegistry()
    depth = Gauge("queue_depth", "jobs waiting", ["queue"], registry=registry)
    done = Counter("jobs_done", "jobs done", registry=registry)
    port = free_port()
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    yield port, depth, done
    server.shutdown()
    server.server_close()


@pytest.fixture
def prometheus(tmp_path: Path, exporter) -> Iterator[tuple[str, Gauge, Counter]]:
    binary = require_binary("prometheus", "apt-get install prometheus")
    target_port, depth, done = exporter
    config = tmp_path / "prometheus.yml"
    config.write_text(
        f"""
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: app
    static_configs:
      - targets: ["127.0.0.1:{target_port}"]
"""
    )
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'tsdb'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with run_server(cmd, ready_url=f"{url}/-/ready", timeout=60):
        wait_for(lambda: httpx.get(f"{url}/-/ready").status_code == 200, timeout=30)
        yield url, depth, done


def test_rules_fire_and_resolve_on_values_scraped_by_prometheus(prometheus) -> None:
    url, depth, done = prometheus
    source = PrometheusValueSource(url)
    depth.labels(queue="mail").set(150)
    depth.labels(queue="sms").set(3)
    done.inc(7)
    wait_for(lambda: source("queue_depth", {"queue": "mail"}) == 150, what="first scrape")

    m = AlertManager()
    backlog = AlertRule(
        "backlog", "queue_depth", threshold_above(100), "Backlog", "{value:g} waiting",
        "error", {"queue": "mail"}, cooldown_period=0, tags={"queue": "mail"}, manager=m,
    )  # fmt: skip
    total = AlertRule(
        "all_queues", "queue_depth", threshold_above(152), "Total backlog", "{value:g}",
        cooldown_period=0, manager=m,
    )  # fmt: skip
    expr = AlertRule(
        "done", "sum(jobs_done_total) * 2", threshold_above(10), "Many done", "{value:g}",
        cooldown_period=0, manager=m,
    )  # fmt: skip
    missing = AlertRule("ghost", "no_such_metric", threshold_above(0), "Ghost", "x", manager=m)
    ev = RuleEvaluator([backlog, total, expr, missing], value_source=source)
    fired = ev.evaluate_once()
    assert m.get(fired["backlog"] or "").message == "150 waiting"  # type: ignore[union-attr]
    assert m.get(fired["all_queues"] or "").message == "153"  # type: ignore[union-attr]
    assert m.get(fired["done"] or "").message == "14"  # type: ignore[union-attr]
    assert fired["ghost"] is None
    assert internal_error_counts() == {}

    depth.labels(queue="mail").set(10)
    wait_for(lambda: source("queue_depth", {"queue": "mail"}) == 10, what="next scrape")
    ev.evaluate_once()
    alert = m.get(fired["backlog"] or "")
    assert alert is not None and alert.state is AlertState.RESOLVED
    m.shutdown(1)


def test_query_building_and_errors(prometheus, monkeypatch: pytest.MonkeyPatch) -> None:
    url, depth, _ = prometheus
    source = PrometheusValueSource(url)
    assert source.query_for("up", None) == "sum(up)"
    assert source.query_for("up", {"job": 'a"b'}) == 'sum(up{job="a\\"b"})'
    assert source.query_for("rate(x[5m])", None) == "rate(x[5m])"
    with pytest.raises(ValueError, match="tags apply"):
        source.query_for("rate(x[5m])", {"a": "b"})
    depth.labels(queue="a").set(1)
    depth.labels(queue="b").set(2)
    wait_for(lambda: source("count(queue_depth)") >= 2, what="two series")
    with pytest.raises(ValueError, match="series; aggregate it"):
        source("queue_depth > 0")  # an expression: not summed for us
    with pytest.raises(ValueError, match="failed"):
        source("sum(")
    dead = PrometheusValueSource(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ConnectionError, match="unreachable"):
        dead("up")
    # In the evaluator, a dead Prometheus is logged once and counted, never raised.
    monkeypatch.setenv("BERRYS_MONITORING_STRICT", "0")
    rule = AlertRule("r", "up", threshold_above(0), "T", "m", manager=AlertManager())
    assert RuleEvaluator([rule], value_source=dead).evaluate_once() == {"r": None}
    assert internal_error_counts()["alerts"] == 1
