import { DurableObject } from "cloudflare:workers";

export interface Message {
  id: number;
  author: string;
  text: string;
}

export class Room extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, author TEXT NOT NULL, text TEXT NOT NULL)",
    );
  }

  post(author: string, text: string): Message {
    return this.ctx.storage.sql
      .exec<Message>("INSERT INTO messages (author, text) VALUES (?, ?) RETURNING id, author, text", author, text)
      .one();
  }

  list(limit: number): Message[] {
    return this.ctx.storage.sql
      .exec<Message>("SELECT id, author, text FROM messages ORDER BY id DESC LIMIT ?", limit)
      .toArray()
      .reverse();
  }

  clear(): number {
    return this.ctx.storage.sql.exec("DELETE FROM messages").rowsWritten;
  }
}
