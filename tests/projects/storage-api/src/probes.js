// Each probe exercises one part of the storage API inside a Durable Object and returns
// plain JSON saying what every call gave back or threw.
import { attempt, attemptSync, describe } from "./describe.js";

const keysOf = (map) => [...map.keys()];

// A Map read back from storage, shown as [key, described value] pairs.
const entries = (map) => [...map].map(([k, v]) => [k, describe(v)]);

export const probes = {
  async "get-missing"(storage) {
    return {
      "get('missing')": await attempt(() => storage.get("missing")),
      "get(['missing'])": await attempt(() => storage.get(["missing"])),
      "get([])": await attempt(() => storage.get([])),
      "kv.get('missing')": attemptSync(() => storage.kv.get("missing")),
    };
  },

  async "get-many"(storage) {
    await storage.put({ c: 3, a: 1, b: 2 });
    return {
      "get(['c','a','zz','a','b'])": await attempt(() => storage.get(["c", "a", "zz", "a", "b"])),
      "get(['b'])": await attempt(() => storage.get(["b"])),
      "get('a')": await attempt(() => storage.get("a")),
    };
  },

  async "put-entries"(storage) {
    return {
      "put({one, two, three})": await attempt(() => storage.put({ one: 1, two: "2", three: [3] })),
      "list() after": entries(await storage.list()),
      "put({})": await attempt(() => storage.put({})),
      "put({u: undefined})": await attempt(() => storage.put({ u: undefined })),
      "get('u')": await attempt(() => storage.get("u")),
      "put('u2', undefined)": await attempt(() => storage.put("u2", undefined)),
      "get('u2')": await attempt(() => storage.get("u2")),
      "put('n', null)": await attempt(() => storage.put("n", null)),
      "get('n')": await attempt(() => storage.get("n")),
      "put(1, 'number key')": await attempt(() => storage.put(1, "number key")),
      "get('1')": await attempt(() => storage.get("1")),
      "put('p')": await attempt(() => storage.put("p")),
      "list() at the end": keysOf(await storage.list()),
    };
  },

  async delete(storage) {
    await storage.put({ a: 1, b: 2, c: 3, d: 4 });
    return {
      "delete('a')": await attempt(() => storage.delete("a")),
      "delete('a') again": await attempt(() => storage.delete("a")),
      "delete(['b','c','missing','b'])": await attempt(() => storage.delete(["b", "c", "missing", "b"])),
      "delete([])": await attempt(() => storage.delete([])),
      "kv.delete('d')": attemptSync(() => storage.kv.delete("d")),
      "kv.delete('d') again": attemptSync(() => storage.kv.delete("d")),
      "list() after": keysOf(await storage.list()),
    };
  },

  async "list-options"(storage) {
    const keys = ["a", "aa", "ab", "abc", "b", "ba", "c", "d"];
    await storage.put(Object.fromEntries(keys.map((k, i) => [k, i])));
    const cases = [
      {}, { prefix: "a" }, { prefix: "ab" }, { prefix: "" }, { prefix: "x" },
      { start: "ab" }, { startAfter: "ab" }, { end: "b" }, { start: "ab", end: "b" },
      { startAfter: "a", end: "abc" }, { start: "b", end: "b" }, { start: "c", end: "a" },
      { start: "zzz" }, { start: "" }, { end: "" }, { start: "ab", prefix: "a" },
      { startAfter: "ab", prefix: "a" }, { end: "ab", prefix: "a" }, { start: "b", prefix: "a" },
      { reverse: true }, { reverse: true, limit: 2 }, { limit: 3 }, { limit: 1 },
      { prefix: "a", reverse: true, limit: 2 }, { start: "ab", end: "c", reverse: true },
      { start: "ab", startAfter: "ab" }, { limit: 0 }, { limit: -1 }, { limit: 1.5 },
      { limit: "2" }, { prefix: 5 }, { reverse: "yes" }, { unknownOption: true },
    ];
    const out = {};
    for (const options of cases) {
      const r = await attempt(async () => keysOf(await storage.list(options)));
      out[JSON.stringify(options)] = r.ok ? r.ok.items.map((i) => i.value) : r;
    }
    out["list() values"] = entries(await storage.list({ limit: 2 }));
    return out;
  },

  async "key-order"(storage) {
    const keys = ["a", "B", "b", "Z", "z", "~", "é", "e\u0301", "\u00ff", "\u0100", "中",
      "\ue000", "\uffff", "😀", "a\u0000", "\u0000", ""];
    const puts = {};
    for (const k of keys) {
      const r = await attempt(() => storage.put(k, k.length));
      if (r.error) puts[JSON.stringify(k)] = r;
    }
    const listed = keysOf(await storage.list());
    return {
      "failed puts": puts,
      "list() keys": listed,
      "list() code points": listed.map((k) => [...k].map((c) => c.codePointAt(0).toString(16)).join(" ")),
      "get('')": await attempt(() => storage.get("")),
      "list({prefix: 'a'})": keysOf(await storage.list({ prefix: "a" })),
      "list({start: '\\u00ff', end: '\\uffff'})": keysOf(await storage.list({ start: "\u00ff", end: "\uffff" })),
    };
  },

  async "key-order-read"(storage) {
    return { "list() keys": keysOf(await storage.list()) };
  },

  async "lone-surrogate"(storage) {
    return {
      "put('x\\ud800', 1)": await attempt(() => storage.put("x\ud800", 1)),
      "get('x\\ud800')": await attempt(() => storage.get("x\ud800")),
      "get('x\\ufffd')": await attempt(() => storage.get("x\ufffd")),
      "list() keys": keysOf(await storage.list()).map((k) => [...k].map((c) => c.codePointAt(0).toString(16)).join(" ")),
      "put('v', 'x\\udc00y')": await attempt(() => storage.put("v", "x\udc00y")),
      "get('v') code units": await attempt(async () => {
        const v = await storage.get("v");
        return Array.from({ length: v.length }, (_, i) => v.charCodeAt(i).toString(16)).join(" ");
      }),
    };
  },

  async "delete-all"(storage, ctx) {
    await storage.put({ a: 1, b: 2 });
    storage.kv.put("c", 3);
    storage.sql.exec("CREATE TABLE t (x)");
    storage.sql.exec("INSERT INTO t VALUES (1)");
    await storage.setAlarm(Date.now() + 3600_000);
    const before = { keys: keysOf(await storage.list()), alarmSet: (await storage.getAlarm()) !== null };
    const result = await attempt(() => storage.deleteAll());
    return {
      before,
      "deleteAll()": result,
      "list() after": keysOf(await storage.list()),
      "getAlarm() after": await attempt(() => storage.getAlarm()),
      "tables after": storage.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").toArray().map((r) => r.name),
      "deleteAll() again": await attempt(() => storage.deleteAll()),
      "put after deleteAll": await attempt(() => storage.put("fresh", 1)),
      "list() at the end": keysOf(await storage.list()),
    };
  },

  async types(storage) {
    const out = {};
    for (const [key, value] of Object.entries(typeSamples())) {
      const put = await attempt(() => storage.put(key, value));
      out[key] = put.error ? { put } : describe(await storage.get(key));
    }
    return out;
  },

  async "types-read"(storage) {
    const out = {};
    for (const [key, value] of await storage.list()) out[key] = describe(value);
    return out;
  },

  async "clone-errors"(storage) {
    return {
      "put('f', function)": await attempt(() => storage.put("f", function namedFn() {})),
      "put('a', arrow)": await attempt(() => storage.put("a", () => 1)),
      "put('s', symbol)": await attempt(() => storage.put("s", Symbol("tag"))),
      "put('o', {method})": await attempt(() => storage.put("o", { x: 1, m() {} })),
      "put('w', WeakMap)": await attempt(() => storage.put("w", new WeakMap())),
      "put('p', Promise)": await attempt(() => storage.put("p", Promise.resolve(1))),
      "put('r', Request)": await attempt(() => storage.put("r", new Request("https://example.com/"))),
      "get('r')": await attempt(() => storage.get("r")),
      "put({good, bad: function})": await attempt(() => storage.put({ good: 1, bad: () => 1 })),
      "kv.put('k', function)": attemptSync(() => storage.kv.put("k", () => 1)),
      "list() after": keysOf(await storage.list()),
    };
  },

  async transaction(storage) {
    const sql = storage.sql;
    sql.exec("CREATE TABLE t (x)");
    const rows = () => sql.exec("SELECT count(*) AS n FROM t").one().n;
    const out = {};
    out["rollback: result"] = await attempt(() => storage.transaction(async (txn) => {
      await txn.put("a", 1);
      sql.exec("INSERT INTO t VALUES (1)");
      const seen = await txn.get("a");
      const seenOutside = await storage.get("a");
      txn.rollback();
      return { seen, seenOutside };
    }));
    out["rollback: get('a') after"] = await attempt(() => storage.get("a"));
    out["rollback: rows in t after"] = rows();
    out["throw: result"] = await attempt(() => storage.transaction(async (txn) => {
      await txn.put("b", 1);
      sql.exec("INSERT INTO t VALUES (2)");
      throw new RangeError("boom");
    }));
    out["throw: get('b') after"] = await attempt(() => storage.get("b"));
    out["throw: rows in t after"] = rows();
    out["commit: result"] = await attempt(() => storage.transaction(async (txn) => {
      await txn.put({ c: 1, d: 2 });
      const deleted = await txn.delete("d");
      const listed = [...(await txn.list())].map(([k]) => k);
      sql.exec("INSERT INTO t VALUES (3)");
      return { deleted, listed };
    }));
    out["commit: list() after"] = keysOf(await storage.list());
    out["commit: rows in t after"] = rows();
    out["put after rollback"] = await attempt(() => storage.transaction(async (txn) => {
      txn.rollback();
      await txn.put("e", 1);
      return "returned";
    }));
    out["put after rollback: get('e')"] = await attempt(() => storage.get("e"));
    out["rollback twice"] = await attempt(() => storage.transaction(async (txn) => {
      txn.rollback();
      txn.rollback();
      return "returned";
    }));
    out["txn.deleteAll()"] = await attempt(() => storage.transaction((txn) => txn.deleteAll()));
    out["txn.getAlarm()"] = await attempt(() => storage.transaction((txn) => txn.getAlarm()));
    out["nested transaction"] = await attempt(() => storage.transaction(async (outer) => {
      await outer.put("n1", 1);
      const inner = await storage.transaction(async (txn) => {
        await txn.put("n2", 2);
        txn.rollback();
        return "inner done";
      });
      return { inner };
    }));
    out["nested: list() after"] = keysOf(await storage.list());
    out["sync callback"] = await attempt(() => storage.transaction((txn) => {
      txn.put("s", 1);
      return 7;
    }));
    out["sync callback: get('s')"] = await attempt(() => storage.get("s"));
    return out;
  },

  async "transaction-sync"(storage) {
    const { sql, kv } = storage;
    sql.exec("CREATE TABLE t (x)");
    const rows = () => sql.exec("SELECT group_concat(x) AS xs FROM t").one().xs;
    const out = {};
    out["commit"] = attemptSync(() => storage.transactionSync(() => {
      kv.put("a", 1);
      sql.exec("INSERT INTO t VALUES (1)");
      return 42;
    }));
    out["throw"] = attemptSync(() => storage.transactionSync(() => {
      kv.put("b", 1);
      sql.exec("INSERT INTO t VALUES (2)");
      throw new Error("nope");
    }));
    out["throw: kv.get('b')"] = attemptSync(() => kv.get("b"));
    out["nested, inner throws and is caught"] = attemptSync(() => storage.transactionSync(() => {
      sql.exec("INSERT INTO t VALUES (3)");
      let inner;
      try {
        storage.transactionSync(() => {
          sql.exec("INSERT INTO t VALUES (4)");
          throw new TypeError("inner");
        });
      } catch (e) {
        inner = `${e.name}: ${e.message}`;
      }
      return inner;
    }));
    const asyncResult = storage.transactionSync(async () => {
      sql.exec("INSERT INTO t VALUES (5)");
      await null;
      sql.exec("INSERT INTO t VALUES (6)");
      return "async";
    });
    out["async callback returns"] = describe(asyncResult);
    out["async callback settles to"] = await attempt(() => asyncResult);
    out["async put inside"] = await attempt(async () => {
      const p = storage.transactionSync(() => storage.put("c", 3));
      return { returned: describe(p), settled: describe(await p) };
    });
    out["transaction() inside"] = await attempt(() => storage.transactionSync(() => storage.transaction(async () => 1)));
    out["rows in t"] = rows();
    out["keys"] = keysOf(await storage.list());
    return out;
  },

  async "kv-sync"(storage) {
    const { kv } = storage;
    const out = {};
    out["kv.get('missing')"] = attemptSync(() => kv.get("missing"));
    out["kv.put('a', {x: 1})"] = attemptSync(() => kv.put("a", { x: 1 }));
    out["kv.get('a')"] = attemptSync(() => kv.get("a"));
    out["kv.put('b', Map)"] = attemptSync(() => kv.put("b", new Map([[1, "one"]])));
    out["kv.put('ab', 3)"] = attemptSync(() => kv.put("ab", 3));
    out["await get('b') (async API sees it)"] = await attempt(() => storage.get("b"));
    await storage.put("c", "from async put");
    out["kv.get('c') (sees the async put)"] = attemptSync(() => kv.get("c"));
    const it = kv.list();
    out["kv.list() gives"] = {
      tag: Object.prototype.toString.call(it),
      isMap: it instanceof Map,
      isArray: Array.isArray(it),
      iterable: typeof it?.[Symbol.iterator] === "function",
      hasNext: typeof it?.next === "function",
    };
    out["[...kv.list()]"] = [...it].map(([k, v]) => [k, describe(v)]);
    out["[...kv.list()] again on the same iterator"] = [...it].length;
    out["kv.list({prefix: 'a'})"] = [...kv.list({ prefix: "a" })].map(([k]) => k);
    out["kv.list({reverse: true, limit: 2})"] = [...kv.list({ reverse: true, limit: 2 })].map(([k]) => k);
    out["kv.list({start: 'ab', end: 'c'})"] = [...kv.list({ start: "ab", end: "c" })].map(([k]) => k);
    out["kv.list({startAfter: 'ab'})"] = attemptSync(() => [...kv.list({ startAfter: "ab" })].map(([k]) => k));
    out["kv.list({start, startAfter})"] = attemptSync(() => [...kv.list({ start: "a", startAfter: "a" })]);
    out["kv.list({limit: 0})"] = attemptSync(() => [...kv.list({ limit: 0 })]);
    out["kv.get(['a', 'b'])"] = attemptSync(() => kv.get(["a", "b"]));
    out["kv.put({x: 1})"] = attemptSync(() => kv.put({ x: 1 }));
    out["kv.put('u', undefined)"] = attemptSync(() => kv.put("u", undefined));
    out["kv.get('u')"] = attemptSync(() => kv.get("u"));
    out["kv.delete('a')"] = attemptSync(() => kv.delete("a"));
    out["kv.delete('a') again"] = attemptSync(() => kv.delete("a"));
    out["kv.delete(['b', 'c'])"] = attemptSync(() => kv.delete(["b", "c"]));
    out["keys at the end"] = keysOf(await storage.list());
    return out;
  },

  async limits(storage) {
    // the longest ASCII key / string value that put() accepts, by bisection
    const longest = async (lo, hi, ok) => {
      while (lo < hi) {
        const mid = Math.ceil((lo + hi) / 2);
        if (await ok(mid)) lo = mid;
        else hi = mid - 1;
      }
      return lo;
    };
    const accepts = (f) => async (n) => !(await attempt(() => f(n))).error;
    const maxKey = await longest(1, 1 << 23, accepts((n) => storage.put("k".repeat(n), 1)));
    const maxValue = await longest(1, 1 << 23, accepts((n) => storage.put("v", "x".repeat(n))));
    const maxBytes = await longest(1, 1 << 23, accepts((n) => storage.put("v", new Uint8Array(n))));
    const key1000 = "k".repeat(1000);
    const maxValueKey1000 = await longest(1, 1 << 23, accepts((n) => storage.put(key1000, "x".repeat(n))));
    await storage.delete(["v", "k".repeat(maxKey), key1000]);
    const many = (n) => Array.from({ length: n }, (_, i) => `m${i}`);
    return {
      "longest ASCII key accepted": maxKey,
      "put(key one longer)": await attempt(() => storage.put("k".repeat(maxKey + 1), 1)),
      "get(key one longer)": await attempt(() => storage.get("k".repeat(maxKey + 1))),
      "delete(key one longer)": await attempt(() => storage.delete("k".repeat(maxKey + 1))),
      "kv.put(key one longer)": attemptSync(() => storage.kv.put("k".repeat(maxKey + 1), 1)),
      "put(key of é, same byte length)": await attempt(() => storage.put("é".repeat(maxKey / 2), 1)),
      "put(key of é, 2 bytes longer)": await attempt(() => storage.put("é".repeat(maxKey / 2 + 1), 1)),
      "longest ASCII string value accepted": maxValue,
      "put(string value one longer)": await attempt(() => storage.put("v", "x".repeat(maxValue + 1))),
      "kv.put(string value one longer)": attemptSync(() => storage.kv.put("v", "x".repeat(maxValue + 1))),
      "longest Uint8Array value accepted": maxBytes,
      "longest ASCII string value accepted under a 1000-byte key": maxValueKey1000,
      "put(129 entries)": await attempt(() => storage.put(Object.fromEntries(many(129).map((k) => [k, 1])))),
      "get(129 keys) size": await attempt(async () => (await storage.get(many(129))).size),
      "delete(129 keys)": await attempt(() => storage.delete(many(129))),
      "put(1000 entries)": await attempt(() => storage.put(Object.fromEntries(many(1000).map((k) => [k, 1])))),
      "delete(1000 keys)": await attempt(() => storage.delete(many(1000))),
    };
  },

  async misc(storage) {
    return {
      "sync()": await attempt(() => storage.sync()),
      "getAlarm() fresh": await attempt(() => storage.getAlarm()),
      "put returns": await attempt(() => storage.put("a", 1)),
      "put with options": await attempt(() => storage.put("b", 2, { allowUnconfirmed: true, noCache: true })),
      "get with options": await attempt(() => storage.get("b", { allowConcurrency: true })),
      "deleteAlarm() with none set": await attempt(() => storage.deleteAlarm()),
      "get() without a key": await attempt(() => storage.get()),
      "list() returns a Map": (await storage.list()) instanceof Map,
    };
  },
};

function typeSamples() {
  const cyclic = { name: "cyclic" };
  cyclic.self = cyclic;
  const shared = { shared: true };
  const bytes = new Uint8Array([0, 1, 2, 254, 255]);
  const regex = /a+b/gi;
  regex.lastIndex = 3;
  const sparse = [1, , 3];
  sparse.extra = "prop";
  class Point {
    constructor() { this.x = 1; this.y = 2; }
    get sum() { return this.x + this.y; }
  }
  const err = new RangeError("out of range");
  err.code = 42;
  return {
    "string": "hello",
    "empty string": "",
    "integer": 42,
    "float": 1.5,
    "negative zero": -0,
    "NaN": NaN,
    "Infinity": Infinity,
    "-Infinity": -Infinity,
    "max safe integer + 2": Number.MAX_SAFE_INTEGER + 2,
    "true": true,
    "null": null,
    "undefined": undefined,
    "BigInt": 2n ** 70n,
    "negative BigInt": -5n,
    "Date": new Date(Date.UTC(2026, 3, 1, 12, 30, 15, 123)),
    "invalid Date": new Date(NaN),
    "Map": new Map([["k", 1], [2, "two"], [{ o: 1 }, [3]]]),
    "Set": new Set([1, "1", 1n, null]),
    "RegExp": regex,
    "ArrayBuffer": bytes.buffer.slice(0),
    "Uint8Array": bytes,
    "Uint8Array view with an offset": new Uint8Array(bytes.buffer, 1, 2),
    "Float64Array": new Float64Array([0.5, -0, NaN]),
    "BigInt64Array": new BigInt64Array([1n, -1n]),
    "DataView": new DataView(bytes.buffer, 2, 2),
    "array with a hole and a property": sparse,
    "nested object": { a: { b: { c: [1, { d: "deep" }] } } },
    "object with undefined property": { u: undefined, n: null },
    "cyclic object": cyclic,
    "shared reference": { one: shared, two: shared },
    "class instance": new Point(),
    "null-prototype object": Object.assign(Object.create(null), { bare: true }),
    "object with a symbol key": { [Symbol("s")]: 1, visible: 2 },
    "object with integer-like keys": { b: 1, 10: "ten", 2: "two", a: 0 },
    "boxed primitives": [new Number(3), new String("s"), new Boolean(false)],
    "Error with a custom field": err,
    "Error with a cause": new Error("outer", { cause: "inner" }),
    "string with a lone surrogate": "a\ud800b",
  };
}
