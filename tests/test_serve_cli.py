"""`dobj serve` as a user runs it: a real subprocess, real signals, a real data folder."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

import dobj
from dobj.cli import build_parser, parse_size

SAMPLE = Path(__file__).resolve().parent.parent / "samples" / "counter.js"
SCRIPT = Path(sys.executable).with_name("dobj")
DOBJ = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "dobj.cli"]

BUNDLE = r"""
class Counter {
  constructor(state, env) { this.state = state; this.env = env; }
  increment(by = 1) {
    const next = (this.state.storage.get("count") || 0) + by;
    this.state.storage.put("count", next);
    return next;
  }
  count() { return this.state.storage.get("count") || 0; }
  mark() { this.state.storage.put("marked", true); return true; }
  marked() { return this.state.storage.get("marked") || false; }
  async slow(ms) {
    await this.env.COUNTER.getByName("flag").mark();
    await new Promise((resolve) => setTimeout(resolve, ms));
    this.state.storage.put("slow", ms);
    return ms;
  }
  arm(ms) { const due = Date.now() + ms; this.state.storage.setAlarm(due); return due; }
  alarm() { this.state.storage.put("fired", (this.state.storage.get("fired") || 0) + 1); }
  fired() { return this.state.storage.get("fired") || 0; }
  boom() { throw new Error("secret detail"); }
}
exports.objects = { Counter };
"""


class Serving:
    """A ``dobj serve`` subprocess on a free port; its banner is read before returning."""

    def __init__(self, bundle: Path, data: Path, *options: str) -> None:
        command = [*DOBJ, "serve", str(bundle), "--port", "0",
                   "--data", str(data), *options]
        self.proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, cwd=data.parent)
        self.banner = []
        for line in self.proc.stdout:
            self.banner.append(line)
            if line.startswith("try:"):
                break
        found = re.search(r"http://127\.0\.0\.1:(\d+)", "".join(self.banner))
        self.url = found and found.group(0)
        self.stderr = ""

    def rpc(self, path: str, *args) -> dict:
        request = urllib.request.Request(f"{self.url}/rpc/{path}", data=json.dumps(args).encode())
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())["result"]

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        _, self.stderr = self.proc.communicate(timeout=30)
        self.proc.stdout.close()
        return self.proc.returncode

    def __enter__(self) -> Serving:
        if self.url is None:
            status = self.stop()
            raise AssertionError(f"dobj serve did not start (exit {status}): {self.stderr}")
        return self

    def __exit__(self, *exc) -> None:
        self.stop(signal.SIGKILL if exc[0] else signal.SIGTERM)


@pytest.fixture
def bundle(tmp_path):
    path = tmp_path / "bundle.js"
    path.write_text(BUNDLE)
    return path


def wait_for(predicate, seconds: float = 10.0, what: str = "condition") -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def test_the_seed_curl_example_answers_verbatim(tmp_path):
    with Serving(SAMPLE, tmp_path / "data") as server:
        command = (f"curl -s -X POST {server.url}/rpc/COUNTER/global/increment"
                   " -H 'content-type: application/json' -d '[3]'")
        if shutil.which("curl"):
            out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True).stdout
        else:
            request = urllib.request.Request(f"{server.url}/rpc/COUNTER/global/increment", data=b"[3]",
                                             headers={"content-type": "application/json"})
            with urllib.request.urlopen(request) as response:
                out = response.read().decode()
    assert out == '{"ok":true,"result":3}'


def test_the_banner_shows_the_address_and_a_curl_line_that_works(tmp_path):
    with Serving(SAMPLE, tmp_path / "data") as server:
        banner = "".join(server.banner)
        assert f"on {server.url}" in banner
        curl = banner.split("try: ", 1)[1].splitlines()[0]
        assert curl == f"curl -X POST {server.url}/rpc/COUNTER/global/increment -d '[]'"
        assert "COUNTER      Counter: increment; handlers: fetch, alarm" in banner
        if shutil.which("curl"):
            out = subprocess.run(["bash", "-c", curl.replace("curl ", "curl -s ", 1)],
                                 capture_output=True, text=True, check=True).stdout
            assert json.loads(out) == {"ok": True, "result": 1}
    assert server.proc.returncode == 0


def test_sigterm_finishes_an_in_flight_request_then_exits_cleanly(tmp_path, bundle):
    data = tmp_path / "data"
    with Serving(bundle, data, "--cpu-timeout", "10s") as server:
        result = {}

        def slow_call():
            with httpx.Client(timeout=20) as client:
                result["response"] = client.post(f"{server.url}/rpc/COUNTER/slowly/slow", content=b"[600]")

        caller = threading.Thread(target=slow_call)
        caller.start()
        wait_for(lambda: server.rpc("COUNTER/flag/marked"), what="the slow call to start")
        assert server.stop(signal.SIGTERM) == 0
        caller.join(20)
    assert result["response"].json() == {"ok": True, "result": 600}
    with dobj.Runtime.load(bundle, data=data) as rt:
        assert rt.get("COUNTER", "slowly").storage["slow"] == 600


def test_a_second_server_on_the_same_data_folder_is_refused(tmp_path, bundle):
    data = tmp_path / "data"
    with Serving(bundle, data) as first:
        second = Serving(bundle, data)
        assert second.url is None
        assert second.stop() == 1
        assert "in use" in second.stderr and str(data) in second.stderr
        assert first.rpc("COUNTER/global/increment") == 1


def test_a_bundle_that_fails_to_load_is_reported_with_its_location(tmp_path):
    broken = tmp_path / "broken.js"
    broken.write_text("class A {}\n\nexports.objects = { A: 1 +* };\n")
    done = subprocess.run([*DOBJ, "serve", str(broken), "--port", "0",
                           "--data", str(tmp_path / "data")], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert re.search(r"broken\.js:3:\d+", done.stderr), done.stderr
    assert done.stdout == ""


@pytest.mark.slow
def test_kill_9_during_load_loses_no_acknowledged_increment(tmp_path, bundle):
    data = tmp_path / "data"
    acknowledged: list[int] = []

    def load(url: str) -> None:
        with httpx.Client(base_url=url, timeout=5) as client:
            while True:
                try:
                    response = client.post("/rpc/COUNTER/hammered/increment", content=b"[1]")
                except httpx.HTTPError:
                    return
                acknowledged.append(response.json()["result"])

    with Serving(bundle, data) as server:
        clients = [threading.Thread(target=load, args=(server.url,)) for _ in range(8)]
        for client in clients:
            client.start()
        wait_for(lambda: len(acknowledged) >= 500, what="500 acknowledged increments")
        assert server.stop(signal.SIGKILL) == -signal.SIGKILL
        for client in clients:
            client.join(10)
    assert len(set(acknowledged)) == len(acknowledged)
    with Serving(bundle, data) as server:
        assert server.rpc("COUNTER/hammered/count") >= max(acknowledged)


def test_an_alarm_that_came_due_while_the_server_was_down_fires_after_restart(tmp_path, bundle):
    data = tmp_path / "data"
    with Serving(bundle, data) as server:
        due = server.rpc("COUNTER/sleeper/arm", 2500)  # long enough to outlast a slow shutdown
        assert server.rpc("COUNTER/sleeper/fired") == 0
    assert server.proc.returncode == 0
    with dobj.Runtime.load(bundle, data=data) as rt:  # the manual clock: nothing fires here
        sleeper = rt.get("COUNTER", "sleeper")
        assert sleeper.alarm == due and "fired" not in sleeper.storage
    wait_for(lambda: time.time() * 1000 > due, what="the alarm to come due")
    with Serving(bundle, data) as server:
        wait_for(lambda: server.rpc("COUNTER/sleeper/fired") == 1, what="the alarm to fire")


def test_log_level_info_logs_one_line_per_request_and_the_default_is_quiet(tmp_path, bundle):
    with Serving(bundle, tmp_path / "a", "--log-level", "info") as server:
        server.rpc("COUNTER/global/increment")
    assert "POST /rpc/COUNTER/global/increment 200" in server.stderr
    with Serving(bundle, tmp_path / "b") as server:
        server.rpc("COUNTER/global/increment")
    assert "/rpc/COUNTER" not in server.stderr


def test_listening_beyond_loopback_warns(tmp_path, bundle):
    with Serving(bundle, tmp_path / "data", "--host", "0.0.0.0") as server:
        assert server.rpc("COUNTER/global/increment") == 1
    assert "warning" in server.stderr and "0.0.0.0" in server.stderr


def test_the_options_reach_the_server(tmp_path, bundle):
    manifest = tmp_path / "dobj.json"
    manifest.write_text('{"objects": {"TALLY": "Counter"}}')
    options = ("--manifest", str(manifest), "--max-body", "1k", "--no-dev-errors", "--durability", "full")
    with Serving(bundle, tmp_path / "data", *options) as server:
        assert "TALLY" in "".join(server.banner)
        assert server.rpc("TALLY/global/increment", 2) == 2
        with httpx.Client(base_url=server.url) as client:
            too_big = client.post("/rpc/TALLY/global/increment", content=b"[" + b" " * 1024 + b"1]")
            assert (too_big.status_code, too_big.json()["error"]["code"]) == (413, "payload_too_large")
            error = client.post("/rpc/TALLY/global/boom").json()["error"]
            assert error["code"] == "execution_error" and "secret" not in json.dumps(error)


def test_every_option_of_serve_has_help():
    parser = build_parser()
    serve = parser._subparsers._group_actions[0].choices["serve"]
    for action in serve._actions:
        assert action.help, f"{action.dest} has no help text"
    options = {o for action in serve._actions for o in action.option_strings}
    assert {"--host", "--port", "--data", "--cpu-timeout", "--max-body", "--manifest",
            "--no-dev-errors", "--log-level", "--durability"} <= options


def test_sizes_read_like_people_write_them():
    assert parse_size("16MiB") == 16 * 1024 * 1024
    assert parse_size("512k") == 512 * 1024
    assert parse_size("10MB") == 10_000_000
    assert parse_size("2048") == 2048
    with pytest.raises(dobj.BadRequest):
        parse_size("lots")
