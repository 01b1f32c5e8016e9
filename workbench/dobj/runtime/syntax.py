"""Reading JavaScript just enough: tokens that skip strings, comments, templates and regexes.

Used to tell ES module syntax from CommonJS (:func:`has_module_syntax`), and to find where
a file imports a specifier (:func:`import_position`) or declares a TypeScript namespace.

>>> has_module_syntax("exports.objects = { Counter }; // export default Counter")
False
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_REGEX_AFTER_WORDS = frozenset({
    "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case", "do",
    "else", "yield", "await",
})
_EXPORT_NEXT = frozenset({
    "{", "*", "default", "const", "let", "var", "function", "class", "async", "enum", "type",
    "interface", "declare", "abstract", "namespace",
})
_WORD = re.compile(r"[A-Za-z_$#\u0080-\uffff][\w$\u0080-\uffff]*")
_NUMBER = re.compile(r"[\w.]+")
_CANDIDATE = re.compile(r"\b(?:import|export)\b")
_NAMESPACE = re.compile(r"\b(?:namespace|module)\s+[\w$.]+\s*\{")
_VALUE_WORDS = frozenset({"const", "let", "var", "function", "class", "enum"})
_SPACE = re.compile(r"(?:\s+|//[^\n]*|/\*.*?\*/)+", re.DOTALL)


def has_module_syntax(source: str) -> bool:
    """Whether JavaScript ``source`` holds an ``import`` or ``export`` statement.

    Strings, template literals, comments and regular expressions are skipped, and
    ``import(...)``, ``import.meta`` and ``obj.export`` are not statements.

    >>> has_module_syntax('export class Counter {}')
    True
    >>> has_module_syntax('// export default x\\nexports.objects = { s: "import x from y" };')
    False
    """
    if not _CANDIDATE.search(source):
        return False
    before, pending = "", ""
    for kind, text, _ in tokens(source):
        if pending == "export" and text in _EXPORT_NEXT:
            return True
        if pending == "import" and (kind in ("word", "string") or text in ("{", "*")):
            return True
        pending = text if kind == "word" and text in ("import", "export") and before not in (".", "?.") else ""
        before = text
    return False


def tokens(source: str) -> Iterator[tuple[str, str, int]]:
    """``(kind, text, offset)`` of the words, strings, numbers and punctuators of ``source``.

    Comments are skipped; a string, template or regex is one token with empty text.
    """
    last: tuple[str, str] | None = None
    i, n = 0, len(source)
    if source.startswith("#!"):
        i = source.find("\n") if "\n" in source else n
    braces: list[bool] = []  # True where a "${" of a template opened the brace
    while i < n:
        m = _SPACE.match(source, i)
        if m:
            i = m.end()
            continue
        c, start = source[i], i
        if c in "'\"":
            i = _skip_string(source, i + 1, c)
            last = ("string", "")
        elif c == "`" or (c == "}" and braces and braces[-1]):
            if c == "}":
                braces.pop()
            i = _skip_template(source, i + 1, braces)
            last = ("string", "")
        elif c == "/" and _regex_allowed(last):
            i = _skip_regex(source, i + 1)
            last = ("regex", "")
        elif (m := _WORD.match(source, i)) is not None:
            last = ("word", m.group())
            i = m.end()
        elif c.isdigit():
            m = _NUMBER.match(source, i)
            last = ("number", m.group())
            i = m.end()
        else:
            if c == "{":
                braces.append(False)
            elif c == "}" and braces:
                braces.pop()
            text = "?." if source.startswith("?.", i) else c
            last = ("punct", text)
            i += len(text)
        yield (*last, start)


def _regex_allowed(last: tuple[str, str] | None) -> bool:
    if last is None:
        return True
    kind, text = last
    if kind == "word":
        return text in _REGEX_AFTER_WORDS
    return kind == "punct" and text not in (")", "]")


def _skip_string(source: str, i: int, quote: str) -> int:
    n = len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
        elif c == quote or c == "\n":
            return i + 1
        else:
            i += 1
    return n


def _skip_template(source: str, i: int, braces: list[bool]) -> int:
    n = len(source)
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
        elif c == "`":
            return i + 1
        elif c == "$" and source.startswith("${", i):
            braces.append(True)
            return i + 2
        else:
            i += 1
    return n


def _skip_regex(source: str, i: int) -> int:
    n, in_class = len(source), False
    while i < n:
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if c == "\n":
            return i
        if c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "/" and not in_class:
            return i + 1
        i += 1
    return n


def import_position(source: str, specifier: str) -> tuple[int, int]:
    """Line and column (1-based) of ``specifier``'s quote in an import of ``source``, or (0, 0).

    >>> import_position('import a from "./a";\\nimport { b } from "./b.ts";', "./b.ts")
    (2, 19)
    """
    quoted = re.escape(specifier)
    pattern = re.compile(r"(?:\bfrom|\bimport)\s*\(?\s*(['\"])" + quoted + r"\1")
    m = pattern.search(source)
    if m is None:
        return 0, 0
    at = m.start(1)
    line = source.count("\n", 0, at) + 1
    return line, at - (source.rfind("\n", 0, at) + 1) + 1


def value_namespace(source: str) -> tuple[int, int] | None:
    """Line and column of a TypeScript ``namespace``/``module`` block that declares values.

    >>> value_namespace("namespace T { export type Id = string }\\nnamespace V { export const x = 1 }")
    (2, 1)
    """
    if not _NAMESPACE.search(source):
        return None
    found = list(tokens(source))
    for i, (kind, text, at) in enumerate(found):
        if kind != "word" or text not in ("namespace", "module") or i + 2 >= len(found):
            continue
        before = found[i - 1][1] if i else ";"
        if before not in (";", "}", "{", "export") or (i >= 2 and found[i - 2][1] == "declare"):
            continue
        j = i + 1
        while j < len(found) and (found[j][0] == "word" or found[j][1] == "."):
            j += 1
        if j == i + 1 or j >= len(found) or found[j][1] != "{":
            continue
        depth = 0
        for kind2, text2, _ in found[j:]:
            depth += {"{": 1, "}": -1}.get(text2, 0) if kind2 == "punct" else 0
            if depth == 0:
                break
            if kind2 == "word" and text2 in _VALUE_WORDS:
                line = source.count("\n", 0, at) + 1
                return line, at - (source.rfind("\n", 0, at) + 1) + 1
    return None
