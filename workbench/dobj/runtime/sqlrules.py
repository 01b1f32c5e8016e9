"""What user SQL may do in an object's database: workerd's authorizer, rule for rule.

Ported from workerd 1.20260426.1 (``SqliteDatabase::isAuthorized`` and ``SqlStorage``'s
regulator), the version the recordings in ``tests/projects`` were made with: names
starting with ``_cf_`` (that case only) are reserved, only main's tables may be touched,
temporary objects, ATTACH and virtual tables other than FTS5 are refused, PRAGMAs and
functions come from allowlists, and BEGIN/SAVEPOINT raise workerd's own message. SQLite
turns a refusal into ``not authorized``, or ``access to T.C is prohibited`` for a read.

>>> rules = Rules(); rules.trusted = False  # as for the user's SQL
>>> rules.allows(sqlite3.SQLITE_READ, "_cf_KV", "key", "main", None)
False
>>> rules.allows(sqlite3.SQLITE_FUNCTION, None, "sqrt", None, None)
True
"""

from __future__ import annotations

import re
import sqlite3

TRANSACTION_MESSAGE = (
    "To execute a transaction, please use the state.storage.transaction() or"
    " state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT"
    " statements. The JavaScript API is safer because it will automatically roll back on"
    " exceptions, and because it interacts correctly with Durable Objects' automatic atomic"
    " write coalescing."
)

_FUNCTION_NAMES = """
abs changes char coalesce concat concat_ws format glob hex ifnull iif instr last_insert_rowid
length like likelihood likely load_extension lower ltrim max_scalar min_scalar nullif
octet_length printf quote random randomblob replace round rtrim sign soundex substr substring
total_changes trim typeof unhex unicode unlikely upper zeroblob
date time datetime julianday unixepoch strftime timediff current_date current_time
current_timestamp
avg count group_concat max min string_agg sum total
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
acos acosh asin asinh atan atan2 atanh ceil cos cosh degrees exp floor ln log log2 mod pi pow
radians sin sinh sqrt tan tanh trunc
json jsonb json_array jsonb_array json_array_length json_extract jsonb_extract -> ->>
json_insert jsonb_insert json_object jsonb_object json_patch jsonb_patch json_remove
jsonb_remove json_replace jsonb_replace json_set jsonb_set json_type json_valid json_quote
json_group_array jsonb_group_array json_group_object jsonb_group_object json_each json_tree
match highlight bm25 snippet
sqlite_rename_column sqlite_rename_table sqlite_rename_test sqlite_drop_column
sqlite_rename_quotefix
"""
FUNCTIONS = frozenset(_FUNCTION_NAMES.split())  # workerd's ALLOWED_SQLITE_FUNCTIONS

# PRAGMA name -> what its argument may be (workerd's ALLOWED_PRAGMAS).
NO_ARG, BOOLEAN, OBJECT, OPTIONAL_OBJECT, NULL_OR_NUMBER, NUMBER_OR_OBJECT = range(6)
PRAGMAS = {
    "data_version": NO_ARG,
    "case_sensitive_like": BOOLEAN, "foreign_keys": BOOLEAN, "defer_foreign_keys": BOOLEAN,
    "ignore_check_constraints": BOOLEAN, "legacy_alter_table": BOOLEAN,
    "recursive_triggers": BOOLEAN, "reverse_unordered_selects": BOOLEAN,
    "foreign_key_check": OPTIONAL_OBJECT, "foreign_key_list": OBJECT, "index_info": OBJECT,
    "index_list": OBJECT, "index_xinfo": OBJECT,
    "quick_check": NUMBER_OR_OBJECT,
    "optimize": NULL_OR_NUMBER,
}
_BOOLEANS = ("true", "false", "yes", "no", "on", "off", "1", "0")
_INT32 = re.compile(r"[-+]?\d+")
_UINT = re.compile(r"\d+")

A = sqlite3
_NAMED = {A.SQLITE_CREATE_TABLE, A.SQLITE_DELETE, A.SQLITE_DROP_TABLE, A.SQLITE_INSERT,
          A.SQLITE_CREATE_VIEW, A.SQLITE_DROP_VIEW, A.SQLITE_REINDEX, A.SQLITE_ALTER_TABLE,
          A.SQLITE_READ, A.SQLITE_UPDATE}
_TWO_NAMES = {A.SQLITE_CREATE_INDEX, A.SQLITE_DROP_INDEX, A.SQLITE_CREATE_TRIGGER,
              A.SQLITE_DROP_TRIGGER}
_ALWAYS = {A.SQLITE_SELECT, A.SQLITE_ANALYZE, A.SQLITE_RECURSIVE}
_FTS = ("fts5", "fts5vocab")


def allowed_name(name: str | None) -> bool:
    """workerd 1.20260426.1 reserves ``_cf_`` as written; ``_CF_x`` is allowed (it only warns)."""
    return name is None or not name.startswith("_cf_")


def _pragma_allowed(pragma: str, arg: str | None) -> bool:
    if pragma == "table_list":
        return True
    if pragma in ("table_info", "table_xinfo"):
        return arg is not None and allowed_name(arg)
    kind = PRAGMAS.get(pragma)
    if kind is None:
        return False
    if kind == NO_ARG:
        return arg is None
    if arg is None:
        return kind != OBJECT
    if kind == BOOLEAN:
        if len(arg) >= 2 and arg[0] in "'\"" and arg[-1] == arg[0]:
            arg = arg[1:-1]
        return arg.lower().startswith(_BOOLEANS)
    if kind == NULL_OR_NUMBER:
        return bool(_INT32.fullmatch(arg)) and -2**31 <= int(arg) < 2**31
    if kind == NUMBER_OR_OBJECT and _UINT.fullmatch(arg) and int(arg) < 2**32:
        return True
    return allowed_name(arg)


class Rules:
    """The authorizer of one connection: trusted (the runtime's own SQL) or not (the user's).

    A refused BEGIN or SAVEPOINT is remembered in ``transaction_refused`` so the caller can
    raise workerd's message instead of SQLite's ``not authorized``.
    """

    def __init__(self) -> None:
        self.trusted = True
        self.transaction_refused = False
        self.actions: list[tuple[int, str | None, str | None]] | None = None  # recorded when set

    def __call__(self, action, arg1, arg2, db_name, trigger) -> int:
        if self.actions is not None and not self.trusted and trigger is None:
            self.actions.append((action, arg1, arg2))
        return sqlite3.SQLITE_OK if self.allows(action, arg1, arg2, db_name, trigger) else sqlite3.SQLITE_DENY

    def allows(self, action, arg1, arg2, db_name, trigger) -> bool:
        if action in (A.SQLITE_ALTER_TABLE, A.SQLITE_DETACH):
            arg1, arg2, db_name = arg2, db_name, arg1  # SQLite passes the database first here
        if db_name is not None and db_name != "main":
            if db_name != "temp":
                return False
            return action in (A.SQLITE_READ, A.SQLITE_UPDATE) and allowed_name(arg1)
        if action in (A.SQLITE_TRANSACTION, A.SQLITE_SAVEPOINT):
            if self.trusted:
                return True
            self.transaction_refused = True
            return False
        if self.trusted:
            return True
        if action in _ALWAYS:
            return True
        if action in _NAMED:
            return allowed_name(arg1)
        if action in _TWO_NAMES:
            return allowed_name(arg1) and allowed_name(arg2)
        if action == A.SQLITE_PRAGMA:
            return _pragma_allowed(arg1, arg2)
        if action == A.SQLITE_FUNCTION:
            return arg2 in FUNCTIONS
        if action in (A.SQLITE_CREATE_VTABLE, A.SQLITE_DROP_VTABLE):
            return arg2 is not None and arg2.lower() in _FTS
        return False  # ATTACH, DETACH, temporary objects, COPY, anything unknown
