import { DurableObject } from "cloudflare:workers";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Each case reads a counter, awaits something, then writes counter + 1 and answers the
// value it wrote. Sent three at a time: 1, 2, 3 means the events ran one after another;
// 1, 1, 1 means they interleaved at the await and updates were lost.
export class Gated extends DurableObject {
  calls = 0;

  async readModifyWrite(kind) {
    this.calls++;
    const s = this.ctx.storage;
    switch (kind) {
      case "storage": {
        // awaits only storage between the read and the write
        const n = (await s.get("n")) ?? 0;
        await s.get("unrelated");
        await s.put("n", n + 1);
        return n + 1;
      }
      case "timer": {
        const n = (await s.get("n")) ?? 0;
        await sleep(100);
        await s.put("n", n + 1);
        return n + 1;
      }
      case "timer-in-blockConcurrencyWhile":
        return this.ctx.blockConcurrencyWhile(async () => {
          const n = (await s.get("n")) ?? 0;
          await sleep(100);
          await s.put("n", n + 1);
          return n + 1;
        });
      case "stub-call": {
        // awaits a call to another object between the read and the write
        const n = (await s.get("n")) ?? 0;
        await this.env.HELPER.getByName("helper").ping();
        await s.put("n", n + 1);
        return n + 1;
      }
      case "sync-kv-and-timer": {
        const n = s.kv.get("n") ?? 0;
        await sleep(100);
        s.kv.put("n", n + 1);
        return n + 1;
      }
      case "sql-and-timer": {
        s.sql.exec("CREATE TABLE IF NOT EXISTS c (id INTEGER PRIMARY KEY, n INTEGER)");
        const n = s.sql.exec("SELECT n FROM c WHERE id = 1").toArray()[0]?.n ?? 0;
        await sleep(100);
        s.sql.exec("INSERT INTO c VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET n = excluded.n", n + 1);
        return n + 1;
      }
      case "microtasks": {
        const n = (await s.get("n")) ?? 0;
        for (let i = 0; i < 10; i++) await null;
        await s.put("n", n + 1);
        return n + 1;
      }
      case "allowConcurrency-get": {
        const n = (await s.get("n", { allowConcurrency: true })) ?? 0;
        await s.get("unrelated", { allowConcurrency: true });
        await s.put("n", n + 1);
        return n + 1;
      }
      default:
        throw new Error(`no case ${kind}`);
    }
  }

  async value() {
    const s = this.ctx.storage;
    const kv = (await s.get("n")) ?? null;
    const tables = s.sql.exec("SELECT name FROM sqlite_master WHERE name = 'c'").toArray();
    const sql = tables.length ? s.sql.exec("SELECT n FROM c WHERE id = 1").one().n : null;
    return { kv, sql, callsOnThisInstance: this.calls };
  }

  // ctx.waitUntil inside an object: the answer goes out before the promise settles.
  async waitUntilLater() {
    this.calls++;
    const returned = this.ctx.waitUntil(sleep(100).then(() => this.ctx.storage.put("late", true)));
    return { returned: returned === undefined ? "undefined" : typeof returned, lateNow: (await this.ctx.storage.get("late")) ?? false };
  }

  async late() {
    return { late: (await this.ctx.storage.get("late")) ?? false, workerMark: (await this.ctx.storage.get("mark")) ?? null };
  }

  async mark(value) {
    await sleep(100);
    await this.ctx.storage.put("mark", value);
  }

  // blockConcurrencyWhile gives back what its callback returns; a throw inside resets the object.
  async blockConcurrencyWhileResult(fail) {
    this.calls++;
    const r = await this.ctx.blockConcurrencyWhile(async () => {
      if (fail) throw new Error("callback failed");
      return { from: "callback" };
    });
    return r;
  }
}

export class Helper extends DurableObject {
  async ping() {
    await sleep(20);
    return "pong";
  }
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const [, area, name, extra] = url.pathname.split("/");
    const stub = env.GATED.getByName(name ?? "");
    const json = (v) => Response.json(v);
    try {
      switch (area) {
        case "rmw": return json({ wrote: await stub.readModifyWrite(extra) });
        case "value": return json(await stub.value());
        case "wait-until": return json(await stub.waitUntilLater());
        case "late": return json(await stub.late());
        case "worker-wait-until": {
          // the Worker answers at once; the call it handed to ctx.waitUntil still completes
          ctx.waitUntil(stub.mark("set after the response"));
          return json({ answered: true });
        }
        case "bcw": return json(await stub.blockConcurrencyWhileResult(extra === "fail"));
      }
    } catch (e) {
      return json({ error: { name: e.name, message: e.message } });
    }
    return new Response("not found", { status: 404 });
  },
};
