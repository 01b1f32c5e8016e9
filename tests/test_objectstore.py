"""The object databases of Workers projects answer as workerd does at the storage level.

Every expected value comes from the recordings in tests/projects (workerd 1.20260426.1);
each test names the project and probe step it was measured by.
"""

from __future__ import annotations

import os

import pytest
from dobj.errors import DobjError
from dobj.runtime.objectstore import ObjectStore, record_size
from dobj.runtime.sqlexec import first_statement

ID = "ab" * 32
TRANSACTION = (
    "To execute a transaction, please use the state.storage.transaction() or"
    " state.storage.transactionSync() APIs instead of the SQL BEGIN TRANSACTION or SAVEPOINT"
    " statements. The JavaScript API is safer because it will automatically roll back on"
    " exceptions, and because it interacts correctly with Durable Objects' automatic atomic"
    " write coalescing."
)


@pytest.fixture(params=["memory", "file"])
def store(request, tmp_path):
    s = ObjectStore(None if request.param == "memory" else tmp_path)
    yield s
    s.close()


@pytest.fixture
def db(store):
    return store.database("DB", ID)


def error(fn):
    """(JavaScript error name, message) of what ``fn`` raises."""
    with pytest.raises(DobjError) as caught:
        fn()
    return caught.value.js_name, caught.value.message


def sql(db, query, *bindings):
    return db.exec(query, list(bindings))


def rows(db, query, *bindings):
    return sql(db, query, *bindings).rows


# -- KV ---------------------------------------------------------------------------------------
KEYS = ["", "\u0000", "B", "Z", "a", "a\u0000", "b", "e\u0301", "z", "~", "\u00e9", "\u00ff",
        "\u0100", "\u4e2d", "\ue000", "\uffff", "\U0001f600"]


def test_keys_list_in_utf8_byte_order_with_the_empty_key_first(db):
    # storage-api /probe/key-order "list() keys"
    for key in reversed(KEYS):
        db.put(key, "0")
    assert [k for k, _ in db.list()] == KEYS
    assert [k for k, _ in db.list(prefix="a")] == ["a", "a\u0000"]
    assert [k for k, _ in db.list(start="\u00ff", end="\uffff")] == ["\u00ff", "\u0100", "\u4e2d", "\ue000"]
    assert db.get("") == "0"


def test_a_lone_surrogate_key_is_found_by_itself_and_listed_as_three_replacement_characters(db):
    # storage-api /probe/lone-surrogate
    db.put("x\ud800", "1")
    assert db.get("x\ud800") == "1"
    assert db.get("x\ufffd") is None
    assert [k for k, _ in db.list()] == ["x\ufffd\ufffd\ufffd"]
    db.put("v", "x\udc00y")  # inside a value it round-trips
    assert db.get("v") == "x\udc00y"


LIST_OPTIONS = [  # storage-api /probe/list-options, over the keys below
    ({}, ["a", "aa", "ab", "abc", "b", "ba", "c", "d"]),
    ({"prefix": "ab"}, ["ab", "abc"]),
    ({"prefix": ""}, ["a", "aa", "ab", "abc", "b", "ba", "c", "d"]),
    ({"start": "ab"}, ["ab", "abc", "b", "ba", "c", "d"]),
    ({"start_after": "ab"}, ["abc", "b", "ba", "c", "d"]),
    ({"end": "b"}, ["a", "aa", "ab", "abc"]),
    ({"start_after": "a", "end": "abc"}, ["aa", "ab"]),
    ({"start": "b", "end": "b"}, []),
    ({"start": "c", "end": "a"}, []),
    ({"end": ""}, []),
    ({"start": "ab", "prefix": "a"}, ["ab", "abc"]),
    ({"start_after": "ab", "prefix": "a"}, ["abc"]),
    ({"end": "ab", "prefix": "a"}, ["a", "aa"]),
    ({"start": "b", "prefix": "a"}, []),
    ({"reverse": True, "limit": 2}, ["d", "c"]),
    ({"prefix": "a", "reverse": True, "limit": 2}, ["abc", "ab"]),
    ({"start": "ab", "end": "c", "reverse": True}, ["ba", "b", "abc", "ab"]),
    ({"limit": 1.5}, ["a"]),
]


@pytest.mark.parametrize("options, keys", LIST_OPTIONS)
def test_list_options_intersect_as_in_workerd(db, options, keys):
    for i, key in enumerate(["a", "aa", "ab", "abc", "b", "ba", "c", "d"]):
        db.put(key, str(i))
    assert [k for k, _ in db.list(**options)] == keys


def test_list_refuses_start_with_start_after_and_a_limit_below_one(db):
    # storage-api /probe/list-options: TypeErrors
    assert error(lambda: db.list(start="ab", start_after="ab")) == (
        "TypeError", "list() cannot be called with both start and startAfter values.")
    assert error(lambda: db.list(limit=0)) == ("TypeError", "List limit must be positive.")
    assert error(lambda: db.list(limit=-1)) == ("TypeError", "List limit must be positive.")


def test_get_many_sorts_collapses_and_leaves_out_missing_keys_and_delete_many_counts_once(db):
    # storage-api /probe/get-many and /probe/delete
    for key in "abc":
        db.put(key, key.upper())
    assert db.get_many(["b", "a", "missing", "b"]) == [("a", "A"), ("b", "B")]
    assert db.get_many([]) == []
    assert db.delete_many(["b", "c", "missing", "b"]) == 2
    assert db.delete_many([]) == 0
    assert db.delete("a") is True and db.delete("a") is False


def test_the_one_size_limit_is_a_row_of_2200000_bytes_counting_the_values_v8_size(db):
    # storage-api /probe/limits: longest key 2,199,990 (value 1: 4 bytes in V8), longest
    # ASCII string 2,199,986 under a 1-byte key and 2,198,986 under a 1000-byte key (7 bytes
    # of V8 header), longest Uint8Array 2,199,978 (15 bytes)
    too_big = ("Error", "string or blob too big: SQLITE_TOOBIG")
    db.put("k" * 2_199_990, "1", 4)
    assert error(lambda: db.put("k" * 2_199_991, "1", 4)) == too_big
    assert record_size(1, 2_199_986 + 7) == 2_200_000
    db.put("v", "x", 2_199_986 + 7)
    assert error(lambda: db.put("v", "x", 2_199_987 + 7)) == too_big
    db.put("k" * 1000, "x", 2_198_986 + 7)
    assert error(lambda: db.put("k" * 1000, "x", 2_198_987 + 7)) == too_big
    db.put("v", "b", 2_199_978 + 15)
    assert error(lambda: db.put("v", "b", 2_199_979 + 15)) == too_big
    db.put("é" * 1_099_995, "1", 4)  # the same byte length
    assert error(lambda: db.put("é" * 1_099_996, "1", 4)) == too_big
    # "get(key one longer)" is undefined, "delete(key one longer)" false
    assert db.get("k" * 2_199_991) is None and db.delete("k" * 2_199_991) is False
    # our serialized text may be longer than V8's: it is stored whole
    db.put("big", "y" * 3_000_000, 10)
    assert len(db.get("big")) == 3_000_000


def test_put_many_writes_nothing_when_one_row_is_too_big(db):
    # storage-api /probe/clone-errors "list() after": a failing batch writes no key
    with pytest.raises(DobjError):
        db.put_many([("good", "1"), ("bad", "x", 3_000_000)])
    assert db.list() == []
    db.put_many([(f"m{i}", "1") for i in range(1000)])  # /probe/limits "put(1000 entries)"
    assert db.count() == 1000 and db.delete_many(f"m{i}" for i in range(1000)) == 1000


def test_delete_all_leaves_a_fresh_database_without_tables_or_alarm(store, db):
    # storage-api /probe/delete-all: list() and tables empty after, getAlarm() null, works after
    for key in "abc":
        db.put(key, "1")
    db.set_alarm(1_700_000_000_000)
    sql(db, "CREATE TABLE t (x)")
    store.commit()
    db.delete_all()
    assert db.list() == [] and db.get_alarm() is None
    assert rows(db, "SELECT name FROM sqlite_master") == []
    assert db.size == 4096
    db.delete_all()
    db.put("fresh", "1")
    store.commit()
    assert [k for k, _ in store.database("DB", ID).list()] == ["fresh"]


def test_delete_all_is_refused_inside_a_transaction(db):
    # FINDINGS, transactions: txn.deleteAll() (and storage.deleteAll() inside) throw
    db.savepoint()
    assert error(db.delete_all) == ("Error", "Cannot call deleteAll() within a transaction")


# -- transactions -----------------------------------------------------------------------------
def test_rolling_back_a_savepoint_undoes_kv_and_sql_writes_made_in_it(db):
    # storage-api /probe/transaction: txn.rollback() undoes KV and SQL writes
    sql(db, "CREATE TABLE x (v)")
    outer = db.savepoint()
    db.put("kept", "1")
    inner = db.savepoint()
    db.put("dropped", "1")
    sql(db, "INSERT INTO x VALUES ('dropped')")
    db.rollback_to(inner)
    db.release(outer)
    db.rollback_to(inner)  # already ended: nothing happens
    assert [k for k, _ in db.list()] == ["kept"]
    assert rows(db, "SELECT v FROM x") == []


def test_a_first_kv_write_rolled_back_leaves_no_kv_table(db):
    point = db.savepoint()
    db.put("a", "1")
    db.rollback_to(point)
    assert db.get("a") is None and db.list() == []
    assert rows(db, "SELECT name FROM sqlite_master") == []


def test_an_sql_error_does_not_undo_earlier_statements_of_the_event(db):
    # sql-api /probe/sql-and-transactions "rows"
    sql(db, "CREATE TABLE x (v)")
    sql(db, "INSERT INTO x VALUES ('before the error')")
    with pytest.raises(DobjError):
        sql(db, "INSERT INTO nowhere VALUES (1)")
    assert rows(db, "SELECT v FROM x") == [["before the error"]]


def test_committed_writes_survive_closing_and_reopening_the_data_folder(tmp_path):
    store = ObjectStore(tmp_path)
    db = store.database("DB", ID)
    db.put("a", "1")
    sql(db, "CREATE TABLE notes (body TEXT, blob BLOB, n REAL)")
    sql(db, "INSERT INTO notes VALUES (?, ?, ?)", "first é 😀", {"$b": "CQgH"}, 2.25)
    assert store.dirty
    store.commit()
    assert not store.dirty
    store.close()
    again = ObjectStore(tmp_path)
    assert again.existing() == [("DB", ID)]
    db = again.database("DB", ID)
    # sql-api /probe/read after a restart gives the seeded row back
    assert rows(db, "SELECT * FROM notes") == [["first é 😀", {"$b": "CQgH"}, 2.25]]
    assert db.get("a") == "1" and db.keys() == ["a"] and db.tables() == [("notes", 1)]
    assert (tmp_path / "objects" / "DB" / f"{ID}.sqlite").exists()
    again.close()


def test_uncommitted_writes_are_not_kept_by_a_closed_connection(tmp_path):
    store = ObjectStore(tmp_path)
    db = store.database("DB", ID)
    db.put("a", "1")
    db.db.close()  # as a killed process would leave it
    again = ObjectStore(tmp_path)
    assert again.database("DB", ID).list() == []
    again.close()


def test_only_a_limited_number_of_idle_databases_stay_open(tmp_path):
    store = ObjectStore(tmp_path, max_open=3)
    for i in range(6):
        store.database("DB", f"{i:064x}").put("k", str(i))
        store.commit()
    assert len(store._open) == 3
    assert store.database("DB", f"{0:064x}").get("k") == "0"
    store.close()


# -- SQL: results and bindings ----------------------------------------------------------------
def test_bindings_numbers_bind_as_real_and_text_blob_null_as_given(db):
    # sql-api /probe/bindings: every number is REAL, booleans arrive as text
    cases = [
        (3, [3.0, "real"]), (3.5, [3.5, "real"]), ({"$r": "-0"}, [-0.0, "real"]),
        (2**53, [9007199254740992.0, "real"]), (1e300, [1e300, "real"]), (None, [None, "null"]),
        ({"$r": "NaN"}, [None, "null"]), ({"$r": "Infinity"}, [{"$n": "Infinity"}, "real"]),
        ("text", ["text", "text"]), ("", ["", "text"]), (True, ["true", "text"]),
        ({"$b": "AQID"}, [{"$b": "AQID"}, "blob"]), ("[object Object]", ["[object Object]", "text"]),
    ]
    for value, expected in cases:
        assert rows(db, "SELECT ?1 AS v, typeof(?1) AS t", value) == [expected], value
    assert str(rows(db, "SELECT ?1 AS v", {"$r": "-0"})[0][0]) == "-0.0"


def test_binding_counts_must_match_and_named_parameters_are_positional(db):
    # sql-api /probe/binding-counts
    wrong = ("Error", "Wrong number of parameter bindings for SQL query.")
    assert error(lambda: sql(db, "SELECT ?, ?", 1)) == wrong
    assert error(lambda: sql(db, "SELECT ?", 1, 2)) == wrong
    assert error(lambda: sql(db, "SELECT ? AS v")) == wrong
    assert rows(db, "SELECT ?2 AS two, ?1 AS one", "a", "b") == [["b", "a"]]
    assert rows(db, "SELECT :x AS v", 1) == rows(db, "SELECT $x AS v", 1) == [[1.0]]


def test_result_types_as_javascript_reads_them(db):
    # sql-api /probe/result-types
    sql(db, "CREATE TABLE n (i INTEGER, r REAL, t TEXT, b BLOB, a ANY)")
    sql(db, "INSERT INTO n VALUES (3, 3, 3, 3, 3)")
    sql(db, "INSERT INTO n VALUES (?, ?, ?, ?, ?)", 3, 3, 3, 3, 3)
    sql(db, "INSERT INTO n VALUES (?, ?, ?, ?, ?)", 2.5, 2.5, 2.5, 2.5, 2.5)
    sql(db, "INSERT INTO n VALUES (?, ?, ?, ?, ?)", "7", "7", "7", "7", "7")
    assert rows(db, "SELECT typeof(i), typeof(r), typeof(t), typeof(b), typeof(a) FROM n") == [
        ["integer", "real", "text", "integer", "integer"], ["integer", "real", "text", "real", "integer"],
        ["real", "real", "text", "real", "real"], ["integer", "real", "text", "text", "integer"]]
    assert [row[2] for row in rows(db, "SELECT * FROM n")] == ["3", "3.0", "2.5", "7"]
    one = lambda q: rows(db, q)[0][0]
    assert one("SELECT 9007199254740993") == 9007199254740992
    assert one("SELECT 9223372036854775807") == 9223372036854775807.0
    assert one("SELECT 1e400") == {"$n": "Infinity"}
    assert str(one("SELECT 0.0 * -1")) == "-0.0"
    assert one("SELECT x'00ff'") == {"$b": "AP8="} and one("SELECT zeroblob(0)") == {"$b": ""}
    assert one("SELECT 'é' || char(0) || 'x'") == "é\u0000x"
    assert one("SELECT CAST(x'ff' AS TEXT)") == "\ufffd"
    assert rows(db, "SELECT 1 = 1 AS yes, NULL AS nil") == [[1, None]]


def test_column_names_keep_duplicates_and_name_expressions_by_their_text(db):
    # sql-api /probe/cursor
    assert sql(db, "SELECT 1 AS a, 2 AS a").columns == ["a", "a"]
    assert sql(db, "SELECT 1 + 1, 'x' || 'y'").columns == ["1 + 1", "'x' || 'y'"]


# -- SQL: errors ------------------------------------------------------------------------------
ERRORS = [  # sql-api /probe/errors
    ("SELEC 1", 'near "SELEC": syntax error at offset 0: SQLITE_ERROR'),
    ("SELECT * FROM", "incomplete input: SQLITE_ERROR"),
    ("SELECT * FROM missing", "no such table: missing: SQLITE_ERROR"),
    ("SELECT nope FROM u", "no such column: nope at offset 7: SQLITE_ERROR"),
    ("INSERT INTO u VALUES (2, 'a@example.com', 1)",
     "UNIQUE constraint failed: u.email: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_UNIQUE)"),
    ("INSERT INTO u VALUES (1, 'b@example.com', 1)",
     "UNIQUE constraint failed: u.id: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_PRIMARYKEY)"),
    ("INSERT INTO u (id, age) VALUES (3, 1)",
     "NOT NULL constraint failed: u.email: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_NOTNULL)"),
    ("INSERT INTO u VALUES (4, 'c@example.com', -1)",
     "CHECK constraint failed: age >= 0: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_CHECK)"),
    ("INSERT INTO s VALUES ('text')",
     "cannot store TEXT value in INTEGER column s.n: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_DATATYPE)"),
    ("CREATE TABLE u (x)", "table u already exists at offset 13: SQLITE_ERROR"),
    ("", "SQL code did not contain a statement."),
    ("-- nothing", "SQL code did not contain a statement."),
    (";", "SQL code did not contain a statement."),
    ("42", 'near "42": syntax error at offset 0: SQLITE_ERROR'),
    # /probe/features and /probe/internal-tables
    ("SELECT sqlite_version() AS v", "not authorized to use function: sqlite_version at offset 7: SQLITE_ERROR"),
    ("SELECT * FROM _cf_KV", "access to _cf_KV.key is prohibited: SQLITE_AUTH"),
    ("SELECT * FROM _cf_METADATA", "access to _cf_METADATA.key is prohibited: SQLITE_AUTH"),
    ("CREATE TABLE _cf_mine (x)", "not authorized: SQLITE_AUTH"),
    ("DROP TABLE _cf_KV", "not authorized: SQLITE_AUTH"),
    ("PRAGMA journal_mode", "not authorized: SQLITE_AUTH"),
    ("PRAGMA user_version = 3", "not authorized: SQLITE_AUTH"),
    ("ATTACH DATABASE 'other.db' AS other", "not authorized: SQLITE_AUTH"),
    ("BEGIN", TRANSACTION),
    ("SAVEPOINT sp", TRANSACTION),
    ("VACUUM", "cannot VACUUM from within a transaction: SQLITE_ERROR"),
    ("INSERT INTO child VALUES (99)",
     "FOREIGN KEY constraint failed: SQLITE_CONSTRAINT (extended: SQLITE_CONSTRAINT_FOREIGNKEY)"),
]


@pytest.mark.parametrize("query, message", ERRORS)
def test_sql_errors_carry_workerds_message_as_a_plain_error(db, query, message):
    sql(db, "CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, age INTEGER CHECK (age >= 0))")
    sql(db, "CREATE TABLE s (n INTEGER) STRICT")
    sql(db, "INSERT INTO u VALUES (1, 'a@example.com', 30)")
    sql(db, "CREATE TABLE parent (id INTEGER PRIMARY KEY); CREATE TABLE child (pid INTEGER REFERENCES parent(id))")
    db.put("kv-key", "kv-value")
    db.set_alarm(1_700_000_000_000)
    assert error(lambda: sql(db, query)) == ("Error", message)
    assert rows(db, "SELECT id, email FROM u") == [[1, "a@example.com"]]  # "rows after the errors"
    assert db.get("kv-key") == "kv-value"  # "kv value is still there"


def test_internal_tables_are_listed_and_pragmas_on_user_tables_work(db):
    # sql-api /probe/internal-tables
    db.put("kv-key", "kv-value")
    db.set_alarm(1_700_000_000_000)
    sql(db, "CREATE TABLE mine (x)")
    assert rows(db, "SELECT type, name, tbl_name FROM sqlite_master ORDER BY name") == [
        ["table", "_cf_KV", "_cf_KV"], ["table", "_cf_METADATA", "_cf_METADATA"], ["table", "mine", "mine"]]
    sql(db, "CREATE TABLE _CF_upper (x)")  # another case is allowed
    assert [r[1:5] for r in rows(db, "PRAGMA table_list")] == [
        ["_CF_upper", "table", 1, 0], ["mine", "table", 1, 0], ["_cf_METADATA", "table", 2, 0],
        ["_cf_KV", "table", 2, 1], ["sqlite_schema", "table", 5, 0], ["sqlite_temp_schema", "table", 5, 0]]
    assert rows(db, "PRAGMA table_info(mine)") == [[0, "x", "", 0, None, 0]]
    assert rows(db, "PRAGMA foreign_keys") == [[1]]
    assert db.tables() == [("_CF_upper", 0), ("mine", 0)]


def test_json_math_fts5_generated_columns_upserts_windows_and_recursive_ctes_work(db):
    # sql-api /probe/features
    one = lambda q: rows(db, q)[0][0]
    assert one("""SELECT json_extract('{"a":[1,2]}', '$.a[1]')""") == 2
    assert one("SELECT json_object('a', 1, 'b', 'x')") == '{"a":1,"b":"x"}'
    assert one("""SELECT '{"a":5}' ->> '$.a'""") == 5
    assert one("SELECT sqrt(16)") == 4
    sql(db, "CREATE VIRTUAL TABLE docs USING fts5(body)")
    sql(db, "INSERT INTO docs VALUES ('hello durable world'), ('goodbye')")
    assert rows(db, "SELECT body FROM docs WHERE docs MATCH 'durable'") == [["hello durable world"]]
    assert sql(db, "CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID").rows_written == 2
    sql(db, "CREATE TABLE g (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED)")
    sql(db, "INSERT INTO g (a) VALUES (21)")
    assert one("SELECT b FROM g") == 42
    sql(db, "CREATE TABLE kv (k TEXT PRIMARY KEY, n INTEGER)")
    for _ in range(3):
        sql(db, "INSERT INTO kv VALUES ('x', 1) ON CONFLICT (k) DO UPDATE SET n = n + 1")
    assert one("SELECT n FROM kv") == 3
    assert rows(db, "SELECT sum(value) OVER () AS total FROM (SELECT 1 AS value UNION ALL SELECT 2)") == [[3], [3]]
    assert one("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5)"
               " SELECT group_concat(n) FROM c") == "1,2,3,4,5"


def test_several_statements_run_in_order_and_the_cursor_holds_the_last_ones_rows(db):
    # sql-api /probe/multiple-statements
    c = sql(db, "CREATE TABLE m (x); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2), (3); SELECT x FROM m ORDER BY x")
    assert (c.columns, c.rows, c.rows_written, c.rows_read) == (["x"], [[1], [2], [3]], 0, 6)
    assert rows(db, "SELECT 1 AS a; SELECT 2 AS b") == [[2]]
    assert error(lambda: sql(db, "INSERT INTO m VALUES (?); INSERT INTO m VALUES (?)", 4, 5)) == (
        "Error", "When executing multiple SQL statements in a single call, only the last statement can have parameters.")
    assert error(lambda: sql(db, "INSERT INTO m VALUES (6); SELEC 1; INSERT INTO m VALUES (7)")) == (
        "Error", 'near "SELEC": syntax error at offset 0: SQLITE_ERROR')
    assert error(lambda: sql(db, "INSERT INTO m VALUES (8); INSERT INTO nowhere VALUES (1); INSERT INTO m VALUES (9)")) == (
        "Error", "no such table: nowhere: SQLITE_ERROR")
    assert rows(db, "SELECT group_concat(x) AS xs FROM m") == [["1,2,3,6,8"]]
    assert rows(db, "SELECT 1 AS one;  ") == [[1]]


def test_statements_split_where_sqlites_prepare_ends_them():
    assert first_statement("SELECT ';'; SELECT 2") == ("SELECT ';';", " SELECT 2")
    assert first_statement(";; SELECT 1; x") == (";; SELECT 1;", " x")
    trigger = "CREATE TRIGGER t AFTER INSERT ON a BEGIN INSERT INTO b VALUES (1); END;"
    assert first_statement(trigger + " SELECT 1") == (trigger, " SELECT 1")
    assert first_statement("/* a; */ -- b;\n") is None


def test_a_trailing_comment_after_the_last_statement_is_a_statement_missing(db):
    # workerd skips only blanks after a statement, then finds no statement in the comment
    assert error(lambda: sql(db, "SELECT 1; -- done")) == ("Error", "SQL code did not contain a statement.")


# -- SQL: counters and size -------------------------------------------------------------------
def test_rows_read_and_written_match_the_recorded_cursor(db):
    # sql-api /probe/cursor
    sql(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)")
    insert = sql(db, "INSERT INTO t (name, score, data) VALUES ('a', 1.5, x'0102'), ('b', 2, NULL), ('c', NULL, x'')")
    assert (insert.columns, insert.rows_read, insert.rows_written) == ([], 0, 3)
    select = sql(db, "SELECT * FROM t ORDER BY id")
    assert (select.rows_read_first, select.rows_read, select.rows_written) == (1, 3, 0)
    assert select.rows == [[1, "a", 1.5, {"$b": "AQI="}], [2, "b", 2, None], [3, "c", None, {"$b": ""}]]
    sql(db, "INSERT INTO t (name) VALUES ('d')")
    update = sql(db, "UPDATE t SET score = 0 WHERE score IS NULL")
    assert (update.rows_written, update.rows_read) == (2, 4)
    assert sql(db, "DELETE FROM t WHERE name = 'd'").rows_written == 1
    assert sql(db, "SELECT * FROM t WHERE id = 2").rows_read == 1
    assert sql(db, "SELECT count(*) FROM t").rows_read == 3
    returning = sql(db, "INSERT INTO t (name) VALUES ('e'), ('f') RETURNING id, name")
    assert (returning.rows, returning.rows_written) == ([[4, "e"], [5, "f"]], 2)


def test_database_size_counts_pages_in_use(db):
    # sql-api /probe/database-size
    sizes = [db.size]
    sql(db, "CREATE TABLE big (x)")
    sizes.append(db.size)
    sql(db, "INSERT INTO big VALUES (zeroblob(100000))")
    sizes.append(db.size)
    sql(db, "DELETE FROM big")
    sizes.append(db.size)
    assert sizes == [4096, 8192, 106496, 8192]


def test_a_user_statement_cannot_borrow_the_runtimes_own_prepared_statements(db):
    db.put("secret", "1")
    from dobj.runtime.sqlexec import TAG
    assert error(lambda: sql(db, "SELECT value FROM _cf_KV WHERE key = CAST(? AS TEXT)", "secret"))[1] == (
        "access to _cf_KV.value is prohibited: SQLITE_AUTH")
    assert TAG.strip().startswith("/*")


def test_sql_values_longer_than_workerds_limit_are_too_big(db):
    assert error(lambda: sql(db, "SELECT zeroblob(2200001)")) == ("Error", "string or blob too big: SQLITE_TOOBIG")
    assert rows(db, "SELECT length(zeroblob(2200000))") == [[2200000]]


def test_the_object_folders_hold_one_database_per_object(tmp_path):
    store = ObjectStore(tmp_path)
    store.database("A", "1" * 64).put("k", "1")
    store.database("B/C", "2" * 64).put("k", "1")
    store.close()
    assert sorted(os.listdir(tmp_path / "objects")) == ["A", "B%2FC"]
    assert ObjectStore(tmp_path).existing() == [("A", "1" * 64), ("B/C", "2" * 64)]
