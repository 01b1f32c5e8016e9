"""WebSocket connections of ``dobj serve``: the upgrade goes to the Worker, as in ``wrangler dev``.

The upgrade request is handed to the Worker's ``fetch`` (or, under ``/fetch/NS/name/…`` and
``/_dobj/fetch/…``, to one object's). A 101 answer with a WebSocket accepts the connection and
binds it to that socket in the runtime (:meth:`~dobj.runtime.runtime.Runtime.connect_socket`);
any other answer is sent back as the HTTP response refusing the upgrade. Frames from the
client become socket events of the object that holds the other end; what the object sends
goes out at once, in order (:class:`_Outbox`).
"""

from __future__ import annotations

import asyncio
import base64
import logging
from collections import deque

from ..errors import DobjError
from ..runtime.driving import resume, step
from .messages import full_url, local_path, request_headers, response_headers, segment

logger = logging.getLogger("dobj.server")


class _Outbox:
    """What the runtime sends one client, sent at once and in order.

    ``deliver`` runs on the loop, often while an object's handler runs: the ASGI ``send`` is
    stepped by hand (it usually writes and returns without waiting), and only a send that has
    to wait (flow control) goes on as a task, with whatever comes meanwhile behind it.
    """

    __slots__ = ("backlog", "open", "send", "task")

    def __init__(self, send) -> None:
        self.send = send
        self.open = True
        self.backlog: deque | None = None  # while a send waits: the items after it
        self.task: asyncio.Future | None = None  # that send, finishing
    def deliver(self, item: tuple) -> None:
        if not self.open:
            return
        if self.backlog is not None:
            self.backlog.append(item)
            return
        self._send(item)

    def _send(self, item: tuple) -> None:
        if item[0] != "message":
            self.open = False  # a close is the last thing sent
        coro = self.send(_message(item))
        try:
            finished, waiting_on = step(coro)
        except (OSError, RuntimeError):  # the client is gone; the receive loop sees it too
            self.open = False
            return
        if not finished:
            self.backlog = deque()
            self.task = asyncio.ensure_future(self._finish(coro, waiting_on))

    async def _finish(self, coro, waiting_on) -> None:
        try:
            await resume(coro, waiting_on)
            while self.backlog and self.open:
                item = self.backlog.popleft()
                if item[0] != "message":
                    self.open = False
                await self.send(_message(item))
        except (OSError, RuntimeError):
            self.open = False
        finally:
            self.backlog = self.task = None


def _message(item: tuple) -> dict:
    """The ASGI message for what the runtime sends: a message, or a close frame."""
    if item[0] == "message":
        payload = item[1]
        if payload[:1] == "t":
            return {"type": "websocket.send", "text": payload[1:]}
        return {"type": "websocket.send", "bytes": base64.b64decode(payload[1:])}
    code = item[1] if item[1] not in (1005, 1006) else 1000
    return {"type": "websocket.close", "code": code, "reason": item[2] if item[1] != 1005 else ""}


async def serve_websocket(gateway, scope, receive, send) -> None:
    """Run one WebSocket connection from its upgrade to its close."""
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    runtime = gateway.runtime
    try:
        response = await _upgrade(gateway, scope)
    except DobjError as err:
        await _refuse(scope, send, err.http_status, err.message.encode("utf-8"), [(b"content-type", b"text/plain")])
        return
    if response.status != 101 or response.web_socket is None:
        await _refuse(scope, send, response.status, response.body, response_headers(response.headers))
        return
    connection = _Outbox(send)
    held = runtime.connect_socket(response, connection, local_path(scope))
    accept = {"type": "websocket.accept"}
    protocol = response.headers.get("sec-websocket-protocol")
    if protocol:
        accept["subprotocol"] = protocol
    await send(accept)
    held.start()
    del response, accept, message  # an idle connection keeps no more than it needs
    try:
        while True:
            message = await receive()
            kind = message["type"]
            if kind == "websocket.receive":
                text = message.get("text")
                payload = "t" + text if text is not None else "b" + base64.b64encode(message.get("bytes") or b"").decode()
                held.send(payload)
            elif kind == "websocket.disconnect":
                connection.open = False
                code = message.get("code", 1005)
                if code == 1009:  # uvicorn refused a message over MAX_MESSAGE and closed
                    held.too_large()
                # uvicorn (websockets-sansio) tells a lost connection by a disconnect without
                # "reason"; a close frame always brings one ("" when it had none)
                elif code == 1006 or "reason" not in message:
                    held.drop()
                else:
                    held.close(code, message.get("reason") or "")
                return
    finally:
        connection.open = False
        if not held.closing:
            held.drop()


async def _upgrade(gateway, scope):
    """The answer of the Worker (or the object the path names) to the upgrade request."""
    headers = request_headers(scope)
    query = scope.get("query_string", b"").decode("latin-1")
    plain = dict(scope, scheme={"wss": "https"}.get(scope.get("scheme"), "http"))
    url = full_url(plain, headers.get("host"), query)
    path = local_path(scope)
    runtime = gateway.runtime
    if runtime.has_worker and not path.startswith("/_dobj/"):
        origin, _, rest = url.partition("://")
        host_end = rest.find("/")
        return await runtime.afetch(rest[host_end:], headers=headers, origin=f"{origin}://{rest[:host_end]}")
    parts = path.removeprefix("/_dobj").split("/")
    if len(parts) < 4 or parts[1] != "fetch" or not runtime.is_project:
        raise _NoSocket(f"no WebSocket route for {path}: open one through the Worker, or at"
                        " /fetch/:namespace/:objectName/*path of a Workers project")
    handle = gateway._handle(parts[2], parts[3])
    rest = "/" + "/".join(segment(p) for p in parts[4:])
    return await handle.afetch(rest, query=query, headers=headers, url=url)


class _NoSocket(DobjError):
    code = "not_found"
    http_status = 404


async def _refuse(scope, send, status: int, body: bytes, headers) -> None:
    """Answer the upgrade with a plain HTTP response (or a close when the server cannot)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": 1008})
