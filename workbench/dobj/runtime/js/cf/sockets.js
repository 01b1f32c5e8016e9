// The Hibernation API of a Durable Object's ctx (SPEC section 11): acceptWebSocket with tags,
// getWebSockets, getTags, and the auto-response that answers a fixed message without waking
// the object. The host keeps all of it, so a rebuilt instance finds its sockets again.
(function (internal) {
  "use strict";
  const { webGlobal, hide, needNew, flat } = internal;
  const { socketOf, socketId, socketCall: call } = internal.web;

  let pairParts;
  class WebSocketRequestResponsePair {
    #request; #response;
    constructor(request, response) {
      if (!new.target) throw needNew("WebSocketRequestResponsePair");
      if (arguments.length < 2) throw new TypeError("Failed to construct 'WebSocketRequestResponsePair': constructor parameter " + (arguments.length + 1) + " is not of type 'string'.");
      this.#request = String(request);
      this.#response = String(response);
    }
    static { pairParts = (p) => (p instanceof WebSocketRequestResponsePair ? [p.#request, p.#response] : null); }
    get request() { return this.#request; }
    get response() { return this.#response; }
  }
  hide(WebSocketRequestResponsePair.prototype, "WebSocketRequestResponsePair");
  webGlobal("WebSocketRequestResponsePair", WebSocketRequestResponsePair);

  const idOf = (ws, method) => {
    const id = socketId(ws);
    if (id === undefined) throw new TypeError("Failed to execute '" + method + "' on 'DurableObjectState': parameter 1 is not of type 'WebSocket'.");
    return id;
  };

  // The ctx methods of object `oid`.
  internal.cf.socketMethods = (oid) => ({
    acceptWebSocket(ws, tags) {
      const id = idOf(ws, "acceptWebSocket");
      const list = tags === undefined || tags === null ? [] : Array.from(tags, String);
      call("accept", id, oid, flat(JSON.stringify(list)));
    },
    getWebSockets(tag) {
      return call("list", oid, tag === undefined ? "null" : flat(JSON.stringify(String(tag))), "").map(socketOf);
    },
    getTags(ws) { return call("tags", idOf(ws, "getTags"), "", ""); },
    setWebSocketAutoResponse(pair) {
      if (pair === undefined || pair === null) { call("auto", oid, "", ""); return; }
      const parts = pairParts(pair);
      if (parts === null) throw new TypeError("Failed to execute 'setWebSocketAutoResponse' on 'DurableObjectState': parameter 1 is not of type 'WebSocketRequestResponsePair'.");
      call("auto", oid, flat(parts[0]), flat(parts[1]));
    },
    getWebSocketAutoResponse() {
      const parts = call("autoGet", oid, "", "");
      return parts === null ? null : new WebSocketRequestResponsePair(parts[0], parts[1]);
    },
    getWebSocketAutoResponseTimestamp(ws) {
      const ms = call("autoTime", idOf(ws, "getWebSocketAutoResponseTimestamp"), "", "");
      return ms === null ? null : new Date(ms);
    },
  });
})
