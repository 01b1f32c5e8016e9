"""One object's database: its KV pairs, SQL tables, alarm and transactions (see :mod:`.objectstore`).

>>> db = ObjectDatabase(":memory:")
>>> db.put("k", "v"); db.get("k"), db.count()
('v', 1)
>>> db.close()
"""

from __future__ import annotations

import os
import sqlite3

from ..errors import BadRequest, StorageError
from .sqlexec import TAG as _TAG
from .sqlexec import ErrorOffset, SqlError, SqlResult, SqlRunner
from .sqlrules import Rules

CACHED_KEYS = 1000  # values remembered per database
CACHED_VALUE_CHARS = 16 * 1024
RECORD_LIMIT = 2_200_000  # workerd's SQLITE_LIMIT_LENGTH: bytes of one row, or of one value
_UNLIMITED = 1_000_000_000  # for the runtime's own statements (our value text is not V8's)
LIMITS = {  # workerd's SqliteDatabase::setupSecurity
    sqlite3.SQLITE_LIMIT_LENGTH: _UNLIMITED, sqlite3.SQLITE_LIMIT_SQL_LENGTH: 100_000,
    sqlite3.SQLITE_LIMIT_COLUMN: 100, sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
    sqlite3.SQLITE_LIMIT_COMPOUND_SELECT: 5, sqlite3.SQLITE_LIMIT_VDBE_OP: 25_000,
    sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 127, sqlite3.SQLITE_LIMIT_ATTACHED: 0,
    sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 50, sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 100,
    sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 10, sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
}
SYNCHRONOUS = {"normal": "NORMAL", "full": "FULL", "off": "OFF"}
_KV_TABLE = "CREATE TABLE IF NOT EXISTS _cf_KV (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID" + _TAG
_METADATA_TABLE = "CREATE TABLE IF NOT EXISTS _cf_METADATA (key INTEGER PRIMARY KEY, value BLOB)" + _TAG
_GET = "SELECT value FROM _cf_KV WHERE key = CAST(? AS TEXT)" + _TAG
_PUT = "INSERT OR REPLACE INTO _cf_KV VALUES (CAST(? AS TEXT), ?)" + _TAG
_DELETE = "DELETE FROM _cf_KV WHERE key = CAST(? AS TEXT)" + _TAG
_HAS = "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?" + _TAG
_SIZE = "SELECT (SELECT * FROM pragma_page_count) - (SELECT * FROM pragma_freelist_count)" + _TAG
_ALARM_KEY = 1  # workerd keeps the alarm (in nanoseconds) under key 1 of _cf_METADATA
TOO_BIG = "string or blob too big: SQLITE_TOOBIG"


def _key(key: str) -> bytes:
    encoded = key.encode("utf-8", "surrogatepass")
    if len(encoded) > RECORD_LIMIT:  # SQLite refuses to bind it, and workerd says so
        raise SqlError(TOO_BIG, sqlite_code="SQLITE_TOOBIG")
    return encoded


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _varint(n: int) -> int:
    return 1 if n < 1 << 7 else 2 if n < 1 << 14 else 3 if n < 1 << 21 else 4 if n < 1 << 28 else 5


def record_size(key_bytes: int, value_bytes: int) -> int:
    """Bytes of the SQLite record of one ``_cf_KV`` row (header, key TEXT, value BLOB)."""
    return 1 + _varint(2 * key_bytes + 13) + _varint(2 * value_bytes + 12) + key_bytes + value_bytes


def _prefix_end(prefix: bytes) -> bytes | None:
    """The smallest byte string above every one starting with ``prefix`` (None: no bound)."""
    prefix = prefix.rstrip(b"\xff")
    return prefix[:-1] + bytes([prefix[-1] + 1]) if prefix else None


class ObjectDatabase:
    """One object's database: its KV pairs, its SQL tables, its alarm, its transactions."""

    def __init__(self, path: str, synchronous: str = "NORMAL", on_write=None) -> None:
        self.path, self._synchronous, self._on_write = path, synchronous, on_write
        self._open()

    def _open(self) -> None:
        self.db = db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.text_factory = _text
        if self.path != ":memory:":
            db.execute("PRAGMA journal_mode=WAL")
        db.execute(f"PRAGMA synchronous={self._synchronous}")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA cache_size=-1024")
        for limit, value in LIMITS.items():
            db.setlimit(limit, value)
        self.rules = Rules()
        db.set_authorizer(self.rules)
        self.sql = SqlRunner(db, self.rules, ErrorOffset(db, self.path), self._begin)
        self._kv = self._has("_cf_KV")
        self.in_txn = False
        self._savepoints: list[str] = []  # open ones, innermost last
        self._serial = 0
        self._cache: dict[str, str | None] = {}  # key -> value (None: absent); writes keep it exact

    def _has(self, table: str) -> bool:
        return self.db.execute(_HAS, (table,)).fetchone() is not None

    # -- transactions -------------------------------------------------------------------------
    def _begin(self) -> None:
        if not self.in_txn:
            self.db.execute("BEGIN" + _TAG)
            self.in_txn = True
            if self._on_write is not None:
                self._on_write(self)

    def commit(self) -> None:
        """Make every write so far durable (per the store's durability)."""
        if self.in_txn:
            try:
                self.db.execute("COMMIT" + _TAG)
            except sqlite3.Error as exc:
                raise StorageError(f"commit of {self.path} failed: {exc}") from exc
            finally:
                self.in_txn = self.db.in_transaction
                self._savepoints.clear()

    def savepoint(self) -> str:
        """Open a nested transaction (``transaction()``, ``transactionSync()``); its name.

        Names are never reused, so releasing or rolling back one that an outer transaction
        already ended (an async callback outliving ``transactionSync``) does nothing.
        """
        self._begin()
        self._serial += 1
        name = f"_cf_txn{self._serial}"
        self.db.execute(f"SAVEPOINT {name}" + _TAG)
        self._savepoints.append(name)
        return name

    def release(self, name: str) -> None:
        if name in self._savepoints:
            self.db.execute(f"RELEASE {name}" + _TAG)
            del self._savepoints[self._savepoints.index(name):]

    def rollback_to(self, name: str) -> None:
        """Undo every KV and SQL write since ``savepoint()`` gave ``name``, and end it."""
        if name in self._savepoints:
            self.db.execute(f"ROLLBACK TO {name}" + _TAG)
            self.db.execute(f"RELEASE {name}" + _TAG)
            del self._savepoints[self._savepoints.index(name):]
            self._kv = self._has("_cf_KV")
            self._cache.clear()
            self.sql.forget_plans()

    def rollback_open(self) -> bool:
        """Roll back every transaction still open (one the budget cut off); True if any."""
        if not self._savepoints:
            return False
        self.rollback_to(self._savepoints[0])
        return True

    # -- KV -------------------------------------------------------------------------------------
    def get(self, key: str) -> str | None:
        if not self._kv:
            _key(key)
            return None
        if key in self._cache:
            return self._cache[key]
        row = self.db.execute(_GET, (_key(key),)).fetchone()
        value = None if row is None else row[0].decode("utf-8", "surrogatepass")
        self._remember(key, value)
        return value

    def _remember(self, key: str, value: str | None) -> None:
        if value is not None and len(value) > CACHED_VALUE_CHARS:
            self._cache.pop(key, None)
            return
        if len(self._cache) >= CACHED_KEYS:
            self._cache.clear()
        self._cache[key] = value

    def get_many(self, keys) -> list[tuple[str, str]]:
        """(key, value) pairs in key order (UTF-8 bytes), missing keys left out, duplicates once."""
        unique = {_key(k): k for k in keys}
        if not self._kv:
            return []
        found = []
        for encoded in sorted(unique):
            row = self.db.execute(_GET, (encoded,)).fetchone()
            if row is not None:
                found.append((unique[encoded], row[0].decode("utf-8", "surrogatepass")))
        return found

    def _row(self, key: str, value: str, size: int | None = None) -> tuple[bytes, bytes]:
        encoded, data = _key(key), value.encode("utf-8", "surrogatepass")
        if record_size(len(encoded), len(data) if size is None else size) > RECORD_LIMIT:
            raise SqlError(TOO_BIG, sqlite_code="SQLITE_TOOBIG")
        return encoded, data

    def put(self, key: str, value: str, size: int | None = None) -> None:
        """Store ``value`` under ``key``; ``size``: the value's bytes as workerd counts them."""
        row = self._row(key, value, size)
        self._writing_kv()
        self.db.execute(_PUT, row)
        self._remember(key, value)

    def put_many(self, pairs) -> None:
        """Store every ``(key, value[, size])``, or none of them (nothing written on an error)."""
        rows = [self._row(*pair) for pair in pairs]
        if rows:
            self._writing_kv()
            self.db.executemany(_PUT, rows)
            for key, value, *_ in pairs:
                self._remember(key, value)

    def _writing_kv(self) -> None:
        self._begin()
        if not self._kv:
            self.db.execute(_KV_TABLE)
            self._kv = True

    def delete(self, key: str) -> bool:
        encoded = _key(key)
        if not self._kv:
            return False
        self._begin()
        self._remember(key, None)
        return self.db.execute(_DELETE, (encoded,)).rowcount > 0

    def delete_many(self, keys) -> int:
        """How many of ``keys`` existed (each counted once); all of them are gone after."""
        unique = {_key(k) for k in keys}
        if not self._kv or not unique:
            return 0
        self._begin()
        for key in keys:
            self._remember(key, None)
        return sum(self.db.execute(_DELETE, (k,)).rowcount > 0 for k in unique)

    def list(self, *, start=None, start_after=None, end=None, prefix=None, reverse=False,
             limit=None) -> list[tuple[str, str]]:
        """(key, value) pairs in key order (descending with ``reverse``), at most ``limit``.

        The bounds intersect: ``start`` (inclusive) or ``start_after``, ``end`` (exclusive)
        and ``prefix``. Errors are workerd's TypeErrors.
        """
        if start is not None and start_after is not None:
            raise BadRequest("list() cannot be called with both start and startAfter values.", js_name="TypeError")
        if limit is not None:
            limit = int(limit)
            if limit <= 0:
                raise BadRequest("List limit must be positive.", js_name="TypeError")
        if not self._kv:
            return []
        where, params = [], []
        for op, bound in ((">=", start), (">", start_after), ("<", end)):
            if bound is not None:
                where.append(f"key {op} CAST(? AS TEXT)")
                params.append(_key(bound))
        if prefix:
            low = _key(prefix)
            where.append("key >= CAST(? AS TEXT)")
            params.append(low)
            high = _prefix_end(low)
            if high is not None:
                where.append("key < CAST(? AS TEXT)")
                params.append(high)
        sql = "SELECT key, value FROM _cf_KV" + (f" WHERE {' AND '.join(where)}" if where else "")
        sql += " ORDER BY key" + (" DESC" if reverse else "")
        if limit is not None:
            sql += f" LIMIT {limit}"
        return [(k, v.decode("utf-8", "surrogatepass")) for k, v in self.db.execute(sql + _TAG, params)]

    def delete_all(self) -> None:
        """Delete the whole database: KV pairs, alarm and every SQL table, as workerd resets it.

        Refused inside ``transaction()``/``transactionSync()``; writes of the event not yet
        committed go too. The empty database is on disk at once (workerd deletes the file).
        """
        if self._savepoints:
            raise SqlError("Cannot call deleteAll() within a transaction")
        self.db.close()
        if self.path != ":memory:":
            for suffix in ("", "-wal", "-shm", "-journal"):
                try:
                    os.remove(self.path + suffix)
                except FileNotFoundError:
                    pass
                except OSError as exc:
                    raise StorageError(f"deleteAll() could not remove {self.path}{suffix}: {exc}") from exc
        self._open()

    # -- alarm ----------------------------------------------------------------------------------
    def get_alarm(self) -> int | None:
        """The alarm kept in ``_cf_METADATA``, in milliseconds since the epoch (None: none)."""
        if not self._has("_cf_METADATA"):
            return None
        row = self.db.execute("SELECT value FROM _cf_METADATA WHERE key=?" + _TAG, (_ALARM_KEY,)).fetchone()
        return None if row is None or row[0] is None else row[0] // 1_000_000

    def set_alarm(self, due_ms: float | None) -> None:
        """Keep the alarm where workerd keeps it (None deletes it without making the table)."""
        if due_ms is None:
            if self._has("_cf_METADATA"):
                self._begin()
                self.db.execute("UPDATE _cf_METADATA SET value=NULL WHERE key=?" + _TAG, (_ALARM_KEY,))
            return
        self._begin()
        self.db.execute(_METADATA_TABLE)
        self.db.execute("INSERT OR REPLACE INTO _cf_METADATA VALUES (?, ?)" + _TAG,
                        (_ALARM_KEY, int(due_ms) * 1_000_000))

    # -- SQL ------------------------------------------------------------------------------------
    def exec(self, query: str, bindings=(), *, lazy: bool = False) -> SqlResult:
        """``sql.exec(query, ...bindings)``: see :mod:`.sqlexec` for the encodings; ``lazy``
        leaves a SELECT's later rows to :meth:`more`."""
        self.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, RECORD_LIMIT)
        try:
            return self.sql.exec(query, list(bindings), lazy=lazy)
        finally:
            self.db.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _UNLIMITED)

    def more(self, cursor_id: int, n: int) -> tuple[list, bool, int]:
        """The next rows of a lazy cursor (see :meth:`.sqlexec.SqlRunner.more`)."""
        return self.sql.more(cursor_id, n)

    @property
    def size(self) -> int:
        """``sql.databaseSize``: the pages in use (free pages left out) times 4096."""
        (pages,) = self.db.execute(_SIZE).fetchone()
        return max(pages, 1) * 4096  # a file always has its first page; a fresh memory one not yet

    # -- for the workbench (values not read) ----------------------------------------------------
    def keys(self, prefix: str | None = None, limit: int | None = None) -> list[str]:
        if not self._kv:
            return []
        where, params = "", []
        if prefix:
            low = _key(prefix)
            high = _prefix_end(low)
            where = " WHERE key >= CAST(? AS TEXT)" + (" AND key < CAST(? AS TEXT)" if high else "")
            params = [low] + ([high] if high else [])
        sql = "SELECT key FROM _cf_KV" + where + " ORDER BY key" + (f" LIMIT {int(limit)}" if limit else "")
        return [row[0] for row in self.db.execute(sql + _TAG, params)]

    def count(self) -> int:
        """How many KV pairs the object holds."""
        return self.db.execute("SELECT count(*) FROM _cf_KV" + _TAG).fetchone()[0] if self._kv else 0

    def tables(self) -> list[tuple[str, int]]:
        """The object's own SQL tables (not ``_cf_`` or SQLite's) with their row counts."""
        names = [r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            " AND substr(name, 1, 4) != '_cf_' ORDER BY name" + _TAG)]
        return [(n, self.db.execute(f'SELECT count(*) FROM "{n.replace(chr(34), chr(34) * 2)}"' + _TAG).fetchone()[0])
                for n in names]

    def close(self) -> None:
        self.db.close()
