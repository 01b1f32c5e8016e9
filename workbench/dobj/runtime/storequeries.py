"""Questions to the store about many objects at once: which exist, their keys without their
values, all their items (for snapshots), and bulk replacement (restoring a snapshot).

:class:`StoreQueries` is part of :class:`~dobj.runtime.storage.Store` and uses its
connection (``db``), its transaction (``_begin``) and its read cache (``_forget``).
"""

from __future__ import annotations

from .limits import _prefix_end, check_key, check_value


class StoreQueries:
    """Many-object reads and bulk writes of the store (a mixin of ``Store``)."""

    def all_items(self) -> list[tuple[str, str, str, str]]:
        """(namespace, name, key, value JSON) of every key of every object, in one read."""
        return self.db.execute("SELECT o.namespace, o.name, kv.key, kv.value FROM kv"
                               " JOIN objects o ON o.id = kv.object ORDER BY o.namespace, o.name, kv.key").fetchall()

    def clear_all(self) -> None:
        """Delete every key and alarm of every object (a snapshot is restored next)."""
        self._forget()
        self._begin()
        self.db.execute("DELETE FROM kv")
        self.db.execute("DELETE FROM alarms")

    def clear_alarms(self) -> None:
        self._begin()
        self.db.execute("DELETE FROM alarms")

    def load_items(self, oid: int, items: list[tuple[str, str]]) -> None:
        """Store many (key, value JSON) pairs of one object at once."""
        self._begin()
        self.db.executemany("INSERT INTO kv VALUES (?, ?, ?) ON CONFLICT(object, key) DO UPDATE SET value=excluded.value",
                            [(oid, check_key(k), check_value(v)) for k, v in items])

    def objects(self) -> list[tuple[str, str]]:
        """Every (namespace, name) the store has a row for."""
        return [tuple(r) for r in self.db.execute("SELECT namespace, name FROM objects")]

    def objects_with_data(self) -> list[tuple[str, str]]:
        """Every (namespace, name) that has at least one key or an alarm."""
        rows = self.db.execute(
            "SELECT namespace, name FROM objects o WHERE EXISTS"
            " (SELECT 1 FROM kv WHERE kv.object=o.id)"
            " OR EXISTS (SELECT 1 FROM alarms a WHERE a.object=o.id) ORDER BY namespace, name"
        )
        return [tuple(r) for r in rows]

    def keys(self, namespace: str, name: str, *, prefix: str | None = None,
             limit: int | None = None) -> list[str]:
        """The keys of one object in key order, read without their values.

        ``prefix`` is literal and case-sensitive; ``limit`` keeps the first keys. An
        object that was never stored to has none (and no row is made for it).

        >>> from dobj.runtime.storage import Store
        >>> store = Store(None)
        >>> oid = store.object_id("C", "a")
        >>> for key in ("b", "a_1", "a%"):
        ...     store.put(oid, key, "1")
        >>> store.keys("C", "a"), store.keys("C", "a", prefix="a_"), store.keys("C", "a", limit=1)
        (['a%', 'a_1', 'b'], ['a_1'], ['a%'])
        >>> store.close()
        """
        where, params = ["o.namespace=?", "o.name=?"], [namespace, name]
        if prefix:
            where.append("kv.key >= ?")
            params.append(prefix)
            upper = _prefix_end(prefix)
            if upper is not None:
                where.append("kv.key < ?")
                params.append(upper)
        sql = (f"SELECT kv.key FROM objects o JOIN kv ON kv.object=o.id WHERE {' AND '.join(where)}"
               " ORDER BY kv.key")
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        keys = [row[0] for row in self.db.execute(sql, params)]
        return [k for k in keys if k.startswith(prefix)] if prefix else keys

    def key_counts(self) -> dict[tuple[str, str], int]:
        """How many keys each object holds, read without their values; objects that
        hold none are left out.

        >>> from dobj.runtime.storage import Store
        >>> store = Store(None)
        >>> store.put(store.object_id("C", "a"), "k", "1")
        >>> store.key_counts()
        {('C', 'a'): 1}
        >>> store.close()
        """
        rows = self.db.execute(
            "SELECT o.namespace, o.name, COUNT(*) FROM kv JOIN objects o ON o.id=kv.object"
            " GROUP BY kv.object ORDER BY o.namespace, o.name"
        )
        return {(namespace, name): count for namespace, name, count in rows}
