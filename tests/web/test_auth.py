"""The dashboard's login, session cookie, CSRF protection and security headers, against a
real hub started with a token (and real Chromium for the browser flow)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from tests.hub.conftest import RunningHub, start_hub
from tests.web.conftest import Tab

TOKEN = "correct-horse-battery-staple-42"
CSP = "default-src 'self'; script-src 'self'"
TARGET = {"url": "http://127.0.0.1:9", "job": "csrf-probe"}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory, assets: Path) -> Iterator[RunningHub]:
    with start_hub(tmp_path_factory.mktemp("secured"), token=TOKEN) as hub:
        yield hub


@contextlib.contextmanager
def _login(hub: RunningHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        r = client.post("/login", json={"token": TOKEN})
        assert r.status_code == 200, r.text
        yield client


def test_pages_redirect_to_login_and_the_api_needs_auth(secured: RunningHub) -> None:
    with httpx.Client(base_url=secured.url, timeout=30) as c:
        r = c.get("/alerts?from=now-6h")
        assert r.status_code == 303
        assert r.headers["location"] == "/login?next=%2Falerts%3Ffrom%3Dnow-6h"
        assert c.get("/login").status_code == 200
        assert c.get("/api/v1/services").status_code == 401
        assert c.get("/health").status_code == 200
        index = c.get("/login").text
        asset = re.search(r'src="(/assets/main-[^"]+\.js)"', index)
        assert asset is not None
        js = c.get(asset.group(1))
        assert js.status_code == 200
        assert js.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert js.headers["content-type"].startswith("text/javascript")


def test_login_sets_a_signed_httponly_strict_session(secured: RunningHub) -> None:
    with httpx.Client(base_url=secured.url, timeout=30) as c:
        wrong = c.post("/login", json={"token": "nope"})
        assert wrong.status_code == 401
        assert "set-cookie" not in wrong.headers
        r = c.post("/login", json={"token": TOKEN})
        assert r.status_code == 200
        cookies = r.headers.get_list("set-cookie")
        session = next(h for h in cookies if h.startswith("bm_session="))
        csrf = next(h for h in cookies if h.startswith("bm_csrf="))
        assert "HttpOnly" in session and "SameSite=strict" in session and "Path=/" in session
        assert "HttpOnly" not in csrf and "SameSite=strict" in csrf
        assert "Secure" not in session  # plain http here
        assert TOKEN not in session  # a signed session, never the token
        assert c.get("/api/v1/services").status_code == 200
        assert c.get("/").status_code == 200


def test_secure_cookie_over_https(secured: RunningHub) -> None:
    # uvicorn trusts X-Forwarded-Proto from 127.0.0.1: the hub then sees an https request.
    with httpx.Client(base_url=secured.url, timeout=30) as c:
        r = c.post("/login", json={"token": TOKEN}, headers={"X-Forwarded-Proto": "https"})
        assert all("Secure" in h for h in r.headers.get_list("set-cookie"))


def test_cookie_requests_that_change_state_need_the_csrf_token(secured: RunningHub) -> None:
    with _login(secured) as c:
        csrf = c.cookies["bm_csrf"]
        missing = c.post("/api/v1/targets", json=TARGET)
        assert missing.status_code == 403
        assert "CSRF" in missing.json()["error"]
        wrong = c.post("/api/v1/targets", json=TARGET, headers={"X-CSRF-Token": "x" * len(csrf)})
        assert wrong.status_code == 403
        ok = c.post("/api/v1/targets", json=TARGET, headers={"X-CSRF-Token": csrf})
        assert ok.status_code in (200, 201), ok.text
        delete = c.delete("/api/v1/targets", params={"url": TARGET["url"]})
        assert delete.status_code == 403
        # a Bearer client is unaffected
    with secured.client() as bearer:
        assert bearer.delete("/api/v1/targets", params={"url": TARGET["url"]}).status_code == 204


def test_forged_or_ended_sessions_are_refused(secured: RunningHub) -> None:
    with _login(secured) as c:
        value = c.cookies["bm_session"]
        payload, _, sig = value.partition(".")
        forged = f"{payload}.{sig[:-3]}abc"
        with httpx.Client(base_url=secured.url, cookies={"bm_session": forged}) as f:
            assert f.get("/api/v1/services").status_code == 401
        r = c.post("/logout", headers={"X-CSRF-Token": c.cookies["bm_csrf"]})
        assert r.status_code == 200
        assert any(
            h.startswith('bm_session=""') or "Max-Age=0" in h
            for h in r.headers.get_list("set-cookie")
        )
        with httpx.Client(base_url=secured.url, cookies={"bm_session": value}) as old:
            r = old.get("/api/v1/services")
            assert r.status_code == 401
            assert "log in again" in r.json()["error"]


def test_cross_origin_state_changes_are_refused(secured: RunningHub) -> None:
    with secured.client() as c:
        r = c.post("/api/v1/targets", json=TARGET, headers={"Origin": "http://evil.example"})
        assert r.status_code == 403
        same = c.post(
            "/api/v1/targets", json=TARGET, headers={"Origin": f"http://127.0.0.1:{secured.port}"}
        )
        assert same.status_code in (200, 201)


def test_security_headers_on_pages_and_api(secured: RunningHub) -> None:
    with _login(secured) as c:
        for path in ("/", "/logs", "/api/v1/services"):
            r = c.get(path)
            assert r.headers["content-security-policy"].startswith(CSP)
            assert "object-src 'none'" in r.headers["content-security-policy"]
            assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
            assert "base-uri 'none'" in r.headers["content-security-policy"]
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"
        assert c.get("/").headers["cache-control"] == "no-cache"


def test_browser_login_flow(secured: RunningHub, open_tab: Callable[..., Tab]) -> None:
    tab = open_tab(secured.url, token=TOKEN)
    page = tab.goto("/logs?from=now-3h")
    page.wait_for_url(re.compile(r"/login\?next="))
    page.fill("#token", "wrong")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("Wrong token.").wait_for()
    page.fill("#token", TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/logs\?from=now-3h"))
    page.get_by_role("heading", name="Log Explorer").wait_for()
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["bm_session"]["httpOnly"] is True
    assert cookies["bm_session"]["sameSite"] == "Strict"
    # the page's JavaScript cannot read the session; a fetch without the CSRF header fails
    assert "bm_session" not in page.evaluate("document.cookie")
    status = page.evaluate(
        """fetch('/api/v1/targets', {method: 'POST', headers: {'Content-Type': 'application/json'},
             body: JSON.stringify({url: 'http://127.0.0.1:9', job: 'x'})}).then(r => r.status)"""
    )
    assert status == 403
    # logging out ends the session: the next page load goes back to the login page
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/login"))
    tab.goto("/")
    page.wait_for_url(re.compile(r"/login\?next=%2F"))
    # expected: the wrong token's 401 and the header-less fetch's 403
    tab.errors[:] = [e for e in tab.errors if "401" not in e and "403" not in e]
    tab.assert_clean()
