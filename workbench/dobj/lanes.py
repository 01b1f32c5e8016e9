"""The trace as a timeline: one lane per object, one bar per event.

Every event of one object is serialized, so the bars of one lane never overlap; bars of
different lanes may. An event that runs inside another event of the same object (a timer
callback while the event that set it still runs) is drawn inset in its parent's bar.
:class:`Timeline` renders as SVG in Jupyter and as a character picture elsewhere; it
imports no front-end library (its tooltips reuse the trace table's wording).

>>> from dobj.runtime.trace import Event
>>> a = Event(1, "COUNTER", "a", "rpc", "increment", "[1]", at_ms=0.0, started=0.0, duration_ms=2.0)
>>> b = Event(2, "COUNTER", "a", "rpc", "increment", "[1]", at_ms=0.0, started=0.002, duration_ms=2.0)
>>> print(Timeline([a, b], width=20).to_text())
COUNTER/a  1111111111222222222
           0 ms            4 ms
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

KIND_COLOURS = {
    "rpc": "#4c78a8", "fetch": "#59a14f", "alarm": "#f28e2b",
    "timer": "#b07aa1", "storage": "#9c755f", "evict": "#8c8c8c", "socket": "#76b7b2", "sql": "#edc948",
}
ERROR_COLOUR = "#e15759"
LABEL_WIDTH, PLOT_WIDTH, LANE_HEIGHT, BAR_HEIGHT, AXIS_HEIGHT = 170, 560, 24, 16, 34
LABEL_CHARS = 24  # longer object names are cut in the picture (the tooltip has them whole)


@dataclass(frozen=True)
class Bar:
    """One event placed on the timeline: ``start_ms`` from the first event's start."""

    event: object
    lane: int
    start_ms: float
    duration_ms: float
    depth: int

    @property
    def end_ms(self) -> float:
        return self.start_ms + self.duration_ms


def _depth(event, objects_events: set[int]) -> int:
    """How many enclosing events of the same object this event runs inside."""
    depth, parent = 0, event.parent
    while parent is not None:
        if parent.object == event.object and id(parent) in objects_events:
            depth += 1
        parent = parent.parent
    return depth


def layout(events: list) -> tuple[list[str], list[Bar], float]:
    """Lanes (objects in order of first event), bars, and the span in ms.

    >>> layout([])
    ([], [], 0.0)
    """
    timed = [e for e in events if e.duration_ms is not None]
    if not timed:
        return [], [], 0.0
    t0 = min(e.started for e in timed)
    lanes: list[str] = []
    for e in sorted(timed, key=lambda e: e.started):
        if e.object not in lanes:
            lanes.append(e.object)
    ids = {id(e) for e in timed}
    bars = [Bar(e, lanes.index(e.object), (e.started - t0) * 1000.0, e.duration_ms, _depth(e, ids))
            for e in timed]
    span = max(b.end_ms for b in bars)
    return lanes, bars, span


def nice_step(span_ms: float, ticks: int = 5) -> float:
    """A round tick interval (1, 2 or 5 times a power of ten) for an axis of ``span_ms``.

    >>> nice_step(12.0), nice_step(0.7)
    (5.0, 0.2)
    """
    if span_ms <= 0:
        return 1.0
    raw = span_ms / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if raw <= factor * power:
            return float(round(factor * power, 12))
    return 10.0 * power  # pragma: no cover - the loop always returns


def format_ms(ms: float) -> str:
    """An axis label: ``0 ms``, ``0.25 ms``, ``12 ms``, ``1.5 s``."""
    if ms >= 1000:
        return f"{ms / 1000:g} s"
    return f"{float(f'{ms:.3g}'):g} ms"


def describe(event) -> str:
    """The tooltip of a bar: id, object, call, duration and outcome (as the trace shows them)."""
    from .commands.timeline import event_call, outcome

    return (f"#{event.id} {event.object} {event.kind} {event_call(event)}"
            f" {event.duration_ms:.3f} ms {outcome(event)}")


class Timeline:
    """A picture of events: one lane per object, one bar per event, time to the right."""

    def __init__(self, events: list, width: int = 60) -> None:
        self.events = list(events)
        self.lanes, self.bars, self.span_ms = layout(self.events)
        self.width = width

    def overlaps(self) -> list[tuple[Bar, Bar]]:
        """Pairs of top-level bars of one lane that overlap in time (always empty)."""
        found = []
        for lane in range(len(self.lanes)):
            row = sorted((b for b in self.bars if b.lane == lane and b.depth == 0),
                         key=lambda b: b.start_ms)
            found += [(a, b) for a, b in zip(row, row[1:]) if b.start_ms < a.end_ms - 1e-9]
        return found

    # -- text -----------------------------------------------------------------------------
    def to_text(self) -> str:
        """Lanes of characters; each event is drawn with the last digit of its id."""
        if not self.bars:
            return "(no events)"
        label = max(len(name) for name in self.lanes) + 2
        scale = (self.width - 1) / self.span_ms if self.span_ms else 0.0
        rows = [[" "] * self.width for _ in self.lanes]
        for bar in sorted(self.bars, key=lambda b: b.depth):
            first = int(bar.start_ms * scale + 0.5)
            last = max(first, int(bar.end_ms * scale + 0.5) - 1)
            for col in range(first, min(last, self.width - 1) + 1):
                rows[bar.lane][col] = str(bar.event.id % 10)
        lines = [name.ljust(label) + "".join(row).rstrip() for name, row in zip(self.lanes, rows)]
        left, right = "0 ms", format_ms(self.span_ms)
        lines.append(" " * label + left + right.rjust(self.width - len(left)))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def __repr__(self) -> str:
        return f"<Timeline {len(self.bars)} events, {len(self.lanes)} objects>"

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.to_text())

    # -- SVG ------------------------------------------------------------------------------
    def to_html(self) -> str:
        """An SVG picture; every name and value is escaped."""
        if not self.bars:
            return "<p><em>(no events)</em></p>"
        height = len(self.lanes) * LANE_HEIGHT + AXIS_HEIGHT
        width = LABEL_WIDTH + PLOT_WIDTH + 20
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
                 f' font-family="sans-serif" font-size="12" role="img">',
                 "<title>timeline: one lane per object, one bar per event</title>"]
        parts += self._svg_lanes() + self._svg_axis(height) + self._svg_bars()
        parts.append("</svg>")
        return "".join(parts) + self._legend()

    def _repr_html_(self) -> str:
        return self.to_html()

    def _x(self, ms: float) -> float:
        return LABEL_WIDTH + (ms / self.span_ms * PLOT_WIDTH if self.span_ms else 0.0)

    def _svg_lanes(self) -> list[str]:
        out = []
        for i, name in enumerate(self.lanes):
            y = i * LANE_HEIGHT
            fill = "#f4f4f4" if i % 2 == 0 else "#ffffff"
            out.append(f'<rect x="0" y="{y}" width="{LABEL_WIDTH + PLOT_WIDTH + 20}"'
                       f' height="{LANE_HEIGHT}" fill="{fill}"/>')
            shown = name if len(name) <= LABEL_CHARS else name[:LABEL_CHARS - 1] + "\u2026"
            out.append(f'<text x="6" y="{y + LANE_HEIGHT * 0.68:.1f}"><title>{html.escape(name)}</title>'
                       f"{html.escape(shown)}</text>")
        return out

    def _svg_axis(self, height: int) -> list[str]:
        top = len(self.lanes) * LANE_HEIGHT
        out = [f'<line x1="{LABEL_WIDTH}" y1="{top}" x2="{LABEL_WIDTH + PLOT_WIDTH}" y2="{top}"'
               ' stroke="#555"/>']
        step = nice_step(self.span_ms)
        count = int(self.span_ms / step + 1e-9) + 1
        for k in range(count):
            x = self._x(k * step)
            out.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{top + 4}" stroke="#ccc"/>')
            out.append(f'<text x="{x:.1f}" y="{top + 18}" text-anchor="middle" fill="#333">'
                       f"{html.escape(format_ms(k * step))}</text>")
        return out

    def _svg_bars(self) -> list[str]:
        out = []
        for bar in sorted(self.bars, key=lambda b: b.depth):
            inset = min(bar.depth * 4, BAR_HEIGHT // 2 - 2)
            y = bar.lane * LANE_HEIGHT + (LANE_HEIGHT - BAR_HEIGHT) / 2 + inset
            x, w = self._x(bar.start_ms), max(self._x(bar.end_ms) - self._x(bar.start_ms), 1.5)
            e = bar.event
            fill = ERROR_COLOUR if e.error is not None else KIND_COLOURS.get(e.kind, "#999")
            out.append(f'<rect class="event" data-object="{html.escape(e.object)}"'
                       f' data-start="{bar.start_ms:.6f}" data-end="{bar.end_ms:.6f}"'
                       f' data-depth="{bar.depth}" x="{x:.2f}" y="{y:.1f}" width="{w:.2f}"'
                       f' height="{BAR_HEIGHT - 2 * inset}" fill="{fill}" stroke="#fff"'
                       f' stroke-width="0.5"><title>{html.escape(describe(e))}</title></rect>')
            if w >= 8 * len(e.method) + 8:
                out.append(f'<text x="{x + 4:.2f}" y="{y + BAR_HEIGHT * 0.7 - inset:.1f}" fill="#fff"'
                           f' font-size="10" pointer-events="none">{html.escape(e.method)}</text>')
        return out

    def _legend(self) -> str:
        kinds = sorted({b.event.kind for b in self.bars})
        items = [f'<span style="color:{KIND_COLOURS.get(k, "#999")}">&#9632;</span> {html.escape(k)}'
                 for k in kinds]
        if any(b.event.error is not None for b in self.bars):
            items.append(f'<span style="color:{ERROR_COLOUR}">&#9632;</span> error')
        return (f'<div style="font-size:12px">{" &nbsp; ".join(items)}'
                " &nbsp; (hover a bar for its call and outcome)</div>")
