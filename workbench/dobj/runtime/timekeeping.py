"""Alarms and timers: the schedule, the manual clock's advance, and their delivery.

:class:`Timekeeping` is part of :class:`~dobj.runtime.core.Core`; it runs on the runtime's
loop like the rest of the core. With the real clock the loop wakes itself when the next
alarm or timer is due; with the manual clock only what is due already runs by itself, and
:meth:`Timekeeping.advance_to` delivers the rest in time order, each at its due time.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import time

from ..errors import BadRequest, DobjError
from .actors import Actor
from .clock import format_ms
from .trace import Event

ALARM_RETRIES = 6
MAX_TIMERS = 10_000  # pending timers per object


class Schedule:
    """Alarms and timers ordered by due time (ms on the runtime clock)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, int]] = []
        self._live: dict[tuple[str, int], int] = {}
        self._seq = itertools.count()

    def add(self, kind: str, key: int, due_ms: float) -> None:
        seq = next(self._seq)
        self._live[(kind, key)] = seq
        heapq.heappush(self._heap, (due_ms, seq, kind, key))

    def remove(self, kind: str, key: int) -> None:
        self._live.pop((kind, key), None)

    def _trim(self) -> None:
        while self._heap and self._live.get(self._heap[0][2:]) != self._heap[0][1]:
            heapq.heappop(self._heap)

    def next_due(self) -> float | None:
        self._trim()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, upto_ms: float) -> tuple[float, str, int] | None:
        self._trim()
        if not self._heap or self._heap[0][0] > upto_ms:
            return None
        due, _, kind, key = heapq.heappop(self._heap)
        del self._live[(kind, key)]
        return due, kind, key


class Timekeeping:
    """Alarms and timers of the core (a mixin of :class:`~dobj.runtime.core.Core`)."""

    def _host_timer(self, op: str, tid: int, text: str) -> str:
        """setTimeout/setInterval/clearTimeout, for the object whose event is running.

        ``set`` replies ``[timer id, object id]``; ``clear`` cancels the timer only when it
        belongs to that object and replies the object id (``null`` outside any event), so
        globals.js forgets only its own object's timers: ids are shared by every object.
        """
        event = self.current
        if op == "clear":
            entry = self.timers.get(tid)
            if event is not None and entry is not None and entry[0].oid == event.oid:
                self.schedule.remove("timer", tid)
                del self.timers[tid]
                entry[0].timers.discard(tid)
            return "null" if event is None else str(event.oid)
        if event is None:
            return "[0,null]"  # a timer outside any event has no object to run for; it never fires
        actor = self.actors[(event.namespace, event.name)]
        if op != "again":
            if len(actor.timers) >= MAX_TIMERS:
                raise BadRequest(f"{actor.path} has {MAX_TIMERS:,} pending timers; clear some first")
            tid = next(self._timer_ids)
        self._schedule_timer(tid, actor, float(text), event)
        return f"[{tid},{actor.oid}]"

    def _schedule_timer(self, tid: int, actor: Actor, delay_ms: float, event: Event | None) -> None:
        self.timers[tid] = (actor, actor.gen, event)
        actor.timers.add(tid)
        self.schedule.add("timer", tid, self.clock.now_ms() + delay_ms)
        self._rearm()

    def _schedule_alarm(self, oid: int, due_ms: float) -> None:
        self.schedule.add("alarm", oid, due_ms)
        self._rearm()

    def _resync_alarms(self) -> None:
        """Schedule every alarm the store holds (after a reload)."""
        for oid, due_ms, _retry in self.store.all_alarms():
            self.schedule.add("alarm", oid, due_ms)
        self._rearm()

    def _resync_alarm(self, oid: int) -> None:
        row = self.store.get_alarm(oid)
        if row is None:
            self.schedule.remove("alarm", oid)
        else:
            self._schedule_alarm(oid, row[0])

    def _rearm(self) -> None:
        """Wake the loop when the next alarm or timer is due.

        With the manual clock only what is due already (a zero delay, an alarm in the past)
        runs by itself; the rest waits for the clock to be advanced.
        """
        if self.closed:
            return
        due = self.schedule.next_due()
        if self._wakeup is not None:
            self._wakeup.cancel()
            self._wakeup = None
        if due is None:
            return
        delay = (due - self.clock.now_ms()) / 1000.0
        if not self.clock.manual:
            self._wakeup = self.loop.call_later(max(0.0, delay), self._wake)
            if self.on_schedule is not None:
                self.on_schedule(delay)
        elif delay <= 0:
            self._wakeup = self.loop.call_soon(self._wake)

    def _wake(self) -> None:
        self._wakeup = None
        if self.closed:
            return
        now = self.clock.now_ms()
        while (item := self.schedule.pop_due(now)) is not None:
            task = self.loop.create_task(self._deliver(item[1], item[2]))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._rearm()

    async def advance_to(self, target_ms: float) -> list[Event]:
        """Move the manual clock to ``target_ms``, delivering everything due on the way."""
        if not self.clock.manual:
            raise BadRequest("the clock is real time; it cannot be moved (start with the manual clock)")
        if target_ms < self.clock.now_ms():
            raise BadRequest(f"the clock cannot go back: it is {format_ms(self.clock.now_ms())}")
        delivered: list[Event] = []
        while (item := self.schedule.pop_due(target_ms)) is not None:
            due, kind, key = item
            self.clock.set_ms(max(due, self.clock.now_ms()))
            event = await self._deliver(kind, key)
            if event is not None:
                delivered.append(event)
            await asyncio.sleep(0)
        self.clock.set_ms(target_ms)
        return delivered

    async def _deliver(self, kind: str, key: int) -> Event | None:
        if kind == "alarm":
            return await self._deliver_alarm(key)
        return await self._deliver_timer(key)

    async def _deliver_timer(self, tid: int) -> Event | None:
        entry = self.timers.pop(tid, None)
        if entry is None:
            return None
        actor, gen, owner = entry
        actor.timers.discard(tid)
        if actor.gen != gen:
            return None
        if owner is not None and not owner.done:
            # The event that set the timer is still running: the callback is part of it.
            event = self.new_event(actor, "timer", "setTimeout", json.dumps([tid]), parent=owner)
            event.started = time.perf_counter()
            self._fire(owner, tid)
            event.finish()
            self.trace.add(event)
            return event
        event = self.new_event(actor, "timer", "setTimeout", json.dumps([tid]))

        async def body(ev: Event):
            if actor.gen == gen:
                self._fire(ev, tid)
            else:
                self.glue["dropTimers"](json.dumps([tid]))

        try:
            await self.run(actor, event, body)
        except DobjError:
            pass
        return event

    def _fire(self, event: Event, tid: int) -> None:
        reply = self._enter(event, self.glue["fireTimer"], tid)
        if reply:
            info = json.loads(reply[1:])
            event.console.append(("error", f"Uncaught in timer: {info.get('name')}: {info.get('message')}"))

    async def _deliver_alarm(self, oid: int) -> Event | None:
        namespace, name = self.store.object_name(oid)
        if namespace not in self.classes:
            return None  # the bundle no longer has this namespace: a reload brings it back
        actor = self.actor(namespace, name)
        row = self.store.get_alarm(oid)
        if row is None:
            return None
        retry = row[1]
        event = self.new_event(actor, "alarm", "alarm", json.dumps([{"retryCount": retry, "isRetry": retry > 0}]))
        event.by_name = not self.cf  # an alarm reaches a Workers project's object without a name

        async def body(ev: Event):
            current = self.store.get_alarm(oid)
            if current is None or current[0] > self.clock.now_ms():
                return None  # deleted or moved while this delivery waited
            self.store.delete_alarm(oid)
            try:
                if not actor.live:  # a constructor that throws fails the alarm, retried too
                    self._construct(actor, ev)
                if self.cf:  # Cloudflare's alarmInfo also has scheduledTime
                    return await self._call_handler(ev, "alarm", oid, retry, int(current[0]))
                return await self._call_handler(ev, "alarm", oid, retry)
            except DobjError:
                self._retry_alarm(ev, oid, retry)
                raise

        try:
            await self.run(actor, event, body)
        except DobjError:
            pass
        return event

    def _retry_alarm(self, event: Event, oid: int, retry: int) -> None:
        """After a failed ``alarm()``: again in 2, 4, 8, ... s, or drop it after the last retry.

        Nothing happens if the handler set a new alarm before it failed.
        """
        if self.store.get_alarm(oid) is not None:
            return
        if retry < ALARM_RETRIES:
            due = self.clock.now_ms() + 2000.0 * (2 ** retry)
            self.store.set_alarm(oid, due, retry + 1)
            self._schedule_alarm(oid, due)
        else:
            event.console.append(("error", f"alarm failed {retry + 1} times; dropped"))

    def alarms(self) -> list[tuple[str, str, float, int]]:
        """Every scheduled alarm: (namespace, name, due ms, retry count)."""
        out = []
        for oid, due, retry in self.store.all_alarms():
            namespace, name = self.store.object_name(oid)
            out.append((namespace, name, due, retry))
        return out


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
