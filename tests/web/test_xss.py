"""User text on every page renders as text and runs nothing: service names, span names,
log bodies, attribute keys and values and alert text carrying <script>, <img onerror> and
javascript: payloads, sent with the official OpenTelemetry exporters and the Alertmanager
API to a real hub, shown in real Chromium."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from tests.hub.conftest import RunningHub, start_hub
from tests.support.servers import wait_for
from tests.web.conftest import Tab

pytestmark = pytest.mark.slow

SERVICE = "<img src=x onerror=alert('svc')>"
CALLEE = "<script>alert('callee')</script>"
SPAN = "<script>alert('span')</script>"
BODY = "<img src=x onerror=alert('body')> and <script>alert('body2')</script>"
ATTR_KEY = "<b onmouseover=alert('key')>k</b>"
ATTR_VALUE = "javascript:alert('value')"
ALERT = "<script>alert('alert')</script> disk full"
RUNBOOK = "javascript:alert('runbook')"


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory, assets: Path) -> Iterator[RunningHub]:
    with start_hub(tmp_path_factory.mktemp("xss")) as hub:
        # spans: a hostile service calling another, so the dependency graph has both names
        tracer_provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
        tracer_provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{hub.url}/v1/traces"))
        )
        callee_provider = TracerProvider(resource=Resource.create({"service.name": CALLEE}))
        callee_provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{hub.url}/v1/traces"))
        )
        tracer = tracer_provider.get_tracer("xss")
        with tracer.start_as_current_span(SPAN, attributes={ATTR_KEY: ATTR_VALUE}) as parent:
            with callee_provider.get_tracer("xss").start_as_current_span(
                "callee " + SPAN, context=None
            ) as child:
                child.set_status(Status(StatusCode.ERROR, BODY))
            parent.set_status(Status(StatusCode.ERROR))
        tracer_provider.shutdown()
        callee_provider.shutdown()
        # logs: hostile body, attribute key and value, linked to nothing
        log_provider = LoggerProvider(resource=Resource.create({"service.name": SERVICE}))
        log_provider.add_log_record_processor(
            SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{hub.url}/v1/logs"))
        )
        logger = logging.getLogger("xss-test")
        logger.propagate = False
        handler = LoggingHandler(logger_provider=log_provider)
        logger.addHandler(handler)
        logger.error(BODY, extra={"hostile_attr": ATTR_VALUE})
        logger.removeHandler(handler)
        log_provider.shutdown()
        # an alert with hostile text and a javascript: runbook
        now = dt.datetime.now(dt.timezone.utc)
        alert = {
            "labels": {
                "alertname": "<svg onload=alert(1)>",
                "severity": "critical",
                ATTR_KEY: ATTR_VALUE,
            },
            "annotations": {"summary": ALERT, "description": BODY, "runbook_url": RUNBOOK},
            "startsAt": (now - dt.timedelta(minutes=1)).isoformat(),
            "endsAt": (now + dt.timedelta(hours=1)).isoformat(),
        }
        with hub.client() as c:
            assert c.post("/api/v2/alerts", json=[alert]).status_code == 200
            wait_for(
                lambda: c.get("/api/v1/logs", params={"service": SERVICE}).json()["logs"],
                timeout=30,
                what="the hostile log line",
            )
        yield hub


def _no_injected_markup(tab: Tab) -> None:
    page = tab.page
    assert page.locator("img[src='x'], img[onerror], b[onmouseover], svg[onload]").count() == 0
    scripts = page.evaluate("[...document.scripts].map(s => s.src || s.textContent)")
    assert all("alert(" not in s for s in scripts), scripts
    hrefs = page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))")
    assert not [h for h in hrefs if h and h.strip().lower().startswith("javascript:")], hrefs
    tab.assert_clean()


def test_overview_shows_hostile_names_as_text(
    hostile: RunningHub, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(hostile.url)
    page = tab.goto("/")
    page.get_by_role("link", name=SERVICE, exact=True).wait_for()
    page.locator(".depgraph").wait_for()
    assert SERVICE in page.locator(".depgraph").text_content()
    page.get_by_text(ALERT).first.wait_for()
    tab.screenshot("xss-overview")
    _no_injected_markup(tab)


def test_service_page_with_a_hostile_name(
    hostile: RunningHub, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(hostile.url)
    page = tab.goto(f"/services/{quote(SERVICE, safe='')}")
    page.get_by_role("heading", name=SERVICE, level=1).wait_for()
    page.get_by_text(BODY).first.wait_for()  # the recent error log
    page.get_by_role("link", name=SPAN).first.wait_for()  # a failed trace
    _no_injected_markup(tab)


def test_log_explorer_shows_hostile_fields_as_text(
    hostile: RunningHub, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(hostile.url)
    page = tab.goto(f"/logs?service={quote(SERVICE, safe='')}")
    row = page.locator(".logrow", has_text=BODY)
    row.wait_for()
    row.click()
    detail = page.locator(".logdetail")
    detail.wait_for()
    text = detail.inner_text()
    assert "hostile_attr" in text and ATTR_VALUE in text and BODY in text
    tab.screenshot("xss-logs")
    _no_injected_markup(tab)


def test_alerts_page_shows_hostile_alert_text(
    hostile: RunningHub, open_tab: Callable[..., Tab]
) -> None:
    tab = open_tab(hostile.url)
    page = tab.goto("/alerts")
    page.locator(".alert-title", has_text=ALERT).wait_for()
    assert page.get_by_text(f"{ATTR_KEY}={ATTR_VALUE}").count() == 1
    runbook = page.get_by_role("link", name="runbook")
    assert runbook.get_attribute("href") == "#"
    tab.screenshot("xss-alerts")
    _no_injected_markup(tab)
