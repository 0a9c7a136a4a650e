"""PromQL over the hub's store: the engine behind the Prometheus-compatible query API
and the rule evaluator.

Example::

    >>> import tempfile
    >>> from berrys_monitoring.hub.store import SQLiteStore
    >>> store = SQLiteStore(tempfile.mkdtemp())
    >>> Engine(store).instant_query("2 ^ 10", 0).data
    {'resultType': 'scalar', 'result': [0.0, '1024']}
    >>> store.close()
"""

from __future__ import annotations

from berrys_monitoring.hub.promql._backend import QueryBackend
from berrys_monitoring.hub.promql._engine import Engine
from berrys_monitoring.hub.promql._errors import PromQLError
from berrys_monitoring.hub.promql._result import QueryResult

__all__ = ["Engine", "PromQLError", "QueryBackend", "QueryResult"]
