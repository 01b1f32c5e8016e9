import { DurableObject } from "cloudflare:workers";
import { MyError, QuietError } from "./errors.js";
import { attempt, describe } from "./describe.js";

class Point {
  constructor(x, y) { this.x = x; this.y = y; }
}

const THROWS = {
  typeError: () => { throw new TypeError("bad type"); },
  rangeError: () => { throw new RangeError("out of range"); },
  custom: () => { throw new MyError("custom failure"); },
  quietSubclass: () => { throw new QuietError("quiet failure"); },
  withCause: () => { throw new Error("outer", { cause: new Error("inner") }); },
  domException: () => { throw new DOMException("stopped", "AbortError"); },
  aggregate: () => { throw new AggregateError([new Error("one")], "many"); },
  string: () => { throw "just a string"; },
  number: () => { throw 42; },
  object: () => { throw { plain: true }; },
  null: () => { throw null; },
  undefined: () => { throw undefined; },
  asyncReject: async () => { await null; throw new SyntaxError("rejected later"); },
  emptyMessage: () => { throw new Error(""); },
};

export class Thrower extends DurableObject {
  throwing(kind) {
    return THROWS[kind]();
  }

  async throwAfterWrite() {
    await this.ctx.storage.put("written", true);
    throw new MyError("after a write");
  }

  async wasWritten() {
    return (await this.ctx.storage.get("written")) ?? false;
  }

  returnError() {
    const e = new MyError("returned, not thrown");
    return e;
  }

  echo(...args) {
    return args.length === 1 ? args[0] : args;
  }

  argumentCount(...args) {
    return { count: args.length, described: args.map((a) => describe(a)) };
  }

  async applyTwice(fn, x) {
    return { first: await fn(x), second: await fn(await fn(x)) };
  }

  returnPoint() {
    return new Point(1, 2);
  }

  returnFunction() {
    return (x) => x + 1;
  }

  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (path === "/throw") throw new Error("thrown inside fetch");
    if (path === "/throw-custom") throw new MyError("custom thrown inside fetch");
    if (path === "/not-a-response") return { not: "a Response" };
    if (path === "/status-500") return new Response("object said 500", { status: 500 });
    return new Response(`object fetch ${path}`);
  }
}

// What a caught error looks like on the Worker's side.
function caught(e) {
  if (e === null || typeof e !== "object") return { thrownValue: describe(e) };
  return {
    name: e.name,
    message: e.message,
    remote: e.remote ?? "absent",
    custom: { code: e.code ?? "absent", details: e.details ?? "absent" },
    cause: "cause" in e ? describe(e.cause) : "absent",
    isInstance: {
      Error: e instanceof Error,
      TypeError: e instanceof TypeError,
      MyError: e instanceof MyError,
      DOMException: e instanceof DOMException,
    },
    constructorName: e.constructor?.name,
    ownKeys: Object.getOwnPropertyNames(e).filter((k) => k !== "stack").sort(),
    hasStack: typeof e.stack === "string",
  };
}

async function rpcCase(stub, kind) {
  try {
    const value = await stub.throwing(kind);
    return { returned: describe(value) };
  } catch (e) {
    return caught(e);
  }
}

function echoSamples() {
  const cyclic = { name: "cyclic" };
  cyclic.self = cyclic;
  return {
    "undefined": undefined, "-0": -0, "NaN": NaN, "BigInt": 2n ** 70n,
    "Date": new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), "Map": new Map([[1, { a: [1] }]]),
    "Set": new Set(["x", 1]), "RegExp": /x+/y, "Uint8Array": new Uint8Array([1, 2, 3]),
    "ArrayBuffer": new Uint8Array([7]).buffer, "nested": { a: [{ b: null }] },
    "cyclic": cyclic, "sparse array": [1, , 3], "Error": new RangeError("as a value"),
    "custom Error": new MyError("custom as a value"),
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, area, kind] = url.pathname.split("/");
    const stub = env.THROWER.getByName(url.searchParams.get("object") ?? "main");

    if (area === "rpc") return Response.json(await rpcCase(stub, kind));

    if (area === "after-write") {
      let error;
      try { await stub.throwAfterWrite(); } catch (e) { error = caught(e); }
      return Response.json({ error, writeKept: await stub.wasWritten() });
    }

    if (area === "return-error") return Response.json(describe(await stub.returnError()));

    if (area === "missing-method") {
      try { return Response.json({ returned: describe(await stub.noSuchMethod()) }); } catch (e) { return Response.json(caught(e)); }
    }

    if (area === "echo") {
      const out = {};
      for (const [label, value] of Object.entries(echoSamples())) {
        try { out[label] = describe(await stub.echo(value)); } catch (e) { out[label] = { error: caught(e) }; }
      }
      out["class instance"] = await attempt(() => stub.echo(new Point(1, 2)));
      out["class instance returned"] = await attempt(() => stub.returnPoint());
      out["function returned, then called"] = await attempt(async () => {
        const f = await stub.returnFunction();
        return { type: typeof f, result: await f(41) };
      });
      out["a function passed as an argument"] = await attempt(() => stub.applyTwice((x) => x * 3, 2));
      out["symbol"] = await attempt(() => stub.echo(Symbol("s")));
      out["no arguments"] = await attempt(() => stub.argumentCount());
      out["explicit undefined"] = await attempt(() => stub.argumentCount(undefined));
      out["trailing undefined"] = await attempt(() => stub.argumentCount(1, undefined));
      return Response.json(out);
    }

    if (area === "fetch") {
      // the object's fetch() reached through stub.fetch, its errors caught here
      try {
        const r = await stub.fetch(`http://object/${kind}`);
        return Response.json({ status: r.status, body: await r.text() });
      } catch (e) {
        return Response.json(caught(e));
      }
    }

    if (area === "fetch-uncaught") return stub.fetch(`http://object/${kind}`);
    if (area === "rpc-uncaught") return Response.json(await stub.throwing(kind));
    if (area === "uncaught") throw new MyError("thrown by the Worker itself");
    if (area === "uncaught-string") throw "a string thrown by the Worker";
    if (area === "not-a-response") return "not a Response";

    return new Response("not found", { status: 404 });
  },
};
