"""TypeScript to JavaScript: types stripped by the vendored sucrase, lines kept.

sucrase runs in a QuickJS context of its own (made on first use, once per process, behind
a lock), never in a project's context. Results are cached by content hash in memory and on
disk (``$DOBJ_CACHE_DIR/ts``, by default ``~/.cache/dobj/ts``), so a reload or a new process
re-transforms only the files that changed.

sucrase keeps every line where it was; within a line, removed types shift the columns, so
each result carries sucrase's token-level source map, and :meth:`Stripped.original_column`
maps a column of the output back to the TypeScript source.

>>> out = strip_types("let n: number = 1;\\nexport { n };", "a.ts")
>>> out.code.splitlines()[0], out.original_column(1, 9)
('let n = 1;', 17)
"""

from __future__ import annotations

import bisect
import ctypes
import hashlib
import json
import os
import re
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import _quickjs
import quickjs

from ..errors import DobjError
from .syntax import value_namespace

_VENDOR = Path(__file__).resolve().parent.parent / "vendor" / "sucrase"
_STACK_SIZE = 1024 * 1024  # sucrase may run nested inside a module load: keep its share small
_MEMORY_LIMIT = 256 * 1024 * 1024
_MEMORY_ENTRIES = 4096

_lib = ctypes.CDLL(_quickjs.__file__)
_lib.JS_UpdateStackTop.restype = None
_lib.JS_UpdateStackTop.argtypes = [ctypes.c_void_p]

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}


class TransformError(DobjError):
    """sucrase could not parse a file: ``line`` and ``column`` (1-based) when it knows them."""

    code = "bundle_error"

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message, js_name="SyntaxError")
        self.line, self.column = line, column


@dataclass(frozen=True)
class Stripped:
    """JavaScript made from TypeScript, and the source map that leads back to it."""

    code: str
    mappings: str
    _lines: list = field(default=None, repr=False, compare=False)

    def original_column(self, line: int, column: int) -> int:
        """The TypeScript column (1-based) of ``column`` on ``line`` of the output (1-based).

        Lines are the same in both. A column between two mapped tokens keeps its offset
        from the token before it.
        """
        lines = self._lines
        if lines is None:
            lines = _decode_mappings(self.mappings)
            object.__setattr__(self, "_lines", lines)
        if not 1 <= line <= len(lines) or not lines[line - 1]:
            return column
        segments = lines[line - 1]
        i = bisect.bisect_right(segments, (column - 1, float("inf"))) - 1
        if i < 0:
            return column
        generated, original = segments[i]
        return original + (column - 1 - generated) + 1


def strip_types(source: str, filename: str) -> Stripped:
    """``source`` with its TypeScript types removed; :class:`TransformError` when it does not parse.

    >>> strip_types("const a = 1 as number;", "a.ts").code
    'const a = 1 ;'
    """
    key = hashlib.sha256((_VERSION + "\0" + source).encode("utf-8", "surrogatepass")).hexdigest()
    hit = _memory.get(key)
    if hit is None:
        hit = _read_disk(key)
    if hit is None:
        hit = _transform(source, filename)
        _write_disk(key, hit)
    if len(_memory) >= _MEMORY_ENTRIES:
        _memory.clear()
    _memory[key] = hit
    return hit


def cache_dir() -> Path:
    """Where transformed files are kept between processes (``DOBJ_CACHE_DIR`` overrides it)."""
    base = os.environ.get("DOBJ_CACHE_DIR")
    if base:
        return Path(base) / "ts"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "dobj" / "ts"


_memory: dict[str, Stripped] = {}
_lock = threading.Lock()
_context: quickjs.Context | None = None
_runtime = 0
_strip = None
_VERSION = (_VENDOR / "VERSION").read_text(encoding="utf-8").split("\n")[0]


def _transform(source: str, filename: str) -> Stripped:
    global _context, _runtime, _strip
    from .engine import context_pointers

    where = value_namespace(source)
    if where is not None:  # sucrase would drop it silently (sucrase issue #659)
        raise TransformError(
            "a TypeScript namespace holding values is not supported (it would be dropped);"
            " use an object or a module instead", *where,
        )

    with _lock:
        if _context is None:
            ctx = quickjs.Context()
            ctx.set_memory_limit(_MEMORY_LIMIT)
            ctx.set_max_stack_size(_STACK_SIZE)
            _runtime = context_pointers(ctx)[0]
            _lib.JS_UpdateStackTop(_runtime)
            ctx.eval((_VENDOR / "sucrase.js").read_text(encoding="utf-8"))
            _strip, _context = ctx.eval("sucrase.strip"), ctx
        # The stack limit counts from where this thread entered last: here, maybe deep
        # inside another context's module load, maybe on another thread than before.
        _lib.JS_UpdateStackTop(_runtime)
        try:
            reply = json.loads(_strip(source, filename))
        except quickjs.JSException as exc:  # out of memory or stack: say so, keep the context
            raise TransformError(f"TypeScript could not be transformed: {exc}") from None
    if "error" in reply:
        message = re.sub(r"^Error transforming [^:]*: ", "", reply["error"])
        message = re.sub(r" \(\d+:\d+\)$", "", message)
        loc = reply.get("loc") or {}
        raise TransformError(message, loc.get("line"), loc.get("column"))
    return Stripped(reply["code"], reply["mappings"])


def _read_disk(key: str) -> Stripped | None:
    try:
        data = json.loads((cache_dir() / key[:2] / f"{key}.json").read_text(encoding="utf-8"))
        return Stripped(data["code"], data["mappings"]) if isinstance(data["code"], str) else None
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_disk(key: str, stripped: Stripped) -> None:
    folder = cache_dir() / key[:2]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"code": stripped.code, "mappings": stripped.mappings}, f)
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        pass  # a read-only or full disk only costs a transform next time


def _decode_mappings(mappings: str) -> list[list[tuple[int, int]]]:
    """Per output line, sorted ``(generated column, original column)`` pairs, 0-based.

    The generated column restarts on each line; the original line and column carry on
    from the segment before, across lines (the source map format's deltas).
    """
    lines, original_line, original_column = [], 0, 0
    for text in mappings.split(";"):
        segments, generated = [], 0
        for segment in text.split(","):
            if not segment:
                continue
            values = _vlq(segment)
            generated += values[0]
            if len(values) >= 4:
                original_line += values[2]
                original_column += values[3]
                segments.append((generated, original_column))
        lines.append(sorted(segments))
    return lines


def _vlq(segment: str) -> list[int]:
    values, shift, value = [], 0, 0
    for char in segment:
        digit = _B64[char]
        value += (digit & 31) << shift
        if digit & 32:
            shift += 5
        else:
            values.append(-(value >> 1) if value & 1 else value >> 1)
            shift = value = 0
    return values
