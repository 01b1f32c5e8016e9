// URL and URLSearchParams. Parsing and the setters are the WHATWG URL standard as ada (the
// parser of Node and workerd) implements it, called on the host: a URL holds the parsed
// components and every setter re-parses. URLSearchParams (application/x-www-form-urlencoded)
// is here, on the engine's encodeURIComponent/decodeURIComponent where they agree with the
// standard and on byte-level code where they do not.
(function (internal) {
  "use strict";
  const { host, webGlobal, hide, needNew, snapshotIterator, utf8Encode, utf8Decode } = internal;
  const HREF = 0, PROTOCOL = 1, USERNAME = 2, PASSWORD = 3, HOST = 4, HOSTNAME = 5, PORT = 6,
    PATHNAME = 7, SEARCH = 8, HASH = 9, ORIGIN = 10;

  const usv = (v) => String(v).toWellFormed();

  function call(args) {
    const text = host.web_url(JSON.stringify(args));
    if (text === "") return null;
    if (text.charCodeAt(0) === 33) throw new Error(JSON.parse(text.slice(1)).message);
    return JSON.parse(text);
  }
  // Parses of the same text give the same components (a Worker parses its request URLs
  // again and again): the last few hundred are remembered, each answer copied on reuse.
  const parsed = new Map();
  function parse(input, base) {
    const text = usv(input);
    const key = base === undefined ? text : text + "\u0000" + usv(base);
    let parts = parsed.get(key);
    if (parts === undefined) {
      parts = call(["parse", text, base === undefined ? null : usv(base)]);
      if (parsed.size >= 256) parsed.clear();
      parsed.set(key, parts);
    }
    return parts === null ? null : parts.slice();
  }

  // ---- application/x-www-form-urlencoded
  function decodeSlow(s) {
    const bytes = utf8Encode(s);
    const out = new Uint8Array(bytes.length);
    let j = 0;
    const hex = (b) => (b >= 48 && b <= 57) || (b >= 65 && b <= 70) || (b >= 97 && b <= 102);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i];
      if (b === 37 && i + 2 < bytes.length && hex(bytes[i + 1]) && hex(bytes[i + 2])) {
        out[j++] = parseInt(String.fromCharCode(bytes[i + 1], bytes[i + 2]), 16);
        i += 2;
      } else out[j++] = b;
    }
    return utf8Decode(out.subarray(0, j), false, true);
  }
  function decodeForm(s) {
    if (s.indexOf("+") !== -1) s = s.replace(/\+/g, " ");
    if (s.indexOf("%") === -1) return s;
    try { return decodeURIComponent(s); } catch (_) { return decodeSlow(s); }
  }
  function parseForm(text) {
    const list = [];
    for (const part of text.split("&")) {
      if (part === "") continue;
      const eq = part.indexOf("=");
      list.push(eq === -1 ? [decodeForm(part), ""] : [decodeForm(part.slice(0, eq)), decodeForm(part.slice(eq + 1))]);
    }
    return list;
  }
  const escapeExtra = (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase();
  const encodeForm = (s) => encodeURIComponent(s).replace(/%20/g, "+").replace(/[!'()~]/g, escapeExtra);
  const serializeForm = (list) => list.map(([k, v]) => encodeForm(k) + "=" + encodeForm(v)).join("&");

  let paramsOf, resetParams;         // URLSearchParams internals the URL class uses
  class URLSearchParams {
    #list = [];
    #url = null;
    constructor(init = "") {
      if (!new.target) throw needNew("URLSearchParams");
      if (init !== null && (typeof init === "object" || typeof init === "function")) {
        if (typeof init[Symbol.iterator] === "function") {
          for (const pair of init) {
            const p = typeof pair === "string" || pair == null || typeof pair[Symbol.iterator] !== "function" ? null : [...pair];
            if (p === null || p.length !== 2) throw new TypeError("Invalid URL search params sequence.");
            this.#list.push([usv(p[0]), usv(p[1])]);
          }
        } else {
          for (const key of Object.keys(init)) this.#list.push([usv(key), usv(init[key])]);
        }
      } else {
        const s = usv(init);
        this.#list = parseForm(s.charCodeAt(0) === 63 ? s.slice(1) : s);
      }
    }
    static {
      paramsOf = (url, search) => { const p = new URLSearchParams(search); p.#url = url; return p; };
      resetParams = (p, search) => { p.#list = parseForm(search.slice(1)); };
    }
    #update() {
      if (this.#url !== null) setQuery(this.#url, serializeForm(this.#list));
    }
    get size() { return this.#list.length; }
    append(name, value) { this.#list.push([usv(name), usv(value)]); this.#update(); }
    delete(name, value) {
      const n = usv(name), v = value === undefined ? undefined : usv(value);
      this.#list = this.#list.filter(([k, x]) => k !== n || (v !== undefined && x !== v));
      this.#update();
    }
    get(name) { const n = usv(name); const e = this.#list.find(([k]) => k === n); return e ? e[1] : null; }
    getAll(name) { const n = usv(name); return this.#list.filter(([k]) => k === n).map((e) => e[1]); }
    has(name, value) {
      const n = usv(name), v = value === undefined ? undefined : usv(value);
      return this.#list.some(([k, x]) => k === n && (v === undefined || x === v));
    }
    set(name, value) {
      const n = usv(name), v = usv(value);
      const i = this.#list.findIndex(([k]) => k === n);
      if (i === -1) this.#list.push([n, v]);
      else {
        this.#list[i][1] = v;
        this.#list = this.#list.filter(([k], j) => k !== n || j <= i);
      }
      this.#update();
    }
    sort() {
      // Stable, by UTF-16 code units (what < compares).
      this.#list = this.#list.map((e, i) => [e, i]).sort((a, b) => (a[0][0] < b[0][0] ? -1 : a[0][0] > b[0][0] ? 1 : a[1] - b[1])).map((x) => x[0]);
      this.#update();
    }
    forEach(callback, thisArg) {
      for (const [k, v] of this.#list.slice()) callback.call(thisArg, v, k, this);
    }
    keys() { return snapshotIterator("Key", this.#list.map((e) => e[0])); }
    values() { return snapshotIterator("Value", this.#list.map((e) => e[1])); }
    entries() { return snapshotIterator("Entry", this.#list.map((e) => [e[0], e[1]])); }
    [Symbol.iterator]() { return this.entries(); }
    toString() { return serializeForm(this.#list); }
  }
  hide(URLSearchParams.prototype, "URLSearchParams");

  let setQuery;
  class URL {
    #parts;
    #params = null;
    constructor(url, base) {
      if (!new.target) throw needNew("URL");
      if (arguments.length < 1) throw new TypeError("Failed to construct 'URL': constructor parameter 1 is not of type 'USVString'.");
      const parts = parse(url, base);
      if (parts === null) throw new TypeError("Invalid URL string.");
      this.#parts = parts;
    }
    static {
      setQuery = (url, query) => { url.#parts = call(["set", url.#parts[HREF], "search", query]); };
    }
    static canParse(url, base) { return parse(url, base) !== null; }
    static parse(url, base) { try { return new URL(url, base); } catch (_) { return null; } }
    static createObjectURL() { throw new TypeError("URL.createObjectURL() is not available in dobj."); }
    static revokeObjectURL() { throw new TypeError("URL.revokeObjectURL() is not available in dobj."); }

    #set(part, value) {
      const parts = call(["set", this.#parts[HREF], part, usv(value)]);
      if (parts === null) throw new TypeError("Failed to set the 'href' property on 'URL': the provided value is not of type 'valid URL string'.");
      this.#parts = parts;
      if (this.#params !== null && (part === "href" || part === "search")) resetParams(this.#params, parts[SEARCH]);
    }
    get href() { return this.#parts[HREF]; }
    set href(v) { this.#set("href", v); }
    get origin() { return this.#parts[ORIGIN]; }
    get protocol() { return this.#parts[PROTOCOL]; }
    set protocol(v) { this.#set("protocol", v); }
    get username() { return this.#parts[USERNAME]; }
    set username(v) { this.#set("username", v); }
    get password() { return this.#parts[PASSWORD]; }
    set password(v) { this.#set("password", v); }
    get host() { return this.#parts[HOST]; }
    set host(v) { this.#set("host", v); }
    get hostname() { return this.#parts[HOSTNAME]; }
    set hostname(v) { this.#set("hostname", v); }
    get port() { return this.#parts[PORT]; }
    set port(v) { this.#set("port", v); }
    get pathname() { return this.#parts[PATHNAME]; }
    set pathname(v) { this.#set("pathname", v); }
    get search() { return this.#parts[SEARCH]; }
    set search(v) { this.#set("search", v); }
    get hash() { return this.#parts[HASH]; }
    set hash(v) { this.#set("hash", v); }
    get searchParams() {
      if (this.#params === null) this.#params = paramsOf(this, this.#parts[SEARCH]);
      return this.#params;
    }
    toString() { return this.#parts[HREF]; }
    toJSON() { return this.#parts[HREF]; }
  }
  hide(URL.prototype, "URL");

  webGlobal("URL", URL);
  webGlobal("URLSearchParams", URLSearchParams);
  Object.assign(internal.web, { URL, URLSearchParams, parseURL: parse });
})
