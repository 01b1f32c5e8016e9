import { Timer } from "./timer.js";
import { Ledger } from "./ledger.js";

export { Timer, Ledger };

const HEX64 = /^[0-9a-f]{64}$/;

function tryId(f) {
  try {
    const id = f();
    return { ok: { hex: HEX64.test(id.toString()), name: id.name ?? "undefined" } };
  } catch (e) {
    return { error: { name: e.name, message: e.message } };
  }
}

async function ids(env, name) {
  const id = env.TIMER.idFromName(name);
  const again = env.TIMER.idFromName(name);
  const unique = env.TIMER.newUniqueId();
  const unique2 = env.TIMER.newUniqueId();
  const roundTrip = env.TIMER.idFromString(id.toString());
  const uniqueRoundTrip = env.TIMER.idFromString(unique.toString());
  // reached only through idFromString before anything reaches it by name
  const fresh = env.TIMER.idFromName(`${name}-by-string`);
  const freshViaString = await env.TIMER.get(env.TIMER.idFromString(fresh.toString())).whoami();
  const freshByNameAfter = await env.TIMER.getByName(`${name}-by-string`).whoami();
  const inside = await env.TIMER.getByName(name).whoami();
  const viaString = await env.TIMER.get(roundTrip).whoami();
  const viaUnique = await env.TIMER.get(unique).whoami();
  return {
    idFromName: { length: id.toString().length, hex: HEX64.test(id.toString()), name: id.name ?? "undefined" },
    "same name, same string": id.toString() === again.toString(),
    "same name, equals()": id.equals(again),
    "same name, ===": id === again,
    "other name differs": id.toString() !== env.TIMER.idFromName(`${name}!`).toString(),
    "same name in another namespace differs": id.toString() !== env.LEDGER.idFromName(name).toString(),
    "String(id)": String(id) === id.toString(),
    "JSON.stringify(id)": (() => { try { return JSON.stringify(id); } catch (e) { return `${e.name}: ${e.message}`; } })(),
    newUniqueId: {
      length: unique.toString().length,
      hex: HEX64.test(unique.toString()),
      name: unique.name ?? "undefined",
      "two differ": unique.toString() !== unique2.toString(),
    },
    "idFromString(idFromName(x).toString())": { equals: roundTrip.equals(id), name: roundTrip.name ?? "undefined" },
    "idFromString(newUniqueId().toString())": { equals: uniqueRoundTrip.equals(unique) },
    "inside, reached by name": { sameString: inside.idString === id.toString(), name: inside.name },
    "inside, reached by idFromString after by name": { sameString: viaString.idString === id.toString(), name: viaString.name },
    "inside, reached first by idFromString": { sameString: freshViaString.idString === fresh.toString(), name: freshViaString.name },
    "inside, then by name": { name: freshByNameAfter.name },
    "inside, reached by newUniqueId": { sameString: viaUnique.idString === unique.toString(), name: viaUnique.name },
    "idFromString('abc')": tryId(() => env.TIMER.idFromString("abc")),
    "idFromString(upper-case hex)": tryId(() => env.TIMER.idFromString(id.toString().toUpperCase())),
    "idFromString(64 zeros)": tryId(() => env.TIMER.idFromString("0".repeat(64))),
    "idFromString(an id of another namespace)": tryId(() => env.TIMER.idFromString(env.LEDGER.idFromName(name).toString())),
    "idFromName('')": tryId(() => env.TIMER.idFromName("")),
    "getByName('') whoami": await env.TIMER.getByName("").whoami().then((w) => ({ name: w.name }), (e) => ({ error: e.message })),
  };
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const [, area, name, action] = url.pathname.split("/").map(decodeURIComponent);
    const q = Object.fromEntries(url.searchParams);
    const timer = () => env.TIMER.getByName(name);
    let result;
    if (area === "timer" && action === "schedule") {
      result = await timer().schedule(Number(q.ms ?? 200), { failOnce: q.fail === "1", repeat: Number(q.repeat ?? 1) });
    } else if (area === "timer" && action === "status") {
      result = await timer().status();
    } else if (area === "timer" && action === "cancel") {
      result = await timer().cancel();
    } else if (area === "timer" && action === "boot") {
      result = await timer().boot();
    } else if (area === "timer" && action === "edge-cases") {
      result = await timer().setAlarmEdgeCases();
    } else if (area === "timer" && action === "relay") {
      result = await timer().relay(q.ledger ?? "log", q.message ?? "hi");
    } else if (area === "ledger" && action === "entries") {
      const entries = await env.LEDGER.getByName(name).entries();
      result = { count: entries.length, entries };
    } else if (area === "ledger" && action === "append") {
      result = await env.LEDGER.getByName(name).append(q.entry ?? "");
    } else if (area === "ledger" && action === "whoami-by-string") {
      // reach the object through its id string only, never by name
      result = await env.LEDGER.get(env.LEDGER.idFromString(env.LEDGER.idFromName(name).toString())).whoami();
    } else if (area === "ledger" && action === "set-alarm") {
      result = await env.LEDGER.getByName(name).setAlarmWithoutHandler();
    } else if (area === "ids") {
      result = await ids(env, name);
    } else {
      return new Response("not found", { status: 404 });
    }
    return Response.json(result);
  },
};
