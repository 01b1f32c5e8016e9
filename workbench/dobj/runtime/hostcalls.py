"""The host functions the runtime's JavaScript (``runtime/js/``) calls: storage, console, stubs, settling.

:class:`HostCalls` is part of :class:`~dobj.runtime.core.Core`. A host function runs in the
middle of a JavaScript slice, so it never enters JavaScript itself; it returns a reply
(JSON, ``""`` for undefined) or raises a :class:`~dobj.DobjError`, which the engine turns
into ``"!" + error JSON`` and ``unwrap`` (js/errors.js) into a JavaScript error.
"""

from __future__ import annotations

import json

from ..errors import BadRequest, DobjError, StorageError
from .limits import check_key
from .timekeeping import _num
from .trace import ALARM_WRITE, Event


class HostCalls:
    """Host functions of the core (a mixin of :class:`~dobj.runtime.core.Core`)."""

    def _host_settle(self, pid: int, text: str) -> None:
        future = self._waiting.get(pid)
        if future is not None:
            if not future.done():
                future.set_result(text)
        elif pid in self._expecting:  # settled during its own entry: the fast path
            self._settled[pid] = text
        # else: the event gave up on it (timeout); the outcome is dropped

    def _host_console(self, level: str, text: str) -> None:
        line = (level, text)
        if self.current is not None:
            self.current.console.append(line)
        else:
            self.load_console.append(line)

    def _host_storage(self, op: str, oid: int, gen: int, key: str, text: str) -> str:
        if key[:1] == "\x01":
            key = json.loads(key[1:])
        event = self.current
        if event is None or event.oid != oid or event.done:
            actor = self.by_oid.get(oid)
            where = actor.path if actor else "another object"
            raise StorageError(f"the storage of {where} can only be used by an event of that object")
        if self.by_oid[oid].gen != gen:
            raise StorageError(
                "this instance was discarded (after a timeout, evict or reload);"
                " its storage is closed and nothing it writes is kept"
            )
        store = self.store
        if op == "get":
            value = store.get(oid, check_key(key))
            return "" if value is None else value
        if op == "put":
            store.put(oid, key, text)
            event.written.append(key)
            return ""
        if op == "delete":
            existed = store.delete(oid, check_key(key))
            event.written.append(key)
            return "true" if existed else "false"
        if op == "list":
            return store.list_json(oid, text)
        if op == "deleteAll":
            store.delete_all(oid)
            self.schedule.remove("alarm", oid)
            event.written.append("*")
            return ""
        if op == "begin":
            return json.dumps(store.savepoint())
        if op == "commit":
            store.release(key)
            return ""
        if op == "rollback":
            store.rollback_to(key)
            self._resync_alarm(oid)
            return ""
        if op == "setAlarm":
            due = float(text)
            store.set_alarm(oid, due, 0)
            self._schedule_alarm(oid, due)
            event.written.append(ALARM_WRITE)
            return ""
        if op == "getAlarm":
            row = store.get_alarm(oid)
            return "" if row is None else json.dumps(_num(row[0]))
        if op == "deleteAlarm":
            store.delete_alarm(oid)
            self.schedule.remove("alarm", oid)
            event.written.append(ALARM_WRITE)
            return ""
        raise BadRequest(f"unknown storage operation {op!r}")

    def _host_stub(self, call_id: int, names: str, args_text: str) -> str:
        namespace, name, method, *by_name = json.loads(names)
        caller = self.current
        if caller is None:
            raise BadRequest("stub calls can only be made while handling an event")
        if self.cf:  # the callee may be the caller itself: its gate opens while the caller waits
            name = self.address(namespace, name).name
            self._stub_calls.append(self._stub_call(caller, call_id, namespace, name, method, args_text, by_name[0]))
            return ""
        target = self.actor(namespace, name)
        chain, link = [], caller
        while link is not None:
            chain.append(f"{link.namespace}/{link.name}")
            if (link.namespace, link.name) == (namespace, name):
                path = " -> ".join(reversed(chain)) + f" -> {target.path}"
                raise BadRequest(
                    f"stub call {path}.{method}() would deadlock: {target.path} is waiting for this call"
                    " to finish; call the method directly (this.method()) or restructure the calls"
                )
            link = link.parent
        self._stub_calls.append(self._stub_call(caller, call_id, namespace, name, method, args_text))
        return ""

    def _start(self, coro) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _stub_call(self, caller: Event, call_id: int, namespace: str, name: str,
                         method: str, args_text: str, by_name: bool = True) -> None:
        try:
            if method == "\x00fetch":  # stub.fetch(): "S" + the response as responseToHost wrote it
                reply = "S" + await self.cf_fetch(namespace, name, args_text, parent=caller, by_name=by_name)
            else:
                reply = "R" + await self.rpc(namespace, name, method, args_text, parent=caller, by_name=by_name)
        except DobjError as err:
            info = getattr(err, "js_info", None)
            reply = "E" + (info or json.dumps({"code": err.code, "message": err.message, "name": err.js_name or "Error"}))
        if not caller.done and not self.closed:  # else the caller gave up (timeout, reload)
            self._enter(caller, self.glue["settleStub"], call_id, reply)
