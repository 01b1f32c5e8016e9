"""Storage seen from outside: what the workbench and Python read and edit of an object.

:class:`StorageAccess` is part of :class:`~dobj.runtime.core.Core`. Reads go straight to the
store (the seed dialect's database, or a Workers project's per-object databases); edits run
as events of the object, so they are serialized with its other events and traced. Values
cross as text (JSON, or structured-clone text in a project) and are decoded here.
"""

from __future__ import annotations

import json

from ..errors import BadRequest
from .clone import decode_text, encode_text, json_text
from .limits import check_key, value_json
from .trace import Event


class StorageAccess:
    """Reads and edits of an object's storage from outside (a mixin of the core)."""

    async def edit_storage(self, namespace: str, name: str, op: str, key: str | None = None,
                           value_text: str | None = None) -> str | None:
        """Put or delete a key from outside, as an event of that object."""
        actor = self.actor(namespace, name)
        if key is not None:
            check_key(key)
        shown = "null" if value_text is None else json_text(value_text) if self.cf else value_text
        event = self.new_event(actor, "storage", op, f"[{json.dumps(key)}, {shown}]" if value_text else json.dumps([key]))

        async def body(ev: Event):
            if self.cf:
                return self._cf_edit(actor, ev, op, key, value_text)
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

    def storage_items(self, namespace: str, name: str, prefix: str | None = None) -> list[tuple[str, str]]:
        actor = self.actor(namespace, name)
        if self.cf:
            db = self.database_of(actor)
            return [] if db is None else [(k, v) for k, v in db.list(prefix=prefix)]
        return self.store.list(actor.oid, prefix=prefix)

    def storage_value(self, namespace: str, name: str, key: str) -> str | None:
        actor = self.actor(namespace, name)
        if self.cf:
            db = self.database_of(actor)
            return None if db is None else db.get(key)
        return self.store.get(actor.oid, check_key(key))

    def storage_keys(self, namespace: str, name: str, prefix: str | None = None,
                     limit: int | None = None) -> list[str]:
        if self.cf:
            db = self.database_of(self.actor(namespace, name))
            return [] if db is None else db.keys(prefix=prefix, limit=limit)
        return self.store.keys(namespace, name, prefix=prefix, limit=limit)

    def key_counts(self) -> dict[tuple[str, str], int]:
        if not self.cf:
            return self.store.key_counts()
        counts = {}
        for ns, name in self.cf_objects():
            db = self.database_of(self.actor(ns, name)) if ns in self.classes else None
            if db is not None and db.count():
                counts[(ns, name)] = db.count()
        return counts

    def decode_value(self, text: str):
        """A stored value as Python sees it (JSON, or a structured clone in a project)."""
        return decode_text(text) if self.cf else json.loads(text)

    def encode_value(self, value) -> str:
        return encode_text(value) if self.cf else value_json(value)
