import { DurableObject, WorkerEntrypoint } from "cloudflare:workers";

async function attempt(f) {
  try {
    const v = await f();
    return { ok: v === undefined ? "undefined" : v };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

// The same probe on both storage backends.
class Probe extends DurableObject {
  async probe() {
    const s = this.ctx.storage;
    await s.put({ b: 2, a: 1, "é": 3, "z": 4 });
    return {
      "list() keys": [...(await s.list()).keys()],
      "get(['z', 'a', 'missing'])": [...(await s.get(["z", "a", "missing"])).keys()],
      "typeof sql": typeof s.sql,
      "sql.exec": await attempt(() => s.sql.exec("SELECT 1 AS one").one()),
      "sql.databaseSize": await attempt(() => typeof s.sql.databaseSize),
      "kv.get": await attempt(() => s.kv.get("a")),
      "transactionSync": await attempt(() => s.transactionSync(() => "ran")),
      "transaction + rollback": await attempt(async () => {
        await s.transaction(async (txn) => {
          await txn.put("rolled", true);
          txn.rollback();
        });
        return (await s.get("rolled")) ?? "absent";
      }),
      "put 200 entries at once": await attempt(() => s.put(Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`k${i}`, i])))),
      "get 200 keys at once": await attempt(async () => (await s.get(Array.from({ length: 200 }, (_, i) => `k${i}`))).size),
      "put a 3000-byte key": await attempt(() => s.put("k".repeat(3000), 1)),
      "put a 200,000-byte value": await attempt(() => s.put("big", "x".repeat(200_000))),
      "put(undefined value)": await attempt(() => s.put("u", undefined)),
      "setAlarm": await attempt(async () => {
        await s.setAlarm(Date.now() + 3_600_000);
        return (await s.getAlarm()) !== null;
      }),
      "deleteAll": await attempt(async () => {
        await s.deleteAll();
        return { keys: [...(await s.list()).keys()], alarmPending: (await s.getAlarm()) !== null };
      }),
    };
  }

  async alarm() {}
}

export class Legacy extends Probe {}
export class Modern extends Probe {}

export default class Main extends WorkerEntrypoint {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === "/") {
      return Response.json({
        mode: this.env.MODE,
        hasCtx: typeof this.ctx?.waitUntil === "function",
        className: this.constructor.name,
      });
    }
    const m = url.pathname.match(/^\/probe\/(legacy|modern)$/);
    if (!m) return new Response("not found", { status: 404 });
    const ns = m[1] === "legacy" ? this.env.LEGACY : this.env.MODERN;
    return Response.json(await ns.getByName("p").probe());
  }

  // an RPC method on the entrypoint itself; only service bindings can call it
  add(a, b) {
    return a + b;
  }
}
