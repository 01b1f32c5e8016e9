import { DurableObject } from "cloudflare:workers";
import { BadRequest, describe, parseStep, type Step } from "./util";
import meta from "./meta.json";
import banner from "./banner.txt";

interface Env {
  COUNTER: DurableObjectNamespace<Counter>;
  GREETING: string;
  MAX_STEP: number;
  FEATURES: { reset: boolean };
}

interface Snapshot {
  name: string | undefined;
  value: number;
  updates: number;
}

export class Counter extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS counter (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      value INTEGER NOT NULL,
      updates INTEGER NOT NULL
    )`);
  }

  increment(by: Step = 1): number {
    this.sql.exec(
      `INSERT INTO counter (id, value, updates) VALUES (1, ?, 1)
       ON CONFLICT (id) DO UPDATE SET value = value + excluded.value, updates = updates + 1`,
      by,
    );
    return this.get();
  }

  get(): number {
    const row = this.sql.exec<{ value: number }>("SELECT value FROM counter WHERE id = 1").toArray()[0];
    return row?.value ?? 0;
  }

  snapshot(): Snapshot {
    const row = this.sql.exec<{ value: number; updates: number }>(
      "SELECT value, updates FROM counter WHERE id = 1",
    ).toArray()[0];
    return { name: this.ctx.id.name, value: row?.value ?? 0, updates: row?.updates ?? 0 };
  }

  reset(): boolean {
    return this.sql.exec("DELETE FROM counter").rowsWritten > 0;
  }
}

const json = (body: unknown, status = 200) => Response.json(body, { status });

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    try {
      if (parts.length === 0) {
        return json({
          greeting: env.GREETING,
          banner,
          app: meta.app,
          version: meta.version,
          tags: meta.tags,
          vars: {
            GREETING: describe(env.GREETING),
            MAX_STEP: describe(env.MAX_STEP),
            FEATURES: describe(env.FEATURES),
          },
        });
      }
      if (parts[0] !== "counter" || parts.length < 2 || parts.length > 3) {
        return new Response(`no route for ${url.pathname}`, { status: 404 });
      }
      const name = parts[1];
      const action = parts[2];
      if (action === undefined && request.method === "GET") {
        // idFromName + get reach the same object as getByName
        const stub = env.COUNTER.get(env.COUNTER.idFromName(name));
        return json({ name, value: await stub.get() });
      }
      const stub = env.COUNTER.getByName(name);
      if (action === "increment" && request.method === "POST") {
        const by = parseStep(url.searchParams.get("by"), env.MAX_STEP);
        return json({ name, value: await stub.increment(by) });
      }
      if (action === "snapshot" && request.method === "GET") {
        return json(await stub.snapshot());
      }
      if (action === "reset" && request.method === "POST" && env.FEATURES.reset) {
        return json({ name, reset: await stub.reset() });
      }
      return new Response(`no route for ${request.method} ${url.pathname}`, { status: 404 });
    } catch (e) {
      if (e instanceof BadRequest) return json({ error: e.message }, e.status);
      throw e;
    }
  },
} satisfies ExportedHandler<Env>;
