"""Each page of the dashboard, in real Chromium against a real hub fed by a real service:
it loads without console errors and shows the data the test produced; screenshots in the
light and dark themes go to test-artifacts/screenshots/."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from tests.web.conftest import Fed, Tab, marker

pytestmark = pytest.mark.slow

ALERT_TITLE = "Checkout error budget burning"


def _post_alert(fed: Fed, title: str, **labels: str) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    body = [
        {
            "labels": {
                "alertname": "CheckoutErrors",
                "severity": "critical",
                "job": fed.service,
                **labels,
            },
            "annotations": {"summary": title, "description": "5xx above 2% for 5 minutes"},
            "startsAt": (now - dt.timedelta(minutes=3)).isoformat(),
            "endsAt": (now + dt.timedelta(hours=1)).isoformat(),
        }
    ]
    with fed.hub.client() as c:
        assert c.post("/api/v2/alerts", json=body).status_code == 200


@pytest.fixture(scope="module")
def with_alert(fed_hub: Fed) -> Fed:
    _post_alert(fed_hub, ALERT_TITLE)
    return fed_hub


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_overview_lists_the_service(
    with_alert: Fed, open_tab: Callable[..., Tab], theme: str
) -> None:
    tab = open_tab(with_alert.hub.url, theme=theme)
    page = tab.goto("/")
    link = page.get_by_role("link", name=with_alert.service, exact=True)
    link.wait_for()
    assert link.get_attribute("href").startswith(f"/services/{with_alert.service}")
    # active alerts by severity: the critical one is counted and listed
    page.get_by_text(ALERT_TITLE).wait_for()
    assert page.locator(".count.critical .n").inner_text() == "1"
    # the time range and refresh are in the URL
    assert re.search(r"from=now-1h.*to=now.*refresh=", page.url)
    assert page.evaluate("document.documentElement.dataset.theme") == theme
    tab.screenshot(f"overview-{theme}")
    tab.assert_clean()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_service_page(fed_hub: Fed, open_tab: Callable[..., Tab], theme: str) -> None:
    tab = open_tab(fed_hub.hub.url, theme=theme)
    page = tab.goto(f"/services/{fed_hub.service}")
    page.get_by_role("heading", name=fed_hub.service, level=1).wait_for()
    # the error log line the service wrote, and its failed traces
    page.get_by_text("payment backend refused the card").first.wait_for()
    page.locator(".card", has_text="Failed recent traces").get_by_role("link").first.wait_for()
    page.wait_for_timeout(500)
    tab.screenshot(f"service-{theme}")
    tab.assert_clean()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_log_explorer_finds_the_line(
    fed_hub: Fed, open_tab: Callable[..., Tab], theme: str
) -> None:
    tab = open_tab(fed_hub.hub.url, theme=theme)
    page = tab.goto("/logs")
    row = page.locator(".logrow", has_text=fed_hub.log_text)
    row.wait_for()
    # search by free text: only that line remains, and the URL keeps the filter
    page.fill("#f-q", fed_hub.log_text)
    page.get_by_role("button", name="Search", exact=True).click()
    page.wait_for_function("document.querySelectorAll('.logrow').length === 1")
    assert "q=dashboard+test+line" in page.url, page.url
    # the line expands to its fields, with a link to its trace
    row.click()
    detail = page.locator(".logdetail")
    detail.wait_for()
    assert "service" in detail.inner_text()
    trace_link = detail.get_by_role("link").first
    assert re.fullmatch(r"/traces/[0-9a-f]{32}", trace_link.get_attribute("href"))
    tab.screenshot(f"logs-{theme}")
    tab.assert_clean()


def test_log_live_tail_shows_new_lines(fed_hub: Fed, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(fed_hub.hub.url)
    page = tab.goto("/logs")
    page.locator(".logrow").first.wait_for()
    page.get_by_role("button", name="Live tail").click()
    page.get_by_text("● Live").wait_for()
    time.sleep(0.5)
    fresh = marker("tailed line")
    httpx.get(f"{fed_hub.service_url}/say", params={"msg": fresh})
    page.locator(".logrow", has_text=fresh).wait_for(timeout=20_000)
    # pause: a new line is buffered, not shown, until resume
    page.get_by_role("button", name="Pause").click()
    held = marker("held line")
    httpx.get(f"{fed_hub.service_url}/say", params={"msg": held})
    page.get_by_role("button", name=re.compile(r"Resume \(\d+ new\)")).wait_for(timeout=20_000)
    assert page.locator(".logrow", has_text=held).count() == 0
    page.get_by_role("button", name=re.compile("Resume")).click()
    page.locator(".logrow", has_text=held).wait_for()
    tab.assert_clean()


def test_saved_search_survives_reload(fed_hub: Fed, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(fed_hub.hub.url)
    page = tab.goto(f"/logs?service={fed_hub.service}&level=error")
    page.locator(".logrow").first.wait_for()
    page.fill("input[aria-label='Saved search name']", "checkout errors")
    page.get_by_role("button", name="Save search").click()
    page.reload()
    link = page.get_by_role("link", name="checkout errors")
    link.wait_for()
    link.click()
    page.wait_for_url(re.compile(r"level=error"))
    assert page.locator("#f-level").input_value() == "error"
    tab.assert_clean()


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_alerts_page_shows_the_alert(
    with_alert: Fed, open_tab: Callable[..., Tab], theme: str
) -> None:
    tab = open_tab(with_alert.hub.url, theme=theme)
    page = tab.goto("/alerts")
    page.locator(".alert-title", has_text=ALERT_TITLE).wait_for()
    row = page.locator("tr.alert-row", has_text=ALERT_TITLE)
    assert "critical" in row.inner_text()
    tab.screenshot(f"alerts-{theme}")
    tab.assert_clean()


def test_empty_hub_shows_what_to_do(tmp_path: Any, open_tab: Callable[..., Tab]) -> None:
    from tests.hub.conftest import start_hub

    with start_hub(tmp_path) as hub:
        tab = open_tab(hub.url)
        page = tab.goto("/")
        page.get_by_text("No services yet").wait_for()
        assert "setup_monitoring(app, hub_url=" in page.locator(".state-empty").first.inner_text()
        tab.goto("/logs").get_by_text("No log lines in this time range").wait_for()
        tab.goto("/alerts").get_by_text("No alerts yet").wait_for()
        tab.screenshot("empty-overview")
        tab.assert_clean()


def test_time_range_and_refresh_live_in_the_url(fed_hub: Fed, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(fed_hub.hub.url)
    page = tab.goto("/?from=now-6h&to=now&refresh=off")
    page.get_by_role("link", name=fed_hub.service, exact=True).wait_for()
    assert page.locator("#range").input_value() == "now-6h"
    assert page.locator("#refresh").input_value() == "off"
    page.select_option("#range", "now-15m")
    page.wait_for_url(re.compile(r"from=now-15m"))
    page.select_option("#refresh", "5s")
    page.wait_for_url(re.compile(r"refresh=5s"))
    # navigating keeps them; reloading keeps them
    page.get_by_role("link", name="Logs", exact=True).click()
    page.wait_for_url(re.compile(r"/logs\?.*from=now-15m"))
    page.reload()
    assert page.locator("#range").input_value() == "now-15m"
    assert page.locator("#refresh").input_value() == "5s"
    # the theme toggle switches and sticks
    page.locator("#theme-toggle").click()
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    tab.assert_clean()
