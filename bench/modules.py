"""Module loading benchmark: a 10-module TypeScript project, cold and warm, beside plain JS.

    python -m bench modules [--modules 10] [--runs 5]

Each figure is the median wall time of ``read_project`` + a new ``Engine`` +
``ModuleLoader.load_entry``, in a new Python process (so the cold figure includes creating
sucrase's context) unless said otherwise:

- cold: an empty transform cache: every file goes through sucrase;
- warm (disk): a new process with the cache on disk filled: sucrase is never started;
- warm (memory): a reload within one process (what a REPL ``reload`` costs);
- reference: the same project written as plain JavaScript (no transform at all).

The goal is a whole load under 0.5 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

_PROBE = """
import sys, time
t0 = time.perf_counter()
from dobj.runtime.engine import Engine
from dobj.runtime.modules import ModuleLoader
from dobj.runtime.project import read_project
t1 = time.perf_counter()
def once():
    start = time.perf_counter()
    engine = Engine()
    engine.eval("globalThis.receive = (m) => { globalThis.entry = m; }")
    ModuleLoader(read_project(sys.argv[1]), {"cloudflare:workers": "export class DurableObject {}"}).load_entry(engine, "receive")
    assert engine.eval("entry.total") == int(sys.argv[2])
    return time.perf_counter() - start
first = once()
again = min(once() for _ in range(3))
print(first, again, t1 - t0)
"""


def make_project(folder: Path, modules: int, typescript: bool) -> None:
    """Write the project; the plain JavaScript twin is the TypeScript one already stripped."""
    from dobj.runtime.transform import strip_types

    ext = "ts" if typescript else "js"
    (folder / "src").mkdir(parents=True)
    (folder / "wrangler.jsonc").write_text(json.dumps({"name": "bench", "main": f"src/index.{ext}"}))
    imports, total = [], []
    for i in range(modules - 1):
        body = textwrap.dedent(f"""\
            import {{ DurableObject }} from "cloudflare:workers";
            export interface Shape{i} {{ id: number; label: string; tags: string[] }}
            export enum Kind{i} {{ A, B, C }}
            export class Store{i}<T extends object> extends DurableObject {{
              private items: Map<string, T> = new Map();
              constructor(private readonly prefix: string) {{ super(); }}
              put(key: string, value: T): void {{ this.items.set(this.prefix + key, value); }}
              get(key: string): T | undefined {{ return this.items.get(this.prefix + key); }}
              get size(): number {{ return this.items.size; }}
            }}
            export function describe{i}(shape: Shape{i}): string {{
              return `${{shape.id}}:${{shape.label}}:${{shape.tags.join(",")}}:${{Kind{i}.B}}`;
            }}
            export const value{i}: number = {i} as number;
        """)
        if not typescript:
            body = strip_types(body, f"m{i}.ts").code
        (folder / "src" / f"m{i}.{ext}").write_text(body)
        imports.append(f'import {{ value{i} }} from "./m{i}";')
        total.append(f"value{i}")
    (folder / "src" / f"index.{ext}").write_text("\n".join(imports) + f"\nexport const total = {' + '.join(total) or '0'};\n")


def probe(project: Path, cache: Path, expected: int) -> tuple[float, float, float]:
    env = {**os.environ, "DOBJ_CACHE_DIR": str(cache)}
    out = subprocess.run([sys.executable, "-c", _PROBE, str(project), str(expected)], env=env,
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1]), float(out[2])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench modules")
    parser.add_argument("--modules", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    expected = sum(range(args.modules - 1))
    rows: dict[str, list[float]] = {"cold": [], "warm (disk)": [], "warm (memory)": [], "reference: plain JS": []}
    imports: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ts, js = tmp / "ts", tmp / "js"
        make_project(ts, args.modules, typescript=True)
        make_project(js, args.modules, typescript=False)
        for run in range(args.runs):
            cache = tmp / f"cache{run}"
            cold, memory, imported = probe(ts, cache, expected)
            disk, _, _ = probe(ts, cache, expected)
            plain, _, _ = probe(js, cache, expected)
            rows["cold"].append(cold)
            rows["warm (disk)"].append(disk)
            rows["warm (memory)"].append(memory)
            rows["reference: plain JS"].append(plain)
            imports.append(imported)
    print(f"{args.modules}-module TypeScript project, median of {args.runs} runs (goal: whole load < 500 ms)")
    print(f"{'load':<22}{'median ms':>10}{'max ms':>10}")
    for name, values in rows.items():
        print(f"{name:<22}{statistics.median(values) * 1000:>10.1f}{max(values) * 1000:>10.1f}")
    print(f"{'(import of dobj modules)':<22}{statistics.median(imports) * 1000:>10.1f}{max(imports) * 1000:>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
