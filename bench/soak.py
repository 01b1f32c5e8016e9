"""Soak: mixed RPC, fetch and alarms over many objects against ``dobj serve``, bounded.

    python -m bench soak [--seconds 60] [--objects 1000] [--connections 16]

Reports throughput, p99 latency, errors, the server's RSS at start and end (growth should
stay within 10%), and lost writes: after the load the server is stopped with SIGTERM and
every object's stored count is compared with the last increment the server acknowledged
for it (lost writes must be 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUNDLE = HERE / "soak_bundle.js"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def request(reader, writer, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    head = (f"{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {len(body)}\r\n"
            "content-type: application/json\r\n\r\n").encode()
    writer.write(head + body)
    status_line = await reader.readline()
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode().partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return int(status_line.split()[1]), await reader.readexactly(length)


async def client(port: int, objects: int, deadline: float, acked: dict, stats: dict, seed: int):
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while time.monotonic() < deadline:
            name = f"o{rng.randrange(objects)}"
            roll = rng.random()
            start = time.perf_counter()
            if roll < 0.6:
                status, body = await request(reader, writer, "POST", f"/rpc/SOAK/{name}/increment", b"[]")
                if status == 200:
                    acked[name] = max(acked.get(name, 0), json.loads(body)["result"])
            elif roll < 0.9:
                status, body = await request(reader, writer, "GET", f"/fetch/SOAK/{name}/count")
            else:
                delay = rng.randrange(50, 2000)
                status, body = await request(reader, writer, "POST", f"/rpc/SOAK/{name}/arm", f"[{delay}]".encode())
            stats["latencies"].append(time.perf_counter() - start)
            stats["ok" if status == 200 else "errors"] += 1
    finally:
        writer.close()


async def load(port: int, args) -> tuple[dict, dict]:
    acked: dict[str, int] = {}
    stats = {"ok": 0, "errors": 0, "latencies": []}
    deadline = time.monotonic() + args.seconds
    await asyncio.gather(*[client(port, args.objects, deadline, acked, stats, seed)
                           for seed in range(args.connections)])
    return acked, stats


def wait_ready(port: int, proc, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"dobj serve exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("dobj serve did not start listening")


def stored_counts(data: Path) -> tuple[dict[str, int], int]:
    """Each object's stored count, and the number of alarms that ran, read after the stop."""
    import dobj

    with dobj.Runtime.load(BUNDLE, data=data) as rt:
        handles = [rt.get(ns, name) for ns, name in rt.objects()]
        counts = {h.name: h.storage.get("count", 0) for h in handles}
        return counts, sum(h.storage.get("alarms", 0) for h in handles)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench soak", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the load (default 60)")
    parser.add_argument("--objects", type=int, default=1000, help="objects to spread over (default 1000)")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive clients (default 16)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-m", "dobj.cli", "serve", str(BUNDLE), "--port", str(port),
                                 "--data", str(data)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_ready(port, proc)
            warm = asyncio.run(load(port, argparse.Namespace(seconds=1.0, objects=args.objects,
                                                             connections=args.connections)))
            rss_start = rss_kb(proc.pid)
            started = time.monotonic()
            acked, stats = asyncio.run(load(port, args))
            elapsed = time.monotonic() - started
            rss_end = rss_kb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=60)
        for name, value in warm[0].items():
            acked[name] = max(acked.get(name, 0), value)
        stored, alarms = stored_counts(data)
    lost = sum(max(0, value - stored.get(name, 0)) for name, value in acked.items())
    latencies = sorted(stats["latencies"])
    p99 = latencies[int(len(latencies) * 0.99)] * 1000 if latencies else float("nan")
    growth = (rss_end - rss_start) / rss_start * 100 if rss_start else float("nan")
    print(f"Soak: {args.seconds:g} s, {args.objects:,} objects, {args.connections} connections"
          " (60% RPC increment, 30% fetch, 10% arm an alarm)")
    print(f"  requests        {stats['ok'] + stats['errors']:,} ({(stats['ok'] + stats['errors']) / elapsed:,.0f}/s)")
    print(f"  errors          {stats['errors']:,}")
    print(f"  alarms run      {alarms:,}")
    print(f"  p99 latency     {p99:.1f} ms")
    print(f"  RSS             {rss_start / 1024:.1f} MB at start, {rss_end / 1024:.1f} MB at end ({growth:+.1f}%)")
    print(f"  server exit     {proc.returncode} {err.decode().strip()[-200:] if proc.returncode else ''}".rstrip())
    print(f"  lost writes     {lost} (acknowledged increments missing after restart)")
    return 0 if lost == 0 and stats["errors"] == 0 and proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
