// structuredClone, and the structured-clone serialization the storage layer shares
// (internal.serialize / internal.deserialize), with what V8 keeps and refuses as workerd
// shows it: class instances become plain objects of their own enumerable string keys;
// errors keep a standard name, message, stack and cause; functions, symbols, Promises and
// weak collections throw a DataCloneError.
//
// serialize(value) gives records, a JSON-safe array (index 0 is the value): each record is
// [tag, ...], and containers refer to other records by index, so shared and cyclic
// references survive. Tags:
//   0 v            JSON-safe primitive (string, boolean, null, finite number but -0)
//   1 [i...]       dense array            10 length [[key, i]...]   other arrays
//   2 [[key, i]...] object                 3 time (null when invalid)  Date
//   4 source flags RegExp                 5 [[i, i]...] Map           6 [i...] Set
//   7 name message stack cause-i|-1 [fields]  Error (fields: [[key, i], ...], see serialize)
//  14 name message stack   DOMException   15 "Request" [[key, i]...]  a Request (as workerd keeps it)
//  16 id           a function sent over RPC (becomes a stub that calls it)
//   8 "digits"     BigInt                 9 "NaN"|"Infinity"|"-Infinity"|"-0"
//  11 base64       ArrayBuffer            12 type buffer-i byteOffset length   view
//  13 kind value   boxed primitive (Boolean, Number, String, BigInt)   -1 undefined
// With `binary` (structuredClone's own use) an ArrayBuffer record holds a copy of the
// buffer itself instead of base64, and the records are not JSON-safe.
(function (internal) {
  "use strict";
  const { webGlobal, domError, notOfType } = internal;
  const { DOMException } = internal.web;

  const ERROR_TYPES = { Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError };
  const VIEWS = {
    Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView,
  };
  if (typeof Float16Array === "function") VIEWS.Float16Array = Float16Array;
  const UNCLONEABLE = [Promise, WeakMap, WeakSet, WeakRef, typeof FinalizationRegistry === "function" ? FinalizationRegistry : Promise];

  function cannotClone(value) {
    let what;
    if (typeof value === "function" || typeof value === "symbol") what = String(value);
    else {
      const C = value.constructor;
      what = "#<" + (typeof C === "function" && C.name ? C.name : "Object") + ">";
    }
    return domError(what + " could not be cloned.", "DataCloneError");
  }

  function viewType(v) {
    for (const name in VIEWS) if (v instanceof VIEWS[name]) return name;
    return "Uint8Array";
  }

  // Functions sent over RPC: the receiver gets a stub that calls the function here.
  const rpcFunctions = new Map();    // id -> function
  let nextFunction = 1;
  const releaseFunction = new FinalizationRegistry((id) => rpcFunctions.delete(id));
  const RPC = { fields: false };
  const PLAIN_RPC = { fields: false };

  // `rpc` (null for storage and structuredClone): workerd's RPC serialization, where a
  // function travels as a stub, a class instance is refused, and with `rpc.fields` an Error
  // keeps its own name and fields (compatibility date 2026-04-21).
  function serialize(value, binary = false, rpc = null) {
    const records = [];
    const seen = new Map();
    const fields = rpc !== null && rpc.fields;

    function add(v) {
      const t = typeof v;
      if (t === "string" || t === "boolean" || v === null) return records.push([0, v]) - 1;
      if (t === "number") {
        if (Number.isFinite(v) && !Object.is(v, -0)) return records.push([0, v]) - 1;
        return records.push([9, Object.is(v, -0) ? "-0" : String(v)]) - 1;
      }
      if (t === "undefined") return records.push([-1]) - 1;
      if (t === "bigint") return records.push([8, v.toString()]) - 1;
      if (t === "function" && rpc !== null) {
        const id = nextFunction++;
        rpcFunctions.set(id, v);
        return records.push([16, id]) - 1;
      }
      if (t === "function" || t === "symbol") throw cannotClone(v);
      const known = seen.get(v);
      if (known !== undefined) return known;
      const index = records.push(null) - 1;
      seen.set(v, index);
      records[index] = describe(v, index);
      return index;
    }

    function entries(obj) {
      const out = [];
      for (const key of Object.keys(obj)) out.push([key, add(obj[key])]);
      return out;
    }

    function describe(v) {
      if (Array.isArray(v)) {
        const keys = Object.keys(v);
        if (keys.length === v.length && (keys.length === 0 || keys[keys.length - 1] === String(v.length - 1))) {
          const items = [];
          for (let i = 0; i < v.length; i++) items.push(add(v[i]));
          return [1, items];
        }
        return [10, v.length, entries(v)];
      }
      if (v instanceof Date) { const time = v.getTime(); return [3, Number.isNaN(time) ? null : time]; }
      if (v instanceof RegExp) return [4, v.source, v.flags];
      if (v instanceof Map) {
        const pairs = [];
        for (const [k, x] of v) pairs.push([add(k), add(x)]);
        return [5, pairs];
      }
      if (v instanceof Set) {
        const items = [];
        for (const x of v) items.push(add(x));
        return [6, items];
      }
      if (v instanceof ArrayBuffer) return [11, binary ? v.slice(0) : new Uint8Array(v).toBase64()];
      if (ArrayBuffer.isView(v)) {
        const length = v instanceof DataView ? v.byteLength : v.length;
        return [12, viewType(v), add(v.buffer), v.byteOffset, length];
      }
      if (v instanceof DOMException) return [14, v.name, v.message, String(v.stack || "")];
      if (v instanceof Error) {
        const name = Object.hasOwn(ERROR_TYPES, v.name) ? v.name : "Error";
        const message = Object.hasOwn(v, "message") ? String(v.message) : "";
        const cause = Object.hasOwn(v, "cause") ? add(v.cause) : -1;
        if (!fields) return [7, name, message, String(v.stack || ""), cause];
        const record = [7, name, message, String(v.stack || ""), cause, []];
        for (const k of Object.keys(v)) if (k !== "message" && k !== "stack" && k !== "cause") record[5].push([k, add(v[k])]);
        if (Object.hasOwn(v, "name") && !record[5].some(([k]) => k === "name")) record[5].unshift(["name", add(v.name)]);
        return record;
      }
      if (v instanceof Boolean) return [13, "Boolean", v.valueOf()];
      if (v instanceof Number) return [13, "Number", add(v.valueOf())];
      if (v instanceof String) return [13, "String", v.valueOf()];
      if (v instanceof BigInt) return [13, "BigInt", v.valueOf().toString()];
      for (const C of UNCLONEABLE) if (v instanceof C) throw cannotClone(v);
      // workerd stores a Request as an object of its own keys that keeps Request's prototype
      if (internal.web.Request && v instanceof internal.web.Request) return [15, "Request", entries(v)];
      const proto = Object.getPrototypeOf(v);
      if (rpc !== null && proto !== Object.prototype && proto !== null) {
        const C = proto.constructor;
        const name = typeof C === "function" && C.name ? C.name : "Object";
        throw domError("Could not serialize object of type \"" + name + "\". This type does not support serialization.", "DataCloneError");
      }
      return [2, entries(v)];
    }

    add(value);
    return records;
  }

  function deserialize(records) {
    const made = new Array(records.length);

    function get(i) {
      const r = records[i];
      switch (r[0]) {
        case 0: return r[1];
        case -1: return undefined;
        case 8: return BigInt(r[1]);
        case 9: return r[1] === "-0" ? -0 : Number(r[1]);
      }
      if (made[i] !== undefined) return made[i];
      switch (r[0]) {
        case 1: { const a = made[i] = []; for (const j of r[1]) a.push(get(j)); return a; }
        case 10: { const a = made[i] = new Array(r[1]); for (const [k, j] of r[2]) a[k] = get(j); return a; }
        case 2: {
          const o = made[i] = {};
          for (const [k, j] of r[1]) Object.defineProperty(o, k, { value: get(j), writable: true, enumerable: true, configurable: true });
          return o;
        }
        case 3: return made[i] = new Date(r[1] === null ? NaN : r[1]);
        case 4: return made[i] = new RegExp(r[1], r[2]);
        case 5: { const m = made[i] = new Map(); for (const [k, j] of r[1]) m.set(get(k), get(j)); return m; }
        case 6: { const s = made[i] = new Set(); for (const j of r[1]) s.add(get(j)); return s; }
        case 11: return made[i] = typeof r[1] === "string" ? Uint8Array.fromBase64(r[1]).buffer : r[1];
        case 12: { const C = VIEWS[r[1]] || Uint8Array; return made[i] = new C(get(r[2]), r[3], r[4]); }
        case 13: return made[i] = Object(r[1] === "BigInt" ? BigInt(r[2]) : r[1] === "Number" ? get(r[2]) : r[2]);
        case 16: return made[i] = functionStub(r[1]);
        case 15: {
          const o = made[i] = Object.create(internal.web[r[1]].prototype);
          for (const [k, j] of r[2]) Object.defineProperty(o, k, { value: get(j), writable: true, enumerable: true, configurable: true });
          return o;
        }
        case 14: {
          const e = made[i] = new DOMException(r[2], r[1]);
          Object.defineProperty(e, "stack", { value: r[3], writable: true, configurable: true });
          return e;
        }
        case 7: {
          const e = made[i] = new ERROR_TYPES[r[1]](r[2]);
          if (!r[2]) delete e.message;
          Object.defineProperty(e, "stack", { value: r[3], writable: true, configurable: true });
          if (r[4] !== -1) Object.defineProperty(e, "cause", { value: get(r[4]), writable: true, configurable: true });
          if (r[5]) for (const [k, j] of r[5]) e[k] = get(j);
          return e;
        }
      }
      throw new TypeError("not a structured-clone record: " + JSON.stringify(r[0]));
    }

    return get(0);
  }

  // What a function stub does: call the function with copies of the arguments, and give a
  // Promise of a copy of its result, as a call over RPC would.
  function functionStub(id) {
    const fn = rpcFunctions.get(id);
    const stub = (...args) => {
      if (fn === undefined) return Promise.reject(new Error("This RPC stub was disposed: the function it called is gone."));
      let copied;
      try { copied = deserialize(serialize(args, false, PLAIN_RPC)); } catch (e) { return Promise.reject(e); }
      return Promise.resolve().then(() => fn(...copied)).then((v) => rpcResult(deserialize(serialize(v, false, PLAIN_RPC))));
    };
    releaseFunction.register(stub, id);
    return stub;
  }

  // A result of an RPC call, as workerd hands it over: a plain object gets a disposer.
  const dispose = [() => {}][0];
  function rpcResult(v) {
    if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype && !Object.hasOwn(v, Symbol.dispose)) {
      Object.defineProperty(v, Symbol.dispose, { value: dispose, writable: true, configurable: true });
    }
    return v;
  }

  function structuredClone(value, options) {
    if (arguments.length < 1) throw notOfType("structuredClone", "ServiceWorkerGlobalScope", 1, "JsValue");
    const copy = deserialize(serialize(value, true));
    const transfer = options && options.transfer;
    if (transfer) for (const buffer of transfer) if (buffer instanceof ArrayBuffer) buffer.transfer();
    return copy;
  }

  // The bytes V8's serializer writes for a value (what workerd limits stored values and
  // WebSocket attachments by):
  // exact for strings, numbers, booleans, plain objects and arrays of them; close for the rest.
  function varint(n) { let k = 1; while (n >= 128) { n = Math.floor(n / 128); k++; } return k; }
  function v8Size(value) {
    const seen = new Set();
    function size(v) {
      if (v === undefined || v === null || v === true || v === false) return 1;
      if (typeof v === "number") {
        if (Number.isInteger(v) && v >= -(2 ** 30) && v < 2 ** 30 && !Object.is(v, -0)) return 1 + varint(v < 0 ? -2 * v - 1 : 2 * v);
        return 9;
      }
      if (typeof v === "bigint") return 2 + 8 * Math.max(1, Math.ceil((v < 0n ? -v : v).toString(16).length / 16));
      if (typeof v === "string") {
        const oneByte = !/[^\x00-\xff]/.test(v);
        const bytes = oneByte ? v.length : 2 * v.length;
        return 1 + varint(bytes) + bytes;
      }
      if (seen.has(v)) return 1 + varint(0);
      seen.add(v);
      if (v instanceof Date) return 9;
      if (v instanceof ArrayBuffer) return 1 + varint(v.byteLength) + v.byteLength;
      if (ArrayBuffer.isView(v)) return 2 + varint(v.buffer.byteLength) + v.buffer.byteLength + 1 + varint(v.byteOffset) + varint(v.byteLength) + 1;
      if (v instanceof Map) { let n = 2 + varint(2 * v.size); for (const [k, x] of v) n += size(k) + size(x); return n; }
      if (v instanceof Set) { let n = 2 + varint(v.size); for (const x of v) n += size(x); return n; }
      if (Array.isArray(v)) {
        let n = 1 + varint(v.length) + 1 + varint(0) + varint(v.length);
        for (const x of v) n += size(x);
        return n;
      }
      let n = 2, count = 0;
      for (const k of Object.keys(v)) { n += size(/^(0|[1-9][0-9]*)$/.test(k) && Number(k) < 2 ** 32 - 1 ? Number(k) : k) + size(v[k]); count++; }
      return n + varint(count);
    }
    return 2 + size(value);
  }
  webGlobal("structuredClone", structuredClone);
  // For the storage layer: JSON text of a value and back.
  Object.assign(internal, {
    serialize, deserialize, v8Size,
    serializeText: (value) => internal.flat(JSON.stringify(serialize(value))),
    // For RPC: functions as stubs, class instances refused, errors with their fields (`fields`).
    serializeRpcText: (value, fields) => {
      RPC.fields = fields;
      return internal.flat(JSON.stringify(serialize(value, false, RPC)));
    },
    rpcResult,
    deserializeText: (text) => deserialize(JSON.parse(text)),
  });
})
