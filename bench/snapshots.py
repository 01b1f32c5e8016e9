"""Snapshot benchmark: snapshot, diff and restore of many objects with ten keys each.

    python -m bench snapshots [--objects 10000] [--keys 10] [--runs 3]

The objects are the sample counter's, on a data folder; their storage is filled by
restoring a made-up snapshot first. Goal: snapshot and restore under 1 s each for
10,000 objects x 10 keys.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import dobj
from dobj.runtime.snapshots import Snapshot

COUNTER = Path(__file__).resolve().parent.parent / "samples" / "counter.js"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench snapshots", description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=10000)
    parser.add_argument("--keys", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as data, dobj.Runtime.load(COUNTER, data=data) as rt:
        objects = {f"COUNTER/o{i}": {"kv": {f"k{j}": {"n": j, "text": "x" * 20} for j in range(args.keys)}}
                   for i in range(args.objects)}
        made = Snapshot(COUNTER.name, "bundle", rt.clock.now_ms(), objects)
        rt.restore(made)
        takes, restores, diffs = [], [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            snap = rt.snapshot()
            takes.append(time.perf_counter() - start)
            start = time.perf_counter()
            rt.restore(snap)
            restores.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert rt.diff(snap) == []
            diffs.append(time.perf_counter() - start)
        tracemalloc.start()
        snap = rt.snapshot()
        size = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"{args.objects:,} objects x {args.keys} keys, median of {args.runs}:")
    print(f"  snapshot   {statistics.median(takes):6.2f} s   (goal < 1 s)")
    print(f"  restore    {statistics.median(restores):6.2f} s   (goal < 1 s)")
    print(f"  diff (now) {statistics.median(diffs):6.2f} s   (takes a snapshot too)")
    print(f"  memory of one snapshot: {size / 2**20:.0f} MiB peak ({size / (args.objects * args.keys):.0f} bytes a key)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
