"""WebSockets of Workers projects (SPEC section 11): sockets, their messages and hibernation.

:class:`SocketCalls` is part of :class:`~dobj.runtime.core.Core`. A ``WebSocketPair`` is two
:class:`Socket` records here, each the other's peer; JavaScript holds them by id (see
``js/web/websocket.js``). Whatever one end sends is carried to its peer: to a client outside
(the server's connection, or :class:`~dobj.runtime.wsclient.WebSocket`), or as an *event* of
the object that accepted the peer, serialized, budgeted and traced like any other. An object
that took a socket with ``ctx.acceptWebSocket`` (the Hibernation API) can be dropped while
the socket stays open: its tags, attachment and auto-response live here, and the next
message rebuilds the instance. A message that equals the object's auto-response request is
answered here, without waking the object.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ..errors import BadRequest, DobjError
from .actors import Actor
from .driving import resume, step
from .trace import PREVIEW, message_preview

CONNECTING, OPEN, CLOSING, CLOSED = range(4)
# What an object's webSocketClose gets when its client goes away without a close frame.
DROPPED = (1006, "WebSocket disconnected without sending Close frame.", False)
MAX_TAGS, MAX_TAG_LENGTH = 10, 256
MAX_MESSAGE = 32 << 20  # bytes of one message
TOO_LARGE = (1009, "Message is too large")


def _refuse(message: str, name: str = "TypeError") -> BadRequest:
    return BadRequest(message, js_name=name)


@dataclass(eq=False, slots=True)
class Socket:
    """One end of a pair: where its messages go, and what its holder knows of it."""

    id: int
    peer: int
    owner: int | None = None  # object id whose handlers get its events (-1: the Worker)
    mode: str = ""  # "" until accepted, "listen" (accept()), "hibernate" (ctx.acceptWebSocket), "outside"
    state: int = OPEN
    tags: tuple[str, ...] = ()
    attachment: str | None = None
    client: object | None = None  # outside: its ``deliver(item)`` gets the peer's messages
    pending: list | None = None  # what arrived before it was accepted or connected
    sent_close: bool = False
    got_close: bool = False
    half_open: bool = False
    echoed: bool = False  # the runtime answered the peer's close frame itself
    lost: bool = False  # the connection is gone (dropped, or closed for a protocol error)
    events: int = 0  # its events queued or running (it is not forgotten before they end)
    finished: bool = False  # its close (or error) event is over: the object holds it no more
    auto_ms: float | None = None
    path: str = ""
    received: int = 0
    sent: int = 0

    @property
    def hibernatable(self) -> bool:
        return self.mode == "hibernate"


# What JavaScript's handle on a socket that is closed and forgotten reaches.
_GONE = Socket(0, 0, mode="gone", state=CLOSED, sent_close=True, got_close=True)


@dataclass(eq=False, slots=True)
class AutoResponse:
    request: str
    response: str


class SocketCalls:
    """Host functions and events of WebSockets (a mixin of the core)."""

    sockets: dict[int, Socket]
    auto_responses: dict[int, AutoResponse]

    def _init_sockets(self) -> None:
        self.sockets = {}
        self.auto_responses = {}
        self._socket_ids = 0
        self._gone: list[int] = []  # forgotten sockets whose JavaScript handles may remain
        self._held: dict[int, dict[int, Socket]] = {}  # object id -> the sockets it accepted
        flags = self.loaded.socket_flags if self.loaded else {}
        self.auto_reply_close = bool(flags.get("autoReplyClose"))
        self.close_reason_limit = bool(flags.get("closeReasonLimit"))

    # -- what JavaScript calls --------------------------------------------------------------
    def _host_ws(self, op: str, a, b="", c="") -> str:
        if op == "send":  # the common one first
            return self._send(self.sockets.get(a) or _GONE, b)
        if op == "pair":
            first, second = self._new_pair()
            return f"[{first.id},{second.id}]"
        if op == "list":
            tag = json.loads(b)
            # A socket counts until its close event is over.
            return json.dumps([s.id for s in self._held.get(a, {}).values()
                               if s.hibernatable and not s.finished and (tag is None or tag in s.tags)])
        if op == "auto":
            if b == "" and c == "":
                self.auto_responses.pop(a, None)
            else:
                self.auto_responses[a] = AutoResponse(b, c)
            return ""
        if op == "autoGet":
            pair = self.auto_responses.get(a)
            return "null" if pair is None else json.dumps([pair.request, pair.response])
        sock = self.sockets.get(a) or _GONE
        if op == "state":
            return str(sock.state)
        if op == "accept":
            return self._accept(sock, b, c)
        if op == "close":
            return self._close(sock, b, c)
        if op == "attach":  # (its size is checked in JavaScript, as V8 would serialize it)
            if sock is _GONE:
                return ""
            sock.attachment = b
            return ""
        if op == "attachment":
            return json.dumps(sock.attachment)
        if op == "tags":
            if not sock.hibernatable:
                raise _refuse("you must call 'acceptWebSocket()' before attempting to access the tags of a WebSocket.", "Error")
            return json.dumps(list(sock.tags))
        if op == "autoTime":
            return "null" if sock.auto_ms is None else json.dumps(sock.auto_ms)
        raise BadRequest(f"unknown WebSocket operation {op!r}")

    def _new_pair(self) -> tuple[Socket, Socket]:
        first = Socket(self._socket_ids + 1, self._socket_ids + 2)
        second = Socket(self._socket_ids + 2, self._socket_ids + 1)
        self._socket_ids += 2
        self.sockets[first.id] = first
        self.sockets[second.id] = second
        return first, second

    def _accept(self, sock: Socket, oid: int, how: str) -> str:
        """``accept()`` (``how`` is "listen", or "half" with allowHalfOpen) or
        ``ctx.acceptWebSocket`` (``how`` is the tags' JSON), with workerd's refusals."""
        hibernate = how not in ("listen", "half")
        if sock is _GONE or sock.mode == "outside":
            raise _refuse("This WebSocket has been handed to a client outside: it cannot be accepted here.")
        if hibernate and sock.mode:
            raise _refuse("Cannot call `acceptWebSocket()` if the WebSocket was already accepted via `accept()`", "Error")
        if sock.mode == "hibernate":
            raise _refuse("Can't accept() WebSocket after enabling hibernation.")
        if sock.mode:
            return ""  # accept() again
        if oid == -2:  # accept(): the object on whose behalf JavaScript runs now
            oid = self.current.oid if self.current is not None else -1
        if hibernate:
            tags = json.loads(how)
            if len(tags) > MAX_TAGS:
                raise _refuse(f"a Hibernatable WebSocket cannot have more than {MAX_TAGS} tags", "Error")
            for tag in tags:
                if len(tag) > MAX_TAG_LENGTH:
                    raise _refuse(f"{json.dumps(tag, ensure_ascii=False)} is longer than the max tag length"
                                  f" ({MAX_TAG_LENGTH} characters).", "Error")
            sock.tags = tuple(dict.fromkeys(tags))
        sock.owner, sock.mode, sock.half_open = oid, "hibernate" if hibernate else "listen", how == "half"
        self._held.setdefault(oid, {})[sock.id] = sock
        self._flush(sock)
        return ""

    def _send(self, sock: Socket, payload: str) -> str:
        if not sock.mode:
            raise _refuse("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.")
        if sock.sent_close or sock.state == CLOSED:
            raise _refuse("Can't call WebSocket send() after close().")
        if too_large(payload):
            raise _refuse(f"the message is larger than {MAX_MESSAGE} bytes, the most a WebSocket message can be.", "RangeError")
        sock.sent += 1
        if self.current is not None:  # shown by the trace (a text is cut, and read only when shown)
            shown = payload[:PREVIEW + 2] if payload[:1] == "t" else message_preview(payload)
            self.current.sent.append((sock.id, shown))
        self._route(self.sockets.get(sock.peer), ("message", payload))
        return ""

    def _close(self, sock: Socket, code: int, reason: str) -> str:
        if not sock.mode:
            raise _refuse("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.")
        if code != -1 and not (code == 1000 or 3000 <= code <= 4999):
            raise _refuse(f"Invalid WebSocket close code: {code}.", "InvalidAccessError")
        if self.close_reason_limit and len(reason.encode("utf-8")) > 123:
            raise _refuse("WebSocket close reason must not be longer than 123 bytes when UTF-8 encoded.", "SyntaxError")
        if sock.state == CLOSED or sock.sent_close:
            if sock.echoed and sock.mode == "listen" and not sock.lost:  # the runtime already answered
                sock.lost = True
                self._route(sock, ("error", "Network connection lost."))
            return ""  # otherwise ignored, as workerd does once the socket is closed
        if code == -1:
            code, reason = 1005, ""
        sock.sent_close = True
        sock.state = CLOSED if sock.got_close else CLOSING
        if self.current is not None:
            self.current.sent.append((sock.id, f"close {code}"))
        self._route(self.sockets.get(sock.peer), ("close", code, reason, True))
        return ""

    # -- carrying messages ------------------------------------------------------------------
    def _route(self, sock: Socket | None, item: tuple) -> None:
        """Carry ``item`` to socket ``sock``: to its client, as an event of its holder, or
        into its pending list until it is accepted or connected."""
        if sock is None:
            return
        if sock.mode == "outside":
            answer = item[0] == "close" and not sock.sent_close
            self._arrive(sock, item)
            sock.client.deliver(item)
            if answer:  # a client answers a close frame with one, as WebSocket clients do
                sock.sent_close, sock.state = True, CLOSED
                self._route(self.sockets.get(sock.peer), ("close", item[1], item[2], True))
        elif sock.mode:  # its state changes when its event runs, as the frame is read then
            sock.events += 1
            coro = self._socket_event(sock, item)
            if self.current is not None:  # JavaScript is running: start it once it returns
                self._stub_calls.append(coro)
            else:
                finished, waiting_on = step(coro)
                if not finished:
                    self._start(resume(coro, waiting_on))
        else:
            if sock.pending is None:
                sock.pending = []
            sock.pending.append(item)

    def _arrive(self, sock: Socket, item: tuple) -> None:
        """What ``item`` changes in the state of the socket it reaches (as workerd shows it to
        the handler that gets it)."""
        kind = item[0]
        if kind == "message":
            sock.received += 1
        elif kind == "close":
            sock.got_close = True
            if item[1] == DROPPED[0] and not item[3]:  # the client vanished
                sock.lost = True
                if sock.mode == "hibernate":
                    sock.state = CLOSING
            elif sock.sent_close:
                sock.state = CLOSED
            elif self.auto_reply_close and sock.mode == "listen" and not sock.half_open:
                # the runtime answers the close frame itself (web_socket_auto_reply_to_close);
                # hibernatable sockets are left to webSocketClose on every date
                sock.state = CLOSED
                sock.sent_close = sock.echoed = True
                self._route(self.sockets.get(sock.peer), ("close", item[1], item[2], True))
            else:
                sock.state = CLOSING
        elif kind == "error":
            sock.lost = True

    def _flush(self, sock: Socket) -> None:
        pending, sock.pending = sock.pending, None
        for item in pending or ():
            self._route(sock, item)

    async def _socket_event(self, sock: Socket, item: tuple) -> None:
        actor = self._holder(sock)
        if actor is None:
            sock.events -= 1
            return
        kind = item[0]
        hib = sock.hibernatable
        method = {"message": "webSocketMessage", "close": "webSocketClose", "error": "webSocketError"}[kind] \
            if hib else kind
        if kind == "message":
            args = (item[1], "", False)
            shown = json.dumps([message_preview(item[1])])
        elif kind == "close":
            args = (item[1], item[2], item[3])
            shown = json.dumps(list(args))
        else:
            args = (item[1], "", False)
            shown = json.dumps([item[1]])
        event = self.new_event(actor, "socket", method, shown)
        event.clone = False
        async def body(ev):
            self._arrive(sock, item)
            return await self._call_handler(ev, "socketEvent", actor.oid, sock.id, hib, kind, *args)

        try:
            await self.run(actor, event, body)
        except DobjError:
            pass  # the trace keeps it, as workerd logs an exception in a socket handler
        finally:
            sock.events -= 1
            if sock.lost:  # the connection is gone: nothing more can happen on this socket
                sock.state, sock.sent_close = CLOSED, True
            if kind != "message":  # after its close event a socket is no longer the object's
                sock.finished = True
                self._forget_if_done(sock)
            self._drop_handles()

    def _forget_if_done(self, sock: Socket) -> None:
        """Drop both ends once each has closed and nothing is left to deliver."""
        peer = self.sockets.get(sock.peer)
        if _done(sock) and (peer is None or _done(peer)) and not (sock.events or (peer is not None and peer.events)):
            for end in (sock, peer):
                forgotten = end is not None and not end.pending and self.sockets.pop(end.id, None) is not None
                if forgotten and end.mode != "outside":
                    self._gone.append(end.id)
                    held = self._held.get(end.owner)
                    if held is not None:
                        held.pop(end.id, None)
                        if not held:
                            del self._held[end.owner]
            if self.current is None:
                self._drop_handles()

    def _drop_handles(self) -> None:
        """Let JavaScript drop its handles on forgotten sockets (never while it runs)."""
        if self._gone:
            gone, self._gone = self._gone, []
            self.glue["forgetSockets"](json.dumps(gone))

    def socket_handles(self) -> int:
        """How many WebSocket handles JavaScript holds (for leak checks)."""
        self._drop_handles()
        return int(self.glue["socketHandles"]())

    def _holder(self, sock: Socket) -> Actor | None:
        return self._worker() if sock.owner == -1 else self.by_oid.get(sock.owner)


def _done(sock: Socket) -> bool:
    """Nothing more can happen on this end: it is closed, its object let it go, or it is a
    client that sent its close frame."""
    return sock.state == CLOSED or sock.finished or (sock.mode == "outside" and sock.sent_close)


def too_large(payload: str) -> bool:
    """Whether a message ("t" + text or "b" + base64) is over :data:`MAX_MESSAGE` bytes."""
    if len(payload) <= MAX_MESSAGE:
        return False
    if payload[0] == "b":
        b64 = payload[1:]
        return len(b64) // 4 * 3 - (len(b64) - len(b64.rstrip("="))) > MAX_MESSAGE
    return len(payload) - 1 > MAX_MESSAGE or len(payload[1:].encode("utf-8", "surrogatepass")) > MAX_MESSAGE
