import { DurableObject } from "cloudflare:workers";

const errorText = (e) => `${e?.name}: ${e?.message}`;

function kind(v) {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (typeof v === "object") return v.constructor?.name ?? "Object";
  return typeof v;
}

const isUpgrade = (request) => request.headers.get("Upgrade")?.toLowerCase() === "websocket";

// A binary message as the listener got it: an ArrayBuffer, or a Blob (the default
// binaryType from compatibility date 2026-03-17).
async function bytesOf(data) {
  return new Uint8Array(kind(data) === "Blob" ? await data.arrayBuffer() : data);
}

function describeBinary(data) {
  return kind(data) === "Blob" ? { kind: "Blob", size: data.size, blobType: data.type } : { kind: kind(data), byteLength: data.byteLength };
}

// Echoes what each socket sends, with a prefix; keeps what its listeners saw in a SQL table
// (GET /echo/NAME/log).
export class Echo extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, entry TEXT NOT NULL)");
  }

  log(entry) {
    this.ctx.storage.sql.exec("INSERT INTO log (entry) VALUES (?)", JSON.stringify(entry));
  }

  entries() {
    return this.ctx.storage.sql.exec("SELECT entry FROM log ORDER BY seq").toArray().map((r) => JSON.parse(r.entry));
  }

  async fetch(request) {
    const url = new URL(request.url);
    switch (url.pathname.split("/")[3]) {
      case "ws": return this.connect(request, url);
      case "log": return Response.json(this.entries());
      case "seen": {
        const want = { event: url.searchParams.get("event"), user: url.searchParams.get("user") };
        return Response.json({ seen: this.entries().some((e) => e.event === want.event && e.user === want.user) });
      }
    }
    return new Response("no such route", { status: 404 });
  }

  connect(request, url) {
    if (!isUpgrade(request)) return new Response("expected Upgrade: websocket", { status: 426 });
    const user = url.searchParams.get("user") ?? "anonymous";
    const reply = url.searchParams.get("reply") !== "0"; // reply=0: the close listener does not call close()
    const [client, server] = Object.values(new WebSocketPair());
    const entry = { event: "connect", user, before: { server: server.readyState, client: client.readyState } };
    if (url.searchParams.get("halfOpen") === "1") server.accept({ allowHalfOpen: true });
    else server.accept();
    entry.accepted = { server: server.readyState, client: client.readyState, binaryType: server.binaryType };
    if (url.searchParams.get("binaryType")) {
      server.binaryType = url.searchParams.get("binaryType");
      entry.binaryTypeSet = server.binaryType;
    }
    this.log(entry);

    server.addEventListener("message", async (event) => {
      const data = event.data;
      const text = typeof data === "string" ? data : null;
      this.log({
        event: "message", user, type: typeof data, eventKind: kind(event),
        ...(text === null ? describeBinary(data) : text.length > 100 ? { length: text.length } : { message: text }),
        readyState: server.readyState,
      });
      if (text === null) {
        // a report, then the same bytes back as a binary message
        server.send(JSON.stringify(describeBinary(data)));
        server.send(await bytesOf(data));
        return;
      }
      const [command, ...rest] = text.split(":");
      switch (command) {
        case "close":
          server.close(Number(rest[0]), rest.slice(1).join(":"));
          return;
        case "state":
          server.send(JSON.stringify({ readyState: server.readyState, binaryType: server.binaryType, protocol: server.protocol, extensions: server.extensions, url: server.url }));
          return;
        case "throw":
          throw new Error("boom in listener");
        case "send-after-close": {
          server.close(1000, "x");
          let result = "sent";
          try { server.send("y"); } catch (e) { result = errorText(e); }
          this.log({ event: "message", user, sendAfterClose: result, readyState: server.readyState });
          return;
        }
        default:
          server.send(text.length > 100 ? `echo of ${text.length} characters` : `echo: ${text}`);
      }
    });

    server.addEventListener("close", (event) => {
      const e = { event: "close", user, eventKind: kind(event), code: event.code, reason: event.reason, wasClean: event.wasClean, readyState: server.readyState };
      if (reply && event.code !== 1005 && event.code !== 1006) {
        try { server.close(event.code, `handler ${event.reason}`); e.handlerClose = "ok"; } catch (err) { e.handlerClose = errorText(err); }
        e.readyStateAfter = server.readyState;
      }
      this.log(e);
    });

    server.addEventListener("error", (event) => {
      this.log({ event: "error", user, eventKind: kind(event), message: event.message, error: event.error ? errorText(event.error) : null });
    });

    // sent before the 101 goes out: it reaches the client first
    server.send(`hello ${user}`);
    return new Response(null, { status: 101, webSocket: client });
  }
}

// A socket made and accepted by the Worker itself, without a Durable Object.
function direct(request) {
  if (!isUpgrade(request)) return new Response("expected Upgrade: websocket", { status: 426 });
  const [client, server] = Object.values(new WebSocketPair());
  server.accept();
  server.addEventListener("message", async (event) => {
    if (typeof event.data === "string") {
      server.send(event.data === "state" ? JSON.stringify({ readyState: server.readyState, binaryType: server.binaryType }) : `direct: ${event.data}`);
    } else {
      server.send(JSON.stringify(describeBinary(event.data)));
      server.send(await bytesOf(event.data));
    }
  });
  server.addEventListener("close", (event) => {
    // on a date with web_socket_auto_reply_to_close the runtime has already answered
    if (event.code !== 1005 && event.code !== 1006) server.close(event.code, `direct handler ${event.reason}`);
  });
  server.send("hello from the Worker");
  return new Response(null, { status: 101, webSocket: client });
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, area, name] = url.pathname.split("/");
    try {
      if (area === "direct") return direct(request);
      if (area === "echo" && name) return await env.ECHO.getByName(name).fetch(request);
    } catch (e) {
      return Response.json({ error: errorText(e) }, { status: 500 });
    }
    return new Response("not found", { status: 404 });
  },
};
