// crypto: randomUUID, getRandomValues and subtle.digest, on the host's randomness and
// hashlib (binary crosses as base64). Other SubtleCrypto methods reject with
// NotSupportedError: dobj does not have them.
(function (internal) {
  "use strict";
  const { host, webGlobal, hide, domError, notOfType, bytesOf } = internal;
  const { TOKEN } = internal;

  // A host reply that is text (or "!" + error JSON, rethrown with its name).
  function reply(text) {
    if (typeof text === "string" && text.charCodeAt(0) === 33) {
      const info = JSON.parse(text.slice(1));
      throw info.name && info.name !== "Error" ? domError(info.message, info.name) : new Error(info.message);
    }
    return text;
  }

  const INTEGER_VIEWS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
  const DIGESTS = { "SHA-1": 1, "SHA-256": 1, "SHA-384": 1, "SHA-512": 1, "MD5": 1 };
  const unsupported = (what) => Promise.reject(domError("SubtleCrypto." + what + "() is not available in dobj.", "NotSupportedError"));

  class SubtleCrypto {
    constructor(token) { if (token !== TOKEN) throw new TypeError("Illegal constructor"); }
    digest(algorithm, data) {
      try {
        const name = typeof algorithm === "object" && algorithm !== null ? algorithm.name : algorithm;
        const key = String(name).toUpperCase();
        if (DIGESTS[key] === undefined) throw domError("Unrecognized or unimplemented digest algorithm requested.", "NotSupportedError");
        const bytes = bytesOf(data);
        if (bytes === null) throw notOfType("digest", "SubtleCrypto", 2, "Array");
        const out = reply(host.web_digest(key, bytes.toBase64()));
        return Promise.resolve(Uint8Array.fromBase64(out).buffer);
      } catch (e) {
        return Promise.reject(e);
      }
    }
  }
  for (const m of ["encrypt", "decrypt", "sign", "verify", "generateKey", "deriveKey", "deriveBits", "importKey", "exportKey", "wrapKey", "unwrapKey"]) {
    SubtleCrypto.prototype[m] = function () { return unsupported(m); };
  }
  hide(SubtleCrypto.prototype, "SubtleCrypto");

  const subtle = new SubtleCrypto(TOKEN);
  class Crypto {
    constructor(token) { if (token !== TOKEN) throw new TypeError("Illegal constructor"); }
    get subtle() { return subtle; }
    randomUUID() { return reply(host.web_uuid()); }
    getRandomValues(view) {
      if (!ArrayBuffer.isView(view)) throw notOfType("getRandomValues", "Crypto", 1, "JsArrayBufferView");
      if (!INTEGER_VIEWS.some((C) => view instanceof C)) {
        throw domError("ArrayBufferView argument to getRandomValues() must be an integer-typed view.", "TypeMismatchError");
      }
      if (view.byteLength > 65536) {
        throw domError("getRandomValues() only accepts buffers of size <= 64K but provided " + view.byteLength + " bytes.", "QuotaExceededError");
      }
      if (view.byteLength > 0) {
        new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(Uint8Array.fromBase64(reply(host.web_random(view.byteLength))));
      }
      return view;
    }
  }
  hide(Crypto.prototype, "Crypto");

  webGlobal("crypto", new Crypto(TOKEN));
  webGlobal("Crypto", Crypto);
  webGlobal("SubtleCrypto", SubtleCrypto);
})
