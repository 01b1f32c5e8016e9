import { DurableObject } from "cloudflare:workers";
import { probes } from "./probes.js";

// One object per probe (or ?object=NAME to share one): run(probe) reports what each
// ctx.storage.sql call gave back, as JSON.
export class Db extends DurableObject {
  async run(probe) {
    if (!Object.hasOwn(probes, probe)) throw new Error(`no probe named ${probe}`);
    return probes[probe](this.ctx.storage.sql, this.ctx.storage);
  }

  async alarm() {}
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const m = url.pathname.match(/^\/probe\/([\w-]+)$/);
    if (!m) return new Response("not found", { status: 404 });
    const object = url.searchParams.get("object") ?? m[1];
    try {
      return Response.json(await env.DB.getByName(object).run(m[1]));
    } catch (e) {
      return Response.json({ uncaught: { name: e.name, message: e.message } }, { status: 500 });
    }
  },
};
