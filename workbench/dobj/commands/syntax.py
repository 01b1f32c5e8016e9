"""The surface syntax of workbench commands: words, object references, calls, JS values.

A command line is either an object form (``COUNTER/global.increment(3)``,
``COUNTER/global``) or a command word followed by shell-like words (``storage
COUNTER/global``, ``put COUNTER/global count 5``). Quotes group words and may appear
inside one (``COUNTER/"my room"``). Arguments of calls and ``put`` values are JavaScript
expressions, evaluated in a scratch QuickJS context and passed on as JSON.

>>> parse_call('COUNTER/global.increment(1 + 2)')
('COUNTER', 'global', 'increment', '1 + 2')
>>> evaluate_args('1 + 2, {a: [1]}')
[3, {'a': [1]}]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from ..errors import BadRequest

_IDENT = re.compile(r"[A-Za-z_$][\w$]*\Z")
_OPENERS = {"(": ")", "[": "]", "{": "}"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
SCRATCH_TIME_LIMIT = 1.0
SCRATCH_MEMORY_LIMIT = 64 << 20


class CommandError(BadRequest):
    """A command line that cannot be understood; the message says how to write it."""


class Incomplete(CommandError):
    """The text ends inside brackets or a template string: more lines are expected."""


@dataclass(frozen=True)
class Word:
    """One shell-like word: its unquoted ``text`` and where it sits in the line."""

    text: str
    start: int
    end: int


def split_words(line: str, limit: int | None = None) -> list[Word]:
    """Split a line into words; quotes group, ``\\`` escapes inside double quotes.

    With ``limit``, stop after that many words (the rest of the line is left unread).

    >>> [w.text for w in split_words('put C/a "my key" \\'x y\\'')]
    ['put', 'C/a', 'my key', 'x y']
    """
    words, i, n = [], 0, len(line)
    while i < n and (limit is None or len(words) < limit):
        if line[i].isspace():
            i += 1
            continue
        start, chars = i, []
        while i < n and not line[i].isspace():
            quote = line[i]
            if quote not in "'\"":
                chars.append(quote)
                i += 1
                continue
            i += 1
            while i < n and line[i] != quote:
                if quote == '"' and line[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(line[i])
                i += 1
            if i >= n:
                raise CommandError(f"unterminated {quote} quote in: {line[start:].strip()}")
            i += 1
        words.append(Word("".join(chars), start, i))
    return words


def quote_word(text: str) -> str:
    """Quote a word when it needs it, so that :func:`split_words` gives it back.

    >>> quote_word("count"), quote_word("my key")
    ('count', "'my key'")
    """
    if text and not any(c.isspace() or c in "'\"\\" for c in text):
        return text
    if "'" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def scan_js(text: str, start: int = 0) -> tuple[int | None, list[str]]:
    """Scan JavaScript from ``start``: strings, templates and brackets.

    Returns ``(end, stack)``: the index just past the bracket that closes the one at
    ``start`` (or None when the text ends first) and the brackets still open. Raises
    :class:`CommandError` on a closing bracket that does not match.
    """
    stack: list[str] = []
    i, n = start, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            i = _skip_string(text, i, stack)
            continue
        if c == "}" and stack and stack[-1] == "${":
            stack.pop()
            i = _skip_string(text, i, stack, resume="`")
            continue
        if c in _OPENERS:
            stack.append(c)
        elif c in _CLOSERS:
            if not stack or stack[-1] != _CLOSERS[c]:
                line, column = line_and_column(text, i)
                raise CommandError(f"unexpected {c!r} {_place(text, line, column)}"
                                   + point_at(text, line, column))
            stack.pop()
            if not stack and start < n and text[start] in _OPENERS:
                return i + 1, stack
        i += 1
    return None, stack


def line_and_column(text: str, index: int) -> tuple[int, int]:
    """1-based line and column of ``text[index]``.

    >>> line_and_column("ab\\ncd", 4)
    (2, 2)
    """
    line = text.count("\n", 0, index) + 1
    return line, index - (text.rfind("\n", 0, index) + 1) + 1


def _place(text: str, line: int, column: int, of: str = "") -> str:
    where = f"at line {line}, column {column}" if "\n" in text else f"at column {column}"
    return where + (f" of {of}" if of else "")


def point_at(text: str, line: int, column: int, width: int = 76) -> str:
    """The line of ``text`` that holds (line, column), and a caret under that column,
    each on a line of its own, indented (a long line is cut around the column).

    >>> print(point_at("f(1, 2 3)", 1, 8))
    <BLANKLINE>
        f(1, 2 3)
               ^
    """
    shown = text.split("\n")[line - 1]
    start = max(0, column - 1 - width // 2) if len(shown) > width else 0
    piece = shown[start:start + width]
    lead = "".join(c if c == "\t" else " " for c in piece[:column - 1 - start])
    return f"\n    {piece}\n    {lead}^"


def _skip_string(text: str, i: int, stack: list[str], resume: str | None = None) -> int:
    """Index just past the string starting at ``i``; an open template is left on the stack."""
    quote = resume or text[i]
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i + 1
        if quote == "`" and text.startswith("${", i):
            stack.append("${")
            return i + 2
        if c == "\n" and quote != "`":
            break
        i += 1
    if quote == "`":
        stack.append("`")
    return len(text)


def is_complete(text: str) -> bool:
    """False while the text ends inside brackets or a template string (keep reading).

    >>> is_complete("C/a.f(1,"), is_complete("C/a.f(1,\\n 2)")
    (False, True)
    """
    try:
        _, stack = scan_js(text)
    except CommandError:
        return True  # let the parser report it
    return not stack


def parse_call(line: str) -> tuple[str, str, str, str] | None:
    """``(namespace, name, method, args_text)`` for ``NS/name.method(args)``, or None
    when the line has no call parentheses."""
    paren = _first_unquoted(line, "(")
    if paren is None:
        return None
    end, stack = scan_js(line, paren)
    if end is None:
        raise Incomplete(f"the call is not closed: {''.join(stack)} still open")
    if line[end:].strip():
        raise CommandError(f"unexpected text after the call: {line[end:].strip()!r}")
    head = split_words(line[:paren])
    if len(head) != 1 or "/" not in head[0].text or "." not in head[0].text.split("/", 1)[1]:
        raise CommandError("a call is written NS/name.method(args), e.g. COUNTER/global.increment(3)")
    namespace, rest = head[0].text.split("/", 1)
    name, method = rest.rsplit(".", 1)
    if not namespace or not name:
        raise CommandError("a call is written NS/name.method(args), e.g. COUNTER/global.increment(3)")
    if not _IDENT.match(method):
        raise CommandError(f"{method!r} is not a method name")
    return namespace, name, method, line[paren + 1:end - 1]


def _first_unquoted(line: str, char: str) -> int | None:
    quote = None
    for i, c in enumerate(line):
        if quote:
            quote = None if c == quote else quote
        elif c in "'\"":
            quote = c
        elif c == char:
            return i
    return None


def parse_object(text: str) -> tuple[str, str]:
    """``(namespace, name)`` of an ``NS/name`` word.

    >>> parse_object("COUNTER/global")
    ('COUNTER', 'global')
    """
    namespace, slash, name = text.partition("/")
    if not slash or not namespace or not name:
        raise CommandError(f"expected an object as NS/name (e.g. COUNTER/global), got {text!r}")
    return namespace, name


_SCRATCH_PRELUDE = """
(function (now) {
  const RealDate = Date;
  class RuntimeDate extends RealDate {
    constructor(...a) { if (a.length === 0) super(now); else super(...a); }
    static now() { return now; }
  }
  globalThis.Date = RuntimeDate;
})(%r);
"""


def _scratch(now_ms: float | None):
    import quickjs

    ctx = quickjs.Context()
    ctx.set_time_limit(SCRATCH_TIME_LIMIT)
    ctx.set_memory_limit(SCRATCH_MEMORY_LIMIT)
    if now_ms is not None:
        ctx.eval(_SCRATCH_PRELUDE % float(now_ms))
    return ctx


_LOCATION = re.compile(r"<input>:(\d+):(\d+)")


def _eval_json(head: str, user_text: str, tail: str, what: str, now_ms: float | None):
    """Evaluate ``head + user_text + tail`` (``head`` ends a line, so the user's text
    starts at line 2, column 1) to JSON; an error points at the user's own text."""
    import quickjs

    try:
        text = _scratch(now_ms).eval(head + user_text + tail)
    except quickjs.JSException as exc:
        message = str(exc).strip()
        first = message.splitlines()[0] if message else "error"
        if "interrupted" in first:
            first = f"did not finish within {SCRATCH_TIME_LIMIT:g}s"
        raise CommandError(f"bad {what}: {first}" + _pointer(message, head, user_text, what)) from None
    if not isinstance(text, str):
        raise CommandError(f"bad {what}: it is not JSON-serializable")
    return json.loads(text)


def _pointer(message: str, head: str, user_text: str, what: str) -> str:
    """`` (column N of the arguments)`` and the user's line with a caret, when the
    engine's first location is inside the user's text; else nothing."""
    found = _LOCATION.search(message)
    if found is None:
        return ""
    line, column = int(found.group(1)) - head.count("\n"), int(found.group(2))
    lines = user_text.split("\n")
    if line == len(lines) + 1 and column == 1:  # the wrapper's closing line: the text ended early
        return f" (at the end of the {what}: is a bracket, brace or string left open?)"
    if not 1 <= line <= len(lines) or not 1 <= column <= len(lines[line - 1]) + 1:
        return ""  # in dobj's wrapper, not in what was typed
    return f" ({_place(user_text, line, column, of='the ' + what)})" + point_at(user_text, line, column)


_ARGS_HEAD = "(function () { return JSON.stringify(Array.prototype.slice.call(arguments)); })(\n"


def evaluate_args(args_text: str, now_ms: float | None = None) -> list:
    """Evaluate call arguments (JavaScript, comma-separated) to a list of JSON values.

    They are evaluated as the arguments of a real call, so what JavaScript refuses in a
    call (``f(1,,2)``) is refused here too. ``Date.now()`` and ``new Date()`` read
    ``now_ms`` (the runtime's clock) when given. An error points at the arguments as
    typed::

        bad arguments: SyntaxError: Unexpected number (at column 3 of the arguments)
            1 2
              ^
    """
    if not args_text.strip():
        return []
    return _eval_json(_ARGS_HEAD, args_text, "\n)", "arguments", now_ms)


def evaluate_value(expr: str, now_ms: float | None = None):
    """Evaluate one JavaScript expression to a JSON value (``undefined`` is refused).

    >>> evaluate_value('{n: 2 * 21}')
    {'n': 42}
    """
    if not expr.strip():
        raise CommandError("expected a value (a JavaScript expression)")
    head = (
        "(function (v) {"
        " if (arguments.length !== 1) throw new SyntaxError('expected one expression');"
        " if (v === undefined) throw new TypeError('the value is undefined');"
        " return JSON.stringify(v); })(\n"
    )
    return _eval_json(head, expr, "\n)", "value", now_ms)
