"""The workbench command language: parser, handlers, results, completion, reference."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

import dobj
from dobj.commands import (
    CommandError, Incomplete, Interpreter, Quit, help_text, is_complete, parse, reference_markdown,
)
from dobj.commands.complete import Vocabulary, snapshot, suggest
from dobj.commands.results import Table, Value, error_text
from dobj.commands.syntax import evaluate_args, evaluate_value, parse_call, quote_word, split_words

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "samples" / "counter.js"

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
    this.state.storage.put("rang", (this.state.storage.get("rang") || 0) + 1);
  }
  echo(...args) { console.info("echo", args.length); return args; }
  boom() { throw new TypeError("bad thing"); }
  fetch(req) {
    return { status: 201, headers: { "x-echo": req.headers["x-a"] || "" },
             body: { method: req.method, path: req.path, query: req.query, body: req.body } };
  }
}
exports.objects = { Lesson };
"""


@pytest.fixture
def wb():
    """An interpreter over the sample Counter (manual clock, in-memory storage)."""
    with Interpreter(dobj.Runtime.load(COUNTER)) as interp:
        yield interp


@pytest.fixture
def lesson(tmp_path):
    """An interpreter over an inline bundle with alarms, console output and fetch."""
    path = tmp_path / "lesson.js"
    path.write_text(textwrap.dedent(LESSON), encoding="utf-8")
    with Interpreter(dobj.Runtime.load(path)) as interp:
        yield interp


# -- syntax --------------------------------------------------------------------------------
def test_words_group_quotes_and_quote_word_round_trips():
    assert [w.text for w in split_words("put C/'my room' \"a \\\"b\\\"\" x")] == ["put", "C/my room", 'a "b"', "x"]
    for text in ["plain", "two words", "it's", 'say "hi"', "back\\slash"]:
        assert [w.text for w in split_words(quote_word(text))] == [text]


def test_unterminated_quote_is_a_clear_error():
    with pytest.raises(CommandError, match="unterminated"):
        split_words("storage 'COUNTER/global")


def test_call_arguments_keep_nested_brackets_strings_and_templates():
    line = 'COUNTER/global.f(1, [2, ")"], {a: "(}"}, `x${(1)}y`)'
    assert parse_call(line) == ("COUNTER", "global", "f", '1, [2, ")"], {a: "(}"}, `x${(1)}y`')


def test_object_names_with_dots_or_spaces_can_be_called():
    assert parse_call("C/a.b.f()") == ("C", "a.b", "f", "")
    assert parse_call("C/'my room'.f(1)") == ("C", "my room", "f", "1")


@pytest.mark.parametrize("line, message", [
    ("C/a.f(1]", "unexpected ']'"),
    ("C/a.f(1) extra", "unexpected text after the call"),
    ("C/a.1()", "not a method name"),
    ("C/.f()", "NS/name.method"),
])
def test_malformed_calls_say_what_is_wrong(line, message):
    with pytest.raises(CommandError, match=message):
        parse_call(line)


def test_an_unclosed_call_is_incomplete_so_the_repl_reads_more_lines():
    assert not is_complete("C/a.f(1,")
    assert not is_complete("C/a.f(`multi")
    assert is_complete("C/a.f(1,\n 2)")
    with pytest.raises(Incomplete):
        parse_call("C/a.f(1,")


def test_arguments_are_javascript_evaluated_to_json():
    assert evaluate_args("1 + 2, 'a'.repeat(2), {n: [1, ...[2, 3]]}, undefined") == [3, "aa", {"n": [1, 2, 3]}, None]
    assert evaluate_args("  ") == []


def test_date_in_arguments_reads_the_runtime_clock():
    assert evaluate_args("Date.now(), new Date().toISOString()", now_ms=0) == [0, "1970-01-01T00:00:00.000Z"]


def test_bad_arguments_fail_clearly_and_runaway_ones_are_stopped():
    with pytest.raises(CommandError, match="bad arguments: SyntaxError"):
        evaluate_args("1 2")
    with pytest.raises(CommandError, match="did not finish"):
        evaluate_args("(() => { while (true) {} })()")
    with pytest.raises(CommandError, match="BigInt"):
        evaluate_args("1n")


def test_a_typo_in_call_arguments_points_at_the_text_that_was_typed(wb):
    with pytest.raises(CommandError) as info:
        wb.run("COUNTER/global.increment({a:})")
    message = info.value.message
    assert message.splitlines()[0].endswith("(at column 4 of the arguments)")
    assert message.splitlines()[1:] == ["    {a:}", "       ^"]
    assert "JSON.stringify" not in message and "function" not in message


def test_a_typo_on_a_later_line_of_the_arguments_names_that_line():
    with pytest.raises(CommandError, match=r"at line 2, column 4 of the arguments\)\n     2 3\n       \^$"):
        evaluate_args("1,\n 2 3")


def test_arguments_are_read_as_a_javascript_call_reads_them():
    assert evaluate_args("1, ...[2, 3],") == [1, 2, 3]
    with pytest.raises(CommandError, match="column 3 of the arguments"):
        evaluate_args("1,,2")


def test_a_value_cut_short_says_where_it_ended():
    with pytest.raises(CommandError, match="at the end of the value: is a bracket"):
        evaluate_value("[1")
    with pytest.raises(CommandError, match=r"column 2 of the value\)\n    1\]\n     \^"):
        evaluate_value("1]")


def test_a_value_is_exactly_one_defined_expression():
    assert evaluate_value("{a: 'x'}") == {"a": "x"}
    with pytest.raises(CommandError, match="one expression"):
        evaluate_value("1, 2")
    with pytest.raises(CommandError, match="undefined"):
        evaluate_value("undefined")


# -- parser --------------------------------------------------------------------------------
@pytest.mark.parametrize("line, name, args", [
    ("COUNTER/global.increment(3)", "call",
     {"obj": ("COUNTER", "global"), "method": "increment", "args_text": "3"}),
    ("COUNTER/global", "object", {"obj": ("COUNTER", "global"), "bare": True}),
    ("fetch COUNTER/global/count", "fetch", {"obj": ("COUNTER", "global"), "path": "/count",
                                             "method": "GET", "body": None, "headers": {}}),
    ("fetch put C/a/x?q=1 'b o' -H 'X-A: 1'", "fetch", {"obj": ("C", "a"), "path": "/x?q=1", "method": "PUT",
                                                       "body": "b o", "headers": {"x-a": "1"}}),
    ("fetch C/a/x body", "fetch", {"obj": ("C", "a"), "path": "/x", "method": "POST", "body": "body",
                                   "headers": {}}),
    ("objects", "objects", {}),
    ("storage C/a pre", "storage", {"obj": ("C", "a"), "prefix": "pre"}),
    ("put C/a 'my key' {a: 'b c'}", "put", {"obj": ("C", "a"), "key": "my key", "expr": "{a: 'b c'}"}),
    ("del C/a k", "del", {"obj": ("C", "a"), "key": "k"}),
    ("alarms", "alarms", {}),
    ("clock", "clock", {}),
    ("clock set 2030-01-01T00:00:00Z", "clock", {"when": "2030-01-01T00:00:00Z"}),
    ("tick 1m30s", "tick", {"duration": "1m30s"}),
    ("trace 5", "trace", {"n": 5}),
    ("evict C/a", "evict", {"obj": ("C", "a")}),
    ("reload", "reload", {}),
    ("serve --port 0", "serve", {"port": 0, "host": "127.0.0.1"}),
    ("help tick", "help", {"command": "tick"}),
    ("exit", "quit", {}),
])
def test_every_command_parses_to_its_handler_arguments(line, name, args):
    parsed = parse(line)
    assert parsed.command.name == name
    assert parsed.args == args


def test_blank_lines_and_comments_are_skipped():
    assert parse("   ") is None
    assert parse("# a comment") is None


@pytest.mark.parametrize("line, message", [
    ("stroage C/a", "did you mean 'storage'"),
    ("storage", "usage: storage NS/name"),
    ("storage global", "NS/name"),
    ("put C/a key", "usage: put"),
    ("tick", "usage: tick"),
    ("trace many", "usage: trace"),
    ("clock back", "usage: clock"),
    ("fetch -H", "-H needs a header"),
    ("fetch C/a/x -H nocolon", "name: value"),
    ("serve --port http", "port number"),
    ("serve --verbose", "unknown option"),
    ("objects now", "usage: objects"),
])
def test_usage_errors_say_how_to_write_the_command(line, message):
    with pytest.raises(CommandError, match=message):
        parse(line)


# -- handlers ------------------------------------------------------------------------------
def test_call_returns_the_plain_value_and_the_console_output(lesson):
    result = lesson.run("LESSON/a.echo(1 + 1, {x: [1]})")
    assert result.value == [2, {"x": [1]}]
    assert result.cell_value() == [2, {"x": [1]}]
    assert result.console == [("info", "echo 2")]
    assert str(result) == '[info] echo 2\n[2, {"x": [1]}]'


def test_call_shows_the_console_of_its_own_event_not_a_later_one(bundle):
    # echo("outer") has B call echo("inner") a moment later; both run before the
    # command returns, and the inner one finishes last.
    path = bundle("""
        class A {
          echo(word) { console.log(word); if (word === "outer") return env.B.getByName("b").later(); }
        }
        class B {
          later() { setTimeout(() => env.A.getByName("a").echo("inner"), 0); return "queued"; }
        }
        let env;
        class Wrapped extends A { constructor(state, e) { super(); env = e; } }
        class WrappedB extends B { constructor(state, e) { super(); env = e; } }
        exports.objects = { A: Wrapped, B: WrappedB };
    """)
    with Interpreter(dobj.Runtime.load(path, manifest=None)) as interp:
        result = interp.run("A/a.echo('outer')")
        assert result.value == "queued"
        assert result.console == [("log", "outer")]
        assert [e.console for e in interp.rt.trace() if e.method == "echo"] == [[("log", "outer")], [("log", "inner")]]


def test_a_call_spanning_lines_runs(wb):
    assert wb.run("COUNTER/global.increment(\n  2 *\n  3\n)").value == 6


def test_mistyped_namespace_and_method_suggest_the_right_one(wb):
    with pytest.raises(dobj.UnknownNamespace, match="did you mean 'COUNTER'"):
        wb.run("COUNTR/global.increment()")
    with pytest.raises(dobj.MethodNotFound, match="did you mean 'increment'"):
        wb.run("COUNTER/global.incremnt()")


def test_a_javascript_error_keeps_its_stack_in_the_bundle(lesson):
    with pytest.raises(dobj.ExecutionError) as info:
        lesson.run("LESSON/a.boom()")
    assert error_text(info.value) == "error: TypeError: bad thing\n" + info.value.js_stack
    assert "lesson.js:" in info.value.js_stack


def test_object_view_shows_methods_storage_and_alarm(lesson):
    lesson.run("LESSON/a.remind(5, 'stretch')")
    view = lesson.run("LESSON/a")
    assert view.value["methods"] == ["boom", "echo", "remind"]
    assert view.value["handlers"] == ["fetch", "alarm"]
    assert view.value["storage"] == {"note": "stretch"}
    assert view.value["alarm"] == lesson.rt.clock.now_ms() + 5000
    text = str(view)
    assert "LESSON/a  (Lesson, live)" in text and "note" in text and "(in 5s)" in text
    assert "methods: boom, echo, remind\nhandlers: fetch, alarm\n" in text


def test_a_call_without_parentheses_gets_a_hint_not_an_empty_object(wb):
    with pytest.raises(CommandError, match=r"write COUNTER/global.increment\(\)"):
        wb.run("COUNTER/global.increment")
    assert wb.run("COUNTER/'global.increment'").value["object"] == "COUNTER/global.increment"


def test_fetch_passes_method_path_query_headers_and_body(lesson):
    reply = lesson.run("fetch POST LESSON/a/x?y=1 '{\"a\": 1}' -H 'X-A: hi'")
    assert reply.status == 201
    assert reply.headers["x-echo"] == "hi"
    assert json.loads(reply.text) == {"method": "POST", "path": "/x", "query": "y=1", "body": '{"a": 1}'}
    assert str(reply).startswith("HTTP 201\nx-echo: hi\n")


def test_fetch_on_the_sample_counter_reads_the_count(wb):
    wb.run("COUNTER/global.increment(4)")
    reply = wb.run("fetch COUNTER/global/count")
    assert (reply.status, reply.text) == (200, "4")


def test_objects_lists_namespaces_and_objects_with_storage(wb):
    wb.run("COUNTER/global.increment()")
    result = wb.run("objects")
    assert result.value["namespaces"] == {"COUNTER": ["increment"]}
    assert result.value["handlers"] == {"COUNTER": ["fetch", "alarm"]}
    assert result.parts[0].rows == [["COUNTER", "Counter", "increment", "fetch, alarm"]]
    assert result.value["objects"] == [{"object": "COUNTER/global", "live": "yes", "keys": 1, "alarm": ""}]


def test_storage_table_has_key_value_type_and_size(wb):
    wb.run("put COUNTER/global count 41")
    wb.run("put COUNTER/global 'my note' {text: 'hi', tags: ['a']}")
    table = wb.run("storage COUNTER/global")
    assert table.value == {"count": 41, "my note": {"text": "hi", "tags": ["a"]}}
    assert table.rows == [["count", "41", "number", 2],
                          ["my note", '{"text": "hi", "tags": ["a"]}', "object", 26]]
    assert wb.run("storage COUNTER/global my").value == {"my note": {"text": "hi", "tags": ["a"]}}


def test_put_edits_storage_as_an_event_and_the_object_sees_it(wb):
    wb.run("put COUNTER/global count 40 + 1")
    assert wb.run("COUNTER/global.increment()").value == 42
    event = [e for e in wb.rt.trace() if e.kind == "storage"][-1]
    assert (event.method, event.written) == ("put", ["count"])


def test_del_removes_a_key_and_suggests_a_close_one_when_missing(wb):
    wb.run("put COUNTER/global count 1")
    with pytest.raises(CommandError, match="did you mean 'count'"):
        wb.run("del COUNTER/global cont")
    assert wb.run("del COUNTER/global count").value is True
    assert wb.run("storage COUNTER/global").value == {}


def test_alarms_show_the_time_left_on_the_runtime_clock(lesson):
    lesson.run("LESSON/a.remind(90, 'x')")
    table = lesson.run("alarms")
    assert table.rows[0][0] == "LESSON/a"
    assert table.rows[0][2] == "in 1m 30s"


def test_tick_delivers_the_alarm_and_reports_what_ran(lesson):
    lesson.run("LESSON/a.remind(5, 'stretch')")
    assert lesson.run("tick 3s").value == []
    moved = lesson.run("tick 1m30s")
    [event] = moved.value
    assert (event["object"], event["kind"], event["ok"]) == ("LESSON/a", "alarm", True)
    assert event["console"] == ["log: ring: stretch"]
    assert "delivered 1 event" in str(moved) and "ring: stretch" in str(moved)
    assert lesson.run("alarms").value == []


def test_clock_shows_and_sets_the_manual_clock(lesson):
    assert lesson.run("clock").value["manual"] is True
    lesson.run("LESSON/a.remind(60, 'x')")
    moved = lesson.run("clock set 2999-01-01T00:00:00Z")
    assert [e["kind"] for e in moved.value] == ["alarm"]
    assert lesson.run("clock").value["now"] == "2999-01-01T00:00:00.000Z"
    with pytest.raises(dobj.BadRequest, match="cannot go back"):
        lesson.run("clock set 2000-01-01T00:00:00Z")


def test_trace_lists_the_last_events_with_outcomes(lesson):
    lesson.run("LESSON/a.echo(1)")
    with pytest.raises(dobj.DobjError):
        lesson.run("LESSON/a.boom()")
    trace = lesson.run("trace 2")
    assert [r["kind"] for r in trace.value] == ["rpc", "rpc"]
    assert trace.rows[0][6] == "-> [1]"
    assert trace.rows[1][6] == "!! execution_error: bad thing"
    assert trace.rows[0][8] == "info: echo 1"


NOTES = """
class Counter { constructor(s) { this.s = s; } bump() { this.s.storage.put("n", 1); } }
class Note {
  constructor(s) { this.s = s; }
  write(n) { for (let i = 0; i < n; i++) this.s.storage.put("line" + i, "x"); }
  arm() { this.s.storage.setAlarm(Date.now() + 60000); }
  alarm() {}
}
exports.objects = { Counter, Note };
"""


def test_objects_lists_objects_of_a_namespace_the_bundle_no_longer_exports_as_orphaned(bundle, tmp_path):
    path, data = bundle(NOTES, "notes.js"), tmp_path / "data"
    with dobj.Runtime.load(path, data=data) as rt:
        rt.get("NOTE", "todo").write(3)
        rt.get("NOTE", "todo").arm()
        rt.get("COUNTER", "a").bump()
    path.write_text(NOTES.replace("Counter, Note }", "Counter }"), encoding="utf-8")
    with Interpreter(dobj.Runtime.load(path, data=data)) as interp:
        result = interp.run("objects")
        assert result.value["objects"] == [{"object": "COUNTER/a", "live": "no", "keys": 1, "alarm": ""}]
        [orphan] = result.value["orphaned"]
        assert (orphan["object"], orphan["keys"]) == ("NOTE/todo", 3) and orphan["alarm"].endswith("Z")
        assert "orphaned objects: stored under NOTE, which notes.js does not export" in str(result)
        assert "(did you mean" not in str(result)


def test_a_reload_that_drops_a_namespace_leaves_its_objects_orphaned_not_broken(bundle):
    path = bundle(NOTES, "notes.js")
    with Interpreter(dobj.Runtime.load(path)) as interp:
        interp.run("NOTE/todo.write(2)")
        path.write_text(NOTES.replace("Counter, Note }", "Counter }"), encoding="utf-8")
        interp.run("reload")
        assert interp.run("objects").value["orphaned"] == [{"object": "NOTE/todo", "keys": 2, "alarm": ""}]
        assert snapshot(interp).objects == [("NOTE", "todo")]  # completion survives it too


def reads_of_stored_values(rt, run) -> list[str]:
    """Run ``run()`` and return the SQL reads of the column holding stored values."""
    reads = []

    def authorize(action, table, column, *_):
        if action == sqlite3.SQLITE_READ and (table, column) == ("kv", "value"):
            reads.append(f"{table}.{column}")
        return sqlite3.SQLITE_OK

    db = rt._core.store.db
    db.set_authorizer(authorize)
    try:
        run()
    finally:
        db.set_authorizer(None)
    return reads


def test_objects_and_completion_count_and_list_keys_without_reading_a_stored_value(tmp_path):
    with Interpreter(dobj.Runtime.load(COUNTER, data=tmp_path / "data")) as interp:
        for i in range(30):
            interp.run(f"put COUNTER/big k{i:02} 'x'.repeat(100000)")
        interp.run("COUNTER/small.increment()")
        rt = interp.rt
        assert reads_of_stored_values(rt, lambda: interp.run("storage COUNTER/small"))  # the check sees reads
        found = {}
        assert reads_of_stored_values(rt, lambda: found.update(
            objects=interp.run("objects").value["objects"],
            keys=texts(suggest("del COUNTER/big k1", snapshot(interp))))) == []
    assert [(row["object"], row["keys"]) for row in found["objects"]] == [("COUNTER/big", 30), ("COUNTER/small", 1)]
    assert found["keys"] == [f"k1{i}" for i in range(10)]


def test_completion_asks_for_keys_only_when_a_key_is_completed_and_caps_them(wb):
    for i in range(5):
        wb.run(f"put COUNTER/global k{i} {i}")
    asked = []
    vocab = snapshot(wb, max_keys=3)
    find = vocab.find_keys
    vocab.find_keys = lambda *args: asked.append(args) or find(*args)
    assert texts(suggest("COUNTER/global.inc", vocab)) == ["increment"] and asked == []
    assert texts(suggest("del COUNTER/global ", vocab)) == ["k0", "k1", "k2"]
    wb.run("put COUNTER/global other 1")
    assert texts(suggest("put COUNTER/global o", vocab)) == ["other"]
    assert asked == [("COUNTER", "global", ""), ("COUNTER", "global", "o")]


def test_objects_leaves_the_handlers_column_out_when_no_class_has_one(bundle):
    path = bundle("class Plain { ping() { return 1; } }\nexports.objects = { Plain };")
    with Interpreter(dobj.Runtime.load(path)) as interp:
        spaces = interp.run("objects").parts[0]
        assert (spaces.columns, spaces.rows) == (["namespace", "class", "methods"], [["PLAIN", "Plain", "ping"]])


def test_trace_0_says_no_events_were_asked_for_not_that_there_are_none(wb):
    wb.run("COUNTER/global.increment()")
    text = str(wb.run("trace 0"))
    assert "0 events asked for" in text and "no events yet" not in text
    assert wb.run("trace 0").value == []
    with Interpreter(dobj.Runtime.load(COUNTER)) as fresh:
        assert "(no events yet)" in str(fresh.run("trace"))


def test_trace_shows_a_string_result_as_a_string(tmp_path):
    path = tmp_path / "s.js"
    path.write_text('class S { three() { return "3"; } }\nexports.objects = { S };')
    with Interpreter(dobj.Runtime.load(path)) as interp:
        assert interp.run("S/a.three()").value == "3"
        trace = interp.run("trace 1")
        assert trace.rows[0][6] == '-> "3"'
        assert trace.value[0]["result"] == "3"


def test_evict_drops_the_instance_but_keeps_storage(wb):
    wb.run("COUNTER/global.increment(2)")
    assert wb.run("evict COUNTER/global").value is True
    assert wb.run("evict COUNTER/global").value is False
    assert wb.run("COUNTER/global.increment(1)").value == 3


def test_reload_reads_the_new_bundle_and_keeps_storage(tmp_path):
    path = tmp_path / "c.js"
    path.write_text(COUNTER.read_text(), encoding="utf-8")
    with Interpreter(dobj.Runtime.load(path)) as interp:
        interp.run("COUNTER/global.increment(5)")
        double = "double() { return 2 * this.state.storage.get('count'); }\n  async alarm()"
        path.write_text(COUNTER.read_text().replace("async alarm()", double))
        assert "double" in interp.run("reload").value["COUNTER"]
        assert interp.run("COUNTER/global.double()").value == 10


def test_a_failed_reload_shows_its_syntax_error_once(tmp_path):
    path = tmp_path / "c.js"
    path.write_text(COUNTER.read_text(), encoding="utf-8")
    with Interpreter(dobj.Runtime.load(path)) as interp:
        path.write_text("class Counter { bad( }\nexports.objects = { Counter };\n", encoding="utf-8")
        with pytest.raises(dobj.BundleError) as info:
            interp.run("reload")
    text = error_text(info.value)
    assert text.splitlines()[0] == "error: c.js:1:22: SyntaxError: missing formal parameter"
    assert text.count("SyntaxError") == 1


def test_load_replaces_the_runtime_and_a_failed_load_keeps_the_old_one(tmp_path, wb):
    bad = tmp_path / "bad.js"
    bad.write_text("exports.objects = {\n", encoding="utf-8")
    with pytest.raises(dobj.BundleError, match="bad.js:"):
        wb.run(f"load {bad}")
    assert wb.run("COUNTER/global.increment()").value == 1
    assert "COUNTER" in wb.run(f"load '{COUNTER}'").value
    assert wb.run("COUNTER/global.increment()").value == 1  # a fresh in-memory store


def test_commands_without_a_runtime_say_how_to_load_one():
    with Interpreter() as interp:
        with pytest.raises(CommandError, match="load one with: load BUNDLE$"):
            interp.run("objects")
    with Interpreter(load_hint="%dobj load BUNDLE") as interp:
        with pytest.raises(CommandError, match="load one with: %dobj load BUNDLE$"):
            interp.run("objects")


def test_serve_shares_the_runtime_with_http_clients(wb):
    wb.run("COUNTER/global.increment(2)")
    url = wb.run("serve --port 0").value
    assert wb.run("serve").value == url  # already serving
    request = urllib.request.Request(f"{url}/rpc/COUNTER/global/increment", data=b"[3]", method="POST")
    with urllib.request.urlopen(request, timeout=5) as reply:
        assert json.loads(reply.read()) == {"ok": True, "result": 5}
    assert wb.run("COUNTER/global.increment()").value == 6


def test_serve_suggests_a_curl_call_of_a_method_that_takes_no_arguments_and_it_works(wb):
    text = wb.run("serve --port 0").text
    url = wb.server.url
    curl = text.split("try: ", 1)[1].splitlines()[0]
    assert curl == f"curl -X POST {url}/rpc/COUNTER/global/increment -d '[]'"  # increment(by = 1)
    request = urllib.request.Request(f"{url}/rpc/COUNTER/global/increment", data=b"[]", method="POST")
    with urllib.request.urlopen(request, timeout=5) as reply:  # the line works as it is
        assert json.loads(reply.read()) == {"ok": True, "result": 1}


def test_serve_leaves_the_arguments_to_fill_in_when_every_method_needs_some(bundle):
    path = bundle("class Adder { add(a, b) { return a + b; } }\nexports.objects = { Adder };")
    with Interpreter(dobj.Runtime.load(path)) as interp:
        text = interp.run("serve --port 0").text
        curl = text.split("try: ", 1)[1].splitlines()[0]
        assert curl.endswith("/rpc/ADDER/global/add -d '[ARGS...]'  # ARGS...: the 2 arguments as JSON")


def test_serve_suggests_a_fetch_when_the_class_has_no_rpc_method(bundle):
    path = bundle("class Page { fetch() { return {body: 'hi'}; } }\nexports.objects = { Page };")
    with Interpreter(dobj.Runtime.load(path)) as interp:
        text = interp.run("serve --port 0").text
        assert text.endswith(f"try: curl {interp.server.url}/fetch/PAGE/global/")


def test_help_lists_every_command_and_explains_each():
    text = help_text()
    for name in ["storage", "put", "del", "fetch", "objects", "alarms", "clock", "tick", "trace",
                 "evict", "reload", "serve", "help", "quit", "NS/name.method(ARGS...)"]:
        assert name in text
    assert help_text("tick").startswith("usage: tick DURATION")
    assert "NS/name.method" in help_text("COUNTER/global.increment")
    with pytest.raises(CommandError, match="did you mean 'trace'"):
        help_text("trac")


def test_quit_asks_the_front_end_to_stop(wb):
    assert isinstance(wb.run("quit"), Quit)


# -- results -------------------------------------------------------------------------------
def test_tables_escape_hostile_values_in_html(wb):
    wb.run("put COUNTER/global '<script>k</script>' '<img src=x onerror=alert(1)>'")
    html = wb.run("storage COUNTER/global")._repr_html_()
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;k&lt;/script&gt;" in html


def test_long_values_fold_in_plain_text_tables():
    text = str(Table(["key", "value"], [["k", "x" * 130]]))
    assert max(len(line) for line in text.splitlines()) <= 3 + 2 + 60
    assert text.count("x") == 130


def test_values_render_as_json_text_and_html():
    assert str(Value({"a": "é"})) == '{"a": "é"}'
    assert Value("<b>")._repr_html_() == "<pre>&quot;&lt;b&gt;&quot;</pre>"


# -- completion ----------------------------------------------------------------------------
@pytest.fixture
def vocab(wb):
    wb.run("put COUNTER/global count 1")
    wb.run("put COUNTER/'my room' 'long key' 2")
    return snapshot(wb)


def texts(suggestions):
    return [s.text for s in suggestions]


def test_completion_offers_commands_namespaces_objects_methods_and_keys(vocab):
    assert texts(suggest("sto", vocab)) == ["storage"]
    assert texts(suggest("COU", vocab)) == ["COUNTER/"]
    assert texts(suggest("cou", vocab)) == ["COUNTER/"]
    assert texts(suggest("COUNTER/", vocab)) == ["COUNTER/global", "COUNTER/'my room'"]
    assert texts(suggest("COUNTER/global.in", vocab)) == ["increment"]
    assert texts(suggest("COUNTER/global.", vocab)) == ["increment"]  # fetch, alarm: handlers
    assert texts(suggest("COUNTER/global.f", vocab)) == []
    assert suggest("COUNTER/global.in", vocab)[0].start == -2
    assert texts(suggest("storage COUNTER/g", vocab)) == ["COUNTER/global"]
    assert texts(suggest("del COUNTER/global c", vocab)) == ["count"]
    assert texts(suggest("put COUNTER/'my room' ", vocab)) == ["'long key'"]
    assert texts(suggest("help ti", vocab)) == ["tick"]
    assert texts(suggest("fetch PO", vocab)) == ["POST"]
    assert texts(suggest("fetch POST COUNTER/gl", vocab)) == ["COUNTER/global"]
    assert texts(suggest("clock s", vocab)) == ["set"]
    assert texts(suggest("serve --p", vocab)) == ["--port"]
    assert suggest("COUNTER/global.increment(1, ", vocab) == []


def test_completion_offers_snapshot_names_where_a_snapshot_is_named(wb):
    wb.run("snapshot before")
    wb.run("snapshot after")
    vocab = snapshot(wb)
    assert texts(suggest("restore b", vocab)) == ["before"]
    assert texts(suggest("diff before a", vocab)) == ["after"]
    assert texts(suggest("snapshot save ", vocab)) == ["before", "after"]
    assert texts(suggest("snapshot l", vocab)) == ["load"]
    assert texts(suggest("diff before after ", vocab)) == []


def test_completion_offers_file_paths_where_a_path_is_expected(tmp_path, monkeypatch):
    (tmp_path / "bundles").mkdir()
    (tmp_path / "bundles" / "counter.js").write_text("")
    (tmp_path / "data").mkdir()
    monkeypatch.chdir(tmp_path)
    vocab = Vocabulary()
    assert texts(suggest("load bun", vocab)) == ["bundles/"]
    assert texts(suggest("load bundles/c", vocab)) == ["bundles/counter.js"]
    assert texts(suggest("load bundles/counter.js --data ", vocab)) == ["bundles/", "data/"]


# -- reference -----------------------------------------------------------------------------
def test_the_reference_documents_every_command():
    reference = reference_markdown()
    for cmd in {c.name: c for c in dobj.commands.COMMANDS.values()}.values():
        assert f"`{cmd.usage}`" in reference


def test_docs_page_holds_the_current_reference():
    page = (ROOT / "docs" / "repl.md").read_text(encoding="utf-8")
    assert reference_markdown() in page, "regenerate the reference in docs/repl.md (python -m dobj.commands)"


# -- the modules themselves ----------------------------------------------------------------
def test_the_command_layer_loads_no_terminal_library():
    code = "import sys, dobj.commands; print(sorted(m for m in ('prompt_toolkit', 'rich') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
