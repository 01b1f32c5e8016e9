import { DurableObject } from "cloudflare:workers";

const errorText = (e) => `${e?.name}: ${e?.message}`;

// what a value is, without its (possibly large) content
function kind(v) {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "object") return v.constructor?.name ?? "Object";
  return typeof v;
}

// A chat room whose sockets use the Hibernation API. Everything a handler sees is kept in a
// SQL table, so GET /room/NAME/log shows it even after the object was evicted from memory.
export class Room extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)");
    // answered by the runtime without waking the object
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
  }

  log(entry) {
    this.ctx.storage.sql.exec("INSERT INTO log (entry) VALUES (?)", JSON.stringify(entry));
  }

  userOf(ws) {
    const a = ws.deserializeAttachment();
    return a && typeof a === "object" ? a.user : `(attachment ${kind(a)})`;
  }

  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    switch (action) {
      case "ws": return this.connect(request, url);
      case "log":
        return Response.json(this.ctx.storage.sql.exec("SELECT entry FROM log ORDER BY seq").toArray()
          .map((r) => JSON.parse(r.entry)));
      case "seen": {
        // has a handler run for this user yet (to wait for one that runs after a disconnect)
        const want = { handler: url.searchParams.get("handler"), user: url.searchParams.get("user") };
        const seen = this.ctx.storage.sql.exec("SELECT entry FROM log").toArray()
          .map((r) => JSON.parse(r.entry)).some((e) => e.handler === want.handler && e.user === want.user);
        return Response.json({ seen });
      }
      case "probe": return Response.json(this.probe());
    }
    return new Response("no such route", { status: 404 });
  }

  connect(request, url) {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected Upgrade: websocket", { status: 426 });
    }
    const user = url.searchParams.get("user") ?? "anonymous";
    const reply = url.searchParams.get("reply") !== "0"; // reply=0: webSocketClose leaves the socket be
    const tags = (url.searchParams.get("tags") ?? "").split(",").filter(Boolean);
    const offered = (request.headers.get("Sec-WebSocket-Protocol") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
    const pair = new WebSocketPair();
    const [client, server] = Object.values(pair);
    this.ctx.acceptWebSocket(server, tags);
    server.serializeAttachment(reply ? { user } : { user, reply });
    // sent before the 101 goes out: it reaches the client first
    server.send(`welcome ${user}`);
    this.log({ handler: "fetch", user, tags: this.ctx.getTags(server), offered, count: this.ctx.getWebSockets().length });
    const headers = offered.includes("chat") ? { "Sec-WebSocket-Protocol": "chat" } : {};
    return new Response(null, { status: 101, webSocket: client, headers });
  }

  async webSocketMessage(ws, message) {
    const user = this.userOf(ws);
    const text = typeof message === "string" ? message : null;
    this.log({
      handler: "webSocketMessage", user, type: typeof message, kind: kind(message),
      ...(text === null ? { byteLength: message.byteLength }
        : text.length > 100 ? { length: text.length } : { message: text }),
      count: this.ctx.getWebSockets().length,
    });
    if (text === null) {
      ws.send(JSON.stringify({ binary: kind(message), byteLength: message.byteLength }));
      return;
    }
    const [command, ...rest] = text.split(":");
    switch (command) {
      case "broadcast":
        for (const s of this.ctx.getWebSockets()) s.send(`${user}: ${rest.join(":")}`);
        return;
      case "tag": {
        const [tag, ...words] = rest;
        const targets = this.ctx.getWebSockets(tag);
        for (const s of targets) s.send(`${user} to ${tag} (${targets.length}): ${words.join(":")}`);
        return;
      }
      case "whoami":
        ws.send(JSON.stringify({ attachment: ws.deserializeAttachment(), tags: this.ctx.getTags(ws) }));
        return;
      case "attach": {
        // the attachment limit, counted in serialized bytes
        const n = Number(rest[0]);
        let result = "ok";
        try { ws.serializeAttachment("x".repeat(n)); } catch (e) { result = errorText(e); }
        const after = ws.deserializeAttachment();
        ws.send(JSON.stringify({ n, result, after: typeof after === "string" ? `string of ${after.length}` : after }));
        ws.serializeAttachment({ user });
        return;
      }
      case "count":
        ws.send(String(this.ctx.getWebSockets().length));
        return;
      case "close":
        ws.close(Number(rest[0]), rest.slice(1).join(":"));
        return;
      case "throw":
        throw new Error("boom");
      case "send-after-close": {
        ws.close(1000, "x");
        let result = "sent";
        try { ws.send("y"); } catch (e) { result = errorText(e); }
        this.log({ handler: "webSocketMessage", user, sendAfterClose: result, readyState: ws.readyState });
        return;
      }
      case "autoresponse": {
        const ts = this.ctx.getWebSocketAutoResponseTimestamp(ws);
        ws.send(JSON.stringify({ timestamp: ts === null ? null : kind(ts) }));
        return;
      }
      default:
        ws.send(text.length > 100 ? `echo of ${text.length} characters` : `echo ${text}`);
    }
  }

  async webSocketClose(ws, code, reason, wasClean) {
    const user = this.userOf(ws);
    const entry = { handler: "webSocketClose", user, code, reason, wasClean, readyState: ws.readyState, count: this.ctx.getWebSockets().length };
    // answer a client's close with a frame of our own, unless connected with reply=0
    // (1005 and 1006 cannot be sent)
    if (ws.deserializeAttachment()?.reply !== false && code !== 1005 && code !== 1006) {
      try { ws.close(code, `handler ${reason}`); entry.handlerClose = "ok"; } catch (e) { entry.handlerClose = errorText(e); }
    }
    this.log(entry);
  }

  async webSocketError(ws, error) {
    this.log({ handler: "webSocketError", user: this.userOf(ws), error: errorText(error) });
  }

  // Error paths and values of the API, tried synchronously; each entry is {ok} or {error}.
  probe() {
    const out = {};
    const attempt = (name, f) => {
      try { out[name] = { ok: f() ?? null }; } catch (e) { out[name] = { error: errorText(e) }; }
    };
    const server = () => Object.values(new WebSocketPair())[1];
    const tags = (n, len = 1) => Array.from({ length: n }, (_, i) => String(i).padStart(len, "t"));

    attempt("pair keys", () => {
      const pair = new WebSocketPair();
      return { keys: Object.keys(pair), zero: kind(pair[0]), one: kind(pair[1]), values: Object.values(pair).length };
    });
    attempt("WebSocket constants", () => ({ CONNECTING: WebSocket.CONNECTING, OPEN: WebSocket.OPEN, CLOSING: WebSocket.CLOSING, CLOSED: WebSocket.CLOSED }));
    attempt("readyState", () => {
      const [client, s] = Object.values(new WebSocketPair());
      const r = { client: client.readyState, serverBefore: s.readyState };
      this.ctx.acceptWebSocket(s, ["probe"]);
      r.serverAccepted = s.readyState;
      r.clientAfterAccept = client.readyState;
      s.close(1000, "done");
      r.serverAfterClose = s.readyState;
      r.clientAfterClose = client.readyState;
      return r;
    });
    attempt("acceptWebSocket 10 tags", () => { this.ctx.acceptWebSocket(server(), tags(10)); return "accepted"; });
    attempt("acceptWebSocket 11 tags", () => { this.ctx.acceptWebSocket(server(), tags(11)); return "accepted"; });
    attempt("acceptWebSocket tag of 256 chars", () => { this.ctx.acceptWebSocket(server(), ["a".repeat(256)]); return "accepted"; });
    attempt("acceptWebSocket tag of 257 chars", () => { this.ctx.acceptWebSocket(server(), ["a".repeat(257)]); return "accepted"; });
    attempt("acceptWebSocket empty tag", () => { this.ctx.acceptWebSocket(server(), [""]); return "accepted"; });
    attempt("acceptWebSocket duplicate tags", () => {
      const s = server();
      this.ctx.acceptWebSocket(s, ["dup", "dup"]);
      return this.ctx.getTags(s);
    });
    attempt("acceptWebSocket non-string tag", () => {
      const s = server();
      this.ctx.acceptWebSocket(s, [42]);
      return this.ctx.getTags(s);
    });
    attempt("acceptWebSocket twice", () => {
      const s = server();
      this.ctx.acceptWebSocket(s);
      this.ctx.acceptWebSocket(s);
      return "accepted twice";
    });
    attempt("accept() after acceptWebSocket", () => {
      const s = server();
      this.ctx.acceptWebSocket(s);
      s.accept();
      return "accepted";
    });
    attempt("acceptWebSocket after accept()", () => {
      const s = server();
      s.accept();
      this.ctx.acceptWebSocket(s);
      return "accepted";
    });
    attempt("acceptWebSocket of the client end", () => {
      const [client] = Object.values(new WebSocketPair());
      this.ctx.acceptWebSocket(client);
      return "accepted";
    });
    attempt("send before accept", () => { server().send("x"); return "sent"; });
    attempt("close before accept", () => { server().close(1000, "x"); return "closed"; });
    attempt("close code 1005", () => { const s = server(); this.ctx.acceptWebSocket(s); s.close(1005); return "closed"; });
    attempt("close code 999", () => { const s = server(); this.ctx.acceptWebSocket(s); s.close(999); return "closed"; });
    attempt("close reason of 124 bytes", () => { const s = server(); this.ctx.acceptWebSocket(s); s.close(1000, "r".repeat(124)); return "closed"; });
    attempt("close reason of 123 bytes", () => { const s = server(); this.ctx.acceptWebSocket(s); s.close(1000, "r".repeat(123)); return "closed"; });
    attempt("Response 101 without webSocket", () => { const r = new Response(null, { status: 101 }); return r.status; });
    attempt("Response 200 with webSocket", () => {
      const [client] = Object.values(new WebSocketPair());
      const r = new Response(null, { status: 200, webSocket: client });
      return { status: r.status, webSocket: kind(r.webSocket) };
    });
    attempt("Response 101 with webSocket", () => {
      const [client] = Object.values(new WebSocketPair());
      const r = new Response(null, { status: 101, webSocket: client });
      return { status: r.status, webSocket: kind(r.webSocket), ok: r.ok };
    });
    attempt("getTags of a socket not accepted", () => this.ctx.getTags(server()));
    attempt("getTags without tags", () => { const s = server(); this.ctx.acceptWebSocket(s); return this.ctx.getTags(s); });
    attempt("getWebSockets of an unknown tag", () => this.ctx.getWebSockets("no-such-tag").length);
    attempt("getWebSocketAutoResponseTimestamp of a new socket", () => {
      const s = server();
      this.ctx.acceptWebSocket(s);
      return kind(this.ctx.getWebSocketAutoResponseTimestamp(s));
    });
    attempt("getWebSocketAutoResponse", () => {
      const p = this.ctx.getWebSocketAutoResponse();
      return { kind: kind(p), request: p.request, response: p.response };
    });
    attempt("setWebSocketAutoResponse() then get", () => {
      this.ctx.setWebSocketAutoResponse();
      const p = this.ctx.getWebSocketAutoResponse();
      this.ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair("ping", "pong"));
      return kind(p);
    });
    attempt("WebSocketRequestResponsePair with a number", () => {
      const p = new WebSocketRequestResponsePair(1, 2);
      return { request: p.request, response: p.response, types: [typeof p.request, typeof p.response] };
    });
    attempt("WebSocketRequestResponsePair without arguments", () => { new WebSocketRequestResponsePair(); return "made"; });
    attempt("serializeAttachment of a function", () => { const s = server(); this.ctx.acceptWebSocket(s); s.serializeAttachment(() => 1); return "stored"; });
    attempt("serializeAttachment before accept", () => { const s = server(); s.serializeAttachment({ a: 1 }); return s.deserializeAttachment(); });
    attempt("deserializeAttachment when none was set", () => { const s = server(); this.ctx.acceptWebSocket(s); return kind(s.deserializeAttachment()); });
    attempt("attachment round trip", () => {
      const s = server();
      this.ctx.acceptWebSocket(s);
      s.serializeAttachment({ map: new Map([[1, "one"]]), date: new Date(0), n: -0, big: 10n });
      const a = s.deserializeAttachment();
      return { map: kind(a.map), entries: [...a.map], date: kind(a.date), negZero: Object.is(a.n, -0), big: typeof a.big };
    });
    attempt("serializeAttachment(undefined)", () => {
      const s = server();
      this.ctx.acceptWebSocket(s);
      s.serializeAttachment({ a: 1 });
      s.serializeAttachment(undefined);
      return kind(s.deserializeAttachment());
    });
    // the sockets accepted above stay open (their client ends are dropped); close them
    let closed = 0;
    for (const s of this.ctx.getWebSockets()) {
      try { s.close(1000, "probe done"); closed++; } catch { /* already closed */ }
    }
    out["accepted by the probe"] = { ok: closed };
    return out;
  }
}

// For comparison across compatibility dates: a socket accepted with the standard API
// (accept() and listeners) by the Worker itself. It reports what a binary message arrived
// as, and its close listener calls close() unless connected with reply=0.
function plain(request, url) {
  if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") {
    return new Response("expected Upgrade: websocket", { status: 426 });
  }
  const reply = url.searchParams.get("reply") !== "0";
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.addEventListener("message", (event) => {
    const data = event.data;
    server.send(typeof data === "string" ? `plain: ${data}`
      : JSON.stringify({ binary: kind(data), size: data.size ?? data.byteLength, binaryType: server.binaryType }));
  });
  server.addEventListener("close", (event) => {
    if (reply && event.code !== 1005 && event.code !== 1006) server.close(event.code, `plain handler ${event.reason}`);
  });
  server.send(`plain, binaryType ${server.binaryType}`);
  return new Response(null, { status: 101, webSocket: client });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, area, name] = url.pathname.split("/");
    if (area === "plain") return plain(request, url);
    if (area !== "room" || !name) return new Response("not found", { status: 404 });
    try {
      return await env.ROOM.getByName(name).fetch(request);
    } catch (e) {
      return Response.json({ error: errorText(e) }, { status: 500 });
    }
  },
};
