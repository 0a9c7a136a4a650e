"""Options are validated when setup_monitoring is called, never per request."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from berrys_monitoring.middleware import MonitoringOptions
from berrys_monitoring.middleware._options import build_options
from berrys_monitoring.middleware._request_id import new_request_id, sane_request_id


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"health_path": "health"}, ValueError),
        ({"metrics_path": ""}, ValueError),
        ({"excluded_paths": "/static"}, TypeError),
        ({"excluded_paths": ["static"]}, ValueError),
        ({"sample_rate": 1.5}, ValueError),
        ({"sample_rate": True}, ValueError),
        ({"request_id_header": "X Request"}, ValueError),
        ({"metrics_auth": ("user",)}, ValueError),
        ({"metrics_auth": ""}, ValueError),
        ({"no_such_option": 1}, TypeError),
    ],
)
def test_bad_options_raise_at_configuration_time(options: dict, error: type) -> None:
    with pytest.raises(error):
        build_options("svc", options)


def test_service_name_is_required() -> None:
    with pytest.raises(ValueError, match="service_name"):
        build_options("  ", {})


def test_probe_and_metrics_paths_are_always_excluded_with_or_without_slash() -> None:
    opts = build_options("svc", {"health_path": "/healthz", "metrics_path": "/prom"})
    for path in ("/healthz", "/healthz/", "/healthz/live", "/healthz/ready", "/prom", "/prom/"):
        assert opts.is_excluded(path), path
    assert not opts.is_excluded("/users")


def test_excluded_paths_match_exactly_or_by_prefix_with_a_star() -> None:
    opts = build_options("svc", {"excluded_paths": ["/internal", "/static/*"]})
    assert opts.is_excluded("/internal")
    assert not opts.is_excluded("/internal/x")
    assert opts.is_excluded("/static/css/a.css")
    assert not opts.is_excluded("/statics")


def test_options_made_by_hand_or_replaced_derive_the_same_lookups() -> None:
    fields = {
        "health_path": "/hc",
        "metrics_path": "/m",
        "excluded_paths": ("/docs", "/static/*"),
        "request_id_header": "X-Correlation-ID",
    }
    built = build_options("svc", dict(fields))
    by_hand = MonitoringOptions(service_name="svc", **fields)
    for name in ("exact_excluded", "prefix_excluded", "endpoints", "wanted_headers"):
        assert getattr(by_hand, name) == getattr(built, name)
    assert by_hand.request_id_header_lower == b"x-correlation-id"
    assert by_hand.is_excluded("/docs/") and by_hand.is_excluded("/static/app.js")
    assert by_hand.endpoints["/hc/ready/"] == "ready"
    moved = dataclasses.replace(by_hand, metrics_path="/internal/metrics")
    assert moved.endpoints["/internal/metrics"] == "metrics"
    assert "/m" not in moved.endpoints and not moved.is_excluded("/m")


def test_metrics_auth_accepts_the_right_basic_credentials_only() -> None:
    opts = build_options("svc", {"metrics_auth": ("prom", "s3cret")})
    good = "Basic " + base64.b64encode(b"prom:s3cret").decode()
    bad = "Basic " + base64.b64encode(b"prom:wrong").decode()
    assert opts.metrics_authorized(good)
    assert not opts.metrics_authorized(bad)
    assert not opts.metrics_authorized(None)
    assert not opts.metrics_authorized("Bearer s3cret")
    assert opts.metrics_challenge.startswith("Basic")


def test_metrics_auth_with_a_string_is_a_bearer_token() -> None:
    opts = build_options("svc", {"metrics_auth": "tok-123"})
    assert opts.metrics_authorized("Bearer tok-123")
    assert opts.metrics_authorized("bearer tok-123")
    assert not opts.metrics_authorized("Bearer tok-124")
    assert opts.metrics_challenge.startswith("Bearer")


def test_incoming_request_ids_are_kept_when_sane_and_replaced_otherwise() -> None:
    assert sane_request_id("7f1c-abc_DEF.9") == "7f1c-abc_DEF.9"
    for bad in ("", "has space", "x" * 129, "new\nline", "<script>"):
        replaced = sane_request_id(bad)
        assert replaced != bad and len(replaced) == 32
    assert new_request_id() != new_request_id()


def test_setup_monitoring_options_are_typed_for_both_frameworks(tmp_path) -> None:
    """A type checker catches a misspelt or mistyped option at the call, in both."""
    from mypy import api

    source = tmp_path / "service.py"
    source.write_text(
        "from fastapi import FastAPI\n"
        "from flask import Flask\n"
        "from berrys_monitoring.middleware import fastapi, flask\n"
        "fastapi.setup_monitoring(FastAPI(), 'a', sample_rate=0.1, excluded_paths=['/x'])\n"
        "flask.setup_monitoring(Flask('b'), 'b', log_requests=False, metrics_auth=('u', 'p'))\n"
        "fastapi.setup_monitoring(FastAPI(), 'c', sample_rte=0.1)\n"
        "flask.setup_monitoring(Flask('d'), 'd', enable_tracing='yes')\n"
    )
    out, _err, status = api.run(
        [str(source), "--no-incremental", "--cache-dir", str(tmp_path / ".mypy_cache")]
    )
    errors = [line for line in out.splitlines() if ": error:" in line]
    assert status == 1
    assert [e.split(":")[1] for e in errors] == ["6", "7"], out
    assert '"sample_rte"' in errors[0] and '"enable_tracing"' in errors[1]
