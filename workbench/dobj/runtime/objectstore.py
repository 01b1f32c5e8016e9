"""Storage of Workers projects' objects: one SQLite database per object, KV pairs and SQL.

Each object's database holds its own SQL tables and, hidden from its SQL, the KV pairs of
the async and ``kv`` APIs in ``_cf_KV`` and its alarm in ``_cf_METADATA``, as workerd
keeps them (same tables, made on first use), so the KV and SQL writes of an event commit
together. Databases live in ``<data>/objects/<namespace>/<hex id>.sqlite`` (WAL), or in
memory without a data folder. The data folder's lock is the seed store's (``storage.py``).

Keys are stored as TEXT holding their UTF-8 (a lone surrogate as the bytes WTF-8 gives
it), so they sort in UTF-8 byte order and a lone surrogate lists back as U+FFFD, as in
workerd. Values are the text of serialized structured clones, opaque here, kept exactly
(lone surrogates too). The one size limit is workerd's: a KV row (key, value, header) of
at most 2,200,000 bytes, the value counted as ``size`` bytes when the caller gives V8's
serialized size (``put(key, value, size)``), else as its UTF-8.

Writes go into an open transaction per database; :meth:`ObjectStore.commit` ends them
all. The runtime commits before any result leaves it, so nothing acknowledged is lost.

>>> store = ObjectStore(None)
>>> db = store.database("COUNTER", "ab" * 32)
>>> db.put("b", "2"); db.put("a", "1"); db.list(limit=1)
[('a', '1')]
>>> store.commit(); store.close()
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections import OrderedDict
from pathlib import Path
from urllib.parse import quote, unquote

from ..errors import BadRequest, StorageError
from .objectdb import RECORD_LIMIT, SYNCHRONOUS, ObjectDatabase, record_size

__all__ = ["RECORD_LIMIT", "ObjectDatabase", "ObjectStore", "record_size"]
_HEX_ID = re.compile(r"[0-9a-f]{64}")


class ObjectStore:
    """Every Cloudflare-style object's database (see the module docstring).

    Databases open on first use; at most ``max_open`` file databases stay open, the least
    recently used one without uncommitted writes closing first (so do not keep an
    :class:`ObjectDatabase` across events: ask :meth:`database` each time).
    """

    def __init__(self, data_dir: str | os.PathLike | None, *, durability: str = "normal",
                 max_open: int = 256) -> None:
        self.root = None if data_dir is None else Path(data_dir) / "objects"
        self.synchronous = SYNCHRONOUS[durability]
        self.max_open = max_open
        self._open: OrderedDict[tuple[str, str], ObjectDatabase] = OrderedDict()
        self._dirty: set[ObjectDatabase] = set()

    def database(self, namespace: str, hexid: str, *, create: bool = True) -> ObjectDatabase | None:
        """The database of object ``hexid`` (64 lower-case hex digits) of ``namespace``;
        None when ``create`` is false and the object has none yet."""
        key = (namespace, hexid)
        db = self._open.get(key)
        if db is not None:
            self._open.move_to_end(key)
            return db
        if not namespace or not _HEX_ID.fullmatch(hexid):
            raise BadRequest(f"no object {namespace!r}/{hexid!r}: a namespace and 64 lower-case hex digits")
        path = ":memory:"
        if self.root is None and not create:
            return None
        if self.root is not None:
            folder = self.root / quote(namespace, safe="")
            if not create and not (folder / f"{hexid}.sqlite").exists():
                return None
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(f"cannot make {folder}: {exc}") from exc
            path = str(folder / f"{hexid}.sqlite")
        try:
            db = ObjectDatabase(path, self.synchronous, self._written)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the database of {namespace}/{hexid}: {exc}") from exc
        self._open[key] = db
        if self.root is not None and len(self._open) > self.max_open:
            self._evict()
        return db

    def _written(self, db: ObjectDatabase) -> None:
        self._dirty.add(db)

    def _evict(self) -> None:
        for key, db in list(self._open.items()):
            if len(self._open) <= self.max_open:
                return
            if not db.in_txn:
                del self._open[key]
                db.close()

    def existing(self) -> list[tuple[str, str]]:
        """(namespace, hex id) of every object that has a database, sorted."""
        found = set(self._open)
        if self.root is not None and self.root.is_dir():
            found.update((unquote(p.parent.name), p.stem) for p in self.root.glob("*/*.sqlite"))
        return sorted(found)

    @property
    def dirty(self) -> bool:
        """True when some database has writes not committed yet."""
        return bool(self._dirty)

    def commit(self) -> None:
        """Commit every database written since the last commit."""
        dirty, self._dirty = self._dirty, set()
        failed = None
        for db in dirty:
            try:
                db.commit()
            except StorageError as err:
                failed = failed or err
        if failed is not None:
            raise failed

    def rollback_open(self) -> bool:
        """Roll back the transactions the budget cut off; True if there was one."""
        rolled = [db.rollback_open() for db in self._dirty]  # every one, not just the first
        return any(rolled)

    def close(self) -> None:
        """Commit and close every database."""
        try:
            self.commit()
        finally:
            for db in self._open.values():
                db.close()
            self._open.clear()
