"""Storage of Workers projects' objects: one SQLite database per object, KV pairs and SQL.

Each object's database holds its own SQL tables and, hidden from its SQL, the KV pairs of
the async and ``kv`` APIs in ``_cf_KV`` (the name workerd uses; ``_cf_METADATA`` exists
too), so the KV and SQL writes of one event commit together. Databases live in
``<data>/objects/<namespace>/<hex id>.sqlite`` (WAL), or in memory without a data folder.

Keys are stored as the bytes of their UTF-8 (a lone surrogate as the bytes WTF-8 gives it,
listed back as U+FFFD, as workerd does), so they sort in UTF-8 byte order; values are the
text of serialized structured clones, opaque here. SQL runs with workerd's rules: see
:mod:`.sqlexec`.

>>> store = ObjectStore(None)
>>> db = store.database("COUNTER", "ab" * 32)
>>> db.put("b", "2"); db.put("a", "1"); db.list(limit=1)
[['a', '1']]
>>> store.commit(); store.close()
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ..errors import StorageError
from .limits import _prefix_end
from .sqlexec import SqlResult, SqlRunner, sql_error

CACHED_KEYS = 1000  # values remembered per database (every write goes through this class)
CACHED_VALUE_CHARS = 16 * 1024
RECORD_LIMIT = 2_200_000  # bytes of one row (key + value + header), as workerd's SQLite allows
# Made on first use, as workerd makes them: a fresh database holds nothing but its schema page.
KV_TABLE = "CREATE TABLE IF NOT EXISTS _cf_KV (key BLOB PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID"
METADATA_TABLE = "CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER PRIMARY KEY, value BLOB)"
ALARM_KEY = 1


def _key(key: str) -> bytes:
    return key.encode("utf-8", "surrogatepass")


def _text(key: bytes) -> str:
    return key.decode("utf-8", "replace")


class ObjectDatabase:
    """One object's database: its KV pairs, its SQL tables, its transactions."""

    def __init__(self, path: str, synchronous: str, on_write=None) -> None:
        self._on_write = on_write  # told when a transaction starts, so commits find it
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.db.text_factory = lambda b: b.decode("utf-8", "replace")
        if path != ":memory:":
            self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(f"PRAGMA synchronous={synchronous}")
        self.db.execute("PRAGMA foreign_keys=ON")
        self.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, RECORD_LIMIT)
        self.db.execute("PRAGMA user_version")  # a fresh database gets its first page
        self._kv = self.db.execute("SELECT 1 FROM sqlite_master WHERE name='_cf_KV'").fetchone() is not None
        self.sql = SqlRunner(self.db, self._begin)
        self.in_txn = False
        self._cache: dict[str, str | None] = {}  # key -> value text, None when absent
        self._savepoints: list[str] = []  # open, innermost last
        self._next_savepoint = 0

    # -- transactions -------------------------------------------------------------------
    def _begin(self) -> None:
        if not self.in_txn:
            self.db.execute("BEGIN")
            self.in_txn = True
            if self._on_write is not None:
                self._on_write(self)

    def commit(self) -> None:
        if self.in_txn:
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StorageError(f"commit failed: {exc}") from exc
            finally:
                self.in_txn = self.db.in_transaction
                self._savepoints.clear()

    def savepoint(self) -> str:
        """Open a nested transaction; savepoints are named uniquely, so one that an outer
        transaction already ended (an async callback outliving transactionSync) is a no-op."""
        self._begin()
        self._next_savepoint += 1
        name = f"txn{self._next_savepoint}"
        self.db.execute(f"SAVEPOINT {name}")
        self._savepoints.append(name)
        return name

    def release(self, name: str) -> None:
        if name in self._savepoints:
            self.db.execute(f"RELEASE {name}")
            del self._savepoints[self._savepoints.index(name):]

    def rollback_to(self, name: str) -> None:
        if name in self._savepoints:
            self.db.execute(f"ROLLBACK TO {name}")
            self.db.execute(f"RELEASE {name}")
            del self._savepoints[self._savepoints.index(name):]
            self._cache.clear()
            self._kv = self.db.execute("SELECT 1 FROM sqlite_master WHERE name='_cf_KV'").fetchone() is not None

    def rollback_open(self) -> bool:
        """Roll back every transaction still open (one the budget cut off); True if any."""
        if not self._savepoints:
            return False
        self.rollback_to(self._savepoints[0])
        return True

    # -- KV -------------------------------------------------------------------------------
    def _writing_kv(self) -> None:
        self._begin()
        if not self._kv:
            self.db.execute(KV_TABLE)
            self._kv = True

    def get(self, key: str) -> str | None:
        if not self._kv:
            return None
        if key in self._cache:
            return self._cache[key]
        row = self.db.execute("SELECT value FROM _cf_KV WHERE key=?", (_key(key),)).fetchone()
        value = None if row is None else row[0]
        self._remember(key, value)
        return value

    def _remember(self, key: str, value: str | None) -> None:
        if value is not None and len(value) > CACHED_VALUE_CHARS:
            self._cache.pop(key, None)
            return
        if len(self._cache) >= CACHED_KEYS:
            self._cache.clear()
        self._cache[key] = value

    def get_many(self, keys: list[str]) -> list[list[str]]:
        """``[key, value]`` pairs in key order, missing keys left out, duplicates once."""
        found = {}
        for key in set(keys):
            value = self.get(key)
            if value is not None:
                found[_key(key)] = [key, value]
        return [found[k] for k in sorted(found)]

    def put(self, key: str, value: str) -> None:
        self._writing_kv()
        try:
            self.db.execute("INSERT INTO _cf_KV VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                            (_key(key), value))
        except sqlite3.Error as exc:
            raise sql_error(exc) from None
        self._remember(key, value)

    def put_many(self, pairs: list[list[str]]) -> None:
        """Store every pair, or none of them."""
        point = self.savepoint()
        try:
            for key, value in pairs:
                self.put(key, value)
        except BaseException:
            self.rollback_to(point)
            raise
        self.release(point)

    def delete(self, key: str) -> bool:
        if not self._kv:
            return False
        self._begin()
        self._remember(key, None)
        return self.db.execute("DELETE FROM _cf_KV WHERE key=?", (_key(key),)).rowcount > 0

    def delete_many(self, keys: list[str]) -> int:
        return sum(self.delete(key) for key in set(keys))

    def list(self, *, start: str | None = None, start_after: str | None = None, end: str | None = None,
             prefix: str | None = None, reverse: bool = False, limit: int | None = None) -> list[list[str]]:
        """``[key, value]`` pairs in key order (descending with ``reverse``), at most ``limit``."""
        if not self._kv:
            return []
        where, params = [], []
        for op, bound in ((">=", start), (">", start_after), ("<", end)):
            if bound is not None:
                where.append(f"key {op} ?")
                params.append(_key(bound))
        if prefix:
            where.append("key >= ?")
            params.append(_key(prefix))
            upper = _prefix_end(prefix)
            if upper is not None:
                where.append("key < ?")
                params.append(_key(upper))
        sql = "SELECT key, value FROM _cf_KV" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY key" + (" DESC" if reverse else "")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [[_text(k), v] for k, v in self.db.execute(sql, params)]

    def delete_all(self) -> None:
        """Delete every KV pair and every SQL table, index, view and trigger."""
        self._begin()
        for kind, name in self.db.execute(
                "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"
                " AND type IN ('table', 'view', 'trigger') ORDER BY type='table'").fetchall():
            self.db.execute(f'DROP {kind.upper()} IF EXISTS "{name.replace(chr(34), chr(34) * 2)}"')
        self._kv = False
        self._cache.clear()

    def set_alarm(self, due_ms: float | None) -> None:
        """Keep the alarm in ``_cf_METADATA`` too, where workerd keeps it (None: deleted)."""
        self._begin()
        if due_ms is None:
            if self.db.execute("SELECT 1 FROM sqlite_master WHERE name='_cf_METADATA'").fetchone():
                self.db.execute("DELETE FROM _cf_METADATA WHERE key=?", (ALARM_KEY,))
            return
        self.db.execute(METADATA_TABLE)
        self.db.execute("INSERT OR REPLACE INTO _cf_METADATA VALUES (?, ?)", (ALARM_KEY, int(due_ms)))

    # -- SQL and the workbench ---------------------------------------------------------------
    def exec(self, query: str, bindings: list) -> SqlResult:
        return self.sql.exec(query, bindings)

    @property
    def size(self) -> int:
        """``sql.databaseSize``: the pages in use (free pages left out), in bytes."""
        (pages,) = self.db.execute("PRAGMA page_count").fetchone()
        (free,) = self.db.execute("PRAGMA freelist_count").fetchone()
        (size,) = self.db.execute("PRAGMA page_size").fetchone()
        return (pages - free) * size

    def keys(self, prefix: str | None = None, limit: int | None = None) -> list[str]:
        return [k for k, _ in self.list(prefix=prefix, limit=limit)]

    def count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM _cf_KV").fetchone()[0] if self._kv else 0

    def tables(self) -> list[tuple[str, int]]:
        """The object's own SQL tables with their row counts."""
        names = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '\\_cf\\_%' ESCAPE '\\' ORDER BY name")]
        return [(n, self.db.execute(f'SELECT COUNT(*) FROM "{n.replace(chr(34), chr(34) * 2)}"').fetchone()[0])
                for n in names]

    def close(self) -> None:
        self.db.close()


class ObjectStore:
    """Every object's database (see the module docstring); opened on first use, kept open."""

    def __init__(self, data_dir: Path | None, *, durability: str = "normal") -> None:
        self.root = None if data_dir is None else Path(data_dir) / "objects"
        self.synchronous = {"normal": "NORMAL", "full": "FULL", "off": "OFF"}[durability]
        self._open: dict[tuple[str, str], ObjectDatabase] = {}
        self._dirty: set[ObjectDatabase] = set()

    def database(self, namespace: str, hexid: str, *, create: bool = True) -> ObjectDatabase | None:
        """The object's database, opened on first use (None when ``create`` is false and
        it has none yet)."""
        db = self._open.get((namespace, hexid))
        if db is None:
            path = ":memory:"
            if self.root is not None:
                folder = self.root / namespace
                if not create and not (folder / f"{hexid}.sqlite").exists():
                    return None
                folder.mkdir(parents=True, exist_ok=True)
                path = str(folder / f"{hexid}.sqlite")
            elif not create:
                return None
            try:
                db = self._open[(namespace, hexid)] = ObjectDatabase(path, self.synchronous, self._dirty.add)
            except sqlite3.Error as exc:
                raise StorageError(f"cannot open the database of {namespace}/{hexid}: {exc}") from exc
        return db

    def existing(self) -> list[tuple[str, str]]:
        """(namespace, hex id) of every object that has a database."""
        found = set(self._open)
        if self.root is not None and self.root.is_dir():
            found.update((p.parent.name, p.stem) for p in self.root.glob("*/*.sqlite"))
        return sorted(found)

    @property
    def dirty(self) -> bool:
        return bool(self._dirty)

    def commit(self) -> None:
        """Commit every database written since the last commit."""
        dirty = list(self._dirty)
        self._dirty.clear()
        for db in dirty:
            db.commit()

    def rollback_open(self) -> bool:
        """Roll back the transactions the budget cut off; True if there was one."""
        return any([db.rollback_open() for db in self._dirty])

    def close(self) -> None:
        for db in self._open.values():
            db.close()
        self._open.clear()
