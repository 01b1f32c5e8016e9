"""The Python API of SPEC section 9, console capture and the trace."""

import asyncio

import pytest

import dobj
from conftest import SAMPLES


def test_spec_example_runs_as_written(monkeypatch):
    monkeypatch.chdir(SAMPLES.parent)
    rt = dobj.Runtime.load("samples/counter.js", data=None, clock="manual", cpu_timeout=2.0)
    counter = rt.get("COUNTER", "global")
    assert counter.increment(3) == 3
    assert counter.call("increment", 3) == 6
    response = counter.fetch("/count")
    assert (response.status, response.text, response.body) == (200, "6", b"6")
    assert response.headers["content-type"] == "text/plain"
    assert dict(counter.storage) == {"count": 6}
    counter.storage["count"] = 40
    assert counter.increment(2) == 42
    assert rt.clock.advance(5) == []

    async def twin():
        return await counter.acall("increment", 1)

    assert asyncio.run(twin()) == 43
    rt.close()
    with pytest.raises(dobj.RuntimeClosed):
        counter.increment()


def test_errors_share_one_base_with_code_and_status():
    tree = {
        dobj.BadRequest: ("bad_request", 400),
        dobj.PayloadTooLarge: ("payload_too_large", 413),
        dobj.UnknownNamespace: ("unknown_namespace", 404),
        dobj.MethodNotFound: ("method_not_found", 404),
        dobj.ScriptTimeout: ("timeout", 504),
        dobj.ExecutionError: ("execution_error", 500),
        dobj.StorageError: ("storage_error", 500),
    }
    for cls, (code, status) in tree.items():
        err = cls("x")
        assert isinstance(err, dobj.DobjError)
        assert (err.code, err.http_status) == (code, status)


def test_fetch_request_fields(load):
    rt = load(
        """
        class Echo {
          fetch(req) {
            return { status: 201, headers: { "X-Kind": "echo" },
                     body: { method: req.method, url: req.url, path: req.path, query: req.query,
                             headers: req.headers, body: req.body, raw: Array.from(req.rawBody) } };
          }
        }
        exports.objects = { Echo };
        """
    )
    r = rt.get("ECHO", "e").fetch("/a/b?x=1&y=2", method="post", headers={"X-Test": "yes"}, body=b"hi\x00")
    assert r.status == 201
    assert r.headers == {"x-kind": "echo", "content-type": "application/json"}
    got = r.json()
    assert got["method"] == "POST" and got["path"] == "/a/b" and got["query"] == "x=1&y=2"
    assert got["url"].endswith("/fetch/ECHO/e/a/b?x=1&y=2")
    assert got["headers"] == {"x-test": "yes"}
    assert got["body"] == "hi\x00" and got["raw"] == [104, 105, 0]


def test_fetch_bodies_text_bytes_and_async(load):
    rt = load(
        """
        class Bodies {
          async fetch(req) {
            await null;
            if (req.path === "/bytes") return { body: new Uint8Array([0, 255, 1]) };
            if (req.path === "/buffer") return { body: new Uint8Array([7]).buffer };
            if (req.path === "/typed") return { headers: { "content-type": "text/html" }, body: "<b>x</b>" };
            return { body: "plain" };
          }
        }
        class NoFetch {}
        exports.objects = { Bodies, NoFetch };
        """
    )
    b = rt.get("BODIES", "b")
    assert b.fetch("/bytes").body == b"\x00\xff\x01"
    assert b.fetch("/buffer").body == b"\x07"
    assert b.fetch("/typed").headers["content-type"] == "text/html"
    plain = b.fetch("/")
    assert (plain.text, plain.headers["content-type"]) == ("plain", "text/plain; charset=utf-8")
    with pytest.raises(dobj.MethodNotFound, match="fetch"):
        rt.get("NO_FETCH", "n").fetch("/")


def test_console_is_captured_per_event_in_the_trace(load):
    rt = load(
        """
        class Talker {
          talk(x) { console.log("hello", x, { a: 1 }); console.error("bad", new Error("e")); return x; }
          async later() { await null; console.warn("after await"); }
        }
        exports.objects = { Talker };
        """
    )
    t = rt.get("TALKER", "t")
    t.talk(5)
    t.later()
    talk, later = rt.trace(2)
    assert talk.console == [("log", 'hello 5 {"a":1}'), ("error", "bad Error: e")]
    assert later.console == [("warn", "after await")]


def test_trace_records_object_kind_method_args_result_and_writes(counter):
    c = counter.get("COUNTER", "global")
    c.increment(3)
    with pytest.raises(dobj.MethodNotFound):
        c.call("nope")
    ok, failed = counter.trace(2)
    assert (ok.object, ok.kind, ok.method, ok.args) == ("COUNTER/global", "rpc", "increment", "[3]")
    assert ok.ok and ok.result == 3 and ok.written == ["count"]
    assert ok.duration_ms >= 0
    assert not failed.ok and failed.error.code == "method_not_found"
    assert failed.to_dict()["error"]["code"] == "method_not_found"


def test_trace_is_bounded(counter):
    c = counter.get("COUNTER", "global")
    for _ in range(1100):
        c.increment()
    assert len(counter.trace()) == 1000
    assert counter.trace(1)[0].result == 1100


def test_objects_lists_live_objects_and_objects_with_storage(counter):
    counter.get("COUNTER", "a").fetch("/count")
    counter.get("COUNTER", "b").increment()
    counter.get("COUNTER", "b").evict()
    assert counter.objects() == [("COUNTER", "a"), ("COUNTER", "b")]
    assert counter.live_count() == 1


def test_evict_drops_the_instance_and_keeps_storage(counter):
    c = counter.get("COUNTER", "global")
    c.increment(5)
    assert c.evict() is True
    assert not c.live
    assert c.increment() == 6


def test_sync_calls_work_from_inside_a_running_event_loop(counter):
    """A notebook runs cells inside its own loop: sync calls then hop to the runtime."""
    c = counter.get("COUNTER", "global")

    async def cell():
        return c.increment(2), await c.acall("increment", 1)

    assert asyncio.run(cell()) == (2, 3)
    assert c.increment() == 4


def test_calls_from_many_threads_are_serialized(counter):
    import threading

    c = counter.get("COUNTER", "global")
    threads = [threading.Thread(target=lambda: [c.increment() for _ in range(50)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert c.storage["count"] == 200
