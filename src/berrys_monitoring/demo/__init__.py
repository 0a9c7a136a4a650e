"""``berrys-monitoring demo``: the two example services, observed end to end, in one command.

It starts ``examples/fastapi_gateway.py`` (FastAPI on uvicorn) and ``examples/flask_users.py``
(Flask on gunicorn) on free ports of 127.0.0.1, sends a mix of fast, slow and failing
requests through the gateway, and shows per service the request rate, error rate and p95
(computed from each service's ``/metrics``), its health, the last structured log lines and a
trace id seen in both services. Ctrl-C, ``SIGTERM`` or ``--duration`` stop everything it
started.

Example::

    $ berrys-monitoring demo --duration 30
    $ make demo
"""

from __future__ import annotations

from berrys_monitoring.demo._command import configure_parser, run, run_demo

__all__ = ["configure_parser", "run", "run_demo"]
