"""``python -m benchmarks [--only metrics,logging] [--quick] [--json FILE]``: run every
``benchmarks/bench_*.py`` and print one table of ratios (ours / anchor)."""

from __future__ import annotations

import argparse
import importlib
import json
import platform
import sys
import time
from pathlib import Path

from benchmarks._harness import Comparison


def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "-"
    if unit == "ns/op":
        return f"{v:,.0f} ns" if v < 10_000 else f"{v / 1000:,.1f} µs"
    return f"{v:,.1f} {unit}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks")
    ap.add_argument("--only", default="", help="comma-separated components, e.g. metrics,logging")
    ap.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run)")
    ap.add_argument("--json", default="", help="also write the results as JSON to this file")
    args = ap.parse_args(argv)

    here = Path(__file__).parent
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    rows: list[Comparison] = []
    for path in sorted(here.glob("bench_*.py")):
        component = path.stem.removeprefix("bench_")
        if only and component not in only:
            continue
        print(f"running {component} …", file=sys.stderr, flush=True)
        mod = importlib.import_module(f"benchmarks.{path.stem}")
        rows.extend(mod.run(quick=args.quick))

    print(
        f"\nberrys-monitoring benchmarks — {time.strftime('%Y-%m-%d')} — "
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{__import__('os').cpu_count()} cores\n"
    )
    header = f"{'benchmark':<58} {'ours':>12} {'anchor':>12} {'ratio':>7} {'target':>8}  ok"
    print(header)
    print("-" * len(header))
    for r in rows:
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        target = (
            "-" if r.target is None else ("≥" if r.higher_is_better else "≤") + f"{r.target:g}x"
        )
        ok = {True: "yes", False: "NO", None: ""}[r.met]
        label = f"{r.component}: {r.name}"
        if r.anchor_name:
            label += f" vs {r.anchor_name}"
        print(
            f"{label[:58]:<58} {_fmt(r.ours, r.unit):>12} {_fmt(r.anchor, r.unit):>12} "
            f"{ratio:>7} {target:>8}  {ok}"
        )
        if r.note:
            print(f"    {r.note}")
    if args.json:
        Path(args.json).write_text(json.dumps([r.as_dict() for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
