import asyncio
import hashlib

import pytest

import dobj

OBJECTS = """
class Thing {
  constructor(state, env) {
    this.state = state; this.env = env;
    this.own = () => "own arrow";
    const made = (state.storage.get("constructed") || 0) + 1;
    state.storage.put("constructed", made);
  }
  hello(name) { return "hello " + name; }
  id() { return { namespace: this.state.id.namespace, name: this.state.id.name, hex: String(this.state.id) }; }
  async slowInc() {
    const v = this.state.storage.get("n") || 0;
    await new Promise((r) => setTimeout(r, 0));
    await null;
    this.state.storage.put("n", v + 1);
    return v + 1;
  }
  async ask(other, method, ...args) { return await this.env.THING.getByName(other)[method](...args); }
  async askSelf() { return await this.env.THING.getByName(this.state.id.name).hello("me"); }
  async ping(other, depth) {
    return await this.env.THING.getByName(other).ping(this.state.id.name, depth + 1);
  }
  undef() {}
  nums() { return [1, 2.5, 2 ** 40, 2 ** 31, -7, 1e21]; }
  fn() { return () => 1; }
  cycle() { const a = {}; a.self = a; return a; }
  big() { return 10n; }
  nan() { return [NaN]; }
  throws() { throw new TypeError("bad thing happened"); }
  rejects() { return Promise.reject(new RangeError("async bad")); }
  throwsString() { throw "just a string"; }
}
class Base { inherited() { return "from base"; } }
class Child extends Base { mine() { return "mine"; } }
exports.objects = { Thing, Child };
"""


@pytest.fixture
def rt(load):
    return load(OBJECTS, "things.js", cpu_timeout=1.0)


def test_instance_is_made_lazily_once_per_identity(rt):
    a = rt.get("THING", "a")
    assert not a.live
    a.hello("x")
    a.hello("y")
    assert a.live
    assert a.storage["constructed"] == 1


def test_concurrent_first_calls_construct_once(rt):
    a = rt.get("THING", "first")

    async def many():
        return await asyncio.gather(*[a.acall("hello", str(i)) for i in range(25)])

    assert len(asyncio.run(many())) == 25
    assert a.storage["constructed"] == 1


def test_state_id_is_sha256_of_namespace_nul_name(rt):
    got = rt.get("THING", "alpha").call("id")
    assert got == {
        "namespace": "THING",
        "name": "alpha",
        "hex": hashlib.sha256(b"THING\0alpha").hexdigest(),
    }
    assert rt.get("THING", "alpha").id == got["hex"]


def test_concurrent_async_increments_on_one_object_lose_nothing(rt):
    a = rt.get("THING", "shared")

    async def many():
        return await asyncio.gather(*[a.acall("slowInc") for _ in range(40)])

    assert sorted(asyncio.run(many())) == list(range(1, 41))
    assert a.storage["n"] == 40


def test_events_of_one_object_never_interleave(rt):
    a = rt.get("THING", "serial")

    async def many():
        await asyncio.gather(*[a.acall("slowInc") for _ in range(10)])

    asyncio.run(many())
    events = [e for e in rt.trace() if e.object == "THING/serial" and e.kind == "rpc"]
    spans = sorted((e.started, e.started + e.duration_ms / 1000) for e in events)
    for (_, end), (start, _) in zip(spans, spans[1:]):
        assert start >= end


def test_stub_calls_reach_another_object(rt):
    assert rt.get("THING", "a").call("ask", "b", "hello", "stub") == "hello stub"
    assert rt.get("THING", "b").live


def test_stub_call_to_itself_fails_instead_of_deadlocking(rt):
    with pytest.raises(dobj.BadRequest, match="deadlock"):
        rt.get("THING", "a").askSelf()


def test_stub_call_cycle_fails_instead_of_deadlocking(rt):
    with pytest.raises(dobj.BadRequest, match="THING/a -> THING/b -> THING/a"):
        rt.get("THING", "a").ping("b", 0)
    assert rt.get("THING", "a").hello("still") == "hello still"


def test_failed_stub_call_is_the_callers_execution_error(rt):
    with pytest.raises(dobj.ExecutionError, match="has no method"):
        rt.get("THING", "a").ask("b", "nosuch")


def test_own_and_inherited_functions_are_callable(rt):
    assert rt.get("THING", "a").own() == "own arrow"
    assert rt.get("CHILD", "a").inherited() == "from base"
    assert rt.get("CHILD", "a").mine() == "mine"


@pytest.mark.parametrize("method", ["constructor", "toString", "hasOwnProperty", "__proto__", "valueOf"])
def test_constructor_and_object_prototype_are_not_callable(rt, method):
    with pytest.raises(dobj.MethodNotFound) as info:
        rt.get("THING", "a").call(method)
    assert info.value.http_status == 404


def test_mistyped_method_suggests_the_close_one(rt):
    with pytest.raises(dobj.MethodNotFound, match="did you mean 'hello'"):
        rt.get("THING", "a").call("helo", "x")


def test_results_are_json_with_integral_numbers_kept_integral(rt):
    a = rt.get("THING", "a")
    assert a.undef() is None
    got = a.nums()
    assert got == [1, 2.5, 2**40, 2**31, -7, 1e21]
    assert [type(v) for v in got[:5]] == [int, float, int, int, int]


@pytest.mark.parametrize("method", ["fn", "cycle", "big", "nan"])
def test_non_serializable_result_is_an_execution_error(rt, method):
    a = rt.get("THING", "a")
    with pytest.raises(dobj.ExecutionError, match="not JSON-serializable"):
        a.call(method)
    assert a.hello("after") == "hello after"


def test_thrown_error_keeps_name_message_and_bundle_stack(rt):
    with pytest.raises(dobj.ExecutionError) as info:
        rt.get("THING", "a").throws()
    err = info.value
    assert (err.code, err.http_status) == ("execution_error", 500)
    assert err.js_name == "TypeError" and err.message == "bad thing happened"
    assert "things.js:" in err.js_stack and "<input>" not in err.js_stack


def test_rejected_promise_is_an_execution_error(rt):
    with pytest.raises(dobj.ExecutionError, match="async bad") as info:
        rt.get("THING", "a").rejects()
    assert info.value.js_name == "RangeError"


def test_thrown_non_error_value_is_reported(rt):
    with pytest.raises(dobj.ExecutionError, match="just a string"):
        rt.get("THING", "a").throwsString()


def test_arguments_must_be_json_serializable(rt):
    with pytest.raises(dobj.BadRequest):
        rt.get("THING", "a").hello(object())


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a\\b", "nul\0", "tab\t", "x" * 1025, "lone\ud800"])
def test_invalid_object_names_are_refused(rt, name):
    with pytest.raises(dobj.BadRequest):
        rt.get("THING", name)


def test_a_stub_to_a_name_with_a_lone_surrogate_is_refused_as_a_bad_request(load):
    rt = load("""
        class Caller { constructor(s, env) { this.env = env; }
          async reach() { try { await this.env.CALLER.getByName("\\uD800").reach(); } catch (e) { return [e.name, e.message]; } } }
        exports.objects = { Caller };
    """)
    name, message = rt.get("CALLER", "c").reach()
    assert "lone surrogate" in message


def test_name_of_1024_utf8_bytes_is_allowed(rt):
    assert rt.get("THING", "é" * 512).hello("x") == "hello x"


def test_turn_is_fifo_and_survives_a_cancelled_waiter():
    from dobj.runtime.actors import Turn

    async def scenario():
        loop = asyncio.get_running_loop()
        turn, order = Turn(), []
        assert turn.take_now()

        async def waiter(tag):
            await turn.take(loop)
            order.append(tag)
            await asyncio.sleep(0)
            turn.release()

        tasks = [asyncio.ensure_future(waiter(t)) for t in "abc"]
        await asyncio.sleep(0)
        tasks[1].cancel()
        turn.release()
        await asyncio.gather(*tasks, return_exceptions=True)
        return order, turn.busy

    assert asyncio.run(scenario()) == (["a", "c"], False)
