// Cloudflare's classes and bindings: DurableObject, WorkerEntrypoint and RpcTarget (the
// module "cloudflare:workers"), Durable Object ids, namespaces and stubs (SPEC section 10).
// Arguments and results of stub calls cross the host as structured-clone text; a thrown
// error comes back as workerd delivers it for the project's compatibility date.
(function (internal) {
  "use strict";
  const { host, flat, TOKEN, glue, unwrap, serializeText, deserializeText } = internal;
  const pendingStubs = new Map();    // stub call id -> [resolve, reject]
  let nextStubCall = 1;
  let enhancedErrors = false;        // compatibility date 2026-04-21 or later

  // workerd's Date strings name the zone, which is always UTC there.
  const dateString = Date.prototype.toString;
  Object.defineProperty(Date.prototype, "toString", {
    value: function toString() {
      const text = dateString.call(this);
      return text.endsWith("GMT+0000") ? text + " (Coordinated Universal Time)" : text;
    },
    writable: true, configurable: true,
  });

  class DurableObject {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class WorkerEntrypoint {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }
  class RpcTarget {}
  class WorkflowEntrypoint {
    constructor(ctx, env) { this.ctx = ctx; this.env = env; }
  }

  class DurableObjectId {
    #hex;
    constructor(token, hex, name) {
      if (token !== TOKEN) throw new TypeError("Illegal constructor");
      this.#hex = hex;
      if (name !== undefined) this.name = name;
    }
    toString() { return this.#hex; }
    equals(other) { return other instanceof DurableObjectId && other.#hex === this.#hex; }
  }

  // The identity the host keeps for an id: its name when it was made from one, else its hex.
  const addressOf = (id) => (id.name !== undefined ? id.name : id.toString());

  function remoteError(info) {
    let e;
    if (info.thrown !== undefined && enhancedErrors) {  // a thrown object that is not an Error
      const value = deserializeText(info.thrown);
      value.remote = true;
      return value;
    }
    if (info.display !== undefined) {
      e = new Error(info.display);
    } else if (info.dom) {
      e = new internal.web.DOMException(info.message, info.name);
    } else {
      const Base = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError }[info.name] || Error;
      const standard = Base !== Error || info.name === "Error";
      if (Base === AggregateError) {
        e = new AggregateError([], info.message);
        if (!enhancedErrors) delete e.errors;
      } else if (enhancedErrors || standard) {
        e = new Base(info.message);
        if (!standard) Object.defineProperty(e, "name", { value: info.name, writable: true, enumerable: true, configurable: true });
        if (enhancedErrors && info.fields !== undefined) Object.assign(e, deserializeText(info.fields));
        if (enhancedErrors && info.cause !== undefined) e.cause = deserializeText(info.cause);
      } else {
        e = new Error(info.name + ": " + info.message);
      }
    }
    if (info.stack) Object.defineProperty(e, "stack", { value: info.stack, writable: true, configurable: true });
    e.remote = true;
    return e;
  }

  function callStub(ns, address, byName, method, args, raw = false) {
    let text;
    try { text = raw ? args : internal.serializeRpcText(args, enhancedErrors); } catch (e) { return Promise.reject(e); }
    const id = nextStubCall++;
    const promise = new Promise((resolve, reject) => pendingStubs.set(id, [resolve, reject]));
    const refused = host.stub(id, flat(JSON.stringify([ns, address, method, byName])), text);
    if (refused) {  // "!" + why
      pendingStubs.delete(id);
      try { unwrap(refused); } catch (e) { return Promise.reject(e); }
    }
    return promise;
  }

  function stubFetch(ns, address, byName, input, init) {
    let request;
    try { request = input instanceof Request && init === undefined ? input : new Request(input, init); }
    catch (e) { return Promise.reject(e); }
    return internal.web.requestToHost(request).then((parts) => callStub(ns, address, byName, "\u0000fetch", parts, true))
      .then((text) => internal.web.responseFromHost(text));
  }

  function makeStub(ns, id) {
    const address = addressOf(id);
    const byName = id.name !== undefined;
    const stub = { id, name: id.name };
    return new Proxy(stub, {
      get(target, prop) {
        if (typeof prop !== "string" || prop === "then" || prop === "toJSON") return undefined;
        if (prop === "id" || prop === "name") return target[prop];
        if (prop === "fetch") return (input, init) => stubFetch(ns, address, byName, input, init);
        return (...args) => callStub(ns, address, byName, prop, args);
      },
    });
  }

  function checkName(name) {
    if (typeof name !== "string") throw new TypeError("Failed to execute 'idFromName' on 'DurableObjectNamespace': parameter 1 is not of type 'string'.");
    return name;
  }

  class DurableObjectNamespace {
    #ns;
    constructor(token, ns) {
      if (token !== TOKEN) throw new TypeError("Illegal constructor");
      this.#ns = ns;
    }
    idFromName(name) { return new DurableObjectId(TOKEN, unwrap(host.cfid("name", this.#ns, flat(checkName(name)))), name); }
    newUniqueId() { return new DurableObjectId(TOKEN, unwrap(host.cfid("unique", this.#ns, ""))); }
    idFromString(hex) {
      if (typeof hex !== "string" || !/^[0-9a-fA-F]{64}$/.test(hex)) throw new TypeError("Invalid Durable Object ID: must be 64 hex digits");
      return new DurableObjectId(TOKEN, unwrap(host.cfid("string", this.#ns, hex.toLowerCase())));
    }
    get(id) {
      if (!(id instanceof DurableObjectId)) throw new TypeError("Failed to execute 'get' on 'DurableObjectNamespace': parameter 1 is not of type 'DurableObjectId'.");
      return makeStub(this.#ns, id);
    }
    getByName(name) { return this.get(this.idFromName(name)); }
    jurisdiction() { return this; }
  }

  // Fill the env every constructor and the Worker receive: vars and namespaces.
  function makeEnv(env, namespaces, vars) {
    for (const [key, value] of Object.entries(vars)) env[key] = value;
    for (const ns of namespaces) env[ns] = new DurableObjectNamespace(TOKEN, ns);
    return Object.freeze(env);
  }

  // The host answers a stub call: "R" + result text, or "E" + error info JSON.
  glue.settleStub = (id, reply) => {
    const pr = pendingStubs.get(id);
    if (!pr) return;
    pendingStubs.delete(id);
    const kind = reply[0];
    if (kind === "R") pr[0](internal.rpcResult(deserializeText(reply.slice(1))));
    else if (kind === "S") pr[0](reply.slice(1));  // stub.fetch: the response's text
    else pr[1](remoteError(JSON.parse(reply.slice(1))));
  };

  internal.cf = {
    DurableObject, WorkerEntrypoint, RpcTarget, WorkflowEntrypoint, DurableObjectId, makeEnv,
    setCompatibility(flags) { enhancedErrors = flags.enhancedErrors; },
    enhancedErrors: () => enhancedErrors,
  };
})
