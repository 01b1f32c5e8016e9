// The JavaScript side of the dobj runtime, evaluated once in every bundle's context.
// It captures the host functions (then removes them from globalThis so bundle code cannot
// reach them), defines the globals bundles see, and returns the glue the runtime calls.
// Values cross the boundary as JSON text; replies are strings whose first character says
// what they are: "R" result, "E" error, "P" pending (settled later through host.settle),
// "M" no such method.
//
// The binding cannot convert "rope" strings (what concatenating long strings makes) to
// Python, neither as arguments nor as return values: every string that may be long goes
// through flat() or tag() on its way out.
(function (host) {
  "use strict";
  const flat = (s) => (typeof s === "string" && s.length > 256 ? [s].join("") : s);
  // NUL cuts a string on its way to Python too: a key with NUL (or one that starts with
  // \u0001, the marker) travels as "\u0001" + its JSON instead.
  const keyOut = (k) => (k.indexOf("\0") === -1 && k.charCodeAt(0) !== 1 ? flat(k) : "\u0001" + JSON.stringify(k));
  const tag = (t, s) => (s.length > 256 ? [t, s].join("") : t + s);
  const TOKEN = {};
  const RealDate = Date;
  const instances = new Map();       // object id -> instance
  const blockers = new Map();        // object id -> Promise from blockConcurrencyWhile
  const pendingStubs = new Map();    // stub call id -> [resolve, reject]
  const timers = new Map();          // timer id -> [fn, args, intervalMs, object id]
  let classes = {};
  let env = {};
  let nextStubCall = 1;

  // ---- errors and JSON ------------------------------------------------------------------
  function codedError(code, message, name) {
    const e = new Error(message);
    if (name) e.name = name;
    e.code = code;
    return e;
  }

  function errorText(e) {
    let info;
    if (e instanceof Error) {
      info = { name: e.name, message: String(e.message), stack: String(e.stack || "") };
      if (typeof e.code === "string") info.code = e.code;
    } else if (e === null) {
      info = { name: "Error", message: "out of memory (or null was thrown)" };
    } else {
      let text;
      try { text = typeof e === "string" ? e : JSON.stringify(e); } catch (_) { text = String(e); }
      info = { name: "Error", message: "a non-Error value was thrown: " + text };
    }
    return JSON.stringify(info);
  }

  function strictReplacer(key, value) {
    const t = typeof value;
    if (t === "function") throw new TypeError("a function is not JSON-serializable" + (key ? " (at key " + JSON.stringify(key) + ")" : ""));
    if (t === "symbol") throw new TypeError("a symbol is not JSON-serializable");
    if (t === "number" && !isFinite(value)) throw new TypeError(value + " is not JSON-serializable");
    if (value instanceof Map || value instanceof Set || value instanceof WeakMap || value instanceof WeakSet) {
      throw new TypeError("a " + value.constructor.name + " is not JSON-serializable; store an array or a plain object");
    }
    return value;
  }

  const valueLabel = (key) => "the value for " + JSON.stringify(key).slice(0, 80);

  function toJSONText(value, what, code, detail) {
    const t = typeof value;
    if (t === "string" || t === "boolean" || value === null || (t === "number" && isFinite(value))) {
      return JSON.stringify(value);  // the common case needs no replacer
    }
    try {
      const text = JSON.stringify(value, strictReplacer);
      if (text === undefined) throw new TypeError("undefined is not JSON-serializable");
      return text;
    } catch (e) {
      const label = typeof what === "function" ? what(detail) : what;
      throw codedError(code, label + " is not JSON-serializable: " + (e && e.message), "TypeError");
    }
  }

  const encodeResult = (v) => (v === undefined ? "null" : toJSONText(v, "the result", "execution_error"));

  function hostError(text) {
    const info = JSON.parse(text);
    return codedError(info.code, info.message, info.name || "Error");
  }

  // A host reply is JSON, "" for undefined, or "!" + error JSON ("!" never starts JSON).
  function unwrap(reply) {
    if (reply === "") return undefined;
    if (reply.charCodeAt(0) === 33) throw hostError(reply.slice(1));
    return JSON.parse(reply);
  }

  function checkKey(key) {
    if (typeof key !== "string") throw codedError("bad_request", "storage keys must be strings, not " + (key === null ? "null" : typeof key), "TypeError");
    if (!key.isWellFormed()) throw codedError("bad_request", "a storage key must be well-formed Unicode: this one holds a lone surrogate (a \\uD800-\\uDFFF without its pair)", "TypeError");
    return key;
  }

  // ---- state.storage ----------------------------------------------------------------------
  const hs = host.storage;
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
      const inst = instances.get(this.#oid);
      const target = inst === undefined ? classes[this.#ns].prototype : inst;
      if (typeof target.alarm !== "function") throw codedError("bad_request", "setAlarm() needs an alarm() method on the class: define alarm() to handle the alarm", "TypeError");
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

  // ---- ids, stubs and env -----------------------------------------------------------------
  function makeId(namespace, name, hex) {
    return Object.freeze({
      namespace, name,
      toString() { return hex; },
      equals(other) { return other != null && String(other) === hex; },
    });
  }

  function callStub(namespace, name, method, args) {
    let text;
    try { text = toJSONText(args, "the arguments of " + method + "()", "bad_request"); }
    catch (e) { return Promise.reject(e); }
    const id = nextStubCall++;
    const promise = new Promise((resolve, reject) => pendingStubs.set(id, [resolve, reject]));
    const refused = host.stub(id, flat(JSON.stringify([namespace, name, method])), flat(text));
    if (refused) {  // "!" + why
      pendingStubs.delete(id);
      return Promise.reject(hostError(refused.slice(1)));
    }
    return promise;
  }

  function makeStub(namespace, name) {
    const id = host.idOf(flat(JSON.stringify([namespace, name])));
    return new Proxy(Object.freeze({}), {
      get(_, prop) {
        if (typeof prop !== "string" || prop === "then" || prop === "toJSON") return undefined;
        if (prop === "id") return makeId(namespace, name, id);
        if (prop === "name") return name;
        return (...args) => callStub(namespace, name, prop, args);
      },
    });
  }

  function makeNamespace(namespace) {
    const checkName = (name) => {
      if (typeof name !== "string") throw codedError("bad_request", "object names are strings", "TypeError");
      return name;
    };
    return Object.freeze({
      getByName: (name) => makeStub(namespace, checkName(name)),
      idFromName: (name) => makeId(namespace, checkName(name), host.idOf(flat(JSON.stringify([namespace, name])))),
      get: (id) => makeStub(namespace, checkName(id && id.name)),
    });
  }

  // ---- globals ----------------------------------------------------------------------------
  function DobjDate(...args) {
    if (!new.target) return new RealDate(host.now()).toString();
    return args.length ? new RealDate(...args) : new RealDate(host.now());
  }
  DobjDate.prototype = RealDate.prototype;
  DobjDate.now = () => host.now();
  DobjDate.parse = RealDate.parse;
  DobjDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, "constructor", { value: DobjDate, writable: true, configurable: true });
  globalThis.Date = DobjDate;

  function show(value) {
    if (typeof value === "string") return value;
    if (value instanceof Error) return value.name + ": " + value.message;
    if (typeof value === "function") return "[Function " + (value.name || "anonymous") + "]";
    if (typeof value === "bigint") return value + "n";
    try {
      const text = JSON.stringify(value);
      return text === undefined ? String(value) : text;
    } catch (_) { return String(value); }
  }
  const consoleObject = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    consoleObject[level] = (...args) => { host.console(level, flat(args.map(show).join(" "))); };
  }
  globalThis.console = consoleObject;

  // Timer ids are shared by every object: each timer remembers its object, and clearing
  // forgets it only when the host says the id belongs to the running event's object.
  function addTimer(fn, ms, args, interval) {
    if (typeof fn !== "function") throw new TypeError("setTimeout/setInterval need a function");
    const delay = Math.max(0, Number(ms) || 0);
    const [id, owner] = unwrap(host.timer("set", 0, String(delay)));
    timers.set(id, [fn, args, interval ? delay : -1, owner]);
    return id;
  }
  globalThis.setTimeout = (fn, ms, ...args) => addTimer(fn, ms, args, false);
  globalThis.setInterval = (fn, ms, ...args) => addTimer(fn, ms, args, true);
  globalThis.clearTimeout = globalThis.clearInterval = (id) => {
    const t = timers.get(id);
    if (t !== undefined && unwrap(host.timer("clear", id, "")) === t[3]) timers.delete(id);
  };

  function require(name) {
    throw new Error("require(" + JSON.stringify(name) + ") is not available: a dobj bundle is one self-contained file. Bundle your dependencies, e.g. esbuild --bundle --format=cjs");
  }
  globalThis.require = require;

  // ---- dispatch glue ----------------------------------------------------------------------
  function isCtor(f) {
    if (typeof f !== "function") return false;
    try { Reflect.construct(String, [], f); return true; } catch (_) { return false; }
  }

  function methodsOf(obj) {
    const names = new Set();
    for (let o = obj; o && o !== Object.prototype && o !== Function.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Object.getOwnPropertyNames(o)) {
        const d = Object.getOwnPropertyDescriptor(o, key);
        if (d && typeof d.value === "function" && key !== "constructor" && !(key in Object.prototype)) names.add(key);
      }
    }
    return [...names].sort();
  }

  function callable(inst, method) {
    return method !== "constructor" && !(method in Object.prototype) && typeof inst[method] === "function";
  }

  function track(r, pid, encode) {
    if (r !== null && (typeof r === "object" || typeof r === "function") && typeof r.then === "function") {
      Promise.resolve(r).then(
        (v) => { let t; try { t = tag("R", encode(v)); } catch (e) { t = tag("E", errorText(e)); } host.settle(pid, t); },
        (e) => { host.settle(pid, tag("E", errorText(e))); },
      );
      return "P";
    }
    try { return tag("R", encode(r)); } catch (e) { return tag("E", errorText(e)); }
  }

  function afterBlockers(oid, pid, encode, run) {
    const blocker = blockers.get(oid);
    if (blocker) {
      blockers.delete(oid);
      return track(blocker.then(run), pid, encode);
    }
    let r;
    try { r = run(); } catch (e) { return tag("E", errorText(e)); }
    return track(r, pid, encode);
  }

  function latin1ToBytes(text) {
    const bytes = new Uint8Array(text.length);
    for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    return bytes;
  }

  function bytesToLatin1(bytes) {
    let out = "";
    for (let i = 0; i < bytes.length; i += 8192) out += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
    return out;
  }

  // The req of fetch(req): plain fields, plus the body readers of a Fetch API Request.
  class DobjRequest {
    constructor(method, url, path, query, headersText, text, raw) {
      this.method = method; this.url = url; this.path = path; this.query = query;
      this.headers = JSON.parse(headersText); this.body = text; this.rawBody = latin1ToBytes(raw);
    }
    async text() { return this.body === null ? "" : this.body; }
    async json() { return JSON.parse(this.body); }
    async arrayBuffer() { return this.rawBody.buffer; }
  }

  function encodeResponse(r) {
    if (typeof r === "string") r = { body: r };
    if (r === null || typeof r !== "object") throw codedError("execution_error", "fetch() must return {status, headers, body}, not " + (r === null ? "null" : typeof r), "TypeError");
    const status = r.status === undefined ? 200 : r.status;
    if (!Number.isInteger(status) || status < 200 || status > 599) throw codedError("execution_error", "fetch() returned status " + show(status) + "; use an integer from 200 to 599", "TypeError");
    const headers = {}, given = r.headers;
    if (given) for (const k in given) headers[k.toLowerCase()] = String(given[k]);
    let body = r.body, kind = "text";
    if (body === undefined || body === null) body = "";
    else if (typeof body === "string") kind = "text";
    else if (body instanceof ArrayBuffer) { body = bytesToLatin1(new Uint8Array(body)); kind = "bytes"; }
    else if (ArrayBuffer.isView(body)) { body = bytesToLatin1(new Uint8Array(body.buffer, body.byteOffset, body.byteLength)); kind = "bytes"; }
    else { body = toJSONText(body, "the response body", "execution_error"); kind = "json"; }
    // "status kind headers-JSON\n" then the body as it is (JSON-escaped if it holds a NUL,
    // which would cut it on its way to Python).
    if (body.indexOf("\0") !== -1) { body = JSON.stringify(body); kind += "/escaped"; }
    return status + " " + kind + " " + JSON.stringify(headers) + "\n" + body;
  }

  return {
    define(factory) {
      const module = { exports: {} };
      factory.call(module.exports, module.exports, module, require);
      const exported = module.exports;
      const objects = exported && exported.objects;
      if (objects === null || typeof objects !== "object") return JSON.stringify({ error: "missing" });
      const out = {};
      for (const key of Object.keys(objects)) {
        const C = objects[key];
        out[key] = isCtor(C) ? { ctor: true, methods: methodsOf(C.prototype) } : { ctor: false, type: C === null ? "null" : typeof C };
      }
      classes = objects;
      return JSON.stringify({ classes: out });
    },
    bind(bindingText) {
      const binding = JSON.parse(bindingText);   // namespace -> export name
      const byNs = {};
      env = {};
      for (const ns of Object.keys(binding)) {
        byNs[ns] = classes[binding[ns]];
        env[ns] = makeNamespace(ns);
      }
      Object.freeze(env);
      classes = byNs;
    },
    construct(oid, gen, ns, name, hex) {
      const C = classes[ns];
      const storage = new DurableObjectStorage(TOKEN, oid, gen, ns);
      const state = {
        id: makeId(ns, name, hex),
        storage,
        blockConcurrencyWhile(fn) {
          const p = Promise.resolve().then(() => fn());
          blockers.set(oid, p);
          return p;
        },
        waitUntil() {},
      };
      try {
        instances.set(oid, new C(state, env));
        return "";
      } catch (e) {
        return tag("E", errorText(e));
      }
    },
    drop(oid) { instances.delete(oid); blockers.delete(oid); },
    methods(oid) { return JSON.stringify(methodsOf(instances.get(oid))); },
    invoke(oid, method, argsText, pid) {
      const inst = instances.get(oid);
      if (!callable(inst, method)) return "M";
      if (blockers.size !== 0 && blockers.has(oid)) {
        return afterBlockers(oid, pid, encodeResult, () => inst[method](...JSON.parse(argsText)));
      }
      let r;
      try { r = inst[method].apply(inst, JSON.parse(argsText)); } catch (e) { return tag("E", errorText(e)); }
      return track(r, pid, encodeResult);
    },
    fetch(oid, method, url, path, query, headersText, text, raw, pid) {
      const inst = instances.get(oid);
      if (typeof inst.fetch !== "function") return "M";
      return afterBlockers(oid, pid, encodeResponse,
        () => inst.fetch(new DobjRequest(method, url, path, query, headersText, text, raw)));
    },
    alarm(oid, retryCount, pid) {
      const inst = instances.get(oid);
      if (typeof inst.alarm !== "function") return "M";
      return afterBlockers(oid, pid, encodeResult, () => inst.alarm({ retryCount, isRetry: retryCount > 0 }));
    },
    fireTimer(id) {
      const t = timers.get(id);
      if (!t) return "";
      if (t[2] < 0) timers.delete(id);
      else host.timer("again", id, String(t[2]));
      try { t[0](...t[1]); return ""; } catch (e) { return tag("E", errorText(e)); }
    },
    dropTimers(idsText) { for (const id of JSON.parse(idsText)) timers.delete(id); },
    settleStub(id, reply) {
      const pr = pendingStubs.get(id);
      if (!pr) return;
      pendingStubs.delete(id);
      if (reply.charCodeAt(0) === 82) pr[0](JSON.parse(reply.slice(1)));
      else pr[1](hostError(reply.slice(1)));
    },
  };
})
