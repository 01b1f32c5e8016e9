"""The Python API: load a bundle, get objects, call them, look inside.

>>> import dobj
>>> rt = dobj.Runtime.load("samples/counter.js")           # doctest: +SKIP
>>> rt.get("COUNTER", "global").increment(3)                 # doctest: +SKIP
3

The runtime's event loop runs on the thread that calls it (no thread hop per call), or,
when something else must keep time or serve in the background (the real clock, a running
server, a notebook whose own loop is busy), on a thread of its own; calls from other
threads then hop to it. Every call has an ``a``-prefixed async twin.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator, MutableMapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import BadRequest, DobjError, RuntimeClosed
from .clock import format_ms, parse_duration, parse_instant
from .core import Core
from .engine import DEFAULT_MEMORY_LIMIT
from .trace import Event


_JSON = json.JSONEncoder(allow_nan=False, separators=(",", ":"))
_encode_str = json.encoder.encode_basestring_ascii
_CONSTANTS = {"null": None, "true": True, "false": False}


def _args_json(args: tuple) -> str:
    """Arguments as a JSON array (ints and strings, the usual ones, without the encoder)."""
    parts = []
    for arg in args:
        kind = type(arg)
        if kind is int:
            parts.append(str(arg))
        elif kind is str:
            parts.append(_encode_str(arg))
        else:
            break
    else:
        return "[" + ",".join(parts) + "]"
    try:
        return _JSON.encode(args)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"arguments must be JSON-serializable: {exc}") from None


def _loads(text: str) -> Any:
    """Decode a result's JSON text (integers and constants, the usual ones, directly)."""
    first = text[0]
    if first.isdigit() or first == "-":
        try:
            return int(text)
        except ValueError:
            pass
    elif first in "ntf" and text in _CONSTANTS:
        return _CONSTANTS[text]
    return json.loads(text)


def _value_json(value: Any) -> str:
    try:
        return _JSON.encode(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"storage values must be JSON-serializable: {exc}") from None


async def _resume(coro, waiting_on):
    """Continue a coroutine that was stepped by hand and is waiting on ``waiting_on``."""
    while True:
        try:
            if waiting_on is None:
                await asyncio.sleep(0)
            else:
                waiting_on._asyncio_future_blocking = False  # it was yielded once already
                await waiting_on
        except BaseException:  # noqa: BLE001 - the coroutine reads the outcome itself
            pass
        try:
            waiting_on = coro.send(None)
        except StopIteration as done:
            return done.value


class Response:
    """What an object's ``fetch(req)`` answered."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body

    @classmethod
    def from_reply(cls, reply: dict) -> Response:
        headers = dict(reply["headers"])
        kind, body = reply["kind"], reply["body"]
        if kind == "bytes":
            data = body.encode("latin-1")
            headers.setdefault("content-type", "application/octet-stream")
        elif kind == "json":
            data = body.encode("utf-8")
            headers.setdefault("content-type", "application/json")
        else:
            data = body.encode("utf-8", "surrogatepass")
            headers.setdefault("content-type", "text/plain; charset=utf-8")
        return cls(reply["status"], headers, data)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Response {self.status} {self.text[:60]!r}>"


def build_request(method: str, url: str, path: str, query: str, headers: dict[str, str],
                  body: bytes) -> dict:
    """The ``req`` object handed to ``fetch(req)``, as the core expects it."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {
        "method": method.upper(),
        "url": url,
        "path": path or "/",
        "query": query,
        "headers": {k.lower(): v for k, v in headers.items()},
        "body": text,
        "rawBody": body.decode("latin-1"),
    }


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
    ) -> None:
        self._loop = (loop_factory or asyncio.new_event_loop)()
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        try:
            self._core = Core(
                path, data=data, clock=clock, cpu_timeout=parse_duration(cpu_timeout),
                manifest=manifest, memory_limit=memory_limit, durability=durability,
                loop=self._loop,
            )
        except BaseException:
            self._loop.close()
            raise
        self.clock = Clock(self)
        if clock == "real":
            self._host()

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> Runtime:
        """Load a bundle. Options: ``data``, ``clock``, ``cpu_timeout``, ``manifest``,
        ``memory_limit``, ``durability`` (``"normal"`` or ``"full"``: fsync every commit),
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
            ready = threading.Event()

            def main() -> None:
                asyncio.set_event_loop(self._loop)
                self._loop.call_soon(ready.set)
                self._loop.call_soon(self._core._rearm)
                self._loop.run_forever()

            old = threading.stack_size()
            threading.stack_size(16 * 1024 * 1024)
            try:
                self._thread = threading.Thread(target=main, name="dobj-runtime", daemon=True)
                self._thread.start()
            finally:
                threading.stack_size(old)
            ready.wait()

    def start(self) -> Runtime:
        """Run the loop on a background thread (for serving while another front end works)."""
        self._host()
        return self

    def _run(self, make_coro, *args):
        """Run a core coroutine to completion from synchronous code."""
        if self._thread is not None:
            if threading.current_thread() is self._thread:
                raise DobjError("on the runtime's own loop, use the async API (acall, afetch, ...)")
            return asyncio.run_coroutine_threadsafe(make_coro(*args), self._loop).result()
        if asyncio._get_running_loop() is not None:  # e.g. a notebook: that loop is busy
            self._host()
            return self._run(make_coro, *args)
        with self._lock:
            if self._thread is not None:
                return self._run(make_coro, *args)
            if self._core.closed:
                raise RuntimeClosed("the runtime is closed")
            return self._drive(make_coro(*args))

    def _drive(self, coro):
        """Step ``coro`` on this thread; start the loop only if it has to wait.

        Most events settle without waiting on anything (an uncontended lock, a handler
        whose Promise resolves in the same job-queue drain), and then no loop iteration
        is needed at all. Otherwise the half-run coroutine continues on the loop.
        """
        asyncio.events._set_running_loop(self._loop)
        try:
            waiting_on = coro.send(None)
        except StopIteration as done:
            waiting_on, result, finished = None, done.value, True
        except BaseException:
            finished = None
            raise
        else:
            finished = False
        finally:
            asyncio.events._set_running_loop(None)
            if finished is None and self._core.busy:
                self._loop.run_until_complete(self._core.background())
        if finished:
            if self._core.busy:
                self._loop.run_until_complete(self._core.background())
            return result
        return self._loop.run_until_complete(self._inline(_resume(coro, waiting_on)))

    async def _inline(self, coro):
        """Run ``coro``, then whatever it started in the background, before the loop stops."""
        try:
            return await coro
        finally:
            await self._core.background()

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
    def namespaces(self) -> dict[str, Any]:
        """``{namespace: ClassInfo}`` of the loaded bundle."""
        return dict(self._core.classes)

    @property
    def bundle_path(self) -> Path:
        return self._core.path

    @property
    def data_dir(self) -> Path | None:
        return self._core.store.data_dir

    def objects(self) -> list[tuple[str, str]]:
        """Every object that is live or has storage, as (namespace, name)."""
        return self._call_in_loop(self._core.object_paths)

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

        async def reload():
            return self._core.reload()

        return self._run(reload)

    def close(self) -> None:
        """Finish, commit and close the store; the runtime cannot be used afterwards."""
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


class ObjectHandle:
    """One object (namespace, name): call its methods, fetch it, see its storage.

    Attribute access is sugar for RPC: ``counter.increment(3)`` is ``counter.call("increment", 3)``.
    """

    def __init__(self, runtime: Runtime, namespace: str, name: str) -> None:
        self._rt, self.namespace, self.name = runtime, namespace, name
        self.storage = StorageView(self)

    @property
    def path(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def id(self) -> str:
        from .core import object_hex

        return object_hex(self.namespace, self.name)

    def call(self, method: str, *args: Any) -> Any:
        """Call an RPC method; returns its (awaited) result, decoded from JSON."""
        return _loads(self._rt._run(self._core_rpc, method, _args_json(args)))

    async def acall(self, method: str, *args: Any) -> Any:
        return _loads(await self._rt._arun(self._core_rpc, method, _args_json(args)))

    async def acall_json(self, method: str, args_json: str) -> str:
        """``acall`` with the arguments and the result as JSON text (no decoding on the way).

        >>> await counter.acall_json("increment", "[3]")   # doctest: +SKIP
        '3'
        """
        return await self._rt._arun(self._core_rpc, method, args_json)

    def _core_rpc(self, method: str, args_text: str):
        return self._rt._core.rpc(self.namespace, self.name, method, args_text)

    def fetch(self, path: str = "/", *, method: str = "GET", headers: dict[str, str] | None = None,
              body: bytes | str | None = None, url: str | None = None) -> Response:
        """Send a request to the object's ``fetch(req)``; ``path`` may carry ``?query``.

        ``url`` is what ``req.url`` shows (by default a gateway URL for this object).
        """
        request = self._request(path, method, headers, body, url)
        return Response.from_reply(self._rt._run(self._core_fetch, request))

    async def afetch(self, path: str = "/", *, method: str = "GET",
                     headers: dict[str, str] | None = None, body: bytes | str | None = None,
                     url: str | None = None) -> Response:
        request = self._request(path, method, headers, body, url)
        return Response.from_reply(await self._rt._arun(self._core_fetch, request))

    def _core_fetch(self, request: dict):
        return self._rt._core.fetch(self.namespace, self.name, request)

    def _request(self, path: str, method: str, headers, body, url: str | None) -> dict:
        if not path.startswith("/"):
            path = "/" + path
        parts = urlsplit(path)
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        url = url or f"http://127.0.0.1/fetch/{self.namespace}/{self.name}{path}"
        return build_request(method, url, parts.path, parts.query, dict(headers or {}), data)

    def evict(self) -> bool:
        """Drop the in-memory instance (storage stays). True if one was live."""
        return self._rt._run(self._rt._core.evict, self.namespace, self.name)

    @property
    def live(self) -> bool:
        actor = self._rt._core.actors.get((self.namespace, self.name))
        return bool(actor and actor.live)

    @property
    def alarm(self) -> float | None:
        """The scheduled alarm (ms since the epoch on the runtime clock), or None."""
        for a in self._rt.alarms():
            if a["namespace"] == self.namespace and a["name"] == self.name:
                return a["due_ms"]
        return None

    @property
    def methods(self) -> tuple[str, ...]:
        return self._rt._core.classes[self.namespace].methods

    def __getattr__(self, method: str):
        if method.startswith("_"):
            raise AttributeError(method)

        def rpc(*args: Any) -> Any:
            return self.call(method, *args)

        rpc.__name__ = method
        self.__dict__[method] = rpc  # later lookups skip __getattr__
        return rpc

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.methods))

    def __repr__(self) -> str:
        return f"<dobj object {self.path}>"


class StorageView(MutableMapping):
    """An object's storage as a mapping; edits run as events of that object."""

    def __init__(self, handle: ObjectHandle) -> None:
        self._handle = handle

    def _rows(self, **options: Any) -> list[tuple[str, str]]:
        rt = self._handle._rt

        def rows():
            core = rt._core
            actor = core.actor(self._handle.namespace, self._handle.name)
            return core.store.list(actor.oid, **options)

        return rt._call_in_loop(rows)

    def items(self, prefix: str | None = None):  # type: ignore[override]
        """(key, value) pairs in key order, optionally only keys starting with ``prefix``."""
        return [(k, json.loads(v)) for k, v in self._rows(prefix=prefix)]

    def __getitem__(self, key: str) -> Any:
        rt = self._handle._rt

        def get():
            core = rt._core
            actor = core.actor(self._handle.namespace, self._handle.name)
            return core.store.get(actor.oid, key)

        value = rt._call_in_loop(get)
        if value is None:
            raise KeyError(key)
        return json.loads(value)

    def __setitem__(self, key: str, value: Any) -> None:
        self._edit("put", key, _value_json(value))

    def __delitem__(self, key: str) -> None:
        if self._edit("delete", key) == "false":
            raise KeyError(key)

    def _edit(self, op: str, key: str | None, value_text: str | None = None):
        h = self._handle
        return h._rt._run(h._rt._core.edit_storage, h.namespace, h.name, op, key, value_text)

    def clear(self) -> None:
        """Delete every key and the alarm (``deleteAll()``)."""
        self._edit("deleteAll", None)

    def __iter__(self) -> Iterator[str]:
        return iter([k for k, _ in self._rows()])

    def __len__(self) -> int:
        return len(self._rows())

    def __repr__(self) -> str:
        return f"<storage of {self._handle.path}: {dict(self.items())!r}>"


class Clock:
    """The runtime's clock: read it, and (when manual) move it."""

    def __init__(self, runtime: Runtime) -> None:
        self._rt = runtime

    @property
    def manual(self) -> bool:
        return self._rt._core.clock.manual

    def now_ms(self) -> float:
        return self._rt._core.clock.now_ms()

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms() / 1000.0, tz=timezone.utc)

    def advance(self, seconds: float | str) -> list[Event]:
        """Move the manual clock forward, delivering every alarm and timer due on the way,
        in time order; returns the events that ran."""
        target = self.now_ms() + parse_duration(seconds) * 1000.0
        return self._rt._run(self._rt._core.advance_to, target)

    async def aadvance(self, seconds: float | str) -> list[Event]:
        target = self.now_ms() + parse_duration(seconds) * 1000.0
        return await self._rt._arun(self._rt._core.advance_to, target)

    def set(self, when: str | datetime | float) -> list[Event]:
        """Move the manual clock to an instant (ISO-8601, datetime or ms since the epoch)."""
        return self._rt._run(self._rt._core.advance_to, parse_instant(when))

    def __repr__(self) -> str:
        kind = "manual" if self.manual else "real"
        return f"<dobj clock {kind} {format_ms(self.now_ms())}>"
