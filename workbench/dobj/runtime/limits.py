"""What the seed dialect's storage accepts: keys, values and their limits.

Keys are strings of well-formed Unicode up to 2048 UTF-8 bytes; values are JSON text of at
most 2 MiB, measured as JavaScript writes it (UTF-8, no ``\\u`` escapes).

>>> check_key("count")
'count'
"""

from __future__ import annotations

import json
import re

from ..errors import BadRequest, PayloadTooLarge

MAX_KEY_BYTES = 2048
MAX_VALUE_BYTES = 2 * 1024 * 1024

_VALUE_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_SURROGATE = re.compile("[\ud800-\udfff]")


def check_key(key: str) -> str:
    """Refuse a key that is not a string, is not well-formed Unicode (holds a lone
    surrogate, which SQLite text cannot hold), or is longer than 2048 UTF-8 bytes."""
    if not isinstance(key, str):
        raise BadRequest(f"storage keys must be strings, not {type(key).__name__}")
    size = len(key) if key.isascii() else len(check_text(key, "storage key").encode("utf-8"))
    if size > MAX_KEY_BYTES:
        raise BadRequest(f"storage key is longer than {MAX_KEY_BYTES} bytes; use a shorter key")
    return key


def check_text(text: str, what: str) -> str:
    """Refuse a string with a lone surrogate (JavaScript allows one, UTF-8 cannot encode it)."""
    if not text.isascii():
        found = _SURROGATE.search(text)
        if found is not None:
            raise BadRequest(
                f"a {what} must be well-formed Unicode: this one holds a lone surrogate"
                f" (\\u{ord(found.group()):04x} at index {found.start()})"
            )
    return text


def check_value(text: str) -> str:
    """Refuse a JSON value text larger than 2 MiB."""
    if len(text) * 4 <= MAX_VALUE_BYTES:
        return text
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_VALUE_BYTES:
        raise PayloadTooLarge(
            f"storage value is {size:,} bytes of JSON; the limit is {MAX_VALUE_BYTES:,} bytes"
            " (2 MiB): split it over several keys"
        )
    return text


def value_json(value) -> str:
    """A Python value as the JSON text ``JSON.stringify`` writes: UTF-8, no ``\\u`` escapes
    except for lone surrogates, so values from Python and JavaScript measure alike.

    >>> value_json({"name": "Zoë", "odd": "\\ud800"})
    '{"name":"Zoë","odd":"\\\\ud800"}'
    """
    try:
        text = _VALUE_JSON.encode(value)
    except (TypeError, ValueError) as exc:
        raise BadRequest(f"storage values must be JSON-serializable: {exc}") from None
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def _prefix_end(prefix: str) -> str | None:
    """The smallest string greater than every string that starts with ``prefix``."""
    while prefix:
        last = ord(prefix[-1])
        if last < 0x10FFFF:
            nxt = last + 1 if last + 1 != 0xD800 else 0xE000
            return prefix[:-1] + chr(nxt)
        prefix = prefix[:-1]
    return None
