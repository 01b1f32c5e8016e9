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

CONNECTING, OPEN, CLOSING, CLOSED = range(4)
# What an object's webSocketClose gets when its client goes away without a close frame.
DROPPED = (1006, "WebSocket disconnected without sending Close frame.", False)
MAX_TAGS, MAX_TAG_LENGTH = 10, 256
MAX_ATTACHMENT = 16_384  # bytes of the serialized attachment
MAX_MESSAGE = 1 << 20  # bytes of one message


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
    auto_ms: float | None = None
    path: str = ""
    received: int = 0
    sent: int = 0

    @property
    def hibernatable(self) -> bool:
        return self.mode == "hibernate"


class _Waiting:
    """Holds what arrives for a client between :meth:`SocketCalls.connect` and ``start``."""

    __slots__ = ("client", "items")

    def __init__(self, client) -> None:
        self.client, self.items = client, []

    def deliver(self, item: tuple) -> None:
        self.items.append(item)


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
        self.auto_reply_close = bool(self.loaded and self.loaded.socket_flags.get("autoReplyClose"))

    # -- what JavaScript calls --------------------------------------------------------------
    def _host_ws(self, op: str, a, b="", c="") -> str:
        if op == "pair":
            first, second = self._new_pair()
            return f"[{first.id},{second.id}]"
        if op == "list":
            tag = json.loads(b)
            # A socket counts until its close event is over (then it is forgotten).
            return json.dumps([s.id for s in self.sockets.values()
                               if s.owner == a and s.hibernatable and (tag is None or tag in s.tags)])
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
        if op == "send":
            return self._send(sock, b)
        if op == "close":
            return self._close(sock, b, c)
        if op == "attach":
            if sock is _GONE:
                return ""
            if len(b.encode("utf-8", "surrogatepass")) > MAX_ATTACHMENT:
                raise _refuse(f"Attachment is too large: it is over {MAX_ATTACHMENT} bytes once serialized.", "Error")
            sock.attachment = b
            return ""
        if op == "attachment":
            return json.dumps(sock.attachment)
        if op == "tags":
            if not sock.hibernatable:
                raise _refuse("getTags() can only be called on a WebSocket accepted by ctx.acceptWebSocket().")
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

    def _accept(self, sock: Socket, oid: int, tags_text: str) -> str:
        hibernate = tags_text != "null"
        if sock is _GONE or sock.mode == "outside":
            raise _refuse("This WebSocket has been handed to a client outside: it cannot be accepted here.")
        if sock.mode:
            raise _refuse("The WebSocket has already been accepted; accept() and ctx.acceptWebSocket() can be called once.")
        if oid == -2:  # accept(): the object on whose behalf JavaScript runs now
            oid = self.current.oid if self.current is not None else -1
        if hibernate:
            tags = json.loads(tags_text)
            if len(tags) > MAX_TAGS:
                raise _refuse(f"A WebSocket can have at most {MAX_TAGS} tags.", "RangeError")
            for tag in tags:
                if not isinstance(tag, str):
                    raise _refuse("Tags must be strings.")
                if len(tag) > MAX_TAG_LENGTH:
                    raise _refuse(f"A WebSocket tag can be at most {MAX_TAG_LENGTH} characters long.", "RangeError")
            sock.tags = tuple(dict.fromkeys(tags))
        sock.owner, sock.mode = oid, "hibernate" if hibernate else "listen"
        self._flush(sock)
        return ""

    def _send(self, sock: Socket, payload: str) -> str:
        if not sock.mode:
            raise _refuse("You must call one of accept() or state.acceptWebSocket() on this WebSocket before sending messages.")
        if sock.sent_close or sock.state == CLOSED:
            raise _refuse("Can't call WebSocket send() after close().")
        if len(payload) - 1 > MAX_MESSAGE and (payload[0] == "b" or len(payload.encode("utf-8", "surrogatepass")) - 1 > MAX_MESSAGE):
            raise _refuse(f"the message is larger than {MAX_MESSAGE} bytes, the most a WebSocket message can be.", "RangeError")
        sock.sent += 1
        if self.current is not None:
            self.current.sent.append(f"#{sock.id} {_preview(payload)}")
        self._route(self.sockets.get(sock.peer), ("message", payload))
        return ""

    def _close(self, sock: Socket, code: int, reason: str) -> str:
        if sock.state == CLOSED or sock.sent_close:
            return ""  # ignored, as workerd does once the socket is closed
        if code != -1 and not (code == 1000 or 3000 <= code <= 4999):
            raise _refuse(f"Invalid WebSocket close code: {code}.")
        if len(reason.encode("utf-8")) > 123:
            raise _refuse("The close reason is longer than 123 bytes.")
        if code == -1:
            code, reason = 1005, ""
        sock.sent_close = True
        sock.state = CLOSED if sock.got_close else CLOSING
        if self.current is not None:
            self.current.sent.append(f"#{sock.id} close {code}")
        self._route(self.sockets.get(sock.peer), ("close", code, reason, True))
        self._forget_if_done(sock)
        return ""

    # -- carrying messages ------------------------------------------------------------------
    def _route(self, sock: Socket | None, item: tuple) -> None:
        """Carry ``item`` to socket ``sock``: to its client, as an event of its holder, or
        into its pending list until it is accepted or connected."""
        if sock is None:
            return
        if sock.mode == "outside":
            self._arrive(sock, item)
            sock.client.deliver(item)
        elif sock.mode:
            self._arrive(sock, item)
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
        """What ``item`` changes in the state of the socket it reaches."""
        if item[0] == "message":
            sock.received += 1
            return
        if item[0] == "close":
            sock.got_close = True
            if item[1] == DROPPED[0] or sock.sent_close:
                sock.state = CLOSED
            elif self.auto_reply_close and sock.mode != "outside" and not sock.half_open:
                sock.state = CLOSED  # the runtime answers the close frame itself
                sock.sent_close = True
                self._route(self.sockets.get(sock.peer), ("close", item[1], item[2], True))
            else:
                sock.state = CLOSING

    def _flush(self, sock: Socket) -> None:
        pending, sock.pending = sock.pending, None
        for item in pending or ():
            self._route(sock, item)

    async def _socket_event(self, sock: Socket, item: tuple) -> None:
        actor = self._worker() if sock.owner == -1 else self.by_oid.get(sock.owner)
        if actor is None:
            return
        kind = item[0]
        hib = sock.hibernatable
        method = {"message": "webSocketMessage", "close": "webSocketClose", "error": "webSocketError"}[kind] \
            if hib else kind
        if kind == "message":
            args = (item[1], "", False)
            shown = json.dumps([_preview(item[1])])
        elif kind == "close":
            args = (item[1], item[2], item[3])
            shown = json.dumps(list(args))
        else:
            args = (item[1], "", False)
            shown = json.dumps([item[1]])
        event = self.new_event(actor, "socket", method, shown)
        event.clone = False
        try:
            await self.run(actor, event, lambda ev: self._call_handler(
                ev, "socketEvent", actor.oid, sock.id, hib, kind, *args))
        except DobjError:
            pass  # the trace keeps it, as workerd logs an exception in a socket handler
        finally:
            if kind == "close":
                self._forget_if_done(sock)

    def _forget_if_done(self, sock: Socket) -> None:
        """Drop both ends once each has closed and nothing is left to deliver."""
        peer = self.sockets.get(sock.peer)
        if sock.state == CLOSED and (peer is None or peer.state == CLOSED):
            for end in (sock, peer):
                if end is not None and not end.pending:
                    self.sockets.pop(end.id, None)

    # -- clients outside ----------------------------------------------------------------------
    def connect(self, socket_id: int, client, path: str = "") -> Socket:
        """Hand socket ``socket_id`` (the one a 101 response carried) to a client outside.
        What was sent to it before waits until :meth:`start` and then arrives first."""
        sock = self.sockets.get(socket_id)
        if sock is None or sock.mode:
            raise BadRequest("this WebSocket is not free to connect: it is closed or already held")
        sock.mode, sock.client, sock.path = "outside", _Waiting(client), path
        self._flush(sock)
        return sock

    def start(self, sock: Socket) -> None:
        """Deliver to the connected client what waited for it, then everything as it comes."""
        waiting, sock.client = sock.client, sock.client.client
        for item in waiting.items:
            sock.client.deliver(item)

    def client_sends(self, sock: Socket, item: tuple) -> None:
        """A client outside sent ``item``: ``("message", payload)``, ``("close", code,
        reason)`` or ``("drop",)`` (gone without a close frame)."""
        if sock.state == CLOSED:
            return
        peer = self.sockets.get(sock.peer)
        kind = item[0]
        if kind == "message":
            sock.sent += 1
            payload = item[1]
            auto = self.auto_responses.get(peer.owner) if peer is not None and peer.hibernatable else None
            if auto is not None and payload[:1] == "t" and payload[1:] == auto.request:
                peer.auto_ms = self.clock.now_ms()
                sock.received += 1
                sock.client.deliver(("message", "t" + auto.response))
                return
            self._route(peer, item)
        elif kind == "close":
            sock.sent_close = True
            sock.state = CLOSED if sock.got_close else CLOSING
            self._route(peer, ("close", item[1], item[2], True))
        else:
            sock.state = CLOSED
            sock.sent_close = sock.got_close = True
            if peer is not None and peer.state != CLOSED:
                self._route(peer, ("close", *DROPPED))
        self._forget_if_done(sock)

    def close_sockets(self, oid: int | None, code: int, reason: str) -> None:
        """Close the sockets ``oid`` listens on (every socket when ``oid`` is None): their
        clients get ``code`` and ``reason``; hibernatable sockets of a dropped object stay."""
        for sock in list(self.sockets.values()):
            if sock.mode in ("listen", "hibernate") and (oid is None or (sock.owner == oid and not sock.hibernatable)):
                sock.state, sock.sent_close, sock.got_close = CLOSED, True, True
                peer = self.sockets.get(sock.peer)
                if peer is not None and peer.state != CLOSED:
                    peer.state, peer.got_close = CLOSED, True
                    if peer.mode == "outside":
                        peer.client.deliver(("close", code, reason, False))
                self._forget_if_done(sock)

    def _holder(self, sock: Socket) -> Actor | None:
        return self._worker() if sock.owner == -1 else self.by_oid.get(sock.owner)

    def held_sockets(self, oid: int) -> list[int]:
        return [s.id for s in self.sockets.values() if s.owner == oid]

    def socket_rows(self) -> list[dict]:
        """Every open socket as the workbench lists it."""
        rows = []
        for sock in self.sockets.values():
            if sock.mode in ("listen", "hibernate"):
                actor = self._holder(sock)
                peer = self.sockets.get(sock.peer)
                rows.append({"socket": sock.id, "object": "(worker)" if sock.owner == -1 else actor.path,
                             "mode": sock.mode, "tags": list(sock.tags), "state": sock.state,
                             "client": peer.id if peer is not None and peer.mode == "outside" else None,
                             "received": sock.received, "sent": sock.sent})
        return rows


def _preview(payload: str, limit: int = 60) -> str:
    """A message as the trace shows it: its text, or its size when it is binary."""
    if payload[:1] == "b":
        b64 = payload[1:]
        return f"<{len(b64) // 4 * 3 - (len(b64) - len(b64.rstrip('='))) } bytes>"
    text = payload[1:]
    return text if len(text) <= limit else text[:limit] + "…"

