"""WebSocket commands: open a client on an object or a Worker path, send, close, list.

Clients live in the interpreter (``interp.clients``, by number). What they receive is not a
result of any command: each message becomes a *notice* (``ws #1 < text``) that the front end
prints as it arrives (the REPL above its prompt, the notebook with the next output).

>>> from dobj.commands import parse
>>> parse("ws send 3 'hello there'").args
{'action': 'send', 'target': '3', 'text': 'hello there', 'code': None, 'headers': {}}
"""

from __future__ import annotations

from typing import Any

from .registry import command
from .results import Message, Table
from .syntax import CommandError, parse_object, split_words

_STATES = ("connecting", "open", "closing", "closed")
_USAGE = "usage: ws NS/name[/path] | ws /path | ws send ID TEXT | ws close ID [CODE] | ws drop ID | ws list"


def _parse_ws(text: str) -> dict[str, Any]:
    words = [w.text for w in split_words(text)]
    args: dict[str, Any] = {"action": "open", "target": None, "text": None, "code": None, "headers": {}}
    if not words:
        raise CommandError(_USAGE)
    head = words[0]
    if head == "list" and len(words) == 1:
        return {**args, "action": "list"}
    if head in ("send", "close", "drop"):
        if len(words) < 2 or not words[1].lstrip("#").isdigit():
            raise CommandError(f"ws {head} needs a socket number (ws list shows them); {_USAGE}")
        args.update(action=head, target=words[1].lstrip("#"))
        if head == "send":
            if len(words) != 3:
                raise CommandError("usage: ws send ID TEXT (quote text with spaces)")
            args["text"] = words[2]
        elif head == "close":
            if len(words) > 3 or (len(words) == 3 and not words[2].isdigit()):
                raise CommandError("usage: ws close ID [CODE] (CODE: 1000 or 3000-4999)")
            args["code"] = int(words[2]) if len(words) == 3 else 1000
        elif len(words) != 2:
            raise CommandError("usage: ws drop ID")
        return args
    rest = words[1:]
    while rest:
        flag = rest.pop(0)
        if flag not in ("-H", "--header") or not rest:
            raise CommandError(_USAGE)
        name, colon, value = rest.pop(0).partition(":")
        if not colon:
            raise CommandError("a header is written 'name: value'")
        args["headers"][name.strip().lower()] = value.strip()
    args["target"] = head
    return args


@command(
    "ws", "ws NS/name[/path] or ws /path", "Open a WebSocket client on an object or a Worker path; send, close, list.",
    parse=_parse_ws,
    details="ws NS/name[/path] sends an upgrade request to the object's fetch, ws /path to the project's"
    " Worker; a 101 answer with a WebSocket opens client #ID. Messages it receives print as they arrive."
    " ws send ID TEXT sends a text message, ws close ID [CODE] a close frame, ws drop ID goes away"
    " without one; ws list shows the open sockets of every object (hibernatable ones keep theirs"
    " across evict).",
    examples=("ws /room/lobby/ws", "ws CHAT_ROOM/lobby/ws", "ws send 1 hello", "ws close 1", "ws list"),
)
def ws(interp, action: str, target: str | None, text: str | None, code: int | None,
       headers: dict[str, str]):
    """Open, use and list WebSocket clients."""
    if action == "list":
        return socket_table(interp)
    if action == "open":
        return _open(interp, target, headers)
    client = interp.clients.get(int(target))
    if client is None:
        known = ", ".join(f"#{n}" for n in sorted(interp.clients)) or "none yet"
        raise CommandError(f"no WebSocket client #{target} (open: {known}); open one with ws /path")
    if action == "send":
        client.send(text)
        return Message(f"ws #{client.id} > {text}", value={"socket": client.id, "sent": text})
    if action == "close":
        client.close(code)
        return Message(f"ws #{client.id} close {code} sent", value={"socket": client.id, "close": code})
    client.drop()
    return Message(f"ws #{client.id} dropped (no close frame)", value={"socket": client.id, "dropped": True})


def _open(interp, target: str, headers: dict[str, str]) -> Message:
    rt = interp.rt
    if not rt.is_project:
        raise CommandError("WebSockets are for Workers projects; this is a CommonJS bundle")

    def arrived(client, data) -> None:
        shown = data if isinstance(data, str) else f"<{len(data)} bytes> {data[:32].hex()}"
        interp.notice(f"ws #{client.id} < {shown}")

    def closed(client, code, reason) -> None:
        interp.notice(f"ws #{client.id} closed: {code} {reason}".rstrip())

    if target.startswith("/"):
        if not rt.has_worker:
            raise CommandError("this project has no Worker: open a socket on an object, ws NS/name/path")
        client = rt.websocket(target, headers=headers, on_message=arrived, on_close=closed)
    else:
        namespace, rest = parse_object(target)
        name, _, path = rest.partition("/")
        client = interp.handle(namespace, name).websocket("/" + path, headers=headers, on_message=arrived,
                                                         on_close=closed)
    interp.clients[client.id] = client
    return Message(f"ws #{client.id} open to {client.path}; ws send {client.id} TEXT sends, messages print as"
                   " they arrive", value={"socket": client.id, "path": client.path})


def socket_table(interp) -> Table:
    """The sockets objects hold, and the workbench's own clients."""
    rows = []
    for row in interp.rt.websockets():
        client = row["client"]
        rows.append([f"#{row['socket']}", row["object"], row["mode"], ", ".join(row["tags"]),
                     _STATES[row["state"]], f"#{client}" if client is not None else "", row["received"],
                     row["sent"]])
    return Table(["socket", "object", "mode", "tags", "state", "client", "received", "sent"], rows,
                 empty="(no open WebSockets)")
