"""The runtime core: objects as actors over one JavaScript context, on one event loop.

Everything here runs on the runtime's asyncio loop, on whichever single thread drives it.
Each object (namespace, name) is an :class:`Actor` whose events (RPC, fetch, alarm, timer,
storage edit) hold its FIFO lock for their whole life in a CommonJS bundle; in a Workers
project an event lets others in while it waits on anything but storage (Cloudflare's gates).
Events of different objects interleave at awaits.

The core is put together from parts that share its state: :mod:`.events` runs one event
(turn, construction, budget, Promise), :mod:`.timekeeping` the alarms and timers,
:mod:`.hostcalls` what JavaScript calls back, :mod:`.cloudflare` what Workers projects add,
:mod:`.outside` storage as the workbench and Python see it; :mod:`.loading`,
:mod:`.commits` and :mod:`.replies` are plain helpers.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from pathlib import Path

from ..errors import BadRequest, DobjError, ExecutionError, MethodNotFound
from ..errors import UnknownNamespace, did_you_mean
from . import bundle as bundles
from .actors import Actor, check_name, object_hex
from .clock import ManualClock, RealClock
from .cloudflare import CloudflareCalls, named_id
from .commits import CommitPoint
from .events import EventRun
from .hostcalls import HostCalls
from .loading import LoadedProject, load_bundle, load_project
from .outside import StorageAccess
from .limits import check_text
from .socketclients import SocketClients
from .sockets import SocketCalls
from .storage import Store
from .timekeeping import Schedule, Timekeeping
from .trace import Event, Trace

_encode_str = json.encoder.encode_basestring_ascii
_OBJECT_PROTOTYPE = frozenset(
    "constructor __proto__ __defineGetter__ __defineSetter__ __lookupGetter__ __lookupSetter__"
    " hasOwnProperty isPrototypeOf propertyIsEnumerable toLocaleString toString valueOf".split()
)


def _is_project(path: Path) -> bool:
    """A Workers project (a folder, a wrangler file, an ES module) rather than a bundle."""
    if path.suffix == ".js" and path.is_file():  # the common case: decide without the parser
        head = path.read_text(encoding="utf-8", errors="replace")
        if "exports" in head and "export " not in head and "import " not in head:
            return False
    from .project import is_project

    return is_project(path)


class Core(EventRun, Timekeeping, HostCalls, CloudflareCalls, SocketCalls, SocketClients, StorageAccess):
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
        clock_start: float | None = None,
    ) -> None:
        if clock not in ("manual", "real"):
            raise BadRequest(f"clock must be 'manual' or 'real', not {clock!r}")
        self.path = Path(path)
        self.loop = loop
        self.budget = float(cpu_timeout) if cpu_timeout else 0.0
        self.memory_limit = memory_limit
        self.manifest_path = manifest
        self.clock = ManualClock(clock_start) if clock == "manual" else RealClock()
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
        self._waiting_events: dict[int, Event] = {}  # event id -> event, while it waits
        self._wakeup: asyncio.TimerHandle | None = None
        self._tasks: set[asyncio.Task] = set()
        self._stub_calls: deque = deque()  # stub calls JavaScript made, started when it returns
        self._calling_stubs = False
        # Told the seconds until the next due alarm or timer whenever that changes (real
        # clock): whoever keeps time while the loop is not running listens here.
        self.on_schedule = None
        self.closed = False
        self.cf = _is_project(self.path)  # a Workers project rather than a CommonJS bundle
        self.loaded: LoadedProject | None = None
        self.warnings: list[str] = []
        self._hexes: dict[tuple[str, str], str] | None = None
        self.entered_ms = self.clock.now_ms()  # the clock when JavaScript was last entered
        self.fake_fetch = None  # answers outbound fetch() (dobj.testing.fake_fetch)
        self.engine, self.glue, self.classes = self._load_bundle()
        self._init_sockets()
        self.store = Store(data, durability=durability)
        self.objects = None
        if self.cf:
            from .objectstore import ObjectStore

            self.objects = ObjectStore(self.store.data_dir, durability=durability)
        self.commits = CommitPoint(self.store, loop, self.objects)
        for oid, due_ms, _retry in self.store.all_alarms():
            self.schedule.add("alarm", oid, due_ms)

    # -- bundle -------------------------------------------------------------------------
    def _load_bundle(self):
        host = {
            "storage": self._host_storage,
            "now": (lambda: self.entered_ms) if self.cf else self.clock.now_ms,
            "console": self._host_console,
            "timer": self._host_timer,
            "stub": self._host_stub,
            "settle": self._host_settle,
            "idOf": lambda names: object_hex(*json.loads(names)),
        }
        if self.cf:
            host.update(cfs=self._host_cfs, cfid=self._host_cfid, reset=self._host_reset,
                        outbound=self._host_outbound, ws=self._host_ws)
            engine, glue, classes, self.loaded = load_project(
                self.path, memory_limit=self.memory_limit, budget=self.budget, host=host)
            self.warnings = self.loaded.warnings
            return engine, glue, classes
        return load_bundle(self.path, manifest=self.manifest_path, memory_limit=self.memory_limit,
                           budget=self.budget, host=host)

    def reload(self) -> dict[str, bundles.ClassInfo]:
        """Re-read the bundle; keep storage and alarms; drop every live instance.

        The old bundle keeps running if the new one fails to load.
        """
        engine, glue, classes = self._load_bundle()
        for event in list(self._waiting_events.values()):  # on a timer, a stub call, a Promise
            self._fail_waiting(event, ExecutionError(
                f"{event.describe()} was stopped: the bundle was reloaded while it waited"
                " (writes it made before are kept)"))
        if self.cf:
            self.close_sockets(None, 1012, "the project was reloaded")
        for actor in self.actors.values():
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
            if self.cf:  # workerd takes any name, "" included
                check_text(name, "object name")
            else:
                check_name(name)
            oid = self.store.object_id(namespace, name)
            actor = self.actors[(namespace, name)] = self.by_oid[oid] = Actor(namespace, name, oid)
        return actor

    def hex_of(self, actor: Actor) -> str:
        """The object's id as ``ctx.id.toString()`` / ``state.id.toString()`` shows it."""
        if actor.hexid is None:
            if not self.cf:
                actor.hexid = object_hex(actor.namespace, actor.name)
            else:
                actor.hexid = named_id(actor.namespace, actor.name) if actor.named else actor.name
        return actor.hexid

    def _discard(self, actor: Actor) -> None:
        """Drop the instance: its storage handle and timers stop working at once."""
        actor.gen += 1
        if actor.oid < 0:
            return  # the Worker: no instance to drop
        if actor.live:
            self.glue["drop"](actor.oid)
            if self.sockets:  # its sockets: listeners close, hibernatable ones stay open
                self.close_sockets(actor.oid, 1011, "the object holding this WebSocket was discarded")
                held = self.held_sockets(actor.oid)
                if held:
                    self.glue["forgetSockets"](json.dumps(held))
        actor.live = False
        if actor.timers:
            for tid in actor.timers:
                self.schedule.remove("timer", tid)
                self.timers.pop(tid, None)
            self.glue["dropTimers"](json.dumps(list(actor.timers)))
            actor.timers.clear()

    # -- the kinds of event ---------------------------------------------------------------
    async def rpc(self, namespace: str, name: str, method: str, args_text: str,
                  parent: Event | None = None, by_name: bool = True) -> str:
        """Call a method; returns the result as JSON text (structured-clone text in a Workers
        project, where ``by_name=False`` says the caller's id had no name)."""
        actor, event = self._rpc_event(namespace, name, method, args_text, parent)
        event.by_name = by_name
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
        names = {(a.namespace, a.name) for a in self.actors.values() if a.live and a.oid >= 0}
        names.update(self.cf_objects() if self.cf else self.store.objects_with_data())
        return sorted(names)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self._wakeup is not None:
            self._wakeup.cancel()
        for task in list(self._tasks):
            task.cancel()
        if self.objects is not None:
            self.objects.close()
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
