// Request and Response as workerd has them, and the two hooks the runtime uses to hand a
// request from the host to code (requestFromHost) and to read a response back
// (responseToHost). Bodies are bytes on the host side and cross as base64.
(function (internal) {
  "use strict";
  const { TOKEN, flat, webGlobal, hide, needNew } = internal;
  const { Body, Headers, AbortSignal, bodyState, setBody, copyBody, moveBody, hostHeaders,
    headerPairs, lockHeaders, parseURL } = internal.web;

  const METHODS = new Set(("GET HEAD POST PUT DELETE PATCH PURGE OPTIONS TRACE COPY LOCK MKCOL MOVE PROPFIND " +
    "PROPPATCH SEARCH UNLOCK ACL REPORT MKACTIVITY CHECKOUT MERGE MSEARCH NOTIFY SUBSCRIBE UNSUBSCRIBE QUERY").split(" "));
  const REASONS = {
    101: "Switching Protocols", 200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status", 208: "Already Reported",
    226: "IM Used", 300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect", 308: "Permanent Redirect", 400: "Bad Request",
    401: "Unauthorized", 402: "Payment Required", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    406: "Not Acceptable", 407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed", 413: "Payload Too Large", 414: "URI Too Long",
    415: "Unsupported Media Type", 416: "Range Not Satisfiable", 417: "Expectation Failed", 418: "I'm a teapot",
    421: "Misdirected Request", 422: "Unprocessable Entity", 423: "Locked", 424: "Failed Dependency",
    426: "Upgrade Required", 428: "Precondition Required", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 451: "Unavailable For Legal Reasons", 500: "Internal Server Error",
    501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
    505: "HTTP Version Not Supported", 506: "Variant Also Negotiates", 507: "Insufficient Storage",
    508: "Loop Detected", 510: "Not Extended", 511: "Network Authentication Required",
  };
  const CLASS_REASONS = { 2: "Successful", 3: "Redirection", 4: "Client Error", 5: "Server Error" };
  const reason = (status) => REASONS[status] || CLASS_REASONS[Math.floor(status / 100)] || "";
  const NULL_BODY = new Set([101, 204, 205, 304]);
  const REDIRECTS = new Set([301, 302, 303, 307, 308]);

  function method(m) {
    const s = String(m);
    const upper = s.toUpperCase();
    if (!METHODS.has(upper)) throw new TypeError("Invalid HTTP method string: " + s);
    return upper;
  }
  const statusOf = (v) => { const n = Math.trunc(Number(v)); return Number.isFinite(n) ? n : 0; };
  const withType = (headers, type) => { if (type !== null && !headers.has("content-type")) headers.set("content-type", type); };

  let initRequest;
  class Request extends Body {
    #url = ""; #method = "GET"; #headers; #redirect = "follow"; #signal = null; #cf = undefined;
    constructor(input, init) {
      if (!new.target) throw needNew("Request");
      super(TOKEN);
      if (input === TOKEN) return;
      if (arguments.length < 1) throw new TypeError("Failed to construct 'Request': constructor parameter 1 is not of type 'Request or string'.");
      const o = init === undefined || init === null ? {} : init;
      const source = input instanceof Request ? input : null;
      if (source === null) {
        const parts = parseURL(String(input));
        if (parts === null) throw new TypeError("Invalid URL: " + String(input));
        this.#url = parts[0];
      } else {
        this.#url = source.#url; this.#method = source.#method; this.#redirect = source.#redirect;
        this.#signal = source.#signal; this.#cf = source.#cf;
      }
      if (o.method !== undefined) this.#method = method(o.method);
      if (o.redirect !== undefined) {
        const r = String(o.redirect);
        if (r !== "follow" && r !== "manual") throw new TypeError('Invalid redirect value, must be one of "follow" or "manual" ("error" won\'t be implemented since it does not make sense at the edge; use "manual" and check the response status code).');
        this.#redirect = r;
      }
      if (o.signal !== undefined) this.#signal = o.signal;
      if (o.cf !== undefined) this.#cf = o.cf;
      this.#headers = o.headers !== undefined ? new Headers(o.headers) : new Headers(source !== null ? source.#headers : undefined);
      let hasBody;
      if (o.body !== undefined && o.body !== null) {
        withType(this.#headers, setBody(this, o.body));
        hasBody = true;
      } else {
        hasBody = o.body === undefined && source !== null && bodyState(source).has;
        if (hasBody && bodyState(source).used) throw new TypeError("Cannot reconstruct a Request with a used body.");
      }
      if (hasBody && (this.#method === "GET" || this.#method === "HEAD")) {
        throw new TypeError("Request with a GET or HEAD method cannot have a body.");
      }
      if (hasBody && (o.body === undefined || o.body === null)) moveBody(source, this);
    }
    static {
      initRequest = (r, m, url, headers) => { r.#method = m; r.#url = url; r.#headers = headers; return r; };
    }
    get method() { return this.#method; }
    get url() { return this.#url; }
    get headers() { return this.#headers; }
    get redirect() { return this.#redirect; }
    get signal() { return this.#signal || (this.#signal = new AbortSignal(TOKEN)); }
    get cf() { return this.#cf; }
    get fetcher() { return null; }
    get integrity() { return ""; }
    get keepalive() { return false; }
    clone() {
      const r = initRequest(new Request(TOKEN), this.#method, this.#url, new Headers(this.#headers));
      r.#redirect = this.#redirect; r.#signal = this.#signal; r.#cf = this.#cf;
      copyBody(this, r);
      return r;
    }
  }
  hide(Request.prototype, "Request");

  let initResponse;
  class Response extends Body {
    #status = 200; #statusText = "OK"; #headers; #type = "default"; #webSocket = null; #url = "";
    constructor(body = null, init) {
      if (!new.target) throw needNew("Response");
      super(TOKEN);
      if (body === TOKEN) return;
      let o = init;
      if (o === undefined || o === null) o = {};
      else if (typeof o !== "object") throw new TypeError("Failed to construct 'Response': constructor parameter 2 is not of type 'InitializerDict or Response'.");
      const status = o.status === undefined ? 200 : statusOf(o.status);
      const ws = o.webSocket === undefined ? null : o.webSocket;
      if (ws !== null) {
        if (!internal.web.isWebSocket(ws)) throw new TypeError("Incorrect type for the 'webSocket' field on 'InitializerDict': the provided value is not of type 'WebSocket'.");
        if (status !== 101) throw new RangeError("Responses with a WebSocket must have status code 101.");
      } else if (status < 200 || status > 599) {
        throw new RangeError("Responses may only be constructed with status codes in the range 200 to 599, inclusive.");
      }
      this.#status = status;
      this.#webSocket = ws;
      this.#statusText = o.statusText === undefined ? reason(status) : String(o.statusText);
      if (/[\r\n]/.test(this.#statusText)) throw new TypeError("Invalid statusText");
      if (o.headers === undefined) this.#headers = new Headers();
      else if (o.headers === null || typeof o.headers !== "object") {
        throw new TypeError("Incorrect type for the 'headers' field on 'InitializerDict': the provided value is not of type 'Headers or Sequence or object'.");
      } else this.#headers = new Headers(o.headers);
      if (body !== null && body !== undefined && NULL_BODY.has(status)) {
        throw new TypeError("Response with null body status (101, 204, 205, or 304) cannot have a body.");
      }
      withType(this.#headers, setBody(this, body));
    }
    static {
      initResponse = (r, status, headers) => { r.#status = status; r.#statusText = reason(status); r.#headers = headers; return r; };
    }
    static json(data, init) {
      let text;
      try { text = String(JSON.stringify(data)); } catch (e) {
        if (typeof data === "bigint" || /BigInt/.test(e && e.message)) throw new TypeError("Do not know how to serialize a BigInt");
        throw e;
      }
      const r = new Response(null, init);
      if (!r.#headers.has("content-type")) r.#headers.set("content-type", "application/json");
      if (NULL_BODY.has(r.#status)) throw new TypeError("Response with null body status (101, 204, 205, or 304) cannot have a body.");
      setBody(r, text);
      return r;
    }
    static redirect(url, status = 302) {
      const parts = parseURL(String(url));
      if (parts === null) throw new TypeError("Unable to parse URL: " + String(url));
      const s = statusOf(status);
      if (!REDIRECTS.has(s)) throw new RangeError(s + " is not a redirect status code. It must be one of: 301, 302, 303, 307, or 308.");
      const headers = new Headers();
      headers.set("location", parts[0]);
      return initResponse(new Response(TOKEN), s, lockHeaders(headers));
    }
    static error() {
      const r = initResponse(new Response(TOKEN), 0, new Headers());
      r.#statusText = "";
      r.#type = "error";
      return r;
    }
    get status() { return this.#status; }
    get statusText() { return this.#statusText; }
    get ok() { return this.#status >= 200 && this.#status <= 299; }
    get headers() { return this.#headers; }
    get type() { return this.#type; }
    get url() { return this.#url; }
    get redirected() { return false; }
    get webSocket() { return this.#webSocket; }
    get cf() { return undefined; }
    clone() {
      const r = initResponse(new Response(TOKEN), this.#status, new Headers(this.#headers));
      r.#statusText = this.#statusText; r.#type = this.#type; r.#url = this.#url; r.#webSocket = this.#webSocket;
      copyBody(this, r);
      return r;
    }
  }
  hide(Response.prototype, "Response");

  // A Request of an incoming call: method, absolute URL, JSON [[name, value], ...] and the
  // body as base64 (null for none). Its headers are immutable, as workerd's are.
  function requestFromHost(m, url, headersText, bodyBase64) {
    const r = initRequest(new Request(TOKEN), m, url, hostHeaders(JSON.parse(headersText), true));
    if (bodyBase64 !== null && bodyBase64 !== undefined) setBody(r, Uint8Array.fromBase64(bodyBase64));
    return r;
  }

  // A Response for the host: one JSON line [status, statusText, [[name, value], ...],
  // its WebSocket's id or null], then the body: "n" (none), "t" + text (UTF-8, no NUL) or "b" + base64.
  // The body counts as used afterwards.
  function responseToHost(r) {
    if (!(r instanceof Response)) throw new TypeError("Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    const s = bodyState(r);
    if (s.has && s.used) throw new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
    const head = JSON.stringify([r.status, r.statusText, headerPairs(r.headers),
      r.webSocket === null ? null : internal.web.socketId(r.webSocket)]);
    let body = "n";
    if (s.has) {
      s.used = true;
      if (s.text !== null && s.text.indexOf("\0") === -1) body = ["t", s.text.toWellFormed()].join("");
      else body = ["b", (s.text !== null ? internal.utf8Encode(s.text) : s.bytes).toBase64()].join("");
    }
    return flat([head, "\n", body].join(""));
  }

  webGlobal("Request", Request);
  webGlobal("Response", Response);
  Object.assign(internal.web, {
    Request, Response, requestFromHost, responseToHost,
  });
})
