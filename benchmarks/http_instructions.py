"""HTTP overhead in instructions: the FastAPI benchmark app under valgrind's callgrind,
CPU instructions per request for each variant.

Wall-clock figures on a shared 2-core machine move by ±5 µs from run to run, as much as a
change to the request path is worth. An instruction count does not: the same server, the
same requests and the same code give the same count within a fraction of a percent,
whatever else the machine does. Each variant's server runs under ``valgrind
--tool=callgrind`` with counting switched off, gets a warm-up, then counting is switched
on (``callgrind_control -i on``) for ``N`` sequential keep-alive requests and off again;
the count divided by ``N`` is the figure. Counts are of user-space instructions only
(system calls' kernel time is not in them), and sequential requests carry more event-loop
work per request than a loaded server: read the differences between variants, not the
absolute numbers. Servers run one at a time (two valgrind processes side by side count
the scheduler's waiting too).

``BENCH_INSTR_LOAD=SECONDS`` counts a server under load instead: wrk with its benchmark
settings (-c32) for that many seconds, the count divided by the requests wrk completed.
Only that shows what depends on many requests in flight and on thousands of requests in a
row: garbage collections (a full one comes every few thousand requests, if at all), the
event loop's timer heap, batched writes; 150 seconds give about 17,000 requests.

Run: ``python -m benchmarks.http_instructions [N]`` (needs valgrind; about a minute
per variant). Not part of ``make bench``: it reports counts, not ratios to an anchor. ``BENCH_INSTR_VARIANTS`` picks variants (``bare,ours10,…``), and
``BENCH_INSTR_SRC`` runs another checkout's ``src`` (a ``git worktree``) for an A/B.
``BENCH_INSTR_SIM=1`` adds callgrind's cache and branch simulation (about twice as slow) and
reports first-level cache misses (instruction and data) and mispredicted branches per
request too: whether a variant's extra instructions are dearer ones, as far as a simulated
processor can tell (this kind of VM exposes no hardware counters).
"""

from __future__ import annotations

import http.client
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.http_apps._load import free_port, spawn, stop, wait_http, wrk

REPO = Path(__file__).resolve().parents[1]
# name -> (app variant, extra environment); FastAPI's native telemetry stays on as in
# bench_http, the diagnostic variants take one of our features away each.
VARIANTS: dict[str, tuple[str, dict[str, str]]] = {
    "bare": ("bare", {}),
    "ours": ("ours", {}),
    "ours10": ("ours10", {}),
    "floor": ("floor", {}),
    "ours10-no-trace-header": (
        "ours10",
        {"BENCH_OURS_OPTIONS": '{"trace_response_header": false}'},
    ),
    "ours10-no-access-log": ("ours10", {"BENCH_OURS_OPTIONS": '{"log_requests": false}'}),
    "ours10-no-metrics": ("ours10", {"BENCH_OURS_OPTIONS": '{"enable_metrics": false}'}),
}


def _requests(port: int, n: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(n):
        conn.request("GET", "/hello")
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"GET /hello answered {response.status}")
    conn.close()


SIMULATE = os.environ.get("BENCH_INSTR_SIM") == "1"
# callgrind's event names -> the columns reported with BENCH_INSTR_SIM=1.
SIM_COLUMNS = {
    "I1mr": "I1 misses",
    "D1mr": "D1 read misses",
    "D1mw": "D1 write misses",
    "Bcm": "cond. mispredicts",
    "Bim": "ind. mispredicts",
}


def instructions_per_request(
    name: str, n: int, workdir: Path, src: Path, sink: int
) -> dict[str, float]:
    """Start the variant under callgrind, count ``n`` requests, return each event's count
    per request (``Ir``, instructions; with ``SIMULATE`` also cache misses and mispredicted
    branches, under callgrind's event names)."""
    variant, extra = VARIANTS[name]
    port = free_port()
    out = workdir / f"callgrind.{name}"
    env = dict(os.environ, **extra)
    env.update(
        BENCH_VARIANT=variant,
        BENCH_OTLP_ENDPOINT=f"http://127.0.0.1:{sink}",
        BENCH_ACCESS_LOG=str(workdir / f"{name}-access.log"),
        PYTHONPATH=f"{src / 'src'}:{src}",
    )
    env.pop("BERRYS_MONITORING_STRICT", None)
    cmd = [
        "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
        *(("--cache-sim=yes", "--branch-sim=yes") if SIMULATE else ()),
        sys.executable, "-m", "uvicorn", "benchmarks.http_apps.fastapi_app:app",
        "--host", "127.0.0.1", "--port", str(port), "--http", "h11",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    proc = spawn(cmd, env, workdir / f"{name}.log", src)
    load = float(os.environ.get("BENCH_INSTR_LOAD", "0"))
    try:
        url = f"http://127.0.0.1:{port}/hello"
        wait_http(url, proc, timeout=300)
        if load:
            # Under valgrind a request takes ~50x longer: wrk's 2-second timeout is too short.
            wrk(url, 10, "--timeout", "30s")
        else:
            _requests(port, 300)
        subprocess.run(
            ["callgrind_control", "-i", "on", str(proc.pid)], check=True, capture_output=True
        )
        if load:
            n = wrk(url, load, "--timeout", "30s").requests
        else:
            _requests(port, n)
        subprocess.run(
            ["callgrind_control", "-i", "off", str(proc.pid)], check=True, capture_output=True
        )
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], check=True, capture_output=True)
        time.sleep(0.5)
    finally:
        stop(proc)
    totals: dict[str, int] = {}
    # callgrind.NAME, then callgrind.NAME.1 after a dump (not callgrind.NAME10's files).
    for dump in [out, *workdir.glob(f"callgrind.{name}.*")]:
        if not dump.exists():
            continue
        events: list[str] = []
        for line in dump.read_text().splitlines():
            if line.startswith("events:"):
                events = line.split()[1:]
            elif line.startswith("totals:"):
                for event, value in zip(events, line.split()[1:], strict=False):
                    totals[event] = totals.get(event, 0) + int(value)
    return {event: value / max(n, 1) for event, value in totals.items()}


def main() -> None:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    names = os.environ.get("BENCH_INSTR_VARIANTS", ",".join(VARIANTS)).split(",")
    src = Path(os.environ.get("BENCH_INSTR_SRC", REPO)).resolve()
    with tempfile.TemporaryDirectory(prefix="bench-instr-") as tmp:
        work = Path(tmp)
        sink_port = free_port()
        sink = spawn(
            [sys.executable, "-m", "benchmarks.http_apps.otlp_sink", "--port", str(sink_port)],
            dict(os.environ),
            work / "sink.log",
            REPO,
        )
        try:
            wait_http(f"http://127.0.0.1:{sink_port}/stats", sink)
            counts = {
                name: instructions_per_request(name, n, work, src, sink_port) for name in names
            }
        finally:
            stop(sink)
    base = counts.get("bare")
    load = os.environ.get("BENCH_INSTR_LOAD")
    how = f"wrk -c32 for {load} s" if load else f"{n} sequential requests"
    sim = list(SIM_COLUMNS) if SIMULATE else []
    print(
        f"| variant ({src}, {how}) | instructions/request | above bare |"
        + "".join(f" {SIM_COLUMNS[e]} |" for e in sim)
    )
    print("|---|---:|---:|" + "---:|" * len(sim))
    for name, count in counts.items():
        ir = count.get("Ir", 0.0)
        above = f"{ir - base['Ir']:+,.0f}" if base is not None else "n/a"
        row = f"| {name} | {ir:,.0f} | {above} |"
        for e in sim:
            row += f" {count.get(e, 0.0):,.0f}"
            if base is not None and base.get(e):
                row += f" ({count.get(e, 0.0) / base[e] - 1:+.0%})"
            row += " |"
        print(row)


if __name__ == "__main__":
    main()
