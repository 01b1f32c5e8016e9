"""Core benchmark: persisted increments per second through the Python API, beside the floor.

    python -m bench core [--calls 20000] [--runs 3] [--objects 10000]

dobj runs on each clock (manual, real) with a data folder and in memory; the goal line
compares the real clock with a data folder against the floor.

The floor is what no runtime on this engine can beat: a bare QuickJS method that reads and
writes through two JSON-bridged host callbacks, plus one SQLite WAL commit per call, with
nothing else (no actors, no budget, no trace). Both sides run in the same invocation, on
file-backed stores with the same durability (WAL, synchronous=NORMAL).
"""

from __future__ import annotations

import argparse
import gc
import json
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import quickjs

import dobj

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "samples" / "counter.js"

FLOOR_JS = """
(function (get, put) {
  return function increment(by) {
    const current = JSON.parse(get("count") || "0");
    const next = current + by;
    put("count", JSON.stringify(next));
    return JSON.stringify(next);
  };
})
"""


def floor_rate(folder: Path, calls: int) -> float:
    """Calls/s of the bare engine + SQLite loop (one commit per call)."""
    db = sqlite3.connect(folder / "floor.sqlite3", isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT) WITHOUT ROWID")

    def get(key):
        row = db.execute("SELECT value FROM kv WHERE key=?", (key,)).fetchone()
        return row[0] if row else ""

    def put(key, value):
        db.execute("INSERT INTO kv VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value", (key, value))

    ctx = quickjs.Context()
    ctx.add_callable("hostGet", get)
    ctx.add_callable("hostPut", put)
    increment = ctx.eval(FLOOR_JS + "(hostGet, hostPut)")
    start = time.perf_counter()
    for _ in range(calls):
        db.execute("BEGIN")
        json.loads(increment(1))
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return calls / elapsed


def dobj_rate(folder: Path | None, calls: int, clock: str) -> tuple[float, int]:
    """Calls/s of ``counter.increment(1)`` through the sync Python API."""
    data = None if folder is None else folder / "data"
    with dobj.Runtime.load(COUNTER, data=data, clock=clock) as rt:
        counter = rt.get("COUNTER", "global")
        counter.increment(1)
        start = time.perf_counter()
        for _ in range(calls):
            counter.increment(1)
        elapsed = time.perf_counter() - start
        final = counter.storage["count"]
    return calls / elapsed, final


SIDES = [("manual", True), ("real", True), ("manual", False), ("real", False)]


def idle_object_bytes(objects: int) -> tuple[float, float]:
    """(Python bytes, JavaScript heap bytes) per idle live object, over ``objects`` objects."""
    with dobj.Runtime.load(COUNTER) as rt:
        rt.get("COUNTER", "warm").fetch("/count")
        gc.collect()
        js_before = rt._core.engine.memory()["malloc_size"]
        tracemalloc.start()
        py_before = tracemalloc.get_traced_memory()[0]
        for i in range(objects):
            rt.get("COUNTER", f"idle-{i}").fetch("/count")
        rt._core.trace.clear()  # the trace is bounded and not per object
        gc.collect()
        py_after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        js_after = rt._core.engine.memory()["malloc_size"]
        assert rt.live_count() == objects + 1
    return (py_after - py_before) / objects, (js_after - js_before) / objects


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench core", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000, help="calls per run (default 20000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("--objects", type=int, default=10000, help="idle objects to measure (default 10000)")
    args = parser.parse_args(argv)

    floors: list[float] = []
    rates: dict[tuple[str, bool], list[float]] = {side: [] for side in SIDES}
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            floors.append(floor_rate(Path(tmp), args.calls))
        for clock, on_disk in SIDES:
            with tempfile.TemporaryDirectory() as tmp:
                rate, final = dobj_rate(Path(tmp) if on_disk else None, args.calls, clock)
            assert final == args.calls + 1, final
            rates[(clock, on_disk)].append(rate)
        summary = ", ".join(f"{c}/{'file' if d else 'memory'} {rates[(c, d)][-1]:,.0f}" for c, d in SIDES)
        print(f"run {run + 1}/{args.runs}: floor {floors[-1]:,.0f}/s, dobj {summary}", file=sys.stderr)
    py_bytes, js_bytes = idle_object_bytes(args.objects)

    floor = statistics.median(floors)
    print()
    print(f"Persisted increments, one object, {args.calls:,} calls x {args.runs} runs, median"
          " (file stores: WAL, synchronous=NORMAL):")
    print(f"  {'':40} {'calls/s':>10} {'us/call':>9}")
    print(f"  {'floor (bare QuickJS + 1 commit, file)':40} {floor:>10,.0f} {1e6 / floor:>9.1f}")
    for clock, on_disk in SIDES:
        rate = statistics.median(rates[(clock, on_disk)])
        label = f"dobj, {clock} clock, {'data folder' if on_disk else 'in memory'}"
        print(f"  {label:40} {rate:>10,.0f} {1e6 / rate:>9.1f}")
    real = statistics.median(rates[("real", True)])
    print(f"  real clock + data folder / floor = {real / floor:.2f}"
          " (goal: >= 0.50, i.e. within 2x, and >= 15,000 calls/s)")
    print()
    print(f"Idle live objects ({args.objects:,}): {py_bytes + js_bytes:,.0f} bytes each"
          f" ({py_bytes:,.0f} Python + {js_bytes:,.0f} JavaScript heap; goal < 5,120)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
