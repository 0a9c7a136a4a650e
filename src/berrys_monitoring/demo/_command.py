"""``berrys-monitoring demo``: the hub, the example services reporting to it, traffic, a
summary, and an alert that fires."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType

import httpx
from rich.console import Console
from rich.live import Live

from berrys_monitoring.demo._alerting import ErrorRatioWatch
from berrys_monitoring.demo._hub import (
    HubView,
    hub_command,
    hub_loads_rule_files,
    port_in_use,
    read_hub,
    write_hub_config,
)
from berrys_monitoring.demo._logs import LogTail
from berrys_monitoring.demo._processes import (
    Service,
    find_examples_dir,
    free_port,
    gateway_command,
    start_service,
    stop_service,
    users_command,
    wait_ready,
)
from berrys_monitoring.demo._scrape import MetricsWindow
from berrys_monitoring.demo._traffic import TrafficDriver
from berrys_monitoring.demo._view import (
    DASHBOARD_PATH,
    ServiceView,
    Summary,
    render_plain,
    render_rich,
)


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(
            f"must be a positive number of seconds/requests, not {text}"
        )
    return value


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, not {text}")
    return value


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be a TCP port (0: any free one), not {text}")
    return value


def configure_parser(parser: argparse.ArgumentParser) -> None:
    """Options of ``berrys-monitoring demo``."""
    parser.add_argument(
        "--port",
        type=_port,
        default=4318,
        help="the hub's port on 127.0.0.1: its dashboard, API and OTLP (default 4318; "
        "0: any free port)",
    )
    parser.add_argument(
        "--no-hub",
        action="store_true",
        help="only the services and the summary, without the hub and its dashboard",
    )
    parser.add_argument(
        "--scrape-interval",
        type=_positive,
        default=5.0,
        metavar="SECONDS",
        help="how often the hub scrapes the services and evaluates the rule (default 5)",
    )
    parser.add_argument(
        "--alert-threshold",
        type=_fraction,
        default=0.01,
        help="the alert fires when the gateway's 5xx ratio is above this (default 0.01)",
    )
    parser.add_argument(
        "--alert-for",
        type=_positive,
        default=10.0,
        metavar="SECONDS",
        help="... for this long (the rule's `for:`, default 10)",
    )
    parser.add_argument(
        "--duration",
        type=_positive,
        default=None,
        metavar="SECONDS",
        help="stop after this many seconds (default: run until Ctrl-C)",
    )
    parser.add_argument(
        "--rate", type=_positive, default=5.0, help="requests per second sent to the gateway"
    )
    parser.add_argument(
        "--error-rate",
        type=_fraction,
        default=0.05,
        help="fraction of user-service requests answered 500 (EXAMPLE_ERROR_RATE)",
    )
    parser.add_argument(
        "--examples-dir", default=None, help="folder holding fastapi_gateway.py and flask_users.py"
    )
    parser.add_argument(
        "--log-dir",
        default=None,
        help="keep each service's output (JSON log lines) in this folder "
        "(default: a temporary folder removed at the end)",
    )
    parser.add_argument(
        "--plain",
        action="store_true",
        help="periodic plain-text summary even on a terminal (the default without one)",
    )
    parser.add_argument(
        "--open",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="open the dashboard in the web browser (default: on a terminal of a desktop session)",
    )


def run(args: argparse.Namespace) -> int:
    """Entry point of the subcommand; returns the exit code."""
    return run_demo(
        duration=args.duration,
        rate=args.rate,
        error_rate=args.error_rate,
        examples_dir=args.examples_dir,
        log_dir=args.log_dir,
        plain=args.plain,
        open_browser=args.open,
        port=None if args.no_hub else args.port,
        scrape_interval=args.scrape_interval,
        alert_threshold=args.alert_threshold,
        alert_for=args.alert_for,
    )


def _probe_health(client: httpx.Client, service: Service) -> tuple[str, int | None]:
    try:
        response = client.get(service.health_url, timeout=3.0)
    except httpx.HTTPError:
        return "down", None
    try:
        status = response.json().get("status")
    except (ValueError, AttributeError):
        status = None
    if not isinstance(status, str):
        status = "pass" if response.status_code < 500 else "fail"
    return status, response.status_code


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """``kill <demo>`` and closing its terminal (``SIGHUP``) clean up exactly like Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signals = [signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):
        signals.append(signal.SIGHUP)
    previous = {sig: signal.signal(sig, handler) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@contextlib.contextmanager
def _sigint_ignored() -> Iterator[None]:
    """A second Ctrl-C (or kill, or hangup) while stopping would leave orphans behind:
    finish the cleanup first."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = [
        signal.SIGINT,
        signal.SIGTERM,
        *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else []),
    ]
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in signals}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_demo(
    duration: float | None = None,
    *,
    rate: float = 5.0,
    error_rate: float = 0.05,
    examples_dir: str | None = None,
    log_dir: str | None = None,
    plain: bool = False,
    open_browser: bool | None = False,
    console: Console | None = None,
    refresh: float = 1.0,
    plain_every: float = 2.0,
    port: int | None = 4318,
    scrape_interval: float = 5.0,
    alert_threshold: float = 0.01,
    alert_for: float = 10.0,
) -> int:
    """Run the demo: the hub, two example services reporting to it, traffic, a live summary
    and an alerting rule; returns an exit code.

    The hub (``port``; ``None``: no hub) gets a fresh data directory, scrapes both services
    every ``scrape_interval`` seconds and receives their spans and logs over OTLP; its
    dashboard's address is printed with the summary. The alert fires when the gateway's
    5xx ratio stays above ``alert_threshold`` for ``alert_for`` seconds. Everything it
    starts is stopped when ``duration`` seconds have passed, on Ctrl-C and on ``SIGTERM``.

    Example::

        from berrys_monitoring.demo import run_demo

        run_demo(duration=10)  # the same as `berrys-monitoring demo --duration 10`
    """
    console = console or Console(soft_wrap=True)
    try:
        examples = find_examples_dir(examples_dir)
    except FileNotFoundError as exc:
        console.print(f"[red]demo:[/red] {exc}")
        return 2
    live_view = console.is_terminal and not plain
    if port is not None and port and port_in_use(port):
        console.print(
            f"[red]demo:[/red] port {port} is in use (another hub?): stop it, or pick "
            "another port with --port (make demo DEMO_ARGS='--port 4320'; 0: any free port)"
        )
        return 1
    services: list[Service] = []
    hub: Service | None = None
    watch: ErrorRatioWatch | None = None
    driver: TrafficDriver | None = None
    with tempfile.TemporaryDirectory(prefix="berrys-demo-") as tmp, _sigterm_as_interrupt():
        workdir = Path(log_dir) if log_dir else Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        try:
            users_port, gateway_port = free_port(), free_port()
            reporting: dict[str, str] = {}
            if port is not None:
                hub = _start_hub(
                    Path(tmp),
                    workdir,
                    port or free_port(),
                    gateway_port=gateway_port,
                    users_port=users_port,
                    scrape_interval=scrape_interval,
                    threshold=alert_threshold,
                    for_s=alert_for,
                )
                reporting["BERRYS_MONITORING_HUB_URL"] = hub.base_url
                if not hub_loads_rule_files():
                    watch = ErrorRatioWatch(
                        hub.base_url, threshold=alert_threshold, for_s=alert_for
                    )
            users = start_service(
                "users",
                users_command(examples, users_port),
                users_port,
                {
                    "EXAMPLE_ERROR_RATE": str(error_rate),
                    **_reporting(reporting, users_port),
                },
                workdir / "users.log",
                examples,
            )
            services.append(users)
            gateway = start_service(
                "gateway",
                gateway_command(examples, gateway_port),
                gateway_port,
                {"USERS_SERVICE_URL": users.base_url, **_reporting(reporting, gateway_port)},
                workdir / "gateway.log",
                examples,
            )
            services.insert(0, gateway)
            for service in services:
                wait_ready(service, timeout=60.0)
            console.print(
                "demo: services up — "
                + ", ".join(f"{s.name} {s.base_url} (pid {s.proc.pid})" for s in services)
            )
            if hub is not None:
                console.print(
                    f"demo: hub up (pid {hub.proc.pid}) — dashboard: {hub.base_url}{DASHBOARD_PATH}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
                if open_browser or (open_browser is None and _desktop(console)):
                    _open_dashboard(hub.base_url + DASHBOARD_PATH)
            driver = TrafficDriver(gateway.base_url, rate=rate)
            driver.start()
            return _watch(
                services, driver, console, duration, live_view, refresh, plain_every, hub, watch
            )
        except RuntimeError as exc:
            console.print(f"[red]demo: cannot start:[/red] {exc}")
            return 1
        except KeyboardInterrupt:
            return 0
        finally:
            with _sigint_ignored():
                if driver is not None:
                    driver.stop()
                for service in services:
                    stop_service(service)
                if watch is not None:
                    watch.close()
                if hub is not None:
                    # Last: the services' final spans and logs reach it before it stops.
                    stop_service(hub, grace=10.0)
            stopped = [*services, *([hub] if hub is not None else [])]
            if stopped:
                console.print(
                    "demo: stopped " + ", ".join(f"{s.name} (pid {s.proc.pid})" for s in stopped)
                )


def _desktop(console: Console) -> bool:
    """A terminal in a graphical session: opening a browser shows a window, rather than a
    text browser taking over the terminal."""
    if not console.is_terminal:
        return False
    if sys.platform in ("darwin", "win32"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _open_dashboard(url: str) -> None:
    import webbrowser

    try:
        webbrowser.open(url, new=2)
    except webbrowser.Error:
        pass  # the URL is printed: no browser is not a failure


def _reporting(env: dict[str, str], port: int) -> dict[str, str]:
    """The hub's address for a service, and the address the hub scrapes it at."""
    if not env:
        return {}
    return {**env, "BERRYS_MONITORING_SERVICE_URL": f"http://127.0.0.1:{port}"}


def _start_hub(
    tmp: Path,
    workdir: Path,
    port: int,
    *,
    gateway_port: int,
    users_port: int,
    scrape_interval: float,
    threshold: float,
    for_s: float,
) -> Service:
    """The hub on a fresh data directory (always a temporary one), ready to take data."""
    data_dir = tmp / "hub-data"
    data_dir.mkdir()
    config = write_hub_config(
        workdir,
        gateway_port=gateway_port,
        users_port=users_port,
        scrape_interval_s=scrape_interval,
        threshold=threshold,
        for_s=for_s,
    )
    hub = start_service(
        "hub", hub_command(config, port, data_dir), port, {}, workdir / "hub.log", workdir
    )
    wait_ready(hub, timeout=60.0)
    return hub


def _watch(
    services: list[Service],
    driver: TrafficDriver,
    console: Console,
    duration: float | None,
    live_view: bool,
    refresh: float,
    plain_every: float,
    hub: Service | None = None,
    watch: ErrorRatioWatch | None = None,
) -> int:
    windows = {s.name: MetricsWindow(s.metrics_url) for s in services}
    tail = LogTail(keep=4)
    for s in services:
        tail.add(s.name, s.log_path)
    started = time.monotonic()
    summary: Summary | None = None

    def snapshot(client: httpx.Client) -> Summary:
        views = []
        for s in services:
            windows[s.name].scrape(client)
            health, code = _probe_health(client, s)
            views.append(ServiceView(s.name, s.base_url, windows[s.name].stats(), health, code))
        tail.poll()
        sent, by_status = driver.snapshot()
        hub_view: HubView | None = None
        if watch is not None:
            gateway_view = next(v for v in views if v.name == "gateway")
            watch.observe(gateway_view.stats.error_ratio, time.monotonic())
        if hub is not None:
            hub_view = read_hub(client, hub.base_url)
        return Summary(
            elapsed=time.monotonic() - started,
            services=views,
            shared_trace=tail.shared_trace([s.name for s in services]),
            logs=tail.recent(),
            sent=sent,
            by_status=by_status,
            hub=hub_view,
        )

    def done() -> bool:
        return duration is not None and time.monotonic() - started >= duration

    with httpx.Client() as client:
        try:
            if live_view:
                with Live(console=console, refresh_per_second=4, transient=False) as live:
                    while not done():
                        summary = snapshot(client)
                        live.update(render_rich(summary))
                        time.sleep(refresh)
            else:
                last_print = 0.0
                while not done():
                    summary = snapshot(client)
                    if summary.elapsed - last_print >= plain_every:
                        console.print(
                            render_plain(summary), markup=False, highlight=False, soft_wrap=True
                        )
                        last_print = summary.elapsed
                    time.sleep(refresh)
            summary = snapshot(client)
        except KeyboardInterrupt:
            pass
        if summary is not None:
            console.print("\nfinal summary:", markup=False)
            console.print(
                render_plain(summary, with_logs=True), markup=False, highlight=False, soft_wrap=True
            )
    sys.stdout.flush()
    return 0
