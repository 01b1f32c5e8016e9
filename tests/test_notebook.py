"""The Jupyter extension through a real IPython InteractiveShell: magics, display, errors."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

import dobj
from dobj.lanes import Timeline
from dobj.notebook import TraceView

from conftest import SAMPLES

COUNTER = SAMPLES / "counter.js"

BANK = """
class Account {
  constructor(state, env) { this.state = state; this.env = env; }
  async deposit(amount) {
    const before = this.state.storage.get("balance") || 0;
    await this.env.LEDGER.getByName("audit").record(this.state.id.name, amount);
    this.state.storage.put("balance", before + amount);
    return before + amount;
  }
}
class Ledger {
  constructor(state) { this.state = state; }
  record(who, amount) {
    const n = (this.state.storage.get("entries") || 0) + 1;
    this.state.storage.put("entries", n);
    return n;
  }
}
exports.objects = { Account, Ledger };
"""

THROWER = """
function inner() { throw new TypeError("the gears jammed"); }
class Thrower {
  boom() { inner(); }
  hello(name) { console.log("hello", name); return name.length; }
}
exports.objects = { Thrower };
"""

ALARMER = """
class Alarmer {
  constructor(state) { this.state = state; }
  arm(note) { this.state.storage.put("note", note); this.state.storage.setAlarm(Date.now() + 5000); }
  alarm() {}
}
exports.objects = { Alarmer };
"""

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def shell(tmp_path, monkeypatch):
    """A real InteractiveShell with dobj loaded; cleared (and hooks restored) afterwards.

    Its profile lives under tmp_path, so the user's own IPython startup files stay out.
    """
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    hooks = sys.displayhook, sys.excepthook
    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    ip = InteractiveShell.instance(config=config)
    ip.run_line_magic("load_ext", "dobj")
    yield ip
    ip.run_line_magic("unload_ext", "dobj")
    InteractiveShell.clear_instance()
    sys.displayhook, sys.excepthook = hooks


def dobj_(ip, line: str):
    return ip.run_line_magic("dobj", line)


def test_a_call_returns_the_plain_value_as_the_cells_value(shell):
    dobj_(shell, f"load {COUNTER}")
    assert dobj_(shell, "COUNTER/global.increment(3)") == 3
    assert shell.run_cell("%dobj COUNTER/global.increment(2)").result == 5


def test_storage_renders_as_an_html_table_in_jupyter_and_as_text_elsewhere(shell):
    dobj_(shell, f"load {COUNTER}")
    dobj_(shell, "COUNTER/global.increment(3)")
    table = dobj_(shell, "storage COUNTER/global")
    shown, _ = shell.display_formatter.format(table)
    assert "<table>" in shown["text/html"] and "<td><code>count</code></td>" in shown["text/html"]
    assert shown["text/plain"] == table.to_text()
    assert "count  3      number  1" in shown["text/plain"]
    assert table.value == {"count": 3}


def test_objects_alarms_and_fetch_render_as_html(shell):
    dobj_(shell, f"load {COUNTER}")
    dobj_(shell, "COUNTER/global.increment(4)")
    assert "<table>" in dobj_(shell, "objects")._repr_html_()
    assert "(no alarms)" in dobj_(shell, "alarms")._repr_html_()
    reply = dobj_(shell, "fetch COUNTER/global/count")
    assert reply.status == 200 and reply.text == "4"


def test_hostile_keys_values_and_names_are_escaped_in_every_html_view(shell, bundle):
    dobj_(shell, f"load {bundle(ALARMER, 'alarmer.js')}")
    dobj_(shell, f"put ALARMER/global '{HOSTILE}' '{HOSTILE}'")
    dobj_(shell, f"ALARMER/<script>.arm('{HOSTILE}')")
    views = [dobj_(shell, line) for line in
             ("storage ALARMER/global", "objects", "alarms", "trace", "timeline", "ALARMER/global",
              "ALARMER/<script>")]
    for view in views:
        page = view._repr_html_()
        assert "<script" not in page.lower(), page
        assert "&lt;script&gt;" in page


def test_an_error_is_one_usage_error_line_not_a_traceback(shell, bundle, capsys):
    dobj_(shell, f"load {bundle(THROWER, 'thrower.js')}")
    with pytest.raises(UsageError) as info:
        dobj_(shell, "THROWER/a.boom()")
    message = str(info.value)
    assert "\n" not in message
    assert "TypeError: the gears jammed" in message and "%dobj stack" in message
    shell.run_cell("%dobj THROWER/a.boom()")
    err = capsys.readouterr().err
    assert err.strip().startswith("UsageError:") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_stack_shows_the_javascript_stack_of_the_last_error(shell, bundle):
    assert dobj_(shell, "stack").text == "no error yet"
    dobj_(shell, f"load {bundle(THROWER, 'thrower.js')}")
    with pytest.raises(UsageError):
        dobj_(shell, "THROWER/a.boom()")
    stack = dobj_(shell, "stack").to_text()
    assert "the gears jammed" in stack
    assert "inner" in stack and "thrower.js" in stack


def test_console_lines_of_a_call_are_printed_before_its_value(shell, bundle, capsys):
    dobj_(shell, f"load {bundle(THROWER, 'thrower.js')}")
    assert dobj_(shell, "THROWER/a.hello('ada')") == 3
    assert "[log] hello ada" in capsys.readouterr().out


@pytest.mark.parametrize("line, says", [
    ("objects", "no bundle is loaded; load one with: %dobj load BUNDLE"),
    ("storage COUNTER/global", "load one with: %dobj load BUNDLE"),
    ("bogus", "unknown command 'bogus'"),
    ("load /nonexistent/bundle.js", "bundle.js"),
    ("load", "usage: load BUNDLE"),
    ("timeline soon", "usage: %dobj timeline"),
    ("runtime", "%dobj load BUNDLE"),
])
def test_bad_input_is_a_usage_error_that_says_what_went_wrong(shell, line, says):
    with pytest.raises(UsageError, match=re.escape(says)):
        dobj_(shell, line)


def test_a_mistyped_method_suggests_the_right_one(shell):
    dobj_(shell, f"load {COUNTER}")
    with pytest.raises(UsageError, match="increment"):
        dobj_(shell, "COUNTER/global.incremnt(1)")


def test_load_options_reach_the_runtime(shell, tmp_path):
    dobj_(shell, f"load {COUNTER} --data {tmp_path / 'data'} --cpu-timeout 500ms")
    rt = dobj_(shell, "runtime")
    assert rt.data_dir == tmp_path / "data" and rt.clock.manual
    dobj_(shell, f"load {COUNTER} --real-clock")
    assert not dobj_(shell, "runtime").clock.manual


def test_the_python_api_works_side_by_side_with_the_magics(shell):
    dobj_(shell, f"load {COUNTER}")
    rt = dobj_(shell, "runtime")
    assert dobj.current() is rt
    rt.get("COUNTER", "global").increment(10)
    assert dobj_(shell, "COUNTER/global.increment(1)") == 11
    assert dict(rt.get("COUNTER", "global").storage) == {"count": 11}


def test_current_without_a_loaded_bundle_says_how_to_load_one(shell):
    with pytest.raises(dobj.BadRequest, match="%dobj load"):
        dobj.current()


def test_top_level_await_of_concurrent_calls_works_in_a_cell(shell):
    dobj_(shell, f"load {COUNTER}")
    result = shell.run_cell(
        "import asyncio, dobj\n"
        "c = dobj.current().get('COUNTER', 'a')\n"
        "await asyncio.gather(*[c.acall('increment', 1) for _ in range(5)])\n"
    )
    assert result.error_in_exec is None, result.error_in_exec
    assert sorted(result.result) == [1, 2, 3, 4, 5]


def test_cell_magic_runs_each_line_and_displays_every_result(shell, capsys):
    shell.run_cell_magic("dobj", "", f"load {COUNTER}\nCOUNTER/global.increment(\n  2)\n\nstorage COUNTER/global\n")
    out = capsys.readouterr().out
    assert out.index("loaded counter.js") < out.index("2\n") < out.index("storage of COUNTER/global")


def test_cell_magic_stops_at_the_first_error_and_names_its_line(shell):
    with pytest.raises(UsageError, match=r"^COUNTER/nope\.x\(\): "):
        shell.run_cell_magic("dobj", "", f"load {COUNTER}\nCOUNTER/nope.x()\nobjects\n")


def test_trace_shows_a_timeline_where_events_of_one_object_never_overlap(shell, bundle):
    dobj_(shell, f"load {bundle(BANK, 'bank.js')}")
    result = shell.run_cell(
        "import asyncio, dobj\n"
        "rt = dobj.current()\n"
        "accounts = [rt.get('ACCOUNT', n) for n in ('alice', 'bob')]\n"
        "await asyncio.gather(*[a.acall('deposit', 10) for _ in range(5) for a in accounts])\n"
    )
    assert result.error_in_exec is None
    assert dobj_(shell, "ACCOUNT/alice.deposit(0)") == 50  # no update was lost
    view = dobj_(shell, "trace 100")
    assert isinstance(view, TraceView)
    page = view._repr_html_()
    assert page.index("<svg") < page.index("<table>")
    bars = re.findall(r'data-object="([^"]+)" data-start="([\d.]+)" data-end="([\d.]+)" data-depth="0"', page)
    assert {o for o, _, _ in bars} == {"ACCOUNT/alice", "ACCOUNT/bob", "LEDGER/audit"}
    for lane in ("ACCOUNT/alice", "ACCOUNT/bob", "LEDGER/audit"):
        spans = sorted((float(s), float(e)) for o, s, e in bars if o == lane)
        assert all(a_end <= b_start + 1e-6 for (_, a_end), (b_start, _) in zip(spans, spans[1:]))
    assert view.timeline.overlaps() == []


def test_timeline_reads_as_text_with_one_lane_per_object(shell):
    dobj_(shell, f"load {COUNTER}")
    dobj_(shell, "COUNTER/a.increment(1)")
    dobj_(shell, "COUNTER/b.increment(1)")
    timeline = dobj_(shell, "timeline")
    assert isinstance(timeline, Timeline)
    lines = shell.display_formatter.format(timeline)[0]["text/plain"].splitlines()
    assert lines[0].startswith("COUNTER/a") and lines[1].startswith("COUNTER/b")
    assert lines[2].strip().startswith("0 ms")


def test_help_lists_the_commands_and_the_notebook_extras(shell):
    text = dobj_(shell, "").to_text()
    assert "storage NS/name" in text and "%dobj stack" in text and "dobj.current()" in text
    assert "tick DURATION" in dobj_(shell, "help tick").to_text()


def test_quit_closes_the_runtime(shell):
    dobj_(shell, f"load {COUNTER}")
    rt = dobj_(shell, "runtime")
    assert dobj_(shell, "quit").text == "closed the runtime"
    with pytest.raises(dobj.RuntimeClosed):
        rt.get("COUNTER", "global").increment()


def test_unloading_closes_the_runtime_and_removes_the_magic(shell):
    dobj_(shell, f"load {COUNTER}")
    rt = dobj_(shell, "runtime")
    shell.run_line_magic("unload_ext", "dobj")
    assert "dobj" not in shell.magics_manager.magics["line"]
    with pytest.raises(dobj.RuntimeClosed):
        rt.get("COUNTER", "global").increment()
    shell.run_line_magic("load_ext", "dobj")


def test_the_timeline_docstring_examples_hold():
    import doctest

    import dobj.lanes

    failed, tried = doctest.testmod(dobj.lanes)
    assert tried > 0 and failed == 0


def test_a_cloudflare_project_loads_and_its_worker_and_sql_answer_in_a_notebook(shell):
    project = SAMPLES / "guestbook-ts"
    dobj_(shell, f"load {project}")
    reply = dobj_(shell, """fetch POST /page/home '{"author": "ann", "text": "hi"}'""")
    assert reply.status == 201
    assert dobj_(shell, "GUESTBOOK/home.count()") == 1
    rows = dobj_(shell, "sql GUESTBOOK/home SELECT author FROM entries")
    assert rows.value == [{"author": "ann"}] and "<table" in rows._repr_html_()


def test_dobj_record_in_a_notebook_writes_a_test_that_passes(shell, tmp_path):
    out = tmp_path / "test_from_notebook.py"
    dobj_(shell, f"load {COUNTER}")
    dobj_(shell, f"record {out}")
    dobj_(shell, "COUNTER/global.increment(3)")
    dobj_(shell, "COUNTER/global.increment(4)")
    dobj_(shell, "record stop")
    written = out.read_text(encoding="utf-8")
    assert re.search(r"increment\(4\)'\)\.value == \(?\s*7\b", written), written
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(out)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
