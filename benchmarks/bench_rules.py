"""Rules: one evaluation of an alerting rule with 1,000 alerts (state machine, templates,
the durable state and the ALERTS series written to the store), and the dispatcher's steady
pass over 1,000 firing alerts in 100 groups (what it costs each second). No anchor: the
query is answered by a constant backend, so this is the hub's own cost around the query.

Run alone: ``python -m benchmarks.bench_rules [--quick]``.
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from types import SimpleNamespace
from typing import Any

from benchmarks._harness import Comparison
from berrys_monitoring.hub.rules import (
    AlertingRule,
    Dispatcher,
    RuleEvaluator,
    RuleGroup,
    parse_alerting_config,
)
from berrys_monitoring.hub.store import SQLiteStore

ALERTS = 1000


class _Constant:
    """1,000 ``up == 0`` results, 100 jobs of 10 instances."""

    def instant_query(self, query: str, time_s: float) -> Any:
        result = [
            {"metric": {"job": f"job{i % 100}", "instance": f"10.0.0.{i}"}, "value": [time_s, "0"]}
            for i in range(ALERTS)
        ]
        return SimpleNamespace(data={"resultType": "vector", "result": result})


def run(quick: bool = False) -> list[Comparison]:
    rounds = 5 if quick else 15
    logging.disable(logging.WARNING)  # the log receiver would print 100 groups
    store = SQLiteStore(tempfile.mkdtemp(prefix="bench-rules-"))
    try:
        ev = RuleEvaluator(store, lambda: _Constant())
        rule = AlertingRule(
            "InstanceDown", "up == 0",
            annotations={"summary": "{{ $labels.instance }} of {{ $labels.job }} is down",
                         "value": "{{ $value | humanize }}"},
        )  # fmt: skip
        group = RuleGroup("bench", "bench.yml", 1.0, (rule,))
        ev.set_groups([group])
        t0 = time.time()
        evals = []
        for i in range(rounds + 1):
            start = time.perf_counter()
            ev.evaluate_group(group, t0 + i)
            evals.append(time.perf_counter() - start)
        config = parse_alerting_config(
            {"route": {"receiver": "log", "group_by": ["job"], "group_wait": "0s"},
             "receivers": [{"name": "log", "log_configs": [{}]}]}
        )  # fmt: skip
        d = Dispatcher(store, lambda: config)
        d.tick()  # the first pass queues the 100 groups' messages
        ticks = []
        for _ in range(rounds):
            start = time.perf_counter()
            d.tick()
            ticks.append(time.perf_counter() - start)
    finally:
        store.close()
        logging.disable(logging.NOTSET)
    return [
        Comparison("rules", f"evaluate a rule with {ALERTS:,} alerts (steady)",
                   statistics.median(evals[1:]) * 1000, unit="ms",
                   note=f"first evaluation {evals[0] * 1000:.0f} ms"),
        Comparison("rules", f"dispatcher pass, {ALERTS:,} firing alerts in 100 groups",
                   statistics.median(ticks) * 1000, unit="ms", note="one pass a second at most"),
    ]  # fmt: skip


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(f"{row.name}: {row.ours:.1f} {row.unit} ({row.note})")
