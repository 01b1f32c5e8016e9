"""Result objects: what commands return, as plain data with a text and an HTML view.

Every result keeps its plain data in ``.value``; ``str(result)`` is the plain-text
rendering (no colour, for pipes and logs) and ``_repr_html_()`` the HTML one (every value
escaped). ``cell_value()`` is what a notebook cell shows: the plain value for a call, the
result itself (rendered as HTML) for tables.

>>> print(Table(["key", "value"], [["count", 3]]))
key    value
-----  -----
count  3
"""

from __future__ import annotations

import html
import json
import textwrap
from typing import Any

from ..errors import DobjError

FOLD_WIDTH = 60


def to_json(value: Any, indent: int | None = None) -> str:
    """JSON text as the workbench shows values (unicode kept, keys in their order); the
    structured clones of Workers projects show as their nearest JSON (sets as arrays,
    dates as ISO-8601 text, bytes as base64)."""
    from ..runtime.clone import jsonable

    return json.dumps(value, ensure_ascii=False, indent=indent, default=jsonable)


def cell_text(value: Any) -> str:
    """How one table cell reads: strings as they are, everything else as JSON."""
    if value is None:
        return ""
    return value if isinstance(value, str) else to_json(value)


def fold(text: str, width: int = FOLD_WIDTH) -> list[str]:
    """Split a cell's text into lines of at most ``width`` characters, at spaces if it can.

    >>> fold("one two three", 8)
    ['one two', 'three']
    """
    lines = []
    for line in text.splitlines() or [""]:
        lines.extend(textwrap.wrap(line, width, replace_whitespace=False, break_on_hyphens=False) or [""])
    return lines


class Result:
    """Base of every command result."""

    value: Any = None

    def to_text(self) -> str:
        """Plain text, without colour codes."""
        raise NotImplementedError

    def to_html(self) -> str:
        """HTML with every value escaped."""
        return f"<pre>{html.escape(self.to_text())}</pre>"

    def cell_value(self) -> Any:
        """What a notebook cell should show for this result."""
        return self

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_text()[:60]!r}>"


class Value(Result):
    """A JSON value, e.g. what a method returned."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def to_text(self) -> str:
        text = to_json(self.value)
        return text if len(text) <= 80 else to_json(self.value, indent=2)

    def cell_value(self) -> Any:
        return self.value


class Message(Result):
    """A short report (``evicted COUNTER/global``); ``value`` may carry data beside it."""

    def __init__(self, text: str, value: Any = None) -> None:
        self.text = text
        self.value = text if value is None else value

    def to_text(self) -> str:
        return self.text


class Quit(Message):
    """Asks the front end to end the session."""

    def __init__(self) -> None:
        super().__init__("bye")


class Table(Result):
    """Rows under named columns; ``value`` is a list of dicts."""

    def __init__(self, columns: list[str], rows: list[list[Any]], title: str | None = None,
                 empty: str = "(none)") -> None:
        self.columns, self.rows, self.title, self.empty = columns, rows, title, empty

    @property
    def value(self) -> list[dict]:  # type: ignore[override]
        return [dict(zip(self.columns, row)) for row in self.rows]

    def to_text(self) -> str:
        head = [self.title] if self.title else []
        if not self.rows:
            return "\n".join(head + [self.empty])
        cells = [[fold(cell_text(c)) for c in row] for row in self.rows]
        widths = [max([len(col)] + [len(line) for row in cells for line in row[i]])
                  for i, col in enumerate(self.columns)]
        lines = head + [_line(self.columns, widths), _line(["-" * w for w in widths], widths)]
        for row in cells:
            for k in range(max(len(c) for c in row)):
                lines.append(_line([c[k] if k < len(c) else "" for c in row], widths))
        return "\n".join(lines)

    def to_html(self) -> str:
        esc = html.escape
        caption = f"<caption>{esc(self.title)}</caption>" if self.title else ""
        if not self.rows:
            return f"<table>{caption}<tr><td>{esc(self.empty)}</td></tr></table>"
        head = "".join(f"<th>{esc(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td><code>{esc(cell_text(c))}</code></td>" for c in row) + "</tr>"
            for row in self.rows
        )
        return f"<table>{caption}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()


class Group(Result):
    """Several results shown one after the other; ``value`` is chosen by the command."""

    def __init__(self, parts: list[Result], value: Any = None) -> None:
        self.parts = parts
        self.value = [p.value for p in parts] if value is None else value

    def to_text(self) -> str:
        return "\n\n".join(p.to_text() for p in self.parts)

    def to_html(self) -> str:
        return "\n".join(p.to_html() for p in self.parts)


class FetchReply(Result):
    """What an object's ``fetch(req)`` answered: status, headers and body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, dict(headers), body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    @property
    def value(self) -> dict:  # type: ignore[override]
        return {"status": self.status, "headers": self.headers, "body": self.text}

    def to_text(self) -> str:
        head = [f"HTTP {self.status}"] + [f"{k}: {v}" for k, v in self.headers.items()]
        return "\n".join(head) + "\n\n" + self.text


def error_text(err: BaseException) -> str:
    """An error as plain text: one line, then the JavaScript stack when there is one.

    >>> from dobj.errors import BadRequest
    >>> error_text(BadRequest("no such key"))
    'error: no such key'
    """
    if isinstance(err, DobjError):
        line = f"error: {error_headline(err)}"
        stack = (err.js_stack or "").strip("\n")
        return line + ("\n" + stack if stack else "")
    return f"error: {type(err).__name__}: {err}"


def error_headline(err: DobjError) -> str:
    """The error's message after the JavaScript error's name, unless the message names it
    already (a bundle that fails to load says ``c.js:1:16: SyntaxError: ...``).

    >>> from dobj.errors import BundleError, ExecutionError
    >>> error_headline(ExecutionError("bad thing", js_name="TypeError"))
    'TypeError: bad thing'
    >>> error_headline(BundleError("c.js:1:16: SyntaxError: missing formal parameter", js_name="SyntaxError"))
    'c.js:1:16: SyntaxError: missing formal parameter'
    """
    name = err.js_name
    if not name or err.message.startswith(f"{name}: ") or f": {name}: " in err.message:
        return err.message
    return f"{name}: {err.message}"
