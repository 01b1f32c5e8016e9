"""Handles on the objects of a runtime: calls, fetches, storage as a mapping, the clock.

These are what :meth:`dobj.Runtime.get` and :attr:`dobj.Runtime.clock` give; every call
goes through the runtime's loop (see :mod:`dobj.runtime.runtime`).

>>> counter = rt.get("COUNTER", "global")      # doctest: +SKIP
>>> counter.increment(3), counter.fetch("/count").text, dict(counter.storage)   # doctest: +SKIP
(3, '3', {'count': 3})
"""

from __future__ import annotations

import json
from collections.abc import Iterator, MutableMapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import BadRequest
from .clock import format_ms, parse_duration, parse_instant
from .clone import decode_text, encode_text, json_text
from .trace import Event

if TYPE_CHECKING:
    from .runtime import Runtime

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





class Response:
    """What an object's ``fetch(req)`` answered."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes, web_socket: int | None = None) -> None:
        self.status, self.headers, self.body = status, headers, body
        self.web_socket = web_socket  # the id of the WebSocket a 101 carries (Workers projects)

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
        """Call an RPC method; returns its (awaited) result, decoded from JSON (a structured
        clone in a Workers project: Map -> dict, Set -> set, Date -> datetime, ...)."""
        if self._rt._core.cf:
            return decode_text(self._rt._run(self._core_rpc, method, encode_text(list(args))))
        return _loads(self._rt._run(self._core_rpc, method, _args_json(args)))

    def call_event(self, method: str, *args: Any) -> Event:
        """Call an RPC method and return its finished :class:`Event` instead of raising
        for the method's own failure: ``event.result`` or ``event.error``, with the
        console lines it printed (``event.console``) and the keys it wrote.

        >>> event = counter.call_event("increment", 3)   # doctest: +SKIP
        >>> event.result, event.console                    # doctest: +SKIP
        (3, [])
        """
        args_text = encode_text(list(args)) if self._rt._core.cf else _args_json(args)
        return self._rt._run(self._rt._core.rpc_event, self.namespace, self.name, method, args_text)

    async def acall(self, method: str, *args: Any) -> Any:
        if self._rt._core.cf:
            return decode_text(await self._rt._arun(self._core_rpc, method, encode_text(list(args))))
        return _loads(await self._rt._arun(self._core_rpc, method, _args_json(args)))

    async def acall_json(self, method: str, args_json: str) -> str:
        """``acall`` with the arguments and the result as JSON text (no decoding on the way).

        >>> await counter.acall_json("increment", "[3]")   # doctest: +SKIP
        '3'
        """
        if self._rt._core.cf:
            args = json.loads(args_json)
            return json_text(await self._rt._arun(self._core_rpc, method, encode_text(args)))
        return await self._rt._arun(self._core_rpc, method, args_json)

    def _core_rpc(self, method: str, args_text: str):
        return self._rt._core.rpc(self.namespace, self.name, method, args_text)

    def fetch(self, path: str = "/", *, method: str = "GET", headers: dict[str, str] | None = None,
              body: bytes | str | None = None, url: str | None = None,
              query: str | None = None) -> Response:
        """Send a request to the object's ``fetch(req)``; ``path`` may carry ``?query``.

        ``url`` is what ``req.url`` shows (by default a gateway URL for this object); a
        caller that has the raw query string apart passes it as ``query``.
        """
        if self._rt._core.cf:
            return self._rt._run(self._cf_fetch, self._parts(path, method, headers, body, url, query))
        request = self._request(path, method, headers, body, url, query)
        return Response.from_reply(self._rt._run(self._core_fetch, request))

    async def afetch(self, path: str = "/", *, method: str = "GET",
                     headers: dict[str, str] | None = None, body: bytes | str | None = None,
                     url: str | None = None, query: str | None = None) -> Response:
        if self._rt._core.cf:
            return await self._rt._arun(self._cf_fetch, self._parts(path, method, headers, body, url, query))
        request = self._request(path, method, headers, body, url, query)
        return Response.from_reply(await self._rt._arun(self._core_fetch, request))

    async def _cf_fetch(self, parts: str) -> Response:
        from .cloudflare import response_from_text

        return response_from_text(await self._rt._core.cf_fetch(self.namespace, self.name, parts))

    def _parts(self, path: str, method: str, headers, body, url: str | None, query: str | None) -> str:
        from .cloudflare import request_parts

        if not path.startswith("/"):
            path = "/" + path
        url = url or f"http://{self.name}.{self.namespace.lower()}.do{path}" + (f"?{query}" if query else "")
        data = body.encode("utf-8") if isinstance(body, str) else body
        return request_parts(method.upper(), url, list((headers or {}).items()), data)

    def _core_fetch(self, request: dict):
        return self._rt._core.fetch(self.namespace, self.name, request)

    def _request(self, path: str, method: str, headers, body, url: str | None, query: str | None) -> dict:
        if not path.startswith("/"):
            path = "/" + path
        if query is None:
            parts = urlsplit(path)
            path, query = parts.path, parts.query
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        url = url or f"http://127.0.0.1/fetch/{self.namespace}/{self.name}{path}" + (f"?{query}" if query else "")
        return build_request(method, url, path, query, headers or {}, data)

    def websocket(self, path: str = "/", *, headers: dict[str, str] | None = None, on_message=None,
                  on_close=None):
        """Open a WebSocket to the object's ``fetch`` (an upgrade request to ``path``): a
        :class:`~dobj.runtime.wsclient.WebSocket` once it answers 101 with one."""
        from .wsclient import UPGRADE_HEADERS, opened

        response = self.fetch(path, headers={**UPGRADE_HEADERS, **(headers or {})})
        return opened(self._rt, response, f"{self.path}{path if path.startswith('/') else '/' + path}",
                      on_message, on_close)

    def sql(self, query: str, *bindings: Any) -> dict:
        """Run SQL in the object's own database (Workers projects) as an event of the object:
        ``{"columns", "rows", "rows_read", "rows_written"}``."""
        return self._rt._run(self._rt._core.sql_query, self.namespace, self.name, query, list(bindings))

    def sql_tables(self) -> list[tuple[str, int]]:
        """The object's SQL tables with their row counts (none in a CommonJS bundle)."""
        core = self._rt._core
        return self._rt._call_in_loop(core.sql_tables, self.namespace, self.name) if core.cf else []

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
        core = self._rt._core

        def due():
            row = core.store.get_alarm(core.actor(self.namespace, self.name).oid)
            return None if row is None else row[0]

        return self._rt._call_in_loop(due)

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

    def _rows(self, prefix: str | None = None) -> list[tuple[str, str]]:
        h = self._handle
        return h._rt._call_in_loop(h._rt._core.storage_items, h.namespace, h.name, prefix)

    def items(self, prefix: str | None = None):  # type: ignore[override]
        """(key, value) pairs in key order, optionally only keys starting with ``prefix``."""
        decode = self._handle._rt._core.decode_value
        return [(k, decode(v)) for k, v in self._rows(prefix=prefix)]

    def __getitem__(self, key: str) -> Any:
        h = self._handle
        value = h._rt._call_in_loop(h._rt._core.storage_value, h.namespace, h.name, key)
        if value is None:
            raise KeyError(key)
        return h._rt._core.decode_value(value)

    def __setitem__(self, key: str, value: Any) -> None:
        self._edit("put", key, self._handle._rt._core.encode_value(value))

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
