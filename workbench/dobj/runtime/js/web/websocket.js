// WebSockets as a Worker sees them (SPEC section 11): WebSocketPair, WebSocket (accept,
// send, close, addEventListener, attachments), MessageEvent, CloseEvent, ErrorEvent and Blob.
// A socket is an id the host knows; the host keeps its state, tags and attachment and carries
// every message to the other end (another socket here, or a client outside), so an object
// can be dropped and rebuilt (hibernation) while its sockets stay open. The JavaScript
// WebSocket is a handle on that id: one per id while its holder lives, a new one afterwards.
(function (internal) {
  "use strict";
  const { host, TOKEN, webGlobal, hide, needNew, bytesOf, utf8Encode, utf8Decode, flat } = internal;
  const { Event, EventTarget } = internal.web;

  // A host reply: JSON, "" for undefined, or "!" + {name, message} thrown as that class.
  function call(...args) {
    const reply = host.ws(...args);
    if (reply === "") return undefined;
    if (reply.charCodeAt(0) !== 33) return JSON.parse(reply);
    const info = JSON.parse(reply.slice(1));
    if (info.name === "InvalidAccessError") throw new internal.web.DOMException(info.message, info.name);
    const Class = { TypeError, RangeError, SyntaxError }[info.name] || Error;
    throw new Class(info.message);
  }

  // ---- Blob (what binary messages are in listeners from compatibility date 2026-03-17)
  let blobBytes;
  class Blob {
    #bytes; #type;
    constructor(parts, options) {
      if (!new.target) throw needNew("Blob");
      const chunks = [];
      for (const part of parts === undefined ? [] : parts) {
        if (part instanceof Blob) chunks.push(part.#bytes);
        else chunks.push(bytesOf(part) || utf8Encode(String(part)));
      }
      const total = chunks.reduce((n, c) => n + c.length, 0);
      this.#bytes = new Uint8Array(total);
      let at = 0;
      for (const c of chunks) { this.#bytes.set(c, at); at += c.length; }
      const type = options && options.type !== undefined ? String(options.type) : "";
      this.#type = /^[\x20-\x7e]*$/.test(type) ? type.toLowerCase() : "";
    }
    static { blobBytes = (bytes) => { const b = new Blob(); b.#bytes = bytes; return b; }; }
    get size() { return this.#bytes.length; }
    get type() { return this.#type; }
    async arrayBuffer() { return this.#bytes.slice().buffer; }
    async bytes() { return this.#bytes.slice(); }
    async text() { return utf8Decode(this.#bytes); }
    slice(start = 0, end = this.#bytes.length, type = "") {
      const b = blobBytes(this.#bytes.slice(start, end));
      b.#type = String(type);
      return b;
    }
  }
  hide(Blob.prototype, "Blob");

  // ---- the events a WebSocket dispatches
  class MessageEvent extends Event {
    #data;
    constructor(type, init) {
      super(type, init);
      this.#data = init && init.data !== undefined ? init.data : null;
    }
    get data() { return this.#data; }
  }
  hide(MessageEvent.prototype, "MessageEvent");
  class CloseEvent extends Event {
    #code; #reason; #clean;
    constructor(type, init) {
      super(type, init);
      const o = init || {};
      this.#code = o.code === undefined ? 0 : Number(o.code);
      this.#reason = o.reason === undefined ? "" : String(o.reason);
      this.#clean = !!o.wasClean;
    }
    get code() { return this.#code; }
    get reason() { return this.#reason; }
    get wasClean() { return this.#clean; }
  }
  hide(CloseEvent.prototype, "CloseEvent");
  class ErrorEvent extends Event {
    #error; #message;
    constructor(type, init) {
      super(type, init);
      const o = init || {};
      this.#error = o.error;
      this.#message = o.message === undefined ? "" : String(o.message);
    }
    get error() { return this.#error; }
    get message() { return this.#message; }
    get filename() { return ""; }
    get lineno() { return 0; }
    get colno() { return 0; }
  }
  hide(ErrorEvent.prototype, "ErrorEvent");

  // ---- WebSocket
  const sockets = new Map();        // socket id -> its WebSocket, while its holder lives
  let socketId;                     // (ws) -> its id, or undefined for anything else
  let binaryTypeOf;                 // (ws) -> "blob" or "arraybuffer"
  let blobMessages = true;          // binary messages reach listeners as Blob (2026-03-17)

  // What crosses the host for a message: "t" + text or "b" + base64.
  function payloadOf(data) {
    if (typeof data === "string") return "t" + data;
    const bytes = bytesOf(data);
    if (bytes !== null) return "b" + bytes.toBase64();
    return "t" + String(data);
  }
  const binary = (payload) => Uint8Array.fromBase64(payload.slice(1)).buffer;

  const MAX_ATTACHMENT = 16384;

  class WebSocket extends EventTarget {
    #id;
    #binaryType = blobMessages ? "blob" : "arraybuffer";
    constructor(url, protocols) {
      if (url === TOKEN) { super(); this.#id = protocols; return; }
      if (!new.target) throw needNew("WebSocket");
      super();
      throw new TypeError("new WebSocket(" + JSON.stringify(String(url)) + ") was refused: dobj runs objects" +
        " without network access; reach another object through its stub instead");
    }
    static {
      socketId = (ws) => (ws !== null && typeof ws === "object" && #id in ws ? ws.#id : undefined);
      binaryTypeOf = (ws) => ws.#binaryType;
    }
    get readyState() { return call("state", this.#id); }
    get url() { return null; }
    get protocol() { return ""; }
    get extensions() { return ""; }
    get binaryType() { return this.#binaryType; }
    set binaryType(value) { if (value === "blob" || value === "arraybuffer") this.#binaryType = value; }
    accept(options) {
      const halfOpen = options !== undefined && options !== null && !!options.allowHalfOpen;
      call("accept", this.#id, -2, halfOpen ? "half" : "listen");
    }
    send(data) {
      if (arguments.length < 1) throw new TypeError("Failed to execute 'send' on 'WebSocket': 1 argument required, but only 0 present.");
      call("send", this.#id, flat(payloadOf(data)), "");
    }
    close(code, reason) {
      call("close", this.#id, code === undefined ? -1 : Number(code), reason === undefined ? "" : flat(String(reason)));
    }
    serializeAttachment(value) {
      const text = internal.serializeText(value);
      const bytes = internal.v8Size(value);
      if (bytes > MAX_ATTACHMENT) {
        throw new Error("A WebSocket 'attachment' cannot be larger than " + MAX_ATTACHMENT + " bytes.'attachment' was " + bytes + " bytes.");
      }
      call("attach", this.#id, text, "");
    }
    deserializeAttachment() {
      const text = call("attachment", this.#id);
      return text === null ? null : internal.deserializeText(text);
    }
  }
  hide(WebSocket.prototype, "WebSocket");
  Object.entries({ READY_STATE_CONNECTING: 0, CONNECTING: 0, READY_STATE_OPEN: 1, OPEN: 1,
    READY_STATE_CLOSING: 2, CLOSING: 2, READY_STATE_CLOSED: 3, CLOSED: 3 }).forEach(([k, v]) => {
    Object.defineProperty(WebSocket, k, { value: v, enumerable: true });
    Object.defineProperty(WebSocket.prototype, k, { value: v, enumerable: true });
  });

  // The WebSocket for a socket id: the one its holder has, or a new one (after hibernation).
  function socketOf(id) {
    let ws = sockets.get(id);
    if (ws === undefined) sockets.set(id, ws = new WebSocket(TOKEN, id));
    return ws;
  }

  class WebSocketPair {
    constructor() {
      if (!new.target) throw needNew("WebSocketPair");
      const [a, b] = call("pair", -1, "", "");
      this[0] = socketOf(a);
      this[1] = socketOf(b);
    }
  }
  hide(WebSocketPair.prototype, "WebSocketPair");

  // An event of a socket whose holder listens (accept()): dispatch it to the listeners.
  function dispatchSocketEvent(id, kind, a, b, c) {
    const ws = socketOf(id);
    if (kind === "message") {
      const data = a[0] === "t" ? a.slice(1) : binaryTypeOf(ws) === "blob" ? blobBytes(new Uint8Array(binary(a))) : binary(a);
      ws.dispatchEvent(new MessageEvent("message", { data }));
    } else if (kind === "close") {
      ws.dispatchEvent(new CloseEvent("close", { code: a, reason: b, wasClean: c }));
    } else {
      ws.dispatchEvent(new ErrorEvent("error", { message: "Uncaught Error: " + a, error: new Error(a) }));
    }
  }

  webGlobal("Blob", Blob);
  webGlobal("MessageEvent", MessageEvent);
  webGlobal("CloseEvent", CloseEvent);
  webGlobal("ErrorEvent", ErrorEvent);
  webGlobal("WebSocket", WebSocket);
  webGlobal("WebSocketPair", WebSocketPair);
  Object.assign(internal.web, {
    Blob, WebSocket, socketOf, socketId, dispatchSocketEvent, binaryMessage: binary, socketCall: call,
    isWebSocket: (v) => socketId(v) !== undefined,
    // Forget the WebSockets of sockets an object held: after hibernation it gets new ones.
    forgetSockets(ids) { for (const id of ids) sockets.delete(id); },
    socketHandles: () => sockets.size,
    setSocketCompatibility(flags) { blobMessages = flags.blobMessages; },
  });
})
