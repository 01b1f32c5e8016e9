"""``ctx.storage.sql.exec`` on an object's database, with workerd's rules and messages.

What workerd does (measured, see ``tests/projects/FINDINGS.md``): several statements run in
order and the cursor holds the last one's rows; only the last statement may have
parameters; the internal ``_cf_`` tables are listed but cannot be read or written; ATTACH,
most PRAGMAs, ``sqlite_version()``, BEGIN and SAVEPOINT are refused; errors end with the
SQLite code, and the offset when SQLite knows it.

Values cross as JSON: a binding ``{"$r": n}`` is a REAL (JavaScript numbers bind as REAL),
``{"$b": base64}`` a BLOB; in results a BLOB is ``{"$b": base64}`` and an infinite or NaN
REAL ``{"$n": "Infinity"}``, integers past 2**53 rounded as JavaScript numbers are.
"""

from __future__ import annotations

import base64
import math
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass

from ..errors import ExecutionError

_PRIMARY = {
    1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT",
    10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL",
    14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY", 17: "SQLITE_SCHEMA",
    18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE",
    22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT", 25: "SQLITE_RANGE", 26: "SQLITE_NOTADB",
}
_TRANSACTION = (
    "To execute a transaction, please use the state.storage.transaction() or"
    " state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT"
    " statements. The JavaScript API is safer because it will automatically roll back on"
    " exceptions, and because it interacts correctly with Durable Objects' automatic atomic"
    " write coalescing."
)
_READ_PRAGMAS = frozenset({"table_list", "table_info", "table_xinfo", "index_list", "index_info",
                           "index_xinfo", "foreign_key_list", "foreign_keys", "collation_list",
                           "function_list", "pragma_list", "data_version", "quick_check"})
_NEAR = re.compile(r'^near "(.*)": syntax error$|^no such column: (.*)$|^table (\S+) already exists$'
                   r'|^not authorized to use function: (.*)$')
_SAFE = 2 ** 53
# Extended result codes Python's sqlite3 may not name (it says "unknown").
_EXTENDED = {275: "SQLITE_CONSTRAINT_CHECK", 787: "SQLITE_CONSTRAINT_FOREIGNKEY",
             1299: "SQLITE_CONSTRAINT_NOTNULL", 1555: "SQLITE_CONSTRAINT_PRIMARYKEY",
             1811: "SQLITE_CONSTRAINT_TRIGGER", 2067: "SQLITE_CONSTRAINT_UNIQUE",
             2579: "SQLITE_CONSTRAINT_ROWID", 3091: "SQLITE_CONSTRAINT_DATATYPE"}


@dataclass
class SqlResult:
    """What a cursor holds: column names, rows (JSON-safe), rows read and written."""

    columns: list[str]
    rows: list[list]
    rows_read: int
    rows_written: int


def sql_error(exc: sqlite3.Error, query: str | None = None) -> ExecutionError:
    """workerd's message for a SQLite error: ``message[ at offset N]: CODE (extended: CODE_X)``."""
    message = str(exc)
    code = getattr(exc, "sqlite_errorcode", None)
    name = getattr(exc, "sqlite_errorname", None) or "SQLITE_ERROR"
    if name == "unknown":
        name = _EXTENDED.get(code, name)
    primary = _PRIMARY.get(code & 0xFF, name) if code is not None else name
    found = _NEAR.match(message) if query is not None else None
    if found:
        token = next(g for g in found.groups() if g is not None)
        at = query.find(token)
        if at >= 0:
            message += f" at offset {at}"
    text = f"{message}: {primary}" + (f" (extended: {name})" if name != primary else "")
    return ExecutionError(text, js_name="Error")


def _binding(value):
    if isinstance(value, dict):
        if "$r" in value:
            return float(value["$r"])
        if "$b" in value:
            return base64.b64decode(value["$b"])
    return value


def _result(value):
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$n": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, int) and not -_SAFE <= value <= _SAFE:
        return float(value)
    return value


def split_statements(query: str) -> list[str]:
    """The statements of ``query``, each with its own text (comments and blanks dropped)."""
    statements, current = [], ""
    for piece in re.split(r"(;)", query):
        current += piece
        if piece == ";" and sqlite3.complete_statement(current):
            statements.append(current)
            current = ""
    if current.strip():
        statements.append(current)
    return [s for s in statements if _has_code(s)]


def _has_code(statement: str) -> bool:
    text = re.sub(r"--[^\n]*|/\*.*?\*/", "", statement, flags=re.S)
    return bool(text.strip(" \t\r\n;"))


class SqlRunner:
    """Runs user SQL on one connection, behind an authorizer that internal SQL bypasses."""

    def __init__(self, db: sqlite3.Connection, begin) -> None:
        self.db, self._begin = db, begin
        self._trusted = True  # the runtime's own statements; user SQL runs untrusted
        db.set_authorizer(self._authorize)

    @contextmanager
    def internal(self):
        """Run the runtime's own statements in the middle of user SQL (none needed now)."""
        before, self._trusted = self._trusted, True
        try:
            yield
        finally:
            self._trusted = before

    @contextmanager
    def _user(self):
        self._trusted = False
        try:
            yield
        finally:
            self._trusted = True

    def _authorize(self, action, arg1, arg2, _db, _source) -> int:
        if self._trusted:
            return sqlite3.SQLITE_OK
        if action in (sqlite3.SQLITE_TRANSACTION, sqlite3.SQLITE_SAVEPOINT, sqlite3.SQLITE_ATTACH,
                      sqlite3.SQLITE_DETACH):
            return sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_PRAGMA:
            name = arg1.lower()
            allowed = name in _READ_PRAGMAS and not (name == "foreign_keys" and arg2 is not None)
            return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY
        if action == sqlite3.SQLITE_FUNCTION and arg2 == "sqlite_version":
            return sqlite3.SQLITE_DENY
        table = arg2 if action in (sqlite3.SQLITE_CREATE_INDEX, sqlite3.SQLITE_DROP_INDEX) else arg1
        if isinstance(table, str) and table.startswith("_cf_"):
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    def exec(self, query: str, bindings: list) -> SqlResult:
        statements = split_statements(query)
        if not statements:
            raise ExecutionError("SQL code did not contain a statement.", js_name="Error")
        if len(statements) > 1 and bindings:
            raise ExecutionError("When executing multiple SQL statements in a single call, only the"
                                 " last statement can have parameters.", js_name="Error")
        values = [_binding(b) for b in bindings]
        self._begin()
        read = written = 0
        columns: list[str] = []
        rows: list[list] = []
        for i, statement in enumerate(s.lstrip() for s in statements):
            head = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
            if head in ("BEGIN", "SAVEPOINT", "RELEASE", "COMMIT", "END", "ROLLBACK"):
                raise ExecutionError(_TRANSACTION, js_name="Error")
            before = self.db.total_changes
            try:
                with self._user():
                    cursor = self.db.execute(statement, values if i == len(statements) - 1 else ())
                    fetched = cursor.fetchall()
            except sqlite3.ProgrammingError as exc:
                if "supplied" in str(exc) and "bindings" in str(exc):
                    raise ExecutionError("Wrong number of parameter bindings for SQL query.", js_name="Error") from None
                raise sql_error(exc, statement) from None
            except sqlite3.Error as exc:
                raise sql_error(exc, statement) from None
            changed = self.db.total_changes - before
            written = changed  # the cursor counts what its last statement wrote
            read += len(fetched) + changed
            columns = [d[0] for d in cursor.description] if cursor.description else []
            rows = [[_result(v) for v in row] for row in fetched]
        return SqlResult(columns, rows, read, written)
