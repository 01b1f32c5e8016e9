"""Fuzz the HTTP gateway over real sockets: every request gets a documented status and
envelope (never a 500 without a code), nothing hangs, and the server keeps serving.

Requests are drawn from the routes of the OpenAPI description that the server publishes
at /openapi.json, with hostile segments, headers and bodies: invalid UTF-8, deep JSON
nesting, huge numbers, wrong types; truncated bodies and slow senders are tried apart.
"""

from __future__ import annotations

import json
import socket
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dobj
from conftest import SCALE
from dobj.server import Server

BUNDLE = r"""
class Counter {
  constructor(state) { this.state = state; }
  increment(by = 1) {
    const next = (this.state.storage.get("count") || 0) + (typeof by === "number" ? by : 1);
    this.state.storage.put("count", next);
    return next;
  }
  echo(...args) { return args; }
  spin() { while (true) {} }
  store(key, value) { this.state.storage.put(key, value); return true; }
  fetch(req) { return { status: 200, body: { path: req.path, size: req.rawBody.length } }; }
}
class NoFetch { ping() { return "pong"; } }
exports.objects = { Counter, NoFetch };
"""

DOCUMENTED = {200, 400, 404, 405, 413, 500, 504}
CODES = {400: {"bad_request"}, 404: {"unknown_namespace", "method_not_found", "not_found"},
         405: {"bad_request"}, 413: {"payload_too_large"}, 500: {"execution_error", "storage_error"},
         504: {"timeout"}}
MAX_BODY = 64 * 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "fuzz.js").write_text(BUNDLE)
    with dobj.Runtime.load(folder / "fuzz.js", data=folder / "data", clock="real", cpu_timeout=0.3) as rt:
        with Server(rt, port=0, max_body=MAX_BODY) as srv:
            yield srv


def exchange(port: int, raw: bytes, *, timeout: float = 10.0) -> tuple[int, dict, bytes]:
    """Send raw bytes as one request; read one response (status, headers, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(raw)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed without a response to {raw[:120]!r}")
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = 0 if raw.startswith(b"HEAD ") else int(headers.get("content-length", "0"))
        while len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, headers, body


def request(method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", "host: 127.0.0.1", f"content-length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def check_envelope(status: int, headers: dict, body: bytes, target: str) -> None:
    assert status in DOCUMENTED or target.startswith("/fetch/"), (status, target, body[:200])
    if status >= 400:
        envelope = json.loads(body)
        assert envelope["ok"] is False, envelope
        assert envelope["error"]["code"] in CODES[status], (status, envelope)
        assert isinstance(envelope["error"]["message"], str) and envelope["error"]["message"]


def test_openapi_description_lists_the_routes_and_the_bundle(server):
    status, _, body = exchange(server.port, request("GET", "/openapi.json"))
    spec = json.loads(body)
    assert status == 200 and spec["openapi"].startswith("3.")
    assert set(spec["paths"]) == {"/rpc/{namespace}/{objectName}/{method}",
                                  "/fetch/{namespace}/{objectName}/{path}", "/healthz"}
    namespace = spec["paths"]["/rpc/{namespace}/{objectName}/{method}"]["post"]["parameters"][0]
    assert "COUNTER" in namespace["description"] and "NO_FETCH" in namespace["description"]
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            for code, response in operation["responses"].items():
                assert code == "default" or int(code) in DOCUMENTED


# -- the random part ---------------------------------------------------------------------
SEGMENT_TEXT = st.one_of(
    st.sampled_from(["COUNTER", "NO_FETCH", "counter", "global", "increment", "echo", "spin",
                     "store", "fetch", "constructor", "toString", "__proto__", "..", ".", "",
                     "%2F", "a%2Fb", "%00", "%C3%A9", "%FF", "%", "%zz", "a%5Cb", "x" * 1100]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12),
)


def encode_segment(text: str) -> str:
    safe = "%ABCDEFabcdef0123456789"  # keep deliberate escapes as they are
    return "".join(c if c.isalnum() and c.isascii() or c in safe + "-._~" else
                   "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in text)


TEMPLATES = ["/rpc/{}/{}/{}", "/fetch/{}/{}/{}", "/fetch/{}/{}", "/rpc/{}/{}", "/{}/{}/{}/{}", "/healthz",
             "/openapi.json", "/"]
targets = st.builds(
    lambda template, segments, query: template.format(*map(encode_segment, segments)) + query,
    st.sampled_from(TEMPLATES),
    st.lists(SEGMENT_TEXT, min_size=4, max_size=4),
    st.sampled_from(["", "?", "?a=1&b=%FF", "?" + "q" * 300]),
)
bodies = st.one_of(
    st.just(b""),
    st.binary(max_size=64),                                                      # invalid UTF-8 and worse
    st.sampled_from([b"[]", b"[3]", b"[1e999999]", b"[123456789012345678901234567890]",
                     b"[-0.0]", b"[NaN]", b"[Infinity]", b'{"a":1}', b'"str"', b"null", b"[",
                     b'["\\ud800"]', b"[\"k\", {\"deep\": [[[[1]]]]}]"]),
    st.integers(1, 5000).map(lambda n: b"[" * n + b"]" * n),                      # deep nesting
    st.integers(1, 3).map(lambda n: b"[" + b"1" * (n * 4000) + b"]"),              # huge integers
    st.just(b"[" + b'"x",' * 20000 + b'"x"]'),                                     # over the limit
)
methods = st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=20)
extra_headers = st.dictionaries(st.sampled_from(["content-type", "x-custom", "accept", "x-forwarded-for"]),
                                header_values, max_size=3)


@pytest.mark.slow
@settings(max_examples=300 * SCALE, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=methods, target=targets, body=bodies, headers=extra_headers)
def test_every_request_gets_a_documented_answer(server, method, target, body, headers):
    status, response_headers, response_body = exchange(server.port, request(method, target, body, headers))
    if method == "HEAD":
        return  # no body to check
    check_envelope(status, response_headers, response_body, target)


def test_server_keeps_serving_after_the_fuzz(server):
    status, _, body = exchange(server.port, request("POST", "/rpc/COUNTER/after/increment", b"[2]"))
    assert (status, json.loads(body)) == (200, {"ok": True, "result": 2})
    assert exchange(server.port, request("GET", "/healthz"))[0] == 200


def test_runaway_call_answers_504_and_others_keep_working(server):
    status, _, body = exchange(server.port, request("POST", "/rpc/COUNTER/spinner/spin", b"[]"))
    assert status == 504 and json.loads(body)["error"]["code"] == "timeout"
    assert exchange(server.port, request("POST", "/rpc/NO_FETCH/n/ping"))[0] == 200


def test_truncated_body_does_not_hang_the_server(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(b"POST /rpc/COUNTER/t/increment HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n[1")
        sock.shutdown(socket.SHUT_WR)
        sock.recv(1024)  # the server closes or answers; it must not wait forever
    assert exchange(server.port, request("GET", "/healthz"))[0] == 200


def test_slow_sender_is_answered_and_others_are_not_held_up(server):
    body = b"[5]"
    head = f"POST /rpc/COUNTER/slow/increment HTTP/1.1\r\nhost: x\r\ncontent-length: {len(body)}\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as slow:
        for byte in head.encode():
            slow.sendall(bytes([byte]))
            time.sleep(0.002)
        start = time.monotonic()
        assert exchange(server.port, request("POST", "/rpc/NO_FETCH/n/ping"))[0] == 200
        assert time.monotonic() - start < 1.0
        for byte in body:
            slow.sendall(bytes([byte]))
            time.sleep(0.05)
        reply = slow.recv(4096)
    assert b" 200 " in reply.split(b"\r\n")[0] and reply.endswith(b'{"ok":true,"result":5}')


def test_protocol_garbage_is_refused_and_the_server_keeps_serving(server):
    for garbage in [b"\x00\x01\x02\r\n\r\n", b"BREW /rpc/COUNTER/a/increment HTTP/1.1\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"GET /\xff\xfe HTTP/1.1\r\n\r\n",
                    b"POST /rpc/COUNTER/a/increment HTTP/1.1\r\ncontent-length: -5\r\n\r\n"]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
            sock.sendall(garbage)
            try:
                sock.recv(1024)
            except ConnectionResetError:
                pass
    assert exchange(server.port, request("GET", "/healthz"))[0] == 200
