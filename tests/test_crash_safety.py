"""Crash safety: kill -9 at random moments never loses an acknowledged write."""

import random
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

import dobj
from conftest import SAMPLES

KILLS = 5


def repl_command(data) -> list[str]:
    return [sys.executable, "-m", "dobj.repl", str(SAMPLES / "counter.js"), "--data", str(data)]


def acknowledged_until_killed(data, seconds: float) -> int:
    """Feed increments to a dobj-repl on ``data``; kill -9 it after ``seconds``.

    Returns the last value the REPL printed, i.e. the last acknowledged increment.
    """
    proc = subprocess.Popen(repl_command(data), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, bufsize=1)
    last = 0

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

    threads = [threading.Thread(target=feed), threading.Thread(target=read)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    proc.kill()
    proc.wait()
    for t in threads:
        t.join(timeout=10)
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
        acknowledged = acknowledged_until_killed(data, rng.uniform(0.4, 1.2))
        count = stored_count(data)
        assert acknowledged > previous, "the REPL made no progress before it was killed"
        assert count >= acknowledged
        previous = count
