"""Snapshots: the state of every object (storage, SQL rows, alarms) and the clock, as data.

A :class:`Snapshot` is plain, readable JSON once saved::

    {"format": "dobj-snapshot/1", "project": "counter.js", "dialect": "bundle",
     "clock_ms": 1893488400000.0,
     "objects": {"COUNTER/a": {"kv": {"count": 3}, "alarm": 1893488405000.0}}}

Values are the stored JSON (a CommonJS bundle) or structured-clone records (a Workers
project, where ``sql`` also holds each table's schema and rows). :func:`diff` lists what
was added, removed and changed between two of them.

>>> a = Snapshot("p.js", "bundle", 0.0, {"C/x": {"kv": {"n": 1}}})
>>> b = Snapshot("p.js", "bundle", 0.0, {"C/x": {"kv": {"n": 2, "m": 0}}})
>>> [(c.object, c.what, c.change) for c in diff(a, b)]
[('C/x', 'kv m', 'added'), ('C/x', 'kv n', 'changed')]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadRequest

FORMAT = "dobj-snapshot/1"


@dataclass
class Snapshot:
    """The state of a runtime's objects at one moment (see the module docstring)."""

    project: str
    dialect: str  # "bundle" or "cloudflare"
    clock_ms: float
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"format": FORMAT, "project": self.project, "dialect": self.dialect,
                "clock_ms": self.clock_ms, "objects": self.objects}

    def save(self, path: str | Path) -> Path:
        """Write the snapshot as JSON a person can read."""
        path = Path(path)
        try:
            path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        except OSError as exc:
            raise BadRequest(f"cannot write the snapshot to {path}: {exc.strerror or exc}") from None
        return path

    @classmethod
    def load(cls, path: str | Path) -> Snapshot:
        """Read a saved snapshot, refusing a file that is not one (saying what is wrong)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise BadRequest(f"cannot read the snapshot {path}: {exc.strerror or exc}") from None
        except ValueError as exc:
            raise BadRequest(f"{path} is not a snapshot: it is not JSON ({exc})") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, where: str = "the snapshot") -> Snapshot:
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BadRequest(f"{where} is not a dobj snapshot (no \"format\": \"{FORMAT}\")")
        objects = data.get("objects")
        ok = (isinstance(data.get("project"), str) and data.get("dialect") in ("bundle", "cloudflare")
              and isinstance(data.get("clock_ms"), (int, float)) and isinstance(objects, dict)
              and all(isinstance(k, str) and "/" in k and isinstance(v, dict) for k, v in objects.items())
              and all(isinstance(v.get("kv", {}), dict) and isinstance(v.get("sql", {}), dict)
                      and isinstance(v.get("alarm", 0), (int, float, type(None))) for v in objects.values()))
        if not ok:
            raise BadRequest(f"{where} has the wrong shape: it needs project, dialect, clock_ms and"
                             " objects {\"NS/name\": {\"kv\": {...}, \"sql\": {...}, \"alarm\": ms}}")
        return cls(data["project"], data["dialect"], float(data["clock_ms"]), objects)

    def __repr__(self) -> str:
        return f"<dobj snapshot of {self.project}: {len(self.objects)} objects>"


@dataclass(frozen=True)
class Change:
    """One difference between two snapshots."""

    object: str
    what: str  # "kv KEY", "sql TABLE row N", "alarm"
    change: str  # added | removed | changed
    before: Any = None
    after: Any = None


def diff(a: Snapshot, b: Snapshot) -> list[Change]:
    """What differs from ``a`` to ``b``, per object: keys, SQL rows and alarms."""
    out: list[Change] = []
    for name in sorted(set(a.objects) | set(b.objects)):
        old, new = a.objects.get(name, {}), b.objects.get(name, {})
        _items(out, name, "kv ", old.get("kv", {}), new.get("kv", {}))
        for table in sorted(set(old.get("sql", {})) | set(new.get("sql", {}))):
            rows_a = [json.dumps(r) for r in old.get("sql", {}).get(table, {}).get("rows", [])]
            rows_b = [json.dumps(r) for r in new.get("sql", {}).get(table, {}).get("rows", [])]
            for row in sorted(set(rows_a) - set(rows_b)):
                out.append(Change(name, f"sql {table}", "removed", json.loads(row), None))
            for row in sorted(set(rows_b) - set(rows_a)):
                out.append(Change(name, f"sql {table}", "added", None, json.loads(row)))
        if old.get("alarm") != new.get("alarm"):
            change = "added" if old.get("alarm") is None else "removed" if new.get("alarm") is None else "changed"
            out.append(Change(name, "alarm", change, old.get("alarm"), new.get("alarm")))
    return out


def _items(out: list[Change], name: str, prefix: str, old: dict, new: dict) -> None:
    for key in sorted(set(old) | set(new)):
        if key not in old:
            out.append(Change(name, prefix + key, "added", None, new[key]))
        elif key not in new:
            out.append(Change(name, prefix + key, "removed", old[key], None))
        elif old[key] != new[key]:
            out.append(Change(name, prefix + key, "changed", old[key], new[key]))
