"""Rendering command results on a terminal with rich.

Results carry plain data (:mod:`dobj.commands.results`); this module only decides how
they look: values as highlighted JSON, tables with long values folded, fetch replies with
a coloured status, errors as one red line plus the bundle's JavaScript stack. Every value
goes in as :class:`rich.text.Text`, so nothing from a bundle is read as markup.

>>> from io import StringIO
>>> from rich.console import Console
>>> out = StringIO()
>>> render(Console(file=out, width=60), Value({"count": 3}))
>>> out.getvalue().strip()
'{\\n  "count": 3\\n}'
"""

from __future__ import annotations

import json

from rich.console import Console
from rich.highlighter import JSONHighlighter
from rich.json import JSON
from rich.table import Table as RichTable
from rich.text import Text

from .commands.objects import CallResult
from .commands.results import (
    FetchReply, Group, Message, Quit, Result, Table, Value, error_headline, to_json,
)
from .commands.storage import StorageTable
from .commands.timeline import Events
from .errors import DobjError

_json = JSONHighlighter()
_LEVEL_STYLE = {"error": "red", "warn": "yellow", "info": "cyan", "debug": "dim", "log": ""}


def render(console: Console, result: Result | None) -> None:
    """Print one command result."""
    if result is None or isinstance(result, Quit):
        return
    if isinstance(result, Group):
        for part in result.parts:
            render(console, part)
        return
    for kind, show in _RENDERERS:
        if isinstance(result, kind):
            show(console, result)
            return
    console.print(Text(result.to_text()))


def render_error(console: Console, err: BaseException) -> None:
    """An error as one red line, then the JavaScript stack (dim) when there is one."""
    if isinstance(err, DobjError):
        console.print(Text(f"error ({err.code}): {error_headline(err)}", style="bold red"))
        for line in (err.js_stack or "").strip("\n").splitlines():
            console.print(Text(line, style="dim red"))
    else:
        console.print(Text(f"error: {type(err).__name__}: {err}", style="bold red"))


def _value(console: Console, result: Value) -> None:
    if isinstance(result, CallResult):
        _console_lines(console, result.console)
    console.print(JSON(to_json(result.value)))


def _console_lines(console: Console, lines) -> None:
    for level, text in lines:
        console.print(Text(f"[{level}] {text}", style=_LEVEL_STYLE.get(level, "")))


_DONE = ("evicted", "serving", "loaded", "reloaded")


def _message(console: Console, result: Message) -> None:
    console.print(Text(result.text, style="green" if result.text.startswith(_DONE) else ""))


def _fetch(console: Console, reply: FetchReply) -> None:
    style = "green" if reply.status < 300 else "yellow" if reply.status < 500 else "red"
    console.print(Text(f"HTTP {reply.status}", style=f"bold {style}"))
    for name, value in reply.headers.items():
        console.print(Text.assemble((name, "cyan"), ": ", value))
    console.print()
    if "json" in reply.headers.get("content-type", ""):
        try:
            console.print(JSON.from_data(json.loads(reply.body)))
            return
        except ValueError:
            pass
    console.print(Text(reply.text))


def _table(console: Console, table: Table, styles: dict[str, str] | None = None) -> None:
    if not table.rows:
        if table.title:
            console.print(Text(table.title, style="bold"))
        console.print(Text(table.empty, style="dim"))
        return
    grid = RichTable(title=table.title, title_justify="left", title_style="bold", show_lines=False)
    for column in table.columns:
        numeric = column in ("size", "#", "took", "keys", "retry")
        grid.add_column(column, overflow="fold", justify="right" if numeric else "left",
                        style=(styles or {}).get(column, ""), max_width=60)
    for row in table.rows:
        grid.add_row(*[_cell(table, column, value) for column, value in zip(table.columns, row)])
    console.print(grid)


def _cell(table: Table, column: str, value) -> Text:
    text = Text(value if isinstance(value, str) else "" if value is None else to_json(value))
    if isinstance(table, StorageTable) and column == "value":
        _json.highlight(text)
    if isinstance(table, Events) and column == "outcome":
        text.stylize("red" if text.plain.startswith("!!") else "green")
    return text


def _storage(console: Console, table: StorageTable) -> None:
    _table(console, table, {"key": "bold cyan", "type": "dim"})


def _events(console: Console, table: Events) -> None:
    _table(console, table, {"object": "cyan", "kind": "magenta", "took": "dim", "console": "dim"})


_RENDERERS = [
    (Value, _value),
    (FetchReply, _fetch),
    (StorageTable, _storage),
    (Events, _events),
    (Table, _table),
    (Message, _message),
]
