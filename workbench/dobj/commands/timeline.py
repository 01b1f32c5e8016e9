"""Commands about time: alarms, the clock, ticking it forward, and the trace of events.

>>> format_took(0.0423), format_took(1534.0)
('0.042 ms', '1.53 s')
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..runtime.clock import format_ms, parse_duration
from ..runtime.trace import sent_text
from .registry import command
from .results import Group, Message, Table, to_json
from .storage import format_left
from .syntax import CommandError, split_words

CALL_WIDTH = 80  # arguments longer than this are cut in tables (to_dict() keeps them whole)
EVENT_COLUMNS = ["#", "at", "object", "kind", "call", "took", "outcome", "wrote", "console"]


def format_took(ms: float | None) -> str:
    """A duration in ms as a short text."""
    if ms is None:
        return ""
    if ms < 1:
        return f"{ms:.3f} ms"
    return f"{ms:.3g} ms" if ms < 1000 else f"{ms / 1000:.3g} s"


def clock_time(ms: float) -> str:
    """The time of day of a runtime-clock instant, to the millisecond (UTC)."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%H:%M:%S.%f")[:-3]


def outcome(event) -> str:
    """``-> 3``, ``-> 200 (1 byte)`` or ``!! timeout: ...`` for a finished event."""
    let_in = f" (let in #{', #'.join(map(str, event.interleaved))})" if event.interleaved else ""
    if event.error is not None:
        return f"!! {event.error.code}: {event.error.message}{let_in}"
    return _outcome(event) + let_in


def _outcome(event) -> str:
    result = event.result
    if event.kind == "fetch" and isinstance(result, dict):
        size = len(str(result.get("body", "")).encode("utf-8"))
        return f"-> {result.get('status')} ({size} byte{'s' if size != 1 else ''})"
    if event.kind in ("timer", "alarm", "storage", "evict", "sql", "socket") and result is None:
        return "ok"
    return f"-> {to_json(result)}"


def event_call(event) -> str:
    """``increment(3)``: the method and its arguments as the trace shows them."""
    args = event.arguments
    args = args[1:-1] if args.startswith("[") else args
    if len(args) > CALL_WIDTH:
        args = args[:CALL_WIDTH - 3] + "..."
    return f"{event.method}({args})"


class Events(Table):
    """Events as a table; ``value`` is the list of ``Event.to_dict()``."""

    def __init__(self, events: list, title: str | None = None, empty: str = "(no events)") -> None:
        rows = [[e.id, clock_time(e.at_ms), e.object, e.kind, event_call(e), format_took(e.duration_ms),
                 outcome(e), ", ".join(e.written), "\n".join(f"{lv}: {t}" for lv, t in e.console)]
                for e in events]
        columns = EVENT_COLUMNS
        if any(e.sent for e in events):  # WebSocket messages the events sent, before the console
            columns = EVENT_COLUMNS[:-1] + ["sent", "console"]
            for row, e in zip(rows, events):
                row.insert(len(row) - 1, "\n".join(sent_text(s) for s in e.sent))
        super().__init__(columns, rows, title=title, empty=empty)
        self.events = list(events)

    @property
    def value(self) -> list[dict]:  # type: ignore[override]
        return [e.to_dict() for e in self.events]


@command("alarms", "alarms", "List every scheduled alarm: object, due time, time left on the runtime clock.")
def alarms(interp) -> Table:
    """The scheduled alarms."""
    rows = [[a["object"], a["due"], format_left(a["in_seconds"]), a["retry"]]
            for a in interp.rt.alarms()]
    return Table(["object", "due", "left", "retry"], rows, title="alarms", empty="(no alarms)")


def _clock_line(rt) -> str:
    kind = "manual" if rt.clock.manual else "real"
    return f"clock: {format_ms(rt.clock.now_ms())} ({kind})"


def _moved(rt, delivered: list, how: str) -> Group:
    count = len(delivered)
    what = f"delivered {count} event{'s' if count != 1 else ''}" if count else "nothing came due"
    head = Message(f"{_clock_line(rt)}, {how}; {what}")
    parts = [head, Events(delivered, title="delivered")] if delivered else [head]
    return Group(parts, value=[e.to_dict() for e in delivered])


def _parse_clock(text: str) -> dict[str, Any]:
    words = [w.text for w in split_words(text)]
    if not words:
        return {}
    if words[0] == "set" and len(words) > 1:
        return {"when": " ".join(words[1:])}
    raise CommandError("usage: clock  or  clock set 2030-01-01T00:00:00Z")


@command("clock", "clock [set INSTANT]", "Show the runtime clock, or move it to an ISO-8601 instant"
         " (delivering every alarm and timer due on the way).", parse=_parse_clock,
         examples=("clock", "clock set 2030-01-01T00:00:00Z"))
def clock(interp, when: str | None = None) -> Message | Group:
    """Show the clock, or set it (manual clock only)."""
    rt = interp.rt
    if when is None:
        return Message(_clock_line(rt), value={"manual": rt.clock.manual, "now": format_ms(rt.clock.now_ms())})
    return _moved(rt, rt.clock.set(when), f"set to {when}")


def _parse_tick(text: str) -> dict[str, Any]:
    words = "".join(w.text for w in split_words(text))
    if not words:
        raise CommandError("usage: tick DURATION  (e.g. tick 5s, tick 1m30s, tick 250ms)")
    return {"duration": words}


@command("tick", "tick DURATION", "Move the manual clock forward and print every alarm and timer"
         " it delivered.", parse=_parse_tick, examples=("tick 5s", "tick 1m30s"))
def tick(interp, duration: str) -> Group:
    """Advance the manual clock by ``duration``."""
    seconds = parse_duration(duration)
    return _moved(interp.rt, interp.rt.clock.advance(seconds), f"+{duration}")


def _parse_trace(text: str) -> dict[str, Any]:
    words = [w.text for w in split_words(text)]
    if not words:
        return {}
    if len(words) == 1 and words[0].isdigit():
        return {"n": int(words[0])}
    raise CommandError("usage: trace [N]  (N a number of events)")


@command("trace", "trace [N]", "Show the last N events (default 20): object, kind, method, duration,"
         " result or error, keys written, console output.", parse=_parse_trace,
         examples=("trace", "trace 5"))
def trace(interp, n: int = 20) -> Events:
    """The last ``n`` events of the runtime."""
    events = interp.rt.trace(n)
    if n == 0:
        return Events([], title="trace: 0 events asked for",
                      empty="(trace N shows the last N events; trace alone, the last 20)")
    title = f"trace: the last {len(events)} event{'s' if len(events) != 1 else ''}"
    return Events(events, title=title, empty="(no events yet)")
