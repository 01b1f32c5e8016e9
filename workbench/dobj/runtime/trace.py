"""Events and the trace: what ran, for whom, how long, and what it did.

Every RPC call, fetch, alarm, timer and storage edit is an :class:`Event`. Finished events
are kept, newest last, in a bounded :class:`Trace` that the front ends read.

>>> trace = Trace(maxlen=2)
>>> for n in range(3):
...     trace.add(Event(n, "COUNTER", "global", "rpc", "increment", "[1]", at_ms=0.0))
>>> [e.id for e in trace.last(5)]
[1, 2]
"""

from __future__ import annotations

import base64
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..errors import DobjError


# What an event's ``written`` list shows for setAlarm() and deleteAlarm() ("*" is deleteAll).
ALARM_WRITE = "(alarm)"
PREVIEW = 60  # characters of a WebSocket message the trace shows


def message_preview(payload: str, limit: int = PREVIEW) -> str:
    """A WebSocket message ("t" + text or "b" + base64) as the trace shows it: its text
    (cut at ``limit`` characters), or its size when it is binary.

    >>> message_preview("thello"), message_preview("bAQID")
    ('hello', '<3 bytes>')
    """
    if payload[:1] == "b":
        b64 = payload[1:]
        return f"<{len(b64) // 4 * 3 - (len(b64) - len(b64.rstrip('=')))} bytes>"
    text = payload[1:]
    return text if len(text) <= limit else text[:limit] + "…"


def sent_text(sent: tuple[int, str]) -> str:
    """One WebSocket message an event sent, as the trace shows it: ``#4 hello``."""
    socket_id, what = sent
    return f"#{socket_id} {message_preview(what) if what[:1] == 't' else what}"


@dataclass(eq=False, slots=True)
class Event:
    """One event of one object, from the moment it starts running to its result."""

    id: int
    namespace: str
    name: str
    kind: str  # rpc | fetch | alarm | timer | storage | evict | sql | socket
    method: str
    args: str  # JSON text of the arguments (or a short description)
    at_ms: float  # runtime clock when it started
    parent: Event | None = None
    oid: int = 0  # the object's row id in the store
    started: float = 0.0  # time.perf_counter() when it started running
    duration_ms: float | None = None
    raw_result: Any = None  # JSON text (str) or an already decoded value
    error: DobjError | None = None
    written: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    deadline: float = float("inf")
    done: bool = False
    released: bool = False  # it let other events of its object in while it waited (gates)
    clone: bool = False  # raw_result is structured-clone text (Cloudflare projects), not JSON
    by_name: bool = True  # reached by name (a Workers project's ctx.id.name is set then)
    interleaved: list[int] | None = None  # ids of events of its object that ran while it waited
    sent: list[tuple[int, str]] = field(default_factory=list)  # WebSocket messages it sent (see sent_text)

    @property
    def object(self) -> str:
        """``NAMESPACE/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def arguments(self) -> str:
        """The arguments as JSON text (an RPC call's structured clones, in a Workers project,
        shown as their nearest JSON; decoded only when shown)."""
        if self.clone and self.kind == "rpc":
            from .clone import json_text

            return json_text(self.args)
        return self.args

    @property
    def ok(self) -> bool:
        return self.done and self.error is None

    def finish(self, *, result: Any = None, error: DobjError | None = None) -> None:
        self.duration_ms = (time.perf_counter() - self.started) * 1000.0
        self.raw_result, self.error, self.done = result, error, True

    @property
    def result(self) -> Any:
        """The event's result as a Python value (None for an error)."""
        raw = self.raw_result
        if isinstance(raw, str):
            if self.kind == "fetch":  # a Response as a Workers project's runtime wrote it
                return _response(raw)
            if self.clone:
                from .clone import decode_text

                return decode_text(raw)
            return json.loads(raw)
        return raw

    def describe(self) -> str:
        """``COUNTER/global rpc increment([3])`` style one-line summary."""
        args = self.arguments
        what = f"{self.method}({args[1:-1] if args.startswith('[') else args})"
        return f"{self.object} {self.kind} {what}"

    def to_dict(self) -> dict:
        """A JSON-friendly view of the event, for tables, HTML and the server."""
        return {
            "id": self.id,
            "object": self.object,
            "kind": self.kind,
            "method": self.method,
            "args": self.arguments,
            "at_ms": self.at_ms,
            "duration_ms": self.duration_ms,
            "ok": self.ok,
            "result": self.result,
            "error": None if self.error is None else self.error.to_dict(),
            "written": list(self.written),
            "interleaved": list(self.interleaved or ()),
            "console": [f"{level}: {text}" for level, text in self.console],
            "sent": [sent_text(s) for s in self.sent],
        }

    def __repr__(self) -> str:
        outcome = "running" if not self.done else (
            f"-> {json.dumps(self.result)[:60]}" if self.error is None else f"!! {self.error.code}"
        )
        return f"<Event {self.id} {self.describe()} {outcome}>"


def _response(text: str) -> dict:
    """``{status, headers, body}`` of a response text (see ``responseToHost`` in js/web)."""
    head, _, rest = text.partition("\n")
    status, _, pairs, _ = json.loads(head)
    body = rest[1:] if rest[:1] == "t" else base64.b64decode(rest[1:]).decode("latin-1") if rest[:1] == "b" else ""
    return {"status": status, "headers": dict(pairs), "body": body}


class Trace:
    """The last ``maxlen`` finished events, oldest first."""

    def __init__(self, maxlen: int = 1000) -> None:
        self._events: deque[Event] = deque(maxlen=maxlen)

    def add(self, event: Event) -> None:
        self._events.append(event)

    def last(self, n: int | None = None) -> list[Event]:
        events = list(self._events)
        return events if n is None else events[-n:] if n > 0 else []

    def __len__(self) -> int:
        return len(self._events)

    def clear(self) -> None:
        self._events.clear()
