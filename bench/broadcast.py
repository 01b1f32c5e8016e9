"""WebSocket broadcast benchmark: one chat room, every message delivered to every client,
dobj beside workerd serving the same project, loaded by the same client in the same run.

    python -m bench broadcast [--clients 16] [--messages 200] [--window 2] [--runs 3]
                              [--idle 1000] [--no-anchor]

The room is ``bench/broadcast_room`` (hibernating sockets; ``webSocketMessage`` sends each
message to every socket, nothing stored). N clients connect (Python ``websockets``, one
asyncio process); each sends M messages, keeping at most ``--window`` of its own in flight (it
waits for its own message to come back before sending more), so the server is never flooded
beyond what it delivers. Every message must reach every client: delivered messages per second
(N x N x M / elapsed) and the delivery latency (send to receive, one clock) are reported.
Memory per idle hibernated socket: the server's resident memory (its whole process tree)
before and after ``--idle`` connections open in one room, and after they close again.

dobj runs as ``dobj serve bench/broadcast_room``; workerd through Miniflare as ``wrangler dev``
does (``tests/projects/record.mjs --serve``; needs node and the anchor of
``shared/anchors/workerd/start.sh``).
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.http import StartFailed, Target

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "bench" / "broadcast_room"
RECORDER = ROOT / "tests" / "projects" / "record.mjs"


async def broadcast(port: int, clients: int, messages: int, window: int, room: str) -> dict:
    """One run: ``clients`` clients in one room, each sending ``messages`` messages."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{port}/room/{room}/ws"
    sockets = [await connect(url, max_size=None, compression=None) for _ in range(clients)]
    latencies: list[float] = []
    received = [0] * clients
    expected = clients * messages

    async def client(i: int) -> None:
        ws = sockets[i]
        own_back = asyncio.Semaphore(window)

        async def sender() -> None:
            for seq in range(messages):
                await own_back.acquire()
                await ws.send(f"{i}:{seq}:{time.perf_counter_ns()}")

        task = asyncio.ensure_future(sender())
        while received[i] < expected:
            text = await ws.recv()
            now = time.perf_counter_ns()
            sender_id, _, sent = text.split(":")
            latencies.append((now - int(sent)) / 1e6)
            received[i] += 1
            if int(sender_id) == i:
                own_back.release()
        await task

    started = time.perf_counter()
    try:
        await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(clients))), timeout=300)
    finally:
        elapsed = time.perf_counter() - started
        for ws in sockets:
            await ws.close()
    delivered = sum(received)
    latencies.sort()
    return {"delivered_per_s": delivered / elapsed, "missing": clients * expected - delivered,
            "p50_ms": latencies[len(latencies) // 2], "p99_ms": latencies[int(len(latencies) * 0.99)]}


async def idle_memory(target: Target, count: int) -> dict:
    """Resident memory of the server with ``count`` idle sockets open in one room."""
    from websockets.asyncio.client import connect

    url = f"ws://127.0.0.1:{target.port}/room/idle/ws"
    before = target.rss_mb()
    sockets = []
    for _ in range(count):
        sockets.append(await connect(url, compression=None))
    await asyncio.sleep(1.0)
    opened = target.rss_mb()
    for ws in sockets:
        await ws.close()
    await asyncio.sleep(1.0)
    closed = target.rss_mb()
    return {"per_socket_kb": (opened - before) * 1024 / count, "before_mb": before, "open_mb": opened,
            "closed_mb": closed}


def measure(target: Target, args) -> dict:
    target.start()
    try:
        rows = {}
        for n in args.sizes:
            asyncio.run(broadcast(target.port, n, max(args.messages // 4, 10), args.window, f"warm{n}"))
            runs = [asyncio.run(broadcast(target.port, n, args.messages, args.window, f"r{n}-{k}"))
                    for k in range(args.runs)]
            rows[n] = {key: statistics.median(r[key] for r in runs) for key in ("delivered_per_s", "p50_ms", "p99_ms")}
            rows[n]["missing"] = sum(r["missing"] for r in runs)
        rows["idle"] = asyncio.run(idle_memory(target, args.idle)) if args.idle else None
        return rows
    finally:
        target.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench broadcast", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="clients in the room of the main row (default 16)")
    parser.add_argument("--also", type=int, nargs="*", default=[4, 64], help="other room sizes (default 4 64)")
    parser.add_argument("--messages", type=int, default=200, help="messages each client sends per run (default 200)")
    parser.add_argument("--window", type=int, default=2, help="own messages a client keeps in flight (default 2)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each size (default 3, medians)")
    parser.add_argument("--idle", type=int, default=1000, help="idle sockets for the memory row (default 1000; 0: skip)")
    parser.add_argument("--anchor", action=argparse.BooleanOptionalAction, default=True,
                        help="serve the same project on workerd and load it too (default)")
    args = parser.parse_args(argv)
    args.sizes = [args.clients] + [n for n in args.also if n != args.clients]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * args.idle + 1024)), hard))

    print(f"python -m bench broadcast {' '.join(argv if argv is not None else sys.argv[2:])}".rstrip())
    results, note = {}, ""
    with tempfile.TemporaryDirectory(prefix="dobj-bench-") as scratch:
        dobj = Target("dobj", [sys.executable, "-m", "dobj.cli", "serve", str(PROJECT), "--port", "{port}",
                               "--data", str(Path(scratch) / "dobj-data")], "/health")
        results["dobj"] = measure(dobj, args)
        if not args.anchor:
            note = "workerd was not run (--no-anchor)"
        elif shutil.which("node") is None:
            note = "workerd was not run: node is not on PATH"
        else:
            data = tempfile.mkdtemp(dir="/dev/shm" if Path("/dev/shm").is_dir() else scratch)
            workerd = Target("workerd", ["node", str(RECORDER), "--serve", str(PROJECT), "--port", "{port}",
                                         "--data", data], "/health", start_timeout=120)
            try:
                results["workerd"] = measure(workerd, args)
            except (StartFailed, OSError) as exc:
                note = f"workerd was not run: {exc}"
            finally:
                shutil.rmtree(data, ignore_errors=True)
    print(report(results, args, note))
    return 0


def report(results: dict, args, note: str) -> str:
    sides = list(results)
    head = f"{'':34}" + "".join(f"{s:>22}" for s in sides) + ("      dobj / workerd" if len(sides) == 2 else "")
    lines = [f"One room, every message to every client; {args.messages} messages per client, window"
             f" {args.window}, {args.runs} runs (medians); client: Python websockets, one process.", "", head]
    for n in args.sizes:
        cells = [results[s][n] for s in sides]
        row = f"{n:>3} clients: delivered/s"
        lines.append(f"{row:34}" + "".join(f"{c['delivered_per_s']:>22,.0f}" for c in cells)
                     + (f"{cells[0]['delivered_per_s'] / cells[1]['delivered_per_s']:>20.2f}" if len(cells) == 2 else ""))
        lines.append(f"{'      p50 / p99 latency (ms)':34}" + "".join(f"{c['p50_ms']:>12.1f} / {c['p99_ms']:<7.1f}" for c in cells))
        missing = [c["missing"] for c in cells]
        if any(missing):
            lines.append(f"{'      messages missing':34}" + "".join(f"{m:>22}" for m in missing))
    idle = [results[s]["idle"] for s in sides]
    if all(idle):
        lines.append(f"{f'{args.idle} idle sockets: KB per socket':34}" + "".join(f"{i['per_socket_kb']:>22.1f}" for i in idle))
        lines.append(f"{'      RSS MB before / open / closed':34}"
                     + "".join(f"{i['before_mb']:>8.0f} /{i['open_mb']:>5.0f} /{i['closed_mb']:>5.0f}" for i in idle))
    lines.append("")
    lines.append("goals: dobj >= 2 x workerd delivered/s at 16 clients; p99 < 50 ms; < 10 KB per idle hibernated socket")
    if note:
        lines.append(note)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
