"""HTTP throughput: a hello-world FastAPI app (uvicorn, 1 worker, h11) and Flask app (gunicorn,
1 gthread worker), each bare, with our ``setup_monitoring`` (every request traced and exported
over OTLP/HTTP to a local sink), with ours at ``sample_rate=0.1``, and with the usual
combination (prometheus-fastapi-instrumentator / prometheus_client hooks + OpenTelemetry's
instrumentor exporting to the same sink). Load from ``wrk --latency`` on loopback.

All servers run side by side during the whole benchmark; variants are measured in turn,
round after round (ABCD ABCD …), and each figure is the median over rounds, so drift of the
shared 2-core machine hits every variant alike.

Run alone: ``python -m benchmarks.bench_http [--quick] [--diagnose]`` (prints the markdown table for
benchmarks/README.md), or with the rest: ``python -m benchmarks --only http``.

``BENCH_HTTP_BASELINE=<git ref>`` adds our variants as that commit's code had them
(``ours@base``, ``ours10@base``), measured in the same rounds: the performance rule of a
redesign is "at least 0.95x the code it started from".
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks._harness import Comparison
from benchmarks.http_apps._load import (
    WRK_CONNECTIONS,
    WRK_THREADS,
    WrkResult,
    cpu_seconds,
    free_port,
    spawn,
    stop,
    wait_http,
    wrk,
)

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
PATH = "/hello"
VARIANTS = ("bare", "ours", "ours10", "combo")
LABELS = {
    "bare": "bare",
    "ours": "ours (100% sampled)",
    "ours10": "ours (10% sampled)",
    "combo": "instrumentator+OTel",
    "ours-native-off": "ours, FastAPI native OTel off",
    "ours-no-log": "ours, native off, no access log",
    "ours-no-trace": "ours, native off, no tracing",
    "ours-metrics-only": "ours, native off, metrics only",
    "floor": "floor (minimal request-id middleware)",
    "ours@base": "ours at the baseline commit (100%)",
    "ours10@base": "ours at the baseline commit (10%)",
}
BASELINE_REF = os.environ.get("BENCH_HTTP_BASELINE") or None
# Diagnostic variants (``--diagnose``), not part of the targets: the app variant they run
# and the extra environment. FastAPI >= 0.16x has native OpenTelemetry telemetry that turns
# itself on once a global tracer provider exists (adding its own server span and three
# operation spans per request); these variants switch it off and then take our features
# away one at a time, so the CPU per request of each feature can be read off the table.
_NATIVE_OFF = {"BENCH_FASTAPI_NATIVE_OTEL": "0"}
DIAGNOSTIC: dict[str, tuple[str, dict[str, str]]] = {
    # The least any middleware meeting the request-id requirements costs
    # (http_apps/floor.py), with FastAPI's native telemetry as in bare.
    "floor": ("floor", {}),
    "ours-native-off": ("ours", _NATIVE_OFF),
    "ours-no-log": ("ours", {**_NATIVE_OFF, "BENCH_OURS_OPTIONS": '{"log_requests": false}'}),
    "ours-no-trace": (
        "ours",
        {**_NATIVE_OFF, "BENCH_OURS_OPTIONS": '{"enable_tracing": false}'},
    ),
    "ours-metrics-only": (
        "ours",
        {
            **_NATIVE_OFF,
            "BENCH_OURS_OPTIONS": '{"enable_tracing": false, "log_requests": false}',
        },
    ),
}


@dataclass
class Server:
    framework: str
    variant: str
    port: int
    proc: subprocess.Popen[bytes]
    log: Path
    runs: list[WrkResult] = field(default_factory=list)
    served: int = 0  # every request wrk completed, warm-up included

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    def ratios_to(self, other: Server) -> list[float]:
        """req/s of each round over ``other``'s in the same round (measured seconds apart)."""
        return [a.rps / b.rps for a, b in zip(self.runs, other.runs, strict=True) if b.rps]

    def median(self) -> WrkResult:
        return WrkResult(
            rps=statistics.median(r.rps for r in self.runs),
            p50_ms=statistics.median(r.p50_ms for r in self.runs),
            p99_ms=statistics.median(r.p99_ms for r in self.runs),
            errors=sum(r.errors for r in self.runs),
            requests=sum(r.requests for r in self.runs),
            cpu_us=statistics.median(r.cpu_us for r in self.runs),
        )


def _server_cmd(framework: str, port: int) -> list[str]:
    if framework == "fastapi":
        # No uvicorn access log in any variant: ours writes its own structured one instead.
        return [
            PYTHON, "-m", "uvicorn", "benchmarks.http_apps.fastapi_app:app",
            "--host", "127.0.0.1", "--port", str(port), "--http", "h11",
            "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    return [
        PYTHON, "-m", "gunicorn", "benchmarks.http_apps.flask_app:app",
        "--bind", f"127.0.0.1:{port}", "--workers", "1", "--worker-class", "gthread",
        "--threads", "4", "--log-level", "warning",
    ]  # fmt: skip


def _sink_stats(port: int) -> dict[str, int]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=2) as r:
            data: dict[str, int] = json.loads(r.read())
            return data
    except OSError:
        return {"requests": -1, "bytes": -1}


@contextlib.contextmanager
def _servers(variants: list[tuple[str, str]], workdir: Path) -> Iterator[tuple[list[Server], int]]:
    sink_port = free_port()
    sink = spawn(
        [PYTHON, "-m", "benchmarks.http_apps.otlp_sink", "--port", str(sink_port)],
        dict(os.environ),
        workdir / "sink.log",
        REPO,
    )
    servers: list[Server] = []
    try:
        wait_http(f"http://127.0.0.1:{sink_port}/stats", sink)
        for framework, variant in variants:
            port = free_port()
            env = dict(os.environ)
            env.pop("BERRYS_MONITORING_STRICT", None)  # measure the production configuration
            app_variant, extra_env = DIAGNOSTIC.get(variant, (variant, {}))
            env.update(extra_env)
            pythonpath = str(REPO)
            if variant.endswith("@base"):
                app_variant = variant.removesuffix("@base")
                # The baseline's package first: the apps are today's, the library is its.
                pythonpath = f"{_baseline_src(workdir)}{os.pathsep}{REPO}"
            env.update(
                BENCH_VARIANT=app_variant,
                BENCH_OTLP_ENDPOINT=f"http://127.0.0.1:{sink_port}",
                BENCH_ACCESS_LOG=str(workdir / f"{framework}-{variant}-access.log"),
                PYTHONPATH=pythonpath,
            )
            log = workdir / f"{framework}-{variant}.log"
            proc = spawn(_server_cmd(framework, port), env, log, REPO)
            server = Server(framework, variant, port, proc, log)
            servers.append(server)
            try:
                wait_http(server.url, proc)
            except RuntimeError as exc:
                tail = log.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{framework}/{variant} server failed: {exc}\n{tail}") from exc
        yield servers, sink_port
    finally:
        for s in servers:
            stop(s.proc)
        stop(sink)


def _baseline_src(workdir: Path) -> Path:
    """The baseline commit's ``src/``, extracted once into ``workdir`` with git archive."""
    target = workdir / "baseline"
    if not target.exists():
        target.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", str(BASELINE_REF), "src"],
            check=True,
            capture_output=True,
        ).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target / "src"


def _baseline_exists() -> bool:
    """Whether ``BENCH_HTTP_BASELINE`` names a commit of this clone (a shallow clone may
    not have it: the baseline rows are then left out, with a note)."""
    found = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "--verify", "--quiet", f"{BASELINE_REF}^{{commit}}"],
        capture_output=True,
    )
    if found.returncode != 0:
        print(
            f"bench_http: baseline {BASELINE_REF!r} is not in this clone "
            "(git fetch --unshallow); its rows are left out",
            file=sys.stderr,
        )
    return found.returncode == 0


def _ours_available() -> bool:
    try:
        return all(
            importlib.util.find_spec(f"berrys_monitoring.middleware.{fw}") is not None
            for fw in ("fastapi", "flask")
        )
    except ModuleNotFoundError:
        return False


def _schedule(quick: bool) -> tuple[int, float, float]:
    """(rounds, seconds per wrk run, warm-up seconds). Many short rounds rather than a few
    long ones: each variant is measured seconds away from its bare twin in every round,
    and the median of the per-round ratios shrugs off a round the machine spent on other
    work (ratios of whole-run medians swung by 0.2 between two runs on a shared VM)."""
    return (1, 3.0, 1.0) if quick else (7, 3.0, 2.0)


def measure(quick: bool, diagnose: bool = False) -> tuple[list[Server], dict[str, int]]:
    """Start every variant, then run wrk against each in turn for a few rounds."""
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    variants = [v for v in VARIANTS if _ours_available() or not v.startswith("ours")]
    if BASELINE_REF and _ours_available() and _baseline_exists():
        variants += ["ours@base", "ours10@base"]
    # BENCH_HTTP_FRAMEWORKS=fastapi measures one framework (while working on it).
    frameworks = os.environ.get("BENCH_HTTP_FRAMEWORKS", "fastapi,flask").split(",")
    pairs = [(fw, v) for fw in ("fastapi", "flask") if fw in frameworks for v in variants]
    if diagnose and _ours_available():
        for i, name in enumerate(DIAGNOSTIC):
            pairs.insert(len(variants) + i, ("fastapi", name))
    rounds, seconds, warmup = _schedule(quick)
    with (
        tempfile.TemporaryDirectory(prefix="bench-http-") as tmp,
        _servers(pairs, Path(tmp)) as (servers, sink_port),
    ):
        for s in servers:
            s.served += wrk(s.url, warmup).requests
        exports: dict[str, int] = {}
        for _ in range(rounds):
            for s in servers:
                time.sleep(0.5)  # let the previous variant's exporter drain its queue
                before = _sink_stats(sink_port)["requests"]
                cpu_before = cpu_seconds(s.proc.pid)
                result = wrk(s.url, seconds)
                cpu = cpu_seconds(s.proc.pid) - cpu_before
                result.cpu_us = cpu / max(result.requests, 1) * 1e6
                s.runs.append(result)
                s.served += result.requests
                key = f"{s.framework}-{s.variant}-otlp-exports"
                exports[key] = exports.get(key, 0) + _sink_stats(sink_port)["requests"] - before
        stats = _sink_stats(sink_port)
        stats.update(exports)
        for s in servers:
            # Rotated backups (access.log.1, …) count too.
            files = Path(tmp).glob(f"{s.framework}-{s.variant}-access.log*")
            lines = sum(sum(1 for _ in f.open("rb")) for f in files)
            if s.variant.startswith("ours"):
                stats[f"{s.framework}-{s.variant}-access-lines"] = lines
                stats[f"{s.framework}-{s.variant}-requests"] = s.served
    return servers, stats


def _note(ours: WrkResult, anchor: WrkResult, label: str, anchor_label: str) -> str:
    text = (
        f"{label} p50 {ours.p50_ms:.2f} ms p99 {ours.p99_ms:.2f} ms; "
        f"{anchor_label} p50 {anchor.p50_ms:.2f} ms p99 {anchor.p99_ms:.2f} ms; "
        f"server CPU/request {label} {ours.cpu_us:.0f} µs, {anchor_label} {anchor.cpu_us:.0f} µs"
    )
    if ours.errors or anchor.errors:
        text += f"; errors {label} {ours.errors} / {anchor_label} {anchor.errors}"
    return text


def comparisons(servers: list[Server]) -> list[Comparison]:
    by = {(s.framework, s.variant): s.median() for s in servers}
    servers_by = {(s.framework, s.variant): s for s in servers}
    # (framework, ours variant, anchor variant, target). The rule since the core's
    # redesign (issue 14): at least 2.5x the usual combination, and at least 0.95x the
    # code the redesign started from (BENCH_HTTP_BASELINE); the ratios to bare are shown.
    plan = [
        ("fastapi", "ours", "bare", None),
        ("fastapi", "ours", "combo", 2.5),
        ("fastapi", "ours10", "bare", None),
        ("fastapi", "combo", "bare", None),
        ("fastapi", "ours", "ours@base", 0.95),
        ("fastapi", "ours10", "ours10@base", 0.95),
        *(("fastapi", name, "bare", None) for name in DIAGNOSTIC),
        ("flask", "ours", "bare", None),
        ("flask", "ours10", "bare", None),
        ("flask", "ours", "combo", None),
        ("flask", "combo", "bare", None),
        ("flask", "ours", "ours@base", 0.95),
        ("flask", "ours10", "ours10@base", 0.95),
    ]
    rows: list[Comparison] = []
    for fw, mine, other, target in plan:
        if (fw, mine) not in by or (fw, other) not in by:
            continue
        a, b = by[(fw, mine)], by[(fw, other)]
        per_round = servers_by[(fw, mine)].ratios_to(servers_by[(fw, other)])
        note = _note(a, b, LABELS[mine], LABELS[other])
        if per_round:
            note += "; per-round ratios " + " ".join(f"{r:.2f}" for r in per_round)
        rows.append(
            Comparison(
                component="http",
                name=f"{fw} {LABELS[mine]}",
                ours=a.rps,
                anchor_name=f"{fw} {LABELS[other]}",
                anchor=b.rps,
                target=target,
                unit="req/s",
                higher_is_better=True,
                note=note,
                paired_ratio=statistics.median(per_round) if per_round else None,
            )
        )
    return rows


def run(quick: bool) -> list[Comparison]:
    servers, _ = measure(quick)
    return comparisons(servers)


def markdown(servers: list[Server], stats: dict[str, int], quick: bool) -> str:
    """The results as the markdown tables kept in benchmarks/README.md."""
    import platform

    lines = [
        f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, Python "
        f"{platform.python_version()}, {os.cpu_count()} cores shared by server and load "
        f"generator; wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} --latency, GET {PATH}, "
        f"{len(servers[0].runs)} interleaved round(s) of {_schedule(quick)[1]:g} s; req/s, "
        "latency and CPU are medians over rounds, x bare the median of per-round ratios. "
        f"OTLP sink received {stats.get('requests', 0)} export requests "
        f"({stats.get('bytes', 0) / 1e6:.1f} MB).",
        "",
        "| app | variant | req/s | p50 ms | p99 ms | x bare | per-round x bare | "
        "server CPU µs/req | errors |",
        "|---|---|---:|---:|---:|---:|---|---:|---:|",
    ]
    for s in servers:
        m = s.median()
        bare = next(x for x in servers if x.framework == s.framework)
        per_round = s.ratios_to(bare) or [0.0]  # bare answered nothing: a broken run
        lines.append(
            f"| {s.framework} | {LABELS[s.variant]} | {m.rps:,.0f} | {m.p50_ms:.2f} | "
            f"{m.p99_ms:.2f} | {statistics.median(per_round):.2f} | "
            f"{min(per_round):.2f} to {max(per_round):.2f} | {m.cpu_us:.0f} | {m.errors} |"
        )
    lines += ["", "| target | ratio | met |", "|---|---:|---|"]
    for c in comparisons(servers):
        if c.target is not None:
            lines.append(
                f"| {c.name} ≥ {c.target:g}x {c.anchor_name} | {c.ratio:.2f}x | "
                f"{'yes' if c.met else 'NO'} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    q = "--quick" in sys.argv
    srv, st = measure(q, diagnose="--diagnose" in sys.argv)
    print(markdown(srv, st, q))
    print("\n" + json.dumps(st))
