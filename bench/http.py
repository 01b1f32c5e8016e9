"""HTTP benchmark: ``dobj serve`` under load, beside Cloudflare's workerd in the same run.

    python -m bench http [--duration 10] [--runs 3] [--connections 16] [--no-anchor]
                         [--no-ceiling] [--durability normal|full] [--loadgen auto|wrk|python]

Three loads on loopback, each for ``--runs`` runs of ``--duration`` seconds: RPC
``increment`` on one object, RPC ``increment`` spread over 100 objects, and
``GET /fetch/COUNTER/x/count``. Prints requests per second and p50/p99 latency (medians of
the runs), the server's RSS after the loads, and the time from start to the first 200.

The load comes from ``wrk`` (``apt-get install wrk``) or, without it, from a keep-alive
asyncio client in a separate process (``--loadgen python``). The same loads run against
Cloudflare's workerd through ``shared/anchors/workerd/start.sh`` (it installs itself with
npm once) and both are printed side by side; ``--no-anchor`` skips workerd. When workerd
cannot run (no node or npm, the install fails, its port is taken) one line says why and
dobj's figures are printed alone. The ceiling column is a trivial ASGI app (one fixed JSON
body) on exactly dobj's server set-up (:mod:`bench.ceiling`): what no gateway on that
server can beat; ``--no-ceiling`` skips it. Durability is matched: by default dobj
commits without fsync and workerd keeps its data on tmpfs; with ``--durability full``
dobj fsyncs every commit and workerd writes to disk.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "__main__" and not __package__:  # run as a file: keep stdlib `http` importable
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import asyncio
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "samples" / "counter.js"
ANCHOR = ROOT.parent / "shared" / "anchors" / "workerd"
LOADS = (
    ("RPC increment, one object", "POST", "/rpc/COUNTER/one/increment", 0),
    ("RPC increment, 100 objects", "POST", "/rpc/COUNTER/spread-{i}/increment", 100),
    ("GET /fetch/COUNTER/x/count", "GET", "/fetch/COUNTER/x/count", 0),
)
WRK_SCRIPTS = {
    "POST": 'wrk.method = "POST"\nwrk.body = "[1]"\nwrk.headers["Content-Type"] = "application/json"\n',
    "spread": (
        'local counter = 0\n'
        'request = function()\n'
        '  counter = counter + 1\n'
        '  local path = "/rpc/COUNTER/spread-" .. (counter % 100) .. "/increment"\n'
        '  return wrk.format("POST", path, {["Content-Type"] = "application/json"}, "[1]")\n'
        'end\n'
    ),
}


# -- servers ---------------------------------------------------------------------------------
class StartFailed(Exception):
    """A server under test did not come up; the message says why, in one line."""


class Target:
    """A server under test, started as its own process group."""

    def __init__(self, name: str, command: list[str], health: str, env: dict | None = None,
                 start_timeout: float = 300.0) -> None:
        self.name, self.command, self.health, self.env = name, command, health, env
        self.start_timeout = start_timeout
        self.proc: subprocess.Popen | None = None
        self.port = free_port()
        self.first_200 = float("nan")
        self._stderr = tempfile.TemporaryFile()

    def start(self) -> Target:
        started = time.perf_counter()
        command = [c.replace("{port}", str(self.port)) for c in self.command]
        try:
            self.proc = subprocess.Popen(command, env={**os.environ, **(self.env or {})},
                                         stdout=subprocess.DEVNULL, stderr=self._stderr,
                                         start_new_session=True)
        except OSError as exc:
            raise StartFailed(f"{self.name} could not be started: {exc}") from None
        deadline = time.monotonic() + self.start_timeout
        while status(self.port, self.health) != 200:
            if self.proc.poll() is not None:
                raise StartFailed(f"{self.name} exited with status {self.proc.returncode}"
                                  f" before answering: {self.last_error()}")
            if time.monotonic() > deadline:
                self.stop()
                raise StartFailed(f"{self.name} did not answer GET {self.health} on port {self.port}"
                                  f" within {self.start_timeout:g} s: {self.last_error()}")
            time.sleep(0.005)
        self.first_200 = time.perf_counter() - started
        return self

    def last_error(self) -> str:
        """The last line the server wrote to stderr (what it said when it failed)."""
        self._stderr.seek(0)
        lines = [line.strip() for line in self._stderr.read().decode("utf-8", "replace").splitlines()]
        lines = [line for line in lines if line]
        return lines[-1][:200] if lines else "(it printed nothing on stderr)"

    def rss_mb(self) -> float:
        return tree_rss_kb(self.proc.pid) / 1024

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def dobj_target(durability: str, data: str) -> Target:
    command = [sys.executable, "-m", "dobj.cli", "serve", str(COUNTER), "--port", "{port}",
               "--data", data, "--durability", durability]
    return Target("dobj", command, "/healthz")


def ceiling_target() -> Target:
    """A trivial ASGI app on dobj's exact server set-up (see :mod:`bench.ceiling`)."""
    return Target("ceiling", [sys.executable, "-m", "bench.ceiling", "--port", "{port}"], "/healthz")


def workerd_target(data: str, start_timeout: float = 60.0) -> Target:
    return Target("workerd", ["bash", str(ANCHOR / "start.sh"), "raw", "{port}"], "/health",
                  env={"DATA": data}, start_timeout=start_timeout)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(port: int, path: str) -> int | None:
    """The status of one GET on a fresh connection, or None when nothing answers yet."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return None
    found = re.match(rb"HTTP/1\.[01] (\d{3})", head)
    return int(found.group(1)) if found else None


def tree_rss_kb(root: int) -> int:
    """Resident memory of a process and all its descendants, in KiB."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
        except OSError:
            continue
        total += int(found.group(1)) if found else 0
    return total


# -- load generators -------------------------------------------------------------------------
def run_wrk(url: str, method: str, spread: int, connections: int, seconds: float, scripts: Path) -> dict:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", url.replace("{i}", "0")]
    if method == "POST":
        command[1:1] = ["-s", str(scripts / ("spread.lua" if spread else "post.lua"))]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    latency = {q: _ms(v, unit) for q, v, unit in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\b", out, re.M)}
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": latency["50"], "p99_ms": latency["99"],
            "bad": int(bad.group(1)) if bad else 0, "errors": errors.group(1) if errors else ""}


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_python(url: str, method: str, spread: int, connections: int, seconds: float, _scripts) -> dict:
    command = [sys.executable, "-m", "bench.http", "--loadgen-worker", url, method, str(spread),
               str(connections), str(seconds)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout
    return json.loads(out)


async def _client(host: str, port: int, method: str, path: str, spread: int, deadline: float,
                  latencies: list[float], counts: dict) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    body = b"[1]" if method == "POST" else b""
    n = 0
    try:
        while time.perf_counter() < deadline:
            target = path.replace("{i}", str(n % spread)) if spread else path
            n += 1
            head = (f"{method} {target} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                    f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
            started = time.perf_counter()
            writer.write(head.encode() + body)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if not status_line.startswith(b"HTTP/1.1 2"):
                counts["bad"] += 1
    finally:
        writer.close()


def loadgen_worker(url: str, method: str, spread: int, connections: int, seconds: float) -> dict:
    """The fallback load generator: keep-alive connections, raw latencies."""
    found = re.match(r"http://([^:/]+):(\d+)(/.*)", url)
    host, port, path = found.group(1), int(found.group(2)), found.group(3)
    latencies: list[float] = []
    counts = {"bad": 0}

    async def main() -> float:
        started = time.perf_counter()
        deadline = started + seconds
        await asyncio.gather(*(_client(host, port, method, path, spread, deadline, latencies, counts)
                               for _ in range(connections)))
        return time.perf_counter() - started

    elapsed = asyncio.run(main())
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    return {"rps": len(latencies) / elapsed, "p50_ms": pick(0.5), "p99_ms": pick(0.99),
            "bad": counts["bad"], "errors": ""}


# -- the benchmark ---------------------------------------------------------------------------
def measure(target: Target, args, run_load, scripts: Path) -> dict:
    """Start ``target``, run every load ``args.runs`` times, stop it; the figures."""
    target.start()
    try:
        figures = {"first_200": target.first_200, "rss_idle": target.rss_mb()}
        warm = f"http://127.0.0.1:{target.port}{LOADS[0][2]}"
        run_load(warm, "POST", 0, args.connections, 1, scripts)
        for label, method, path, spread in LOADS:
            url = f"http://127.0.0.1:{target.port}{path}"
            runs = [run_load(url, method, spread, args.connections, args.duration, scripts)
                    for _ in range(args.runs)]
            figures[label] = {key: statistics.median(r[key] for r in runs) for key in ("rps", "p50_ms", "p99_ms")}
            figures[label]["all_rps"] = [round(r["rps"]) for r in runs]
            figures[label]["bad"] = sum(r["bad"] for r in runs)
            figures[label]["errors"] = "; ".join(r["errors"] for r in runs if r["errors"])
        figures["rss_after"] = target.rss_mb()
        return figures
    finally:
        target.stop()


def report(results: dict[str, dict], args, loadgen: str, anchor_note: str = "") -> str:
    """The table: dobj beside the ceiling and workerd when they ran, with dobj's share of
    each, and ``anchor_note`` (why workerd did not run)."""
    names = list(results)
    others = [n for n in names if n != "dobj"]
    head = f"{'load':<28}" + "".join(f"{n + ' req/s':>15}{'p50 ms':>9}{'p99 ms':>9}" for n in names)
    head += "".join(f"{'dobj/' + n:>15}" for n in others)
    lines = [f"HTTP on loopback, {args.connections} connections, {args.runs} x {args.duration:g} s per load"
             f" (medians), load from {loadgen}, durability {args.durability}", "", head]
    for label, *_ in LOADS:
        row = f"{label:<28}"
        for n in names:
            f = results[n][label]
            row += f"{f['rps']:>15,.0f}{f['p50_ms']:>9.2f}{f['p99_ms']:>9.2f}"
        for n in others:
            row += f"{results['dobj'][label]['rps'] / results[n][label]['rps']:>14.2f}x"
        lines.append(row)
    for key, label, unit in (("rss_idle", "RSS idle", "MB"), ("rss_after", "RSS after load", "MB"),
                             ("first_200", "start to first 200", "s")):
        row = f"{label:<28}" + "".join(f"{results[n][key]:>13.2f} {unit:<2}{'':>18}" for n in names)
        lines.append(row.rstrip())
    lines.append("")
    for n in names:
        for label, *_ in LOADS:
            f = results[n][label]
            note = f"  non-2xx {f['bad']}" if f["bad"] else ""
            note += f"  socket errors {f['errors']}" if f["errors"] else ""
            lines.append(f"{n} {label}: runs {f['all_rps']} req/s{note}")
    if anchor_note:
        lines += ["", anchor_note]
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench http", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="runs per load (default 3)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections (default 16)")
    parser.add_argument("--anchor", action=argparse.BooleanOptionalAction, default=True,
                        help="run the same loads against workerd and print it beside dobj"
                        " (default; --no-anchor skips it)")
    parser.add_argument("--ceiling", action=argparse.BooleanOptionalAction, default=True,
                        help="run the same loads against a trivial ASGI app on dobj's server"
                        " set-up, the most any gateway on it can answer (default; --no-ceiling skips it)")
    parser.add_argument("--durability", choices=("normal", "full"), default="normal",
                        help="normal: dobj without fsync vs workerd on tmpfs; full: fsync vs disk")
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator (default: wrk when installed)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table."""
    args = build_parser().parse_args(argv)
    loadgen = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
        if loadgen == "python":
            print("wrk is not installed (apt-get install wrk); using the Python load generator,"
                  " which shares the CPU with the server", file=sys.stderr)
    elif loadgen == "wrk" and not shutil.which("wrk"):
        print("wrk is not installed; install it with: apt-get install wrk", file=sys.stderr)
        return 2
    run_load = run_wrk if loadgen == "wrk" else run_python
    with tempfile.TemporaryDirectory(prefix="dobj-bench-") as scratch:
        scripts = Path(scratch)
        (scripts / "post.lua").write_text(WRK_SCRIPTS["POST"])
        (scripts / "spread.lua").write_text(WRK_SCRIPTS["spread"])
        try:
            results = {"dobj": measure(dobj_target(args.durability, str(scripts / "dobj-data")),
                                       args, run_load, scripts)}
            if args.ceiling:
                results["ceiling"] = measure(ceiling_target(), args, run_load, scripts)
        except StartFailed as exc:
            raise SystemExit(str(exc)) from None
        note = ""
        if args.anchor:
            figures, reason = run_anchor(args, run_load, scripts)
            if figures is not None:
                results["workerd"] = figures
            else:
                note = f"workerd (the reference) was not run: {reason}"
    print(report(results, args, loadgen, note))
    return 0


def run_anchor(args, run_load, scripts: Path) -> tuple[dict | None, str]:
    """The same loads against workerd (data on tmpfs, or on disk with full durability):
    ``(figures, "")``, or ``(None, why it could not run)``."""
    if not (ANCHOR / "start.sh").exists():
        return None, f"there is no workerd anchor at {ANCHOR}"
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        return None, f"{' and '.join(missing)} not found on PATH (workerd needs node >= 18 and npm)"
    parent = "/dev/shm" if args.durability == "normal" and Path("/dev/shm").is_dir() else str(scripts)
    try:
        with tempfile.TemporaryDirectory(prefix="workerd-data-", dir=parent) as data:
            workerd_target(data, start_timeout=300).start().stop()  # installs it once; not timed
            return measure(workerd_target(data), args, run_load, scripts), ""
    except StartFailed as exc:
        return None, str(exc)
    except (subprocess.CalledProcessError, OSError, ValueError, KeyError) as exc:
        return None, f"the load against workerd failed: {exc}"


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--loadgen-worker":
        url, method, spread, connections, seconds = sys.argv[2:7]
        print(json.dumps(loadgen_worker(url, method, int(spread), int(connections), float(seconds))))
        sys.exit(0)
    sys.exit(main())
