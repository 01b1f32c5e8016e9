import asyncio
import json

import pytest

import dobj


def load_error(bundle, source) -> dobj.BundleError:
    with pytest.raises(dobj.BundleError) as info:
        dobj.Runtime.load(bundle(source, "broken.js"))
    return info.value


def test_syntax_error_names_file_line_and_column(bundle):
    err = load_error(bundle, "class A {}\n\nconst x = 1 +* 2;\nexports.objects = { A };\n")
    assert err.message.startswith("broken.js:3:")
    assert "SyntaxError" in err.message


def test_syntax_error_on_first_line_has_the_bundle_column(bundle):
    err = load_error(bundle, "const = 5;\n")
    assert err.message.startswith("broken.js:1:7"), err.message


@pytest.mark.parametrize("source, where", [
    ("class A {\n  go() {}\n", "broken.js:2:10"),
    ("function f() {\n  return [1, 2\n", "broken.js:2:15"),
])
def test_bundle_that_ends_early_is_reported_at_its_end(bundle, source, where):
    err = load_error(bundle, source)
    assert err.message.startswith(where + ": SyntaxError: unexpected end of the file"), err.message


def test_top_level_throw_names_its_line(bundle):
    err = load_error(bundle, "class A {}\nthrow new Error('top level says no');\n")
    assert err.message.startswith("broken.js:2:")
    assert "top level says no" in err.message


def test_bundle_without_objects_fails_with_a_hint(bundle):
    err = load_error(bundle, "class A {}\nexports.other = A;\n")
    assert "exports no objects" in err.message and "exports.objects" in err.message


def test_hint_for_a_bundle_without_objects_is_valid_javascript(bundle):
    err = load_error(bundle, "class A {}\n")
    assert "exports.objects = { MyClass }" in err.message
    assert "module.exports = { objects: { MyClass } }" in err.message
    assert "{{" not in err.message and "}}" not in err.message


@pytest.mark.parametrize("key", ["a b", "Chat/Room", "Chat.Room", "Résumé!", "tab\there", ""])
def test_export_name_that_no_command_can_address_is_refused(bundle, key):
    err = load_error(bundle, f"class C {{}}\nexports.objects = {{ {json.dumps(key)}: C }};\n")
    assert repr(key) in err.message
    assert "letters, digits" in err.message


@pytest.mark.parametrize("key, namespace", [("chat-room", "CHAT_ROOM"), ("Zähler", "ZÄHLER"), ("$Private", "$PRIVATE")])
def test_export_names_with_letters_digits_dash_and_dollar_load(load, key, namespace):
    rt = load(f"class C {{ n() {{ return 1; }} }}\nexports.objects = {{ {json.dumps(key)}: C }};\n")
    assert rt.get(namespace, "x").n() == 1


def test_manifest_namespace_that_no_command_can_address_is_refused(bundle, tmp_path):
    path = bundle("class C {}\nexports.objects = { C };\n")
    manifest = tmp_path / "manifest.json"
    manifest.write_text('{"objects": {"MY NS": "C"}}')
    with pytest.raises(dobj.BundleError, match="'MY NS'.*letters, digits"):
        dobj.Runtime.load(path, manifest=manifest)


@pytest.mark.parametrize("value, kind", [("42", "number"), ("() => 1", "function"), ("null", "null")])
def test_non_constructor_export_names_the_key(bundle, value, kind):
    err = load_error(bundle, f"exports.objects = {{ Bad: {value} }};\n")
    assert "exports.objects.Bad" in err.message
    assert "not a class" in err.message


def test_module_exports_form_works(load):
    rt = load("class Counter { n() { return 1; } }\nmodule.exports = { objects: { Counter } };")
    assert rt.get("COUNTER", "a").n() == 1


def test_missing_bundle_file_is_a_clear_error(tmp_path):
    with pytest.raises(dobj.BundleError, match="does not exist"):
        dobj.Runtime.load(tmp_path / "nope.js")


def test_require_tells_to_bundle_dependencies(load):
    rt = load("class A { r() { return require('fs'); } }\nexports.objects = { A };")
    with pytest.raises(dobj.ExecutionError, match="[Bb]undle your dependencies"):
        rt.get("A", "x").r()


def test_bundle_cannot_reach_host_functions(load):
    rt = load(
        """
        class A {
          probe() {
            return Object.getOwnPropertyNames(globalThis).filter((n) => n.startsWith("__host"))
              .concat([typeof std, typeof os, typeof process]);
          }
        }
        exports.objects = { A };
        """
    )
    assert rt.get("A", "x").probe() == ["undefined", "undefined", "undefined"]


def test_bundle_sees_no_variable_of_the_loader(load):
    rt = load(
        """
        class A {
          probe() {
            return [typeof h, typeof g, typeof f, typeof host, typeof internal, typeof glue, typeof pick];
          }
        }
        exports.objects = { A };
        """
    )
    assert rt.get("A", "x").probe() == ["undefined"] * 7


@pytest.mark.parametrize("declaration", [
    "const h = 1;", "let g = 2;", "var f = 3;", "function host() { return 4; }", "const internal = 5;",
])
def test_bundle_may_declare_any_top_level_name(load, declaration):
    rt = load(f"{declaration}\nclass A {{ n() {{ return 1; }} }}\nexports.objects = {{ A }};\n")
    assert rt.get("A", "x").n() == 1


def test_global_set_by_the_bundle_is_the_global_it_reads(load):
    rt = load("globalThis.h = 5; globalThis.g = 6;\nclass A { n() { return [h, g]; } }\nexports.objects = { A };")
    assert rt.get("A", "x").n() == [5, 6]


def test_errors_in_the_bundle_keep_bundle_positions_and_drop_runtime_frames(load):
    rt = load(
        """class A {
          fail() { this.state.storage.put("k", () => 1); }
          constructor(state) { this.state = state; }
        }
        exports.objects = { A };
        """,
        "positions.js",
    )
    with pytest.raises(dobj.BadRequest) as info:
        rt.get("A", "x").fail()
    frames = [line.strip() for line in info.value.js_stack.splitlines()]
    assert frames == ["at fail (positions.js:2:39)"], frames


def test_reload_keeps_storage_and_alarms_and_drops_instances(bundle, tmp_path):
    path = bundle(
        """
        class Counter {
          constructor(state) { this.state = state; this.made = Date.now(); }
          inc() { const n = (this.state.storage.get("n") || 0) + 1; this.state.storage.put("n", n); return n; }
          arm() { this.state.storage.setAlarm(Date.now() + 60000); }
          alarm() {}
        }
        exports.objects = { Counter };
        """
    )
    with dobj.Runtime.load(path, data=tmp_path / "data") as rt:
        c = rt.get("COUNTER", "a")
        c.inc()
        c.arm()
        path.write_text(path.read_text().replace("+ 1;", "+ 10;"))
        rt.reload()
        assert not c.live
        assert c.inc() == 11
        assert len(rt.alarms()) == 1


def test_reload_of_a_broken_bundle_keeps_the_old_one(bundle):
    path = bundle("class A { n() { return 1; } }\nexports.objects = { A };")
    with dobj.Runtime.load(path) as rt:
        path.write_text("class A { n() { return 2; }\n")
        with pytest.raises(dobj.BundleError):
            rt.reload()
        assert rt.get("A", "x").n() == 1


TWO_CLASSES = """
class Keep { ping() { return "pong"; } }
class Ring {
  constructor(state) { this.s = state.storage; }
  arm(ms) { this.s.setAlarm(Date.now() + ms); }
  alarm() { this.s.put("rang", (this.s.get("rang") || 0) + 1); }
  async wait(ms) { await new Promise((r) => setTimeout(r, ms)); return "woke"; }
}
exports.objects = { Keep, Ring };
"""


def test_an_alarm_due_while_its_namespace_is_gone_fires_when_a_reload_brings_it_back(bundle):
    path = bundle(TWO_CLASSES)
    with dobj.Runtime.load(path) as rt:
        rt.get("RING", "r").arm(5000)
        path.write_text(TWO_CLASSES.replace("exports.objects = { Keep, Ring }", "exports.objects = { Keep }"))
        rt.reload()
        rt.clock.advance("10s")
        assert [a["object"] for a in rt.alarms()] == ["RING/r"]  # listed, overdue, waiting
        path.write_text(TWO_CLASSES)
        rt.reload()
        assert rt.alarms() == []
        assert rt.get("RING", "r").storage["rang"] == 1


def test_a_handle_taken_before_a_reload_removed_its_namespace_says_so(bundle):
    path = bundle(TWO_CLASSES)
    with dobj.Runtime.load(path) as rt:
        ring = rt.get("RING", "r")
        ring.arm(1000)
        path.write_text(TWO_CLASSES.replace("exports.objects = { Keep, Ring }", "exports.objects = { Keep }"))
        rt.reload()
        with pytest.raises(dobj.UnknownNamespace, match="no namespace 'RING'"):
            ring.arm(1000)
        with pytest.raises(dobj.UnknownNamespace):
            ring.storage["x"] = 1


@pytest.mark.parametrize("cpu_timeout", [0, 5.0])
def test_reload_stops_an_event_that_waits_with_a_clear_error_and_goes_on(bundle, cpu_timeout):
    path = bundle(TWO_CLASSES)
    with dobj.Runtime.load(path, cpu_timeout=cpu_timeout) as rt:
        ring = rt.get("RING", "r")

        async def scenario():
            waiting = asyncio.ensure_future(ring.acall("wait", 60_000))  # the manual clock stands still
            await asyncio.sleep(0.05)
            await asyncio.to_thread(rt.reload)
            with pytest.raises(dobj.ExecutionError, match="reloaded while it waited"):
                await asyncio.wait_for(waiting, 2)
            return await ring.acall("wait", 0)

        assert asyncio.run(scenario()) == "woke"


def test_top_level_console_output_is_kept(load):
    rt = load("console.log('loading', 1);\nclass A {}\nexports.objects = { A };")
    assert rt.console == [("log", "loading 1")]
