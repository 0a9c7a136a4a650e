"""The public surface of the middleware packages is pinned."""

from __future__ import annotations

import subprocess
import sys

import berrys_monitoring.middleware as mw
import berrys_monitoring.middleware.fastapi as mw_fastapi
import berrys_monitoring.middleware.flask as mw_flask


def test_middleware_package_exports_exactly_these_names() -> None:
    assert set(mw.__all__) == {
        "ACCESS_LOGGER",
        "DURATION_BUCKETS",
        "UNMATCHED_ROUTE",
        "MonitoringOptions",
        "SetupOptions",
    }
    assert "Example" in (mw.MonitoringOptions.__doc__ or "")


def test_framework_modules_export_setup_monitoring_and_their_middleware() -> None:
    assert sorted(mw_fastapi.__all__) == ["MonitoringMiddleware", "setup_monitoring"]
    assert sorted(mw_flask.__all__) == ["MonitoringWSGIMiddleware", "setup_monitoring"]
    for module in (mw_fastapi, mw_flask):
        for name in module.__all__:
            assert "Example" in (getattr(module, name).__doc__ or ""), name


def test_importing_the_middleware_package_imports_no_web_framework() -> None:
    code = (
        "import sys, berrys_monitoring.middleware;"
        "bad = [m for m in ('fastapi', 'starlette', 'flask', 'werkzeug') if m in sys.modules];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
