// Dispatch for Cloudflare projects: the glue the host calls to take the entry module's
// exports, build objects as `new X(ctx, env)`, and deliver RPC calls (structured clones),
// fetch requests (Request in, Response out), alarms and the Worker's own requests.
(function (internal) {
  "use strict";
  const { host, tag, glue, TOKEN, serializeText, deserializeText, flat } = internal;
  const { DurableObject, WorkerEntrypoint, DurableObjectId, makeEnv, makeStorage } = internal.cf;
  const { Request, Response, requestFromHost, responseToHost, bodyState, headerPairs } = internal.web;
  const instances = new Map();       // object id -> instance
  const blockers = new Map();        // object id -> Promise from blockConcurrencyWhile
  const RESERVED = new Set(["constructor", "fetch", "alarm", "webSocketMessage", "webSocketClose", "webSocketError"]);
  let entry = null;                  // the entry module's namespace
  let classes = {};                  // namespace -> class
  const env = {};
  let sqliteBacked = {};             // namespace -> whether its storage has SQL and kv

  const isClass = (f) => typeof f === "function" && /^class\b/.test(Function.prototype.toString.call(f));
  const extendsFrom = (C, Base) => typeof C === "function" && C.prototype instanceof Base;

  function methodsOf(proto) {
    const names = new Set();
    for (let o = proto; o && o !== Object.prototype && o !== DurableObject.prototype && o !== WorkerEntrypoint.prototype; o = Object.getPrototypeOf(o)) {
      for (const key of Object.getOwnPropertyNames(o)) {
        const d = Object.getOwnPropertyDescriptor(o, key);
        if (d && typeof d.value === "function" && key !== "constructor" && !key.startsWith("#")) names.add(key);
      }
    }
    return [...names].sort();
  }

  // What a thrown value becomes on its way to the host: name, message, stack, and what a
  // caller on a later compatibility date rebuilds (own fields, cause, a thrown non-Error).
  function errorInfo(e) {
    const info = {};
    if (e instanceof Error) {
      info.name = String(e.name); info.message = String(e.message); info.stack = String(e.stack || "");
      const fields = {};
      let any = false;
      for (const k of Object.keys(e)) if (k !== "stack" && k !== "message" && k !== "name") { fields[k] = e[k]; any = true; }
      if (e.name !== e.constructor.name && Object.hasOwn(e, "name")) any = true;
      try { if (any) info.fields = serializeText(fields); } catch (_) { /* keep the rest */ }
      try { if (Object.hasOwn(e, "cause")) info.cause = serializeText(e.cause); } catch (_) { /* keep the rest */ }
      if (typeof e.code === "string" && /^[a-z_]+$/.test(e.code)) info.code = e.code;
      if (e instanceof internal.web.DOMException) info.dom = true;
    } else {
      const object = e !== null && typeof e === "object";
      info.name = "Error";
      info.display = object ? "#<" + ((e.constructor && e.constructor.name) || "Object") + ">" : String(e);
      info.message = info.display;
      if (object) try { info.thrown = serializeText(e); } catch (_) { /* an uncloneable throw */ }
    }
    return JSON.stringify(info);
  }

  function settleWith(pid, encode) {
    return [
      (v) => { let t; try { t = tag("R", encode(v)); } catch (e) { t = tag("E", errorInfo(e)); } host.settle(pid, t); },
      (e) => host.settle(pid, tag("E", errorInfo(e))),
    ];
  }

  // Call `run` (after blockConcurrencyWhile, if one is pending) and encode what it gives:
  // a reply now, or "P" and host.settle(pid, reply) later.
  // Wait until no blockConcurrencyWhile of the object is pending: a run that waited may
  // start one itself, and those queued behind wait for that one too.
  const unblocked = (oid, run) => {
    const blocker = blockers.get(oid);
    return blocker ? blocker.then(() => unblocked(oid, run), () => unblocked(oid, run)) : run();
  };

  function deliver(oid, pid, encode, run) {
    let r;
    if (blockers.has(oid)) r = unblocked(oid, run);
    else {
      try { r = run(); } catch (e) { return tag("E", errorInfo(e)); }
    }
    if (r !== null && (typeof r === "object" || typeof r === "function") && typeof r.then === "function") {
      Promise.resolve(r).then(...settleWith(pid, encode));
      return "P";
    }
    try { return tag("R", encode(r)); } catch (e) { return tag("E", errorInfo(e)); }
  }

  // Results keep an Error's own name and fields from compatibility date 2026-04-21, as workerd's do.
  const encodeClone = (v) => internal.serializeRpcText(v, internal.cf.enhancedErrors());

  // A Request crossing to another object (stub.fetch): its parts, as requestFromHost takes them.
  function requestToHost(request) {
    const s = bodyState(request);
    let body = null;
    if (s.has) body = (s.text !== null ? internal.utf8Encode(s.text) : s.bytes).toBase64();
    return flat(JSON.stringify([request.method, request.url, JSON.stringify(headerPairs(request.headers)), body]));
  }

  function responseFromHost(text) {
    const cut = text.indexOf("\n");
    const [status, statusText, headers, socket] = JSON.parse(text.slice(0, cut));
    const kind = text[cut + 1];
    const rest = text.slice(cut + 2);
    const body = kind === "n" ? null : kind === "t" ? rest : Uint8Array.fromBase64(rest);
    const webSocket = socket === null ? undefined : internal.web.socketOf(socket);
    return new Response(body, { status, statusText, headers, webSocket });
  }
  Object.assign(internal.web, { requestToHost: (r) => Promise.resolve(requestToHost(r)), responseFromHost });

  // Outbound requests never reach the network: the host answers them from the fakes a test
  // registered (dobj.testing.fake_fetch), or refuses them, saying so.
  globalThis.fetch = function fetch(input, init) {
    let request;
    try { request = input instanceof Request && init === undefined ? input : new Request(input, init); }
    catch (e) { return Promise.reject(e); }
    const reply = host.outbound(requestToHost(request));
    if (reply.charCodeAt(0) === 33) return Promise.reject(new TypeError(JSON.parse(reply.slice(1)).message));
    return Promise.resolve(responseFromHost(reply));
  };

  function makeCtx(oid, id, storage) {
    return {
      id, storage, ...internal.cf.socketMethods(oid),
      blockConcurrencyWhile(fn) {
        const p = Promise.resolve().then(() => fn());
        const settled = p.then(() => { blockers.delete(oid); }, () => {
          // A throw inside resets the object, as in workerd: the next event builds it anew.
          blockers.delete(oid);
          instances.delete(oid);
          host.reset(oid);
        });
        blockers.set(oid, settled);
        return p;
      },
      waitUntil(p) { Promise.resolve(p).catch(() => {}); },
      abort() {},
    };
  }

  // An error the Worker does not catch: a 500 whose text names it, as wrangler dev answers
  // (a class workerd does not know is shown as Error with "Name: message").
  const STANDARD = new Set(["Error", "TypeError", "RangeError", "SyntaxError", "ReferenceError", "EvalError", "URIError"]);
  function uncaught(e) {
    let text;
    if (e instanceof Error) text = STANDARD.has(e.name) ? e.name + ": " + e.message : "Error: " + e.name + ": " + e.message;
    else text = "Error: " + String(e);
    console.error("Uncaught " + text);
    return new Response(text, { status: 500 });
  }

  function workerCtx() {
    return { waitUntil(p) { Promise.resolve(p).catch(() => {}); }, passThroughOnException() {}, props: {} };
  }

  Object.assign(glue, {
    receive(ns) { entry = ns; },
    // "cloudflare:workers" reads its exports from here while the entry loads (see loading.py);
    // its env is the one every object gets, filled in by bind().
    builtins() { globalThis.__dobj_cloudflare = { ...internal.cf, env }; },
    describe() {
      delete globalThis.__dobj_cloudflare;
      const out = {};
      for (const key of Object.keys(entry)) {
        if (key === "default") continue;
        const C = entry[key];
        if (!isClass(C)) continue;
        const methods = methodsOf(C.prototype).filter((m) => !RESERVED.has(m) || m === "fetch" || m === "alarm");
        out[key] = { durable: extendsFrom(C, DurableObject), methods, params: methods.map((m) => C.prototype[m].length) };
      }
      const d = entry.default;
      const worker = d === undefined ? null : extendsFrom(d, WorkerEntrypoint) ? "entrypoint"
        : d !== null && typeof d === "object" && typeof d.fetch === "function" ? "handler" : "other";
      return JSON.stringify({ classes: out, worker });
    },
    bind(bindingText) {
      const { namespaces, sqlite, vars, compatibility } = JSON.parse(bindingText);   // namespace -> export name
      sqliteBacked = sqlite;
      internal.cf.setCompatibility(compatibility);
      internal.web.setSocketCompatibility(compatibility);
      const byNs = {};
      for (const ns of Object.keys(namespaces)) byNs[ns] = entry[namespaces[ns]];
      makeEnv(env, Object.keys(namespaces), vars);
      classes = byNs;
    },
    construct(oid, gen, ns, name, hex) {
      const C = classes[ns];
      const hasAlarm = () => typeof (instances.get(oid) || C.prototype).alarm === "function";
      const id = new DurableObjectId(TOKEN, hex, name === null ? undefined : name);
      try {
        instances.set(oid, new C(makeCtx(oid, id, makeStorage(oid, gen, hasAlarm, sqliteBacked[ns])), env));
        return "";
      } catch (e) {
        return tag("E", errorInfo(e));
      }
    },
    drop(oid) { instances.delete(oid); blockers.delete(oid); },
    methods(oid) { return JSON.stringify(methodsOf(Object.getPrototypeOf(instances.get(oid)))); },
    invoke(oid, method, argsText, pid) {
      const inst = instances.get(oid);
      if (RESERVED.has(method) || typeof inst[method] !== "function") return "M";
      return deliver(oid, pid, encodeClone, () => inst[method](...deserializeText(argsText)));
    },
    fetch(oid, partsText, pid) {
      const inst = instances.get(oid);
      if (typeof inst.fetch !== "function") return "M";
      const [m, url, headers, body] = JSON.parse(partsText);
      return deliver(oid, pid, responseToHost, () => inst.fetch(requestFromHost(m, url, headers, body)));
    },
    alarm(oid, retryCount, scheduledTime, pid) {
      const inst = instances.get(oid);
      if (typeof inst.alarm !== "function") return "M";
      return deliver(oid, pid, encodeClone, () => inst.alarm({ retryCount, isRetry: retryCount > 0, scheduledTime }));
    },
    // A socket event: to the Hibernation API's handler of the instance when the object took
    // the socket with ctx.acceptWebSocket, else to the listeners of the socket's WebSocket.
    socketEvent(oid, id, hibernatable, kind, a, b, c, pid) {
      if (!hibernatable) {
        return deliver(oid, pid, () => "null", () => { internal.web.dispatchSocketEvent(id, kind, a, b, c); });
      }
      const inst = instances.get(oid);
      const ws = internal.web.socketOf(id);
      if (kind === "message") {
        if (typeof inst.webSocketMessage !== "function") return tag("R", "null");
        const data = a[0] === "t" ? a.slice(1) : internal.web.binaryMessage(a);
        return deliver(oid, pid, () => "null", () => inst.webSocketMessage(ws, data));
      }
      if (kind === "close") {
        if (typeof inst.webSocketClose !== "function") return tag("R", "null");
        return deliver(oid, pid, () => "null", () => inst.webSocketClose(ws, a, b, c));
      }
      if (typeof inst.webSocketError !== "function") return tag("R", "null");
      return deliver(oid, pid, () => "null", () => inst.webSocketError(ws, new Error(a)));
    },
    forgetSockets(idsText) { internal.web.forgetSockets(JSON.parse(idsText)); },
    socketHandles() { return internal.web.socketHandles(); },
    workerFetch(partsText, pid) {
      const d = entry.default;
      const [m, url, headers, body] = JSON.parse(partsText);
      const request = requestFromHost(m, url, headers, body);
      return deliver(-1, pid, responseToHost, () => {
        let r;
        try {
          r = extendsFrom(d, WorkerEntrypoint) ? new d(workerCtx(), env).fetch(request) : d.fetch(request, env, workerCtx());
        } catch (e) { return uncaught(e); }
        return Promise.resolve(r).then((v) => (v instanceof Response ? v : uncaught(
          new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'."))), uncaught);
      });
    },
  });
})
