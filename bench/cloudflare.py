"""Cloudflare projects benchmark: the Cloudflare counter beside the seed counter, and over HTTP
beside workerd serving the same project.

    python -m bench cloudflare [--calls 10000] [--runs 3] [--duration 10] [--no-anchor]

In process (the sync Python API, data folders, the manual clock): the seed bundle's
counter, the Cloudflare counter of ``bench/cf_counter`` on async ``ctx.storage.get/put``,
and the same through ``sql.exec``. Over HTTP (16 connections, ``POST
/rpc/COUNTER/one/increment`` to the project's Worker, which calls the object): ``dobj serve
bench/cf_counter`` and workerd serving the same project through Miniflare, as ``wrangler dev``
does (``tests/projects/record.mjs --serve``; needs node and npm, and the anchor installed by
``shared/anchors/workerd/start.sh``). Durability is matched: dobj without fsync, workerd's
data on tmpfs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.http import StartFailed, Target, run_python, run_wrk

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "bench" / "cf_counter"
SEED = ROOT / "samples" / "counter.js"
RECORDER = ROOT / "tests" / "projects" / "record.mjs"
SIDES = (("seed counter (sync storage)", SEED, "COUNTER"),
         ("Cloudflare counter (async get/put)", PROJECT, "COUNTER"),
         ("Cloudflare counter (sql.exec)", PROJECT, "SQL_COUNTER"))


def rate(path: Path, namespace: str, calls: int) -> float:
    import dobj

    with tempfile.TemporaryDirectory() as data, dobj.Runtime.load(path, data=data) as rt:
        counter = rt.get(namespace, "global")
        counter.increment(1)
        start = time.perf_counter()
        for _ in range(calls):
            counter.increment(1)
        elapsed = time.perf_counter() - start
        assert counter.increment(0) == calls + 1
    return calls / elapsed


def http_figures(target: Target, args, run_load, scripts: Path) -> dict:
    target.start()
    try:
        url = f"http://127.0.0.1:{target.port}/rpc/COUNTER/one/increment"
        run_load(url, "POST", 0, args.connections, 1, scripts)
        runs = [run_load(url, "POST", 0, args.connections, args.duration, scripts) for _ in range(args.runs)]
        return {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms")} | {
            "first_200": target.first_200, "bad": sum(r["bad"] for r in runs)}
    finally:
        target.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench cloudflare", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10000, help="calls per in-process run (default 10000)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per HTTP run (default 10)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--anchor", action=argparse.BooleanOptionalAction, default=True,
                        help="serve the same project on workerd and load it too (default)")
    args = parser.parse_args(argv)

    rates = {label: statistics.median(rate(path, ns, args.calls) for _ in range(args.runs))
             for label, path, ns in SIDES}
    seed = rates[SIDES[0][0]]
    print(f"In process, persisted increments through the Python API, {args.calls:,} calls x {args.runs} runs, median:")
    for label, _, _ in SIDES:
        print(f"  {label:38} {rates[label]:>9,.0f}/s {1e6 / rates[label]:>7.1f} us  {rates[label] / seed:>5.2f} x seed")
    print("  goal: the Cloudflare counter within 25% of the seed counter (>= 0.75 x seed)")

    run_load = run_wrk if shutil.which("wrk") else run_python
    with tempfile.TemporaryDirectory(prefix="dobj-bench-") as scratch:
        scripts = Path(scratch)
        (scripts / "post.lua").write_text('wrk.method = "POST"\nwrk.body = "[1]"\n'
                                          'wrk.headers["Content-Type"] = "application/json"\n')
        dobj_target = Target("dobj", [sys.executable, "-m", "dobj.cli", "serve", str(PROJECT), "--port", "{port}",
                                      "--data", str(scripts / "dobj-data")], "/health")
        results = {"dobj": http_figures(dobj_target, args, run_load, scripts)}
        note = ""
        if args.anchor:
            if shutil.which("node") is None:
                note = "workerd was not run: node is not on PATH"
            else:
                data = tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else scratch)
                workerd = Target("workerd", ["node", str(RECORDER), "--serve", str(PROJECT), "--port", "{port}",
                                             "--data", data], "/health", start_timeout=120)
                try:
                    results["workerd"] = http_figures(workerd, args, run_load, scripts)
                except (StartFailed, OSError) as exc:
                    note = f"workerd was not run: {exc}"
                finally:
                    shutil.rmtree(data, ignore_errors=True)
    print()
    print(f"HTTP, POST /rpc/COUNTER/one/increment through the Worker, {args.connections} connections,"
          f" {args.runs} x {args.duration:g} s (medians), load from {'wrk' if run_load is run_wrk else 'python'}:")
    for name, f in results.items():
        print(f"  {name:8} {f['rps']:>9,.0f} req/s  p50 {f['p50_ms']:.2f} ms  p99 {f['p99_ms']:.2f} ms"
              f"  first 200 {f['first_200']:.2f} s" + (f"  non-2xx {f['bad']}" if f["bad"] else ""))
    if "workerd" in results:
        print(f"  dobj / workerd = {results['dobj']['rps'] / results['workerd']['rps']:.2f} (goal >= 2)")
    if note:
        print("  " + note)
    print("\nLoad time of a 10-module TypeScript project: python -m bench modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
