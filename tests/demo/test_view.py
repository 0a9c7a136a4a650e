"""The live view and the plain summary show the same facts."""

from __future__ import annotations

from rich.console import Console

from berrys_monitoring.demo._logs import LogLine
from berrys_monitoring.demo._scrape import WindowStats
from berrys_monitoring.demo._view import ServiceView, Summary, render_plain, render_rich

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def _summary() -> Summary:
    return Summary(
        elapsed=12.0,
        services=[
            ServiceView(
                "gateway",
                "http://127.0.0.1:8000",
                WindowStats(total_requests=120, rate=5.2, error_ratio=0.05, p95_seconds=0.412),
                "pass",
                200,
            ),
            ServiceView(
                "users",
                "http://127.0.0.1:8001",
                WindowStats(total_requests=60, rate=2.5, error_ratio=None, p95_seconds=None),
                "fail",
                503,
            ),
        ],
        shared_trace=TRACE,
        logs=[
            LogLine(
                "users",
                "{}",
                {
                    "level": "info",
                    "message": "GET /users/1 200",
                    "route": "/users/{user_id}",
                    "path": "/users/1",
                    "duration_ms": 3.14159,
                    "trace_id": TRACE,
                },
            ),
            LogLine("gateway", "plain banner", None),
        ],
        sent=180,
        by_status={"200": 170, "500": 10},
    )


def test_live_view_shows_rates_health_trace_logs_and_probe_urls():
    console = Console(record=True, width=160, color_system=None)
    console.print(render_rich(_summary()))
    text = console.export_text()
    for expected in (
        "gateway",
        "120",
        "5.2",
        "5.0%",
        "412 ms",
        "pass (200)",
        "fail (503)",
        TRACE,
        "GET /users/1 200",
        "plain banner",
        "http://127.0.0.1:8001/health",
        "http://127.0.0.1:8000/metrics",
    ):
        assert expected in text, f"{expected!r} missing from:\n{text}"


def test_plain_summary_has_one_parseable_line_per_service():
    text = render_plain(_summary(), with_logs=True)
    assert "gateway  requests=120 rate=5.2/s errors=5.0% p95=412 ms health=pass (200)" in text
    assert "users    requests=60 rate=2.5/s errors=- p95=- health=fail (503)" in text
    assert f"trace_id_in_both={TRACE}" in text
    assert "log users: info GET /users/1 200 route=/users/{user_id} 3.1 ms trace=4bf92f35…" in text
    assert "http://127.0.0.1:8001/metrics" in text


def test_both_renderings_show_the_dashboard_what_the_hub_received_and_the_alerts():
    from berrys_monitoring.demo._hub import HubView

    summary = _summary()
    summary.hub = HubView(
        "http://127.0.0.1:4318",
        {"api-gateway": (335, 326, 6415), "user-service": (114, 76, 1511)},
        ["GatewayHighErrorRate (firing)"],
    )
    console = Console(record=True, width=200, color_system=None)
    console.print(render_rich(summary))
    live = console.export_text()
    plain = render_plain(summary)
    final = render_plain(summary, with_logs=True)
    for text in (live, plain, final):
        assert "dashboard: http://127.0.0.1:4318/?from=now-15m" in text
        assert "api-gateway 335 spans, 326 logs, 6415 samples" in text
        assert "user-service 114 spans, 76 logs, 1511 samples" in text
        assert "alerts: GatewayHighErrorRate (firing)" in text
    assert "open it in a browser" in live and "open it in a browser" in plain
    assert "open it in a browser" not in final  # printed as the demo stops

    summary.hub = HubView("http://127.0.0.1:4318", {}, [], error="ConnectError")
    assert "hub: not answering (ConnectError)" in render_plain(summary)
