import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject {
  fetch(request) {
    const [client, server] = Object.values(new WebSocketPair());
    this.ctx.acceptWebSocket(server);
    return new Response(null, { status: 101, webSocket: client });
  }

  webSocketMessage(ws, message) {
    for (const socket of this.ctx.getWebSockets()) socket.send(message);
  }

  webSocketClose(ws, code, reason) {
    if (code !== 1005 && code !== 1006) ws.close(code, reason);
  }
}

// GET /health; /room/NAME/ws opens a WebSocket to room NAME.
export default {
  fetch(request, env) {
    const [, route, name] = new URL(request.url).pathname.split("/");
    if (route === "health") return new Response("ok");
    if (route === "room" && name) return env.ROOM.getByName(name).fetch(request);
    return new Response("not found", { status: 404 });
  },
};
