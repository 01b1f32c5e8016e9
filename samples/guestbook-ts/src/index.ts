import { DurableObject } from "cloudflare:workers";

interface Env {
  GUESTBOOK: DurableObjectNamespace<Guestbook>;
  MAX_ENTRY: number;
}

export interface Entry {
  id: number;
  author: string;
  text: string;
  at: string;
}

// One guestbook per page: its entries live in a SQL table of the object's own database.
export class Guestbook extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS entries (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      author TEXT NOT NULL,
      text TEXT NOT NULL,
      at TEXT NOT NULL
    )`);
  }

  sign(author: string, text: string): Entry {
    if (!author || !text) throw new RangeError("an entry needs an author and a text");
    if (text.length > this.env.MAX_ENTRY) throw new RangeError(`an entry holds at most ${this.env.MAX_ENTRY} characters`);
    return this.ctx.storage.sql
      .exec<Entry>("INSERT INTO entries (author, text, at) VALUES (?, ?, ?) RETURNING *", author, text, new Date().toISOString())
      .one();
  }

  entries(limit = 10): Entry[] {
    return this.ctx.storage.sql.exec<Entry>("SELECT * FROM entries ORDER BY id DESC LIMIT ?", limit).toArray();
  }

  count(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM entries").one().n;
  }
}

// The Worker: GET /page/:name lists a page's entries, POST /page/:name signs it.
export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const match = new URL(request.url).pathname.match(/^\/page\/([^/]+)$/);
    if (!match) return new Response("try GET or POST /page/:name", { status: 404 });
    const book = env.GUESTBOOK.getByName(decodeURIComponent(match[1]));
    if (request.method === "POST") {
      const { author, text } = await request.json<{ author: string; text: string }>();
      try {
        return Response.json(await book.sign(author, text), { status: 201 });
      } catch (e) {
        return Response.json({ error: (e as Error).message }, { status: 400 });
      }
    }
    return Response.json({ count: await book.count(), entries: await book.entries() });
  },
} satisfies ExportedHandler<Env>;
