"""Modules made from files that are not JavaScript, by wrangler's default module rules.

- ``.json``: the parsed value as the default export, and each top-level key that is an
  identifier as a named export (as esbuild does);
- Text (``.txt``, ``.html``, ``.sql``): the file's text as the default export;
- Data (``.bin``): an ``ArrayBuffer`` of the file's bytes as the default export.

>>> print(text_module('<p class="x">hi</p>'), end="")
export default "<p class=\\"x\\">hi</p>";
"""

from __future__ import annotations

import base64
import json
import re

from .transform import TransformError

_IDENTIFIER = re.compile(r"[A-Za-z_$][\w$]*\Z")
_RESERVED = frozenset({  # names a JSON key cannot be exported as
    "break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do",
    "else", "enum", "export", "extends", "false", "finally", "for", "function", "if", "import",
    "in", "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try",
    "typeof", "var", "void", "while", "with", "yield", "let", "static", "implements", "interface",
    "package", "private", "protected", "public", "await", "arguments", "eval",
})


def text_module(text: str) -> str:
    """A module whose default export is ``text``."""
    return f"export default {json.dumps(text)};\n"


def data_module(data: bytes) -> str:
    """A module whose default export is an ``ArrayBuffer`` holding ``data``."""
    return _DATA_MODULE.replace("@DATA@", base64.b64encode(data).decode())


def json_module(text: str) -> str:
    """A module exporting the JSON value of ``text``; :class:`TransformError` if it is not JSON."""
    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    try:
        value = json.loads(text, parse_constant=refuse)
    except json.JSONDecodeError as exc:
        raise TransformError(f"invalid JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except ValueError as exc:
        raise TransformError(f"invalid JSON: {exc}") from None
    lines = [f"const value = JSON.parse({json.dumps(text)});", "export default value;"]
    if isinstance(value, dict):
        for key in value:
            if _IDENTIFIER.match(key) and key not in _RESERVED:
                lines.append(f"export const {key} = value[{json.dumps(key)}];")
    return "\n".join(lines) + "\n"


# A Data module (wrangler's rule for .bin files): its default export is an ArrayBuffer.
_DATA_MODULE = """const text = "@DATA@";
const table = new Uint8Array(128);
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
const size = (text.length / 4) * 3 - (text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0);
const bytes = new Uint8Array(size);
for (let i = 0, j = 0; i < text.length; i += 4) {
  const n = (table[text.charCodeAt(i)] << 18) | (table[text.charCodeAt(i + 1)] << 12)
    | (table[text.charCodeAt(i + 2)] << 6) | table[text.charCodeAt(i + 3)];
  if (j < size) bytes[j++] = (n >> 16) & 255;
  if (j < size) bytes[j++] = (n >> 8) & 255;
  if (j < size) bytes[j++] = n & 255;
}
export default bytes.buffer;
"""
