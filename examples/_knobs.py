"""Environment knobs shared by the example services, read once at startup.

* ``EXAMPLE_EXTRA_LATENCY_MS``: added to every non-probe request (a slow release).
* ``EXAMPLE_ERROR_RATE``: fraction (0..1) of non-probe requests answered 500 (a bad release).
* ``EXAMPLE_FAIL_HEALTH=1``: a critical health check fails (``/health`` answers 503).
* ``EXAMPLE_PLAIN=1``: no monitoring at all (no ``/metrics``; ``/health`` is a plain 200).
* ``USERS_SERVICE_URL``: where the gateway finds the user service.
"""

from __future__ import annotations

import os
import random


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw.strip() else default
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


EXTRA_LATENCY_S = max(0.0, _float("EXAMPLE_EXTRA_LATENCY_MS", 0.0)) / 1000.0
ERROR_RATE = min(1.0, max(0.0, _float("EXAMPLE_ERROR_RATE", 0.0)))
FAIL_HEALTH = os.environ.get("EXAMPLE_FAIL_HEALTH", "") not in ("", "0", "false")
PLAIN = os.environ.get("EXAMPLE_PLAIN", "") not in ("", "0", "false")
USERS_SERVICE_URL = os.environ.get("USERS_SERVICE_URL", "http://127.0.0.1:8001").rstrip("/")
VERSION = os.environ.get("EXAMPLE_VERSION", "1.0.0")


def inject_error() -> bool:
    """True for the EXAMPLE_ERROR_RATE share of requests."""
    return ERROR_RATE > 0.0 and random.random() < ERROR_RATE
