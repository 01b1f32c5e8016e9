"""Cloudflare Workers projects (SPEC section 10), checked against workerd's recorded answers.

The projects under ``tests/projects/`` were run on workerd and their answers written to
``expected*.json`` (see ``tests/projects/README.md``); these tests send dobj the same
requests and compare.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
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


# Recorded steps dobj does not answer as workerd yet, each with the reason. Every other step
# must match exactly; a listed step that starts matching fails the test, so the list only
# shrinks.
NOT_YET: dict[tuple[str, str], str] = {}
RECORDED = sorted(p.name for p in PROJECTS.iterdir() if (p / "requests.json").exists() and p.name != "hono-app")


def step_key(step: dict) -> str:
    return step["request"].get("path") or json.dumps(step["request"])


@pytest.mark.slow
@pytest.mark.parametrize("project", RECORDED)
def test_a_project_answers_as_workerd_did_and_again_after_a_restart(project, tmp_path):
    folder = PROJECTS / project
    for requests, expected in (("requests.json", "expected.json"), ("after_restart.json", "expected_after_restart.json")):
        if not (folder / requests).exists():
            continue
        got = answers(folder, tmp_path, requests, clock="real", cpu_timeout=30)
        want = recorded(folder, expected)
        assert len(got) == len(want)
        for ours, theirs in zip(got, want):
            reason = NOT_YET.get((project, step_key(theirs)))
            if reason is None:
                assert ours == theirs
            else:
                assert ours != theirs, f"{step_key(theirs)} now matches workerd: take it off NOT_YET ({reason})"


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


def test_the_workbench_reaches_the_worker_runs_sql_and_shows_kv_keys_and_sql_tables(tmp_path):
    from dobj.commands import Interpreter

    with Interpreter(dobj.Runtime.load(PROJECTS / "counter-ts", data=tmp_path)) as wb:
        assert json.loads(wb.run("fetch POST /counter/ann/increment?by=4").body) == {"name": "ann", "value": 4}
        rows = wb.run("sql COUNTER/ann SELECT value, updates FROM counter")
        assert rows.value == [{"value": 4, "updates": 1}]
        wb.run("sql COUNTER/ann UPDATE counter SET value = 10")
        assert json.loads(wb.run("fetch /counter/ann").body) == {"name": "ann", "value": 10}
        wb.run("put COUNTER/ann note 'hello'")
        shown = wb.run("storage COUNTER/ann")
        assert shown.value == {"kv": {"note": "hello"}, "sql": {"counter": 1}}
        assert "(sql)" in [e.written for e in wb.rt.trace() if e.kind == "sql"][-1]
        with pytest.raises(dobj.ExecutionError, match=r'near "SELEC": syntax error at offset 0: SQLITE_ERROR'):
            wb.run("sql COUNTER/ann SELEC")
        assert wb.run("objects").value["objects"][0]["object"] == "COUNTER/ann"


def test_dobj_serve_hands_requests_to_the_worker_and_keeps_its_own_routes_under_dobj(tmp_path):
    import httpx

    from dobj.server import Server

    with dobj.Runtime.load(PROJECTS / "counter-ts", data=tmp_path, clock="real") as rt, \
            Server(rt, port=0) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        answer = client.post("/counter/ann/increment?by=3")
        assert (answer.status_code, answer.json()) == (200, {"name": "ann", "value": 3})
        assert client.get("/nowhere").status_code == 404  # the Worker's own 404
        assert client.get("/_dobj/healthz").json() == {"ok": True}
        rpc = client.post("/_dobj/rpc/COUNTER/ann/increment", json=[2])
        assert rpc.json() == {"ok": True, "result": 5}
        assert client.post("/_dobj/rpc/COUNTER/ann/snapshot").json()["result"] == {
            "name": "ann", "value": 5, "updates": 2}


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("npm") is None, reason="installing hono from the lockfile needs npm")
def test_a_hono_app_from_node_modules_answers_as_workerd_did(tmp_path):
    folder = tmp_path / "hono-app"
    shutil.copytree(PROJECTS / "hono-app", folder, ignore=shutil.ignore_patterns("node_modules"))
    try:
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=folder, check=True,
                       capture_output=True, timeout=300)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        pytest.skip(f"npm could not install the lockfile's packages here: {exc}")
    data = tmp_path / "data"
    assert answers(folder, data, "requests.json", clock="real") == recorded(folder, "expected.json")
    assert answers(folder, data, "after_restart.json", clock="real") == recorded(folder, "expected_after_restart.json")


def test_the_trace_shows_which_events_a_waiting_event_let_in():
    with dobj.Runtime.load(PROJECTS / "gates", clock="real") as rt:
        async def both():
            return await asyncio.gather(rt.afetch("/rmw/t/timer"), rt.afetch("/rmw/t/timer"))

        assert [r.json() for r in asyncio.run(both())] == [{"wrote": 1}, {"wrote": 1}]  # a lost update
        events = [e for e in rt.trace() if e.method == "readModifyWrite"]
        # The one that waited first let the other in; which of them the trace lists first
        # depends on which finished first, so the roles are found, not assumed.
        first, second = sorted(events, key=lambda e: not e.interleaved)
        assert first.interleaved == [second.id] and not second.interleaved
        from dobj.commands.timeline import outcome
        assert outcome(first) == f"-> 1 (let in #{second.id})"


def test_an_object_reached_by_id_string_and_then_by_name_is_one_instance(tmp_path):
    folder = write_project(tmp_path, {
        "wrangler.jsonc": """
            { "name": "p", "main": "src/index.js", "compatibility_date": "2026-04-01",
              "durable_objects": { "bindings": [{ "name": "ONE", "class_name": "One" }] } }
        """,
        "src/index.js": """
            import { DurableObject } from "cloudflare:workers";
            export class One extends DurableObject {
              hits = 0;
              hit() { return [++this.hits, this.ctx.id.name ?? null]; }
            }
            export default {
              async fetch(request, env) {
                const id = env.ONE.idFromName("fresh");
                const first = await env.ONE.get(env.ONE.idFromString(id.toString())).hit();
                const second = await env.ONE.getByName("fresh").hit();
                return Response.json([first, second]);
              },
            };
        """,
    })
    with dobj.Runtime.load(folder) as rt:
        # one instance, built through the id string: it has no name, also when reached by name
        assert rt.fetch("/").json() == [[1, None], [2, None]]
        assert rt.objects() == [("ONE", "fresh")]


def test_functions_over_rpc_are_stubs_and_class_instances_are_refused_as_on_workerd(tmp_path):
    folder = write_project(tmp_path, {
        "wrangler.jsonc": """
            { "name": "p", "main": "src/index.js", "compatibility_date": "2026-04-01",
              "durable_objects": { "bindings": [{ "name": "ONE", "class_name": "One" }] } }
        """,
        "src/index.js": """
            import { DurableObject } from "cloudflare:workers";
            class Point { constructor() { this.x = 1; } }
            export class One extends DurableObject {
              adder(n) { return (x) => x + n; }
              async twice(f, x) { return { value: await f(await f(x)) }; }
              point() { return new Point(); }
            }
            export default {
              async fetch(request, env) {
                const one = env.ONE.getByName("a");
                const add = await one.adder(10);
                const twice = await one.twice((x) => x * 3, 2);
                let refused;
                try { await one.point(); } catch (e) { refused = e.name + ": " + e.message; }
                return Response.json({ added: await add(1), twice, disposable: typeof twice[Symbol.dispose], refused });
              },
            };
        """,
    })
    from dobj.runtime.clone import FunctionValue

    with dobj.Runtime.load(folder) as rt:
        assert rt.fetch("/").json() == {
            "added": 11, "twice": {"value": 18}, "disposable": "function",
            "refused": 'DataCloneError: Could not serialize object of type "Point". This type does not support serialization.'}
        assert isinstance(rt.get("ONE", "a").adder(1), FunctionValue)


def test_sql_cursors_read_lazily_in_batches_and_many_open_ones_stay_right(tmp_path):
    folder = write_project(tmp_path, {
        "wrangler.jsonc": """
            { "name": "p", "main": "src/index.js", "compatibility_date": "2026-04-01",
              "durable_objects": { "bindings": [{ "name": "ONE", "class_name": "One" }] },
              "migrations": [{ "tag": "v1", "new_sqlite_classes": ["One"] }] }
        """,
        "src/index.js": """
            import { DurableObject } from "cloudflare:workers";
            export class One extends DurableObject {
              run() {
                const sql = this.ctx.storage.sql;
                sql.exec("CREATE TABLE t (id INTEGER PRIMARY KEY)");
                sql.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000) INSERT INTO t SELECT i FROM n");
                const all = sql.exec("SELECT id FROM t ORDER BY id").toArray();
                // 100 cursors, each read one row in; then a row is added; the rest of each is read
                const open = Array.from({ length: 100 }, () => { const c = sql.exec("SELECT id FROM t WHERE id > 9995 ORDER BY id"); c.next(); return c; });
                sql.exec("INSERT INTO t VALUES (10001)");
                const rests = open.map((c) => c.toArray().map((r) => r.id));
                const one = sql.exec("SELECT id FROM t WHERE id = 5").one();
                return { count: all.length, last: all[all.length - 1].id, firstRest: rests[0], lastRest: rests[99], one };
              }
            }
        """,
    })
    with dobj.Runtime.load(folder) as rt:
        got = rt.get("ONE", "a").run()
    # the newest cursors see the row added after they opened; the oldest ones (past the 64
    # that stay open) had read their rest at once, as a cursor read to its end does
    assert got["count"] == 10000 and got["last"] == 10000 and got["one"] == {"id": 5}
    assert got["lastRest"] == [9997, 9998, 9999, 10000, 10001]
    assert got["firstRest"] == [9997, 9998, 9999, 10000]
