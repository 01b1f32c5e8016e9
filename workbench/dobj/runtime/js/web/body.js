// The body of a Request or Response (the Fetch standard's Body mixin) as a base class:
// text(), json(), arrayBuffer(), bytes(), bodyUsed, and `body`, a minimal stand-in for a
// ReadableStream (getReader().read() gives the whole body as one chunk). A body is held
// whole, as the string or the bytes it was made from; formData() and blob() reject.
(function (internal) {
  "use strict";
  const { TOKEN, hide, bytesOf, utf8Encode, utf8Decode } = internal;
  const { URLSearchParams } = internal.web;

  const usedError = () => new TypeError("Body has already been used. It can only be used once. Use tee() first if you need to read it twice.");
  const TEXT_TYPE = "text/plain;charset=UTF-8";
  const FORM_TYPE = "application/x-www-form-urlencoded;charset=UTF-8";

  // A body being read through `body`: one chunk, then done.
  let streamBody;
  class ReadableStream {
    #owner; #locked = false;
    constructor(token, owner) {
      if (token !== TOKEN) throw new TypeError("ReadableStream is not available in dobj beyond a Request's or Response's body.");
      this.#owner = owner;
    }
    static { streamBody = (s) => s.#owner; }
    get locked() { return this.#locked; }
    getReader() {
      if (this.#locked) throw new TypeError("This ReadableStream is currently locked to a reader.");
      this.#locked = true;
      const owner = this.#owner;
      let done = false;
      return {
        read: async () => {
          if (done) return { value: undefined, done: true };
          done = true;
          return { value: await owner.bytes(), done: false };
        },
        releaseLock: () => { this.#locked = false; },
        cancel: async () => { done = true; },
        closed: Promise.resolve(undefined),
      };
    }
    async cancel() {}
    async *[Symbol.asyncIterator]() {
      const reader = this.getReader();
      for (;;) { const { value, done } = await reader.read(); if (done) return; yield value; }
    }
  }
  hide(ReadableStream.prototype, "ReadableStream");

  // What a body init gives: [text | null, bytes | null, content type | null]; null for no body.
  function extractBody(init) {
    if (init === null || init === undefined) return null;
    if (typeof init === "string") return [init, null, TEXT_TYPE];
    const bytes = bytesOf(init);
    if (bytes !== null) return [null, bytes.slice(), null];
    if (init instanceof URLSearchParams) return [init.toString(), null, FORM_TYPE];
    if (init instanceof ReadableStream) {
      const owner = streamBody(init);
      const state = bodyState(owner);
      if (state.used) throw usedError();
      state.used = true;
      return [state.text, state.bytes, null];
    }
    return [String(init), null, TEXT_TYPE];
  }

  let bodyState;
  class Body {
    #state = { text: null, bytes: null, has: false, used: false, stream: null };
    constructor(token) { if (token !== TOKEN) throw new TypeError("Illegal constructor"); }
    static { bodyState = (b) => b.#state; }

    #take() {
      const s = this.#state;
      if (!s.has) return null;
      if (s.used) throw usedError();
      s.used = true;
      return s;
    }
    get body() {
      const s = this.#state;
      if (!s.has) return null;
      return s.stream || (s.stream = new ReadableStream(TOKEN, this));
    }
    get bodyUsed() { return this.#state.used; }
    async text() {
      const s = this.#take();
      if (s === null) return "";
      return s.text !== null ? s.text.toWellFormed() : utf8Decode(s.bytes);
    }
    async json() { return JSON.parse(await this.text()); }
    async bytes() {
      const s = this.#take();
      if (s === null) return new Uint8Array(0);
      return s.text !== null ? utf8Encode(s.text) : s.bytes.slice();
    }
    async arrayBuffer() { return (await this.bytes()).buffer; }
    async formData() { throw new TypeError("formData() is not available in dobj."); }
    async blob() { throw new TypeError("blob() is not available in dobj."); }
  }

  // Sets the body of a Request or Response from an init; returns its content type, if any.
  function setBody(target, init) {
    const s = bodyState(target);
    const extracted = extractBody(init);
    if (extracted === null) { s.has = false; return null; }
    [s.text, s.bytes] = extracted;
    s.has = true;
    return extracted[2];
  }
  // Copies a body for clone() (the contents are never written to, so they are shared).
  function copyBody(from, to) {
    const a = bodyState(from), b = bodyState(to);
    if (a.used) throw new TypeError("This ReadableStream is currently locked to a reader,");
    b.text = a.text; b.bytes = a.bytes; b.has = a.has;
  }
  // Moves a body to a new Request (the old one counts as used).
  function moveBody(from, to) {
    const a = bodyState(from);
    if (!a.has) return false;
    if (a.used) throw new TypeError("Cannot reconstruct a Request with a used body.");
    copyBody(from, to);
    a.used = true;
    return true;
  }

  Object.assign(internal.web, { Body, ReadableStream, bodyState, setBody, copyBody, moveBody });
})
