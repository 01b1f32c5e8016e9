"""The Cloudflare dialect's part of the core: ids, storage calls, fetch and the Worker.

:class:`CloudflareCalls` is part of :class:`~dobj.runtime.core.Core` (used when the loaded
code is a Workers project, ``core.cf``). Objects are addressed by name, or by the 64 hex
digits of an id that has none (``newUniqueId``, ``idFromString`` of an id not made from a
known name). Each object's storage is its own SQLite database (:mod:`.objectstore`); its
alarm lives with the other alarms in the core's store, so one schedule serves both dialects
(and in the object's ``_cf_METADATA`` too, where workerd keeps it).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re

from ..errors import BadRequest, StorageError
from .actors import Actor
from .handles import Response
from .trace import ALARM_WRITE, Event

_HEX = re.compile(r"[0-9a-f]{64}")


def cf_id(namespace: str, payload: bytes) -> str:
    """An id's 64 hex digits: 24 bytes that name the object, then 8 that only ids of
    ``namespace`` have, so ``idFromString`` can tell an id of another namespace.

    >>> cf_id("COUNTER", bytes(24))[48:] != cf_id("OTHER", bytes(24))[48:]
    True
    """
    tag = hashlib.sha256(b"dobj-id\0" + namespace.encode() + b"\0" + payload).digest()[:8]
    return (payload + tag).hex()


def named_id(namespace: str, name: str) -> str:
    """The id ``idFromName(name)`` gives in ``namespace``."""
    return cf_id(namespace, hashlib.sha256(f"{namespace}\0{name}".encode("utf-8", "surrogatepass")).digest()[:24])


def valid_id(namespace: str, hexid: str) -> bool:
    return bool(_HEX.fullmatch(hexid)) and cf_id(namespace, bytes.fromhex(hexid[:48])) == hexid


class _Open:
    """The turn of the Worker: its requests never wait for each other."""

    __slots__ = ()
    busy = False

    def take_now(self) -> bool:
        return True

    async def take(self, loop) -> None:
        return None

    def release(self) -> None:
        return None


def request_parts(method: str, url: str, headers: list[tuple[str, str]], body: bytes | None) -> str:
    """A request as the runtime's JavaScript takes it (``requestFromHost``)."""
    encoded = None if body is None or (not body and method in ("GET", "HEAD")) else base64.b64encode(body).decode()
    return json.dumps([method, url, json.dumps(headers), encoded])


def response_from_text(text: str) -> Response:
    """A :class:`Response` from what ``responseToHost`` wrote."""
    head, _, rest = text.partition("\n")
    status, _status_text, pairs, web_socket = json.loads(head)
    kind, body = rest[:1], rest[1:]
    data = b"" if kind == "n" else body.encode("utf-8") if kind == "t" else base64.b64decode(body)
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers[name] = f"{headers[name]}, {value}" if name in headers and name != "set-cookie" else value
    return Response(status, headers, data, web_socket)


class CloudflareCalls:
    """Host functions and event kinds of Workers projects (a mixin of the core)."""

    def _worker(self) -> Actor:
        actor = self.actors.get(("", "(worker)"))
        if actor is None:
            actor = self.actors[("", "(worker)")] = self.by_oid[-1] = Actor("", "(worker)", -1)
            actor.lock = _Open()
            actor.live = True  # nothing to construct
        return actor

    # -- addresses and ids ---------------------------------------------------------------
    def address(self, namespace: str, address: str) -> Actor:
        """The actor a stub reaches: by name, or by the hex digits of an id."""
        if _HEX.fullmatch(address):
            name = self._named_hex().get((namespace, address))
            if name is not None:
                return self.actor(namespace, name)
            actor = self.actor(namespace, address)
            actor.named, actor.hexid = False, address
            return actor
        return self.actor(namespace, address)

    def _named_hex(self) -> dict[tuple[str, str], str]:
        """(namespace, hex id) -> name for every object known by name (computed once)."""
        if self._hexes is None:
            self._hexes = {(ns, named_id(ns, name)): name for ns, name in self.store.objects()}
        return self._hexes

    def _host_outbound(self, parts: str) -> str:
        """An outbound ``fetch()``: a fake's answer (as ``responseToHost`` writes one), or refused."""
        method, url, headers, body = json.loads(parts)
        if self.fake_fetch is None:
            raise BadRequest(f"fetch({url!r}) was refused: dobj runs objects without network access;"
                             " call another object through its stub, or fake it in a test"
                             " (dobj.testing.fake_fetch)")
        return self.fake_fetch.answer(method, url, dict(json.loads(headers)),
                                      b"" if body is None else base64.b64decode(body))

    def _host_reset(self, oid: int) -> str:
        """A blockConcurrencyWhile callback threw: the instance is gone; build it anew next time."""
        actor = self.by_oid.get(oid)
        if actor is not None:
            gen = actor.gen
            actor.gen += 1
            actor.live = False
            self.loop.call_soon(lambda: actor.gen == gen + 1 and not actor.live and self._discard(actor))
        return ""

    def _host_cfid(self, op: str, namespace: str, arg: str) -> str:
        if op == "name":  # remembered, so that idFromString of it reaches the same object
            hexid = named_id(namespace, arg)
            self._named_hex()[(namespace, hexid)] = arg
            return json.dumps(hexid)
        if op == "unique":
            return json.dumps(cf_id(namespace, os.urandom(24)))
        if not valid_id(namespace, arg):
            raise BadRequest("Durable Object ID is not valid for this namespace.", js_name="TypeError")
        return json.dumps(arg)

    # -- storage -------------------------------------------------------------------------
    def _host_cfs(self, op: str, oid: int, gen: int, payload: str, text: str, size: int = -1) -> str:
        event = self.current
        actor = self.by_oid.get(oid)
        if event is None or event.oid != oid or event.done or actor is None:
            raise StorageError("storage can only be used by an event of its own object")
        if actor.gen != gen:
            raise StorageError("this instance was discarded (after a timeout, evict or reload);"
                               " its storage is closed and nothing it writes is kept")
        db = self.objects.database(actor.namespace, self.hex_of(actor))
        if op == "get1" or op == "put1":  # the key as it is (or "\x01" + its JSON), the value's text
            key = json.loads(payload[1:]) if payload[:1] == "\x01" else payload
            if op == "get1":
                return db.get(key) or ""
            db.put(key, text, None if size < 0 else size)
            event.written.append(key)
            return ""
        arg = json.loads(payload)
        if op in ("getAlarm", "setAlarm", "deleteAlarm"):
            return self._cf_alarm(op, actor, event, arg, db)
        if op == "get":
            return json.dumps(db.get(arg))
        if op == "getMany":
            return json.dumps(db.get_many(arg))
        if op in ("put", "putMany", "delete", "deleteMany", "deleteAll"):
            if op == "put":
                db.put(*arg)
                event.written.append(arg[0])
                return "null"
            if op == "putMany":
                db.put_many(arg)
                event.written.extend(k for k, _ in arg)
                return "null"
            if op == "deleteAll":
                db.delete_all()
                self._cf_alarm("deleteAlarm", actor, event, None, db)
                event.written.append("*")
                return "null"
            found = db.delete(arg) if op == "delete" else db.delete_many(arg)
            event.written.extend([arg] if op == "delete" else arg)
            return json.dumps(found)
        if op == "list":
            return json.dumps(db.list(start=arg.get("start"), start_after=arg.get("startAfter"),
                                      end=arg.get("end"), prefix=arg.get("prefix"),
                                      reverse=arg.get("reverse", False), limit=arg.get("limit")))
        if op == "sql":
            result = db.exec(arg[0], arg[1], lazy=True)
            if result.rows_written:
                event.written.append("(sql)")
            return json.dumps([result.columns, result.rows, result.rows_read, result.rows_written,
                               result.rows_read_first, result.more])
        if op == "sqlMore":
            return json.dumps(db.more(arg[0], arg[1]))
        if op == "size":
            return json.dumps(db.size)
        if op == "begin":
            return json.dumps(db.savepoint())
        if op == "commit":
            db.release(arg)
            return "null"
        if op == "rollback":
            db.rollback_to(arg)
            self._resync_alarm(oid)
            return "null"
        raise BadRequest(f"unknown storage operation {op!r}")

    def _cf_alarm(self, op: str, actor: Actor, event: Event, when, db) -> str:
        store = self.store
        if op == "getAlarm":
            row = store.get_alarm(actor.oid)
            return "null" if row is None else json.dumps(int(row[0]))
        if op == "setAlarm":
            due = max(float(when), self.entered_ms)  # a time in the past fires at once
            store.set_alarm(actor.oid, due, 0)
            db.set_alarm(due)
            self._schedule_alarm(actor.oid, due)
        else:
            store.delete_alarm(actor.oid)
            db.set_alarm(None)
            self.schedule.remove("alarm", actor.oid)
        event.written.append(ALARM_WRITE)
        return "null"

    # -- storage seen from outside (workbench, Python) ----------------------------------
    def database_of(self, actor: Actor, *, create: bool = False):
        return self.objects.database(actor.namespace, self.hex_of(actor), create=create)

    def _cf_edit(self, actor: Actor, event: Event, op: str, key: str | None, value_text: str | None):
        """A storage edit from outside (REPL ``put``/``del``, the Python mapping)."""
        db = self.database_of(actor, create=True)
        if op == "put":
            db.put(key, value_text)
            event.written.append(key)
            return None
        if op == "delete":
            event.written.append(key)
            return "true" if db.delete(key) else "false"
        if op == "deleteAll":
            db.delete_all()
            self._cf_alarm("deleteAlarm", actor, event, None, db)
            event.written.append("*")
            return None
        raise BadRequest(f"unknown storage edit {op!r}")

    def sql_tables(self, namespace: str, name: str) -> list[tuple[str, int]]:
        db = self.database_of(self.actor(namespace, name))
        return [] if db is None else db.tables()

    async def sql_query(self, namespace: str, name: str, query: str, bindings: list) -> dict:
        """Run SQL in an object's database from outside, as an event of that object."""
        if not self.cf:
            raise BadRequest("SQL is for Workers projects: the objects of a CommonJS bundle have no database of their own")
        actor = self.actor(namespace, name)
        event = self.new_event(actor, "sql", "exec", json.dumps([query, *bindings]))
        event.clone = False

        async def body(ev: Event) -> dict:
            result = self.database_of(actor, create=True).exec(query, bindings)
            if result.rows_written:
                ev.written.append("(sql)")
            return {"columns": result.columns, "rows": result.rows, "rows_read": result.rows_read,
                    "rows_written": result.rows_written}

        return await self.run(actor, event, body)

    def cf_objects(self) -> list[tuple[str, str]]:
        """(namespace, name) of every object that has a database (its hex id when it has no name)."""
        names = self._named_hex()
        return [(ns, names.get((ns, hexid), hexid)) for ns, hexid in self.objects.existing()]

    # -- fetch ---------------------------------------------------------------------------
    async def cf_fetch(self, namespace: str, name: str, parts: str, parent: Event | None = None,
                       by_name: bool = True) -> str:
        """Deliver a request (:func:`request_parts`) to an object's ``fetch``; the response text."""
        actor = self.address(namespace, name)
        method, url = json.loads(parts)[:2]
        event = self.new_event(actor, "fetch", method, json.dumps(url), parent)
        event.clone, event.by_name = False, by_name
        return await self.run(actor, event, lambda ev: self._call_handler(ev, "fetch", actor.oid, parts))

    async def worker_fetch(self, parts: str) -> str:
        """Deliver a request to the Worker's own ``fetch``; the response text."""
        if self.loaded is None or self.loaded.worker is None:
            raise BadRequest(f"{self.path.name} has no Worker: its entry module has no default export"
                             " with fetch(); fetch an object instead (NS/name/path)")
        actor = self._worker()
        method, url = json.loads(parts)[:2]
        event = self.new_event(actor, "fetch", method, json.dumps(url))
        event.clone = False
        return await self.run(actor, event, lambda ev: self._call_handler(ev, "workerFetch", parts))
