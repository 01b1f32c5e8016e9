"""The runtime core: objects as actors over one JavaScript context, on one event loop.

Everything here runs on the runtime's asyncio loop, on whichever single thread drives it.
Each object (namespace, name) is an :class:`Actor` whose events (RPC, fetch, alarm, timer,
storage edit) hold its FIFO lock for their whole life: construction if needed, invocation,
Promise settlement, result conversion. Events of different objects interleave at awaits.

Every entry into JavaScript goes through :meth:`Core._enter`, which marks the event on
whose behalf JavaScript runs (for storage, console and the budget) and drains the job
queue before returning, so no JavaScript of one event is ever left for another to run.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path

from ..errors import BadRequest, DobjError, ExecutionError, MethodNotFound, RuntimeClosed, ScriptTimeout
from ..errors import UnknownNamespace, did_you_mean
from . import bundle as bundles
from .actors import Actor, check_name, object_hex
from .clock import ManualClock, RealClock
from .commits import CommitPoint
from .hostcalls import HostCalls
from .loading import load_bundle
from .replies import engine_failure, method_not_found, script_error, timeout_error
from .storage import Store, check_key
from .timekeeping import Schedule, Timekeeping
from .trace import Event, Trace

_encode_str = json.encoder.encode_basestring_ascii
_OBJECT_PROTOTYPE = frozenset(
    "constructor __proto__ __defineGetter__ __defineSetter__ __lookupGetter__ __lookupSetter__"
    " hasOwnProperty isPrototypeOf propertyIsEnumerable toLocaleString toString valueOf".split()
)


class Core(Timekeeping, HostCalls):
    """All runtime state; every method runs on the runtime's loop thread."""

    def __init__(
        self,
        path: str | Path,
        *,
        data: str | Path | None,
        clock: str,
        cpu_timeout: float,
        manifest: str | Path | None,
        memory_limit: int,
        durability: str,
        loop: asyncio.AbstractEventLoop,
        trace_size: int = 1000,
    ) -> None:
        if clock not in ("manual", "real"):
            raise BadRequest(f"clock must be 'manual' or 'real', not {clock!r}")
        self.path = Path(path)
        self.loop = loop
        self.budget = float(cpu_timeout) if cpu_timeout else 0.0
        self.memory_limit = memory_limit
        self.manifest_path = manifest
        self.clock = ManualClock() if clock == "manual" else RealClock()
        self.trace = Trace(trace_size)
        self.load_console: list[tuple[str, str]] = []
        self.actors: dict[tuple[str, str], Actor] = {}
        self.by_oid: dict[int, Actor] = {}
        self.schedule = Schedule()
        self.timers: dict[int, tuple[Actor, int, Event | None]] = {}
        self.current: Event | None = None
        self._timer_ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        self._pids = itertools.count(1)
        self._settled: dict[int, str] = {}
        self._expecting: set[int] = set()  # pids whose handler call is in progress
        self._waiting: dict[int, asyncio.Future] = {}
        self._pid_of: dict[int, int] = {}  # event id -> pid it waits on
        self._wakeup: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        # Told the seconds until the next due alarm or timer whenever that changes (real
        # clock): whoever keeps time while the loop is not running listens here.
        self.on_schedule = None
        self.closed = False
        self.engine, self.glue, self.classes = self._load_bundle()
        self.store = Store(data, durability=durability)
        self.commits = CommitPoint(self.store, loop)
        for oid, due_ms, _retry in self.store.all_alarms():
            self.schedule.add("alarm", oid, due_ms)

    # -- bundle -------------------------------------------------------------------------
    def _load_bundle(self):
        host = {
            "storage": self._host_storage,
            "now": self.clock.now_ms,
            "console": self._host_console,
            "timer": self._host_timer,
            "stub": self._host_stub,
            "settle": self._host_settle,
            "idOf": lambda names: object_hex(*json.loads(names)),
        }
        return load_bundle(self.path, manifest=self.manifest_path, memory_limit=self.memory_limit,
                           budget=self.budget, host=host)

    def reload(self) -> dict[str, bundles.ClassInfo]:
        """Re-read the bundle; keep storage and alarms; drop every live instance.

        The old bundle keeps running if the new one fails to load.
        """
        engine, glue, classes = self._load_bundle()
        for actor in self.actors.values():
            if actor.running is not None:  # waiting on a timer, a stub call, a Promise
                self._fail_waiting(actor.running, ExecutionError(
                    f"{actor.running.describe()} was stopped: the bundle was reloaded while it"
                    " waited (writes it made before are kept)"))
            self._discard(actor)
        self.engine, self.glue, self.classes = engine, glue, classes
        self._resync_alarms()  # alarms skipped while their namespace was gone fire now
        return classes

    # -- objects ------------------------------------------------------------------------
    def check_namespace(self, namespace: str) -> None:
        if namespace not in self.classes:
            raise UnknownNamespace(
                f"no namespace {namespace!r} in {self.path.name}{did_you_mean(namespace, self.classes)};"
                f" it has {', '.join(self.classes)}"
            )

    def actor(self, namespace: str, name: str) -> Actor:
        """The actor for an identity, created on first use (no instance yet)."""
        if namespace not in self.classes:  # also for a handle taken before a reload
            self.check_namespace(namespace)
        actor = self.actors.get((namespace, name))
        if actor is None:
            check_name(name)
            oid = self.store.object_id(namespace, name)
            actor = self.actors[(namespace, name)] = self.by_oid[oid] = Actor(namespace, name, oid)
        return actor

    def _discard(self, actor: Actor) -> None:
        """Drop the instance: its storage handle and timers stop working at once."""
        actor.gen += 1
        if actor.live:
            self.glue["drop"](actor.oid)
        actor.live = False
        if actor.timers:
            for tid in actor.timers:
                self.schedule.remove("timer", tid)
                self.timers.pop(tid, None)
            self.glue["dropTimers"](json.dumps(list(actor.timers)))
            actor.timers.clear()

    # -- entering JavaScript ------------------------------------------------------------
    def _enter(self, event: Event | None, fn, *args):
        """Call a glue function on behalf of ``event``, then drain the job queue.

        Returns the glue's reply, or ``"T"`` when the budget interrupted the JavaScript:
        the event's instance is then discarded at once, before anything else runs, so no
        continuation of it can write storage.
        """
        engine = self.engine
        previous, self.current = self.current, event
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

    def _interrupted(self, event: Event | None) -> None:
        """The budget stopped ``event``: discard its instance and fail its pending wait."""
        if event is None:
            return
        actor = self.actors[(event.namespace, event.name)]
        if self.store.rollback_open():  # a transaction the budget cut off keeps nothing
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
            raise method_not_found(event, self.classes[event.namespace].export, methods)
        raise script_error(json.loads(reply[1:]), self.engine, self.memory_limit)

    # -- events -------------------------------------------------------------------------
    def new_event(self, actor: Actor, kind: str, method: str, args: str, parent: Event | None = None) -> Event:
        return Event(next(self._event_ids), actor.namespace, actor.name, kind, method, args,
                     at_ms=self.clock.now_ms(), parent=parent, oid=actor.oid)

    async def run(self, actor: Actor, event: Event, body):
        """Run ``body(event)`` as an event of ``actor``: serialized, budgeted, committed."""
        if self.closed:
            raise RuntimeClosed("the runtime is closed")
        if not actor.lock.take_now():
            await actor.lock.take(self.loop)
        commits = self.commits
        commits.inflight += 1
        try:
            return await self._run_turn(actor, event, body)
        finally:
            # The object's next event may start now; this one's result still waits for
            # the commit, which then holds the writes of both if they share it.
            actor.lock.release()
            try:
                if self.store.dirty:
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
            if not actor.live and event.kind not in ("storage", "evict", "alarm"):
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
        hexid = object_hex(actor.namespace, actor.name)
        reply = self._enter(event, self.glue["construct"], actor.oid, actor.gen,
                            actor.namespace, actor.name, hexid)
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

    def _expire(self, future: asyncio.Future, event: Event) -> None:
        if not future.done():
            future.set_exception(self._timeout_error(event, "returned a Promise that did not settle within"))

    async def rpc(self, namespace: str, name: str, method: str, args_text: str,
                  parent: Event | None = None) -> str:
        """Call a method; returns the result as JSON text."""
        actor, event = self._rpc_event(namespace, name, method, args_text, parent)
        return await self.run(actor, event, lambda ev: self._call_handler(
            ev, "invoke", actor.oid, method, args_text))

    async def rpc_event(self, namespace: str, name: str, method: str, args_text: str) -> Event:
        """Call a method and return its finished event (result or error, console, writes)."""
        actor, event = self._rpc_event(namespace, name, method, args_text, None)
        try:
            await self.run(actor, event, lambda ev: self._call_handler(
                ev, "invoke", actor.oid, method, args_text))
        except DobjError:
            pass  # the event holds it
        return event

    def _rpc_event(self, namespace, name, method, args_text, parent) -> tuple[Actor, Event]:
        actor = self.actor(namespace, name)
        if not isinstance(method, str) or not method or method in _OBJECT_PROTOTYPE:
            raise MethodNotFound(f"{method!r} cannot be called over RPC; call one of the class's own methods")
        return actor, self.new_event(actor, "rpc", method, args_text, parent)

    async def fetch(self, namespace: str, name: str, request: dict) -> dict:
        """Deliver a request to ``fetch(req)``; returns ``{status, headers, kind, body}``."""
        actor = self.actor(namespace, name)
        event = self.new_event(actor, "fetch", request["method"], _encode_str(request["path"]))
        args = (actor.oid, request["method"], request["url"], request["path"], request["query"],
                json.dumps(request["headers"]), request["body"], request["rawBody"])

        async def body(ev: Event) -> dict:
            # "status kind headers-JSON\n" then the body (see encodeResponse in js/dispatch.js)
            head, _, body = (await self._call_handler(ev, "fetch", *args)).partition("\n")
            status, kind, headers = head.split(" ", 2)
            if kind.endswith("/escaped"):
                kind, body = kind[: -len("/escaped")], json.loads(body)
            return {"status": int(status), "headers": {} if headers == "{}" else json.loads(headers),
                    "kind": kind, "body": body}

        return await self.run(actor, event, body)

    async def edit_storage(self, namespace: str, name: str, op: str, key: str | None = None,
                           value_text: str | None = None) -> str | None:
        """Put or delete a key from outside, as an event of that object."""
        actor = self.actor(namespace, name)
        if key is not None:
            check_key(key)
        event = self.new_event(actor, "storage", op, json.dumps([key] if value_text is None else [key, json.loads(value_text)]))

        async def body(ev: Event):
            if op == "put":
                self.store.put(actor.oid, key, value_text)
                ev.written.append(key)
                return None
            if op == "delete":
                existed = self.store.delete(actor.oid, key)
                ev.written.append(key)
                return "true" if existed else "false"
            if op == "deleteAll":
                self.store.delete_all(actor.oid)
                self.schedule.remove("alarm", actor.oid)
                ev.written.append("*")
                return None
            raise BadRequest(f"unknown storage edit {op!r}")

        return await self.run(actor, event, body)

    async def evict(self, namespace: str, name: str) -> bool:
        """Drop the in-memory instance (after its running event); storage stays."""
        actor = self.actor(namespace, name)
        was_live = actor.live
        event = self.new_event(actor, "evict", "evict", "[]")

        async def body(ev: Event):
            self._discard(actor)
            return was_live

        return await self.run(actor, event, body)

    # -- views ----------------------------------------------------------------------------
    def object_paths(self) -> list[tuple[str, str]]:
        """Every object that is live or has storage."""
        names = {(a.namespace, a.name) for a in self.actors.values() if a.live}
        names.update(self.store.objects_with_data())
        return sorted(names)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._wakeup is not None:
            self._wakeup.cancel()
        for task in list(self._tasks):
            task.cancel()
        self.store.close()

    def next_due(self) -> float | None:
        """Seconds from now until the next alarm or timer is due (<= 0: due), or None."""
        due = self.schedule.next_due()
        return None if due is None else (due - self.clock.now_ms()) / 1000.0

    async def deliver_due(self) -> None:
        """Deliver every alarm and timer that is due, and wait until they are done."""
        self._wake()
        await self.background()

    @property
    def busy(self) -> bool:
        """True while work runs or waits in the background (tasks, a due wake-up)."""
        return bool(self._tasks) or (self._wakeup is not None and self.clock.manual)

    async def background(self) -> None:
        """Wait until work started in the background (due timers, alarms, stub calls) is done."""
        while self.busy:
            if self._tasks:
                await asyncio.wait(list(self._tasks))
            else:
                await asyncio.sleep(0)
