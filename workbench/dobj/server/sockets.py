"""WebSocket connections of ``dobj serve``: the upgrade goes to the Worker, as in ``wrangler dev``.

The upgrade request is handed to the Worker's ``fetch`` (or, under ``/fetch/NS/name/…`` and
``/_dobj/fetch/…``, to one object's). A 101 answer with a WebSocket accepts the connection and
binds it to that socket in the runtime (:meth:`~dobj.runtime.runtime.Runtime.connect_socket`); any other
answer is sent back as the HTTP response refusing the upgrade. Frames from the client become
socket events of the object that holds the other end; what the object sends goes out in order
through one sender task per connection.
"""

from __future__ import annotations

import asyncio
import base64
import logging

from ..errors import DobjError
from .messages import full_url, local_path, request_headers, response_headers, segment

logger = logging.getLogger("dobj.server")

from ..runtime.sockets import MAX_MESSAGE  # noqa: F401  (uvicorn closes with 1009 above it)


class _Outbox:
    """The runtime's view of one client connection: ``deliver`` queues what to send."""

    __slots__ = ("open", "queue")

    def __init__(self) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.open = True

    def deliver(self, item: tuple) -> None:
        if self.open:
            self.queue.put_nowait(item)


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
    connection = _Outbox()
    held = runtime.connect_socket(response, connection, local_path(scope))
    accept = {"type": "websocket.accept"}
    protocol = response.headers.get("sec-websocket-protocol")
    if protocol:
        accept["subprotocol"] = protocol
    await send(accept)
    held.start()
    sender = asyncio.ensure_future(_send_all(connection, send))
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
        sender.cancel()


async def _send_all(connection: _Outbox, send) -> None:
    """Send what the runtime queued for the client, in order, until a close is sent."""
    while True:
        item = await connection.queue.get()
        try:
            if item[0] == "message":
                payload = item[1]
                if payload[:1] == "t":
                    await send({"type": "websocket.send", "text": payload[1:]})
                else:
                    await send({"type": "websocket.send", "bytes": base64.b64decode(payload[1:])})
            else:
                code = item[1] if item[1] not in (1005, 1006) else 1000
                await send({"type": "websocket.close", "code": code, "reason": item[2] if item[1] != 1005 else ""})
                connection.open = False
                return
        except (OSError, RuntimeError):  # the client is gone; the receive loop sees it too
            connection.open = False
            return


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
