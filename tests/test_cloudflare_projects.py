"""Cloudflare Workers projects (SPEC section 10), checked against workerd's recorded answers.

The projects under ``tests/projects/`` were run on workerd and their answers written to
``expected*.json`` (see ``tests/projects/README.md``); these tests send dobj the same
requests and compare.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

import dobj
from cfreplay import replay
from dobj.runtime.loading import load_project

PROJECTS = Path(__file__).resolve().parent / "projects"


def write_project(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return folder


def _host():
    noop = lambda *args: ""  # noqa: E731 - loading calls none of them
    return {name: noop for name in ("storage", "console", "timer", "stub", "settle", "idOf", "cfs", "cfid")} | {
        "now": lambda: 0}


def test_a_project_takes_its_namespaces_from_the_config_and_finds_its_worker():
    _, _, classes, loaded = load_project(PROJECTS / "counter-ts", memory_limit=64 << 20, budget=2.0, host=_host())
    assert list(classes) == ["COUNTER"]
    assert classes["COUNTER"].export == "Counter"
    assert classes["COUNTER"].rpc_methods == ("get", "increment", "reset", "snapshot")
    assert loaded.worker == "handler" and loaded.warnings == []


def test_a_binding_to_a_class_the_entry_does_not_export_is_a_load_error(tmp_path):
    folder = write_project(tmp_path, {
        "wrangler.jsonc": """
            { "name": "p", "main": "src/index.js",
              "durable_objects": { "bindings": [{ "name": "ROOM", "class_name": "Room" }] } }
        """,
        "src/index.js": """
            import { DurableObject } from "cloudflare:workers";
            export class Lobby extends DurableObject {}
        """,
    })
    with pytest.raises(dobj.BundleError, match=r"wrangler.jsonc: .*'Room' \(ROOM\), which src/index.js does not export"):
        load_project(folder, memory_limit=64 << 20, budget=2.0, host=_host())


def test_without_a_config_every_exported_durable_object_class_is_a_namespace(tmp_path):
    folder = write_project(tmp_path, {
        "src/index.ts": """
            import { DurableObject } from "cloudflare:workers";
            export class ChatRoom extends DurableObject { post(text: string): string { return text; } }
            export class Helper {}
        """,
    })
    _, _, classes, loaded = load_project(folder / "src" / "index.ts", memory_limit=64 << 20, budget=2.0, host=_host())
    assert list(classes) == ["CHAT_ROOM"] and loaded.worker is None


def answers(folder: Path, data: Path, requests: str, **options) -> list[dict]:
    with dobj.Runtime.load(folder, data=data, **options) as rt:
        return replay(rt, json.loads((folder / requests).read_text(encoding="utf-8")))


def recorded(folder: Path, expected: str) -> list[dict]:
    return json.loads((folder / expected).read_text(encoding="utf-8"))["steps"]


@pytest.mark.parametrize("project", ["counter-ts"])
def test_a_project_answers_as_workerd_did_and_again_after_a_restart(project, tmp_path):
    folder = PROJECTS / project
    assert answers(folder, tmp_path, "requests.json") == recorded(folder, "expected.json")
    if (folder / "after_restart.json").exists():
        assert answers(folder, tmp_path, "after_restart.json") == recorded(folder, "expected_after_restart.json")


def test_python_calls_reach_id_from_name_and_get_structured_values_back(tmp_path):
    folder = write_project(tmp_path, {
        "wrangler.jsonc": """
            { "name": "p", "main": "src/index.js", "compatibility_date": "2026-04-01",
              "durable_objects": { "bindings": [{ "name": "SHAPES", "class_name": "Shapes" }] } }
        """,
        "src/index.js": """
            import { DurableObject } from "cloudflare:workers";
            export class Shapes extends DurableObject {
              all(extra) {
                return { map: new Map([[1, "a"]]), set: new Set(["x"]), date: new Date(0), big: 2n ** 70n,
                         bytes: new Uint8Array([1, 2]), none: undefined, extra, name: this.ctx.id.name };
              }
              async keep(value) { await this.ctx.storage.put("v", value); return this.ctx.storage.get("v"); }
            }
        """,
    })
    from datetime import datetime, timezone

    with dobj.Runtime.load(folder) as rt:
        shapes = rt.get("SHAPES", "a")
        assert shapes.all({"k": [1, 2]}) == {
            "map": {1: "a"}, "set": {"x"}, "date": datetime(1970, 1, 1, tzinfo=timezone.utc), "big": 2 ** 70,
            "bytes": b"\x01\x02", "none": None, "extra": {"k": [1, 2]}, "name": "a"}
        assert shapes.keep({"when": datetime(2030, 1, 1, tzinfo=timezone.utc), "tags": {"a", "b"}}) == {
            "when": datetime(2030, 1, 1, tzinfo=timezone.utc), "tags": {"a", "b"}}
