"""workerd's ``rowsRead`` and ``rowsWritten`` of a statement, as far as Python's sqlite3 shows them.

workerd counts in the VM (libSQL's ROWS_READ and ROWS_WRITTEN: a cursor moving onto a row,
a row or index entry written), which stock SQLite does not expose. :class:`Counters`
rebuilds them from what is visible: the query plan, the rows changed, the tables' indexes
and what the authorizer saw (see :class:`~.sqlexec.SqlRunner`).
"""

from __future__ import annotations

import re
import secrets
import sqlite3


_PARAMETERS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|--[^\n]*|/\*.*?\*/"""
                         r"|(?P<named>[:$@][A-Za-z_][A-Za-z0-9_]*)|(?P<bare>\?)", re.S)


def positional(statement: str, values):
    """``values`` as Python's sqlite3 takes them for ``statement``: workerd binds ``:name``,
    ``$name`` and ``@name`` by position (in order of first appearance, as SQLite numbers
    them), where Python wants a mapping for named parameters (a sequence is deprecated
    from 3.12 and an error from 3.14)."""
    if not values or not any(c in statement for c in ":$@"):
        return values
    names: list[str] = []
    for m in _PARAMETERS.finditer(statement):
        if m.group("bare"):
            return values  # mixed with ?: leave it to SQLite
        name = m.group("named")
        if name and name[1:] not in names:
            names.append(name[1:])
    if not names:
        return values
    if len(names) != len(values):
        return values  # SQLite counts them and refuses
    return dict(zip(names, values))

TAG = f" /*dobj {secrets.token_hex(6)}*/"  # on the runtime's own statements: never a user's text
_EXPLAINABLE = ("SELECT", "WITH", "VALUES", "INSERT", "REPLACE", "UPDATE", "DELETE")


class Counters:
    """The counting half of :class:`~.sqlexec.SqlRunner`, which owns ``db``."""

    db: sqlite3.Connection

    def __init__(self) -> None:
        self._plans: dict[str, list[str]] = {}
        self._actions: dict[str, list] = {}
        self._tables: dict[str, tuple[bool, list[set[str]]]] = {}

    def forget_plans(self) -> None:
        """Drop what was learnt about statements (the schema may have changed)."""
        self._plans.clear()
        self._actions.clear()
        self._tables.clear()
    
    def _written(self, actions, changed: int, own: int) -> int:
        kinds = {a[0] for a in actions}
        created = kinds & {sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_VIEW,
                           sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_CREATE_VTABLE}
        if created:
            self.forget_plans()
            return self._schema_rows(actions)
        for action, table, column in actions:
            if table is None or table.startswith("sqlite_") or action not in WRITE_ACTIONS:
                continue
            virtual, indexes = self._table(table)
            if virtual:  # its module's own statements are not counted, only its rows
                return own
            if action == sqlite3.SQLITE_INSERT:
                return changed * (1 + len(indexes))
            if action == sqlite3.SQLITE_UPDATE:
                columns = {c for a, t, c in actions if a == sqlite3.SQLITE_UPDATE and t == table}
                return changed * (1 + sum(1 for cols in indexes if cols & columns or not cols))
            return changed
        if _changes_schema(actions):
            self.forget_plans()
        return changed

    def _schema_rows(self, actions) -> int:
        """Rows a CREATE wrote to sqlite_master (0 when IF NOT EXISTS found it there)."""
        for action, name, table in actions:
            row = self.db.execute("SELECT type, tbl_name FROM sqlite_master WHERE name=?" + TAG, (name,)).fetchone()
            if action == sqlite3.SQLITE_CREATE_INDEX and row is not None:
                (count,) = self.db.execute(f"SELECT count(*) FROM {_quote(table)}" + TAG).fetchone()
                return 1 + count
            if action in (sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_VIEW, sqlite3.SQLITE_CREATE_VTABLE):
                if row is None:
                    return 0
                (autos,) = self.db.execute("SELECT count(*) FROM sqlite_master WHERE type='index'"
                                           " AND tbl_name=? AND sql IS NULL" + TAG, (name,)).fetchone()
                return 2 + autos
            if action == sqlite3.SQLITE_CREATE_TRIGGER:
                return 1
        return 0

    def _table(self, table: str) -> tuple[bool, list[set[str]]]:
        """Whether ``table`` is virtual, and the columns of each index an INSERT writes
        besides the row (a WITHOUT ROWID table's primary key is the row)."""
        known = self._tables.get(table)
        if known is None:
            row = self.db.execute("SELECT sql, wr FROM sqlite_master JOIN pragma_table_list ON"
                                  " pragma_table_list.name = sqlite_master.name AND schema = 'main'"
                                  " WHERE sqlite_master.name = ?" + TAG, (table,)).fetchone()
            virtual = row is not None and (row[0] or "").upper().startswith("CREATE VIRTUAL")
            indexes = []
            for _, name, _, origin, _ in self.db.execute("SELECT * FROM pragma_index_list(?)" + TAG, (table,)):
                if not (origin == "pk" and row is not None and row[1]):
                    indexes.append({r[0] for r in self.db.execute(
                        "SELECT name FROM pragma_index_info(?)" + TAG, (name,)) if r[0]})
            known = self._tables[table] = (virtual, indexes)
        return known

    def _read(self, statement: str, keyword: str, values, actions, rows: int, changed: int) -> tuple[int, int]:
        plan = self._plans.get(statement)
        if plan is None:
            plan = []
            if keyword in _EXPLAINABLE:
                try:
                    plan = [r[3] for r in self.db.execute("EXPLAIN QUERY PLAN " + statement + "\n" + TAG,
                                                          positional(statement, values))]
                except sqlite3.Error:
                    plan = []
            if len(self._plans) > 512:
                self._plans.clear()
            self._plans[statement] = plan
        deleted = {t for a, t, _ in actions if a == sqlite3.SQLITE_DELETE}
        scanned = searched = sorted_ = 0
        for step in plan:
            words = step.split()
            if words[0] == "SCAN" and len(words) > 1 and "CONSTANT" not in words[1:3]:
                count = None if "VIRTUAL TABLE" in step else self._count(words[1])
                if count is None:
                    searched += max(1, rows)
                else:
                    scanned += max(1, count + (changed if words[1] in deleted else 0))
            elif words[0] == "SEARCH":
                searched += max(1, rows or changed)
            elif step.startswith("USE TEMP B-TREE"):
                sorted_ += max(1, rows)
        total = scanned + searched + sorted_
        if sorted_ or rows <= 1:
            return total, total
        return total, min(total, 1)

    def _count(self, table: str) -> int | None:
        exists = self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?" + TAG, (table,)).fetchone()
        if exists is None:
            return None
        return self.db.execute(f"SELECT count(*) FROM {_quote(table)}" + TAG).fetchone()[0]


WRITE_ACTIONS = frozenset({sqlite3.SQLITE_INSERT, sqlite3.SQLITE_UPDATE, sqlite3.SQLITE_DELETE})
_SCHEMA_ACTIONS = frozenset({
    sqlite3.SQLITE_CREATE_TABLE, sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_CREATE_VIEW,
    sqlite3.SQLITE_CREATE_TRIGGER, sqlite3.SQLITE_CREATE_VTABLE, sqlite3.SQLITE_DROP_TABLE,
    sqlite3.SQLITE_DROP_INDEX, sqlite3.SQLITE_DROP_VIEW, sqlite3.SQLITE_DROP_TRIGGER,
    sqlite3.SQLITE_DROP_VTABLE, sqlite3.SQLITE_ALTER_TABLE, sqlite3.SQLITE_ANALYZE})


def _changes_schema(actions) -> bool:
    return any(a[0] in _SCHEMA_ACTIONS for a in actions)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
