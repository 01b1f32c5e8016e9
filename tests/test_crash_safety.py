"""Crash safety: kill -9 at random moments never loses an acknowledged write."""

import random
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import dobj
from conftest import SAMPLES, SCALE

KILLS = 5 * SCALE


def kill_during(proc, threads: list[threading.Thread], seconds: float,
                answered: threading.Event | None = None) -> None:
    """Run ``threads`` against ``proc``, kill -9 it after ``seconds``, let the threads end.

    With ``answered``, the clock starts once it is set (the process has acknowledged a
    first write, so its data folder exists): the kill lands while writes flow, never
    before the process could have acknowledged anything.
    """
    for t in threads:
        t.start()
    if answered is not None and not answered.wait(timeout=120):
        proc.kill()
        proc.wait()
        raise AssertionError("the process acknowledged nothing within 120 s")
    time.sleep(seconds)
    proc.kill()
    proc.wait()
    for t in threads:
        t.join(timeout=15)


def repl_command(data) -> list[str]:
    return [sys.executable, "-m", "dobj.repl", str(SAMPLES / "counter.js"), "--data", str(data)]


def acknowledged_until_killed(data, seconds: float) -> int:
    """Feed increments to a dobj-repl on ``data``; kill -9 it ``seconds`` after its first answer.

    Returns the last value the REPL printed, i.e. the last acknowledged increment.
    """
    proc = subprocess.Popen(repl_command(data), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
    last = 0
    answered = threading.Event()

    def feed():
        try:
            while proc.poll() is None:
                proc.stdin.write("COUNTER/global.increment()\n" * 20)
                proc.stdin.flush()
                time.sleep(0.001)
        except (BrokenPipeError, OSError, ValueError):
            pass

    def read():
        nonlocal last
        for line in proc.stdout:
            if line.strip().isdigit():
                last = int(line)
                answered.set()

    kill_during(proc, [threading.Thread(target=feed), threading.Thread(target=read)], seconds, answered)
    try:
        proc.stdin.close()
    except BrokenPipeError:  # what was still buffered for the killed process
        pass
    proc.stdout.close()
    return last


def stored_count(data) -> int:
    db = sqlite3.connect(data / "dobj.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        db.close()
    with dobj.Runtime.load(SAMPLES / "counter.js", data=data) as rt:
        return rt.get("COUNTER", "global").storage.get("count", 0)


@pytest.mark.slow
def test_repl_killed_at_random_moments_loses_no_acknowledged_increment(tmp_path):
    data = tmp_path / "data"
    rng = random.Random(20261129)
    previous = 0
    for _ in range(KILLS):
        acknowledged = acknowledged_until_killed(data, rng.uniform(0.05, 0.8))
        count = stored_count(data)
        assert acknowledged > previous, "the REPL made no progress before it was killed"
        assert count >= acknowledged
        previous = count


def test_a_repl_killed_right_after_its_first_answer_keeps_that_write(tmp_path):
    data = tmp_path / "data"
    acknowledged = acknowledged_until_killed(data, 0)
    assert acknowledged >= 1 and stored_count(data) >= acknowledged


def serve_command(data) -> list[str]:
    return [sys.executable, "-m", "dobj.cli", "serve", str(SAMPLES / "counter.js"), "--port", "0",
            "--data", str(data)]


def start_server(data):
    """A dobj serve subprocess; returns (process, port) once it listens."""
    import re

    proc = subprocess.Popen(serve_command(data), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    for line in proc.stdout:
        found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
        if found:
            return proc, int(found.group(1))
    raise AssertionError(f"dobj serve did not start: {proc.stderr.read()}")


def load_until_killed(data, seconds: float, clients: int = 4) -> dict[str, int]:
    """Increment several objects over keep-alive connections; kill -9 the server after
    ``seconds``. Returns the last acknowledged value of each object."""
    import http.client
    import json

    proc, port = start_server(data)
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()

    def client(name):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            while True:
                conn.request("POST", f"/rpc/COUNTER/{name}/increment", body=b"[1]")
                reply = json.loads(conn.getresponse().read())
                with lock:
                    acknowledged[name] = reply["result"]
        except (OSError, http.client.HTTPException, ValueError):
            return  # the server died under us: what it answered before is what counts
        finally:
            conn.close()

    kill_during(proc, [threading.Thread(target=client, args=(f"c{i}",)) for i in range(clients)], seconds)
    proc.stdout.close()
    proc.stderr.close()
    return acknowledged


@pytest.mark.slow
def test_server_killed_at_random_moments_loses_no_acknowledged_write(tmp_path):
    data = tmp_path / "data"
    rng = random.Random(7)
    for _ in range(KILLS):
        acknowledged = load_until_killed(data, rng.uniform(0.5, 1.5))
        assert acknowledged, "no request was answered before the kill"
        with dobj.Runtime.load(SAMPLES / "counter.js", data=data) as rt:
            for name, value in acknowledged.items():
                assert rt.get("COUNTER", name).storage["count"] >= value, name
        db = sqlite3.connect(data / "dobj.sqlite3")
        try:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finally:
            db.close()
