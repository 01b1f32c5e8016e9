"""Commands about objects: call a method, look at one, fetch it, list them, evict one.

>>> from dobj.commands import parse
>>> parse("fetch POST COUNTER/global/count 'hi' -H 'x-a: 1'").args["headers"]
{'x-a': '1'}
"""

from __future__ import annotations

from typing import Any

from ..runtime.bundle import ClassInfo
from .registry import command
from .results import FetchReply, Group, Message, Table, Value
from .storage import alarm_text, storage_table
from .syntax import CommandError, evaluate_args, parse_call, parse_object, split_words

_NONE = ClassInfo("", "", ())
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


class CallResult(Value):
    """What a method returned, with the console lines the call printed."""

    def __init__(self, value: Any, console: list[tuple[str, str]]) -> None:
        super().__init__(value)
        self.console = console

    def to_text(self) -> str:
        lines = [f"[{level}] {text}" for level, text in self.console]
        return "\n".join(lines + [super().to_text()])


def _parse_call(line: str) -> dict[str, Any]:
    namespace, name, method, args_text = parse_call(line)
    return {"obj": (namespace, name), "method": method, "args_text": args_text}


@command(
    "call", "NS/name.method(ARGS...)", "Call an RPC method of an object; prints the result.",
    parse=_parse_call, form=True,
    details="The arguments are JavaScript expressions (evaluated apart from the bundle,"
    " with Date on the runtime clock) and passed as JSON. Brackets may span several lines.",
    examples=("COUNTER/global.increment(3)", "CHAT_ROOM/lobby.post({user: 'ann', text: 'hi'})"),
)
def call(interp, obj: tuple[str, str], method: str, args_text: str) -> CallResult:
    """Call ``method`` of ``obj`` with arguments written in JavaScript."""
    handle = interp.handle(*obj)
    args = evaluate_args(args_text, interp.rt.clock.now_ms())
    event = handle.call_event(method, *args)
    if event.error is not None:
        raise event.error
    return CallResult(event.result, list(event.console))


def _parse_view(line: str) -> dict[str, Any]:
    words = split_words(line)
    if len(words) != 1:
        raise CommandError("usage: NS/name (to call a method: NS/name.method(args))")
    return {"obj": parse_object(words[0].text), "bare": not any(q in line for q in "'\"")}


@command(
    "object", "NS/name", "Show an object: its methods, its storage table and its alarm.",
    parse=_parse_view, form=True, examples=("COUNTER/global",),
)
def view(interp, obj: tuple[str, str], bare: bool = False) -> Group:
    """An object's class, methods, storage and alarm.

    ``COUNTER/global.increment`` (unquoted, ending in a method name) is taken for a call
    without parentheses and refused with a hint, rather than shown as an empty object.
    """
    namespace, name = obj
    method = name.rpartition(".")[2]
    if bare and "." in name and method in interp.rt.namespaces.get(namespace, _NONE).methods:
        raise CommandError(f"to call {method}, write {namespace}/{name}(); to see an object with"
                           f" this name, quote it: {namespace}/'{name}'")
    handle = interp.handle(*obj)
    info = interp.rt.namespaces[obj[0]]
    state = "live" if handle.live else "not live"
    methods, handled = info.rpc_methods, info.handlers
    lines = [f"{handle.path}  ({info.export}, {state})", f"methods: {', '.join(methods) or '(none)'}"]
    if handled:
        lines.append(f"handlers: {', '.join(handled)}")
    head = Message("\n".join(lines))
    table = storage_table(handle)
    alarm = Message(alarm_text(interp.rt, handle.alarm))
    value = {"object": handle.path, "class": info.export, "live": handle.live, "methods": list(methods),
             "handlers": list(handled), "storage": table.value, "alarm": handle.alarm}
    return Group([head, table, alarm], value=value)


def _parse_fetch(text: str) -> dict[str, Any]:
    words = [w.text for w in split_words(text)]
    headers: dict[str, str] = {}
    positional: list[str] = []
    while words:
        word = words.pop(0)
        if word in ("-H", "--header"):
            if not words:
                raise CommandError("-H needs a header, e.g. -H 'content-type: text/plain'")
            name, colon, value = words.pop(0).partition(":")
            if not colon or not name.strip():
                raise CommandError("a header is written 'name: value'")
            headers[name.strip().lower()] = value.strip()
        else:
            positional.append(word)
    method = None
    if positional and "/" not in positional[0] and positional[0].upper() in _METHODS:
        method = positional.pop(0).upper()
    if not positional or not 1 <= len(positional) <= 2:
        raise CommandError("usage: fetch [METHOD] [NS/name]/path [BODY] [-H 'name: value']...")
    body = positional[1] if len(positional) == 2 else None
    method = method or ("POST" if body is not None else "GET")
    if positional[0].startswith("/"):  # no object: the project's Worker
        return {"obj": None, "path": positional[0], "method": method, "body": body, "headers": headers}
    namespace, rest = parse_object(positional[0])
    name, _, path = rest.partition("/")
    return {"obj": (namespace, name), "path": "/" + path, "method": method, "body": body,
            "headers": headers}


@command(
    "fetch", "fetch [METHOD] [NS/name]/path [BODY] [-H 'name: value']...",
    "Send a fake HTTP request to an object's fetch(req), or with /path alone to the Worker"
    " of a Workers project; prints status, headers and body.",
    parse=_parse_fetch,
    details="METHOD defaults to GET, or POST when a BODY is given. Quote a BODY with spaces.",
    examples=("fetch COUNTER/global/count", "fetch POST COUNTER/global/echo 'hello' -H 'x-demo: 1'",
              "fetch POST /counter/a/increment"),
)
def fetch(interp, obj, path: str, method: str, body: str | None, headers: dict) -> FetchReply:
    """Deliver a request to the object's ``fetch(req)``, or to the Worker (``obj`` None)."""
    if obj is None:
        if not interp.rt.has_worker:
            raise CommandError(f"{interp.rt.bundle_path.name} has no Worker to fetch {path} from;"
                               " fetch an object instead: fetch NS/name/path")
        reply = interp.rt.fetch(path, method=method, headers=headers, body=body)
    else:
        reply = interp.handle(*obj).fetch(path, method=method, headers=headers, body=body)
    return FetchReply(reply.status, reply.headers, reply.body)


@command("objects", "objects", "List namespaces with their class, methods and handlers, and every"
         " object that is live or has storage.",
         details="Objects stored under a namespace the bundle no longer exports are listed"
         " apart, as orphaned; their storage stays in the data folder.")
def objects(interp) -> Group:
    """Namespaces and objects of the runtime (key counts asked of SQLite, no value read)."""
    rt = interp.rt
    spaces = namespaces_table(rt.namespaces)
    alarms = {a["object"]: a["due"] for a in rt.alarms()}
    counts = rt.key_counts()
    rows, orphans = [], []
    for namespace, name in rt.objects():
        path = f"{namespace}/{name}"
        keys, alarm = counts.get((namespace, name), 0), alarms.get(path, "")
        if namespace in rt.namespaces:
            rows.append([path, "yes" if rt.get(namespace, name).live else "no", keys, alarm])
        else:
            orphans.append([path, keys, alarm])
    objs = Table(["object", "live", "keys", "alarm"], rows, title="objects",
                 empty="(no objects yet: call one, e.g. NS/name.method())")
    parts = [spaces, objs]
    value = {"namespaces": {ns: list(c.rpc_methods) for ns, c in rt.namespaces.items()},
             "handlers": {ns: list(c.handlers) for ns, c in rt.namespaces.items()},
             "objects": objs.value}
    if orphans:
        gone = sorted({row[0].split("/", 1)[0] for row in orphans})
        parts.append(Table(["object", "keys", "alarm"], orphans,
                           title=f"orphaned objects: stored under {', '.join(gone)},"
                           f" which {rt.bundle_path.name} does not export"))
        value["orphaned"] = parts[-1].value
    return Group(parts, value=value)


def namespaces_table(namespaces) -> Table:
    """Namespaces with their class and RPC methods; their handlers in a column of their own
    when any class has one (``fetch`` and ``alarm`` are not called by RPC)."""
    rows = [[ns, c.export, ", ".join(c.rpc_methods), ", ".join(c.handlers)]
            for ns, c in namespaces.items()]
    columns = ["namespace", "class", "methods", "handlers"]
    if not any(row[3] for row in rows):
        columns, rows = columns[:3], [row[:3] for row in rows]
    return Table(columns, rows, title="namespaces")


@command("evict", "evict NS/name", "Drop an object's in-memory instance; its storage stays.",
         examples=("evict COUNTER/global",))
def evict(interp, obj: tuple[str, str]) -> Message:
    """Evict an instance: the next event constructs it again."""
    handle = interp.handle(*obj)
    was_live = handle.evict()
    text = f"evicted {handle.path}" if was_live else f"{handle.path} was not live"
    return Message(text, value=was_live)
