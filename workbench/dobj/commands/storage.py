"""Commands on an object's storage: show it as a table, put a key, delete a key.

>>> from dobj.commands import parse
>>> parse("put COUNTER/global count 40 + 2").args
{'obj': ('COUNTER', 'global'), 'key': 'count', 'expr': '40 + 2'}
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import did_you_mean
from ..runtime.clock import format_ms
from .registry import command
from .results import Group, Message, Table, to_json
from .syntax import CommandError, evaluate_value, parse_object, split_words


def json_type(value: Any) -> str:
    """The JSON type of a value: null, boolean, number, string, array or object."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, dict)):
        return "array" if isinstance(value, list) else "object"
    return {"set": "Set", "datetime": "Date", "bytes": "bytes"}.get(type(value).__name__, type(value).__name__)


def json_size(value: Any) -> int:
    """Bytes of a value as ``JSON.stringify`` writes it (what the 2 MiB limit counts)."""
    from ..runtime.clone import jsonable

    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=jsonable).encode("utf-8"))


class StorageTable(Table):
    """An object's storage: key, value (as JSON), type and size in bytes."""

    def __init__(self, path: str, items: list[tuple[str, Any]], prefix: str | None = None) -> None:
        rows = []
        for key, value in items:
            text = to_json(value)
            rows.append([key, text, json_type(value), json_size(value)])
        title = f"storage of {path}" + (f" (keys starting {prefix!r})" if prefix else "")
        super().__init__(["key", "value", "type", "size"], rows, title=title, empty="(empty)")
        self.items = list(items)

    @property
    def value(self) -> dict[str, Any]:  # type: ignore[override]
        return dict(self.items)


def storage_table(handle, prefix: str | None = None):
    """The storage table of an object handle, with its SQL tables in a Workers project."""
    table = StorageTable(handle.path, handle.storage.items(prefix=prefix), prefix)
    tables = handle.sql_tables()
    if not tables:
        return table
    sql = Table(["table", "rows"], [list(t) for t in tables], title=f"SQL tables of {handle.path}")
    return Group([table, sql], value={"kv": table.value, "sql": dict(tables)})


def format_left(seconds: float) -> str:
    """Time left as people say it: ``in 1m 30s``, ``in 250ms``, ``overdue 2s``.

    >>> format_left(90), format_left(0.25), format_left(-2)
    ('in 1m 30s', 'in 250ms', 'overdue 2s')
    """
    prefix = "in" if seconds >= 0 else "overdue"
    s = abs(seconds)
    if s < 1:
        return f"{prefix} {s * 1000:.0f}ms"
    parts, rest = [], s
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            parts.append(f"{int(rest // size)}{unit}")
            rest %= size
    if rest >= 0.5 or not parts:
        parts.append(f"{rest:.3g}s" if rest < 10 and rest != int(rest) else f"{rest:.0f}s")
    return f"{prefix} {' '.join(parts)}"


def alarm_text(rt, due_ms: float | None) -> str:
    """``alarm: 2030-01-01T00:00:05.000Z (in 5s)`` or ``alarm: none``."""
    if due_ms is None:
        return "alarm: none"
    return f"alarm: {format_ms(due_ms)} ({format_left((due_ms - rt.clock.now_ms()) / 1000)})"


@command("storage", "storage NS/name [PREFIX]",
         "Show an object's storage as a table: key, value, type, size.",
         examples=("storage COUNTER/global", "storage COUNTER/global alarm"))
def storage(interp, obj: tuple[str, str], prefix: str | None = None) -> StorageTable:
    """The storage of an object, optionally only keys starting with ``prefix``."""
    return storage_table(interp.handle(*obj), prefix)


def _parse_put(text: str) -> dict[str, Any]:
    words = split_words(text, limit=2)
    expr = text[words[-1].end:].strip() if len(words) == 2 else ""
    if len(words) < 2 or not expr:
        raise CommandError("usage: put NS/name KEY VALUE  (VALUE is a JavaScript expression)")
    return {"obj": parse_object(words[0].text), "key": words[1].text, "expr": expr}


@command("put", "put NS/name KEY VALUE",
         "Store a value under a key (VALUE is a JavaScript expression), as an event of the object.",
         parse=_parse_put, details="Quote a KEY with spaces. The edit is serialized with the"
         " object's other events and shows in the trace.",
         examples=("put COUNTER/global count 41", "put COUNTER/global profile {name: 'Ann', tags: ['a']}"))
def put(interp, obj: tuple[str, str], key: str, expr: str) -> Message:
    """Evaluate ``expr`` and store it under ``key``."""
    handle = interp.handle(*obj)
    value = evaluate_value(expr, interp.rt.clock.now_ms())
    handle.storage[key] = value
    text = to_json(value)
    shown = text if len(text) <= 80 else text[:77] + "..."
    return Message(f"{handle.path}: {key} = {shown}", value=value)


@command("del", "del NS/name KEY", "Delete a key from an object's storage, as an event of the object.",
         examples=("del COUNTER/global count",), aliases=("delete",))
def delete(interp, obj: tuple[str, str], key: str) -> Message:
    """Delete ``key``; an error (with a close key suggested) when it did not exist."""
    handle = interp.handle(*obj)
    try:
        del handle.storage[key]
    except KeyError:
        hint = did_you_mean(key, interp.rt.storage_keys(*obj, limit=10_000))
        raise CommandError(f"{handle.path} has no key {key!r}{hint}") from None
    return Message(f"{handle.path}: deleted {key}", value=True)


def _parse_sql(text: str) -> dict[str, Any]:
    words = split_words(text, limit=1)
    query = text[words[0].end:].strip() if words else ""
    if not words or not query:
        raise CommandError("usage: sql NS/name QUERY  (e.g. sql COUNTER/a SELECT * FROM counter)")
    return {"obj": parse_object(words[0].text), "query": query}


@command("sql", "sql NS/name QUERY",
         "Run SQL in an object's own database (Workers projects), as an event of the object;"
         " shows the rows as a table.",
         parse=_parse_sql, details="The query runs as ctx.storage.sql.exec would run it: several"
         " statements in order, the rows of the last one shown.",
         examples=("sql COUNTER/a SELECT * FROM counter", "sql COUNTER/a UPDATE counter SET value = 0"))
def sql(interp, obj: tuple[str, str], query: str) -> Table:
    """Run ``query`` in the object's database and show what it returned."""
    result = interp.handle(*obj).sql(query)
    rows = [[cell for cell in row] for row in result["rows"]]
    note = f"{len(rows)} row{'s' if len(rows) != 1 else ''}, {result['rows_written']} written"
    return Table(result["columns"] or ["result"], rows or [], title=f"{interp.handle(*obj).path}: {note}",
                 empty="(no rows)")
