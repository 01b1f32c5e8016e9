"""Running one event: the object's turn, construction, the budget, the handler's Promise.

:class:`EventRun` is part of :class:`~dobj.runtime.core.Core` and runs on its loop. It
reads the core's ``engine``, ``glue``, ``classes``, ``actors``, ``store``, ``commits``,
``clock``, ``budget`` and ``trace``, and owns the bookkeeping of Promises being waited on
(``_pids``, ``_expecting``, ``_settled``, ``_waiting``, ``_pid_of``) and ``current``, the
event on whose behalf JavaScript runs now.

Every entry into JavaScript goes through :meth:`EventRun._enter`, which marks the event
(for storage, console and the budget) and drains the job queue before returning, so no
JavaScript of one event is ever left for another to run.
"""

from __future__ import annotations

import asyncio
import json
import time

from ..errors import DobjError, ExecutionError, RuntimeClosed, ScriptTimeout
from .actors import Actor
from .bundle import HANDLERS
from .replies import engine_failure, method_not_found, script_error, timeout_error
from .driving import resume, step
from .trace import Event


class EventRun:
    """The event run of the core (a mixin of :class:`~dobj.runtime.core.Core`)."""

    # -- entering JavaScript ------------------------------------------------------------
    def _enter(self, event: Event | None, fn, *args):
        """Call a glue function on behalf of ``event``, then drain the job queue.

        Returns the glue's reply, or ``"T"`` when the budget interrupted the JavaScript:
        the event's instance is then discarded at once, before anything else runs, so no
        continuation of it can write storage.
        """
        engine = self.engine
        previous, self.current = self.current, event
        if self.cf:
            self.entered_ms = self.clock.now_ms()  # Date.now() of a Workers project, until I/O
        engine.deadline = event.deadline if event is not None else time.monotonic() + 1.0
        engine.interrupted = False
        engine.enter()
        try:
            try:
                reply = fn(*args)
            except Exception as exc:
                reply = "T" if engine.interrupted else engine_failure(exc)
            # Jobs the event queued run only while it is within budget: once interrupted,
            # the instance is discarded first, so none of them can write.
            if reply != "T" and not engine.drain() and engine.interrupted:
                reply = "T"
            if reply == "T":
                self._interrupted(event)
            return reply
        finally:
            engine.deadline = float("inf")
            self.current = previous
            if self._stub_calls and not self._calling_stubs:
                self._call_stubs()

    def _call_stubs(self) -> None:
        """Start the stub calls JavaScript made, now that it has returned to the host.

        A call whose target event finishes without waiting settles the caller's Promise
        right here, with no loop round in between; one that has to wait goes on as a task.
        Calls the settled callers make in turn join the same loop, not a deeper one.
        """
        self._calling_stubs = True
        try:
            while self._stub_calls:
                coro = self._stub_calls.popleft()
                finished, waiting_on = step(coro)
                if not finished:
                    self._start(resume(coro, waiting_on))
        finally:
            self._calling_stubs = False

    def _interrupted(self, event: Event | None) -> None:
        """The budget stopped ``event``: discard its instance and fail its pending wait."""
        if event is None:
            return
        actor = self.actors[(event.namespace, event.name)]
        cut = self.store.rollback_open()  # a transaction the budget cut off keeps nothing
        if self.objects is not None and self.objects.rollback_open():
            cut = True
        if cut:
            self._resync_alarm(actor.oid)
        self._discard(actor)
        self.engine.deadline = time.monotonic() + 0.05  # let stray jobs fail fast
        self.engine.drain()
        self._fail_waiting(event, self._timeout_error(event, "ran past"))

    def _fail_waiting(self, event: Event, error: DobjError) -> None:
        """End ``event``'s wait for its handler's Promise with ``error``."""
        future = self._waiting.get(self._pid_of.get(event.id, -1))
        if future is not None and not future.done():
            future.set_exception(error)

    def _timeout_error(self, event: Event | None, how: str) -> ScriptTimeout:
        actor = event and self.actors.get((event.namespace, event.name))
        on_timer = bool(self.clock.manual and actor and actor.timers)
        return timeout_error(event, how, self.budget, on_manual_timer=on_timer)

    def _decode(self, event: Event, reply: str):
        """Turn a glue reply into a result, or raise the error it carries."""
        tag = reply[:1]
        if tag == "R":
            return reply[1:]
        if tag == "T":
            raise self._timeout_error(event, "ran past")
        if tag == "M":
            actor = self.actors[(event.namespace, event.name)]
            methods = json.loads(self.glue["methods"](actor.oid)) if actor.live else []
            methods = [m for m in methods if m not in HANDLERS]
            err = method_not_found(event, self.classes[event.namespace].export, methods)
            if self.cf:  # what a calling object sees, as workerd words it
                err.js_info = json.dumps({"name": "TypeError", "message":
                                          f"The RPC receiver does not implement the method {json.dumps(event.method)}."})
            raise err
        err = script_error(json.loads(reply[1:]), self.engine, self.memory_limit)
        if self.cf:
            err.js_info = reply[1:]  # what a calling object rebuilds the error from
        raise err

    # -- events -------------------------------------------------------------------------
    def new_event(self, actor: Actor, kind: str, method: str, args: str, parent: Event | None = None) -> Event:
        return Event(next(self._event_ids), actor.namespace, actor.name, kind, method, args,
                     at_ms=self.clock.now_ms(), parent=parent, oid=actor.oid, clone=self.cf)

    async def run(self, actor: Actor, event: Event, body):
        """Run ``body(event)`` as an event of ``actor``: serialized, budgeted, committed."""
        if self.closed:
            raise RuntimeClosed("the runtime is closed")
        if not actor.lock.take_now():
            await actor.lock.take(self.loop)
        if actor.waiting:  # Cloudflare's gates let this one in while others wait
            for other in actor.waiting:
                if other.interleaved is None:
                    other.interleaved = []
                other.interleaved.append(event.id)
        commits = self.commits
        commits.inflight += 1
        try:
            return await self._run_turn(actor, event, body)
        finally:
            # The object's next event may start now; this one's result still waits for
            # the commit, which then holds the writes of both if they share it.
            if not event.released:
                actor.lock.release()
            try:
                if commits.dirty:
                    await commits.reached()
            finally:
                commits.inflight -= 1
                self.trace.add(event)

    async def _run_turn(self, actor: Actor, event: Event, body):
        event.at_ms = self.clock.now_ms()  # when it starts running, not when it queued
        event.started = time.perf_counter()
        event.deadline = time.monotonic() + self.budget if self.budget else float("inf")
        actor.running = event
        try:
            if not actor.live and event.kind not in ("storage", "evict", "alarm", "sql"):
                self._construct(actor, event)
            result = await body(event)
        except DobjError as err:
            if isinstance(err, ScriptTimeout) or getattr(err, "oom", False):
                self._discard(actor)
            event.finish(error=err)
            raise
        except Exception as exc:  # a defect in dobj itself: still report it as an event
            event.finish(error=ExecutionError(f"internal error: {type(exc).__name__}: {exc}"))
            raise
        else:
            event.finish(result=result)
            return result
        finally:
            actor.running = None

    def _construct(self, actor: Actor, event: Event) -> None:
        name, hexid = actor.name, self.hex_of(actor)
        if not (actor.named and event.by_name):  # reached by an id without a name
            name = None
        reply = self._enter(event, self.glue["construct"], actor.oid, actor.gen,
                            actor.namespace, name, hexid)
        if reply:
            try:
                self._decode(event, reply)
            except DobjError as err:
                err.message = f"constructing {actor.path} failed: {err.message}"
                err.args = (err.message,)
                raise
        actor.live = True

    async def _call_handler(self, event: Event, glue: str, *args) -> str:
        """Call a handler through the glue and wait for its result within the budget.

        Returns the result as JSON text. A handler whose Promise settles while the job
        queue drains (the common case) is answered without waiting on the loop.
        """
        pid = next(self._pids)
        self._expecting.add(pid)
        try:
            reply = self._enter(event, self.glue[glue], *args, pid)
            if reply != "P":
                return self._decode(event, reply)
            text = self._settled.pop(pid, None)
            if text is None:
                if self.cf and not event.released and event.oid >= 0:  # (the Worker has no gate)
                    # Cloudflare's input gate opens while an event waits on anything but
                    # storage (storage calls settle before this point): others may enter.
                    event.released = True
                    actor = self.actors[(event.namespace, event.name)]
                    actor.lock.release()
                    if actor.waiting is None:
                        actor.waiting = set()
                    actor.waiting.add(event)
                    try:
                        text = await self._wait_settled(event, pid)
                    finally:
                        actor.waiting.discard(event)
                    return self._decode(event, text)
                text = await self._wait_settled(event, pid)
            return self._decode(event, text)
        finally:
            self._expecting.discard(pid)

    async def _wait_settled(self, event: Event, pid: int) -> str:
        """Wait for the handler's Promise, failing the event when its budget runs out.

        The budget is a timer handle that fails the future, not ``asyncio.wait_for``: the
        first step of an event may run outside any task (see :mod:`.runtime`).
        """
        future = self.loop.create_future()
        self._waiting[pid] = future
        self._pid_of[event.id] = pid
        self._waiting_events[event.id] = event
        expiry = None
        if event.deadline != float("inf"):
            expiry = self.loop.call_later(max(event.deadline - time.monotonic(), 0.0), self._expire,
                                          future, event)
        try:
            return await future
        finally:
            if expiry is not None:
                expiry.cancel()
            self._waiting.pop(pid, None)
            self._pid_of.pop(event.id, None)
            self._waiting_events.pop(event.id, None)

    def _expire(self, future: asyncio.Future, event: Event) -> None:
        if not future.done():
            future.set_exception(self._timeout_error(event, "returned a Promise that did not settle within"))
