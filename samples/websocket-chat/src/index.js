import { DurableObject } from "cloudflare:workers";
import PAGE from "./page.html";

// One chat room. Its clients hold WebSockets that the room accepts with the Hibernation API
// (ctx.acceptWebSocket), so the room may be dropped from memory between messages and built
// again for the next one: each socket keeps the user's name in its attachment, and the last
// messages are kept in a SQL table, not in memory.
export class ChatRoom extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS messages (
      id INTEGER PRIMARY KEY, user TEXT NOT NULL, text TEXT NOT NULL)`);
    // "ping" is answered by the runtime itself, without waking the room.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  async fetch(request) {
    if (request.headers.get("Upgrade") !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const user = new URL(request.url).searchParams.get("user") || "anonymous";
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server, [user]);
    server.serializeAttachment({ user });
    const history = this.ctx.storage.sql
      .exec("SELECT user, text FROM messages ORDER BY id DESC LIMIT 10").toArray().reverse();
    server.send(JSON.stringify({ welcome: user, history, online: this.online() }));
    this.broadcast({ joined: user }, server);
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    const { user } = ws.deserializeAttachment();
    const text = String(message).trim();
    if (!text) return;
    if (text === "/who") {
      ws.send(JSON.stringify({ online: this.online() }));
      return;
    }
    this.ctx.storage.sql.exec("INSERT INTO messages (user, text) VALUES (?, ?)", user, text);
    this.broadcast({ from: user, text });
  }

  // A client left: answer its close frame (hibernatable sockets are not answered by the
  // runtime) unless it vanished without one, and tell the others.
  webSocketClose(ws, code, reason) {
    if (code !== 1006) ws.close(code === 1005 ? 1000 : code, reason);
    const { user } = ws.deserializeAttachment();
    this.broadcast({ left: user, code }, ws);
  }

  // Everyone in the room but `except`.
  broadcast(message, except) {
    const text = JSON.stringify(message);
    for (const ws of this.ctx.getWebSockets()) {
      if (ws !== except) ws.send(text);
    }
  }

  online() {
    return this.ctx.getWebSockets().map((ws) => ws.deserializeAttachment().user);
  }

  // For the stats route and for tests: who is online, how many messages are kept.
  stats() {
    const [{ n }] = this.ctx.storage.sql.exec("SELECT count(*) AS n FROM messages").toArray();
    return { online: this.online(), messages: n };
  }
}

// GET / is the chat page; /room/NAME/ws?user=U opens the room's WebSocket; /room/NAME/stats.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, route, name, action] = url.pathname.split("/");
    if (url.pathname === "/") {
      return new Response(PAGE, { headers: { "content-type": "text/html; charset=utf-8" } });
    }
    if (route !== "room" || !name) return new Response("not found", { status: 404 });
    const room = env.ROOM.getByName(name);
    if (action === "ws") return room.fetch(request);
    if (action === "stats") return Response.json(await room.stats());
    return new Response("not found", { status: 404 });
  },
};
