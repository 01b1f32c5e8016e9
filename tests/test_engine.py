"""The engine layer: the ctypes layout guard and the traps of the binding it works around."""

import subprocess
import sys

import pytest
import quickjs

import dobj
from dobj.runtime import engine


def test_layout_guard_accepts_the_pinned_binding():
    ctx = quickjs.Context()
    rt, jsctx = engine.context_pointers(ctx)
    assert engine._lib.JS_GetRuntime(jsctx) == rt


def test_layout_guard_refuses_a_layout_it_does_not_recognise(monkeypatch):
    ctx = quickjs.Context()
    monkeypatch.setattr(engine, "_RUNTIME_OFFSET", engine._CONTEXT_OFFSET)
    with pytest.raises(dobj.DobjError, match="unexpected memory layout"):
        engine.context_pointers(ctx)


def test_only_quickjs_ng_provides_the_quickjs_module():
    """Installing the original `quickjs` beside quickjs-ng mixes their modules."""
    from importlib.metadata import PackageNotFoundError, version

    assert version("quickjs-ng") == "0.17.0.2"
    with pytest.raises(PackageNotFoundError):
        version("quickjs")


def test_interrupt_stops_a_loop_and_the_context_stays_usable():
    eng = engine.Engine()
    import time

    eng.deadline = time.monotonic() + 0.1
    with pytest.raises(quickjs.JSException, match="interrupted"):
        eng.eval("while (true) {}")
    assert eng.interrupted
    eng.deadline = float("inf")
    assert eng.eval("6 * 7") == 42


def test_a_thread_switch_keeps_the_stack_limit_right():
    import threading

    eng = engine.Engine()
    eng.eval("globalThis.depth = (n) => (n === 0 ? 0 : 1 + depth(n - 1));")
    results = []

    def other():
        eng.enter()
        results.append(eng.eval("depth(1000)"))

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    eng.enter()
    assert results == [1000] and eng.eval("depth(1000)") == 1000


LONG = """
class Long {
  constructor(state, env) { this.state = state; this.env = env; }
  build(n) { let s = ""; for (let i = 0; i < n; i++) s += "piece" + i + ";"; return s; }
  keyed(n) {
    const key = "k".repeat(600) + "-" + "x".repeat(600);
    this.state.storage.put(key, this.build(n));
    console.log("logged " + this.build(n));
    return this.state.storage.get(key).length;
  }
  async viaStub(n) { return (await this.env.LONG.getByName("other").build(n)).length; }
  throwLong(n) { throw new Error(this.build(n)); }
}
exports.objects = { Long };
"""


def test_long_concatenated_strings_cross_the_boundary(load):
    """quickjs-ng keeps long concatenations as ropes, which the binding cannot convert."""
    rt = load(LONG, "long.js")
    obj = rt.get("LONG", "a")
    expected = "".join(f"piece{i};" for i in range(20000))
    assert obj.build(20000) == expected
    assert obj.keyed(20000) == len(expected)
    assert rt.trace(1)[0].console[0][1].startswith("logged piece0;")
    assert obj.viaStub(20000) == len(expected)
    with pytest.raises(dobj.ExecutionError) as info:
        obj.throwLong(5000)
    assert info.value.message.startswith("piece0;")


def test_core_imports_no_front_end_library():
    code = (
        "import sys, dobj, dobj.runtime\n"
        "bad = [m for m in ('prompt_toolkit', 'rich', 'uvicorn', 'IPython', 'starlette', 'httpx')"
        " if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
