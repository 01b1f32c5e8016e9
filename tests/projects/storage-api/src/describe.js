// Turns any value into plain JSON that shows exactly what it is, so that recorded answers
// tell a Date from a string, -0 from 0, a Map from an object, a hole from undefined, and
// where a value refers back to itself.
export function describe(v, seen = new Map(), path = "$") {
  if (v === undefined) return { type: "undefined" };
  if (v === null) return { type: "null" };
  switch (typeof v) {
    case "number":
      if (Object.is(v, -0)) return { type: "number", value: "-0" };
      return { type: "number", value: Number.isFinite(v) ? v : String(v) };
    case "string":
    case "boolean":
      return { type: typeof v, value: v };
    case "bigint":
      return { type: "bigint", value: v.toString() };
    case "symbol":
      return { type: "symbol", description: v.description };
    case "function":
      return { type: "function", name: v.name };
  }
  if (seen.has(v)) return { type: "ref", to: seen.get(v) };
  seen.set(v, path);
  const d = (x, p) => describe(x, seen, p);
  const tag = Object.prototype.toString.call(v).slice(8, -1);
  switch (tag) {
    case "Date":
      return { type: "Date", value: Number.isNaN(v.getTime()) ? "Invalid Date" : v.toISOString() };
    case "Map":
      return {
        type: "Map",
        entries: [...v].map(([k, x], i) => [typeof k === "string" ? k : d(k, `${path}.keys[${i}]`), d(x, `${path}.values[${i}]`)]),
      };
    case "Set":
      return { type: "Set", values: [...v].map((x, i) => d(x, `${path}.values[${i}]`)) };
    case "RegExp":
      return { type: "RegExp", source: v.source, flags: v.flags, lastIndex: v.lastIndex };
    case "ArrayBuffer":
      return { type: "ArrayBuffer", byteLength: v.byteLength, bytes: Array.from(new Uint8Array(v).slice(0, 32)) };
    case "Number":
    case "String":
    case "Boolean":
    case "BigInt":
      return { type: `${tag} object`, value: d(v.valueOf(), path) };
    case "Promise":
      return { type: "Promise" };
    case "Error":
      return {
        type: "Error",
        class: v.constructor?.name,
        name: v.name,
        message: v.message,
        hasStack: typeof v.stack === "string",
        ...("cause" in v ? { cause: d(v.cause, `${path}.cause`) } : {}),
        ownKeys: Object.getOwnPropertyNames(v).filter((k) => k !== "stack"),
      };
  }
  if (ArrayBuffer.isView(v)) {
    const out = { type: tag, byteOffset: v.byteOffset, byteLength: v.byteLength, bufferByteLength: v.buffer.byteLength };
    if (tag === "DataView") out.bytes = Array.from(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    else out.values = Array.from(v, (x) => (typeof x === "bigint" ? x.toString() : Object.is(x, -0) ? "-0" : Number.isFinite(x) ? x : String(x)));
    return out;
  }
  if (Array.isArray(v)) {
    const out = { type: "Array", length: v.length, items: [] };
    for (let i = 0; i < v.length; i++) out.items.push(i in v ? d(v[i], `${path}[${i}]`) : { type: "hole" });
    const extra = Object.keys(v).filter((k) => !/^\d+$/.test(k));
    if (extra.length) out.props = Object.fromEntries(extra.map((k) => [k, d(v[k], `${path}.${k}`)]));
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  const out = { type: "Object" };
  if (proto !== Object.prototype) out.proto = proto === null ? null : (proto.constructor?.name ?? tag);
  out.props = {};
  for (const k of Reflect.ownKeys(v)) {
    const name = typeof k === "symbol" ? `[${String(k)}]` : k;
    out.props[name] = d(v[k], `${path}.${name}`);
  }
  return out;
}

// Runs fn and says what it gave back or threw.
export async function attempt(fn) {
  try {
    return { ok: describe(await fn()) };
  } catch (e) {
    return { error: errorInfo(e) };
  }
}

export function attemptSync(fn) {
  try {
    return { ok: describe(fn()) };
  } catch (e) {
    return { error: errorInfo(e) };
  }
}

export function errorInfo(e) {
  if (e === null || typeof e !== "object" || !("message" in e)) return { thrown: describe(e) };
  return { class: e.constructor?.name, name: e.name, message: e.message };
}
