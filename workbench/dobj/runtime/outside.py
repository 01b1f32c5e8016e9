"""Storage seen from outside: what the workbench and Python read and edit of an object.

:class:`StorageAccess` is part of :class:`~dobj.runtime.core.Core`. Reads go straight to the
store (the seed dialect's database, or a Workers project's per-object databases); edits run
as events of the object, so they are serialized with its other events and traced. Values
cross as text (JSON, or structured-clone text in a project) and are decoded here.
"""

from __future__ import annotations

import base64
import json

from ..errors import BadRequest
from .clone import decode_text, encode_text, json_text
from .limits import check_key, value_json
from .snapshots import Snapshot
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

    # -- snapshots -------------------------------------------------------------------------
    def take_snapshot(self) -> Snapshot:
        """Every object's storage, SQL rows and alarm, and the clock (see :mod:`.snapshots`)."""
        objects: dict[str, dict] = {}
        if self.cf:
            for namespace, name in self.cf_objects():
                if namespace not in self.classes:
                    continue
                db = self.database_of(self.actor(namespace, name))
                if db is None:
                    continue
                entry = {"kv": {k: json.loads(v) for k, v in db.list()}}
                tables = {}
                for table, _count in db.tables():
                    schema = db.db.execute("SELECT sql FROM sqlite_master WHERE name=?", (table,)).fetchone()[0]
                    cursor = db.db.execute(f'SELECT * FROM "{table.replace(chr(34), chr(34) * 2)}"')
                    tables[table] = {"schema": schema, "columns": [d[0] for d in cursor.description],
                                     "rows": [[_cell(v) for v in row] for row in cursor]}
                if tables:
                    entry["sql"] = tables
                objects[f"{namespace}/{name}"] = entry
        else:
            for namespace, name, key, value in self.store.all_items():
                objects.setdefault(f"{namespace}/{name}", {"kv": {}})["kv"][key] = json.loads(value)
        for namespace, name, due, _retry in self.alarms():
            objects.setdefault(f"{namespace}/{name}", {"kv": {}})["alarm"] = due
        return Snapshot(self.path.name, "cloudflare" if self.cf else "bundle", self.clock.now_ms(), objects)

    def restore_snapshot(self, snapshot: Snapshot) -> None:
        """Make every object's state what ``snapshot`` holds; live instances are dropped."""
        dialect = "cloudflare" if self.cf else "bundle"
        if (snapshot.project, snapshot.dialect) != (self.path.name, dialect):
            raise BadRequest(f"the snapshot was taken from {snapshot.project} ({snapshot.dialect}); this"
                             f" runtime runs {self.path.name} ({dialect}); nothing was changed")
        unknown = sorted({name.split("/", 1)[0] for name in snapshot.objects} - set(self.classes))
        if unknown:
            raise BadRequest(f"the snapshot holds objects of {', '.join(unknown)}, which {self.path.name}"
                             " does not export; nothing was changed")
        if self._waiting_events or self.commits.inflight:
            raise BadRequest("events are running; restore when the runtime is idle")
        for actor in list(self.actors.values()):
            self._discard(actor)
        for oid, _due, _retry in self.store.all_alarms():
            self.schedule.remove("alarm", oid)
        if self.cf:
            for namespace, name in self.cf_objects():
                if namespace in self.classes:
                    self.database_of(self.actor(namespace, name)).delete_all()
            self.store.clear_alarms()
        else:
            self.store.clear_all()
        for path, entry in snapshot.objects.items():
            namespace, name = path.split("/", 1)
            actor = self.actor(namespace, name)
            if self.cf:
                db = self.database_of(actor, create=True)
                for key, records in entry.get("kv", {}).items():
                    db.put(key, json.dumps(records, separators=(",", ":"), ensure_ascii=False))
                for table in entry.get("sql", {}).values():
                    db.db.execute(table["schema"])
                    marks = ", ".join("?" * len(table["columns"]))
                    name_sql = table["schema"].split("(", 1)[0].split()[-1]
                    db.db.executemany(f"INSERT INTO {name_sql} VALUES ({marks})",
                                      [[_uncell(v) for v in row] for row in table["rows"]])
            else:
                self.store.load_items(actor.oid, [(k, value_json(v)) for k, v in entry.get("kv", {}).items()])
            if entry.get("alarm") is not None:
                self.store.set_alarm(actor.oid, float(entry["alarm"]), 0)
                self.schedule.add("alarm", actor.oid, float(entry["alarm"]))
        if self.clock.manual:
            self.clock.set_ms(snapshot.clock_ms)
        self.commits.commit()
        self._rearm()


def _cell(value):
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    return value


def _uncell(value):
    if isinstance(value, dict) and "$b" in value:
        return base64.b64decode(value["$b"])
    return value
