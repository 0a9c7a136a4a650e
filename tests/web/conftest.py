"""The dashboard's browser tests: a real hub (``start_hub``) fed with real telemetry (a
``setup_monitoring`` service and the official OTLP exporters), and real headless Chromium
through Playwright (``/usr/bin/chromium``; skipped locally when missing, a failure with
``CI=true``). Screenshots go to ``test-artifacts/screenshots/``."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.hub.conftest import RunningHub, start_hub
from tests.support.servers import ServerProcess, free_port, missing, run_server, wait_for

from berrys_monitoring.hub.web import STATIC_DIR

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SERVICE = "checkout-web"

# Endpoints of the contracts that other branches build (PromQL API, alerts API, silences).
# The pages must degrade to an empty or error state when a hub lacks one; a 404 from such an
# endpoint is then expected, but only when the hub's own OpenAPI document does not list it.
CONTRACT_ENDPOINTS = (
    "/api/v1/query",
    "/api/v1/query_range",
    "/api/v1/query_exemplars",
    "/api/v1/rules",
    "/api/v1/alerts/{id}",
    "/api/v2/silences",
)


def absent_endpoints(base: str, token: str | None = None) -> set[str]:
    """The contract endpoints this hub does not serve (per its /openapi.json)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    paths = set(httpx.get(f"{base}/openapi.json", headers=headers, timeout=10).json()["paths"])
    templated = {re.sub(r"\{[^}]+\}", "{id}", p) for p in paths}
    return {e for e in CONTRACT_ENDPOINTS if e not in templated}


def _endpoint_of(url: str) -> str:
    path = httpx.URL(url).path
    return re.sub(r"^(/api/v1/alerts)/[^/]+$", r"\1/{id}", path)


@pytest.fixture(scope="session")
def assets() -> Path:
    """The built dashboard (``make assets``), built here when missing and npm is there."""
    if not (STATIC_DIR / "index.html").is_file():
        npm = shutil.which("npm")
        if npm is None:
            missing("npm", "apt-get install nodejs npm, then make assets")
        subprocess.run(["make", "assets"], cwd=ROOT, check=True)
    return STATIC_DIR


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        missing("chromium", "apt-get install chromium chromium-driver")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("playwright", "pip install playwright (no browser download needed)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@dataclass
class Tab:
    """A page in its own browser context, with the console errors and uncaught exceptions
    it produced and every JavaScript dialog (``alert()`` from an XSS payload would land
    there)."""

    page: Any
    base: str
    absent: set[str] = field(default_factory=set)
    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def goto(self, path: str) -> Any:
        self.page.goto(self.base + path, wait_until="domcontentloaded")
        return self.page

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        out = SCREENSHOTS / f"{name}.png"
        self.page.screenshot(path=str(out), full_page=True)
        return out

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog opened (script ran): {self.dialogs}"
        assert self.errors == [], f"console errors: {self.errors}"


@pytest.fixture
def open_tab(playwright_browser: Any, assets: Path) -> Iterator[Callable[..., Tab]]:
    contexts: list[Any] = []

    def opener(
        base: str,
        *,
        theme: str = "light",
        token: str | None = None,
        tolerate_absent: bool = True,
        **context_args: Any,
    ) -> Tab:
        ctx = playwright_browser.new_context(
            color_scheme=theme, viewport={"width": 1400, "height": 900}, **context_args
        )
        contexts.append(ctx)
        page = ctx.new_page()
        page.set_default_timeout(15_000)
        tab = Tab(page, base, absent_endpoints(base, token) if tolerate_absent else set())

        def on_console(msg: Any) -> None:
            if msg.type != "error":
                return
            url = (msg.location or {}).get("url", "")
            if "404" in msg.text and url and _endpoint_of(url) in tab.absent:
                return  # an endpoint this hub does not have yet: the page shows a state
            tab.errors.append(f"{msg.text} ({url})" if url else msg.text)

        page.on("console", on_console)
        page.on("pageerror", lambda exc: tab.errors.append(f"uncaught: {exc}"))

        def on_dialog(dialog: Any) -> None:
            tab.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        return tab

    yield opener
    for ctx in contexts:
        ctx.close()


_WORDS = [
    "amber",
    "birch",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lumen",
]


def marker(prefix: str) -> str:
    """A unique, recognisable text (words, not long digit runs, which log redaction masks)."""
    n = time.time_ns() // 1000
    return f"{prefix} " + " ".join(_WORDS[(n >> (4 * i)) % 12] for i in range(5))


@contextlib.contextmanager
def run_service(name: str, hub_url: str) -> Iterator[tuple[str, ServerProcess]]:
    port = free_port()
    cmd = [sys.executable, "-m", "tests.web._service", name, str(port), hub_url]
    env = {"PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    with run_server(cmd, env=env, cwd=str(ROOT), ready_url=f"http://127.0.0.1:{port}/ok") as svc:
        yield f"http://127.0.0.1:{port}", svc


@dataclass
class Fed:
    hub: RunningHub
    service: str
    service_url: str
    log_text: str


@pytest.fixture(scope="session")
def fed_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fed]:
    """A hub (scraping every second) and a setup_monitoring service that has answered
    fast, slow and failing requests and logged a recognisable line."""
    with start_hub(tmp_path_factory.mktemp("web-hub"), "--scrape-interval", "1") as hub:
        with run_service(SERVICE, hub.url) as (url, svc):
            log_text = marker("dashboard test line")

            def scraped_after(t_ns: int) -> bool:
                with hub.client() as hc:
                    targets = hc.get("/api/v1/targets").json()["targets"]
                last = [t["scrape"]["last_scrape_ns"] or 0 for t in targets if t["job"] == SERVICE]
                return bool(last) and last[0] > t_ns

            # counters must move between two scrapes for rate() to see the traffic: each
            # route's series exists before the first scrape, then the traffic follows
            with httpx.Client(base_url=url, timeout=10) as c:
                for path in ("/ok", "/slow", "/fail"):
                    c.get(path)
            wait_for(lambda: scraped_after(0), timeout=30, what="the hub's first scrape")
            with httpx.Client(base_url=url, timeout=10) as c:
                for _ in range(20):
                    c.get("/ok")
                c.get("/slow")
                for _ in range(3):
                    c.get("/fail")
                c.get("/say", params={"msg": log_text})
            sent = time.time_ns()
            wait_for(lambda: scraped_after(sent), timeout=30, what="a scrape after the traffic")
            with hub.client() as hc:
                found: dict[str, int] = {}

                def seen() -> bool:
                    logs = hc.get("/api/v1/logs", params={"q": log_text}).json()["logs"]
                    traces = hc.get("/api/v1/traces", params={"service": SERVICE}).json()
                    found.update(logs=len(logs), traces=len(traces["traces"]))
                    return bool(logs) and bool(traces["traces"])

                try:
                    wait_for(seen, timeout=60, what="the service's logs and traces in the hub")
                except TimeoutError:
                    raise AssertionError(
                        f"found {found}; service output:\n{svc.output()[-3000:]}"
                    ) from None
            yield Fed(hub, SERVICE, url, log_text)
