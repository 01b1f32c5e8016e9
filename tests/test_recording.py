"""Turning a workbench session into a pytest module: record FILE.py ... record stop."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dobj
from dobj.commands import CommandError, Interpreter

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "samples" / "counter.js"


def run_pytest(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
                          cwd=path.parent, capture_output=True, text=True, timeout=120)


def record_session(bundle: Path, module: Path, commands: list[str]) -> None:
    with Interpreter(dobj.Runtime.load(bundle)) as wb:
        wb.run(f"record {module}")
        for line in commands:
            try:
                wb.run(line)
            except dobj.DobjError:
                pass  # shown to the user; recorded as an expected error
        wb.run("record stop")


SESSION = ["COUNTER/a.increment(3)", "storage COUNTER/a", "tick 5s", "COUNTER/a.nope()", "trace 2",
           "fetch COUNTER/a/count", "put COUNTER/a note {tags: ['x']}", "COUNTER/a"]


def test_a_recorded_session_is_a_readable_test_that_passes_at_once(tmp_path):
    module = tmp_path / "test_session.py"
    record_session(COUNTER, module, SESSION)
    text = module.read_text()
    assert "        # COUNTER/a.increment(3)\n        assert wb.run('COUNTER/a.increment(3)').value == (\n            3\n" in text
    assert "# not replayed: it shows durations" in text  # trace is kept as a comment, not dropped
    assert "pytest.raises(DobjError" in text              # the error that was shown is expected
    result = run_pytest(module)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_change_of_behaviour_fails_the_recording_naming_the_command(tmp_path):
    bundle = tmp_path / "counter.js"
    bundle.write_text(COUNTER.read_text())
    module = tmp_path / "test_session.py"
    record_session(bundle, module, SESSION)
    bundle.write_text(COUNTER.read_text().replace("+ by", "+ by + 1"))
    result = run_pytest(module)
    assert result.returncode == 1
    assert "AssertionError: COUNTER/a.increment(3)" in result.stdout
    assert "assert 4 == 3" in result.stdout


def test_recording_refuses_what_it_cannot_do_and_leaves_the_session_alone(tmp_path):
    with Interpreter(dobj.Runtime.load(COUNTER)) as wb:
        with pytest.raises(CommandError, match="nothing is being recorded"):
            wb.run("record stop")
        with pytest.raises(CommandError, match="does not exist"):
            wb.run(f"record {tmp_path / 'missing' / 'test_x.py'}")
        with pytest.raises(CommandError, match="into a Python file"):
            wb.run(f"record {tmp_path / 'notes.txt'}")
        assert wb.run("COUNTER/a.increment(1)").value == 1
    with Interpreter(dobj.Runtime.load(COUNTER, clock="real")) as wb:
        with pytest.raises(CommandError, match="needs the manual clock"):
            wb.run(f"record {tmp_path / 'test_y.py'}")
