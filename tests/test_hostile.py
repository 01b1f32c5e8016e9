"""Hostile bundles: each ends with a documented error within its budget, and every other
object keeps answering meanwhile (they may wait at most one budget: JavaScript runs on one
thread, and the budget is what bounds a runaway slice)."""

import asyncio
import time

import pytest

import dobj

HOSTILE = """
class Hostile {
  constructor(state, env) { this.state = state; this.env = env; }
  loop() { while (true) {} }
  async microtask() { await null; while (true) {} }
  regex() { return /(x+x+)+y/.test("x".repeat(40)); }
  bomb() { const a = []; while (true) a.push("x".repeat(1 << 16)); }
  deep() { const f = (n) => f(n + 1) + 1; return f(0); }
  async selfStub() { return await this.env.HOSTILE.getByName(this.state.id.name).loop(); }
  async cycle(other) { return await this.env.HOSTILE.getByName(other).cycle(this.state.id.name); }
  storm() { let n = 0; try { for (;;) { setTimeout(() => {}, 1000); n++; } } catch (e) { return [n, e.message]; } }
  armLoop() { this.state.storage.setAlarm(Date.now()); }
  alarm() { while (true) {} }
}
class Spins { constructor() { while (true) {} } ping() { return "never"; } }
class Calm {
  constructor(state) { this.state = state; }
  ping() { return "pong"; }
}
exports.objects = { Hostile, Spins, Calm };
"""

BUDGET = 0.4


@pytest.fixture
def rt(load):
    return load(HOSTILE, "hostile.js", cpu_timeout=BUDGET, memory_limit=96 * 1024 * 1024)


async def alongside(rt, namespace: str, method: str, *args):
    """Run the hostile call and, at the same time, ten calls to other objects."""
    hostile = asyncio.ensure_future(rt.get(namespace, "h").acall(method, *args))
    start = time.monotonic()
    calm = [await rt.get("CALM", f"c{i}").acall("ping") for i in range(10)]
    calm_took = time.monotonic() - start
    try:
        await hostile
    except dobj.DobjError as err:
        return err, calm, calm_took, time.monotonic() - start
    raise AssertionError(f"{method} should have failed")


@pytest.mark.parametrize("namespace, method, error, words", [
    ("HOSTILE", "loop", dobj.ScriptTimeout, "budget"),
    ("HOSTILE", "microtask", dobj.ScriptTimeout, "budget"),
    ("HOSTILE", "regex", dobj.ScriptTimeout, "budget"),
    ("SPINS", "ping", dobj.ScriptTimeout, "budget"),
    ("HOSTILE", "bomb", dobj.ExecutionError, "out of memory"),
    ("HOSTILE", "deep", dobj.ExecutionError, "recursion"),
    ("HOSTILE", "selfStub", dobj.BadRequest, "deadlock"),
])
def test_hostile_call_fails_cleanly_while_others_answer(rt, namespace, method, error, words):
    err, calm, calm_took, took = asyncio.run(alongside(rt, namespace, method))
    assert isinstance(err, error) and words in err.message
    assert calm == ["pong"] * 10
    assert calm_took < BUDGET + 1.0
    assert took < BUDGET + 2.0
    assert rt.get("CALM", "after").ping() == "pong"


def test_two_objects_calling_each_other_fail_instead_of_deadlocking(rt):
    err, calm, _, took = asyncio.run(alongside(rt, "HOSTILE", "cycle", "other"))
    assert isinstance(err, dobj.BadRequest) and "HOSTILE/h -> HOSTILE/other -> HOSTILE/h" in err.message
    assert calm == ["pong"] * 10 and took < BUDGET + 1.0


def test_timer_storm_is_capped_per_object(rt):
    count, message = rt.get("HOSTILE", "h").storm()
    assert count == 10_000 and "pending timers" in message
    assert rt.get("CALM", "c").ping() == "pong"
    events = rt.clock.advance(2)
    assert len(events) == 10_000
    assert rt.get("HOSTILE", "h").storm()[0] == 10_000


def test_runaway_alarm_times_out_and_is_retried_while_others_answer(rt):
    rt.get("HOSTILE", "h").armLoop()  # due now: the first attempt runs at once
    rt.clock.advance(10)
    alarms = [e for e in rt.trace() if e.kind == "alarm"]
    assert len(alarms) == 3
    assert all(isinstance(e.error, dobj.ScriptTimeout) for e in alarms)
    assert [e.at_ms - alarms[0].at_ms for e in alarms[:3]] == [0, 2000, 6000]
    assert rt.get("CALM", "c").ping() == "pong"


def test_stack_call_sites_lead_bundle_code_to_no_function(load):
    rt = load(
        """
        const seen = [];
        function grab() {
          Error.prepareStackTrace = (e, sites) => sites;
          const sites = new Error().stack;
          Error.prepareStackTrace = undefined;
          for (const s of sites) seen.push([s.getFunctionName(), typeof s.getFunction()]);
        }
        const sneaky = { toJSON() { grab(); return 1; } };
        grab();
        class Probe {
          constructor(state, env) { this.state = state; this.env = env; grab(); }
          async reach() {
            this.state.storage.put("k", sneaky);
            console.log(sneaky);
            this.state.storage.transaction(() => grab());
            setTimeout(() => grab(), 0);
            await this.env.PROBE.getByName("other").ping(sneaky);
            return sneaky;
          }
          ping() { grab(); return 1; }
          seen() { return seen; }
        }
        exports.objects = { Probe };
        """
    )
    probe = rt.get("PROBE", "x")
    probe.reach()
    rt.clock.advance(1)
    seen = probe.seen()
    assert {"reach", "toJSON", "ping", "grab"} <= {name for name, _ in seen}
    assert {kind for _, kind in seen} == {"undefined"}
