"""Snapshots of every object's state: take, restore, diff, save and load (SPEC section 12)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dobj
from dobj.commands import CommandError, Interpreter
from dobj.runtime.snapshots import Snapshot

ROOT = Path(__file__).resolve().parent.parent
COUNTER = ROOT / "samples" / "counter.js"
GUESTBOOK = ROOT / "samples" / "guestbook-ts"


def test_a_snapshot_restores_storage_alarms_and_the_manual_clock(tmp_path):
    with dobj.Runtime.load(COUNTER, data=tmp_path) as rt:
        rt.clock.set("2030-01-01T09:00:00Z")
        a = rt.get("COUNTER", "a")
        a.increment(3)
        a.storage["note"] = {"tags": ["x"]}
        snap = rt.snapshot()
        rt.clock.advance("1h")
        a.increment(4)
        del a.storage["note"]
        rt.get("COUNTER", "b").increment(1)
        assert [(c.object, c.what, c.change) for c in rt.diff(snap)] == [
            ("COUNTER/a", "kv count", "changed"), ("COUNTER/a", "kv note", "removed"),
            ("COUNTER/b", "kv count", "added")]
        rt.restore(snap)
        assert dict(a.storage) == {"count": 3, "note": {"tags": ["x"]}}
        assert rt.objects() == [("COUNTER", "a")]
        assert rt.clock.now().isoformat().startswith("2030-01-01T09:00:00")
        assert rt.diff(snap) == []
        assert a.increment(1) == 4  # the rebuilt instance reads the restored storage


def test_a_saved_snapshot_is_readable_json_and_loads_back(tmp_path):
    with dobj.Runtime.load(COUNTER) as rt:
        rt.get("COUNTER", "a").increment(2)
        path = rt.snapshot().save(tmp_path / "snap.json")
        data = json.loads(path.read_text())
        assert data["format"] == "dobj-snapshot/1" and data["objects"] == {"COUNTER/a": {"kv": {"count": 2}}}
        rt.get("COUNTER", "a").increment(5)
        rt.restore(Snapshot.load(path))
        assert rt.get("COUNTER", "a").storage["count"] == 2


def test_a_cloudflare_project_snapshot_holds_kv_clones_and_sql_rows(tmp_path):
    with dobj.Runtime.load(GUESTBOOK, data=tmp_path) as rt:
        home = rt.get("GUESTBOOK", "home")
        home.sign("ann", "hi")
        home.storage["tags"] = {"a", "b"}
        snap = rt.snapshot()
        assert snap.objects["GUESTBOOK/home"]["sql"]["entries"]["rows"][0][1:3] == ["ann", "hi"]
        home.sign("bob", "yo")
        changes = rt.diff(snap)
        assert [(c.what, c.change, c.after[1]) for c in changes] == [("sql entries", "added", "bob")]
        rt.restore(snap)
        assert home.count() == 1 and home.storage["tags"] == {"a", "b"}


def test_restoring_another_projects_snapshot_is_refused_and_changes_nothing(tmp_path):
    with dobj.Runtime.load(GUESTBOOK) as other:
        other.get("GUESTBOOK", "home").sign("ann", "hi")
        foreign = other.snapshot()
    with dobj.Runtime.load(COUNTER) as rt:
        rt.get("COUNTER", "a").increment(7)
        with pytest.raises(dobj.BadRequest, match="taken from guestbook-ts .* nothing was changed"):
            rt.restore(foreign)
        assert rt.get("COUNTER", "a").storage["count"] == 7


@pytest.mark.parametrize("text, says", [
    ("{not json", "is not JSON"),
    ('{"format": "other"}', "is not a dobj snapshot"),
    ('{"format": "dobj-snapshot/1", "project": "counter.js", "dialect": "bundle", "clock_ms": 0,'
     ' "objects": {"no-slash": {}}}', "wrong shape"),
])
def test_a_broken_snapshot_file_is_refused_saying_why(tmp_path, text, says):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(dobj.BadRequest, match=says):
        Snapshot.load(path)


def test_the_snapshot_commands_take_diff_save_load_and_restore(tmp_path):
    with Interpreter(dobj.Runtime.load(COUNTER)) as wb:
        wb.run("COUNTER/a.increment(2)")
        wb.run("snapshot before")
        wb.run("COUNTER/a.increment(5)")
        assert wb.run("diff before").value == [
            {"object": "COUNTER/a", "what": "kv count", "change": "changed", "before": "2", "after": "7"}]
        wb.run(f"snapshot save before {tmp_path / 'b.json'}")
        wb.run("restore before")
        assert wb.run("COUNTER/a.increment(0)").value == 2
        assert wb.run(f"snapshot load {tmp_path / 'b.json'} again").value == "again"
        assert wb.run("diff before again").value == []
        with pytest.raises(CommandError, match="no snapshot named 'nope'"):
            wb.run("restore nope")
