"""Explicit multiprocess set-up, as documented: the child_exit hook of gunicorn."""

from berrys_monitoring.metrics import gunicorn_child_exit as child_exit  # noqa: F401
