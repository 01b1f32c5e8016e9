"""``ctx.storage.sql.exec`` on an object's database, as workerd runs it.

What workerd does (``tests/projects/FINDINGS.md``, and its ``SqliteDatabase::prepareSql``):
the statements of one call run in order, each prepared from where the previous one ended
(blanks skipped), an earlier one stepping once before the next is prepared, so a later
failure leaves it applied; only the last may have parameters; the cursor holds the last
one's rows. Errors read ``message[ at offset N]: SQLITE_X[ (extended: SQLITE_X_Y)]``. What
user SQL may touch is :mod:`.sqlrules`.

Values cross as JSON (the JavaScript layer converts)::

    binding (in)                       result (out)
    null           -> NULL             NULL                 -> null
    "text"         -> TEXT             TEXT                 -> "text" (bad UTF-8 as U+FFFD)
    3, 2.5         -> REAL             INTEGER              -> number (past 2**53 rounded
    {"$r": 3 | "Infinity" | "-0"}      REAL                 ->   as a double, as V8 does)
                   -> REAL             REAL finite          -> number (-0 kept: -0.0)
    {"$b": base64} -> BLOB             REAL ±inf            -> {"$n": "Infinity"}
    true/false     -> TEXT 'true'      BLOB                 -> {"$b": base64}

Every number binds as REAL because every JavaScript number does in workerd; a lone
surrogate in text becomes U+FFFD (V8's UTF-8). Rows come back all at once (workerd's
cursor is lazy); ``rows_read``/``rows_written`` follow workerd's counters where SQLite lets
Python see enough (see :class:`SqlRunner`).
"""

from __future__ import annotations

import base64
import ctypes
import math
import re
import sqlite3
import sys
from dataclasses import dataclass, field

from ..errors import ExecutionError
from .sqlcount import WRITE_ACTIONS, TAG, Counters, _changes_schema, positional
from .sqlrules import TRANSACTION_MESSAGE, Rules

__all__ = ["TAG", "ErrorOffset", "SqlError", "SqlResult", "SqlRunner", "binding", "first_statement", "result"]

SQL_LENGTH = 100_000  # workerd's SQLITE_LIMIT_SQL_LENGTH: the text still to run, in bytes
_PRIMARY = {
    1: "SQLITE_ERROR", 2: "SQLITE_INTERNAL", 3: "SQLITE_PERM", 4: "SQLITE_ABORT", 5: "SQLITE_BUSY",
    6: "SQLITE_LOCKED", 7: "SQLITE_NOMEM", 8: "SQLITE_READONLY", 9: "SQLITE_INTERRUPT",
    10: "SQLITE_IOERR", 11: "SQLITE_CORRUPT", 12: "SQLITE_NOTFOUND", 13: "SQLITE_FULL",
    14: "SQLITE_CANTOPEN", 15: "SQLITE_PROTOCOL", 16: "SQLITE_EMPTY", 17: "SQLITE_SCHEMA",
    18: "SQLITE_TOOBIG", 19: "SQLITE_CONSTRAINT", 20: "SQLITE_MISMATCH", 21: "SQLITE_MISUSE",
    22: "SQLITE_NOLFS", 23: "SQLITE_AUTH", 24: "SQLITE_FORMAT", 25: "SQLITE_RANGE",
    26: "SQLITE_NOTADB", 27: "SQLITE_NOTICE", 28: "SQLITE_WARNING",
}
_EXTENDED = {  # extended codes Python's sqlite3 does not name (it says "unknown")
    3091: "SQLITE_CONSTRAINT_DATATYPE", 8714: "SQLITE_IOERR_IN_PAGE", 795: "SQLITE_NOTICE_RBU",
}
_BLANKS = " \t\n\r\v\f"  # what workerd skips after a statement (nothing else, not comments)
_SAFE = 2**53
_LONE = re.compile("[\ud800-\udfff]")
_TOKENS = re.compile(r"""'(?:[^']|'')*'?|"(?:[^"]|"")*"?|`(?:[^`]|``)*`?|\[[^\]]*\]?"""
                     r"""|--[^\n]*|/\*(?:.|\n)*?(?:\*/|$)|;|\s+|[^'"`\[;\s/-]+|.""")
_KEYWORD = re.compile(r"[A-Za-z]+")
_OFFSET_PATTERNS = re.compile(  # where SQLite gives an offset, when ctypes cannot read it
    r'near "(?P<a>.*)": syntax error|no such column: (?P<b>.*)|table (?P<c>\S+) already exists'
    r"|not authorized to use function: (?P<d>.*)|no such function: (?P<e>.*)")


class SqlError(ExecutionError):
    """A ``sql.exec`` failure, thrown into JavaScript as workerd throws it (a plain ``Error``)."""

    def __init__(self, message: str, *, js_name: str = "Error", sqlite_code: str | None = None):
        super().__init__(message, js_name=js_name)
        self.sqlite_code = sqlite_code


# Lazy cursors: the rows read at exec (one more than shown, to know whether there are more),
# and how many may stay open per database before the oldest reads its rest at once.
_LAZY = ("SELECT", "WITH", "VALUES")
FIRST_ROWS = 2
OPEN_CURSORS = 64


@dataclass
class SqlResult:
    """What a cursor holds: column names, rows (JSON-safe lists) and workerd's counters.

    ``rows_read_first`` is the count after SQLite's first step (what workerd's ``rowsRead``
    shows before any row is read); ``rows_read`` the count once every row was read.
    """

    columns: list[str]
    rows: list[list] = field(default_factory=list)
    rows_read: int = 0
    rows_written: int = 0
    rows_read_first: int = 0
    more: int | None = None  # a cursor with rows still to read (:meth:`SqlRunner.more`), or None


@dataclass(eq=False)
class _OpenCursor:
    """A SELECT read lazily, as workerd's cursors are: what :meth:`SqlRunner.more` needs."""

    cursor: sqlite3.Cursor
    statement: str
    values: list
    actions: list
    changed: int
    count: int
    rest: list | None = None  # its remaining rows, once read at once (too many cursors open)


# -- values ---------------------------------------------------------------------------------
def well_formed(text: str) -> str:
    """``text`` as V8 writes it in UTF-8: a lone surrogate becomes U+FFFD."""
    return text if text.isascii() or not _LONE.search(text) else _LONE.sub("\ufffd", text)


def binding(value):
    """One binding from the JavaScript layer (see the module docstring) as sqlite3 binds it."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, dict) and len(value) == 1:
        if "$r" in value:
            number = float(value["$r"])
            return None if math.isnan(number) else number
        if "$b" in value:
            return base64.b64decode(value["$b"])
    raise SqlError(f"cannot bind {value!r}: give null, a string, a number, {{'$r': n}} or {{'$b': base64}}",
                   js_name="TypeError")


def result(value):
    """One SQLite value as the JavaScript layer takes it (see the module docstring)."""
    if isinstance(value, int):
        return value if -_SAFE <= value <= _SAFE else float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return {"$n": "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")}
    if isinstance(value, bytes):
        return {"$b": base64.b64encode(value).decode("ascii")}
    return value


# -- statements -----------------------------------------------------------------------------
def first_statement(text: str) -> tuple[str, str] | None:
    """Split ``text`` where ``sqlite3_prepare`` ends its first statement: (statement, rest).

    Like SQLite, leading blanks, comments and empty statements (``;``) belong to the
    statement that follows them; the statement ends after its ``;`` (a trigger body's
    ``;`` does not end it). None when there is no statement at all.

    >>> first_statement("SELECT 1; SELECT 2")
    ('SELECT 1;', ' SELECT 2')
    >>> first_statement(" ; -- nothing") is None
    True
    """
    code = False
    for token in _TOKENS.finditer(text):
        t = token.group()
        if t == ";":
            if code and sqlite3.complete_statement(text[:token.end()]):
                return text[:token.end()], text[token.end():]
        elif not (t.isspace() or t.startswith(("--", "/*"))):
            code = True
    return (text, "") if code else None


def leading_keyword(statement: str) -> str:
    """The first word of a statement's code, upper-cased (``""`` if none)."""
    for token in _TOKENS.finditer(statement):
        t = token.group()
        if not (t == ";" or t.isspace() or t.startswith(("--", "/*"))):
            word = _KEYWORD.match(t)
            return word.group().upper() if word else ""
    return ""


# -- errors ---------------------------------------------------------------------------------
class ErrorOffset:
    """``sqlite3_error_offset`` of a Python connection, read through ctypes.

    Python's ``sqlite3`` does not expose it; the connection's ``sqlite3*`` is the first
    field after the object header in CPython 3.11-3.14. Checked once per connection (its
    file name must match); where that fails, :func:`sql_error` falls back to finding the
    token SQLite names in its message.
    """

    _lib = None

    def __init__(self, conn: sqlite3.Connection, path: str) -> None:
        self.handle = None
        if sys.implementation.name != "cpython" or not (3, 11) <= sys.version_info[:2] <= (3, 14):
            return
        try:
            lib = ErrorOffset._library()
            handle = ctypes.c_void_p.from_address(id(conn) + object.__basicsize__).value
            name = lib.sqlite3_db_filename(handle, b"main") or b""
            expected = b"" if path == ":memory:" else path.encode()
            if handle and (name == expected or name.endswith(b"/" + expected.rsplit(b"/", 1)[-1])):
                self.handle = handle
        except (OSError, AttributeError, ValueError):
            self.handle = None

    @classmethod
    def _library(cls):
        if cls._lib is None:
            import _sqlite3

            lib = ctypes.CDLL(_sqlite3.__file__)
            lib.sqlite3_error_offset.argtypes = [ctypes.c_void_p]
            lib.sqlite3_error_offset.restype = ctypes.c_int
            lib.sqlite3_db_filename.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
            lib.sqlite3_db_filename.restype = ctypes.c_char_p
            cls._lib = lib
        return cls._lib

    def __call__(self) -> int | None:
        """The offset SQLite recorded for its last error, None if none (or unknown)."""
        if self.handle is None:
            return None
        offset = self._lib.sqlite3_error_offset(self.handle)
        return None if offset < 0 else offset


def sql_error(exc: sqlite3.Error, statement: str, offset: int | None | bool = False) -> SqlError:
    """workerd's message for a SQLite error; ``offset`` False means "find it in the text"."""
    message = str(exc)
    extended = getattr(exc, "sqlite_errorcode", None)
    if extended is None:
        if isinstance(exc, sqlite3.DataError) or "too large" in message:
            return SqlError("statement too long: SQLITE_TOOBIG", sqlite_code="SQLITE_TOOBIG")
        return SqlError(message)
    primary = _PRIMARY.get(extended & 0xFF, "SQLITE_ERROR")
    if offset is False:
        offset = _guess_offset(message, statement)
    if offset is not None:
        message += f" at offset {offset}"
    message += f": {primary}"
    name = getattr(exc, "sqlite_errorname", None)
    if not name or not name.startswith("SQLITE_"):
        name = _EXTENDED.get(extended, "")
    if extended != (extended & 0xFF) and name.startswith("SQLITE_"):
        message += f" (extended: {name})"
    return SqlError(message, sqlite_code=name)


def _guess_offset(message: str, statement: str) -> int | None:
    found = _OFFSET_PATTERNS.fullmatch(message)
    if found is None:
        return None
    token = next(g for g in found.groups() if g is not None)
    for match in _TOKENS.finditer(statement):
        if match.group() == token or match.group().lower() == token.lower():
            return len(statement[:match.start()].encode("utf-8"))
    return None


class SqlRunner(Counters):
    """Runs user SQL on one connection (see the module docstring).

    ``rows_read`` follows workerd's counter (libSQL's ROWS_READ: a cursor moving onto a
    row) as far as the query plan shows it: a full scan reads every row of its table (one
    for an empty one), a search reads the rows it finds (at least one), a sort reads every
    sorted row again, ``count(*)`` reads the whole table. ``rows_written`` counts the rows
    changed, plus one per index entry an INSERT or UPDATE writes, plus the schema rows of
    CREATE statements (two for a table or view, one per automatic index).
    """

    def __init__(self, db: sqlite3.Connection, rules: Rules, offset: ErrorOffset, begin) -> None:
        super().__init__()
        self.db, self.rules, self.offset, self._begin = db, rules, offset, begin
        self._open: dict[int, _OpenCursor] = {}
        self._cursor_ids = 0

    def exec(self, query: str, bindings: list, *, lazy: bool = False) -> SqlResult:
        """Run ``query``; with ``lazy`` a SELECT's rows after the first few are read only when
        asked for (:meth:`more`), so its cursor sees rows written meanwhile, as in workerd."""
        values = [binding(b) for b in bindings]
        rest = well_formed(query)
        self._begin()
        while True:
            if len(rest) > SQL_LENGTH // 4 and len(rest.encode("utf-8")) > SQL_LENGTH:
                raise SqlError("statement too long: SQLITE_TOOBIG", sqlite_code="SQLITE_TOOBIG")
            nul = rest.find("\0")  # SQLite reads the text up to a NUL
            found = first_statement(rest if nul < 0 else rest[:nul])
            if found is None:
                raise SqlError("SQL code did not contain a statement.")
            statement, tail = found
            tail = tail.lstrip(_BLANKS) + ("" if nul < 0 else rest[nul:])
            if not tail:
                return self._run(statement, values, last=True, lazy=lazy)
            self._run(statement, (), last=False)
            rest = tail

    def _run(self, statement: str, values, *, last: bool, lazy: bool = False) -> SqlResult | None:
        rules = self.rules
        rules.transaction_refused = False
        rules.actions = actions = []
        before = self.db.total_changes
        rules.trusted = False
        try:
            cursor = self.db.execute(statement, positional(statement, values))  # prepares, takes the first step
            if lazy:  # a SELECT that writes nothing (its actions: from this prepare, or the last one)
                done = actions or self._actions.get(statement, ())
                lazy = last and leading_keyword(statement) in _LAZY and not any(a[0] in WRITE_ACTIONS for a in done)
            rows = (cursor.fetchmany(FIRST_ROWS) if lazy else cursor.fetchall()) if last else []
        except sqlite3.ProgrammingError as exc:
            if "Incorrect number of bindings" not in str(exc):
                if "binding parameter" in str(exc):
                    raise SqlError("string or blob too big: SQLITE_TOOBIG", sqlite_code="SQLITE_TOOBIG") from None
                raise SqlError(str(exc)) from None
            if last:
                raise SqlError("Wrong number of parameter bindings for SQL query.") from None
            raise SqlError("When executing multiple SQL statements in a single call, only the last"
                           " statement can have parameters.") from None
        except sqlite3.Error as exc:
            if rules.transaction_refused:
                raise SqlError(TRANSACTION_MESSAGE) from None
            raise sql_error(exc, statement, self.offset() if self.offset.handle else False) from None
        finally:
            rules.trusted = True
            rules.actions = None
        if not last:
            cursor.close()  # an earlier statement steps once, as in workerd
            if _changes_schema(actions):
                self.forget_plans()
            return None
        if actions:
            if len(self._actions) > 512:
                self._actions.clear()
            self._actions[statement] = actions
        else:
            actions = self._actions.get(statement, [])
        columns = [d[0] for d in cursor.description] if cursor.description else []
        changed = self.db.total_changes - before
        out = SqlResult(columns, [[result(v) for v in row] for row in rows])
        out.rows_written = self._written(actions, changed, max(cursor.rowcount, 0))
        out.rows_read, out.rows_read_first = self._read(statement, leading_keyword(statement), values, actions,
                                                        len(rows), changed)
        if lazy and len(rows) == FIRST_ROWS:  # maybe more: read them when asked
            self._cursor_ids += 1
            out.more = self._cursor_ids
            self._open[out.more] = _OpenCursor(cursor, statement, list(values), actions, changed, len(rows))
            reading = [c for c in self._open.values() if c.rest is None]
            if len(reading) > OPEN_CURSORS:  # the oldest one reads the rest of its rows now
                reading[0].rest = reading[0].cursor.fetchall()
                reading[0].cursor.close()
        return out

    def more(self, cursor_id: int, n: int) -> tuple[list, bool, int]:
        """The next ``n`` rows of a lazy cursor: ``(rows, done, rows_read)``; once done,
        ``rows_read`` is the cursor's count over every row it read."""
        open_ = self._open.get(cursor_id)
        if open_ is None:
            return [], True, 0
        if open_.rest is None:
            try:
                fetched = open_.cursor.fetchmany(n)
            except sqlite3.Error as exc:
                self._open.pop(cursor_id, None)
                raise sql_error(exc, open_.statement) from None
        else:
            fetched, open_.rest = open_.rest[:n], open_.rest[n:]
        open_.count += len(fetched)
        rows = [[result(v) for v in row] for row in fetched]
        if len(fetched) == n:
            return rows, False, 0
        del self._open[cursor_id]
        open_.cursor.close()
        read, _ = self._read(open_.statement, leading_keyword(open_.statement), open_.values, open_.actions,
                             open_.count, open_.changed)
        return rows, True, read
