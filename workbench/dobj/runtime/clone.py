"""Structured-clone values between Python and Cloudflare-style objects.

JavaScript serializes a value to a JSON-safe list of records (the format is described at
the top of ``js/web/clone.js``); this module reads and writes the same records, so RPC
results come back as their Python equivalents and Python arguments reach JavaScript as the
values a stub call would carry:

=====================  ===============================
JavaScript             Python
=====================  ===============================
undefined, null        None
Map                    dict (a list of pairs when a key is not hashable)
Set                    set (a list when a member is not hashable)
Date                   datetime (UTC; None when invalid)
BigInt                 int
ArrayBuffer, Uint8Array, DataView   bytes
other typed arrays     list of numbers
Error, DOMException    :class:`ErrorValue`
RegExp                 :class:`RegExpValue`
=====================  ===============================

>>> decode(encode({"when": datetime(2030, 1, 1, tzinfo=timezone.utc), "tags": {"a"}}))
{'when': datetime.datetime(2030, 1, 1, 0, 0, tzinfo=datetime.timezone.utc), 'tags': {'a'}}
"""

from __future__ import annotations

import base64
import json
import math
import struct
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..errors import BadRequest

_SPECIAL = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf, "-0": -0.0}
_VIEW_FORMATS = {
    "Int8Array": "b", "Int16Array": "h", "Uint16Array": "H", "Int32Array": "i", "Uint32Array": "I",
    "Float32Array": "f", "Float64Array": "d", "BigInt64Array": "q", "BigUint64Array": "Q",
    "Float16Array": "e",
}
_SAFE_INT = 2 ** 53


@dataclass(frozen=True)
class ErrorValue:
    """A JavaScript error that crossed as a value (not thrown)."""

    name: str
    message: str
    stack: str = ""


@dataclass(frozen=True)
class RegExpValue:
    """A JavaScript regular expression: its source and flags."""

    source: str
    flags: str


@dataclass(frozen=True)
class FunctionValue:
    """A JavaScript function sent over RPC (a stub in JavaScript; Python cannot call it)."""

    id: int

    def __repr__(self) -> str:
        return "<JavaScript function sent over RPC>"


def decode_text(text: str) -> Any:
    """A Python value from the JSON text of clone records."""
    records = json.loads(text)
    if len(records) == 1 and records[0][0] == 0:  # one primitive: the usual result
        return records[0][1]
    return decode(records)


def decode(records: list) -> Any:
    """A Python value from clone records (shared and cyclic references kept)."""
    done: dict[int, Any] = {}

    def value(i: int) -> Any:
        if i in done:
            return done[i]
        rec = records[i]
        tag = rec[0]
        if tag == 0:
            return rec[1]
        if tag == -1:
            return None
        if tag == 1:
            out = done[i] = []
            out.extend(value(j) for j in rec[1])
            return out
        if tag == 10:
            out = done[i] = [None] * rec[1]
            for key, j in rec[2]:
                if key.isdigit() and int(key) < rec[1]:
                    out[int(key)] = value(j)
            return out
        if tag in (2, 15):  # an object (15: a stored Request, its own keys as an object's)
            out = done[i] = {}
            for key, j in rec[1 if tag == 2 else 2]:
                out[key] = value(j)
            return out
        if tag == 5:
            pairs = [(value(a), value(b)) for a, b in rec[1]]
            try:
                out = dict(pairs)
            except TypeError:
                out = pairs
            done[i] = out
            return out
        if tag == 6:
            members = [value(j) for j in rec[1]]
            try:
                out = set(members)
            except TypeError:
                out = members
            done[i] = out
            return out
        out = done[i] = _leaf(rec, records, value)
        return out

    return value(0)


def _leaf(rec: list, records: list, value) -> Any:
    tag = rec[0]
    if tag == 3:
        return None if rec[1] is None else datetime.fromtimestamp(rec[1] / 1000.0, tz=timezone.utc)
    if tag == 4:
        return RegExpValue(rec[1], rec[2])
    if tag in (7, 14):
        return ErrorValue(rec[1], rec[2], rec[3] or "")
    if tag == 8:
        return int(rec[1])
    if tag == 9:
        return _SPECIAL[rec[1]]
    if tag == 11:
        return base64.b64decode(rec[1])
    if tag == 12:
        kind, buffer, offset, length = rec[1], value(rec[2]), rec[3], rec[4]
        fmt = _VIEW_FORMATS.get(kind)
        if fmt is None:  # Uint8Array, Uint8ClampedArray, DataView
            return bytes(buffer[offset:offset + length])
        size = struct.calcsize(fmt)
        return list(struct.unpack(f"<{length}{fmt}", buffer[offset:offset + length * size]))
    if tag == 16:
        return FunctionValue(rec[1])
    if tag == 13:  # a boxed primitive: its value
        return value(rec[2]) if rec[1] == "Number" else int(rec[2]) if rec[1] == "BigInt" else rec[2]
    raise BadRequest(f"unknown structured-clone record {rec!r}")


_SIMPLE = (str, bool, type(None))


def encode_text(value: Any) -> str:
    """The JSON text of clone records for a Python value."""
    if type(value) is list and all(type(v) in _SIMPLE or (type(v) is int and -_SAFE_INT <= v <= _SAFE_INT)
                                   for v in value):  # the usual arguments: no records to share
        items = ",".join(f"[0,{_dumps(v)}]" for v in value)
        return f"[[1,[{','.join(str(i) for i in range(1, len(value) + 1))}]]{',' if value else ''}{items}]"
    return json.dumps(encode(value), separators=(",", ":"), ensure_ascii=False, allow_nan=False)


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def encode(value: Any) -> list:
    """Clone records for a Python value (see the table above; tuples are arrays)."""
    records: list = []
    seen: dict[int, int] = {}

    def add(v: Any) -> int:
        if v is None or isinstance(v, (bool, str)):
            records.append([0, v])
            return len(records) - 1
        if isinstance(v, int):
            records.append([0, v] if -_SAFE_INT <= v <= _SAFE_INT else [8, str(v)])
            return len(records) - 1
        if isinstance(v, float):
            if math.isfinite(v) and not (v == 0 and math.copysign(1, v) < 0):
                records.append([0, v])
            else:
                records.append([9, "NaN" if math.isnan(v) else "-0" if v == 0 else ("Infinity" if v > 0 else "-Infinity")])
            return len(records) - 1
        if id(v) in seen:
            return seen[id(v)]
        index = len(records)
        seen[id(v)] = index
        records.append(None)
        if isinstance(v, (bytes, bytearray, memoryview)):
            data = bytes(v)
            records.append([11, base64.b64encode(data).decode("ascii")])
            records[index] = [12, "Uint8Array", index + 1, 0, len(data)]
        elif isinstance(v, datetime):
            when = v if v.tzinfo else v.replace(tzinfo=timezone.utc)
            records[index] = [3, when.timestamp() * 1000.0]
        elif isinstance(v, dict):
            if all(isinstance(k, str) for k in v):
                records[index] = [2, [[k, add(x)] for k, x in v.items()]]
            else:
                records[index] = [5, [[add(k), add(x)] for k, x in v.items()]]
        elif isinstance(v, (list, tuple)):
            records[index] = [1, [add(x) for x in v]]
        elif isinstance(v, (set, frozenset)):
            records[index] = [6, [add(x) for x in v]]
        elif isinstance(v, ErrorValue):
            records[index] = [7, v.name, v.message, v.stack, -1]
        elif isinstance(v, RegExpValue):
            records[index] = [4, v.source, v.flags]
        else:
            raise BadRequest(f"a {type(v).__name__} cannot cross to JavaScript; send JSON-like values,"
                             " dicts, sets, bytes or datetimes")
        return index

    add(value)
    return records


def json_text(text: str) -> str:
    """Clone text as JSON text, for HTTP answers: dates as ISO-8601, sets as arrays, bytes
    as base64, maps with other than string keys as arrays of pairs, undefined as null."""
    try:
        return json.dumps(decode_text(text), default=jsonable, separators=(",", ":"), ensure_ascii=False)
    except ValueError:  # a cycle: JSON cannot show it
        return '"(a value with a cycle)"'


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, (set, frozenset)):
        return list(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (ErrorValue, RegExpValue)):
        return vars(value)
    if isinstance(value, FunctionValue):
        return "[Function]"
    raise TypeError(f"{type(value).__name__} is not JSON")
