"""The runtime clock, timers and alarms (SPEC section 4)."""

import asyncio
import time
from datetime import datetime, timezone

import pytest

import dobj
from dobj.runtime import parse_duration

CLOCKED = """
class Clocked {
  constructor(state) { this.state = state; this.s = state.storage; }
  now() { return [Date.now(), new Date().getTime(), typeof Date(), new Date(0).toISOString()]; }
  arm(ms) { this.s.setAlarm(ms); return this.s.getAlarm(); }
  armIn(ms) { this.s.setAlarm(new Date(Date.now() + ms)); }
  getAlarm() { return this.s.getAlarm(); }
  clear() { this.s.deleteAlarm(); }
  async sleep(ms) { const t0 = Date.now(); await new Promise((r) => setTimeout(r, ms)); return Date.now() - t0; }
  later(ms, tag) { setTimeout(() => { this.s.put("timer:" + tag, Date.now()); }, ms); }
  cancelled() { const t = setTimeout(() => this.s.put("never", 1), 10); clearTimeout(t); }
  arm1s(tag) { return setTimeout(() => this.s.put("fired", tag), 1000); }
  armEvery1s() { return setInterval(() => this.s.put("ticks", (this.s.get("ticks") || 0) + 1), 1000); }
  clearTimer(id) { clearTimeout(id); clearInterval(id); }
  async alarm(info) {
    const log = this.s.get("log") || [];
    log.push({ at: Date.now(), info, alarmInside: this.s.getAlarm() ?? null });
    this.s.put("log", log);
    const mode = this.s.get("mode");
    if (mode === "fail") throw new Error("alarm failed on purpose");
    if (mode === "rearm" && log.length < 3) this.s.setAlarm(Date.now() + 1000);
  }
  setMode(m) { this.s.put("mode", m); }
  log() { return this.s.get("log") || []; }
  changeAlarmThenRollBack(how) {
    try {
      this.s.transaction(() => {
        if (how === "delete") this.s.deleteAlarm(); else this.s.setAlarm(Date.now() + 999000);
        throw new Error("roll back");
      });
    } catch (e) { return e.message; }
  }
}
exports.objects = { Clocked };
"""


@pytest.fixture
def rt(load):
    return load(CLOCKED, "clocked.js", cpu_timeout=1.0)


def test_durations_parse_like_the_workbench_writes_them():
    assert parse_duration("5s") == 5.0
    assert parse_duration("1m30s") == 90.0
    assert parse_duration("250ms") == 0.25
    assert parse_duration("2h") == 7200.0
    with pytest.raises(dobj.BadRequest, match="not a duration"):
        parse_duration("five seconds")


def test_date_reads_the_manual_clock(rt):
    c = rt.get("CLOCKED", "c")
    start = rt.clock.now_ms()
    now, made, text, epoch = c.now()
    assert now == made == start
    assert isinstance(text, str) and epoch == "1970-01-01T00:00:00.000Z"
    rt.clock.advance("1m30s")
    assert c.now()[0] == start + 90_000


def test_clock_set_moves_to_an_instant(rt):
    rt.clock.set("2030-01-01T00:00:00Z")
    assert rt.clock.now() == datetime(2030, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(dobj.BadRequest, match="cannot go back"):
        rt.clock.set("2029-01-01T00:00:00Z")


def test_alarm_fires_when_clock_passes_due_time_and_is_cleared_first(rt):
    c = rt.get("CLOCKED", "c")
    due = rt.clock.now_ms() + 5000
    assert c.arm(due) == due
    assert rt.clock.advance(4.999) == []
    events = rt.clock.advance(1)
    assert [(e.kind, e.object) for e in events] == [("alarm", "CLOCKED/c")]
    (entry,) = c.log()
    assert entry == {"at": due, "info": {"retryCount": 0, "isRetry": False}, "alarmInside": None}
    assert c.getAlarm() is None
    assert rt.alarms() == []


def test_advance_delivers_alarms_and_timers_in_time_order_at_their_due_time(rt):
    a, b = rt.get("CLOCKED", "a"), rt.get("CLOCKED", "b")
    t0 = rt.clock.now_ms()
    b.arm(t0 + 3000)
    a.arm(t0 + 1000)
    a.later(2000, "x")
    events = rt.clock.advance(10)
    assert [(e.object, e.kind, e.at_ms - t0) for e in events] == [
        ("CLOCKED/a", "alarm", 1000),
        ("CLOCKED/a", "timer", 2000),
        ("CLOCKED/b", "alarm", 3000),
    ]
    assert a.storage["timer:x"] == t0 + 2000


def test_alarm_may_rearm_itself(rt):
    c = rt.get("CLOCKED", "c")
    c.setMode("rearm")
    c.armIn(1000)
    rt.clock.advance(10)
    assert [e["at"] - c.log()[0]["at"] for e in c.log()] == [0, 1000, 2000]


def test_failing_alarm_is_retried_with_backoff_then_dropped(rt):
    c = rt.get("CLOCKED", "c")
    c.setMode("fail")
    t0 = rt.clock.now_ms()
    c.arm(t0)
    rt.clock.advance(3600)
    log = c.log()
    assert [e["info"] for e in log] == [
        {"retryCount": n, "isRetry": n > 0} for n in range(7)
    ]
    gaps = [later["at"] - earlier["at"] for earlier, later in zip(log, log[1:])]
    assert gaps == [2000, 4000, 8000, 16000, 32000, 64000]
    assert rt.alarms() == []
    failed = [e for e in rt.trace() if e.kind == "alarm"]
    assert all(e.error is not None for e in failed)


def test_an_alarm_whose_constructor_throws_is_retried_like_a_failing_alarm(load):
    rt = load("""
        class Fragile {
          constructor(state) { this.s = state.storage; if (this.s.get("broken")) throw new Error("cannot build"); }
          arm(ms) { this.s.setAlarm(Date.now() + ms); }
          alarm(info) { this.s.put("rang", info); }
        }
        exports.objects = { Fragile };
    """, cpu_timeout=1.0)
    obj = rt.get("FRAGILE", "f")
    obj.arm(1000)
    obj.storage["broken"] = True
    obj.evict()
    t0 = rt.clock.now_ms()
    rt.clock.advance("1s")
    (failed,) = [e for e in rt.trace() if e.kind == "alarm"]
    assert "cannot build" in failed.error.message
    (retry,) = rt.alarms()
    assert (retry["due_ms"] - t0, retry["retry"]) == (1000 + 2000, 1)  # not left overdue
    del obj.storage["broken"]
    rt.clock.advance("2s")
    assert obj.storage["rang"] == {"retryCount": 1, "isRetry": True}
    assert rt.alarms() == []


def test_the_trace_shows_an_alarm_set_or_deleted_as_written(rt):
    c = rt.get("CLOCKED", "c")
    c.armIn(1000)
    c.clear()
    assert [e.written for e in rt.trace()[-2:]] == [["(alarm)"], ["(alarm)"]]


def test_deleted_alarm_does_not_fire(rt):
    c = rt.get("CLOCKED", "c")
    c.armIn(1000)
    c.clear()
    assert rt.clock.advance(5) == []


def test_past_due_alarm_and_zero_delay_timer_run_without_moving_the_clock(rt):
    c = rt.get("CLOCKED", "c")
    c.arm(rt.clock.now_ms() - 1)
    assert len(c.log()) == 1
    assert c.sleep(0) == 0


def test_cleared_timer_never_fires(rt):
    c = rt.get("CLOCKED", "c")
    c.cancelled()
    rt.clock.advance(1)
    assert "never" not in c.storage


def test_clearing_another_objects_timer_id_leaves_that_timer_alone(rt):
    a, b = rt.get("CLOCKED", "a"), rt.get("CLOCKED", "b")
    timeout, interval = a.arm1s("a's"), a.armEvery1s()
    b.clearTimer(timeout)
    b.clearTimer(interval)
    rt.clock.advance(2.5)
    assert a.storage["fired"] == "a's"
    assert a.storage["ticks"] == 2
    a.clearTimer(interval)  # its own object still can
    rt.clock.advance(5)
    assert a.storage["ticks"] == 2


def test_an_event_waiting_on_a_timer_resumes_when_the_clock_advances(rt):
    c = rt.get("CLOCKED", "c")

    async def scenario():
        return await asyncio.gather(c.acall("sleep", 3000), rt.clock.aadvance(5))

    waited, events = asyncio.run(scenario())
    assert waited == 3000
    assert [e.kind for e in events] == ["timer"]


@pytest.mark.parametrize("how", ["delete", "move"])
def test_an_alarm_change_rolled_back_by_a_transaction_keeps_the_committed_alarm(rt, how):
    c = rt.get("CLOCKED", "c")
    due = c.arm(rt.clock.now_ms() + 5000)
    assert c.changeAlarmThenRollBack(how) == "roll back"
    assert c.getAlarm() == due
    rt.clock.advance("6s")
    assert [entry["at"] for entry in c.log()] == [due]


def test_alarm_persists_and_fires_after_a_restart(bundle, tmp_path):
    path = bundle(CLOCKED, "clocked.js")
    data = tmp_path / "data"
    with dobj.Runtime.load(path, data=data) as rt:
        due = rt.clock.now_ms() + 60_000
        rt.get("CLOCKED", "c").arm(due)
    with dobj.Runtime.load(path, data=data) as rt:
        assert [a["due_ms"] for a in rt.alarms()] == [due]
        rt.clock.set(due)
        assert len(rt.get("CLOCKED", "c").log()) == 1


@pytest.mark.slow
def test_real_clock_alarm_fires_within_50_ms(bundle, tmp_path):
    path = bundle(CLOCKED, "clocked.js")
    with dobj.Runtime.load(path, clock="real") as rt:
        c = rt.get("CLOCKED", "c")
        due = time.time() * 1000 + 200
        c.arm(due)
        deadline = time.monotonic() + 5
        while not c.storage.get("log") and time.monotonic() < deadline:
            time.sleep(0.005)
        (entry,) = c.log()
        assert 0 <= entry["at"] - due <= 50


@pytest.mark.slow
def test_real_clock_alarms_and_timers_fire_on_time_while_a_sync_script_sleeps(bundle, tmp_path):
    path = bundle(CLOCKED, "clocked.js")
    with dobj.Runtime.load(path, data=tmp_path / "data", clock="real") as rt:
        c = rt.get("CLOCKED", "c")
        due = int(time.time() * 1000) + 200  # whole ms, as the runtime clock counts
        c.arm(due)
        c.later(150, "t")
        time.sleep(0.5)  # no call into the runtime meanwhile: a timekeeper must deliver both
        (entry,) = c.log()
        assert 0 <= entry["at"] - due <= 50
        assert 0 <= c.storage["timer:t"] - (due - 50) <= 50
        assert not rt.hosted  # sync calls ran on this thread, without a hop


@pytest.mark.slow
def test_real_clock_sync_calls_need_no_thread_hop_and_async_calls_work_from_any_loop(bundle):
    path = bundle(CLOCKED, "clocked.js")
    with dobj.Runtime.load(path, clock="real") as rt:
        c = rt.get("CLOCKED", "c")
        assert 0 <= c.call("sleep", 30) - 30 <= 50  # waits on a real timer inside the call
        assert not rt.hosted

        async def elsewhere():  # another event loop than the runtime's
            return await c.acall("sleep", 10)

        assert asyncio.run(elsewhere()) >= 10
        assert c.call("sleep", 0) >= 0  # and sync calls still work afterwards


@pytest.mark.slow
def test_real_clock_alarm_that_came_due_while_down_fires_after_restart(bundle, tmp_path):
    path = bundle(CLOCKED, "clocked.js")
    data = tmp_path / "data"
    with dobj.Runtime.load(path, data=data, clock="real") as rt:
        rt.get("CLOCKED", "c").arm(time.time() * 1000 + 100)
    time.sleep(0.2)
    with dobj.Runtime.load(path, data=data, clock="real") as rt:
        c = rt.get("CLOCKED", "c")
        deadline = time.monotonic() + 5
        while not c.storage.get("log") and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(c.log()) == 1


def test_real_clock_cannot_be_moved(bundle):
    with dobj.Runtime.load(bundle(CLOCKED, "clocked.js"), clock="real") as rt:
        assert not rt.clock.manual
        with pytest.raises(dobj.BadRequest, match="real time"):
            rt.clock.advance(1)
