// Each probe exercises one part of ctx.storage.sql and returns plain JSON saying what every
// call gave back or threw.
import { attemptSync, describe } from "./describe.js";

const rows = (cursor) => describe(cursor.toArray());

export const probes = {
  cursor(sql) {
    sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB)");
    const insert = sql.exec(
      "INSERT INTO t (name, score, data) VALUES ('a', 1.5, x'0102'), ('b', 2, NULL), ('c', NULL, x'')",
    );
    const out = {
      "insert: columnNames": insert.columnNames,
      "insert: rowsRead": insert.rowsRead,
      "insert: rowsWritten": insert.rowsWritten,
      "insert: toArray()": rows(insert),
    };
    const c = sql.exec("SELECT * FROM t ORDER BY id");
    out["select: columnNames before reading"] = c.columnNames;
    out["select: rowsRead before reading"] = c.rowsRead;
    out["select: toArray()"] = rows(c);
    out["select: rowsRead after"] = c.rowsRead;
    out["select: rowsWritten after"] = c.rowsWritten;
    out["select: toArray() again"] = attemptSync(() => c.toArray());
    out["select: next() after the end"] = attemptSync(() => c.next());

    const it = sql.exec("SELECT id, name FROM t ORDER BY id");
    out["next()"] = [it.next(), it.next(), it.next(), it.next(), it.next()].map((r) => describe(r));
    out["for..of"] = (() => {
      const seen = [];
      for (const row of sql.exec("SELECT name FROM t ORDER BY id DESC")) seen.push(row.name);
      return seen;
    })();
    out["cursor is its own iterator"] = (() => {
      const cur = sql.exec("SELECT 1");
      return cur[Symbol.iterator]() === cur;
    })();

    const r = sql.exec("SELECT id, name FROM t ORDER BY id");
    const raw = r.raw();
    out["raw() gives"] = {
      tag: Object.prototype.toString.call(raw),
      isArray: Array.isArray(raw),
      hasToArray: typeof raw.toArray === "function",
      hasNext: typeof raw.next === "function",
    };
    out["raw() rows"] = describe([...raw]);
    out["raw().toArray()"] = attemptSync(() => sql.exec("SELECT id, name FROM t ORDER BY id").raw().toArray());
    out["raw() then toArray() on the same cursor"] = attemptSync(() => {
      const cur = sql.exec("SELECT id FROM t ORDER BY id");
      const first = cur.raw().next();
      return { first, rest: cur.toArray() };
    });
    out["duplicate column names: toArray()"] = rows(sql.exec("SELECT 1 AS a, 2 AS a, 3 AS b"));
    out["duplicate column names: raw()"] = describe([...sql.exec("SELECT 1 AS a, 2 AS a, 3 AS b").raw()]);
    out["duplicate column names: columnNames"] = sql.exec("SELECT 1 AS a, 2 AS a").columnNames;
    out["unnamed expression column"] = rows(sql.exec("SELECT 1 + 1, 'x' || 'y'"));

    out["one() with one row"] = attemptSync(() => sql.exec("SELECT name FROM t WHERE id = 1").one());
    out["one() with no rows"] = attemptSync(() => sql.exec("SELECT name FROM t WHERE id = 99").one());
    out["one() with three rows"] = attemptSync(() => sql.exec("SELECT name FROM t").one());
    out["one() on an INSERT"] = attemptSync(() => sql.exec("INSERT INTO t (name) VALUES ('d')").one());

    out["UPDATE: rowsWritten, rowsRead"] = (() => {
      const cur = sql.exec("UPDATE t SET score = 0 WHERE score IS NULL");
      cur.toArray();
      return { rowsWritten: cur.rowsWritten, rowsRead: cur.rowsRead };
    })();
    out["DELETE: rowsWritten"] = sql.exec("DELETE FROM t WHERE name = 'd'").rowsWritten;
    out["SELECT by primary key: rowsRead"] = (() => {
      const cur = sql.exec("SELECT * FROM t WHERE id = 2");
      cur.toArray();
      return cur.rowsRead;
    })();
    out["SELECT count(*): rowsRead"] = (() => {
      const cur = sql.exec("SELECT count(*) FROM t");
      cur.toArray();
      return cur.rowsRead;
    })();
    out["INSERT ... RETURNING"] = (() => {
      const cur = sql.exec("INSERT INTO t (name) VALUES ('e'), ('f') RETURNING id, name");
      const before = sql.exec("SELECT count(*) AS n FROM t WHERE name IN ('e', 'f')").one().n;
      const returned = cur.toArray();
      return { rowsInTableBeforeReadingTheCursor: before, returned, rowsWritten: cur.rowsWritten };
    })();
    out["a cursor read while another statement runs"] = attemptSync(() => {
      const a = sql.exec("SELECT id FROM t ORDER BY id");
      const first = a.next().value;
      sql.exec("INSERT INTO t (name) VALUES ('g')");
      return { first, rest: a.toArray() };
    });
    return out;
  },

  bindings(sql) {
    const samples = {
      "3": 3, "3.5": 3.5, "-0": -0, "2**53": 2 ** 53, "1e300": 1e300, "NaN": NaN,
      "Infinity": Infinity, "'text'": "text", "''": "", "null": null, "undefined": undefined,
      "true": true, "false": false, "10n": 10n, "2n**63n": 2n ** 63n, "-(2n**63n)": -(2n ** 63n),
      "Uint8Array [1,2,3]": new Uint8Array([1, 2, 3]), "ArrayBuffer [4,5]": new Uint8Array([4, 5]).buffer,
      "Uint8Array view [2,3]": new Uint8Array([1, 2, 3, 4]).subarray(1, 3), "DataView": new DataView(new ArrayBuffer(2)),
      "array [1,2]": [1, 2], "object {a:1}": { a: 1 }, "Date": new Date(0), "symbol": Symbol("s"),
    };
    const out = {};
    for (const [label, value] of Object.entries(samples)) {
      out[label] = attemptSync(() => sql.exec("SELECT ?1 AS v, typeof(?1) AS t", value).one());
    }
    return out;
  },

  "binding-counts"(sql) {
    return {
      "too few": attemptSync(() => sql.exec("SELECT ?, ?", 1).toArray()),
      "too many": attemptSync(() => sql.exec("SELECT ?", 1, 2).toArray()),
      "none given": attemptSync(() => sql.exec("SELECT ? AS v").toArray()),
      "?2 and ?1": attemptSync(() => sql.exec("SELECT ?2 AS two, ?1 AS one", "a", "b").toArray()),
      ":named": attemptSync(() => sql.exec("SELECT :x AS v", 1).toArray()),
      "an object for :named": attemptSync(() => sql.exec("SELECT :x AS v", { x: 1 }).toArray()),
      "$named": attemptSync(() => sql.exec("SELECT $x AS v", 1).toArray()),
    };
  },

  "result-types"(sql) {
    sql.exec("CREATE TABLE n (i INTEGER, r REAL, t TEXT, b BLOB, a ANY)");
    sql.exec("INSERT INTO n VALUES (3, 3, 3, 3, 3)");
    sql.exec("INSERT INTO n VALUES (?, ?, ?, ?, ?)", 3, 3, 3, 3, 3);
    sql.exec("INSERT INTO n VALUES (?, ?, ?, ?, ?)", 2.5, 2.5, 2.5, 2.5, 2.5);
    sql.exec("INSERT INTO n VALUES (?, ?, ?, ?, ?)", "7", "7", "7", "7", "7");
    return {
      "stored types (literal 3; bound 3; bound 2.5; bound '7')": sql
        .exec("SELECT typeof(i) AS i, typeof(r) AS r, typeof(t) AS t, typeof(b) AS b, typeof(a) AS a FROM n")
        .raw().toArray(),
      "read back": describe(sql.exec("SELECT * FROM n").raw().toArray()),
      "SELECT 9007199254740993": attemptSync(() => sql.exec("SELECT 9007199254740993 AS v").one()),
      "SELECT 9223372036854775807": attemptSync(() => sql.exec("SELECT 9223372036854775807 AS v").one()),
      "SELECT -9223372036854775808": attemptSync(() => sql.exec("SELECT -9223372036854775808 AS v").one()),
      "SELECT 1e400": attemptSync(() => sql.exec("SELECT 1e400 AS v").one()),
      "SELECT 0.0 * -1": attemptSync(() => sql.exec("SELECT 0.0 * -1 AS v").one()),
      "SELECT x'00ff'": attemptSync(() => sql.exec("SELECT x'00ff' AS v").one()),
      "SELECT zeroblob(0)": attemptSync(() => sql.exec("SELECT zeroblob(0) AS v").one()),
      "SELECT 'é' || char(0) || 'x'": attemptSync(() => sql.exec("SELECT 'é' || char(0) || 'x' AS v").one()),
      "SELECT CAST(x'ff' AS TEXT)": attemptSync(() => sql.exec("SELECT CAST(x'ff' AS TEXT) AS v").one()),
      "SELECT 1 = 1, NULL": attemptSync(() => sql.exec("SELECT 1 = 1 AS yes, NULL AS nil").one()),
    };
  },

  errors(sql) {
    sql.exec("CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE NOT NULL, age INTEGER CHECK (age >= 0))");
    sql.exec("CREATE TABLE s (n INTEGER) STRICT");
    sql.exec("INSERT INTO u VALUES (1, 'a@example.com', 30)");
    return {
      "syntax error": attemptSync(() => sql.exec("SELEC 1")),
      "syntax error at the end": attemptSync(() => sql.exec("SELECT * FROM")),
      "no such table": attemptSync(() => sql.exec("SELECT * FROM missing")),
      "no such column": attemptSync(() => sql.exec("SELECT nope FROM u")),
      "UNIQUE": attemptSync(() => sql.exec("INSERT INTO u VALUES (2, 'a@example.com', 1)")),
      "PRIMARY KEY": attemptSync(() => sql.exec("INSERT INTO u VALUES (1, 'b@example.com', 1)")),
      "NOT NULL": attemptSync(() => sql.exec("INSERT INTO u (id, age) VALUES (3, 1)")),
      "CHECK": attemptSync(() => sql.exec("INSERT INTO u VALUES (4, 'c@example.com', -1)")),
      "STRICT type": attemptSync(() => sql.exec("INSERT INTO s VALUES ('text')")),
      "table exists": attemptSync(() => sql.exec("CREATE TABLE u (x)")),
      "empty statement": attemptSync(() => sql.exec("")),
      "only a comment": attemptSync(() => sql.exec("-- nothing")),
      "only a semicolon": attemptSync(() => sql.exec(";")),
      "not a string": attemptSync(() => sql.exec(42)),
      "error thrown as": attemptSync(() => {
        try { sql.exec("SELEC 1"); } catch (e) {
          return { isError: e instanceof Error, ownKeys: Object.getOwnPropertyNames(e), ctor: e.constructor.name };
        }
      }),
      "rows after the errors": sql.exec("SELECT id, email FROM u").toArray(),
    };
  },

  "multiple-statements"(sql) {
    const c = sql.exec(
      "CREATE TABLE m (x); INSERT INTO m VALUES (1); INSERT INTO m VALUES (2), (3); SELECT x FROM m ORDER BY x",
    );
    return {
      "rows": describe(c.toArray()),
      "columnNames": c.columnNames,
      "rowsWritten": c.rowsWritten,
      "rowsRead": c.rowsRead,
      "two SELECTs": attemptSync(() => sql.exec("SELECT 1 AS a; SELECT 2 AS b").toArray()),
      "bindings over two statements": attemptSync(() => sql.exec("INSERT INTO m VALUES (?); INSERT INTO m VALUES (?)", 4, 5).toArray()),
      "an error in the middle": attemptSync(() => sql.exec("INSERT INTO m VALUES (6); SELEC 1; INSERT INTO m VALUES (7)")),
      "a runtime error in the middle": attemptSync(() => sql.exec("INSERT INTO m VALUES (8); INSERT INTO nowhere VALUES (1); INSERT INTO m VALUES (9)")),
      "rows at the end": sql.exec("SELECT group_concat(x) AS xs FROM m").one().xs,
      "trailing semicolon and spaces": attemptSync(() => sql.exec("SELECT 1 AS one;  ").toArray()),
    };
  },

  async "internal-tables"(sql, storage) {
    await storage.put("kv-key", "kv-value");
    await storage.setAlarm(Date.now() + 3600_000);
    sql.exec("CREATE TABLE mine (x)");
    return {
      "sqlite_master": sql.exec("SELECT type, name, tbl_name FROM sqlite_master ORDER BY name").toArray(),
      "SELECT FROM _cf_KV": attemptSync(() => sql.exec("SELECT * FROM _cf_KV").toArray()),
      "SELECT FROM _cf_METADATA": attemptSync(() => sql.exec("SELECT * FROM _cf_METADATA").toArray()),
      "CREATE TABLE _cf_mine": attemptSync(() => sql.exec("CREATE TABLE _cf_mine (x)")),
      "CREATE TABLE _CF_upper": attemptSync(() => sql.exec("CREATE TABLE _CF_upper (x)")),
      "DROP TABLE _cf_KV": attemptSync(() => sql.exec("DROP TABLE _cf_KV")),
      "PRAGMA table_list": attemptSync(() => sql.exec("PRAGMA table_list").toArray()),
      "PRAGMA table_info(mine)": attemptSync(() => sql.exec("PRAGMA table_info(mine)").toArray()),
      "PRAGMA foreign_keys": attemptSync(() => sql.exec("PRAGMA foreign_keys").toArray()),
      "PRAGMA journal_mode": attemptSync(() => sql.exec("PRAGMA journal_mode").toArray()),
      "PRAGMA user_version = 3": attemptSync(() => sql.exec("PRAGMA user_version = 3").toArray()),
      "BEGIN": attemptSync(() => sql.exec("BEGIN")),
      "SAVEPOINT": attemptSync(() => sql.exec("SAVEPOINT sp")),
      "ATTACH": attemptSync(() => sql.exec("ATTACH DATABASE 'other.db' AS other")),
      "VACUUM": attemptSync(() => sql.exec("VACUUM")),
      "kv value is still there": await storage.get("kv-key"),
    };
  },

  features(sql) {
    return {
      "sqlite_version()": attemptSync(() => sql.exec("SELECT sqlite_version() AS v").one().v),
      "json_extract": attemptSync(() => sql.exec(`SELECT json_extract('{"a":[1,2]}', '$.a[1]') AS v`).one()),
      "json_object": attemptSync(() => sql.exec("SELECT json_object('a', 1, 'b', 'x') AS v").one()),
      "->> operator": attemptSync(() => sql.exec(`SELECT '{"a":5}' ->> '$.a' AS v`).one()),
      "math functions": attemptSync(() => sql.exec("SELECT sqrt(16) AS v").one()),
      "fts5": attemptSync(() => {
        sql.exec("CREATE VIRTUAL TABLE docs USING fts5(body)");
        sql.exec("INSERT INTO docs VALUES ('hello durable world'), ('goodbye')");
        return sql.exec("SELECT body FROM docs WHERE docs MATCH 'durable'").toArray();
      }),
      "WITHOUT ROWID": attemptSync(() => sql.exec("CREATE TABLE w (k TEXT PRIMARY KEY, v) WITHOUT ROWID").rowsWritten),
      "generated column": attemptSync(() => {
        sql.exec("CREATE TABLE g (a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) STORED)");
        sql.exec("INSERT INTO g (a) VALUES (21)");
        return sql.exec("SELECT b FROM g").one();
      }),
      "upsert": attemptSync(() => {
        sql.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, n INTEGER)");
        for (let i = 0; i < 3; i++) sql.exec("INSERT INTO kv VALUES ('x', 1) ON CONFLICT (k) DO UPDATE SET n = n + 1");
        return sql.exec("SELECT n FROM kv").one();
      }),
      "foreign key enforced": attemptSync(() => {
        sql.exec("CREATE TABLE parent (id INTEGER PRIMARY KEY)");
        sql.exec("CREATE TABLE child (pid INTEGER REFERENCES parent(id))");
        return sql.exec("INSERT INTO child VALUES (99)").rowsWritten;
      }),
      "window function": attemptSync(() => sql.exec("SELECT sum(value) OVER () AS total FROM (SELECT 1 AS value UNION ALL SELECT 2)").toArray()),
      "recursive CTE": attemptSync(() => sql.exec("WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 5) SELECT group_concat(n) AS v FROM c").one()),
    };
  },

  "database-size"(sql, storage) {
    const sizes = { "fresh": sql.databaseSize };
    sql.exec("CREATE TABLE big (x)");
    sizes["after CREATE TABLE"] = sql.databaseSize;
    sql.exec("INSERT INTO big VALUES (zeroblob(100000))");
    sizes["after a 100,000-byte row"] = sql.databaseSize;
    sql.exec("DELETE FROM big");
    sizes["after DELETE"] = sql.databaseSize;
    sizes["typeof"] = typeof sql.databaseSize;
    return sizes;
  },

  "seed"(sql) {
    sql.exec("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT, blob BLOB, n REAL)");
    sql.exec("INSERT INTO notes (body, blob, n) VALUES (?, ?, ?)", "first é 😀", new Uint8Array([9, 8, 7]), 2.25);
    sql.exec("INSERT INTO notes (body, blob, n) VALUES (?, ?, ?)", "second", null, 10);
    return { rows: describe(sql.exec("SELECT * FROM notes ORDER BY id").toArray()) };
  },

  "read"(sql) {
    return { rows: describe(sql.exec("SELECT * FROM notes ORDER BY id").toArray()) };
  },

  async "sql-and-transactions"(sql, storage) {
    sql.exec("CREATE TABLE x (v)");
    const out = {};
    out["transactionSync commits"] = attemptSync(() => storage.transactionSync(() => {
      sql.exec("INSERT INTO x VALUES ('kept')");
    }));
    out["transactionSync throws"] = attemptSync(() => storage.transactionSync(() => {
      sql.exec("INSERT INTO x VALUES ('dropped')");
      throw new Error("undo");
    }));
    out["an error in exec does not undo earlier statements"] = attemptSync(() => {
      sql.exec("INSERT INTO x VALUES ('before the error')");
      sql.exec("INSERT INTO nowhere VALUES (1)");
    });
    out["rows"] = sql.exec("SELECT v FROM x ORDER BY rowid").raw().toArray().map((r) => r[0]);
    return out;
  },
};
