// ctx.storage of Cloudflare-style objects: the async KV API, storage.kv, storage.sql and
// transactions, over the object's own SQLite database on the host (SPEC section 10).
// Every call is synchronous underneath, so an awaited storage call resolves in the same
// job-queue drain: no other event enters the object meanwhile (Cloudflare's input gate).
// Values are structured clones, stored as the text of internal.serializeText.
(function (internal) {
  "use strict";
  const { host, flat, TOKEN, unwrap, serializeText, deserializeText } = internal;

  const typeError = (message) => new TypeError(message);

  // SQL values as the host takes them (see sqlexec.py): every number binds as REAL, as in
  // workerd; booleans as their text; bytes as base64.
  function sqlBinding(v) {
    if (typeof v === "number") return Number.isNaN(v) ? null : { $r: Object.is(v, -0) ? "-0" : Number.isFinite(v) ? v : String(v) };
    if (v === null || v === undefined) return null;
    if (typeof v === "string") return v;
    if (typeof v === "boolean") return String(v);
    if (typeof v === "bigint") throw typeError("Cannot convert a BigInt value to a number");
    if (typeof v === "symbol") throw typeError("Cannot convert a Symbol value to a string");
    if (v instanceof ArrayBuffer) return { $b: new Uint8Array(v).toBase64() };
    if (ArrayBuffer.isView(v)) return { $b: new Uint8Array(v.buffer, v.byteOffset, v.byteLength).toBase64() };
    return String(v);
  }

  function sqlValue(v) {
    if (v === null || typeof v !== "object") return v;
    if (v.$b !== undefined) return Uint8Array.fromBase64(v.$b).buffer;
    return Number(v.$n);
  }
  Object.assign(internal.cf, { sqlBinding, sqlValue });

  const ERRORS = { TypeError, RangeError };

  function check(reply) {
    if (reply.charCodeAt(0) === 33) {  // "!" + error: thrown as workerd throws it, a plain Error
      const info = JSON.parse(reply.slice(1));
      throw v8Shaped(new (ERRORS[info.name] || Error)(info.message));
    }
    return reply;
  }

  // An error with the own properties V8 gives one: "stack", then "message" (QuickJS keeps
  // the stack on the prototype), as code that lists an error's own keys sees on workerd.
  function v8Shaped(e) {
    const stack = e.stack, message = e.message;
    delete e.message;
    Object.defineProperty(e, "stack", { value: stack, writable: true, configurable: true });
    Object.defineProperty(e, "message", { value: message, writable: true, configurable: true });
    return e;
  }

  // NUL would cut a key on its way to the host, and a lone surrogate cannot cross at all:
  // such a key (or one starting with the marker) travels as "\u0001" + its JSON.
  const rawKey = (k) => (k.indexOf("\0") === -1 && k.charCodeAt(0) !== 1 && k.isWellFormed() ? flat(k) : "\u0001" + JSON.stringify(k));
  const ENABLE = "change `new_classes` to `new_sqlite_classes` within the 'migrations' field in your wrangler.jsonc or wrangler.toml file. If using workerd directly,";
  const NO_SQL = "SQL is not enabled for this Durable Object class. To enable it, " + ENABLE +
    "set `enableSql = true` in your workerd config for the class. Note that this change cannot be made after the class is already deployed to production.";
  const NO_KV = "The storage.kv (synchronous KV) API is only available for SQLite-backed Durable Objects, but this object's namespace is not declared to use SQLite. You can use the older, asyncronous interface via methods of `storage` itself (e.g. `storage.get()`). Alternatively, to enable SQLite, " +
    ENABLE + " set `enableSql = true` in your workerd config for the class. Note that this change cannot be made after the class is already deployed to production.";

  class Backend {
    constructor(oid, gen, hasAlarm, sqlite) { this.oid = oid; this.gen = gen; this.hasAlarm = hasAlarm; this.sqlite = sqlite; }
    needsSqlite(message) { if (!this.sqlite) throw new Error(message); return this; }
    call(op, payload) { return JSON.parse(check(host.cfs(op, this.oid, this.gen, flat(JSON.stringify(payload)), ""))); }
    // The common two without JSON around them: a key (as itself when it can cross as it
    // is) and a value's clone text; get answers the text, or "" when there is none.
    getOne(key) { const text = check(host.cfs("get1", this.oid, this.gen, rawKey(key), "")); return text === "" ? null : text; }
    putOne(key, text, value) { check(host.cfs("put1", this.oid, this.gen, rawKey(key), flat(text), sizeOf(key, text, value))); }
  }

  // workerd limits a stored record (key and value) by the bytes V8 serializes the value to;
  // the clone text is never ten times shorter, so only a long record needs measuring.
  const sizeOf = (key, text, value) => (key.length + text.length > 200000 ? internal.v8Size(value) : -1);

  function keyOf(key) {
    if (typeof key === "string") return key;
    if (key === undefined) throw typeError("Failed to execute 'get' on 'DurableObjectStorage': parameter 1 is not of type 'string or Array'.");
    return String(key);
  }

  function listOptions(options) {
    const o = options || {};
    if (o.start !== undefined && o.startAfter !== undefined) throw typeError("list() cannot be called with both start and startAfter values.");
    const out = {};
    for (const k of ["start", "startAfter", "end", "prefix"]) if (o[k] !== undefined) out[k] = String(o[k]);
    if (o.reverse !== undefined) out.reverse = Boolean(o.reverse);
    if (o.limit !== undefined) {
      const limit = Math.trunc(Number(o.limit));
      if (!(limit > 0)) throw typeError("List limit must be positive.");
      out.limit = limit;
    }
    return out;
  }

  function alarmTime(when) {
    let ms = when instanceof Date ? when.getTime() : when;
    if (typeof ms !== "number") throw typeError("Failed to execute 'setAlarm' on 'DurableObjectStorage': parameter 1 is not of type 'date'.");
    if (Number.isNaN(ms)) throw typeError("The value cannot be converted because it is not a valid Date.");
    ms = Math.trunc(ms);
    if (!(ms > 0)) throw typeError("setAlarm() cannot be called with an alarm time <= 0");
    return ms;
  }

  // The calls shared by ctx.storage and a transaction's txn.
  class StorageCalls {
    #b; #state;
    constructor(token, backend, state) {
      if (token !== TOKEN) throw typeError("Illegal constructor");
      this.#b = backend; this.#state = state;
    }
    #check(what) {
      if (this.#state.rolledBack) throw new Error("Cannot " + what + "() on rolled back transaction");
      if (this.#state.done) throw new Error("Cannot " + what + "() on a finished transaction");
      return this.#b;
    }
    get(key, _options) {
      try {
        const b = this.#check("get");
        if (Array.isArray(key)) {
          const map = new Map();
          for (const [k, v] of b.call("getMany", key.map(keyOf))) map.set(k, deserializeText(v));
          return Promise.resolve(map);
        }
        const text = b.getOne(keyOf(key));
        return Promise.resolve(text === null ? undefined : deserializeText(text));
      } catch (e) { return Promise.reject(e); }
    }
    put(key, value, _options) {
      try {
        const b = this.#check("put");
        if (key !== null && typeof key === "object" && !Array.isArray(key)) {
          const pairs = [];
          for (const [k, v] of Object.entries(key)) {
            if (v === undefined) continue;
            const text = serializeText(v);
            const size = sizeOf(k, text, v);
            pairs.push(size < 0 ? [k, text] : [k, text, size]);
          }
          b.call("putMany", pairs);
        } else {
          if (value === undefined) throw typeError("put() called with undefined value.");
          b.putOne(keyOf(key), serializeText(value), value);
        }
        return Promise.resolve();
      } catch (e) { return Promise.reject(e); }
    }
    delete(key, _options) {
      try {
        const b = this.#check("delete");
        return Promise.resolve(Array.isArray(key) ? b.call("deleteMany", key.map(keyOf)) : b.call("delete", keyOf(key)));
      } catch (e) { return Promise.reject(e); }
    }
    list(options) {
      try {
        const map = new Map();
        for (const [k, v] of this.#check("list").call("list", listOptions(options))) map.set(k, deserializeText(v));
        return Promise.resolve(map);
      } catch (e) { return Promise.reject(e); }
    }
    getAlarm(_options) {
      try { return Promise.resolve(this.#check("getAlarm").call("getAlarm", null)); } catch (e) { return Promise.reject(e); }
    }
    setAlarm(when, _options) {
      try {
        const b = this.#check("setAlarm");
        const ms = alarmTime(when);
        if (!b.hasAlarm()) throw typeError("Your Durable Object class must have an alarm() handler in order to call setAlarm()");
        b.call("setAlarm", ms);
        return Promise.resolve();
      } catch (e) { return Promise.reject(e); }
    }
    deleteAlarm(_options) {
      try { this.#check("deleteAlarm").call("deleteAlarm", null); return Promise.resolve(); } catch (e) { return Promise.reject(e); }
    }
  }

  class DurableObjectTransaction extends StorageCalls {
    #state;
    constructor(token, backend, state) { super(token, backend, state); this.#state = state; }
    rollback() {
      if (this.#state.rolledBack) return;
      this.#state.backend.call("rollback", this.#state.savepoint);
      this.#state.rolledBack = true;
    }
    deleteAll() { return Promise.reject(new Error("Cannot call deleteAll() within a transaction")); }
  }

  // A cursor reads its rows lazily, as workerd's do: the first few come with exec(), the rest
  // from the host in growing batches when they are reached, so rows written meanwhile show.
  class Cursor {
    #columns; #rows; #at = 0; #read; #readFirst; #written; #backend; #more; #batch = 4;
    constructor(token, backend, result) {
      if (token !== TOKEN) throw typeError("Illegal constructor");
      this.#backend = backend;
      [this.#columns, this.#rows, this.#read, this.#written, this.#readFirst, this.#more] = result;
    }
    get columnNames() { return this.#columns.slice(); }
    // Before the rows are read, what the first step read (workerd steps once at exec).
    get rowsRead() { return this.#at >= this.#rows.length && this.#more === null ? this.#read : this.#readFirst; }
    get rowsWritten() { return this.#written; }
    // Whether a row is left, reading the next batch from the host when the held ones are used.
    #left() {
      if (this.#at < this.#rows.length) return true;
      if (this.#more === null) return false;
      const [rows, done, read] = this.#backend.call("sqlMore", [this.#more, this.#batch]);
      this.#rows = rows;
      this.#at = 0;
      this.#batch = Math.min(this.#batch * 2, 4096);
      if (done) { this.#more = null; this.#read = read; }
      return rows.length > 0;
    }
    #object(row) {
      const o = {};
      this.#columns.forEach((c, i) => { o[c] = internal.cf.sqlValue(row[i]); });
      return o;
    }
    next() {
      if (!this.#left()) return { done: true, value: undefined };
      return { done: false, value: this.#object(this.#rows[this.#at++]) };
    }
    toArray() { const out = []; for (let r = this.next(); !r.done; r = this.next()) out.push(r.value); return out; }
    one() {
      if (!this.#left()) throw new Error("Expected exactly one result from SQL query, but got no results.");
      const row = this.#rows[this.#at++];
      if (this.#left()) throw new Error("Expected exactly one result from SQL query, but got multiple results.");
      return this.#object(row);
    }
    raw() {
      const cursor = this;
      const iterator = {
        next() {
          if (!cursor.#left()) return { done: true, value: undefined };
          return { done: false, value: cursor.#rows[cursor.#at++].map(internal.cf.sqlValue) };
        },
        toArray() { const out = []; for (let r = iterator.next(); !r.done; r = iterator.next()) out.push(r.value); return out; },
        [Symbol.iterator]() { return iterator; },
        [Symbol.toStringTag]: "RawIterator",
      };
      return iterator;
    }
    [Symbol.iterator]() { return { next: () => this.next(), [Symbol.iterator]() { return this; } }; }
  }

  class SqlStorage {
    #b;
    constructor(token, backend) { if (token !== TOKEN) throw typeError("Illegal constructor"); this.#b = backend; }
    exec(query, ...bindings) {
      const b = this.#b.needsSqlite(NO_SQL);
      return new Cursor(TOKEN, b, b.call("sql", [String(query), bindings.map(internal.cf.sqlBinding)]));
    }
    get databaseSize() { return this.#b.needsSqlite(NO_SQL).call("size", null); }
  }

  class SyncKvStorage {
    #backend;
    constructor(token, backend) { if (token !== TOKEN) throw typeError("Illegal constructor"); this.#backend = backend; }
    get #b() { return this.#backend.needsSqlite(NO_KV); }
    get(key) { const t = this.#b.getOne(String(key)); return t === null ? undefined : deserializeText(t); }
    put(key, value) {
      if (arguments.length < 2) throw typeError("Failed to execute 'put' on 'SyncKvStorage': parameter 2 is not of type 'JsValue'.");
      this.#b.putOne(String(key), serializeText(value), value);
    }
    delete(key) { return this.#b.call("delete", String(key)); }
    list(options) {
      const pairs = this.#b.call("list", listOptions(options));
      let i = 0;
      const it = {
        next() { return i < pairs.length ? { done: false, value: [pairs[i][0], deserializeText(pairs[i++][1])] } : { done: true, value: undefined }; },
        [Symbol.iterator]() { return it; },
        [Symbol.toStringTag]: "ListIterator",
      };
      return it;
    }
  }

  class DurableObjectStorage extends StorageCalls {
    #b; #kv; #sql;
    constructor(token, backend) {
      super(token, backend, { done: false, rolledBack: false });
      this.#b = backend;
      this.#kv = new SyncKvStorage(TOKEN, backend);
      this.#sql = new SqlStorage(TOKEN, backend);
    }
    get kv() { return this.#kv; }
    get sql() { return this.#sql; }
    deleteAll(_options) {
      try { this.#b.call("deleteAll", null); return Promise.resolve(); } catch (e) { return Promise.reject(e); }
    }
    sync() { return Promise.resolve(); }
    transactionSync(fn) {
      const b = this.#b;
      const savepoint = b.call("begin", null);
      let result;
      try { result = fn(); } catch (e) { b.call("rollback", savepoint); throw e; }
      b.call("commit", savepoint);
      return result;
    }
    async transaction(fn) {
      const b = this.#b;
      const state = { backend: b, savepoint: b.call("begin", null), done: false, rolledBack: false };
      const txn = new DurableObjectTransaction(TOKEN, b, state);
      try {
        const result = await fn(txn);
        if (!state.rolledBack) b.call("commit", state.savepoint);
        return result;
      } catch (e) {
        if (!state.rolledBack) b.call("rollback", state.savepoint);
        throw e;
      } finally {
        state.done = true;
      }
    }
  }

  internal.cf.makeStorage = (oid, gen, hasAlarm, sqlite) => new DurableObjectStorage(TOKEN, new Backend(oid, gen, hasAlarm, sqlite));
})
