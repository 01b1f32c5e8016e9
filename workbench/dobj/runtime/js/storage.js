// state.storage: the synchronous storage API of SPEC section 3, over the host's SQLite store,
// and the handle that transaction(fn) passes to fn.
(function (internal) {
  "use strict";
  const { host, TOKEN, RealDate, flat, codedError, toJSONText, unwrap } = internal;
  const hs = host.storage;

  // NUL cuts a string on its way to Python: a key with NUL (or one that starts with
  // \u0001, the marker) travels as "\u0001" + its JSON instead.
  const keyOut = (k) => (k.indexOf("\0") === -1 && k.charCodeAt(0) !== 1 ? flat(k) : "\u0001" + JSON.stringify(k));
  const valueLabel = (key) => "the value for " + JSON.stringify(key).slice(0, 80);

  function checkKey(key) {
    if (typeof key !== "string") throw codedError("bad_request", "storage keys must be strings, not " + (key === null ? "null" : typeof key), "TypeError");
    if (!key.isWellFormed()) throw codedError("bad_request", "a storage key must be well-formed Unicode: this one holds a lone surrogate (a \\uD800-\\uDFFF without its pair)", "TypeError");
    return key;
  }

  class DurableObjectStorage {
    #oid; #gen; #ns;
    constructor(token, oid, gen, ns) {
      if (token !== TOKEN) throw new TypeError("Illegal constructor");
      this.#oid = oid; this.#gen = gen; this.#ns = ns;
    }
    get(key) { return unwrap(hs("get", this.#oid, this.#gen, keyOut(checkKey(key)), "")); }
    put(key, value) {
      checkKey(key);
      const text = toJSONText(value, valueLabel, "bad_request", key);
      unwrap(hs("put", this.#oid, this.#gen, keyOut(key), flat(text)));
    }
    delete(key) { return unwrap(hs("delete", this.#oid, this.#gen, keyOut(checkKey(key)), "")); }
    deleteAll() { unwrap(hs("deleteAll", this.#oid, this.#gen, "", "")); }
    list(options) {
      const text = options === undefined ? "" : toJSONText(options, "list() options", "bad_request");
      return unwrap(hs("list", this.#oid, this.#gen, "", flat(text)));
    }
    transaction(fn) {
      if (typeof fn !== "function") throw codedError("bad_request", "transaction() takes a function", "TypeError");
      const sp = unwrap(hs("begin", this.#oid, this.#gen, "", ""));
      const state = { ended: "" };
      let result;
      try {
        result = fn(new DurableObjectTransaction(TOKEN, this, state));
      } catch (e) {
        state.ended = "rolled back";
        hs("rollback", this.#oid, this.#gen, sp, "");
        throw e;
      }
      if (result !== null && (typeof result === "object" || typeof result === "function") && typeof result.then === "function") {
        state.ended = "rolled back: its callback returned a Promise";
        hs("rollback", this.#oid, this.#gen, sp, "");
        if (result instanceof Promise) result.catch(() => {});
        throw codedError("bad_request", "transaction callback must be synchronous: it returned a Promise, and a SQLite transaction cannot stay open across an await. Move async work outside the transaction.", "TypeError");
      }
      state.ended = "committed";
      unwrap(hs("commit", this.#oid, this.#gen, sp, ""));
      return result;
    }
    transactionSync(fn) { return this.transaction(fn); }
    setAlarm(when) {
      const ms = when instanceof RealDate ? when.getTime() : when;
      if (typeof ms !== "number" || !isFinite(ms)) throw codedError("bad_request", "setAlarm() takes a time in ms since the epoch or a Date", "TypeError");
      if (!internal.hasAlarm(this.#oid, this.#ns)) throw codedError("bad_request", "setAlarm() needs an alarm() method on the class: define alarm() to handle the alarm", "TypeError");
      unwrap(hs("setAlarm", this.#oid, this.#gen, "", String(ms)));
    }
    getAlarm() { return unwrap(hs("getAlarm", this.#oid, this.#gen, "", "")); }
    deleteAlarm() { unwrap(hs("deleteAlarm", this.#oid, this.#gen, "", "")); }
    sync() { return Promise.resolve(); }
  }

  // The txn that transaction(fn) passes to fn: the storage's calls while the transaction is
  // open, and an error for every call once it has ended (committed, rolled back or
  // refused), so code left behind an await cannot write outside its transaction.
  class DurableObjectTransaction {
    #storage; #state;
    constructor(token, storage, state) {
      if (token !== TOKEN) throw new TypeError("Illegal constructor");
      this.#storage = storage; this.#state = state;
    }
    #open(call) {
      if (this.#state.ended) {
        throw codedError("bad_request", "txn." + call + "() after its transaction ended (" + this.#state.ended + "): a transaction's handle works only inside its callback; use state.storage outside it", "Error");
      }
      return this.#storage;
    }
    get(key) { return this.#open("get").get(key); }
    put(key, value) { this.#open("put").put(key, value); }
    delete(key) { return this.#open("delete").delete(key); }
    deleteAll() { this.#open("deleteAll").deleteAll(); }
    list(options) { return this.#open("list").list(options); }
    transaction(fn) { return this.#open("transaction").transaction(fn); }
    transactionSync(fn) { return this.#open("transactionSync").transaction(fn); }
    setAlarm(when) { this.#open("setAlarm").setAlarm(when); }
    getAlarm() { return this.#open("getAlarm").getAlarm(); }
    deleteAlarm() { this.#open("deleteAlarm").deleteAlarm(); }
  }

  internal.DurableObjectStorage = DurableObjectStorage;
})
