"""A WebSocket client inside the process: what ``rt.websocket("/path")`` gives.

It reaches the project as a browser would through ``wrangler dev``: an upgrade request goes
to the Worker (or straight to one object's ``fetch``), and when the answer is a 101 with a
WebSocket, the client holds the other end. Messages the object sends are kept in order until
read (and handed to ``on_message`` as they arrive); what the client sends becomes an event of
the object that holds the socket.

>>> ws = rt.websocket("/room/lobby/ws")          # doctest: +SKIP
>>> ws.send("hello"); ws.receive()                # doctest: +SKIP
'ann: hello'
"""

from __future__ import annotations

import base64
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import BadRequest, DobjError

if TYPE_CHECKING:
    from .handles import Response
    from .runtime import Runtime
    from .socketclients import Connection

# The headers of an upgrade request a client sends (a fixed key: nothing checks it here).
UPGRADE_HEADERS = {"upgrade": "websocket", "connection": "Upgrade", "sec-websocket-version": "13",
                   "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ=="}


class WebSocketClosed(DobjError):
    """Sending on, or waiting for a message from, a WebSocket that is closed."""

    code = "websocket_closed"


def decode(payload: str) -> str | bytes:
    """A message as it crossed the runtime ("t" + text or "b" + base64) as Python's value."""
    return payload[1:] if payload[:1] == "t" else base64.b64decode(payload[1:])


def encode(data: str | bytes | bytearray | memoryview) -> str:
    if isinstance(data, str):
        return "t" + data
    if isinstance(data, (bytes, bytearray, memoryview)):
        return "b" + base64.b64encode(bytes(data)).decode("ascii")
    raise TypeError(f"a WebSocket message is str or bytes, not {type(data).__name__}")


def opened(runtime: Runtime, response: Response, path: str, on_message, on_close) -> WebSocket:
    """The client of the WebSocket ``response`` carries, or an error saying what came instead."""
    if response.status != 101 or response.web_socket is None:
        body = response.text
        raise BadRequest(f"{path} answered {response.status}, not a WebSocket (101)"
                         + (f": {body[:200]}" if body else ""))
    return WebSocket(runtime, response, path, on_message, on_close)


class WebSocket:
    """The client end of a WebSocket that an object (or the Worker) accepted.

    ``send(data)``, ``receive(timeout=5)``, ``close(code=1000, reason="")``, ``drop()`` (go
    away without a close frame); ``messages`` holds what arrived and was not read yet (unless
    ``on_message`` takes each message as it arrives), ``closed`` the ``(code, reason,
    was_clean)`` the socket closed with, or None.
    """

    def __init__(self, runtime: Runtime, response: Response, path: str,
                 on_message: Callable[[WebSocket, str | bytes], Any] | None = None,
                 on_close: Callable[[WebSocket, int, str], Any] | None = None) -> None:
        self._rt = runtime
        self.response = response
        self.path = path
        self.on_message = on_message
        self.on_close = on_close
        self.messages: deque[str | bytes] = deque()
        self.closed: tuple[int, str, bool] | None = None
        self._arrived = threading.Condition()
        self._connection: Connection = runtime._call_in_loop(runtime.connect_socket, response, self, path)
        runtime._call_in_loop(self._connection.start)

    @property
    def id(self) -> int:
        """The socket's number (as ``ws list`` shows it)."""
        return self._connection.id

    # called by the runtime, on its loop
    def deliver(self, item: tuple) -> None:
        if item[0] == "message":
            data = decode(item[1])
            if self.on_message is not None:  # handed over, not kept
                self.on_message(self, data)
                return
            with self._arrived:
                self.messages.append(data)
                self._arrived.notify_all()
            return
        code, reason = item[1], item[2]
        with self._arrived:
            self.closed = (code, reason, item[3] if len(item) > 3 else True)
            self._arrived.notify_all()
        if self.on_close is not None:
            self.on_close(self, code, reason)

    # -- the client's side ---------------------------------------------------------------------
    def send(self, data: str | bytes) -> None:
        """Send a text (str) or binary (bytes) message."""
        self._check_open("send")
        self._rt._call_in_loop(self._connection.send, encode(data))

    async def asend(self, data: str | bytes) -> None:
        self._check_open("send")
        payload = encode(data)

        async def send() -> None:
            self._connection.send(payload)

        await self._rt._arun(send)

    def close(self, code: int | None = 1000, reason: str = "") -> None:
        """Send a close frame (``code=None``: one without a code, which the object sees as
        1005); ``closed`` holds what the other side answered, once it has."""
        if code is not None and not (code == 1000 or 3000 <= code <= 4999):
            raise BadRequest(f"close code {code} cannot be sent: use 1000 or 3000-4999")
        if self._connection.closing or self.closed is not None:
            return
        self._rt._call_in_loop(self._connection.close, 1005 if code is None else code, "" if code is None else reason)

    def drop(self) -> None:
        """Go away without a close frame, as a client whose connection is lost."""
        if not self._connection.closing:
            self._rt._call_in_loop(self._connection.drop)

    def receive(self, timeout: float = 5.0) -> str | bytes:
        """The next message (waiting up to ``timeout`` seconds while the runtime runs
        elsewhere); raises :class:`WebSocketClosed` when the socket closed first and
        ``TimeoutError`` when nothing came."""
        if not self.messages and not self._rt.hosted and self.closed is None:
            self._rt._call_in_loop(lambda: None)  # let background work of the runtime finish
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not self.messages:
                if self.closed is not None:
                    raise WebSocketClosed(f"the WebSocket closed ({self.closed[0]} {self.closed[1]!r})"
                                          " with no message left to receive")
                left = deadline - time.monotonic()
                if left <= 0 or not self._rt.hosted:
                    raise TimeoutError(f"no message on WebSocket #{self.id} within {timeout} s")
                self._arrived.wait(left)
            return self.messages.popleft()

    def receive_all(self) -> list[str | bytes]:
        """Every message that arrived and was not read yet."""
        with self._arrived:
            out = list(self.messages)
            self.messages.clear()
        return out

    def _check_open(self, what: str) -> None:
        if self.closed is not None or self._connection.closing:
            raise WebSocketClosed(f"cannot {what}: WebSocket #{self.id} is closed")

    def __repr__(self) -> str:
        state = "open" if self.closed is None else f"closed {self.closed[0]}"
        return f"<dobj.WebSocket #{self.id} {self.path} {state}, {len(self.messages)} unread>"
