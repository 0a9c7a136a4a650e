"""The summary: a rich live view on a terminal, plain periodic lines otherwise (CI, pipes).

Both renderings come from one :class:`Summary` so they always show the same facts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from berrys_monitoring.demo._hub import HubView
from berrys_monitoring.demo._logs import LogLine
from berrys_monitoring.demo._scrape import WindowStats


@dataclass
class ServiceView:
    """What is known about one service at one refresh."""

    name: str
    base_url: str
    stats: WindowStats
    health: str  # "pass" | "warn" | "fail" | "down" | "unknown"
    health_code: int | None = None


@dataclass
class Summary:
    elapsed: float
    services: list[ServiceView]
    shared_trace: str | None
    logs: list[LogLine] = field(default_factory=list)
    sent: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    hub: HubView | None = None


#: The dashboard at the last 15 minutes: a demo minutes old fills its charts (the default
#: hour would show a few pixels of data at the right edge of each sparkline).
DASHBOARD_PATH = "/?from=now-15m"


def _hub_lines(hub: HubView, final: bool = False) -> list[str]:
    """The dashboard's address, what the hub received per service, the active alerts."""
    lines = [
        f"dashboard: {hub.url}{DASHBOARD_PATH}" + ("" if final else "  (open it in a browser)")
    ]
    if hub.error:
        lines.append(f"hub: not answering ({hub.error})")
        return lines
    received = "; ".join(
        f"{name} {spans} spans, {logs} logs, {samples} samples"
        for name, (spans, logs, samples) in sorted(hub.services.items())
    )
    lines.append(f"hub received: {received or '(nothing yet)'}")
    lines.append(f"alerts: {', '.join(hub.alerts) if hub.alerts else '(none active)'}")
    return lines


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def _pct(ratio: float | None) -> str:
    return "-" if ratio is None else f"{ratio * 100:.1f}%"


def _health_style(status: str) -> str:
    return {"pass": "green", "warn": "yellow", "fail": "red"}.get(status, "magenta")


def _log_text(line: LogLine) -> str:
    r = line.record
    if r is None:
        return line.text[:160]
    message = str(r.get("message", ""))
    parts = [str(r.get("level", "")), message]
    # Access lines say "GET /users/3 200" already; add what the message does not show.
    route = r.get("route")
    if route is not None and route != r.get("path"):
        parts.append(f"route={route}")
    duration = r.get("duration_ms")
    if isinstance(duration, (int, float)):
        parts.append(f"{duration:.1f} ms")
    trace_id = r.get("trace_id")
    if trace_id:
        parts.append(f"trace={str(trace_id)[:8]}…")
    return " ".join(p for p in parts if p)[:160]


def render_rich(summary: Summary) -> RenderableType:
    """The live view: one row per service, the shared trace, the last log lines."""
    table = Table(title=f"berrys-monitoring demo — {summary.elapsed:.0f}s", expand=True)
    for col in ("service", "requests", "req/s", "errors", "p95", "health", "endpoints"):
        table.add_column(col, justify="right" if col in ("requests", "req/s", "p95") else "left")
    for s in summary.services:
        st = s.stats
        code = f" ({s.health_code})" if s.health_code else ""
        table.add_row(
            s.name,
            f"{st.total_requests:.0f}",
            f"{st.rate:.1f}",
            _pct(st.error_ratio),
            _ms(st.p95_seconds),
            Text(s.health + code, style=_health_style(s.health)),
            f"{s.base_url}/health\n{s.base_url}/metrics",
        )
    trace = summary.shared_trace or "(waiting for a request to pass through both services)"
    sent = ", ".join(f"{k}: {v}" for k, v in sorted(summary.by_status.items()))
    logs = Text()
    for line in summary.logs:
        logs.append(f"{line.service:>8} ", style="cyan")
        logs.append(_log_text(line) + "\n")
    hub = [
        Text(line, style="bold cyan" if i == 0 else "")
        for i, line in enumerate(_hub_lines(summary.hub) if summary.hub else [])
    ]
    return Group(
        *hub,
        table,
        Text(f"trace seen in both services: {trace}", style="bold"),
        Text(f"traffic sent: {summary.sent} requests ({sent})", style="dim"),
        Panel(logs, title="recent log lines", border_style="dim"),
        Text("Ctrl-C stops the demo and every process it started.", style="dim"),
    )


def render_plain(summary: Summary, with_logs: bool = False) -> str:
    """The same facts as plain lines, for output that is not a terminal."""
    out = []
    for s in summary.services:
        st = s.stats
        code = f" ({s.health_code})" if s.health_code else ""
        line = (
            f"[{summary.elapsed:5.1f}s] {s.name:<8} requests={st.total_requests:.0f} "
            f"rate={st.rate:.1f}/s errors={_pct(st.error_ratio)} p95={_ms(st.p95_seconds)} "
            f"health={s.health}{code}"
        )
        if st.scrape_error:
            line += f" scrape_error={st.scrape_error}"
        out.append(line)
    out.append(f"[{summary.elapsed:5.1f}s] trace_id_in_both={summary.shared_trace or '-'}")
    if summary.hub:
        lines = _hub_lines(summary.hub, final=with_logs)  # the final summary: about to stop
        out += [f"[{summary.elapsed:5.1f}s] {line}" for line in lines]
    if with_logs:
        for s in summary.services:
            out.append(f"  {s.name}: health {s.base_url}/health  metrics {s.base_url}/metrics")
        for log_line in summary.logs:
            out.append(f"  log {log_line.service}: {_log_text(log_line)}")
    return "\n".join(out)
