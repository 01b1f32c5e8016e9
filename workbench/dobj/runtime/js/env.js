// Ids, stubs and env: state.id, env.<NAMESPACE>.getByName(name) and the stub calls that
// travel through the host's dispatch (SPEC section 2).
(function (internal) {
  "use strict";
  const { host, flat, codedError, toJSONText, hostError, glue } = internal;
  const pendingStubs = new Map();    // stub call id -> [resolve, reject]
  let nextStubCall = 1;

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

  // The env every constructor receives: one namespace object per namespace of the bundle.
  function makeEnv(namespaces) {
    const env = {};
    for (const ns of namespaces) env[ns] = makeNamespace(ns);
    return Object.freeze(env);
  }

  // The host answers a stub call: "R" + result JSON, or "E" + error JSON.
  glue.settleStub = (id, reply) => {
    const pr = pendingStubs.get(id);
    if (!pr) return;
    pendingStubs.delete(id);
    if (reply.charCodeAt(0) === 82) pr[0](JSON.parse(reply.slice(1)));
    else pr[1](hostError(reply.slice(1)));
  };

  Object.assign(internal, { makeId, makeEnv });
})
