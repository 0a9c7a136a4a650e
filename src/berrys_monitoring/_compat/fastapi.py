"""FastAPI's private names: the native telemetry settings of an app already made.

Recent FastAPI versions start a server span and record OpenTelemetry HTTP metrics by
themselves once a global provider exists. The public switch is the constructor's
``FastAPI(telemetry={"tracing": False, "metrics": False})``; ``setup_monitoring`` gets an
app that is already made, so it turns them off in the settings dict the constructor
filled. Where that dict is not there (older FastAPI, or another layout), nothing is done.
"""

from __future__ import annotations

from typing import Any

__all__ = ["turn_off_native_telemetry"]


def turn_off_native_telemetry(app: Any, *, tracing: bool, metrics: bool) -> bool:
    """Turn off FastAPI's own request spans (``tracing``) and HTTP metrics (``metrics``);
    returns whether the app has native telemetry settings at all.

    Example::

        >>> from fastapi import FastAPI
        >>> isinstance(turn_off_native_telemetry(FastAPI(), tracing=True, metrics=True), bool)
        True
    """
    config = getattr(app, "_telemetry", None)
    if not isinstance(config, dict):
        return False
    if tracing and "tracing" in config:
        config["tracing"] = False
    if metrics and "metrics" in config:
        config["metrics"] = False
    return True
