import { DurableObject } from "cloudflare:workers";

export class Counter extends DurableObject {
  async increment(by = 1) {
    const next = ((await this.ctx.storage.get("count")) ?? 0) + by;
    await this.ctx.storage.put("count", next);
    return next;
  }

  async count() {
    return (await this.ctx.storage.get("count")) ?? 0;
  }
}

export class SqlCounter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)");
  }

  increment(by = 1) {
    return this.ctx.storage.sql
      .exec("INSERT INTO counter VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET n = n + excluded.n RETURNING n", by)
      .one().n;
  }
}

// POST /rpc/COUNTER/:name/increment with [by] -> {"ok":true,"result":n}; GET /count/:name;
// GET /health. The same routes as the reference Counter the HTTP benchmark loads.
export default {
  async fetch(request, env) {
    const parts = new URL(request.url).pathname.split("/");
    if (parts[1] === "health") return new Response("ok");
    if (parts[1] === "rpc" && request.method === "POST" && (parts[2] === "COUNTER" || parts[2] === "SQL_COUNTER")) {
      const [by] = await request.json();
      const result = await env[parts[2]].getByName(parts[3]).increment(by);
      return Response.json({ ok: true, result });
    }
    if (parts[1] === "count") return Response.json(await env.COUNTER.getByName(parts[2]).count());
    return new Response("not found", { status: 404 });
  },
};
