// The globals bundles see besides JavaScript's own (SPEC section 5): Date on the runtime's
// clock, console captured per event, setTimeout/setInterval on the runtime's schedule,
// and a require() that says to bundle dependencies.
(function (internal) {
  "use strict";
  const { host, RealDate, flat, tag, errorText, unwrap, show, glue } = internal;
  const timers = new Map();          // timer id -> [fn, args, intervalMs, object id]

  function DobjDate(...args) {
    if (!new.target) return new RealDate(host.now()).toString();
    return args.length ? new RealDate(...args) : new RealDate(host.now());
  }
  DobjDate.prototype = RealDate.prototype;
  Object.defineProperty(DobjDate, "name", { value: "Date" });  // date.constructor.name is "Date"
  DobjDate.now = () => host.now();
  DobjDate.parse = RealDate.parse;
  DobjDate.UTC = RealDate.UTC;
  Object.defineProperty(RealDate.prototype, "constructor", { value: DobjDate, writable: true, configurable: true });
  globalThis.Date = DobjDate;

  const consoleObject = {};
  for (const level of ["log", "info", "warn", "error", "debug"]) {
    consoleObject[level] = (...args) => { host.console(level, flat(args.map(show).join(" "))); };
  }
  globalThis.console = consoleObject;

  // Timer ids are shared by every object: each timer remembers its object, and clearing
  // forgets it only when the host says the id belongs to the running event's object.
  function addTimer(fn, ms, args, interval) {
    if (typeof fn !== "function") throw new TypeError("setTimeout/setInterval need a function");
    const delay = Math.max(0, Number(ms) || 0);
    const [id, owner] = unwrap(host.timer("set", 0, String(delay)));
    timers.set(id, [fn, args, interval ? delay : -1, owner]);
    return id;
  }
  globalThis.setTimeout = (fn, ms, ...args) => addTimer(fn, ms, args, false);
  globalThis.setInterval = (fn, ms, ...args) => addTimer(fn, ms, args, true);
  globalThis.clearTimeout = globalThis.clearInterval = (id) => {
    const t = timers.get(id);
    if (t !== undefined && unwrap(host.timer("clear", id, "")) === t[3]) timers.delete(id);
  };

  function require(name) {
    throw new Error("require(" + JSON.stringify(name) + ") is not available: a dobj bundle is one self-contained file. Bundle your dependencies, e.g. esbuild --bundle --format=cjs");
  }
  globalThis.require = require;

  // The host runs a due timer ("" or "E" + error JSON) and drops the timers of a
  // discarded instance.
  glue.fireTimer = (id) => {
    const t = timers.get(id);
    if (!t) return "";
    if (t[2] < 0) timers.delete(id);
    else host.timer("again", id, String(t[2]));
    try { t[0](...t[1]); return ""; } catch (e) { return tag("E", errorText(e)); }
  };
  glue.dropTimers = (idsText) => { for (const id of JSON.parse(idsText)) timers.delete(id); };

  // quickjs-ng's stack call sites (Error.prepareStackTrace) hand out the function of every
  // frame, the runtime's own glue included; V8 gives undefined for strict-mode code. Give
  // undefined always, so no stack can lead bundle code to the runtime's functions.
  const prepare = Error.prepareStackTrace;
  Error.prepareStackTrace = (_, sites) => sites;
  const site = new Error().stack[0];
  Error.prepareStackTrace = prepare;
  Object.defineProperty(Object.getPrototypeOf(site), "getFunction", {
    value: function getFunction() { return undefined; }, writable: false, configurable: false,
  });

  internal.require = require;
})
