"""WebSockets in Workers projects (SPEC section 11): the runtime, the Python client, the server.

The behaviour checked against workerd's own recordings is in test_cloudflare_projects.py
(the websockets-* projects); here: what dobj adds around it (hibernation you can watch,
clients in Python, the server's real upgrades, limits, nothing left behind).
"""

from __future__ import annotations

import json
import shutil
import textwrap
import threading
import time
from pathlib import Path

import pytest

import dobj
from dobj.runtime.wsclient import WebSocketClosed

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "samples" / "websocket-chat"


def write_project(folder: Path, source: str, date: str = "2026-04-26") -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "wrangler.jsonc").write_text(json.dumps({
        "name": "p", "main": "src/index.js", "compatibility_date": date,
        "durable_objects": {"bindings": [{"name": "ECHO", "class_name": "Echo"}]},
        "migrations": [{"tag": "v1", "new_sqlite_classes": ["Echo"]}],
    }), encoding="utf-8")
    (folder / "src" / "index.js").write_text(textwrap.dedent(source).lstrip(), encoding="utf-8")
    return folder


LISTENER = """
    import { DurableObject } from "cloudflare:workers";
    export class Echo extends DurableObject {
      fetch(request) {
        const [client, server] = Object.values(new WebSocketPair());
        server.accept();
        const seen = [];
        server.addEventListener("message", async (event) => {
          const data = event.data;
          if (data === "later") { setTimeout(() => server.send("timer fired"), 200); return; }
          if (data === "spin") { for (;;) {} }
          if (typeof data === "string") server.send("echo " + data);
          else server.send((data instanceof Blob ? "Blob " + data.size : data.constructor.name + " " + data.byteLength));
        });
        server.addEventListener("close", (event) => console.log("closed", event.code, event.reason, event.wasClean, server.readyState));
        server.send("before the 101");
        return new Response(null, { status: 101, webSocket: client });
      }
      sendBeforeAccept() {
        const [client, server] = Object.values(new WebSocketPair());
        try { server.send("x"); } catch (e) { return e.name + ": " + e.message; }
      }
      attachFunction() {
        const [client, server] = Object.values(new WebSocketPair());
        this.ctx.acceptWebSocket(server);
        try { server.serializeAttachment(() => 1); } catch (e) { return e.name + ": " + e.message; }
      }
      tooManyTags() {
        const [client, server] = Object.values(new WebSocketPair());
        try { this.ctx.acceptWebSocket(server, Array.from({length: 11}, (_, i) => "t" + i)); }
        catch (e) { return e.name + ": " + e.message; }
      }
    }
    export default { fetch(request, env) { return env.ECHO.getByName("one").fetch(request); } };
"""


@pytest.fixture
def chat(tmp_path):
    with dobj.Runtime.load(CHAT, data=tmp_path) as rt:
        yield rt


def test_messages_sent_before_the_101_arrive_first_and_everyone_gets_a_broadcast(chat):
    ann = chat.websocket("/room/lobby/ws?user=ann")
    assert json.loads(ann.receive()) == {"welcome": "ann", "history": [], "online": ["ann"]}
    bob = chat.websocket("/room/lobby/ws?user=bob")
    assert json.loads(ann.receive()) == {"joined": "bob"}
    assert json.loads(bob.receive())["online"] == ["ann", "bob"]
    ann.send("hello")
    assert json.loads(ann.receive()) == json.loads(bob.receive()) == {"from": "ann", "text": "hello"}


def test_an_evicted_room_keeps_its_sockets_and_is_rebuilt_by_the_next_message(chat):
    ann = chat.websocket("/room/lobby/ws?user=ann")
    bob = chat.websocket("/room/lobby/ws?user=bob")
    ann.receive_all(), bob.receive_all()
    room = chat.get("ROOM", "lobby")
    assert room.evict() is True and room.live is False
    assert [r["mode"] for r in chat.websockets()] == ["hibernate", "hibernate"]
    bob.send("/who")  # the attachments and tags survived: the rebuilt room knows who is here
    assert json.loads(bob.receive()) == {"online": ["ann", "bob"]}
    assert room.live is True
    events = [e for e in chat.trace() if e.object == "ROOM/lobby"]
    assert [(e.kind, e.method) for e in events[-2:]] == [("evict", "evict"), ("socket", "webSocketMessage")]
    assert events[-1].to_dict()["sent"] == ['#4 {"online":["ann","bob"]}']


def test_the_auto_response_answers_without_waking_the_object(chat):
    ann = chat.websocket("/room/lobby/ws?user=ann")
    ann.receive_all()
    chat.get("ROOM", "lobby").evict()
    before = len(chat.trace())
    ann.send("ping")
    assert ann.receive() == "pong"
    assert chat.get("ROOM", "lobby").live is False and len(chat.trace()) == before
    ann.send("PING")  # matching is exact: this one is a message for the room
    assert chat.get("ROOM", "lobby").live is True


def test_a_dropped_client_reaches_web_socket_close_with_1006_and_the_others_hear_of_it(chat):
    ann = chat.websocket("/room/lobby/ws?user=ann")
    bob = chat.websocket("/room/lobby/ws?user=bob")
    ann.receive_all(), bob.receive_all()
    bob.drop()
    assert json.loads(ann.receive()) == {"left": "bob", "code": 1006}
    close = chat.trace()[-1]
    assert (close.method, json.loads(close.args)) == (
        "webSocketClose", [1006, "WebSocket disconnected without sending Close frame.", False])
    assert [r["socket"] for r in chat.websockets()] == [2]


def test_a_client_close_is_echoed_and_the_pair_is_forgotten(chat):
    ann = chat.websocket("/room/lobby/ws?user=ann")
    ann.close(4000, "bye")
    assert ann.closed == (4000, "bye", True)
    assert chat.websockets() == [] and chat._core.sockets == {}
    with pytest.raises(WebSocketClosed):
        ann.send("anyone?")


def test_opening_something_that_does_not_answer_101_says_what_it_answered(chat):
    with pytest.raises(dobj.BadRequest, match=r"/room/lobby/stats answered 200, not a WebSocket \(101\)"):
        chat.websocket("/room/lobby/stats")
    assert chat.fetch("/room/lobby/ws").status == 426


def test_listeners_get_message_and_close_events_and_binary_as_blob_from_2026_03_17(tmp_path):
    for date, shown in (("2026-04-26", "Blob 3"), ("2026-03-01", "ArrayBuffer 3")):
        with dobj.Runtime.load(write_project(tmp_path / date, LISTENER, date)) as rt:
            ws = rt.websocket("/")
            assert ws.receive() == "before the 101"
            ws.send("hi")
            ws.send(b"\x00\x01\x02")
            assert [ws.receive(), ws.receive()] == ["echo hi", shown]
            ws.close(1000, "done")
            assert rt.trace()[-1].console == [("log", "closed 1000 done true 3" if date >= "2026-04-07"
                                               else "closed 1000 done true 2")]


def test_errors_a_socket_gives_javascript(tmp_path):
    with dobj.Runtime.load(write_project(tmp_path, LISTENER)) as rt:
        echo = rt.get("ECHO", "one")
        assert echo.sendBeforeAccept() == ("TypeError: You must call one of accept() or state.acceptWebSocket()"
                                           " on this WebSocket before sending messages.")
        assert echo.attachFunction().startswith("DataCloneError: ")
        assert echo.tooManyTags() == "Error: a Hibernatable WebSocket cannot have more than 10 tags"


def test_a_listener_that_runs_past_its_budget_loses_the_socket_and_the_object_keeps_serving(tmp_path):
    with dobj.Runtime.load(write_project(tmp_path, LISTENER), cpu_timeout=0.2) as rt:
        ws = rt.websocket("/")
        ws.receive_all()
        ws.send("spin")
        assert rt.trace()[-1].error.code == "timeout"
        assert ws.closed is not None and ws.closed[0] == 1011
        again = rt.websocket("/")
        again.send("hi")
        assert again.receive_all() == ["before the 101", "echo hi"]


def test_a_timer_can_send_later_and_the_client_sees_it_when_the_clock_moves(tmp_path):
    with dobj.Runtime.load(write_project(tmp_path, LISTENER)) as rt:
        ws = rt.websocket("/")
        ws.receive_all()
        ws.send("later")
        assert ws.receive_all() == []
        rt.clock.advance("1s")
        assert ws.receive_all() == ["timer fired"]


HIBERNATING = """
    import { DurableObject } from "cloudflare:workers";
    export class Echo extends DurableObject {
      fetch(request) {
        const [client, server] = Object.values(new WebSocketPair());
        this.ctx.acceptWebSocket(server, [new URL(request.url).searchParams.get("tag") ?? "none"]);
        return new Response(null, { status: 101, webSocket: client });
      }
      webSocketMessage(ws, message) { ws.send(String(this.ctx.getWebSockets().length)); }
      webSocketClose(ws, code, reason) { ws.close(code, reason); }
    }
    export default { fetch(request, env) { return env.ECHO.getByName("one").fetch(request); } };
"""


def test_a_thousand_sockets_opened_and_closed_leave_nothing_behind(tmp_path):
    with dobj.Runtime.load(write_project(tmp_path, HIBERNATING)) as rt:
        core = rt._core
        clients = [rt.websocket(f"/?tag=t{i % 10}") for i in range(1000)]
        assert len(rt.websockets()) == 1000 and len(core.sockets) == 2000
        rt.get("ECHO", "one").evict()  # hibernated: the sockets stay, their JavaScript handles go
        assert core.socket_handles() == 0
        clients[0].send("how many?")
        assert clients[0].receive() == "1000"
        for ws in clients:
            ws.close()
        assert rt.websockets() == [] and core.sockets == {}
        assert core.socket_handles() == 0


# -- the server ------------------------------------------------------------------------------
def test_dobj_serve_takes_real_websocket_upgrades_through_the_worker(tmp_path):
    from websockets.exceptions import InvalidStatus
    from websockets.sync.client import connect

    from dobj.server import Server

    with dobj.Runtime.load(CHAT, data=tmp_path, clock="real") as rt, Server(rt, port=0) as server:
        base = server.url.replace("http://", "ws://")
        with connect(f"{base}/room/r/ws?user=ann") as ann, connect(f"{base}/room/r/ws?user=bob") as bob:
            assert json.loads(ann.recv(timeout=5))["welcome"] == "ann"
            assert json.loads(ann.recv(timeout=5)) == {"joined": "bob"}
            bob.recv(timeout=5)
            rt.get("ROOM", "r").evict()
            bob.send("hi")
            assert json.loads(ann.recv(timeout=5)) == json.loads(bob.recv(timeout=5)) == {"from": "bob", "text": "hi"}
            ann.send("ping")
            assert ann.recv(timeout=5) == "pong"
        with pytest.raises(InvalidStatus) as refused:
            connect(f"{base}/room/r/stats")
        assert refused.value.response.status_code == 200  # the Worker's answer, sent as it is
        with connect(f"{base}/_dobj/fetch/ROOM/r/ws?user=cy") as cy:  # straight to the object
            assert json.loads(cy.recv(timeout=5))["welcome"] == "cy"
        deadline = time.monotonic() + 5
        while rt.websockets() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert rt.websockets() == []


def test_a_client_that_vanishes_is_closed_with_1006_and_the_server_serves_the_others(tmp_path):
    import contextlib
    import socket

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    from dobj.server import Server

    with dobj.Runtime.load(CHAT, data=tmp_path, clock="real") as rt, Server(rt, port=0) as server:
        base = server.url.replace("http://", "ws://")
        with connect(f"{base}/room/r/ws?user=ann") as ann:
            ann.recv(timeout=5)
            with connect(f"{base}/room/r/ws?user=bob", close_timeout=0.1) as gone:
                gone.recv(timeout=5)
                ann.recv(timeout=5)
                gone.socket.shutdown(socket.SHUT_RDWR)  # no close frame
            assert json.loads(ann.recv(timeout=5)) == {"left": "bob", "code": 1006}
            big = "x" * ((32 << 20) + 1)  # Cloudflare's limit is 32 MiB
            codes = []
            with contextlib.suppress(OSError):  # the server may reset the connection after its close
                with connect(f"{base}/room/r/ws?user=cy", max_size=None, close_timeout=0.5) as cy:
                    cy.recv(timeout=5)
                    with pytest.raises(ConnectionClosed):  # while sending, or on the next recv
                        cy.send(big)
                        cy.recv(timeout=5)
                    codes.append(cy.close_code)
            # 1009 arrives unless the reset of the unread rest of the message overtakes it
            assert codes in ([1009], [1006])
            ann.send("still here")
            # no webSocketClose for cy (workerd calls only webSocketError then), so no "left"
            assert [json.loads(ann.recv(timeout=5)) for _ in range(2)] == [
                {"joined": "cy"}, {"from": "ann", "text": "still here"}]
            error = next(e for e in rt.trace() if e.method == "webSocketError")
            assert json.loads(error.args) == ["WebSocket protocol error; protocolError.statusCode = 1009;"
                                              " protocolError.description = Message is too large"]


# -- the workbench ---------------------------------------------------------------------------
def test_the_ws_commands_open_send_list_and_close(chat):
    from dobj.commands import Interpreter

    interp = Interpreter(chat)
    opened = interp.run("ws /room/lobby/ws?user=ann")
    assert opened.value == {"socket": 1, "path": "/room/lobby/ws?user=ann"}
    assert interp.take_notices() == ['ws #1 < {"welcome":"ann","history":[],"online":["ann"]}']
    interp.run("ws ROOM/lobby/ws?user=bob")
    interp.take_notices()
    interp.run("ws send 3 'hi all'")
    assert interp.take_notices() == ['ws #1 < {"from":"bob","text":"hi all"}', 'ws #3 < {"from":"bob","text":"hi all"}']
    listed = interp.run("ws list")
    assert [(r["socket"], r["client"], r["tags"]) for r in listed.value] == [("#2", "#1", "ann"), ("#4", "#3", "bob")]
    interp.run("ws close 1 4000")
    assert interp.take_notices() == ["ws #1 closed: 4000", 'ws #3 < {"left":"ann","code":4000}']
    with pytest.raises(dobj.DobjError, match="no WebSocket client #7"):
        interp.run("ws send 7 x")
    trace = interp.run("trace 3")
    assert "webSocketClose" in str(trace)


def test_the_repl_prints_a_message_that_arrives_while_it_waits_without_breaking_the_typed_line(tmp_path):
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output import DummyOutput
    from rich.console import Console
    import io

    from dobj.commands import Interpreter
    from dobj.repl import run_interactive

    out = io.StringIO()
    rt = dobj.Runtime.load(write_project(tmp_path, LISTENER), clock="real")
    with create_pipe_input() as pipe, Interpreter(rt) as interp:
        done = threading.Event()

        def repl():
            run_interactive(interp, input=pipe, output=DummyOutput(),
                            console=Console(file=out, force_terminal=False, width=200))
            done.set()

        thread = threading.Thread(target=repl, daemon=True)
        thread.start()
        pipe.send_text("ws /\n")
        pipe.send_text("ws send 1 later\n")
        time.sleep(0.1)
        pipe.send_text("ws li")  # typing, when the timer's message comes in
        deadline = time.monotonic() + 5
        while "timer fired" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.02)
        pipe.send_text("st\n")
        pipe.send_text("quit\n")
        assert done.wait(10)
    text = out.getvalue()
    assert "ws #1 < before the 101" in text and "ws #1 < echo later" not in text
    assert text.index("ws #1 < timer fired") < text.index("#2")  # then `ws list` ran whole
    assert "listen" in text[text.index("ws #1 < timer fired"):]


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux; the pipe-input test covers the logic")
def test_in_a_real_terminal_a_message_prints_above_the_prompt_and_the_typed_line_stays(tmp_path):
    import shlex
    import subprocess
    import sys
    import uuid

    project = write_project(tmp_path / "p", LISTENER)
    server = f"dobj-test-{uuid.uuid4().hex[:8]}"
    tmux = ["tmux", "-L", server, "-f", "/dev/null"]
    repl = str(Path(sys.executable).parent / "dobj-repl")
    subprocess.run(tmux + ["new-session", "-d", "-s", "t", "-x", "120", "-y", "30", "-e",
                           f"XDG_DATA_HOME={tmp_path}", shlex.join([repl, str(project), "--real-clock"])], check=True)
    screen = lambda: subprocess.run(tmux + ["capture-pane", "-p", "-t", "t"],  # noqa: E731
                                    capture_output=True, text=True).stdout

    def wait_for(pattern: str) -> str:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            shown = screen()
            if pattern in shown:
                return shown
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} never appeared:\n{screen()}")

    try:
        wait_for("dobj>")
        subprocess.run(tmux + ["send-keys", "-t", "t", "-l", "ws /"], check=True)
        subprocess.run(tmux + ["send-keys", "-t", "t", "Enter"], check=True)
        wait_for("ws #1 < before the 101")
        subprocess.run(tmux + ["send-keys", "-t", "t", "-l", "ws send 1 later"], check=True)
        subprocess.run(tmux + ["send-keys", "-t", "t", "Enter"], check=True)
        subprocess.run(tmux + ["send-keys", "-t", "t", "-l", "ws li"], check=True)  # typing, not sent
        shown = wait_for("ws #1 < timer fired")
        lines = [line.rstrip() for line in shown.splitlines() if line.strip()]
        prompt = next(i for i, line in enumerate(lines) if line.startswith("dobj> ws li"))
        assert lines[prompt] == "dobj> ws li"  # the typed line is whole, below the message
        assert lines.index("ws #1 < timer fired") < prompt
        subprocess.run(tmux + ["send-keys", "-t", "t", "-l", "st"], check=True)
        subprocess.run(tmux + ["send-keys", "-t", "t", "Enter"], check=True)
        wait_for("listen")
        subprocess.run(tmux + ["send-keys", "-t", "t", "C-d"], check=True)
    finally:
        subprocess.run(tmux + ["kill-server"], capture_output=True)


def test_memory_returns_to_where_it_was_after_a_thousand_sockets_come_and_go(tmp_path):
    import gc
    import tracemalloc

    with dobj.Runtime.load(write_project(tmp_path, HIBERNATING)) as rt:

        def a_thousand_come_and_go() -> None:
            clients = [rt.websocket(f"/?tag=t{i % 10}") for i in range(1000)]
            rt.get("ECHO", "one").evict()
            clients[0].send("how many?")
            for ws in clients:
                ws.close()

        tracemalloc.start()  # before the first round, so what later rounds free is seen too
        try:
            a_thousand_come_and_go()  # fills the bounded trace and grows the tables once
            gc.collect()
            before = tracemalloc.take_snapshot()
            a_thousand_come_and_go()
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
        grown = sum(d.size_diff for d in after.compare_to(before, "filename"))
        assert grown < 64 * 1024, f"{grown:,} bytes more after the second thousand"  # measured: ~1 KB
        assert rt._core.sockets == {} and rt._core.socket_handles() == 0
