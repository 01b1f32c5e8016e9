"""The per-event budget, the memory and stack limits: each failure stays in its event."""

import asyncio
import time

import pytest

import dobj

HOSTILE = """
class Victim {
  constructor(state) { this.state = state; }
  loop() { this.state.storage.put("before", true); while (true) {} }
  never() { return new Promise(() => {}); }
  async microLoop() { await null; while (true) {} }
  regex() { return /(a+)+$/.test("a".repeat(40) + "!"); }
  bomb() { const a = []; while (true) a.push(new Array(1e5).fill(1)); }
  recurse(n) { return this.recurse(n + 1); }
  async stale() {
    await new Promise((r) => setTimeout(r, 0));
    while (Date.now() < 0) {}
    return new Promise((resolve) => { this.resolveLater = resolve; });
  }
  async lateWrite() {
    // Waits past the budget, then tries to write: it must never land.
    await new Promise((r) => setTimeout(r, 1000));
    this.state.storage.put("late", true);
  }
  ok() { return "fine"; }
  get(k) { return this.state.storage.get(k); }
  queuedWrite() { queueMicrotask(() => this.state.storage.put("queued", true)); while (true) {} }
  cutTransaction() {
    this.state.storage.put("outside", true);
    this.state.storage.transaction((txn) => {
      txn.put("inside", true);
      txn.setAlarm(Date.now() + 60000);
      while (true) {}
    });
  }
  alarm() {}
  async waitThenOk(ms) { await new Promise((r) => setTimeout(r, ms)); return "done"; }
}
class LoopsInConstructor { constructor() { while (true) {} } ok() { return 1; } }
exports.objects = { Victim, LoopsInConstructor };
"""

BUDGET = 0.3


@pytest.fixture
def rt(load):
    return load(HOSTILE, "hostile.js", cpu_timeout=BUDGET)


def timed(fn, *args):
    start = time.monotonic()
    try:
        fn(*args)
    except dobj.DobjError as err:
        return err, time.monotonic() - start
    raise AssertionError("expected an error")


@pytest.mark.parametrize("method", ["loop", "never", "microLoop", "regex"])
def test_runaway_event_times_out_within_budget_and_object_recovers(rt, method):
    victim = rt.get("VICTIM", "v")
    err, took = timed(victim.call, method)
    assert isinstance(err, dobj.ScriptTimeout)
    assert (err.code, err.http_status) == ("timeout", 504)
    assert "budget" in err.message
    assert BUDGET * 0.9 <= took < BUDGET + 1.0
    assert not victim.live
    assert victim.ok() == "fine"


def test_writes_before_a_timeout_are_kept_like_a_throw(rt):
    victim = rt.get("VICTIM", "v")
    timed(victim.loop)
    assert victim.get("before") is True


def test_stale_continuation_after_timeout_never_writes(rt):
    victim = rt.get("VICTIM", "v")

    async def scenario():
        task = asyncio.ensure_future(victim.acall("lateWrite"))
        with pytest.raises(dobj.ScriptTimeout):
            await task
        await rt.clock.aadvance(5)  # the timer the timed-out event set comes due
        return await victim.acall("get", "late")

    assert asyncio.run(scenario()) is None
    assert "late" not in victim.storage


def test_constructor_runs_inside_the_first_events_budget(rt):
    obj = rt.get("LOOPS_IN_CONSTRUCTOR", "c")
    err, took = timed(obj.ok)
    assert isinstance(err, dobj.ScriptTimeout)
    assert took < BUDGET + 1.0


def test_allocation_bomb_is_an_error_of_that_event(load):
    rt = load(HOSTILE, "hostile.js", cpu_timeout=10, memory_limit=64 * 1024 * 1024)
    victim = rt.get("VICTIM", "v")
    err, _ = timed(victim.bomb)
    assert isinstance(err, dobj.ExecutionError)
    assert "out of memory" in err.message
    assert victim.ok() == "fine"
    assert rt.get("VICTIM", "other").ok() == "fine"


def test_deep_recursion_is_a_range_error_of_that_event(rt):
    victim = rt.get("VICTIM", "v")
    err, _ = timed(victim.recurse, 0)
    assert isinstance(err, dobj.ExecutionError)
    assert err.js_name == "RangeError"
    assert "recursion" in err.message
    assert victim.ok() == "fine"


def test_other_objects_keep_working_while_one_runs_away(rt):
    async def scenario():
        runaway = asyncio.ensure_future(rt.get("VICTIM", "bad").acall("never"))
        results = [await rt.get("VICTIM", f"good{i}").acall("ok") for i in range(5)]
        with pytest.raises(dobj.ScriptTimeout):
            await runaway
        return results

    assert asyncio.run(scenario()) == ["fine"] * 5


def test_zero_budget_means_no_limit(load):
    rt = load(
        "class A { async slow() { let s = 0; for (let i = 0; i < 3e6; i++) s += i; return s; } }\n"
        "exports.objects = { A };",
        cpu_timeout=0,
    )
    assert rt.get("A", "a").slow() == sum(range(3_000_000))


def test_waiting_on_a_timer_with_the_manual_clock_says_how_to_advance(rt):
    err, _ = timed(rt.get("VICTIM", "v").lateWrite)
    assert isinstance(err, dobj.ScriptTimeout)
    assert "clock is manual" in err.message and "advance" in err.message


def test_continuation_resumed_by_another_object_cannot_write_after_timeout(load):
    rt = load(
        """
        let release = null;
        class Victim {
          constructor(state) { this.state = state; }
          async wait() {
            await new Promise((resolve) => { release = resolve; });
            this.state.storage.put("late", true);
          }
          get(k) { return this.state.storage.get(k); }
        }
        class Other { free() { if (release) { release(); return true; } return false; } }
        exports.objects = { Victim, Other };
        """,
        cpu_timeout=BUDGET,
    )
    victim = rt.get("VICTIM", "v")
    with pytest.raises(dobj.ScriptTimeout):
        victim.wait()
    assert rt.get("OTHER", "o").free() is True
    assert victim.get("late") is None


def test_a_write_queued_as_a_microtask_by_a_timed_out_event_never_lands(rt, tmp_path):
    victim = rt.get("VICTIM", "v")
    err, _ = timed(victim.queuedWrite)
    assert isinstance(err, dobj.ScriptTimeout)
    assert victim.get("queued") is None
    assert "queued" not in victim.storage


def test_a_transaction_cut_off_by_the_budget_rolls_back_and_its_alarm_with_it(rt):
    victim = rt.get("VICTIM", "v")
    err, _ = timed(victim.cutTransaction)
    assert isinstance(err, dobj.ScriptTimeout)
    assert dict(victim.storage) == {"outside": True}  # the write before the transaction stays
    assert victim.alarm is None and rt.alarms() == []


def test_the_budget_starts_when_the_event_runs_not_when_it_queued(load):
    # Three calls of ~60% of the budget each, queued at once on one object: each finishes
    # within its own budget, though the last one waits longer than a budget to start.
    rt = load(HOSTILE, "hostile.js", cpu_timeout=0.5, clock="real")
    victim = rt.get("VICTIM", "v")

    async def scenario():
        return await asyncio.gather(*(victim.acall("waitThenOk", 300) for _ in range(3)))

    assert asyncio.run(scenario()) == ["done"] * 3
