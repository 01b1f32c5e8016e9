"""The HTTP gateway over real HTTP on 127.0.0.1: routes, envelopes, every error code."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import time

import httpx
import pytest

import dobj
from dobj.server import Server, create_app, local_path

BUNDLE = r"""
class Counter {
  constructor(state, env) { this.state = state; this.env = env; }
  async increment(by = 1) {
    const current = this.state.storage.get("count") || 0;
    await new Promise((resolve) => setTimeout(resolve, 1));
    this.state.storage.put("count", current + by);
    return current + by;
  }
  count() { return this.state.storage.get("count") || 0; }
  echo(...args) { return args; }
  half(n) { return n / 2; }
  hang() { return new Promise(() => {}); }
  boom() { throw new TypeError("boom from the bundle"); }
  huge() { this.state.storage.put("big", "x".repeat(3 * 1024 * 1024)); }
  stash() { globalThis.stashed = this.state.storage; return true; }
  useStash() { globalThis.stashed.put("k", 1); }
  arm(ms) { this.state.storage.setAlarm(Date.now() + ms); return true; }
  alarm() { this.state.storage.put("fired", (this.state.storage.get("fired") || 0) + 1); }
  fired() { return this.state.storage.get("fired") || 0; }
  fetch(req) {
    if (req.path === "/bytes") return { body: new Uint8Array([0, 255, 1]) };
    if (req.path === "/text") return { status: 201, body: "plain words" };
    if (req.path === "/empty") return { status: 204, body: "dropped" };
    if (req.path === "/framing") return { status: 200, body: "framed by the server",
      headers: { "Content-Length": "999", "transfer-encoding": "chunked", "connection": "close", "x-kept": "1" } };
    if (req.path === "/bad-header") return { headers: { "x-split": "a\r\nset-cookie: x=1" }, body: "" };
    return { status: 200, headers: { "x-seen": "yes" }, body: {
      method: req.method, url: req.url, path: req.path, query: req.query,
      headers: req.headers, body: req.body, size: req.rawBody.length } };
  }
}
class Plain { ping() { return "pong"; } }
exports.objects = { Counter, Plain };
"""

MAX_BODY = 4096


def load_bundle(folder):
    bundle = folder / "bundle.js"
    bundle.write_text(BUNDLE)
    return dobj.Runtime.load(bundle, data=folder / "data", clock="real", cpu_timeout=0.3)


@pytest.fixture
def runtime(tmp_path):
    with load_bundle(tmp_path) as rt:
        yield rt


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    """One server for the many small error cases."""
    with load_bundle(tmp_path_factory.mktemp("shared")) as rt, Server(rt, port=0, max_body=MAX_BODY) as server:
        yield server


@pytest.fixture
def server(runtime):
    with Server(runtime, port=0, max_body=MAX_BODY) as server:
        yield server


@pytest.fixture
def client(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def rpc(client, path: str, body: bytes | str = b"[]") -> httpx.Response:
    return client.post(f"/rpc/{path}", content=body, headers={"content-type": "application/json"})


def raw_request(server, method: str, path: str, body: bytes = b"") -> tuple[int, dict]:
    """Send a path exactly as written (httpx would normalize ``..``)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_rpc_answers_with_the_result_envelope(client):
    response = rpc(client, "COUNTER/global/increment", "[3]")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == b'{"ok":true,"result":3}'


def test_rpc_with_an_empty_body_passes_no_arguments(client):
    assert rpc(client, "COUNTER/global/echo", b"").json() == {"ok": True, "result": []}
    assert rpc(client, "COUNTER/global/increment", b"").json()["result"] == 1


def test_rpc_keeps_integral_numbers_whole_and_fractions_fractional(client):
    assert rpc(client, "COUNTER/global/half", "[4]").content.endswith(b'"result":2}')
    assert rpc(client, "COUNTER/global/half", "[3]").content.endswith(b'"result":1.5}')


def test_fetch_hands_the_object_the_whole_request(client, server):
    response = client.post("/fetch/COUNTER/x/a/b?q=1&r=2", content=b"hello", headers={"X-Test": "Hi"})
    assert response.status_code == 200
    assert response.headers["x-seen"] == "yes"
    assert response.headers["content-type"] == "application/json"
    req = response.json()
    assert req["method"] == "POST"
    assert req["url"] == f"{server.url}/fetch/COUNTER/x/a/b?q=1&r=2"
    assert (req["path"], req["query"], req["body"], req["size"]) == ("/a/b", "q=1&r=2", "hello", 5)
    assert req["headers"]["x-test"] == "Hi"


def test_fetch_with_no_object_path_sees_the_root_path(client):
    assert client.get("/fetch/COUNTER/x").json()["path"] == "/"
    assert client.get("/fetch/COUNTER/x/").json()["path"] == "/"


def test_fetch_passes_a_binary_body_as_raw_bytes_only(client):
    req = client.put("/fetch/COUNTER/x/up", content=bytes([0xFF, 0xFE, 0])).json()
    assert (req["method"], req["body"], req["size"]) == ("PUT", None, 3)


def test_fetch_sends_text_and_byte_bodies_with_their_content_types(client):
    text = client.get("/fetch/COUNTER/x/text")
    assert (text.status_code, text.text) == (201, "plain words")
    assert text.headers["content-type"] == "text/plain; charset=utf-8"
    data = client.get("/fetch/COUNTER/x/bytes")
    assert data.content == bytes([0, 255, 1])
    assert data.headers["content-type"] == "application/octet-stream"


def test_fetch_sends_no_body_with_204(client):
    response = client.get("/fetch/COUNTER/x/empty")
    assert (response.status_code, response.content) == (204, b"")


def test_a_header_http_cannot_carry_is_an_execution_error_not_an_injection(client):
    response = client.get("/fetch/COUNTER/x/bad-header")
    assert (response.status_code, response.json()["error"]["code"]) == (500, "execution_error")
    assert "set-cookie" not in response.headers


def read_response(sock) -> tuple[list[tuple[str, str]], bytes]:
    """One HTTP/1.1 response read off a raw socket: its header lines and its body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed mid-response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 200"), lines[0]
    headers = [(k.strip().lower(), v.strip()) for k, _, v in (line.partition(":") for line in lines[1:])]
    length = int(dict(headers)["content-length"])
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed before the whole body came"
        body += chunk
    return headers, body


def test_framing_headers_from_fetch_are_dropped_and_the_connection_stays_open(server):
    request = b"GET /fetch/COUNTER/x/framing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for _ in range(2):  # the second request proves the handler's "connection: close" was dropped
            sock.sendall(request)
            headers, body = read_response(sock)
            names = [name for name, _ in headers]
            assert body == b"framed by the server"
            assert names.count("content-length") == 1 and dict(headers)["content-length"] == str(len(body))
            assert "transfer-encoding" not in names and "connection" not in names
            assert dict(headers)["x-kept"] == "1"


def test_healthz_answers_ok(client):
    assert client.get("/healthz").json() == {"ok": True}
    assert client.head("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405


@pytest.mark.parametrize(
    "method, path, body, status, code",
    [
        ("GET", "/rpc/COUNTER/global/increment", b"", 405, "bad_request"),
        ("PUT", "/rpc/COUNTER/global/increment", b"[]", 405, "bad_request"),
        ("POST", "/rpc/COUNTER/global", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/global/increment/more", b"[]", 400, "bad_request"),
        ("POST", "/rpc//global/increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/global/increment", b"{not json", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/global/increment", b'{"by": 3}', 400, "bad_request"),
        ("POST", "/rpc/COUNTER/global/increment", b"[NaN]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/global/increment", b"\xff[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/../increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/./increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/%2E%2E/increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/a%2Fb/increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/a%5Cb/increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/a%00b/increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/%FF/increment", b"[]", 400, "bad_request"),
        ("POST", "/rpc/COUNTER/" + "n" * 1025 + "/increment", b"[]", 400, "bad_request"),
        ("GET", "/fetch/COUNTER", b"", 400, "bad_request"),
        ("GET", "/fetch/COUNTER/a%2Fb/count", b"", 400, "bad_request"),
        ("POST", "/rpc/COUNTR/global/increment", b"[]", 404, "unknown_namespace"),
        ("GET", "/fetch/counter/global/count", b"", 404, "unknown_namespace"),
        ("POST", "/rpc/COUNTER/global/constructor", b"[]", 404, "method_not_found"),
        ("POST", "/rpc/COUNTER/global/toString", b"[]", 404, "method_not_found"),
        ("POST", "/rpc/COUNTER/global/hasOwnProperty", b'["x"]', 404, "method_not_found"),
        ("POST", "/rpc/COUNTER/global/incremnt", b"[]", 404, "method_not_found"),
        ("GET", "/fetch/PLAIN/global/", b"", 404, "method_not_found"),
        ("GET", "/", b"", 404, "not_found"),
        ("GET", "/rpcx/COUNTER/global/increment", b"", 404, "not_found"),
        ("POST", "/rpc/COUNTER/global/boom", b"[]", 500, "execution_error"),
        ("POST", "/rpc/COUNTER/global/hang", b"[]", 504, "timeout"),
    ],
)
def test_bad_requests_get_the_documented_codes_and_the_server_keeps_serving(
    shared_server, method, path, body, status, code
):
    server = shared_server
    got_status, envelope = raw_request(server, method, path, body)
    assert (got_status, envelope["ok"], envelope["error"]["code"]) == (status, False, code)
    assert envelope["error"]["message"]
    assert raw_request(server, "POST", "/rpc/PLAIN/global/ping") == (200, {"ok": True, "result": "pong"})


def test_a_mistyped_method_is_answered_with_a_suggestion(client):
    error = rpc(client, "COUNTER/global/incremnt").json()["error"]
    assert "increment" in error["message"]


def test_a_javascript_error_carries_its_message_and_stack_in_dev_mode(client):
    error = rpc(client, "COUNTER/global/boom").json()["error"]
    assert error["code"] == "execution_error"
    assert "boom from the bundle" in error["message"]
    assert "bundle.js" in error["stack"]


def test_without_dev_errors_no_message_or_stack_leaves_the_server(runtime):
    with Server(runtime, port=0, dev_errors=False) as server, httpx.Client(base_url=server.url) as client:
        error = rpc(client, "COUNTER/global/boom").json()["error"]
    assert error["code"] == "execution_error"
    assert "boom" not in error["message"] and "stack" not in error


def test_a_storage_error_inside_a_handler_keeps_its_code(client):
    assert rpc(client, "COUNTER/a/stash").json()["result"] is True
    response = rpc(client, "COUNTER/b/useStash")
    assert (response.status_code, response.json()["error"]["code"]) == (500, "storage_error")


def test_a_too_large_storage_value_is_payload_too_large(client):
    response = rpc(client, "COUNTER/global/huge")
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")


def test_a_body_over_the_limit_is_refused_from_its_content_length(client):
    response = client.post("/rpc/COUNTER/global/echo", content=b"[" + b" " * MAX_BODY + b"]")
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")
    assert rpc(client, "COUNTER/global/echo", b"[" + b" " * (MAX_BODY - 2) + b"]").status_code == 200


def test_a_streamed_body_over_the_limit_is_refused_while_reading(client):
    def chunks():
        for _ in range(8):
            yield b" " * 1024

    response = client.post("/fetch/COUNTER/x/up", content=chunks())
    assert "content-length" not in response.request.headers
    assert (response.status_code, response.json()["error"]["code"]) == (413, "payload_too_large")


def test_a_promise_that_never_settles_times_out_and_the_object_recovers(client):
    assert rpc(client, "COUNTER/slowpoke/increment").json()["result"] == 1
    started = time.monotonic()
    response = rpc(client, "COUNTER/slowpoke/hang")
    assert (response.status_code, response.json()["error"]["code"]) == (504, "timeout")
    assert time.monotonic() - started < 5
    assert rpc(client, "COUNTER/slowpoke/increment").json() == {"ok": True, "result": 2}


def test_concurrent_increments_on_one_object_lose_nothing(server):
    clients, calls = 32, 10

    async def worker(client):
        return [(await client.post("/rpc/COUNTER/shared/increment", content=b"[1]")).json()["result"]
                for _ in range(calls)]

    async def main():
        limits = httpx.Limits(max_connections=clients)
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
            return await asyncio.gather(*(worker(client) for _ in range(clients)))

    results = sorted(r for batch in asyncio.run(main()) for r in batch)
    assert results == list(range(1, clients * calls + 1))


def test_an_alarm_set_while_serving_fires_on_the_real_clock(client):
    started = time.monotonic()
    assert rpc(client, "COUNTER/alarmed/arm", "[200]").json()["result"] is True
    deadline = started + 5
    while rpc(client, "COUNTER/alarmed/fired").json()["result"] == 0:
        assert time.monotonic() < deadline, "the alarm did not fire"
        time.sleep(0.02)
    assert time.monotonic() - started >= 0.19


def test_the_app_can_be_mounted_in_starlette(runtime):
    pytest.importorskip("starlette")
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Mount, Route

    app = Starlette(routes=[
        Route("/", lambda request: PlainTextResponse("home")),
        Mount("/do", app=create_app(runtime)),
    ])
    with Server(runtime, port=0, app=app) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/").text == "home"
        assert client.post("/do/rpc/COUNTER/m/increment", content=b"[2]").json() == {"ok": True, "result": 2}
        assert client.get("/do/fetch/COUNTER/m/deep?x=1").json()["path"] == "/deep"
        assert client.post("/do/rpc/COUNTER/a%2Fb/increment").status_code == 400


def test_local_path_strips_the_mount_point_and_keeps_the_encoding():
    scope = {"raw_path": b"/do/rpc/A/b%2Fc/m", "path": "/do/rpc/A/b/c/m", "root_path": "/do"}
    assert local_path(scope) == "/rpc/A/b%2Fc/m"
    assert local_path({"path": "/rpc/A/b c/m"}) == "/rpc/A/b%20c/m"
    assert local_path({"raw_path": b"/dog/x", "path": "/dog/x", "root_path": "/do"}) == "/dog/x"


def test_keep_alive_responses_are_not_held_back_by_nagle(client):
    rpc(client, "COUNTER/quick/count")
    started = time.monotonic()
    for _ in range(50):
        assert rpc(client, "COUNTER/quick/count").status_code == 200
    assert time.monotonic() - started < 1.0  # with Nagle on, each waits ~40 ms for an ACK


def test_a_namespace_dropped_by_a_reload_is_unknown_to_the_server(runtime, client):
    assert rpc(client, "PLAIN/x/ping").json()["result"] == "pong"
    runtime.bundle_path.write_text(BUNDLE.replace("Counter, Plain", "Counter"))
    runtime.reload()
    response = rpc(client, "PLAIN/x/ping")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "unknown_namespace")
    assert rpc(client, "COUNTER/x/count").status_code == 200
