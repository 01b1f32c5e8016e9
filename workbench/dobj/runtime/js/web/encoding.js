// Text and base64: TextEncoder, TextDecoder (utf-8, utf-16le, windows-1252), atob and btoa,
// plus the byte helpers the other web files share (utf8Encode, utf8Decode, bytesOf, latin1).
(function (internal) {
  "use strict";
  const { webGlobal, hide, needNew, notOfType, domError } = internal;

  // The bytes a BufferSource (ArrayBuffer or view) covers, without copying; null otherwise.
  function bytesOf(source) {
    if (source instanceof ArrayBuffer) return new Uint8Array(source);
    if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
    return null;
  }

  // UTF-8 of a string; a lone surrogate becomes U+FFFD, as the standard's encoder does.
  function utf8Encode(text) {
    const s = String(text);
    const n = s.length;
    let out = new Uint8Array(n);
    let j = 0;
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i);
      if (c < 0x80) {
        if (j === out.length) out = grow(out, n - i);
        out[j++] = c;
        continue;
      }
      if (j + 4 > out.length) out = grow(out, (n - i) * 3 + 4);
      if (c < 0x800) {
        out[j++] = 0xc0 | (c >> 6); out[j++] = 0x80 | (c & 63);
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const d = i + 1 < n ? s.charCodeAt(i + 1) : 0;
        if (c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff) {
          c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
          i++;
          out[j++] = 0xf0 | (c >> 18); out[j++] = 0x80 | ((c >> 12) & 63);
          out[j++] = 0x80 | ((c >> 6) & 63); out[j++] = 0x80 | (c & 63);
          continue;
        }
        c = 0xfffd;
      }
      out[j++] = 0xe0 | (c >> 12); out[j++] = 0x80 | ((c >> 6) & 63); out[j++] = 0x80 | (c & 63);
    }
    return j === out.length ? out : out.slice(0, j);
  }
  function grow(bytes, more) {
    const bigger = new Uint8Array(Math.max(bytes.length * 2, bytes.length + more));
    bigger.set(bytes);
    return bigger;
  }

  // A string of code units, built in chunks (apply() has an argument limit).
  function fromUnits(units, length) {
    if (length <= 8192) return String.fromCharCode.apply(null, units.subarray(0, length));
    const parts = [];
    for (let i = 0; i < length; i += 8192) parts.push(String.fromCharCode.apply(null, units.subarray(i, Math.min(length, i + 8192))));
    return parts.join("");
  }
  const latin1 = (bytes) => fromUnits(bytes, bytes.length);

  // The standard's UTF-8 decoder: each maximal invalid subpart becomes one U+FFFD (or, with
  // `fatal`, a TypeError); a leading BOM is dropped unless `ignoreBOM`.
  // Valid input (the common case) goes through the engine's own decodeURIComponent, ten
  // times faster than the loop, which handles the rest.
  function utf8Decode(bytes, fatal = false, ignoreBOM = false) {
    const n = bytes.length;
    let i = 0;
    if (!ignoreBOM && n >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
    const raw = fromUnits(i ? bytes.subarray(i) : bytes, n - i);
    if (!/[\x80-\xff]/.test(raw)) return raw;
    try { return decodeURIComponent(escape(raw)); } catch (_) { /* invalid UTF-8: decode below */ }
    const units = new Uint16Array(n - i);
    let j = 0;
    while (i < n) {
      const b = bytes[i];
      if (b < 0x80) { units[j++] = b; i++; continue; }
      let need = 0, cp = 0, lo = 0x80, hi = 0xbf;
      if (b >= 0xc2 && b <= 0xdf) { need = 1; cp = b & 0x1f; }
      else if (b >= 0xe0 && b <= 0xef) { need = 2; cp = b & 0xf; if (b === 0xe0) lo = 0xa0; if (b === 0xed) hi = 0x9f; }
      else if (b >= 0xf0 && b <= 0xf4) { need = 3; cp = b & 0x7; if (b === 0xf0) lo = 0x90; if (b === 0xf4) hi = 0x8f; }
      else { if (fatal) throw new TypeError("Failed to decode input."); units[j++] = 0xfffd; i++; continue; }
      let k = 1;
      for (; k <= need; k++) {
        const c = i + k < n ? bytes[i + k] : -1;
        if (c < lo || c > hi) break;
        cp = (cp << 6) | (c & 63);
        lo = 0x80; hi = 0xbf;
      }
      if (k <= need) {
        if (fatal) throw new TypeError("Failed to decode input.");
        units[j++] = 0xfffd; i += k; continue;
      }
      i += k;
      if (cp >= 0x10000) { cp -= 0x10000; units[j++] = 0xd800 + (cp >> 10); units[j++] = 0xdc00 + (cp & 0x3ff); }
      else units[j++] = cp;
    }
    return fromUnits(units, j);
  }

  const CP1252 = [0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f,
    0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178];
  function decode1252(bytes) {
    const units = new Uint16Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) { const b = bytes[i]; units[i] = b >= 0x80 && b < 0xa0 ? CP1252[b - 0x80] : b; }
    return fromUnits(units, units.length);
  }
  function decode16(bytes, fatal, ignoreBOM) {
    let i = !ignoreBOM && bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe ? 2 : 0;
    const units = new Uint16Array((bytes.length - i + 1) >> 1);
    let j = 0;
    for (; i + 1 < bytes.length; i += 2) units[j++] = bytes[i] | (bytes[i + 1] << 8);
    if (i < bytes.length) { if (fatal) throw new TypeError("Failed to decode input."); units[j++] = 0xfffd; }
    const text = fromUnits(units, j);
    if (fatal && !text.isWellFormed()) throw new TypeError("Failed to decode input.");
    return text.toWellFormed();
  }

  const LABELS = {};
  const label = (names, encoding) => { for (const n of names.split(" ")) LABELS[n] = encoding; };
  label("unicode-1-1-utf-8 unicode11utf8 unicode20utf8 utf-8 utf8 x-unicode20utf8", "utf-8");
  label("csunicode iso-10646-ucs-2 ucs-2 unicode unicodefeff utf-16 utf-16le", "utf-16le");
  label("ansi_x3.4-1968 ascii cp1252 cp819 csisolatin1 ibm819 iso-8859-1 iso-ir-100 iso8859-1 iso88591 " +
    "iso_8859-1 iso_8859-1:1987 l1 latin1 us-ascii windows-1252 x-cp1252", "windows-1252");

  class TextEncoder {
    constructor() { if (!new.target) throw needNew("TextEncoder"); }
    get encoding() { return "utf-8"; }
    encode(input = "") { return utf8Encode(input); }
    encodeInto(source, destination) {
      if (!(destination instanceof Uint8Array)) throw notOfType("encodeInto", "TextEncoder", 2, "Uint8Array");
      const s = String(source);
      let read = 0, written = 0;
      for (const ch of s) {
        const bytes = utf8Encode(ch);
        if (written + bytes.length > destination.length) break;
        destination.set(bytes, written);
        written += bytes.length;
        read += ch.length;
      }
      return { read, written };
    }
  }
  hide(TextEncoder.prototype, "TextEncoder");

  class TextDecoder {
    #encoding; #fatal; #ignoreBOM;
    constructor(label = "utf-8", options = {}) {
      if (!new.target) throw needNew("TextDecoder");
      const enc = LABELS[String(label).trim().toLowerCase()];
      if (enc === undefined) throw new RangeError(JSON.stringify(String(label)) + " is not a valid encoding.");
      this.#encoding = enc;
      this.#fatal = !!(options && options.fatal);
      this.#ignoreBOM = !!(options && options.ignoreBOM);
    }
    get encoding() { return this.#encoding; }
    get fatal() { return this.#fatal; }
    get ignoreBOM() { return this.#ignoreBOM; }
    decode(input, _options) {
      if (input === undefined) return "";
      const bytes = bytesOf(input);
      if (bytes === null) throw notOfType("decode", "TextDecoder", 1, "Array");
      if (this.#encoding === "utf-8") return utf8Decode(bytes, this.#fatal, this.#ignoreBOM);
      if (this.#encoding === "utf-16le") return decode16(bytes, this.#fatal, this.#ignoreBOM);
      return decode1252(bytes);
    }
  }
  hide(TextDecoder.prototype, "TextDecoder");

  const ATOB_ERROR = "atob() called with invalid base64-encoded data. (Only whitespace, '+', '/', alphanumeric ASCII, and up to two terminal '=' signs when the input data length is divisible by 4 are allowed.)";

  // The standard's forgiving-base64 decode.
  function atob(data) {
    if (arguments.length < 1) throw notOfType("atob", "ServiceWorkerGlobalScope", 1, "string");
    let s = String(data).replace(/[\t\n\f\r ]/g, "");
    if (s.length % 4 === 0) s = s.replace(/==?$/, "");
    if (s.length % 4 === 1 || /[^A-Za-z0-9+/]/.test(s)) throw domError(ATOB_ERROR, "InvalidCharacterError");
    return latin1(Uint8Array.fromBase64(s, { lastChunkHandling: "loose" }));
  }

  function btoa(data) {
    if (arguments.length < 1) throw notOfType("btoa", "ServiceWorkerGlobalScope", 1, "string");
    const s = String(data);
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0xff) throw domError("btoa() can only operate on characters in the Latin1 (ISO/IEC 8859-1) range.", "InvalidCharacterError");
      bytes[i] = c;
    }
    return bytes.toBase64();
  }

  for (const [name, value] of Object.entries({ TextEncoder, TextDecoder, atob, btoa })) webGlobal(name, value);
  Object.assign(internal, { bytesOf, utf8Encode, utf8Decode, latin1 });
})
