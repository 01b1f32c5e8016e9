"""Commands on snapshots: take one, restore it, diff two, save and load them as files.

>>> from dobj.commands import parse
>>> parse("snapshot save before /tmp/before.json").args
{'action': 'save', 'name': 'before', 'file': '/tmp/before.json'}
"""

from __future__ import annotations

from typing import Any

from .registry import command
from .results import Message, Table, to_json
from .syntax import CommandError, split_words

_USAGE = "usage: snapshot [NAME] | snapshot save NAME FILE | snapshot load FILE [NAME]"


def _parse_snapshot(text: str) -> dict[str, Any]:
    words = [w.text for w in split_words(text)]
    if words[:1] == ["save"]:
        if len(words) != 3:
            raise CommandError("usage: snapshot save NAME FILE")
        return {"action": "save", "name": words[1], "file": words[2]}
    if words[:1] == ["load"]:
        if len(words) not in (2, 3):
            raise CommandError("usage: snapshot load FILE [NAME]")
        return {"action": "load", "file": words[1], "name": words[2] if len(words) == 3 else None}
    if len(words) > 1:
        raise CommandError(_USAGE)
    return {"action": "take", "name": words[0] if words else None}


def _named(interp, name: str):
    snapshots = interp.snapshots
    if name not in snapshots:
        known = ", ".join(snapshots) or "none yet (take one with: snapshot NAME)"
        raise CommandError(f"no snapshot named {name!r}; the snapshots are: {known}")
    return snapshots[name]


@command("snapshot", "snapshot [NAME]", "Take a snapshot of every object's storage, SQL rows and"
         " alarm and of the clock; save it to a file or load one.", parse=_parse_snapshot,
         details="Without NAME the snapshot is named snap1, snap2, ... `snapshot save NAME FILE`"
         " writes one as readable JSON; `snapshot load FILE [NAME]` reads one back.",
         examples=("snapshot before", "snapshot save before before.json", "snapshot load before.json again"))
def snapshot(interp, action: str, name: str | None = None, file: str | None = None) -> Message:
    """Take, save or load a snapshot."""
    from ..runtime.snapshots import Snapshot

    if action == "save":
        path = _named(interp, name).save(file)
        return Message(f"saved snapshot {name} to {path}", value=str(path))
    if action == "load":
        snap = Snapshot.load(file)
        name = name or f"snap{len(interp.snapshots) + 1}"
        interp.snapshots[name] = snap
        return Message(f"loaded {file} as snapshot {name} ({len(snap.objects)} objects)", value=name)
    snap = interp.rt.snapshot()
    name = name or f"snap{len(interp.snapshots) + 1}"
    interp.snapshots[name] = snap
    return Message(f"snapshot {name}: {len(snap.objects)} objects", value=name)


@command("restore", "restore NAME", "Make every object's state (and a manual clock) what a snapshot"
         " holds; live instances are dropped.", examples=("restore before",))
def restore(interp, name: str) -> Message:
    """Restore a named snapshot."""
    interp.rt.restore(_named(interp, name))
    return Message(f"restored snapshot {name}", value=name)


@command("diff", "diff [A] [B]", "What changed between two snapshots, or from A (default: the"
         " last one taken) to now: keys, SQL rows and alarms added, removed and changed.",
         examples=("diff before", "diff before after"))
def diff(interp, a: str | None = None, b: str | None = None) -> Table:
    """The changes from snapshot ``a`` to ``b`` (or to now)."""
    if a is None:
        if not interp.snapshots:
            raise CommandError("no snapshot to compare with; take one first: snapshot NAME")
        a = list(interp.snapshots)[-1]
    changes = interp.rt.diff(_named(interp, a), None if b is None else _named(interp, b))
    rows = [[c.object, c.what, c.change, "" if c.before is None else to_json(c.before),
             "" if c.after is None else to_json(c.after)] for c in changes]
    return Table(["object", "what", "change", "before", "after"], rows,
                 title=f"changes from {a} to {b or 'now'}", empty="(no changes)")
