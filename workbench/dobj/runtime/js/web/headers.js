// Headers, as workerd keeps them: names lower-cased, iterated sorted by name, repeated
// values combined with ", " except Set-Cookie (one entry per value), values trimmed of
// HTTP whitespace; invalid names (ASCII that is not a token character) and values (NUL,
// CR, LF) are TypeErrors. Iterators walk a snapshot taken when they start.
(function (internal) {
  "use strict";
  const { webGlobal, hide, needNew, snapshotIterator } = internal;

  // ASCII that may appear in a header name (RFC 9110 tchar); workerd lets non-ASCII through.
  const BAD_NAME = /[\x00-\x20"(),/:;<=>?@[\\\]{}\x7f]/;
  const BAD_VALUE = /[\0\r\n]/;
  const EDGE_SPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;

  function headerName(name) {
    const n = String(name);
    if (BAD_NAME.test(n)) throw new TypeError("Invalid header name.");
    return n.toLowerCase();
  }
  function headerValue(value) {
    let v = String(value);
    if (v.length && (v.charCodeAt(0) <= 32 || v.charCodeAt(v.length - 1) <= 32)) v = v.replace(EDGE_SPACE, "");
    if (BAD_VALUE.test(v)) throw new TypeError("Invalid header value.");
    return v;
  }
  const badInit = () => new TypeError("Failed to construct 'Headers': constructor parameter 1 is not of type 'Headers or Sequence or object'.");

  let headerMap, lockHeaders;
  class Headers {
    #map = new Map();               // lower-case name -> [values]
    #immutable = false;
    constructor(init) {
      if (!new.target) throw needNew("Headers");
      if (init === undefined) return;
      if (init instanceof Headers) {
        for (const [k, vs] of init.#map) this.#map.set(k, vs.slice());
        return;
      }
      if (init === null || (typeof init !== "object" && typeof init !== "function")) throw badInit();
      if (typeof init[Symbol.iterator] === "function") {
        for (const pair of init) {
          const p = pair !== null && typeof pair === "object" && typeof pair[Symbol.iterator] === "function" ? [...pair] : null;
          if (p === null || p.length !== 2) throw new TypeError("To initialize a Headers object from a sequence, each inner sequence must have exactly two elements.");
          this.append(p[0], p[1]);
        }
      } else {
        for (const key of Object.keys(init)) this.append(key, init[key]);
      }
    }
    static {
      headerMap = (h) => h.#map;
      lockHeaders = (h) => { h.#immutable = true; return h; };
    }
    #check() { if (this.#immutable) throw new TypeError("Can't modify immutable headers."); }

    append(name, value) {
      const n = headerName(name), v = headerValue(value);
      this.#check();
      const vs = this.#map.get(n);
      if (vs === undefined) this.#map.set(n, [v]);
      else vs.push(v);
    }
    set(name, value) {
      const n = headerName(name), v = headerValue(value);
      this.#check();
      this.#map.set(n, [v]);
    }
    delete(name) {
      const n = headerName(name);
      this.#check();
      this.#map.delete(n);
    }
    get(name) {
      const vs = this.#map.get(headerName(name));
      return vs === undefined ? null : vs.join(", ");
    }
    getAll(name) {
      const n = headerName(name);
      if (n !== "set-cookie") throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
      return (this.#map.get(n) || []).slice();
    }
    getSetCookie() { return (this.#map.get("set-cookie") || []).slice(); }
    has(name) { return this.#map.has(headerName(name)); }

    #pairs() {
      const out = [];
      for (const k of [...this.#map.keys()].sort()) {
        const vs = this.#map.get(k);
        if (k === "set-cookie") for (const v of vs) out.push([k, v]);
        else out.push([k, vs.join(", ")]);
      }
      return out;
    }
    forEach(callback, thisArg) {
      for (const [k, v] of this.#pairs()) callback.call(thisArg, v, k, this);
    }
    entries() { return snapshotIterator("Entry", this.#pairs()); }
    keys() { return snapshotIterator("Key", this.#pairs().map((p) => p[0])); }
    values() { return snapshotIterator("Value", this.#pairs().map((p) => p[1])); }
    [Symbol.iterator]() { return this.entries(); }
  }
  hide(Headers.prototype, "Headers");

  // Headers from the host's [[name, value], ...] (immutable, like an incoming request's).
  function hostHeaders(pairs, immutable) {
    const h = new Headers();
    const map = headerMap(h);
    for (const [name, value] of pairs) {
      const n = String(name).toLowerCase();
      const vs = map.get(n);
      if (vs === undefined) map.set(n, [String(value)]);
      else vs.push(String(value));
    }
    return immutable ? lockHeaders(h) : h;
  }
  // [[name, value], ...] for the host, sorted by name: each value apart, Set-Cookie included.
  function headerPairs(h) {
    const out = [], map = headerMap(h);
    for (const k of [...map.keys()].sort()) for (const v of map.get(k)) out.push([k, v]);
    return out;
  }

  webGlobal("Headers", Headers);
  Object.assign(internal.web, { Headers, hostHeaders, headerPairs, lockHeaders });
})
