"""SQLite storage for every object of a runtime: keys, values and alarms.

One database holds all objects; each row carries its object's id, so a storage call can only
ever reach the keys of the object it was made for. Values are stored as JSON text exactly
as JavaScript produced it, and handed back to JavaScript without being parsed in Python.

Writes go into one open SQLite transaction as they happen; :meth:`Store.commit` ends it.
The runtime commits before any event's result leaves it, so nothing acknowledged is lost.

>>> store = Store(None)
>>> oid = store.object_id("COUNTER", "global")
>>> store.put(oid, "count", "3")
>>> store.get(oid, "count")
'3'
>>> store.commit(); store.close()
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from pathlib import Path

from ..errors import BadRequest, StorageError
from .limits import _prefix_end, check_key, check_text, check_value
from .storequeries import StoreQueries

CACHED_ENTRIES = 100_000
CACHED_VALUE_CHARS = 16 * 1024
DB_NAME = "dobj.sqlite3"
LOCK_NAME = "dobj.lock"


SCHEMA = """
CREATE TABLE IF NOT EXISTS objects (
    id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL,
    UNIQUE (namespace, name));
CREATE TABLE IF NOT EXISTS kv (
    object INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (object, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alarms (
    object INTEGER PRIMARY KEY, due_ms REAL NOT NULL, retry INTEGER NOT NULL DEFAULT 0);
"""


class Store(StoreQueries):
    """The SQLite database behind ``state.storage`` (in memory when ``data_dir`` is None)."""

    def __init__(self, data_dir: str | os.PathLike | None, *, durability: str = "normal"):
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self._lock_file = None
        self._savepoints = 0
        self._ids: dict[tuple[str, str], int] = {}
        # Read cache in front of SQLite: object id -> {key: value JSON, or None when absent}.
        # Every write goes through this class, so it stays exact; a rollback drops it.
        self._cache: dict[int, dict[str, str | None]] = {}
        self._cached = 0
        try:
            if self.data_dir is None:
                path = ":memory:"
            else:
                self.data_dir.mkdir(parents=True, exist_ok=True)
                self._lock_file = _lock_directory(self.data_dir)
                path = str(self.data_dir / DB_NAME)
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if self.data_dir is not None:
                self.db.execute("PRAGMA journal_mode=WAL")
            sync = {"normal": "NORMAL", "full": "FULL", "off": "OFF"}[durability]
            self.db.execute(f"PRAGMA synchronous={sync}")
            self.db.executescript(SCHEMA)
        except sqlite3.Error as exc:
            self._unlock()
            raise StorageError(f"cannot open the data folder {self.data_dir}: {exc}") from exc
        self._in_txn = False

    # -- transactions -------------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_txn:
            self.db.execute("BEGIN")
            self._in_txn = True

    def commit(self) -> None:
        """Make every write so far durable (per the durability setting)."""
        if self._in_txn:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"commit failed: {exc}") from exc
            finally:
                self._in_txn = self.db.in_transaction
                self._savepoints = 0

    @property
    def dirty(self) -> bool:
        return self._in_txn

    def savepoint(self) -> str:
        self._begin()
        self._savepoints += 1
        name = f"txn{self._savepoints}"
        self.db.execute(f"SAVEPOINT {name}")
        return name

    def release(self, name: str) -> None:
        self.db.execute(f"RELEASE {name}")
        self._savepoints -= 1

    def rollback_to(self, name: str) -> None:
        self.db.execute(f"ROLLBACK TO {name}")
        self.db.execute(f"RELEASE {name}")
        self._savepoints -= 1
        self._forget()

    def rollback_open(self) -> bool:
        """Roll back every transaction still open (one the budget cut off); True if any."""
        if not self._savepoints:
            return False
        self.db.execute("ROLLBACK TO txn1")
        self.db.execute("RELEASE txn1")
        self._savepoints = 0
        self._forget()
        return True

    def _forget(self, oid: int | None = None) -> None:
        if oid is None:
            self._cache.clear()
            self._cached = 0
        else:
            self._cached -= len(self._cache.pop(oid, ()))

    def _remember(self, oid: int, key: str, value: str | None) -> None:
        if value is not None and len(value) > CACHED_VALUE_CHARS:
            self._cached -= 1 if self._cache.get(oid, {}).pop(key, 0) != 0 else 0
            return
        if self._cached >= CACHED_ENTRIES:
            self._forget()
        entries = self._cache.get(oid)
        if entries is None:
            entries = self._cache[oid] = {}
        if key not in entries:
            self._cached += 1
        entries[key] = value

    # -- objects ------------------------------------------------------------------------
    def object_id(self, namespace: str, name: str) -> int:
        """The row id of an object, creating the row on first use."""
        key = (namespace, name)
        oid = self._ids.get(key)
        if oid is None:
            row = self.db.execute(
                "SELECT id FROM objects WHERE namespace=? AND name=?", key
            ).fetchone()
            if row is None:
                self._begin()
                row = self.db.execute(
                    "INSERT INTO objects (namespace, name) VALUES (?, ?) RETURNING id", key
                ).fetchone()
            oid = self._ids[key] = row[0]
        return oid

    def object_name(self, oid: int) -> tuple[str, str]:
        row = self.db.execute("SELECT namespace, name FROM objects WHERE id=?", (oid,)).fetchone()
        return tuple(row)

    # -- keys ---------------------------------------------------------------------------
    def get(self, oid: int, key: str) -> str | None:
        entries = self._cache.get(oid)
        if entries is not None and key in entries:
            return entries[key]
        row = self.db.execute(
            "SELECT value FROM kv WHERE object=? AND key=?", (oid, key)
        ).fetchone()
        value = row[0] if row else None
        self._remember(oid, key, value)
        return value

    def put(self, oid: int, key: str, value_json: str) -> None:
        check_key(key)
        check_value(value_json)
        self._begin()
        self.db.execute(
            "INSERT INTO kv (object, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (object, key) DO UPDATE SET value=excluded.value",
            (oid, key, value_json),
        )
        self._remember(oid, key, value_json)

    def delete(self, oid: int, key: str) -> bool:
        self._begin()
        cur = self.db.execute("DELETE FROM kv WHERE object=? AND key=?", (oid, key))
        self._remember(oid, key, None)
        return cur.rowcount > 0

    def delete_all(self, oid: int) -> None:
        self._forget(oid)
        self._begin()
        self.db.execute("DELETE FROM kv WHERE object=?", (oid,))
        self.db.execute("DELETE FROM alarms WHERE object=?", (oid,))

    def list(
        self,
        oid: int,
        *,
        prefix: str | None = None,
        start: str | None = None,
        end: str | None = None,
        reverse: bool = False,
        limit: int | None = None,
    ) -> list[tuple[str, str]]:
        """Key/value-JSON pairs in key order; ``prefix`` is literal and case-sensitive."""
        for name, text in (("prefix", prefix), ("start", start), ("end", end)):
            if text:
                check_text(text, f"list() {name}")
        where, params = ["object=?"], [oid]
        if prefix:
            where.append("key >= ?")
            params.append(prefix)
            upper = _prefix_end(prefix)
            if upper is not None:
                where.append("key < ?")
                params.append(upper)
        if start is not None:
            where.append("key >= ?")
            params.append(start)
        if end is not None:
            where.append("key < ?")
            params.append(end)
        sql = f"SELECT key, value FROM kv WHERE {' AND '.join(where)}"
        sql += " ORDER BY key DESC" if reverse else " ORDER BY key"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        rows = self.db.execute(sql, params).fetchall()
        if prefix:
            rows = [r for r in rows if r[0].startswith(prefix)]
        return rows

    def list_json(self, oid: int, options_json: str) -> str:
        """``list()`` for JavaScript: options and result as JSON text."""
        opts = json.loads(options_json) if options_json else {}
        if not isinstance(opts, dict):
            raise BadRequest("list() takes an options object: {prefix, start, end, reverse, limit}")
        for name in ("prefix", "start", "end"):
            if opts.get(name) is not None and not isinstance(opts[name], str):
                raise BadRequest(f"list() option {name!r} must be a string")
        limit = opts.get("limit")
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise BadRequest("list() option 'limit' must be a non-negative integer")
        rows = self.list(
            oid,
            prefix=opts.get("prefix"),
            start=opts.get("start"),
            end=opts.get("end"),
            reverse=bool(opts.get("reverse")),
            limit=limit,
        )
        return "{" + ",".join(f"{json.dumps(k)}:{v}" for k, v in rows) + "}"

    # -- alarms -------------------------------------------------------------------------
    def set_alarm(self, oid: int, due_ms: float, retry: int = 0) -> None:
        self._begin()
        self.db.execute(
            "INSERT INTO alarms (object, due_ms, retry) VALUES (?, ?, ?)"
            " ON CONFLICT (object) DO UPDATE SET due_ms=excluded.due_ms, retry=excluded.retry",
            (oid, due_ms, retry),
        )

    def get_alarm(self, oid: int) -> tuple[float, int] | None:
        row = self.db.execute("SELECT due_ms, retry FROM alarms WHERE object=?", (oid,)).fetchone()
        return (row[0], row[1]) if row else None

    def delete_alarm(self, oid: int) -> None:
        self._begin()
        self.db.execute("DELETE FROM alarms WHERE object=?", (oid,))

    def all_alarms(self) -> list[tuple[int, float, int]]:
        return self.db.execute("SELECT object, due_ms, retry FROM alarms ORDER BY due_ms").fetchall()

    # -- lifecycle ----------------------------------------------------------------------
    def close(self) -> None:
        try:
            self.commit()
            self.db.close()
        finally:
            self._unlock()

    def _unlock(self) -> None:
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None


def _lock_directory(path: Path):
    """Hold an exclusive lock on ``path`` for this process, or fail clearly."""
    handle = open(path / LOCK_NAME, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise StorageError(
            f"the data folder {path} is in use by {owner}; stop it first,"
            " or pass another --data folder"
        ) from None
    handle.seek(0)
    handle.truncate()
    handle.write(f"dobj process {os.getpid()}")
    handle.flush()
    return handle
