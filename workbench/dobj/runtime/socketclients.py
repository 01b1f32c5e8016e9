"""WebSocket clients outside JavaScript: the server's connections and :class:`~dobj.runtime.wsclient.WebSocket`.

:class:`SocketClients` is part of :class:`~dobj.runtime.core.Core` beside
:class:`~dobj.runtime.sockets.SocketCalls`: a 101 response's socket is handed to a client
(:meth:`SocketClients.connect`, then ``start``), and what the client sends arrives here
(:meth:`SocketClients.client_sends`) to become events of the object holding the other end.
"""

from __future__ import annotations

from ..errors import BadRequest
from .sockets import CLOSED, CLOSING, DROPPED, TOO_LARGE, Socket, too_large


class Connection:
    """A client's hold on the socket a 101 response carried (see :meth:`SocketCalls.connect`):
    what the client sends goes through here. Use it on the runtime's loop only."""

    __slots__ = ("_core", "socket")

    def __init__(self, core, socket: Socket) -> None:
        self._core, self.socket = core, socket

    @property
    def id(self) -> int:
        return self.socket.id

    @property
    def closing(self) -> bool:
        """The client sent its close frame (or is gone)."""
        return self.socket.sent_close or self.socket.state == CLOSED

    def start(self) -> None:
        """Deliver what waited for the client, then everything as it comes."""
        self._core.start(self.socket)

    def send(self, payload: str) -> None:
        """A message: "t" + text or "b" + base64."""
        self._core.client_sends(self.socket, ("message", payload))

    def close(self, code: int, reason: str) -> None:
        self._core.client_sends(self.socket, ("close", code, reason))

    def drop(self) -> None:
        """The client went away without a close frame."""
        self._core.client_sends(self.socket, ("drop",))

    def too_large(self) -> None:
        """The client sent a message over :data:`MAX_MESSAGE` (and was closed with 1009)."""
        self._core.client_sends(self.socket, ("too_large",))


class _Waiting:
    """Holds what arrives for a client between :meth:`SocketCalls.connect` and ``start``."""

    __slots__ = ("client", "items")

    def __init__(self, client) -> None:
        self.client, self.items = client, []

    def deliver(self, item: tuple) -> None:
        self.items.append(item)


class SocketClients:
    """Clients outside JavaScript, and the workbench's view of sockets (a mixin of the core)."""

    # -- clients outside ----------------------------------------------------------------------
    def connect(self, socket_id: int, client, path: str = "") -> Socket:
        """Hand socket ``socket_id`` (the one a 101 response carried) to a client outside.
        What was sent to it before waits until :meth:`start` and then arrives first."""
        sock = self.sockets.get(socket_id)
        if sock is None or sock.mode:
            raise BadRequest("this WebSocket is not free to connect: it is closed or already held")
        sock.mode, sock.client, sock.path = "outside", _Waiting(client), path
        self._gone.append(sock.id)  # JavaScript needs no handle on an end that went outside
        self._flush(sock)
        return sock

    def start(self, sock: Socket) -> None:
        """Deliver to the connected client what waited for it, then everything as it comes."""
        waiting, sock.client = sock.client, sock.client.client
        for item in waiting.items:
            sock.client.deliver(item)
        if self.current is None:
            self._drop_handles()

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
            if too_large(payload):
                self.client_sends(sock, ("too_large",))
                return
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
        elif kind == "too_large":  # workerd closes with 1009 and tells only the error handler
            if sock.client is not None and not sock.got_close:
                sock.client.deliver(("close", *TOO_LARGE, True))
            sock.state, sock.sent_close, sock.got_close = CLOSED, True, True
            if peer is not None:
                error = (f"WebSocket protocol error; protocolError.statusCode = {TOO_LARGE[0]};"
                         f" protocolError.description = {TOO_LARGE[1]}")
                self._route(peer, ("error", error))
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

    def held_sockets(self, oid: int) -> list[int]:
        return [s.id for s in self.sockets.values() if s.owner == oid]

    def socket_rows(self) -> list[dict]:
        """Every open socket as the workbench lists it."""
        rows = []
        for sock in self.sockets.values():
            if sock.mode in ("listen", "hibernate") and not sock.finished:
                actor = self._holder(sock)
                peer = self.sockets.get(sock.peer)
                rows.append({"socket": sock.id, "object": "(worker)" if sock.owner == -1 else actor.path,
                             "mode": sock.mode, "tags": list(sock.tags), "state": sock.state,
                             "client": peer.id if peer is not None and peer.mode == "outside" else None,
                             "received": sock.received, "sent": sock.sent})
        return rows
