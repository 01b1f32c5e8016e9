"""The Python API: load a bundle, get objects, call them, look inside.

>>> import dobj
>>> rt = dobj.Runtime.load("samples/counter.js")           # doctest: +SKIP
>>> rt.get("COUNTER", "global").increment(3)                 # doctest: +SKIP
3

The runtime's event loop runs on the thread that calls it (no thread hop per call); with
the real clock a timekeeper thread takes its turn when an alarm or timer comes due. Only a
server running in the background or a caller inside another running loop (a notebook)
moves the loop to a thread of its own; calls from other threads then hop to it (see
:mod:`.driving`). Every call has an ``a``-prefixed async twin.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..errors import DobjError, RuntimeClosed
from .clock import format_ms, parse_duration, parse_instant
from .core import Core
from .driving import Timekeeper, loop_running_here, resume, start_thread, step
from .engine import DEFAULT_MEMORY_LIMIT
from .handles import Clock, ObjectHandle, Response
from .trace import Event


class Runtime:
    """A loaded bundle with its storage, clock and objects.

    >>> rt = Runtime.load("samples/counter.js", data=None, clock="manual")  # doctest: +SKIP
    """

    def __init__(
        self,
        path: str | Path,
        *,
        data: str | Path | None = None,
        clock: str = "manual",
        cpu_timeout: float | str = 2.0,
        manifest: str | Path | None = None,
        memory_limit: int = DEFAULT_MEMORY_LIMIT,
        durability: str = "normal",
        loop_factory: Callable[[], asyncio.AbstractEventLoop] | None = None,
        clock_start: str | float | None = None,
    ) -> None:
        self._loop = (loop_factory or asyncio.new_event_loop)()
        self._lock = threading.RLock()  # held by whichever thread runs the loop (driven)
        self._thread: threading.Thread | None = None  # the loop's own thread once hosted
        self._timekeeper: Timekeeper | None = None
        try:
            self._core = Core(
                path, data=data, clock=clock, cpu_timeout=parse_duration(cpu_timeout),
                manifest=manifest, memory_limit=memory_limit, durability=durability,
                loop=self._loop, clock_start=None if clock_start is None else parse_instant(clock_start),
            )
        except BaseException:
            self._loop.close()
            raise
        self.clock = Clock(self)
        if clock == "real":
            self._timekeeper = Timekeeper(self._tick)
            self._core.on_schedule = self._timekeeper.due_in

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Runtime:
        """Load a bundle. Options: ``data``, ``clock``, ``cpu_timeout``, ``manifest``,
        ``memory_limit``, ``durability`` (``"normal"`` or ``"full"``: fsync every commit),
        ``clock_start`` (where a manual clock starts: ISO-8601 or ms; default now),
        ``loop_factory`` (e.g. ``uvloop.new_event_loop``)."""
        return cls(path, **options)

    # -- driving the loop -----------------------------------------------------------------
    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The runtime's event loop (running on its own thread once hosted)."""
        return self._loop

    @property
    def hosted(self) -> bool:
        return self._thread is not None

    def _host(self) -> None:
        """Move the loop to a thread of its own that runs it forever."""
        with self._lock:
            if self._thread is not None:
                return
            if self._core.closed:
                raise RuntimeClosed("the runtime is closed")
            if self._timekeeper is not None:  # the hosted loop keeps time itself
                self._timekeeper.stop(wait=False)
            ready = threading.Event()

            def main() -> None:
                asyncio.set_event_loop(self._loop)
                self._loop.call_soon(ready.set)
                self._loop.call_soon(self._core._rearm)
                self._loop.run_forever()

            self._thread = start_thread(main, "dobj-runtime")
            ready.wait()

    def start(self) -> Runtime:
        """Run the loop on a background thread (for serving while another front end works)."""
        self._host()
        return self

    def _run(self, make_coro, *args):
        """Run a core coroutine to completion from synchronous code."""
        if self._thread is None:
            if loop_running_here():  # e.g. a notebook: this thread's loop is busy
                self._host()
            else:
                with self._lock:
                    if self._thread is None:
                        if self._core.closed:
                            raise RuntimeClosed("the runtime is closed")
                        return self._drive(make_coro(*args))
        if threading.current_thread() is self._thread:
            raise DobjError("on the runtime's own loop, use the async API (acall, afetch, ...)")
        return asyncio.run_coroutine_threadsafe(make_coro(*args), self._loop).result()

    def _drive(self, coro):
        """Run ``coro`` on this thread: stepped by hand, on the loop only if it has to wait."""
        try:
            finished, value = step(coro)
        except BaseException:
            self._finish_background()
            raise
        if finished:
            self._finish_background()
            return value
        return self._loop.run_until_complete(self._inline(resume(coro, value)))

    def _finish_background(self) -> None:
        if self._core.busy:
            self._loop.run_until_complete(self._core.background())

    async def _inline(self, coro):
        """Run ``coro``, then whatever it started in the background, before the loop stops."""
        try:
            return await coro
        finally:
            await self._core.background()

    def _tick(self) -> float | None:
        """The timekeeper's turn: deliver what is due; seconds until the next due item."""
        with self._lock:
            if self._thread is not None or self._core.closed:
                return None
            due = self._core.next_due()
            if due is not None and due <= 0:
                self._loop.run_until_complete(self._core.deliver_due())
                due = self._core.next_due()
            return due

    async def _arun(self, make_coro, *args):
        if asyncio.get_running_loop() is self._loop:
            return await make_coro(*args)
        self._host()
        future = asyncio.run_coroutine_threadsafe(make_coro(*args), self._loop)
        return await asyncio.wrap_future(future)

    def _call_in_loop(self, fn, *args):
        """Run a plain function on the loop's thread (for state the loop owns)."""

        async def wrapper():
            return fn(*args)

        return self._run(wrapper)

    # -- objects --------------------------------------------------------------------------
    def get(self, namespace: str, name: str) -> ObjectHandle:
        """A handle on object ``name`` of ``namespace`` (no instance is made until used)."""
        self._core.check_namespace(namespace)
        from .core import check_name

        check_name(name)
        return ObjectHandle(self, namespace, name)

    @property
    def namespaces(self) -> Mapping[str, Any]:
        """``{namespace: ClassInfo}`` of the loaded bundle (a read-only view, no copy)."""
        return MappingProxyType(self._core.classes)

    @property
    def bundle_path(self) -> Path:
        return self._core.path

    @property
    def data_dir(self) -> Path | None:
        return self._core.store.data_dir

    def fetch(self, path: str = "/", *, method: str = "GET", headers: dict[str, str] | None = None,
              body: bytes | str | None = None, origin: str = "http://localhost") -> Response:
        """Send a request to the project's Worker (its default export's ``fetch``), as
        ``wrangler dev`` would: ``rt.fetch("/counter/a/increment", method="POST")``."""
        return self._run(self._worker_fetch, self._worker_parts(path, method, headers, body, origin))

    async def afetch(self, path: str = "/", *, method: str = "GET", headers: dict[str, str] | None = None,
                     body: bytes | str | None = None, origin: str = "http://localhost") -> Response:
        return await self._arun(self._worker_fetch, self._worker_parts(path, method, headers, body, origin))

    def websocket(self, path: str = "/", *, headers: dict[str, str] | None = None,
                  origin: str = "http://localhost", on_message=None, on_close=None):
        """Open a WebSocket through the project's Worker, as a browser would through
        ``wrangler dev``: a :class:`~dobj.runtime.wsclient.WebSocket` once the answer is a
        101 with one (``on_message(ws, data)`` is called as each message arrives)."""
        from .wsclient import UPGRADE_HEADERS, opened

        response = self.fetch(path, headers={**UPGRADE_HEADERS, **(headers or {})}, origin=origin)
        return opened(self, response, path, on_message, on_close)

    @property
    def is_project(self) -> bool:
        """True for a Workers project (ES modules, Cloudflare's API), False for a CommonJS bundle."""
        return self._core.cf

    def connect_socket(self, response: Response, client, path: str = ""):
        """On the runtime's loop (a server's connection): hand the WebSocket a 101
        ``response`` carries to ``client``, whose ``deliver(item)`` gets what the object sends.
        Returns a :class:`~dobj.runtime.sockets.Connection`; call its ``start()`` once the
        client can take messages."""
        from .socketclients import Connection

        return Connection(self._core, self._core.connect(response.web_socket, client, path))

    def websockets(self) -> list[dict]:
        """Every open WebSocket an object (or the Worker) holds: its number, object, mode
        (``listen`` or ``hibernate``), tags, state and message counts."""
        return self._call_in_loop(self._core.socket_rows) if self._core.cf else []

    def _worker_parts(self, path, method, headers, body, origin) -> str:
        from .cloudflare import request_parts

        data = body.encode("utf-8") if isinstance(body, str) else body
        pairs = [(k.lower(), v) for k, v in (headers or {}).items()]
        return request_parts(method.upper(), origin + (path if path.startswith("/") else "/" + path), pairs, data)

    async def _worker_fetch(self, parts: str) -> Response:
        from .cloudflare import response_from_text

        return response_from_text(await self._core.worker_fetch(parts))

    def snapshot(self):
        """The state of every object (storage, SQL rows, alarms) and the clock: a
        :class:`~dobj.runtime.snapshots.Snapshot` (``.save(path)``, ``Snapshot.load(path)``)."""
        return self._call_in_loop(self._core.take_snapshot)

    def restore(self, snapshot) -> None:
        """Make every object's state (and a manual clock) what ``snapshot`` holds; live
        instances are dropped. A snapshot of another project is refused, nothing changed."""
        self._call_in_loop(self._core.restore_snapshot, snapshot)

    def diff(self, a, b=None) -> list:
        """What changed from snapshot ``a`` to ``b`` (default: now): added, removed and
        changed keys, SQL rows and alarms, per object."""
        from .snapshots import diff

        return diff(a, self.snapshot() if b is None else b)

    @property
    def has_worker(self) -> bool:
        """True for a Workers project whose entry module has a Worker (``fetch``)."""
        loaded = self._core.loaded
        return loaded is not None and loaded.worker is not None

    @property
    def warnings(self) -> list[str]:
        """What loading noticed and ignored (config keys dobj does not support)."""
        return list(self._core.warnings)

    def objects(self) -> list[tuple[str, str]]:
        """Every object that is live or has storage, as (namespace, name)."""
        return self._call_in_loop(self._core.object_paths)

    def storage_keys(self, namespace: str, name: str, *, prefix: str | None = None,
                     limit: int | None = None) -> list[str]:
        """The keys of one object in key order, without reading their values (also for a
        namespace the bundle no longer exports)."""
        return self._call_in_loop(self._core.storage_keys, namespace, name, prefix, limit)

    def key_counts(self) -> dict[tuple[str, str], int]:
        """``{(namespace, name): number of keys}`` of every object holding keys, without
        reading their values."""
        return self._call_in_loop(self._core.key_counts)

    def live_count(self) -> int:
        return sum(1 for a in list(self._core.actors.values()) if a.live)

    def alarms(self) -> list[dict]:
        """Every scheduled alarm with its due time and the time left on the runtime clock."""
        now = self._core.clock.now_ms()
        return [
            {"object": f"{ns}/{name}", "namespace": ns, "name": name, "due_ms": due,
             "due": format_ms(due), "in_seconds": (due - now) / 1000.0, "retry": retry}
            for ns, name, due, retry in self._call_in_loop(self._core.alarms)
        ]

    def trace(self, n: int | None = None) -> list[Event]:
        """The last ``n`` finished events (all that are kept when ``n`` is None)."""
        return self._core.trace.last(n)

    @property
    def console(self) -> list[tuple[str, str]]:
        """Console lines written by the bundle's top-level code."""
        return list(self._core.load_console)

    def reload(self) -> dict[str, Any]:
        """Re-read the bundle; storage and alarms stay, live instances are dropped."""
        return self._call_in_loop(self._core.reload)

    def close(self) -> None:
        """Finish, commit and close the store; the runtime cannot be used afterwards."""
        if self._timekeeper is not None:
            self._timekeeper.stop()
        with self._lock:
            if self._core.closed:
                return
            if self._thread is not None:
                asyncio.run_coroutine_threadsafe(self._aclose_in_loop(), self._loop).result()
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join()
                self._thread = None
            else:
                self._loop.run_until_complete(self._aclose_in_loop())
            self._loop.close()

    async def _aclose_in_loop(self) -> None:
        """Let events running in the background finish (within one budget), then close."""
        tasks = list(self._core._tasks)
        if tasks:
            await asyncio.wait(tasks, timeout=self._core.budget or 2.0)
        self._core.close()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> Runtime:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<dobj.Runtime {self._core.path.name} {', '.join(self._core.classes)}>"
