// Dispatch: the glue the host calls to load the bundle's classes, build instances and
// deliver RPC calls, fetch requests and alarms to them (SPEC sections 1 and 2), with the
// request object of fetch(req) and the encoding of its response.
(function (internal) {
  "use strict";
  const { TOKEN, tag, codedError, errorText, toJSONText, encodeResult, show, host, glue,
    DurableObjectStorage, makeId, makeEnv, require } = internal;
  const instances = new Map();       // object id -> instance
  const blockers = new Map();        // object id -> Promise from blockConcurrencyWhile
  let classes = {};                  // export name, then (after bind) namespace -> class
  let env = {};

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

  // setAlarm() needs an alarm() method on the instance, or on its class before it exists.
  internal.hasAlarm = (oid, ns) => {
    const inst = instances.get(oid);
    return typeof (inst === undefined ? classes[ns].prototype : inst).alarm === "function";
  };

  Object.assign(glue, {
    define(factory) {
      const module = { exports: {} };
      factory.call(module.exports, module.exports, module, require);
      const exported = module.exports;
      const objects = exported && exported.objects;
      if (objects === null || typeof objects !== "object") return JSON.stringify({ error: "missing" });
      const out = {};
      for (const key of Object.keys(objects)) {
        const C = objects[key];
        if (isCtor(C)) {
          const methods = methodsOf(C.prototype);
          out[key] = { ctor: true, methods, params: methods.map((m) => C.prototype[m].length) };
        } else {
          out[key] = { ctor: false, type: C === null ? "null" : typeof C };
        }
      }
      classes = objects;
      return JSON.stringify({ classes: out });
    },
    bind(bindingText) {
      const binding = JSON.parse(bindingText);   // namespace -> export name
      const byNs = {};
      for (const ns of Object.keys(binding)) byNs[ns] = classes[binding[ns]];
      env = makeEnv(Object.keys(binding));
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
  });
})
