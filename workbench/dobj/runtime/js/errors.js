// Errors and JSON: how values and errors cross between JavaScript and the host.
//
// Every file of this folder is one function expression that the engine calls once per
// context with the runtime's internal object (`internal`): a file reads what earlier files
// put there and adds its own. The internal object is never stored where bundle code can
// reach it. This file comes first: `internal.host` (the host functions, captured by the
// engine and removed from globalThis) is all it finds.
//
// Values cross the boundary as JSON text; replies of the glue are strings whose first
// character says what they are: "R" result, "E" error, "P" pending (settled later through
// host.settle), "M" no such method.
//
// The binding cannot convert "rope" strings (what concatenating long strings makes) to
// Python, neither as arguments nor as return values: every string that may be long goes
// through flat() or tag() on its way out.
(function (internal) {
  "use strict";
  const flat = (s) => (typeof s === "string" && s.length > 256 ? [s].join("") : s);
  const tag = (t, s) => (s.length > 256 ? [t, s].join("") : t + s);

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

  // JSON text of a value, or an error with `code` that names `what` (a label, or a function
  // making one from `detail`).
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

  // How a value shows in console output and messages.
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

  Object.assign(internal, {
    TOKEN: {},  // passed to the runtime's own constructors, so bundle code cannot call them
    RealDate: Date,
    flat, tag, codedError, errorText, toJSONText, encodeResult, hostError, unwrap, show,
  });
})
