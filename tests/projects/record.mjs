#!/usr/bin/env node
// Records Cloudflare's own answers for Worker projects (give their folders as arguments).
//
//   node tests/projects/record.mjs [PROJECT_DIR ...]   (default: every project folder beside
//                                                        this file that has a requests.json)
//   node tests/projects/record.mjs --serve PROJECT [--port N] [--data DIR]   (serve it by hand)
//
// For each project it reads the wrangler config (jsonc/json/toml) itself, starts workerd
// through Miniflare (what `wrangler dev` runs) with SQLite-backed Durable Objects persisted
// in a fresh temporary folder, and replays:
//   requests.json       -> expected.json                (fresh storage)
//   after_restart.json  -> expected_after_restart.json  (Miniflare disposed and started
//                                                        again on the same storage)
//   rpc.json            -> expected_rpc.json            (fresh storage; direct stub calls
//                                                        through mf.getDurableObjectNamespace)
// Steps with a "ws" key drive WebSocket client connections, named by that key (the npm
// package `ws` from the Miniflare install): {ws, open: PATH, headers?, protocols?},
// {ws, send: TEXT}, {ws, send_bytes: [..]}, {ws, send_size: N}, {ws, receive: N, timeout_ms?},
// {ws, close: CODE | true, reason?}, {ws, closed: true, timeout_ms?}, {ws, drop: true},
// {ws, ping: PAYLOAD} (see README.md). Messages are buffered from the moment of connection;
// connections still open after the last step are closed without being recorded.
// Answers are masked with mask.json (beside this file).
//
// Env: ANCHOR_HOME (Miniflare install, default ${XDG_CACHE_HOME:-~/.cache}/dobj/workerd-anchor,
// made by shared/anchors/workerd/start.sh), ESBUILD_HOME (where esbuild is installed with npm
// when a project needs bundling, default ${XDG_CACHE_HOME:-~/.cache}/dobj/esbuild).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CACHE = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
const ANCHOR_HOME = process.env.ANCHOR_HOME || path.join(CACHE, "dobj", "workerd-anchor");
const ESBUILD_HOME = process.env.ESBUILD_HOME || path.join(CACHE, "dobj", "esbuild");
const ESBUILD_VERSION = "0.28.2"; // the version wrangler 4 bundles with

const anchorRequire = createRequire(path.join(ANCHOR_HOME, "package.json"));
let Miniflare, Log, LogLevel, WebSocket;
try {
  ({ Miniflare, Log, LogLevel } = anchorRequire("miniflare"));
  WebSocket = anchorRequire("ws"); // Miniflare's own dependency; Node 20 has no WebSocket client
} catch (e) {
  console.error(`miniflare not found under ${ANCHOR_HOME}: run shared/anchors/workerd/start.sh once ` +
    `(it installs it), or set ANCHOR_HOME.\n${e.message}`);
  process.exit(2);
}
const versions = {
  miniflare: anchorRequire("miniflare/package.json").version,
  workerd: anchorRequire("workerd/package.json").version,
};

// ---------------------------------------------------------------- masking (see mask.json)
const MASKS = JSON.parse(fs.readFileSync(path.join(HERE, "mask.json"), "utf8")).map(
  (m) => [new RegExp(m.pattern, "g"), m.replace]);
function maskString(s) {
  for (const [re, rep] of MASKS) s = s.replace(re, rep);
  return s;
}
export function mask(v) {
  if (typeof v === "string") return maskString(v);
  if (Array.isArray(v)) return v.map(mask);
  if (v && typeof v === "object") {
    const out = {};
    for (const [k, x] of Object.entries(v)) out[maskString(k)] = mask(x);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------- wrangler config
function stripJsonc(text) {
  let out = "", i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1); i = j + 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2); i = i < 0 ? text.length : i + 2;
    } else { out += c; i++; }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

// A small TOML reader: tables, arrays of tables, dotted keys, strings, numbers, booleans,
// arrays and inline tables -- what wrangler.toml files use.
export function parseToml(text) {
  let i = 0;
  const root = {};
  let cur = root;
  const err = (m) => { throw new Error(`wrangler.toml: ${m} at offset ${i}`); };
  const skip = (newlines) => {
    for (;;) {
      const c = text[i];
      if (c === " " || c === "\t" || c === "\r" || (newlines && c === "\n")) i++;
      else if (c === "#") { while (i < text.length && text[i] !== "\n") i++; }
      else return;
    }
  };
  const bareKey = () => {
    skip(false);
    if (text[i] === '"' || text[i] === "'") return str();
    const m = /^[A-Za-z0-9_-]+/.exec(text.slice(i));
    if (!m) err("expected a key");
    i += m[0].length;
    return m[0];
  };
  const dotted = () => {
    const keys = [bareKey()];
    for (skip(false); text[i] === "."; skip(false)) { i++; keys.push(bareKey()); }
    return keys;
  };
  const str = () => {
    const q = text[i];
    const triple = text.startsWith(q.repeat(3), i);
    i += triple ? 3 : 1;
    if (triple && text[i] === "\n") i++;
    let s = "";
    for (;;) {
      if (i >= text.length) err("unterminated string");
      if (triple ? text.startsWith(q.repeat(3), i) : text[i] === q) { i += triple ? 3 : 1; return s; }
      if (q === '"' && text[i] === "\\") {
        const e = text[i + 1];
        const simple = { n: "\n", t: "\t", r: "\r", '"': '"', "\\": "\\", b: "\b", f: "\f" };
        if (e in simple) { s += simple[e]; i += 2; }
        else if (e === "u" || e === "U") {
          const n = e === "u" ? 4 : 8;
          s += String.fromCodePoint(parseInt(text.slice(i + 2, i + 2 + n), 16)); i += 2 + n;
        } else err("bad escape");
      } else s += text[i++];
    }
  };
  const value = () => {
    skip(false);
    const c = text[i];
    if (c === '"' || c === "'") return str();
    if (c === "[") {
      i++;
      const arr = [];
      for (;;) {
        skip(true);
        if (text[i] === "]") { i++; return arr; }
        arr.push(value());
        skip(true);
        if (text[i] === ",") i++;
        else if (text[i] !== "]") err("expected , or ]");
      }
    }
    if (c === "{") {
      i++;
      const obj = {};
      for (;;) {
        skip(false);
        if (text[i] === "}") { i++; return obj; }
        const keys = dotted();
        skip(false);
        if (text[i++] !== "=") err("expected =");
        assign(obj, keys, value());
        skip(false);
        if (text[i] === ",") i++;
      }
    }
    const m = /^[^\s,\]}#]+/.exec(text.slice(i));
    if (!m) err("expected a value");
    i += m[0].length;
    const w = m[0];
    if (w === "true") return true;
    if (w === "false") return false;
    const n = Number(w.replace(/_/g, ""));
    if (!Number.isNaN(n)) return n;
    return w; // dates and the like stay text
  };
  const assign = (obj, keys, v) => {
    let o = obj;
    for (const k of keys.slice(0, -1)) o = o[k] ??= {};
    o[keys.at(-1)] = v;
  };
  for (;;) {
    skip(true);
    if (i >= text.length) return root;
    if (text[i] === "[") {
      const arrayTable = text[i + 1] === "[";
      i += arrayTable ? 2 : 1;
      const keys = dotted();
      i += arrayTable ? 2 : 1;
      let o = root;
      for (const k of keys.slice(0, -1)) { o = o[k] ??= {}; if (Array.isArray(o)) o = o.at(-1); }
      const last = keys.at(-1);
      if (arrayTable) { (o[last] ??= []).push({}); cur = o[last].at(-1); }
      else cur = o[last] ??= {};
    } else {
      const keys = dotted();
      skip(false);
      if (text[i++] !== "=") err("expected =");
      assign(cur, keys, value());
    }
  }
}

export function readConfig(projectDir) {
  for (const name of ["wrangler.jsonc", "wrangler.json", "wrangler.toml"]) {
    const file = path.join(projectDir, name);
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, "utf8");
    const config = name.endsWith(".toml") ? parseToml(text) : JSON.parse(stripJsonc(text));
    return { file, config };
  }
  throw new Error(`no wrangler.jsonc, wrangler.json or wrangler.toml in ${projectDir}`);
}

// ---------------------------------------------------------------- modules
async function esbuild() {
  const req = createRequire(path.join(ESBUILD_HOME, "package.json"));
  try {
    return req("esbuild");
  } catch {
    try { return anchorRequire("esbuild"); } catch { /* install below */ }
  }
  console.error(`[record] installing esbuild@${ESBUILD_VERSION} into ${ESBUILD_HOME}`);
  fs.mkdirSync(ESBUILD_HOME, { recursive: true });
  if (!fs.existsSync(path.join(ESBUILD_HOME, "package.json")))
    fs.writeFileSync(path.join(ESBUILD_HOME, "package.json"), '{"private":true}\n');
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--silent", `esbuild@${ESBUILD_VERSION}`],
    { cwd: ESBUILD_HOME, stdio: "inherit" });
  return req("esbuild");
}

// JavaScript projects are given to Miniflare as they are (it follows relative imports);
// a TypeScript entry, or a project with a package.json (bare imports from its node_modules,
// installed with `npm ci` first), is bundled first with esbuild, the way wrangler does.
async function workerOptions(projectDir, config, buildDir) {
  const entry = path.resolve(projectDir, config.main);
  const hasPackage = fs.existsSync(path.join(projectDir, "package.json"));
  if (hasPackage && !fs.existsSync(path.join(projectDir, "node_modules")))
    throw new Error(`${path.basename(projectDir)} has a package.json: run \`npm ci\` in it first`);
  if (!/\.(ts|mts|tsx)$/.test(entry) && !hasPackage) {
    // wrangler treats every .js/.mjs file of a modules Worker as an ES module
    return { scriptPath: entry, modulesRoot: projectDir, modulesRules: [{ type: "ESModule", include: ["**/*.js", "**/*.mjs"] }] };
  }
  const { build } = await esbuild();
  const outfile = path.join(buildDir, "index.js");
  await build({
    entryPoints: [entry], outfile, bundle: true, format: "esm", target: "es2022",
    platform: "neutral", conditions: ["workerd", "worker", "browser"], keepNames: true,
    external: ["cloudflare:*", "node:*"], logLevel: "warning",
    // wrangler's default module rules: text for .txt/.html/.sql, bytes for .bin
    loader: { ".txt": "text", ".html": "text", ".sql": "text", ".bin": "binary" },
  });
  return { scriptPath: outfile, modulesRoot: buildDir };
}

function durableObjects(config) {
  // new_sqlite_classes are SQLite-backed (ctx.storage.sql); new_classes use the KV backend
  const sqlite = new Set((config.migrations ?? []).flatMap((m) => m.new_sqlite_classes ?? []));
  const out = {};
  for (const b of config.durable_objects?.bindings ?? []) {
    out[b.name] = { className: b.class_name, useSQLite: sqlite.has(b.class_name) };
  }
  return out;
}

async function start(projectDir, persist, buildDir, port = 0) {
  const { config } = readConfig(projectDir);
  const mf = new Miniflare({
    host: "127.0.0.1",
    port,
    modules: true,
    ...(await workerOptions(projectDir, config, buildDir)),
    compatibilityDate: config.compatibility_date,
    compatibilityFlags: config.compatibility_flags ?? [],
    bindings: config.vars ?? {},
    durableObjects: durableObjects(config),
    durableObjectsPersist: persist,
    log: new Log(LogLevel[(process.env.LOG_LEVEL ?? "WARN").toUpperCase()] ?? LogLevel.WARN),
    telemetry: { enabled: false },
    cf: false,
  });
  const url = await mf.ready;
  return { mf, url: String(url).replace(/\/$/, ""), config };
}

// ---------------------------------------------------------------- replay
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function requestOf(step) {
  const headers = { ...(step.headers ?? {}) };
  let body = step.body;
  const typed = Object.keys(headers).some((h) => h.toLowerCase() === "content-type");
  if (body !== undefined && typeof body !== "string") {
    body = JSON.stringify(body);
    if (!typed) headers["content-type"] = "application/json";
  } else if (body !== undefined && !typed) {
    headers["content-type"] = "text/plain;charset=UTF-8";
  }
  return { method: step.method ?? "GET", headers, body };
}

async function send(base, step) {
  const r = await fetch(base + step.path, {
    ...requestOf(step), redirect: "manual", signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  const contentType = r.headers.get("content-type");
  let body = text;
  if (contentType && contentType.includes("json")) {
    try { body = JSON.parse(text); } catch { /* keep the text */ }
  }
  const out = { status: r.status, content_type: contentType, body: mask(body) };
  if (step.record_headers) {
    out.headers = {};
    for (const h of step.record_headers) out.headers[h.toLowerCase()] = mask(r.headers.get(h));
  }
  return out;
}

function contains(body, subset) {
  if (subset === null || typeof subset !== "object") return body === subset;
  if (body === null || typeof body !== "object") return false;
  return Object.entries(subset).every(([k, v]) => contains(body[k], v));
}

function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(",")}}`;
  return JSON.stringify(v);
}

// ---------------------------------------------------------------- WebSocket steps
// One client connection: every message is buffered in arrival order from the moment the
// connection is made; `receive` and `closed` steps consume them.
class Connection {
  constructor(url, step) {
    this.messages = [];
    this.closed = null;
    this.pongs = [];
    this.wakers = new Set();
    this.ws = new WebSocket(url, step.protocols ?? [], { headers: step.headers ?? {} });
    this.ws.on("message", (data, isBinary) => {
      this.messages.push(isBinary ? { bytes: [...Buffer.from(data)] } : Buffer.from(data).toString("utf8"));
      this.wake();
    });
    this.ws.on("pong", (data) => { this.pongs.push(Buffer.from(data).toString("utf8")); this.wake(); });
    this.ws.on("close", (code, reason) => {
      // the ws library reports 1006 when the connection ended without a close frame
      this.closed ??= { code, reason: Buffer.from(reason).toString("utf8"), wasClean: code !== 1006 };
      this.wake();
    });
    // A close frame from the server already decides the answer: the library answers it and
    // then waits for the server to end the TCP connection, which workerd may delay (by 10 s
    // after closing with 1009). The library has no event for the frame itself, so listen to
    // its frame parser ("conclude" carries the frame's code and reason; 1005 when it had none).
    this.ws.once("open", () => { // the parser exists from here, before any frame is read
      this.ws._receiver.once("conclude", (code, reason) => {
        this.closed ??= { code, reason: Buffer.from(reason).toString("utf8"), wasClean: true };
        this.wake();
      });
    });
    this.ws.on("error", () => { /* followed by "close"; the answer reports that */ });
  }

  wake() { for (const w of this.wakers) w(); }

  // resolves true once ready() holds, false after ms
  until(ready, ms) {
    if (ready()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok) => { clearTimeout(timer); this.wakers.delete(check); resolve(ok); };
      const check = () => { if (ready()) done(true); };
      const timer = setTimeout(() => done(false), ms);
      this.wakers.add(check);
    });
  }

  // the answer to `open`: 101 (and the chosen protocol), or the refusal as an HTTP answer
  opened() {
    return new Promise((resolve, reject) => {
      this.ws.once("open", () => resolve(this.ws.protocol ? { status: 101, protocol: this.ws.protocol } : { status: 101 }));
      this.ws.once("unexpected-response", (req, res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const contentType = res.headers["content-type"] ?? null;
          let body = Buffer.concat(chunks).toString("utf8");
          if (contentType && contentType.includes("json")) {
            try { body = JSON.parse(body); } catch { /* keep the text */ }
          }
          resolve({ status: res.statusCode, content_type: contentType, body });
        });
        res.on("error", reject);
      });
      this.ws.once("error", reject);
    });
  }

  take(n) { return this.messages.splice(0, n); }
}

async function wsStep(base, step, conns) {
  const id = step.ws;
  const timeout = step.timeout_ms ?? 3000;
  if (step.open !== undefined) {
    if (conns.has(id) && !conns.get(id).closed) throw new Error(`ws ${id}: already open`);
    const c = new Connection(base.replace(/^http/, "ws") + step.open, step);
    conns.set(id, c);
    return c.opened();
  }
  const c = conns.get(id);
  if (!c) throw new Error(`ws ${id}: no connection of that name was opened`);
  const sent = (data, options) => new Promise((resolve) => {
    try {
      c.ws.send(data, options, (e) => resolve(e ? { error: e.message } : {}));
    } catch (e) { resolve({ error: e.message }); }
  });
  if (step.send !== undefined) return sent(step.send, { binary: false });
  if (step.send_bytes !== undefined) return sent(Buffer.from(step.send_bytes), { binary: true });
  if (step.send_size !== undefined) return sent("x".repeat(step.send_size), { binary: false });
  if (step.receive !== undefined) {
    const n = step.receive;
    const ok = await c.until(() => c.messages.length >= n || c.closed, timeout);
    const enough = c.messages.length >= n;
    const out = { received: c.take(n) };
    if (!enough && c.closed) out.closed = c.closed;
    else if (!ok) out.timeout = true;
    return out;
  }
  if (step.close !== undefined) {
    try {
      if (typeof step.close === "number") c.ws.close(step.close, step.reason);
      else c.ws.close();
    } catch (e) { return { error: e.message }; }
    return {};
  }
  if (step.closed !== undefined) {
    const ok = await c.until(() => c.closed, timeout);
    return ok ? { closed: c.closed, received: c.take(c.messages.length) }
      : { timeout: true, received: c.take(c.messages.length) };
  }
  if (step.drop !== undefined) {
    c.ws.terminate(); // ends the TCP connection without a close frame
    return {};
  }
  if (step.ping !== undefined) {
    c.pongs.length = 0;
    try { c.ws.ping(step.ping); } catch (e) { return { error: e.message }; }
    const ok = await c.until(() => c.pongs.length > 0, timeout);
    return ok ? { pong: c.pongs.shift() } : { timeout: true };
  }
  throw new Error(`ws ${id}: step without open/send/send_bytes/send_size/receive/close/closed/drop/ping`);
}

// Connections left open after the last step: closed normally (or cut after a second).
async function closeAll(conns) {
  await Promise.all([...conns.values()].filter((c) => !c.closed).map(async (c) => {
    try { c.ws.close(1000); } catch { /* not open yet */ }
    if (!(await c.until(() => c.closed, 1000))) c.ws.terminate();
  }));
}

async function runStep(base, step, conns) {
  if (step.sleep_ms) await sleep(step.sleep_ms);
  if (step.ws !== undefined) return mask(await wsStep(base, step, conns));
  if (step.parallel) {
    const results = await Promise.all(step.parallel.map((s) => runStep(base, s, conns)));
    return { parallel: results.sort((a, b) => (canonical(a) < canonical(b) ? -1 : 1)) };
  }
  if (step.poll_until) {
    const deadline = Date.now() + (step.timeout_ms ?? 5000);
    for (;;) {
      const r = await send(base, step);
      if (contains(r.body, step.poll_until)) return r;
      if (Date.now() > deadline) throw new Error(`poll ${step.path}: ${JSON.stringify(step.poll_until)} never seen; last ${JSON.stringify(r)}`);
      await sleep(50);
    }
  }
  return send(base, step);
}

function describe(step) {
  if (step.ws !== undefined) return step;
  if (step.parallel) return { parallel: step.parallel.map(describe), note: step.note };
  const d = { method: step.method ?? "GET", path: step.path };
  if (step.headers) d.headers = step.headers;
  if (step.body !== undefined) d.body = step.body;
  if (step.note) d.note = step.note;
  return d;
}

async function replay(base, steps) {
  const out = [];
  const conns = new Map(); // WebSocket connections by the steps' "ws" names
  try {
    for (const step of steps) out.push({ request: describe(step), ...(await runStep(base, step, conns)) });
  } finally { await closeAll(conns); }
  return out;
}

// Results of direct stub calls, as JSON (what the Python API gives back).
function plain(v) {
  if (v === undefined) return null;
  return mask(JSON.parse(JSON.stringify(v)));
}

async function rpcCalls(mf, calls) {
  const out = [];
  for (const c of calls) {
    const ns = await mf.getDurableObjectNamespace(c.binding);
    const stub = ns.get(ns.idFromName(c.name));
    try {
      out.push({ call: c, result: plain(await stub[c.method](...(c.args ?? []))) });
    } catch (e) {
      out.push({ call: c, error: { name: e.name, message: e.message } });
    }
  }
  return out;
}

// ---------------------------------------------------------------- main
const readJson = (f) => JSON.parse(fs.readFileSync(f, "utf8"));
// Recordings are committed: they must not carry this machine's paths (an uncaught error's
// stack in a Miniflare error page would), so such an answer is a recording error.
function writeJson(file, value) {
  const text = JSON.stringify(value, null, 2) + "\n";
  for (const local of ["file://", os.homedir(), os.tmpdir(), HERE]) {
    if (text.includes(local)) throw new Error(`${path.basename(file)} would contain a local path (${local}); make the Worker catch that error`);
  }
  fs.writeFileSync(file, text);
}

async function record(projectDir) {
  const t0 = performance.now();
  const name = path.basename(projectDir);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `dobj-cf-${name}-`));
  const persist = path.join(tmp, "do");
  const meta = (extra) => ({ project: name, recorded_with: { ...versions, ...extra } });
  try {
    let { mf, url, config } = await start(projectDir, persist, tmp);
    const info = { compatibility_date: config.compatibility_date };
    try {
      const steps = await replay(url, readJson(path.join(projectDir, "requests.json")));
      writeJson(path.join(projectDir, "expected.json"), { ...meta(info), steps });
    } finally { await mf.dispose(); }

    const after = path.join(projectDir, "after_restart.json");
    if (fs.existsSync(after)) {
      ({ mf, url } = await start(projectDir, persist, tmp));
      try {
        const steps = await replay(url, readJson(after));
        writeJson(path.join(projectDir, "expected_after_restart.json"), { ...meta(info), steps });
      } finally { await mf.dispose(); }
    }

    const rpc = path.join(projectDir, "rpc.json");
    if (fs.existsSync(rpc)) {
      ({ mf } = await start(projectDir, path.join(tmp, "rpc"), tmp));
      try {
        const calls = await rpcCalls(mf, readJson(rpc));
        writeJson(path.join(projectDir, "expected_rpc.json"), { ...meta(info), calls });
      } finally { await mf.dispose(); }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`[record] ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

// `--serve PROJECT [--port N] [--data DIR]`: serve one project on workerd the way
// `dobj serve` must, to compare by hand or to check test_cf.py itself against workerd.
// PROJECT may be the folder, its wrangler file, or a file inside it (e.g. the entry).
async function serve(args) {
  const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : dflt; };
  let dir = path.resolve(args[0]);
  if (!fs.statSync(dir).isDirectory()) dir = path.dirname(dir);
  while (!["wrangler.jsonc", "wrangler.json", "wrangler.toml"].some((f) => fs.existsSync(path.join(dir, f)))) {
    if (path.dirname(dir) === dir) throw new Error(`no wrangler config at or above ${args[0]}`);
    dir = path.dirname(dir);
  }
  const build = fs.mkdtempSync(path.join(os.tmpdir(), "dobj-cf-serve-"));
  const persist = path.resolve(opt("--data", path.join(build, "data")));
  const { mf, url } = await start(dir, persist, build, Number(opt("--port", 8787)));
  console.log(`[serve] ${path.basename(dir)} on workerd at ${url} (data ${persist})`);
  const stop = async () => { await mf.dispose(); fs.rmSync(build, { recursive: true, force: true }); process.exit(0); };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

async function main(args) {
  const root = HERE;
  const dirs = args.length ? args.map((a) => path.resolve(a))
    : fs.readdirSync(root).sort().map((d) => path.join(root, d))
      .filter((d) => fs.existsSync(path.join(d, "requests.json")));
  const t0 = performance.now();
  let failed = 0;
  for (const d of dirs) {
    try { await record(d); } catch (e) { failed++; console.error(`[record] ${path.basename(d)} FAILED: ${e.stack ?? e}`); }
  }
  console.log(`[record] ${dirs.length - failed}/${dirs.length} projects in ${((performance.now() - t0) / 1000).toFixed(1)} s ` +
    `(miniflare ${versions.miniflare}, workerd ${versions.workerd})`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  if (args[0] === "--serve") {
    await serve(args.slice(1));
  } else {
    await main(args);
  }
}
