"""The web platform globals of Worker code answer as Cloudflare's runtime (workerd) does.

Every case of ``CASES`` is the body of an async function run in strict mode; its answer (a
JSON-able description of the value it returns, or of what it throws) is compared with what
workerd answered for the same code, kept in ``web_platform_workerd.json`` with the versions
and compatibility date it was recorded with. After changing a case, record again on workerd:

    python tests/test_web_platform.py --record

(it needs Node and Miniflare installed in ``$ANCHOR_HOME``, by default
``~/.cache/dobj/workerd-anchor``, where ``shared/anchors/workerd/start.sh`` installs it).

The rest checks what workerd cannot show: the hooks that carry requests and responses
across the host boundary, the structured-clone text the storage layer keeps, the host
functions' error envelopes, and that bundle code cannot reach the runtime's internals.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from dobj.runtime.engine import Engine
from dobj.runtime.web import WEB_SOURCES, web_host_functions

FIXTURE = Path(__file__).with_name("web_platform_workerd.json")
ERRORS_JS = Path(__file__).parents[1] / "workbench" / "dobj" / "runtime" / "js" / "errors.js"
COMPATIBILITY_DATE = "2026-04-01"

# How an answer is described, the same on workerd and here.
RUNNER = r"""
function describe(v, seen = new Set()) {
  if (v === undefined) return "<undefined>";
  if (typeof v === "bigint") return "<bigint " + v + ">";
  if (typeof v === "number") return Object.is(v, -0) ? "<-0>" : isFinite(v) ? v : "<" + v + ">";
  if (typeof v === "function") return "<function " + v.name + ">";
  if (typeof v === "symbol") return "<" + String(v) + ">";
  if (v === null || typeof v !== "object") return v;
  if (v instanceof Error || v instanceof DOMException) return { "<error>": [v.name, v.message, v.constructor.name] };
  if (seen.has(v)) return "<cycle>";
  seen.add(v);
  if (Array.isArray(v)) return v.map((x) => describe(x, seen));
  const o = {};
  for (const k of Object.keys(v)) o[k] = describe(v[k], seen);
  return o;
}
async function runCase(fn) {
  try { return { ok: describe(await fn()) }; }
  catch (e) { return { throws: [e && e.name, e && e.message, e && e.constructor && e.constructor.name, e && e.code] }; }
}
"""

CASES = {
    # Headers
    'headers_order': "const h = new Headers([['b','1'],['A','2'],['a','3'],['set-cookie','x'],['Set-Cookie','y'],['c','4']]); return [[...h], h.get('a'), h.getSetCookie(), h.get('set-cookie')]",
    'headers_bad_name': "new Headers({'a b': 'x'})",
    'headers_bad_value': "new Headers({'a': 'x\\ny'})",
    'headers_ws': "const h = new Headers({'a': '  x y \\t'}); return JSON.stringify(h.get('a'))",
    'headers_nul': "new Headers({'a': 'x\\0y'})",
    'headers_keys': "const h = new Headers({B: '1', a: '2'}); return [[...h.keys()], [...h.values()], Object.prototype.toString.call(h), String(h.entries())]",
    'nonlatin': "const h = new Headers({'a': 'é€'}); return [h.get('a'), [...h]]",
    'empty_name': "new Headers({'': 'x'})",
    'val_types': "const h = new Headers(); h.set('a', 1); h.set('b', null); h.set('c', undefined); h.append('d', {}); return [...h]",
    'headers_init_bad': 'new Headers(5)',
    'headers_init_seq_bad': "new Headers([['a']])",
    'headers_init_str': "new Headers('ab')",
    'headers_init_headers': "const a = new Headers({x:'1'}); a.append('set-cookie','a'); a.append('set-cookie','b'); return [...new Headers(a)]",
    'headers_get_missing': "return new Headers().get('x')",
    'headers_has_bad': "new Headers().has('a b')",
    'headers_get_bad': "new Headers().get('a b')",
    'headers_delete_bad': "new Headers().delete('a b')",
    'headers_foreach': "const out=[]; new Headers({b:'1',a:'2'}).forEach(function (v, k, o) { out.push([v, k, o instanceof Headers, this]) }, 7); return out",
    'headers_iter_mutate': "const h = new Headers({a:'1', b:'2', c:'3'}); const out=[]; for (const [k] of h) { out.push(k); if (k==='a') h.delete('b'); } return out",
    'headers_iter_mutate2': "const h = new Headers({a:'1', c:'3'}); const out=[]; for (const [k] of h) { out.push(k); if (k==='a') h.set('b', '2'); } return out",
    'headers_tostring': 'return [String(new Headers()), Object.prototype.toString.call(new Headers().keys()), typeof Headers.prototype[Symbol.iterator], Headers.prototype[Symbol.iterator] === Headers.prototype.entries]',
    'headers_getAll': "const h = new Headers(); h.append('set-cookie','a'); return [typeof h.getAll, h.getAll ? h.getAll('set-cookie') : null]",
    'headers_getAll_other': "const h = new Headers(); h.append('x','a'); return h.getAll('x')",
    'headers_value_leading': "const h = new Headers(); h.append('a', '\\r\\n x\\t '); return JSON.stringify(h.get('a'))",
    'headers_value_cr': "new Headers({a: 'x\\ry'})",
    'headers_value_unicode_ok': "const h = new Headers({a: 'ÿ'}); return h.get('a').charCodeAt(0)",
    'headers_name_chars': 'return [\'!\', \'#$%&\\\'*+-.^_`|~\', \'a:b\', \'(a)\', \'a"\', \'a/b\', \'a@\', \'a[\', \'a{\', \'a\\u007f\'].map(n => { try { new Headers([[n,\'v\']]); return \'ok\' } catch (e) { return e.message } })',
    'headers_guard_resp': "const r = Response.redirect('http://x/', 302); r.headers.set('a', 'b'); return [...r.headers]",
    'headers_guard_error': "const r = Response.error(); r.headers.set('a', 'b'); return [...r.headers]",
    'headers_obj_order': "return [...new Headers({'z': '1', 'Y': '2', 'x-a': '3', 'X-B': '4'})]",
    'headers_combine_cookie': "const h = new Headers(); h.append('Cookie', 'a=1'); h.append('cookie', 'b=2'); return h.get('cookie')",
    'headers_null': 'new Headers(null)',
    # Request
    'req_method': "return [new Request('http://x/', {method: 'post'}).method, new Request('http://x/', {method: 'patch'}).method, new Request('http://x/', {method: 'Foo'}).method]",
    'req_bad_url': "new Request('/a')",
    'req_get_body': "new Request('http://x/', {body: 'a'})",
    'req_defaults': "const r = new Request('http://X.com/a/../b'); return [r.url, r.method, r.redirect, [...r.headers], typeof r.signal, r.cache, r.integrity, r.keepalive, r.credentials, r.mode, r.referrer, r.destination, typeof r.fetcher, typeof r.cf]",
    'req_post_ct': "const r = new Request('http://x/', {method: 'POST', body: 'hi'}); return [[...r.headers], await r.text()]",
    'req_bad_method': "new Request('http://x/', {method: 'bad method'})",
    'req_connect': "new Request('http://x/', {method: 'CONNECT'})",
    'm1': "return ['get','post','patch','put','delete','head','options','GET','Patch','propfind','PROPFIND','TRACE','trace','connect','MKCOL','purge'].map(m => { try { return new Request('http://x/', {method: m}).method } catch (e) { return e.message } })",
    'm_all': "return ['COPY','LOCK','MOVE','PROPPATCH','SEARCH','UNLOCK','BIND','REBIND','UNBIND','ACL','REPORT','MKACTIVITY','CHECKOUT','MERGE','M-SEARCH','MSEARCH','NOTIFY','SUBSCRIBE','UNSUBSCRIBE','QUERY','LINK','UNLINK'].map(m => { try { return new Request('http://x/', {method: m}).method } catch (e) { return 'bad' } })",
    'req_clone': "const r = new Request('http://x/', {method: 'POST', body: 'hi', headers: {a: 'b'}}); const c = r.clone(); return [c.method, c.url, await c.text(), await r.text(), [...c.headers]]",
    'req_from_req': "const a = new Request('http://x/', {method: 'POST', body: 'hi'}); const b = new Request(a, {headers: {z: '1'}}); return [b.method, [...b.headers], await b.text(), a.bodyUsed]",
    'req_from_req_used': "const a = new Request('http://x/', {method: 'POST', body: 'hi'}); await a.text(); new Request(a)",
    'req_init_method_get_body': "const a = new Request('http://x/', {method: 'POST', body: 'hi'}); new Request(a, {method: 'GET'})",
    'req_signal': "const c = new AbortController(); const r = new Request('http://x/', {signal: c.signal}); return [r.signal === c.signal, r.signal.aborted, typeof new Request('http://x/').signal]",
    'req_redirect': "return [new Request('http://x/', {redirect: 'manual'}).redirect]",
    'req_redirect_bad': "new Request('http://x/', {redirect: 'nope'})",
    'req_headers_mutable': "const r = new Request('http://x/'); r.headers.set('a', 'b'); return [...r.headers]",
    'req_url_obj': "return new Request(new URL('http://x/a?b')).url",
    'req_noarg': 'new Request()',
    'req_head_body': "new Request('http://x/', {method: 'HEAD', body: ''})",
    'req_get_null_body': "return new Request('http://x/', {body: null}).method",
    'req_fetcher': "return [new Request('http://x/').fetcher, new Request('http://x/').cf, Object.prototype.toString.call(new Request('http://x/'))]",
    # Response and bodies
    'body_stream_feeds_a_new_response': "const a = new Request('http://x/', {method: 'POST', body: 'hello'}); const r = new Response(a.body); return [await r.text(), a.bodyUsed]",
    'body_stream_async_iteration': "const r = new Response('ab'); const chunks = []; for await (const c of r.body) chunks.push([...c]); return [chunks, r.bodyUsed]",
    'body_stream_reader': "const r = new Response('ab'); const rd = r.body.getReader(); const a = await rd.read(); const b = await rd.read(); return [[...a.value], a.done, b.done, b.value, r.body.locked]",
    'resp_null_text': 'return await new Response(null).text()',
    'resp_null_body': 'return new Response(null).body === null',
    'resp_default': 'const r = new Response(); return [r.status, r.statusText, r.ok, r.type, r.url, r.redirected, [...r.headers]]',
    'resp_str_ct': "return [...new Response('x').headers]",
    'resp_usp_ct': "return [...new Response(new URLSearchParams('a=1')).headers]",
    'resp_ab_ct': 'return [...new Response(new ArrayBuffer(2)).headers]',
    'resp_json': "const r = Response.json({a:1}, {status: 201, headers: {'X-A': 'b'}}); return [r.status, [...r.headers], await r.text()]",
    'redirect': "const r = Response.redirect('http://x.com/a b', 301); return [r.status, [...r.headers]]",
    'redirect_bad': "Response.redirect('http://x.com', 200)",
    'redirect_rel': "Response.redirect('/a')",
    'resp_error': 'const r = Response.error(); return [r.status, r.type]',
    'status_bad': "new Response('', {status: 600})",
    'status_199': "new Response('', {status: 199})",
    'status_101': 'new Response(null, {status: 101})',
    'status_204_body': "new Response('x', {status: 204})",
    'statusText_bad': "new Response('', {statusText: 'a\\nb'})",
    'bytes': "return typeof new Response('x').bytes",
    'bodyUsed': "const r = new Response('x'); await r.text(); try { await r.text() } catch (e) { return [r.bodyUsed, e.name, e.message] }",
    'st_texts': 'return [201, 204, 302, 404, 418, 500, 299, 599].map(s => new Response(null, {status: s}).statusText)',
    'st_given': "return new Response(null, {status: 404, statusText: 'Nope'}).statusText",
    'st_float': 'return new Response(null, {status: 200.5}).status',
    'st_str': "return new Response(null, {status: '201'}).status",
    'st_nan': "new Response(null, {status: 'x'})",
    'obj_body': 'return await new Response({a: 1}).text()',
    'obj_body_ct': 'return [...new Response({a: 1}).headers]',
    'num_body': 'return await new Response(5).text()',
    'ct_given': "return [...new Response('x', {headers: {'Content-Type': 'text/html'}}).headers]",
    'json_ct_given': "const r = Response.json(1, {headers: {'content-type': 'x/y'}}); return [...r.headers]",
    'json_undef': 'Response.json(undefined)',
    'json_bigint': 'Response.json(1n)',
    'json_status': "const r = Response.json(null, {status: 404, statusText: 'x'}); return [r.status, r.statusText, await r.text()]",
    'redirect_default': "const r = Response.redirect('http://x/'); return [r.status, r.statusText, r.redirected, r.url, await r.text(), [...r.headers]]",
    'redirect_obj': "return [...Response.redirect(new URL('http://x/y')).headers]",
    'body_views': 'const b = new Uint8Array([1,2,3,4]); const r = new Response(b.subarray(1,3)); return [...new Uint8Array(await r.arrayBuffer())]',
    'body_copy': 'const b = new Uint8Array([1,2]); const r = new Response(b); b[0] = 9; return [...await r.bytes()]',
    'bytes_type': "const r = await new Response('é').bytes(); return [Object.prototype.toString.call(r), [...r]]",
    'json_bad': "await new Response('{').json()",
    'json_bom': 'return await new Response(new Uint8Array([0xef,0xbb,0xbf,0x31])).json()',
    'text_bom': 'return (await new Response(new Uint8Array([0xef,0xbb,0xbf,0x31])).text()).length',
    'text_invalid': 'return await new Response(new Uint8Array([0xff, 0x61])).text()',
    'body_prop': "const r = new Response('x'); return [r.body === null, typeof r.body, r.body && r.body.constructor.name, r.bodyUsed]",
    'body_null_used': 'const r = new Response(null); await r.text(); return [r.bodyUsed, await r.text()]',
    'clone': "const r = new Response('abc', {status: 201, headers: {a: '1'}}); const c = r.clone(); c.headers.set('a', '2'); return [await r.text(), await c.text(), r.headers.get('a'), c.status]",
    'resp_tags': 'return [Object.prototype.toString.call(new Response()), String(new Response())]',
    'resp_ws_prop': 'return [new Response().webSocket]',
    'resp_bad_init': "new Response('x', 5)",
    'resp_headers_bad': "new Response('x', {headers: 5})",
    # URL and URLSearchParams
    'usp_round_trip': "const p = new URLSearchParams(); for (let i = 0; i < 100; i++) p.append('k' + i, 'v é+&= ' + i); const q = new URLSearchParams(p.toString()); return [q.size, q.get('k99'), p.toString().length]",
    'url_nul_and_lone_surrogate': "const u = new URL('http://h/a\\0b\\ud800?q=\\0x'); return [u.pathname, u.search]",
    'url_basic': "const u = new URL('HTTPS://user:pa ss@EXAMPLE.com:443/a/./b/../c?q=1 2#h h'); return [u.href, u.origin, u.protocol, u.username, u.password, u.host, u.hostname, u.port, u.pathname, u.search, u.hash, String(u), JSON.stringify(u)]",
    'url_bad': "new URL('nope')",
    'url_bad_base': "new URL('/a', 'nope')",
    'url_rel': "return new URL('../x?y#z', 'http://h/a/b/c').href",
    'url_base_url': "return new URL('x', new URL('http://h/a/')).href",
    'url_idna': "return new URL('http://Bücher.example/').href",
    'url_ipv4': "return [new URL('http://0x7f.1/').host, new URL('http://[::1]:80/').host]",
    'url_set_proto': "const u = new URL('http://h/'); u.protocol = 'ftp'; const a = u.href; u.protocol = 'foo'; return [a, u.href]",
    'url_set_host': "const u = new URL('http://h/p'); u.host = 'x.com:81'; u.port = '99999'; const a = u.href; u.port = ''; u.hostname = 'y'; return [a, u.href]",
    'url_set_search': "const u = new URL('http://h/p'); u.search = 'a=b c'; u.hash = 'x y'; const sp = u.searchParams; sp.append('d', 'é&'); return [u.href, u.search, sp.toString()]",
    'url_sp_live': "const u = new URL('http://h/?a=1'); const sp = u.searchParams; u.search = '?b=2'; return [sp.get('a'), sp.get('b'), u.searchParams === sp]",
    'url_sp_empty': "const u = new URL('http://h/?a=1'); u.searchParams.delete('a'); return u.href",
    'url_set_pathname': "const u = new URL('http://h/'); u.pathname = 'a b/ü'; return u.href",
    'url_set_href_bad': "const u = new URL('http://h/'); u.href = 'nope'",
    'url_statics': "return [typeof URL.canParse, URL.canParse && URL.canParse('x', 'http://h'), typeof URL.parse, URL.parse ? URL.parse('nope') : 'none', typeof URL.createObjectURL]",
    'url_tojson': "return new URL('http://h/').toJSON()",
    'url_noarg': 'new URL()',
    'url_file': "const u = new URL('file:///C:/a/../b'); return [u.href, u.origin, u.host]",
    'url_blob': "return new URL('blob:https://a.com/x').origin",
    'url_data': "const u = new URL('data:text/plain,hi there'); return [u.href, u.pathname, u.origin]",
    'url_tostring_tag': "return Object.prototype.toString.call(new URL('http://h'))",
    'usp_parse': "const p = new URLSearchParams('?a=1&b=%20x+y&&c&=d&a=2&%zz=%'); return [...p]",
    'usp_ser': "const p = new URLSearchParams(); p.append('a b', 'c+d&e=f'); p.append('ü*-._~!\\'()', '\\ud800'); return p.toString()",
    'usp_obj': 'return new URLSearchParams({b: 1, a: [1,2]}).toString()',
    'usp_seq': "return new URLSearchParams([['a','1'],['b','2']]).toString()",
    'usp_seq_bad': "new URLSearchParams([['a']])",
    'usp_sort': "const p = new URLSearchParams('c=1&a=2&b=3&a=1'); p.sort(); return p.toString()",
    'usp_methods': "const p = new URLSearchParams('a=1&b=2&a=3'); const r = [p.get('a'), p.getAll('a'), p.has('a'), p.has('a', '3'), p.has('a', '4'), p.size]; p.set('a', 'x'); r.push(p.toString()); p.delete('a', 'x'); r.push(p.toString()); return r",
    'usp_keys': "const p = new URLSearchParams('a=1&b=2'); const out=[]; p.forEach((v,k,o) => out.push([v,k,o===p])); return [out, [...p.keys()], [...p.values()], Object.prototype.toString.call(p), Object.prototype.toString.call(p.entries())]",
    'usp_from_usp': "const a = new URLSearchParams('x=1'); return new URLSearchParams(a).toString()",
    'usp_null': 'return [new URLSearchParams(null).toString(), new URLSearchParams(undefined).toString(), new URLSearchParams(5).toString()]',
    'usp_sort_unicode': "const p = new URLSearchParams(); p.append('\\ud83d\\ude00', '1'); p.append('\\uffff', '2'); p.sort(); return [...p.keys()].map(k => k.length)",
    # Encodings and base64
    'atob_discards_extra_bits': "return [atob('YR'), atob('YWI'), btoa(atob('/w=='))]",
    'atob_bad': "atob('a')",
    'atob_ws': "return atob(' YW Jj\\n')",
    'atob_pad': "return [atob('YQ'), atob('YQ=')]",
    'atob_pad2': "atob('YQ===')",
    'btoa_bad': "btoa('€')",
    'btoa_ok': "return btoa('\\xff\\x00a')",
    'atob_noarg': 'atob()',
    'atob_null': 'return atob(null)',
    'te': "const e = new TextEncoder(); return [e.encoding, [...e.encode('a€\\ud800')], e.encode() instanceof Uint8Array, e.encodeInto ? 'y':'n']",
    'te_into': "const u = new Uint8Array(3); return new TextEncoder().encodeInto('a€', u)",
    'td': 'const d = new TextDecoder(); return [d.encoding, d.fatal, d.ignoreBOM, d.decode(new Uint8Array([0xef,0xbb,0xbf,0x61,0xff,0x62])), d.decode()]',
    'td_fatal': "new TextDecoder('utf-8', {fatal: true}).decode(new Uint8Array([0xff]))",
    'td_bom': "return new TextDecoder('utf-8', {ignoreBOM: true}).decode(new Uint8Array([0xef,0xbb,0xbf,0x61])).length",
    'td_label': "return [new TextDecoder('UTF8').encoding, new TextDecoder(' unicode-1-1-utf-8 ').encoding]",
    'td_latin1': "const d = new TextDecoder('latin1'); return [d.encoding, d.decode(new Uint8Array([0x80, 0xe9]))]",
    'td_utf16': "const d = new TextDecoder('utf-16le'); return [d.encoding, d.decode(new Uint8Array([0x61, 0]))]",
    'td_bad_label': "new TextDecoder('nope')",
    'td_buffer': "return new TextDecoder().decode(new TextEncoder().encode('hé').buffer)",
    'td_dataview': "return new TextDecoder().decode(new DataView(new TextEncoder().encode('hé').buffer))",
    'td_bad_input': "new TextDecoder().decode('abc')",
    'td_surrogates': 'return [...new TextDecoder().decode(new Uint8Array([0xed, 0xa0, 0x80, 0xf0, 0x9f, 0x98, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82]))].map(c => c.codePointAt(0))',
    'atob_yq': "return atob('YQ')",
    'atob_yqe': "atob('YQ=')",
    'atob_yqee': "return atob('YQ==')",
    # structuredClone
    'sc_basic': "const d = new Date(5); const o = {d, m: new Map([[1, {a: 1}]]), s: new Set(['x']), r: /a+/gi, b: 10n, ab: new Uint8Array([1,2]).buffer, u16: new Uint16Array([1,2]), neg0: -0, nan: NaN, und: undefined, arr: [1,,3], str: new String('s'), num: new Number(3), bool: new Boolean(false)}; o.self = o; const c = structuredClone(o); return [c.d instanceof Date, c.d.getTime(), c.d !== d, c.m.get(1), [...c.s], c.r.source, c.r.flags, c.r.lastIndex, typeof c.b, c.b === 10n, c.ab instanceof ArrayBuffer, c.ab.byteLength, c.u16 instanceof Uint16Array, [...c.u16], Object.is(c.neg0, -0), Number.isNaN(c.nan), 'und' in c, c.und, 1 in c.arr, c.arr.length, typeof c.str, String(c.str), typeof c.num, typeof c.bool, c.self === c]",
    'sc_fn': 'structuredClone({f() {}})',
    'sc_sym': "structuredClone(Symbol('x'))",
    'sc_sym_key': "const c = structuredClone({[Symbol('a')]: 1, b: 2}); return Object.getOwnPropertySymbols(c).length",
    'sc_err': "const e = new RangeError('bad', {cause: 1}); e.extra = 5; e.code = 'X'; const c = structuredClone(e); return [c instanceof RangeError, c.name, c.message, c.extra, c.code, c.cause, typeof c.stack, c.stack === e.stack]",
    'sc_err_custom': "class MyErr extends Error { constructor(m) { super(m); this.name = 'MyErr' } } const c = structuredClone(new MyErr('x')); return [c.constructor.name, c.name, c.message]",
    'sc_err_named': "const e = new Error('x'); e.name = 'TypeError'; const c = structuredClone(e); return [c.constructor.name, c.name]",
    'sc_class': 'class A { constructor() { this.x = 1 } get y() { return 2 } } const c = structuredClone(new A()); return [c.constructor === Object, c.x, c.y]',
    'sc_getter': "const c = structuredClone({get a() { return 5 }}); return Object.getOwnPropertyDescriptor(c, 'a')",
    'sc_shared': 'const s = {}; const c = structuredClone([s, s]); return c[0] === c[1]',
    'sc_view_shared': 'const b = new ArrayBuffer(8); const c = structuredClone([new Uint8Array(b, 2, 2), new DataView(b)]); return [c[0].buffer === c[1].buffer, c[0].byteOffset, c[0].length, c[1] instanceof DataView]',
    'sc_transfer': 'const b = new ArrayBuffer(4); const c = structuredClone(b, {transfer: [b]}); return [b.byteLength, c.byteLength]',
    'sc_weakmap': 'structuredClone(new WeakMap())',
    'sc_promise': 'structuredClone(Promise.resolve())',
    'sc_noarg': 'return structuredClone()',
    'sc_nested_fn': 'structuredClone({a: [1, {b: () => 1}]})',
    'sc_map_order': "const c = structuredClone(new Map([['b', 1], ['a', 2]])); return [...c.keys()]",
    'sc_arr_props': 'const a = [1, 2]; a.x = 3; const c = structuredClone(a); return [c.x, c.length]',
    'sc_dom': "const c = structuredClone(new DOMException('m', 'AbortError')); return [c instanceof DOMException, c.name, c.message, c.code]",
    'sc_bigint64': 'const c = structuredClone(new BigInt64Array([1n])); return [c instanceof BigInt64Array, String(c[0])]',
    'sc_boxed_bigint': 'const c = structuredClone(Object(5n)); return typeof c',
    'sc_date_invalid': 'return String(structuredClone(new Date(NaN)).getTime())',
    # crypto
    'uuid': 'const u = crypto.randomUUID(); return [u.length, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(u)]',
    'grv_big': 'crypto.getRandomValues(new Uint8Array(65537))',
    'grv_ok': 'const a = new Uint8Array(65536); return crypto.getRandomValues(a) === a',
    'grv_float': 'crypto.getRandomValues(new Float32Array(2))',
    'grv_big32': 'crypto.getRandomValues(new Uint32Array(16385))',
    'grv_notarr': 'crypto.getRandomValues([1,2])',
    'digest': "const d = await crypto.subtle.digest('SHA-256', new TextEncoder().encode('abc')); return [d instanceof ArrayBuffer, [...new Uint8Array(d)].map(b => b.toString(16).padStart(2,'0')).join('')]",
    'digest_names': "const out = []; for (const a of ['sha-1','SHA-384','SHA-512','MD5','md5', {name: 'SHA-256'}]) { try { const d = await crypto.subtle.digest(a, new Uint8Array([1])); out.push(d.byteLength) } catch (e) { out.push(e.name + ': ' + e.message) } } return out",
    'digest_bad': "await crypto.subtle.digest('SHA-3', new Uint8Array(1))",
    'digest_str': "await crypto.subtle.digest('SHA-256', 'abc')",
    'digest_buffer': "const d = await crypto.subtle.digest('SHA-1', new ArrayBuffer(0)); return d.byteLength",
    # DOMException, Event, EventTarget, AbortController
    'dom_basic': "const e = new DOMException('msg', 'NotFoundError'); return [e.name, e.message, e.code, e instanceof Error, Object.prototype.toString.call(e), String(e), typeof e.stack, DOMException.NOT_FOUND_ERR, e.NOT_FOUND_ERR]",
    'dom_default': 'const e = new DOMException(); return [e.name, e.message, e.code]',
    'dom_custom_name': "return new DOMException('m', 'Whatever').code",
    'dom_options': "const e = new DOMException('m', {name: 'AbortError', cause: 5}); return [e.name, e.cause]",
    'dom_codes': "return ['IndexSizeError','HierarchyRequestError','WrongDocumentError','InvalidCharacterError','NoModificationAllowedError','NotFoundError','NotSupportedError','InvalidStateError','SyntaxError','InvalidModificationError','NamespaceError','InvalidAccessError','TypeMismatchError','SecurityError','NetworkError','AbortError','URLMismatchError','QuotaExceededError','TimeoutError','InvalidNodeTypeError','DataCloneError','EncodingError','DataError','OperationError'].map(n => new DOMException('', n).code)",
    'ev_basic': "const e = new Event('x'); return [e.type, e.bubbles, e.cancelable, e.composed, e.defaultPrevented, e.eventPhase, e.isTrusted, e.timeStamp, e.target, e.currentTarget, e.returnValue, e.cancelBubble, typeof e.composedPath, Event.NONE, Event.AT_TARGET, Object.prototype.toString.call(e)]",
    'ev_noarg': 'new Event()',
    'ev_cancel': "const e = new Event('x', {cancelable: true}); e.preventDefault(); const f = new Event('y'); f.preventDefault(); return [e.defaultPrevented, f.defaultPrevented, e.returnValue]",
    'et_dispatch': "const t = new EventTarget(); const log = []; function h(e) { log.push([e.type, e.target === t, e.currentTarget === t, this === t, e.eventPhase]) } t.addEventListener('a', h); t.addEventListener('a', h); t.addEventListener('a', {handleEvent(e) { log.push('obj') }}); const r = t.dispatchEvent(new Event('a')); const e = new Event('a'); t.dispatchEvent(e); log.push([e.eventPhase, e.currentTarget, e.target === t]); return [r, log]",
    'et_once': "const t = new EventTarget(); let n = 0; t.addEventListener('a', () => n++, {once: true}); t.dispatchEvent(new Event('a')); t.dispatchEvent(new Event('a')); return n",
    'et_remove': "const t = new EventTarget(); let n = 0; const h = () => n++; t.addEventListener('a', h); t.removeEventListener('a', h); t.dispatchEvent(new Event('a')); return n",
    'et_capture': "const t = new EventTarget(); let n = 0; const h = () => n++; t.addEventListener('a', h, true); t.addEventListener('a', h, false); t.dispatchEvent(new Event('a')); t.removeEventListener('a', h); t.dispatchEvent(new Event('a')); return n",
    'et_throw': "const t = new EventTarget(); const log = []; t.addEventListener('a', () => { throw new Error('boom') }); t.addEventListener('a', () => log.push('second')); let r; try { r = t.dispatchEvent(new Event('a')) } catch (e) { log.push('threw ' + e.message) } return [r, log]",
    'et_stopimm': "const t = new EventTarget(); const log = []; t.addEventListener('a', (e) => { log.push(1); e.stopImmediatePropagation() }); t.addEventListener('a', () => log.push(2)); t.dispatchEvent(new Event('a')); return log",
    'et_redispatch': "const t = new EventTarget(); let err; t.addEventListener('a', (e) => { try { t.dispatchEvent(e) } catch (x) { err = [x.name, x.message] } }); t.dispatchEvent(new Event('a')); return err",
    'et_prevent': "const t = new EventTarget(); t.addEventListener('a', (e) => e.preventDefault()); return [t.dispatchEvent(new Event('a', {cancelable: true})), t.dispatchEvent(new Event('a'))]",
    'et_null_listener': "const t = new EventTarget(); t.addEventListener('a', null); t.removeEventListener('a', null); return t.dispatchEvent(new Event('a'))",
    'et_bad_listener': "new EventTarget().addEventListener('a', 5)",
    'et_dispatch_bad': "new EventTarget().dispatchEvent({type: 'a'})",
    'et_signal': "const t = new EventTarget(); const c = new AbortController(); let n = 0; t.addEventListener('a', () => n++, {signal: c.signal}); t.dispatchEvent(new Event('a')); c.abort(); t.dispatchEvent(new Event('a')); return n",
    'et_add_during': "const t = new EventTarget(); const log = []; t.addEventListener('a', () => { log.push(1); t.addEventListener('a', () => log.push(2)) }); t.dispatchEvent(new Event('a')); return log",
    'et_subclass': "class T extends EventTarget { constructor() { super(); this.x = 1 } } const t = new T(); let got; t.addEventListener('a', (e) => got = e.target.x); t.dispatchEvent(new Event('a')); return got",
    'ev_subclass': "class E extends Event { constructor() { super('custom'); this.d = 5 } } const t = new EventTarget(); let got; t.addEventListener('custom', (e) => got = [e.d, e instanceof E]); t.dispatchEvent(new E()); return got",
    'ac_basic': "const c = new AbortController(); const s = c.signal; const log = []; s.addEventListener('abort', (e) => log.push([e.type, s.aborted])); s.onabort = () => log.push('on'); c.abort(); c.abort('again'); return [s.aborted, s.reason.name, s.reason.message, s.reason instanceof DOMException, s.reason.code, log]",
    'ac_reason': 'const c = new AbortController(); c.abort(42); return [c.signal.reason]',
    'ac_throw': "const c = new AbortController(); c.abort('r'); c.signal.throwIfAborted()",
    'ac_throw_default': 'const c = new AbortController(); c.abort(); c.signal.throwIfAborted()',
    'ac_not_aborted': 'const c = new AbortController(); c.signal.throwIfAborted(); return [c.signal.aborted, c.signal.reason, c.signal instanceof EventTarget, Object.prototype.toString.call(c.signal)]',
    'as_abort': 'const s = AbortSignal.abort(); return [s.aborted, s.reason.name, s.reason.message]',
    'as_new': 'new AbortSignal()',
    'as_any_use': "const c = new AbortController(); const s = AbortSignal.any([c.signal]); c.abort('x'); return [s.aborted, s.reason]",
    'prevent_detail': "const t = new EventTarget(); t.addEventListener('a', (e) => e.preventDefault()); const e = new Event('a'); const r = t.dispatchEvent(e); return [r, e.defaultPrevented, e.returnValue]",
    'no_prevent': "const t = new EventTarget(); t.addEventListener('a', () => {}); return t.dispatchEvent(new Event('a'))",
}


def _case_function(code: str) -> str:
    return "async () => {\n'use strict';\n" + code + "\n}"


class WebContext:
    """A real engine with errors.js and the web files, as the runtime loads them."""

    def __init__(self) -> None:
        self.engine = Engine()
        host = web_host_functions()
        for name, fn in host.items():
            self.engine.expose(f"__host_{name}", fn)
        names = ", ".join(f"{n}: __host_{n}" for n in host)
        deletes = "".join(f" delete globalThis.__host_{n};" for n in host)
        self.internal = self.engine.eval(f"(() => {{ const host = {{{names}}};{deletes} return {{ host, glue: {{}} }}; }})()")
        self.engine.eval(ERRORS_JS.read_text(encoding="utf-8"))(self.internal)
        for text in WEB_SOURCES:
            self.engine.eval(text)(self.internal)
        self.engine.eval(RUNNER.replace("function describe", "globalThis.describe = function describe")
                         .replace("async function runCase", "globalThis.runCase = async function runCase"))

    def answer(self, code: str):
        """What the case answers, as workerd's answers are described."""
        self.engine.eval("globalThis.__answer = undefined;")
        self.engine.eval(f"runCase({_case_function(code)}).then((a) => {{ globalThis.__answer = JSON.stringify(a); }})")
        assert self.engine.drain()
        return json.loads(self.engine.eval("globalThis.__answer"))

    def with_internal(self, source: str):
        """Calls the JavaScript function ``source`` with the internal object; drains jobs."""
        result = self.engine.eval(source)(self.internal)
        assert self.engine.drain()
        return result


@pytest.fixture(scope="module")
def web():
    return WebContext()


def _recorded() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", list(CASES))
def test_web_globals_answer_as_workerd_does(web, case):
    recorded = _recorded()["answers"].get(case)
    assert recorded is not None and recorded["code"] == CASES[case], (
        f"{case} changed since workerd's answer was recorded: python tests/test_web_platform.py --record"
    )
    assert web.answer(CASES[case]) == recorded["answer"]


def test_the_recorded_answers_name_the_workerd_they_came_from():
    versions = _recorded()["recorded_with"]
    assert versions["workerd"] and versions["miniflare"] and versions["compatibility_date"] == COMPATIBILITY_DATE


# ---------------------------------------------------------------- recording on workerd

def record() -> None:
    """Runs every case on workerd (through Miniflare) and writes the fixture."""
    anchor = Path(os.environ.get("ANCHOR_HOME", Path.home() / ".cache" / "dobj" / "workerd-anchor"))
    script = RUNNER + "\nconst CASES = {\n"
    for name, code in CASES.items():
        script += f"{json.dumps(name)}: {_case_function(code)},\n"
    script += ("};\nexport default { async fetch() { const out = {};"
               " for (const k in CASES) out[k] = await runCase(CASES[k]);"
               " return new Response(JSON.stringify(out)); } };\n")
    driver = f"""
import {{ createRequire }} from "node:module";
import fs from "node:fs";
const require = createRequire({json.dumps(str(anchor / "package.json"))});
const {{ Miniflare, Log, LogLevel }} = require("miniflare");
const script = fs.readFileSync(process.argv[2], "utf8");
const mf = new Miniflare({{ modules: true, script, cf: false, compatibilityDate: {json.dumps(COMPATIBILITY_DATE)}, log: new Log(LogLevel.WARN) }});
const answers = await (await mf.dispatchFetch("http://localhost/")).json();
await mf.dispose();
console.log(JSON.stringify({{ answers, miniflare: require("miniflare/package.json").version,
  workerd: require("workerd/package.json").version }}));
"""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "worker.mjs").write_text(script, encoding="utf-8")
        (Path(tmp) / "driver.mjs").write_text(driver, encoding="utf-8")
        out = subprocess.run(["node", str(Path(tmp) / "driver.mjs"), str(Path(tmp) / "worker.mjs")],
                             check=True, capture_output=True, text=True).stdout
    got = json.loads(out)
    fixture = {
        "recorded_with": {"workerd": got["workerd"], "miniflare": got["miniflare"], "compatibility_date": COMPATIBILITY_DATE},
        "answers": {name: {"code": code, "answer": got["answers"][name]} for name, code in CASES.items()},
    }
    FIXTURE.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"recorded {len(CASES)} answers of workerd {got['workerd']} into {FIXTURE}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--record"]:
        record()
    else:
        sys.exit("usage: python tests/test_web_platform.py --record")


# ---------------------------------------------------------------- what workerd cannot show

def test_a_request_from_the_host_carries_binary_bodies_with_nul_bytes(web):
    body = bytes(range(256)) * 4
    got = web.with_internal(
        """(internal) => {
          const r = internal.web.requestFromHost("POST", "https://example.com/a?b=1",
            JSON.stringify([["X-One", "1"], ["set-cookie", "a"], ["set-cookie", "b"]]), %s);
          let immutable = false;
          try { r.headers.set("x", "y"); } catch (e) { immutable = e.message; }
          globalThis.__request = r;
          return JSON.stringify([r.method, r.url, [...r.headers], immutable, r instanceof Request]);
        }""" % json.dumps(base64.b64encode(body).decode())
    )
    assert json.loads(got) == [
        "POST", "https://example.com/a?b=1",
        [["set-cookie", "a"], ["set-cookie", "b"], ["x-one", "1"]], "Can't modify immutable headers.", True,
    ]
    assert web.answer("return [...await __request.bytes()].length") == {"ok": 1024}


def _read_response(text: str) -> tuple[list, bytes | None]:
    head, _, body = text.partition("\n")
    kind, payload = body[:1], body[1:]
    data = None if kind == "n" else payload.encode("utf-8") if kind == "t" else base64.b64decode(payload)
    return json.loads(head), data


def test_a_response_reaches_the_host_as_status_headers_and_exact_bytes(web):
    to_host = "(internal) => internal.web.responseToHost(%s)"
    head, data = _read_response(web.with_internal(to_host % "new Response('h\u00e9\\ud800', {status: 201, headers: {'Set-Cookie': 'a'}})"))
    assert head == [201, "Created", [["content-type", "text/plain;charset=UTF-8"], ["set-cookie", "a"]], None]
    assert data == "hé\ufffd".encode()
    head, data = _read_response(web.with_internal(to_host % "new Response(new Uint8Array([0, 1, 255, 0]))"))
    assert (head[2], data) == ([], b"\x00\x01\xff\x00")
    head, data = _read_response(web.with_internal(to_host % "new Response('a\\0b')"))
    assert data == b"a\x00b"
    assert _read_response(web.with_internal(to_host % "new Response(null, {status: 204})")) == ([204, "No Content", [], None], None)


def test_a_megabyte_response_body_crosses_intact(web):
    text = web.with_internal(
        "(internal) => { const b = new Uint8Array(1 << 20); for (let i = 0; i < b.length; i++) b[i] = (i * 7919) & 255;"
        " return internal.web.responseToHost(new Response(b)); }"
    )
    _, data = _read_response(text)
    assert data == bytes((i * 7919) & 255 for i in range(1 << 20))


def test_a_handler_result_that_is_not_a_response_is_the_type_error_workerd_gives(web):
    got = web.with_internal("(internal) => { try { internal.web.responseToHost({status: 200}); } catch (e) { return e.name + ': ' + e.message; } }")
    assert got == "TypeError: Incorrect type for Promise: the Promise did not resolve to 'Response'."


def test_a_response_takes_only_a_real_websocket_and_only_with_101(web):
    got = web.answer("const ws = {}; new Response(null, {status: 101, webSocket: ws})")
    assert got["throws"][:2] == ["TypeError", "Incorrect type for the 'webSocket' field on 'InitializerDict':"
                                              " the provided value is not of type 'WebSocket'."]
    got = web.answer("new Response(null, {status: 101})")
    assert got["throws"][:2] == ["RangeError", "Responses may only be constructed with status codes in the range"
                                               " 200 to 599, inclusive."]


def test_structured_clone_text_for_storage_round_trips_what_json_cannot(web):
    got = web.with_internal(
        """(internal) => {
          const buffer = new Uint8Array([9, 8, 7, 6]).buffer;
          const value = {n: [NaN, -0, Infinity, -Infinity, 2 ** 53], big: 2n ** 70n, when: new Date(0), bad: new Date(NaN),
            m: new Map([[{k: 1}, new Set([1])]]), view: new Uint16Array(buffer, 2, 1), whole: new Uint8Array(buffer),
            re: /x/gu, sparse: [1, , 3], err: new TypeError('t', {cause: 'c'}), und: undefined, s: 'a\\0b\\ud800'};
          value.self = value;
          const text = internal.serializeText(value);
          JSON.parse(text);
          const c = internal.deserializeText(text);
          return JSON.stringify([c.n.map(String), Object.is(c.n[1], -0), String(c.big), c.when.getTime(), String(c.bad.getTime()),
            [...c.m.keys()][0].k, [...[...c.m.values()][0]], c.view[0], c.view.buffer === c.whole.buffer, [...c.whole],
            String(c.re), 1 in c.sparse, c.sparse.length, c.err instanceof TypeError, c.err.message, c.err.cause,
            'und' in c, c.s === 'a\\0b\\ud800', c.self === c]);
        }"""
    )
    assert json.loads(got) == [
        ["NaN", "0", "Infinity", "-Infinity", "9007199254740992"], True, str(2**70), 0, "NaN",
        1, [1], 0x0607, True, [9, 8, 7, 6], "/x/gu", False, 3, True, "t", "c", True, True, True,
    ]


def test_structured_clone_refuses_a_function_deep_inside_with_a_data_clone_error(web):
    got = web.with_internal("(internal) => { try { internal.serializeText({a: [new Map([[1, Symbol('s')]])]}); } catch (e) { return [e.name, e.message, e.code].join('|'); } }")
    assert got == "DataCloneError|Symbol(s) could not be cloned.|25"


def test_host_functions_answer_errors_as_envelopes_and_never_raise():
    host = web_host_functions()
    for name, args in [("web_url", ("not json",)), ("web_digest", ("SHA-256", "***")), ("web_random", ("x",)), ("web_url", ('["nope"]',))]:
        reply = host[name](*args)
        assert reply.startswith("!") and json.loads(reply[1:])["message"]
    assert json.loads(host["web_digest"]("SHA-3", "")[1:])["name"] == "NotSupportedError"


def test_urls_with_nul_and_lone_surrogates_cross_to_the_parser_intact(web):
    got = web.answer("const u = new URL('http://h/a\\0b\\ud800?q=\\0x'); return [u.pathname, u.search]")
    assert got == {"ok": ["/a%00b%EF%BF%BD", "?q=%00x"]}


def test_bundle_code_finds_no_host_function_nor_the_internal_object(web):
    got = web.answer("return Object.getOwnPropertyNames(globalThis).filter((k) => /^__host|^internal$|^glue$/.test(k))")
    assert got == {"ok": []}


def test_random_values_and_uuids_differ_between_calls(web):
    got = web.answer("const a = crypto.getRandomValues(new Uint8Array(32)), b = crypto.getRandomValues(new Uint8Array(32));"
                     " return [a.join() !== b.join(), crypto.randomUUID() !== crypto.randomUUID()]")
    assert got == {"ok": [True, True]}


def test_digests_match_hashlib_for_every_algorithm_and_a_large_input(web):
    import hashlib

    got = web.answer("const data = new Uint8Array(300000).map((_, i) => i & 255); const out = {};"
                     " for (const a of ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'MD5'])"
                     " out[a] = new Uint8Array(await crypto.subtle.digest(a, data)).toHex(); return out")
    data = bytes(i & 255 for i in range(300000))
    assert got == {"ok": {a: hashlib.new(h, data).hexdigest() for a, h in
                          [("SHA-1", "sha1"), ("SHA-256", "sha256"), ("SHA-384", "sha384"), ("SHA-512", "sha512"), ("MD5", "md5")]}}


def test_text_round_trips_through_utf8_for_every_plane(web):
    got = web.answer("const s = 'a\\u00e9\\u20ac\\ud83d\\ude00\\uffff'; const b = new TextEncoder().encode(s);"
                     " return [b.length, new TextDecoder().decode(b) === s]")
    assert got == {"ok": [13, True]}


def test_the_web_module_docstring_examples_run():
    import doctest

    import dobj.runtime.web

    result = doctest.testmod(dobj.runtime.web)
    assert result.attempted > 0 and result.failed == 0
