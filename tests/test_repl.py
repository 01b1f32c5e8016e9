"""The REPL: through prompt_toolkit's pipe input, as a real executable, and in a terminal."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from io import StringIO
from pathlib import Path

import pytest
from prompt_toolkit.document import Document
from prompt_toolkit.history import InMemoryHistory
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput
from rich.console import Console

import dobj
from dobj.commands import Interpreter
from dobj.commands.complete import snapshot
from dobj.prompt import CommandCompleter, highlight, open_history, toolbar_text
from dobj.commands import split_commands
from dobj.repl import run_interactive

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "samples" / "counter.js"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

LESSON = """
class Lesson {
  constructor(state) { this.state = state; }
  remind(seconds, note) {
    this.state.storage.put("note", note);
    this.state.storage.setAlarm(Date.now() + seconds * 1000);
    return this.state.storage.getAlarm();
  }
  alarm() {
    console.log("ring:", this.state.storage.get("note"));
    this.state.storage.put("rang", true);
  }
  boom() { throw new TypeError("bad thing"); }
}
exports.objects = { Lesson };
"""


@pytest.fixture
def lesson_js(tmp_path):
    path = tmp_path / "lesson.js"
    path.write_text(textwrap.dedent(LESSON), encoding="utf-8")
    return path


def drive(bundle: Path, keys: str, history=None, **options) -> tuple[int, str]:
    """Run the interactive REPL on ``bundle`` with ``keys`` typed; returns (code, screen text)."""
    out = StringIO()
    with create_pipe_input() as inp, Interpreter(dobj.Runtime.load(bundle, **options)) as interp:
        inp.send_text(keys)
        code = run_interactive(interp, input=inp, output=DummyOutput(),
                               console=Console(file=out, width=160, color_system=None),
                               history=history or InMemoryHistory())
    return code, out.getvalue()


# -- through prompt_toolkit's pipe input -----------------------------------------------------
@pytest.mark.slow
def test_real_clock_alarm_fires_on_time_while_the_repl_waits_at_its_prompt(tmp_path):
    path = tmp_path / "ring.js"
    path.write_text(textwrap.dedent("""
        class Ring {
          constructor(state) { this.s = state.storage; }
          arm(ms) { const due = Date.now() + ms; this.s.put("due", due); this.s.setAlarm(due); }
          alarm() { this.s.put("rang", Date.now()); }
        }
        exports.objects = { Ring };
    """), encoding="utf-8")
    with create_pipe_input() as inp, Interpreter(dobj.Runtime.load(path, clock="real")) as interp:
        def type_slowly():
            inp.send_text("RING/r.arm(300)\r")
            time.sleep(0.8)  # the REPL sits at its prompt meanwhile
            inp.send_text("quit\r")

        typist = threading.Thread(target=type_slowly)
        typist.start()
        run_interactive(interp, input=inp, output=DummyOutput(),
                        console=Console(file=StringIO(), width=160, color_system=None),
                        history=InMemoryHistory())
        typist.join()
        stored = dict(interp.rt.get("RING", "r").storage)
        assert 0 <= stored["rang"] - stored["due"] <= 50


def test_a_teaching_session_runs_end_to_end(lesson_js):
    keys = "".join(line + "\r" for line in [
        "LESSON/a.remind(", "  5, 'stretch')",       # a call over two lines sets an alarm
        "storage LESSON/a",
        "put LESSON/a note 'walk' + '!'",
        "LESSON/a",
        "alarms",
        "tick 10s",
        "trace",
    ]) + "\x04"
    code, screen = drive(lesson_js, keys)
    assert code == 0
    assert "LESSON (Lesson)" in screen  # the banner
    assert re.search(r"│ note\s+│ \"stretch\"\s+│ string\s+│\s+9 │", screen)
    assert "alarm: " in screen and "(in 5s)" in screen
    assert re.search(r"LESSON/a\s+│ \S+Z\s+│ in 5s", screen)
    assert "delivered 1 event" in screen
    alarm_row = r"│\s*\d+ │ \S+ +│ LESSON/a\s+│ alarm\s+│ alarm\(.*│ ok\s+│ rang\s+│ log: ring: walk!"
    assert re.search(alarm_row, screen)


def test_errors_show_one_red_line_and_the_javascript_stack(lesson_js):
    _, screen = drive(lesson_js, "LESSON/a.boom()\rLESSON/a.bom()\rLESON/a.boom()\r\x04")
    assert "error (execution_error): TypeError: bad thing\n    at boom (lesson.js:" in screen
    assert "did you mean 'boom'" in screen
    assert "did you mean 'LESSON'" in screen


def test_a_failed_reload_names_its_syntax_error_once(tmp_path):
    path = tmp_path / "counter.js"
    path.write_text(COUNTER.read_text(encoding="utf-8"), encoding="utf-8")
    keys = "COUNTER/global.increment(2)\r"
    out = StringIO()
    with create_pipe_input() as inp, Interpreter(dobj.Runtime.load(path)) as interp:
        path.write_text("class Counter { bad( }\nexports.objects = { Counter };\n", encoding="utf-8")
        inp.send_text(keys + "reload\rCOUNTER/global.increment(1)\r\x04")
        run_interactive(interp, input=inp, output=DummyOutput(), history=InMemoryHistory(),
                        console=Console(file=out, width=200, color_system=None))
    screen = out.getvalue()
    [line] = [line for line in screen.splitlines() if line.startswith("error")]
    assert line == "error (bundle_error): counter.js:1:22: SyntaxError: missing formal parameter"
    assert screen.count("SyntaxError") == 1
    assert "\n3\n" in screen  # the old bundle keeps running


def test_ctrl_c_cancels_the_line_and_ctrl_d_quits():
    code, screen = drive(COUNTER, "COUNTER/global.increment(100\x03COUNTER/global.increment(1)\r\x04")
    assert code == 0
    assert "\n1\n" in screen and "101" not in screen


def test_quit_ends_the_session_before_later_input():
    code, screen = drive(COUNTER, "quit\rCOUNTER/global.increment(7)\r")
    assert code == 0 and "7" not in screen.split("Ctrl-D quits.")[-1]


def test_results_render_as_json_and_fetch_replies_with_status():
    _, screen = drive(COUNTER, "COUNTER/global.increment(2)\rfetch COUNTER/global/count\rhelp tick\r\x04")
    assert "HTTP 200\ncontent-type: text/plain\n\n2" in screen
    assert "usage: tick DURATION" in screen


def test_history_is_kept_in_the_user_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    history = open_history()
    drive(COUNTER, "COUNTER/global.increment(2)\r\x04", history=history)
    saved = (tmp_path / "data" / "dobj" / "history").read_text()
    assert "COUNTER/global.increment(2)" in saved


def test_the_toolbar_shows_bundle_clock_and_live_objects():
    with Interpreter(dobj.Runtime.load(COUNTER)) as interp:
        before = "".join(text for _, text in toolbar_text(interp))
        interp.run("COUNTER/global.increment()")
        after = "".join(text for _, text in toolbar_text(interp))
    assert "counter.js" in before and "manual" in before and " 0 live" in before
    assert " 1 live" in after


def test_the_completer_offers_methods_of_the_namespace():
    with Interpreter(dobj.Runtime.load(COUNTER)) as interp:
        completer = CommandCompleter(snapshot(interp))
        found = list(completer.get_completions(Document("COUNTER/global.inc"), None))
    assert [(c.text, c.start_position) for c in found] == [("increment", -3)]


def test_input_is_coloured_by_a_small_lexer():
    kinds = dict((text, kind) for kind, text in highlight("put COUNTER/global k {a: 'x', n: 5}"))
    assert kinds["put"] == "command" and kinds["COUNTER/"] == "namespace"
    assert kinds["'x'"] == "string" and kinds["5"] == "number"


def test_piped_lines_group_into_commands_by_brackets():
    lines = ["COUNTER/global.increment(\n", "  1\n", ")\n", "\n", "objects\n"]
    assert list(split_commands(lines)) == ["COUNTER/global.increment(\n  1\n)", "objects"]


# -- the real executable ---------------------------------------------------------------------
def repl_command() -> list[str]:
    exe = shutil.which("dobj-repl")
    return [exe] if exe else [sys.executable, "-m", "dobj.repl"]


def run_repl(*args: str, stdin: str = "", tmp_path: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path / "xdg"))
    return subprocess.run(repl_command() + list(args), input=stdin, capture_output=True, text=True,
                          timeout=60, env=env)


def test_dash_c_runs_commands_in_order_and_prints_plain_text(tmp_path):
    proc = run_repl(str(COUNTER), "-c", "COUNTER/global.increment(3)", "-c", "storage COUNTER/global",
                    tmp_path=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("3\nstorage of COUNTER/global\nkey    value  type    size\n")
    assert "\x1b" not in proc.stdout and "dobj>" not in proc.stdout


def test_a_failed_command_makes_the_exit_status_non_zero_but_the_rest_runs(tmp_path):
    proc = run_repl(str(COUNTER), "-c", "stroage COUNTER/global", "-c", "COUNTER/global.increment(1)",
                    tmp_path=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr == "error: unknown command 'stroage' (did you mean 'storage'?); try help\n"
    assert proc.stdout == "1\n"


def test_a_piped_script_runs_multi_line_calls_and_keeps_data_between_runs(tmp_path, lesson_js):
    data = tmp_path / "state"
    script = "LESSON/a.remind(\n  5,\n  'stretch'\n)\ntick 6s\n"
    first = run_repl(str(lesson_js), "--data", str(data), stdin=script, tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "delivered 1 event" in first.stdout
    second = run_repl(str(lesson_js), "--data", str(data), stdin="storage LESSON/a\n", tmp_path=tmp_path)
    assert re.search(r"rang\s+true\s+boolean", second.stdout)


def test_a_bundle_that_does_not_load_is_one_line_and_exit_status_one(tmp_path):
    bad = tmp_path / "bad.js"
    bad.write_text("class A {}\nthrow new Error('nope');\n", encoding="utf-8")
    proc = run_repl(str(bad), "-c", "objects", tmp_path=tmp_path)
    assert proc.returncode == 1
    assert re.fullmatch(r"dobj-repl: bad\.js:2:\d+: Error: nope\n", proc.stderr)


def test_the_real_clock_option_runs_on_wall_time(tmp_path):
    proc = run_repl(str(COUNTER), "--real-clock", "-c", "clock", "-c", "tick 1s", tmp_path=tmp_path)
    assert proc.returncode == 1
    assert "(real)" in proc.stdout and "cannot be moved" in proc.stderr


# -- a real terminal -------------------------------------------------------------------------
def wait_for(read, pattern: str, timeout: float = 15.0) -> str:
    """Poll ``read()`` until ``pattern`` appears in it; returns what was read."""
    deadline = time.monotonic() + timeout
    while True:
        screen = read()
        if re.search(pattern, screen):
            return screen
        if time.monotonic() > deadline:
            raise AssertionError(f"{pattern!r} never appeared on screen:\n{screen}")
        time.sleep(0.05)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="the pty variant below covers this")
def test_tab_completes_a_method_in_a_real_terminal(tmp_path):
    server = f"dobj-test-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", server, "-f", "/dev/null"]
    command = shlex.join(repl_command() + [str(COUNTER)])
    subprocess.run(tmux + ["new-session", "-d", "-s", "t", "-x", "120", "-y", "30",
                           "-e", f"XDG_DATA_HOME={tmp_path}", command], check=True)
    try:
        screen = lambda: subprocess.run(tmux + ["capture-pane", "-p", "-t", "t"],  # noqa: E731
                                        capture_output=True, text=True).stdout
        wait_for(screen, r"dobj>")
        subprocess.run(tmux + ["send-keys", "-t", "t", "-l", "COUNTER/global.incr"], check=True)
        subprocess.run(tmux + ["send-keys", "-t", "t", "Tab"], check=True)
        wait_for(screen, r"dobj> COUNTER/global\.increment\b")
        subprocess.run(tmux + ["send-keys", "-t", "t", "-l", "(3)"], check=True)
        subprocess.run(tmux + ["send-keys", "-t", "t", "Enter"], check=True)
        shown = wait_for(screen, r"increment\(3\)\n3\n")
        assert "counter.js" in shown and "1 live" in wait_for(screen, r"1 live")
        subprocess.run(tmux + ["send-keys", "-t", "t", "C-d"], check=True)
    finally:
        subprocess.run(tmux + ["kill-server"], capture_output=True)


def test_tab_completes_a_method_through_a_pty(tmp_path):
    import pty
    import select

    leader, follower = pty.openpty()
    env = dict(os.environ, XDG_DATA_HOME=str(tmp_path), TERM="xterm", COLUMNS="120", LINES="30",
               PROMPT_TOOLKIT_NO_CPR="1")
    proc = subprocess.Popen(repl_command() + [str(COUNTER)], stdin=follower, stdout=follower,
                            stderr=follower, env=env, close_fds=True)
    os.close(follower)
    seen = []

    def read() -> str:
        while select.select([leader], [], [], 0.05)[0]:
            try:
                seen.append(os.read(leader, 65536).decode("utf-8", "replace"))
            except OSError:
                break
        return ANSI.sub("", "".join(seen))

    try:
        wait_for(read, r"dobj>")
        os.write(leader, b"COUNTER/global.incr\t")
        wait_for(read, r"increment")
        os.write(leader, b"(3)\r")
        wait_for(read, r"\n3\r?\n")
        os.write(leader, b"\x04")
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
