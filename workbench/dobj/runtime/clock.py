"""The runtime's clock: real time, or a manual clock that moves only when told.

``Date.now()``, ``new Date()``, ``setTimeout`` and alarms inside bundles all read this
clock. Times are milliseconds since the Unix epoch, as in JavaScript.

>>> clock = ManualClock(start_ms=0)
>>> clock.now_ms()
0.0
>>> parse_duration("1m30s")
90.0
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

from ..errors import BadRequest

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")


def parse_duration(text: str | float | int) -> float:
    """Seconds in ``"5s"``, ``"1m30s"``, ``"250ms"``, ``"2h"`` or a plain number of seconds.

    >>> parse_duration("250ms"), parse_duration(3)
    (0.25, 3.0)
    """
    if isinstance(text, (int, float)):
        return float(text)
    s = text.strip().lower()
    try:
        return float(s)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _PART.finditer(s):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(s) or not s:
        raise BadRequest(f"{text!r} is not a duration; write it like 5s, 250ms, 1m30s or 2h")
    return total


def parse_instant(text: str | datetime | float | int) -> float:
    """Milliseconds since the epoch for an ISO-8601 text, a datetime or a number of ms."""
    if isinstance(text, (int, float)):
        return float(text)
    if isinstance(text, datetime):
        dt = text
    else:
        try:
            dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            raise BadRequest(
                f"{text!r} is not a date; write it as ISO-8601, like 2030-01-01T00:00:00Z"
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp() * 1000.0


def format_ms(ms: float) -> str:
    """ISO-8601 (UTC, millisecond precision) for a time in ms since the epoch."""
    dt = datetime.fromtimestamp(ms / 1000.0, tz=timezone.utc)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class RealClock:
    """Wall-clock time."""

    manual = False

    def now_ms(self) -> float:
        return float(int(time.time() * 1000))


class ManualClock:
    """A clock that stands still until it is advanced."""

    manual = True

    def __init__(self, start_ms: float | None = None) -> None:
        self._now = float(int(time.time() * 1000)) if start_ms is None else float(start_ms)

    def now_ms(self) -> float:
        return self._now

    def set_ms(self, ms: float) -> None:
        self._now = float(ms)
