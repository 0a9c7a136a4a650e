"""gunicorn settings for the example Flask service (``gunicorn -c examples/gunicorn_conf.py``).

Multi-worker metrics: berrys_monitoring.metrics switches prometheus_client to multiprocess
mode in gunicorn workers by itself; ``child_exit`` drops a dead worker's live gauges and
``on_exit`` removes the run's metrics directory when the server stops.
Access lines: gunicorn writes none unless ``accesslog`` is set; the monitoring middleware
writes one structured line per request instead.
"""

from __future__ import annotations

import os

from berrys_monitoring.metrics import gunicorn_child_exit as child_exit  # noqa: F401
from berrys_monitoring.metrics import gunicorn_on_exit as on_exit  # noqa: F401

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
accesslog = None
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "warning")
graceful_timeout = 5
